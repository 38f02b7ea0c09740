// SPDX-License-Identifier: MIT
/*
 * flakeid(1): print IDs or UUIDv7s, decode them, show and set the
 * configuration, show the counters.  Every failure is one line on stderr
 * and an exit code that says which kind of failure it was (see usage() and
 * flakeid(1)).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flakeid.h"
#include "parse.h"

#ifndef FLAKEID_VERSION
#define FLAKEID_VERSION "unknown"
#endif

enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,		/* anything not listed below */
	EXIT_USAGE = 2,		/* bad option, argument or ID */
	EXIT_NODEV = 3,		/* no device: module not loaded */
	EXIT_PERM = 4,		/* permission denied */
	EXIT_REFUSED = 5,	/* a configuration value was refused */
	EXIT_NOTFLAKEID = 6,	/* the path is not a flakeid device */
	EXIT_EXPIRED = 7,	/* may not issue IDs now: ceiling or fence */
};

static const char *prog = "flakeid";
static const char *device_path;
static const char *sysfs_dir;
static const char *open_hint = "";	/* appended to "module not loaded" */

static void usage(FILE *f)
{
	fprintf(f,
"Usage: flakeid [OPTIONS] [-n N]                print N IDs (default 1), one a line\n"
"       flakeid [OPTIONS] uuid7 [-n N]          print N UUIDv7s (default 1), one a line\n"
"       flakeid [OPTIONS] decode [--json] [--layout T:R:A:M:S] [--epoch MS] ID|UUID...\n"
"       flakeid [OPTIONS] config [--json] [KEY=VALUE...]\n"
"       flakeid [OPTIONS] stats [--json]\n"
"\n"
"Options:\n"
"  -n, --count N      how many IDs to print\n"
"  -d, --device PATH  the device (default " FLAKEID_DEVICE_PATH ")\n"
"      --sysfs DIR    configuration and counter files (default\n"
"                     " FLAKEID_SYSFS_DIR ")\n"
"  -h, --help         this help\n"
"  -V, --version      the version\n"
"\n"
"decode prints: ID TIME region= app= machine= sequence= timestamp=\n"
"  (TIME in ISO 8601 UTC); --json prints one JSON object a line.  With\n"
"  --layout or --epoch it decodes without the device.  A UUIDv7 (8-4-4-4-12\n"
"  hex) needs no device: UUID TIME version=7 variant=10 unix_ms= counter=\n"
"config KEYs (root): region, app, machine, epoch (Unix ms), layout\n"
"  (T:R:A:M:S), max_borrow (ms), floor (Unix ms), until (the timestamp\n"
"  ceiling: Unix ms, none, or 0 to fence), until_wait (ms).\n"
"\n"
"Exit codes: 0 ok, 1 other failure, 2 usage, 3 device missing (module not\n"
"loaded), 4 permission denied, 5 value refused, 6 not a flakeid device,\n"
"7 this host may not issue IDs now (at the until_ms ceiling or fenced).\n");
}

/* getopt's own messages are off: this names the option in one line. */
static const char *bad_option(char **argv)
{
	return optind > 0 ? argv[optind - 1] : "?";
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, ": see `flakeid --help`\n");
	return EXIT_USAGE;
}

/* Why opening the device failed, and what to do about it. */
static int open_error(const char *path, int err)
{
	const char *dir = sysfs_dir ? sysfs_dir : FLAKEID_SYSFS_DIR;
	struct stat st;

	switch (-err) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		if (!device_path && stat(dir, &st) == 0) {
			fprintf(stderr,
				"%s: %s: device node missing but the module is loaded: check udev, or mknod it from %s/dev\n",
				prog, path, dir);
			return EXIT_NODEV;
		}
		fprintf(stderr,
			"%s: %s: device missing: module not loaded: run `modprobe flakeid`%s%s\n",
			prog, path, device_path ? " (or check --device)" : "",
			open_hint);
		return EXIT_NODEV;
	case EACCES:
	case EPERM:
		fprintf(stderr,
			"%s: %s: permission denied: ask root to let you read it (mode 0444 by default, see the udev rule)\n",
			prog, path);
		return EXIT_PERM;
	case ENOTTY:
	case EINVAL:
	case EPROTO:
		fprintf(stderr,
			"%s: %s: not a flakeid device: check --device\n",
			prog, path);
		return EXIT_NOTFLAKEID;
	}
	fprintf(stderr, "%s: %s: %s\n", prog, path, flakeid_strerror(err));
	return EXIT_FAIL;
}

static int open_device(struct flakeid **h)
{
	const char *path = device_path ? device_path : FLAKEID_DEVICE_PATH;
	int ret = flakeid_open(h, path, 0);

	if (ret)
		return open_error(path, ret);
	if (sysfs_dir && (ret = flakeid_set_sysfs_dir(*h, sysfs_dir))) {
		fprintf(stderr, "%s: %s\n", prog, flakeid_strerror(ret));
		flakeid_close(*h);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, flakeid_strerror(err));
	return EXIT_FAIL;
}

static int finish_output(void)
{
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "%s: writing output: %s\n", prog,
			strerror(errno));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* All of @buf to fd 1, through short writes and signals. */
static int write_out(const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(STDOUT_FILENO, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * EKEYEXPIRED while taking IDs: one line saying whether the device is
 * fenced or at its ceiling, read after the refusal (it may have moved).
 */
static int expired_error(struct flakeid *h, const char *what, int err)
{
	struct flakeid_config cfg;
	char until[96];

	if (flakeid_get_config(h, &cfg))
		return fail(what, err);
	if (cfg.until_ms == FLAKEID_UNTIL_FENCED)
		fprintf(stderr,
			"%s: %s: this host may not issue IDs now: fenced (until_ms 0%s): see flakeid(4)\n",
			prog, what,
			cfg.vm_forks ? ", after a VM restore or clone" : "");
	else if (cfg.until_ms == FLAKEID_UNTIL_NONE)
		fprintf(stderr,
			"%s: %s: this host may not issue IDs now: the ceiling was removed since, try again\n",
			prog, what);
	else {
		format_until(cfg.until_ms, until, sizeof(until));
		fprintf(stderr,
			"%s: %s: this host may not issue IDs now: at the ceiling until_ms %s, not raised within until_wait_ms\n",
			prog, what, until);
	}
	return EXIT_EXPIRED;
}

/*
 * IDs go out a chunk at a time with write(2), and the first write that
 * fails ends the loop: an ID taken from the device and never printed is
 * lost to everyone, so a reader that has gone away must not keep the
 * command taking them.  UUIDs (@uuid) go the same way.
 */
static int cmd_generate(uint64_t count, int uuid)
{
	/* A UUID's line, 36 characters and '\n', is longer than an ID's. */
	enum { CHUNK = 4096, UUID_TEXT = FLAKEID_UUID7_TEXT_SIZE };
	static uint64_t ids[CHUNK];
	static struct flakeid_uuid7 uuids[CHUNK];
	static char text[CHUNK * UUID_TEXT];
	const char *what = uuid ? "fetching UUIDs" : "fetching IDs";
	const char *kind = uuid ? "UUIDs" : "IDs";
	struct flakeid *h;
	size_t i, n, len;
	int ret;

	/* Closed, it would soon be the device's fd or nothing at all. */
	if (count && fcntl(STDOUT_FILENO, F_GETFL) < 0) {
		fprintf(stderr, "%s: standard output is closed: no %s taken\n",
			prog, kind);
		return EXIT_FAIL;
	}
	ret = open_device(&h);
	if (ret)
		return ret;
	while (count) {
		n = count < CHUNK ? (size_t)count : CHUNK;
		ret = uuid ? flakeid_uuid7_batch(h, uuids, n)
			   : flakeid_batch(h, ids, n);
		if (ret == -EKEYEXPIRED) {
			ret = expired_error(h, what, ret);
			flakeid_close(h);
			return ret;
		}
		if (ret) {
			flakeid_close(h);
			return fail(what, ret);
		}
		for (i = 0, len = 0; i < n && uuid; i++) {
			flakeid_format_uuid7(&uuids[i], text + len, UUID_TEXT);
			len += UUID_TEXT;
			text[len - 1] = '\n';
		}
		for (i = 0; i < n && !uuid; i++)
			len += (size_t)snprintf(text + len, sizeof(text) - len,
						"%" PRIu64 "\n", ids[i]);
		ret = write_out(text, len);
		if (ret) {
			flakeid_close(h);
			fprintf(stderr, "%s: writing output: %s: stopped taking %s\n",
				prog, strerror(-ret), kind);
			return EXIT_FAIL;
		}
		count -= n;
	}
	flakeid_close(h);
	return EXIT_OK;
}

/* `flakeid decode UUID`: the line for @arg in @line, or the exit code. */
static int decode_uuid7(const char *arg, int json, char *line, size_t size)
{
	struct flakeid_uuid7_parts p;
	struct flakeid_uuid7 u;
	int ret = flakeid_parse_uuid7(arg, &u);

	if (ret == -EINVAL) {
		fprintf(stderr,
			"%s: decode: '%s' is not a UUID (want 36 characters, hex in 8-4-4-4-12 groups)\n",
			prog, arg);
		return EXIT_USAGE;
	}
	ret = flakeid_decode_uuid7(&u, &p);
	if (p.variant != 2) {
		fprintf(stderr,
			"%s: decode: %s is not a UUIDv7: its variant bits are not 10 (RFC 9562)\n",
			prog, arg);
		return EXIT_USAGE;
	}
	if (ret) {
		fprintf(stderr,
			"%s: decode: %s is a version %u UUID, not a UUIDv7\n",
			prog, arg, p.version);
		return EXIT_USAGE;
	}
	if (format_uuid7_parts(&u, &p, json, line, size) < 0)
		return fail("decode", -ENOSPC);
	return EXIT_OK;
}

static int cmd_decode(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "layout", required_argument, NULL, 'l' },
		{ "epoch", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct flakeid_config cfg;
	struct flakeid_parts p;
	struct flakeid *h = NULL;
	int json = 0, offline = 0, status = EXIT_OK, c, i, ret;
	int ids = 0;
	char line[512];
	uint64_t id, epoch;

	flakeid_default_config(&cfg);
	optind = 0;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'l':
			if (flakeid_parse_layout(optarg, &cfg))
				return usage_error("decode: bad --layout '%s' (want T:R:A:M:S, see flakeid(4))",
						   optarg);
			offline = 1;
			break;
		case 'e':
			if (parse_u64(optarg, &epoch))
				return usage_error("decode: bad --epoch '%s' (want Unix milliseconds)",
						   optarg);
			cfg.epoch_ms = epoch;
			offline = 1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return usage_error("decode: bad option or missing value near '%s'",
					   bad_option(argv));
		}
	}
	if (optind >= argc)
		return usage_error("decode: %s", "no ID given");

	/* UUIDs carry Unix time: only 64-bit IDs need the layout. */
	for (i = optind; i < argc; i++)
		ids += !is_uuid_text(argv[i]);
	if (!offline && ids) {
		open_hint = " (or decode offline with --layout and --epoch)";
		ret = open_device(&h);
		if (ret)
			return ret;
	}
	for (i = optind; i < argc; i++) {
		if (is_uuid_text(argv[i])) {
			ret = decode_uuid7(argv[i], json, line, sizeof(line));
			if (ret == EXIT_OK)
				puts(line);
			else
				status = ret;
			continue;
		}
		if (parse_u64(argv[i], &id)) {
			fprintf(stderr,
				"%s: decode: '%s' is not an ID (want a decimal or 0x-hex 64-bit number)\n",
				prog, argv[i]);
			status = EXIT_USAGE;
			continue;
		}
		ret = h ? flakeid_decode(h, id, &p)
			: flakeid_decode_with(&cfg, id, &p);
		if (ret == -EINVAL) {
			fprintf(stderr,
				"%s: decode: %s has bits above the layout: not an ID of this configuration\n",
				prog, argv[i]);
			status = EXIT_USAGE;
			continue;
		}
		/* -ERANGE still leaves fields worth printing. */
		if (format_parts(&p, json, line, sizeof(line)) < 0) {
			status = fail("decode", -ENOSPC);
			continue;
		}
		puts(line);
	}
	flakeid_close(h);
	ret = finish_output();
	return status ? status : ret;
}

/* No ceiling: until_ms null.  Fenced: until_ms 0, no time, fenced true. */
static void json_until(uint64_t until_ms)
{
	char when[64];

	if (until_ms == FLAKEID_UNTIL_NONE)
		printf("\"until_ms\":null,\"until\":null,\"fenced\":false");
	else if (until_ms == FLAKEID_UNTIL_FENCED)
		printf("\"until_ms\":0,\"until\":null,\"fenced\":true");
	else if (format_time(until_ms, when, sizeof(when)))
		printf("\"until_ms\":%" PRIu64 ",\"until\":null,\"fenced\":false",
		       until_ms);
	else
		printf("\"until_ms\":%" PRIu64 ",\"until\":\"%s\",\"fenced\":false",
		       until_ms, when);
}

/* @until_wait_ms < 0: not known (no sysfs). */
static void print_config(const struct flakeid_config *cfg,
			 int64_t until_wait_ms, int json)
{
	char layout[FLAKEID_LAYOUT_SIZE], epoch[64], floor[64], until[96];

	if (flakeid_format_layout(cfg, layout, sizeof(layout)))
		strcpy(layout, "?");
	if (format_time(cfg->epoch_ms, epoch, sizeof(epoch)))
		strcpy(epoch, "?");
	if (format_time(cfg->floor_ms, floor, sizeof(floor)))
		strcpy(floor, "?");
	if (json) {
		printf("{\"region_id\":%u,\"app_id\":%u,\"machine_id\":%u,"
		       "\"layout\":\"%s\",\"timestamp_bits\":%u,"
		       "\"region_bits\":%u,\"app_bits\":%u,"
		       "\"machine_bits\":%u,\"sequence_bits\":%u,"
		       "\"epoch_ms\":%" PRIu64 ",\"epoch\":\"%s\","
		       "\"max_borrow_ms\":%u,\"floor_ms\":%" PRIu64 ","
		       "\"floor\":\"%s\",\"generation\":%" PRIu64 ",",
		       cfg->region_id, cfg->app_id, cfg->machine_id, layout,
		       cfg->timestamp_bits, cfg->region_bits, cfg->app_bits,
		       cfg->machine_bits, cfg->sequence_bits,
		       (uint64_t)cfg->epoch_ms,
		       epoch, cfg->max_borrow_ms, (uint64_t)cfg->floor_ms, floor,
		       (uint64_t)cfg->generation);
		json_until(cfg->until_ms);
		if (until_wait_ms < 0)
			printf(",\"until_wait_ms\":null");
		else
			printf(",\"until_wait_ms\":%" PRId64, until_wait_ms);
		printf(",\"vm_forks\":%" PRIu64 "}\n", (uint64_t)cfg->vm_forks);
		return;
	}
	format_until(cfg->until_ms, until, sizeof(until));
	printf("region_id %u\n", cfg->region_id);
	printf("app_id %u\n", cfg->app_id);
	printf("machine_id %u\n", cfg->machine_id);
	printf("layout %s\n", layout);
	printf("epoch_ms %" PRIu64 " %s\n", (uint64_t)cfg->epoch_ms, epoch);
	printf("max_borrow_ms %u\n", cfg->max_borrow_ms);
	printf("floor_ms %" PRIu64 " %s\n", (uint64_t)cfg->floor_ms, floor);
	printf("generation %" PRIu64 "\n", (uint64_t)cfg->generation);
	printf("until_ms %s\n", until);
	if (until_wait_ms >= 0)
		printf("until_wait_ms %" PRId64 "\n", until_wait_ms);
	printf("vm_forks %" PRIu64 "\n", (uint64_t)cfg->vm_forks);
}

static int config_error(int err)
{
	switch (-err) {
	case EACCES:
	case EPERM:
		fprintf(stderr,
			"%s: config: permission denied: setting the configuration needs root (CAP_SYS_ADMIN): run it with sudo\n",
			prog);
		return EXIT_PERM;
	case ERANGE:
		fprintf(stderr,
			"%s: config: refused by the device as out of range (an id too wide for its field, or a change that would move the ID clock more than 1000 ms): see flakeid(4) and `flakeid config`\n",
			prog);
		return EXIT_REFUSED;
	case EINVAL:
		fprintf(stderr,
			"%s: config: refused by the device as invalid: see flakeid(4) and `flakeid config`\n",
			prog);
		return EXIT_REFUSED;
	case ENOENT:
		fprintf(stderr,
			"%s: config: configuration files missing: module not loaded (run `modprobe flakeid`) or wrong --sysfs\n",
			prog);
		return EXIT_NODEV;
	}
	return fail("config", err);
}

/*
 * The options of a subcommand that takes only --json and --help.  Returns
 * -1 to go on, or the exit code to return (after --help or a bad option).
 */
static int parse_json_opts(int argc, char **argv, const char *cmd, int *json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char fmt[64];
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = 1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			snprintf(fmt, sizeof(fmt),
				 "%s: bad option or missing value near '%%s'", cmd);
			return usage_error(fmt, bad_option(argv));
		}
	}
	return -1;
}

static int cmd_config(int argc, char **argv)
{
	struct flakeid_config cur;
	struct flakeid_stats st;
	struct settings want;
	struct flakeid *h;
	unsigned int what;
	int json = 0, i, ret;
	char why[256];

	memset(&want, 0, sizeof(want));
	ret = parse_json_opts(argc, argv, "config", &json);
	if (ret >= 0)
		return ret;
	for (i = optind; i < argc; i++) {
		ret = parse_setting(argv[i], &want);
		if (ret == -ENOENT)
			return usage_error("config: unknown setting '%s' (keys: region app machine epoch layout max_borrow floor until until_wait)",
					   argv[i]);
		if (ret == -EEXIST)
			return usage_error("config: '%s' given twice", argv[i]);
		if (ret == -ERANGE && !strncmp(argv[i], "layout=", 7))
			return usage_error("config: '%s' breaks the layout rules (sum <= 64, timestamp >= 32, sequence 1..32)",
					   argv[i]);
		if (ret == -ERANGE && (!strncmp(argv[i], "until=", 6) ||
				       !strncmp(argv[i], "until_ms=", 9)))
			return usage_error("config: '%s' is past the kernel's time range (want a Unix ms up to 9223372036854, none, or 0 to fence)",
					   argv[i]);
		if (ret == -ERANGE)
			return usage_error("config: value too large in '%s'",
					   argv[i]);
		if (ret)
			return usage_error("config: bad value in '%s' (want KEY=NUMBER, layout=T:R:A:M:S, until=none)",
					   argv[i]);
	}
	what = want.what & ~SET_UNTIL_WAIT;

	ret = open_device(&h);
	if (ret)
		return ret;
	ret = flakeid_get_config(h, &cur);
	if (ret) {
		flakeid_close(h);
		return fail("reading the configuration", ret);
	}
	if (!want.what) {
		/* until_wait_ms is only in sysfs, which may not be mounted. */
		ret = flakeid_get_stats(h, &st);
		flakeid_close(h);
		print_config(&cur, ret ? -1 : (int64_t)st.until_wait_ms, json);
		return finish_output();
	}
	if (check_settings(&want, &cur, why, sizeof(why))) {
		flakeid_close(h);
		fprintf(stderr, "%s: config: %s\n", prog, why);
		return EXIT_REFUSED;
	}
	/* First: flakeid_set_config() stores a raise of until_ms last. */
	ret = 0;
	if (want.what & SET_UNTIL_WAIT)
		ret = flakeid_set_until_wait(h, want.until_wait_ms);
	if (!ret && what)
		ret = flakeid_set_config(h, &want.cfg, what);
	flakeid_close(h);
	return ret ? config_error(ret) : EXIT_OK;
}

static int cmd_uuid7(int argc, char **argv, uint64_t count)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_u64(optarg, &count))
				return usage_error("uuid7: bad count '%s' (want a number)",
						   optarg);
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return usage_error("uuid7: bad option or missing value near '%s'",
					   bad_option(argv));
		}
	}
	if (optind < argc)
		return usage_error("uuid7: unexpected argument '%s'",
				   argv[optind]);
	return cmd_generate(count, 1);
}

static int cmd_stats(int argc, char **argv)
{
	struct flakeid_stats st;
	struct flakeid *h;
	char until[96];
	int json = 0, ret;

	ret = parse_json_opts(argc, argv, "stats", &json);
	if (ret >= 0)
		return ret;
	if (optind < argc)
		return usage_error("stats: unexpected argument '%s'",
				   argv[optind]);
	ret = open_device(&h);
	if (ret)
		return ret;
	ret = flakeid_get_stats(h, &st);
	flakeid_close(h);
	if (ret == -ENOENT)
		return config_error(ret);
	if (ret)
		return fail("reading the counters", ret);
	format_until(st.until_ms, until, sizeof(until));
	if (json) {
		printf("{\"ids_issued\":%" PRIu64 ",\"clock_steps_back\":%"
		       PRIu64 ",\"borrowed_ms\":%" PRIu64 ",\"waits\":%" PRIu64
		       ",\"refills\":%" PRIu64 ",\"ahead_ms\":%" PRId64
		       ",\"generation\":%" PRIu64 ",",
		       st.ids_issued, st.clock_steps_back, st.borrowed_ms,
		       st.waits, st.refills, st.ahead_ms, st.generation);
		json_until(st.until_ms);
		printf(",\"until_wait_ms\":%" PRIu32 ",\"until_waits\":%" PRIu64
		       ",\"until_refused\":%" PRIu64 ",\"vm_forks\":%" PRIu64
		       "}\n", st.until_wait_ms, st.until_waits,
		       st.until_refused, st.vm_forks);
	} else {
		printf("ids_issued %" PRIu64 "\nclock_steps_back %" PRIu64
		       "\nborrowed_ms %" PRIu64 "\nwaits %" PRIu64
		       "\nrefills %" PRIu64 "\nahead_ms %" PRId64
		       "\ngeneration %" PRIu64 "\n",
		       st.ids_issued, st.clock_steps_back, st.borrowed_ms,
		       st.waits, st.refills, st.ahead_ms, st.generation);
		printf("until_ms %s\nuntil_wait_ms %" PRIu32 "\nuntil_waits %"
		       PRIu64 "\nuntil_refused %" PRIu64 "\nvm_forks %" PRIu64
		       "\n", until, st.until_wait_ms, st.until_waits,
		       st.until_refused, st.vm_forks);
	}
	return finish_output();
}

int main(int argc, char **argv)
{
	enum { OPT_SYSFS = 256 };
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "device", required_argument, NULL, 'd' },
		{ "sysfs", required_argument, NULL, OPT_SYSFS },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t count = 1;
	int have_count = 0, c;
	const char *cmd;

	opterr = 0;
	/* "+": options after the command belong to the command. */
	while ((c = getopt_long(argc, argv, "+n:d:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_u64(optarg, &count))
				return usage_error("bad count '%s' (want a number)",
						   optarg);
			have_count = 1;
			break;
		case 'd':
			device_path = optarg;
			break;
		case OPT_SYSFS:
			sysfs_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("flakeid %s (libflakeid %d.%d)\n", FLAKEID_VERSION,
			       FLAKEID_VERSION_MAJOR, FLAKEID_VERSION_MINOR);
			return EXIT_OK;
		default:
			return usage_error("bad option or missing value near '%s'",
					   bad_option(argv));
		}
	}
	if (optind == argc)
		return cmd_generate(count, 0);

	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	if (!strcmp(cmd, "uuid7"))
		return cmd_uuid7(argc, argv, count);
	if (have_count)
		return usage_error("-n prints IDs and takes no command but uuid7 ('%s')",
				   cmd);
	if (!strcmp(cmd, "decode"))
		return cmd_decode(argc, argv);
	if (!strcmp(cmd, "config"))
		return cmd_config(argc, argv);
	if (!strcmp(cmd, "stats"))
		return cmd_stats(argc, argv);
	if (!strcmp(cmd, "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	return usage_error("unknown command '%s'", cmd);
}
