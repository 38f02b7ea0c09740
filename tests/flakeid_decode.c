// SPDX-License-Identifier: GPL-2.0
/*
 * Small guest-side helper for main.sh and demo.sh: decodes IDs through
 * FLAKEID_IOC_DECODE (arguments, or whitespace-separated IDs on stdin as
 * printed by `od -An -tu8`), prints FLAKEID_IOC_CONFIG as key=value, or
 * reads IDs with one read(2) and names the errno when it fails (busybox's
 * head and od report some read errors as EIO).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include <linux/flakeid.h>

static int decode_one(int fd, const char *arg)
{
	struct flakeid_decode d = { .size = sizeof(d) };
	char when[40];
	unsigned long long v;
	struct tm tm;
	time_t secs;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 0);
	if (errno || end == arg || *end || arg[0] == '-') {
		fprintf(stderr, "flakeid_decode: not an ID: %s\n", arg);
		return 1;
	}
	d.id = v;
	if (ioctl(fd, FLAKEID_IOC_DECODE, &d)) {
		fprintf(stderr, "flakeid_decode: %llu: %s\n", v, strerror(errno));
		return 1;
	}
	secs = (time_t)(d.unix_ms / 1000);
	if (gmtime_r(&secs, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	else
		snprintf(when, sizeof(when), "?");
	printf("%llu time=%s.%03uZ unix_ms=%llu timestamp=%llu region=%u app=%u machine=%u sequence=%u\n",
	       v, when, (unsigned int)(d.unix_ms % 1000),
	       (unsigned long long)d.unix_ms, (unsigned long long)d.timestamp,
	       d.region_id, d.app_id, d.machine_id, d.sequence);
	return 0;
}

static int print_config(int fd)
{
	struct flakeid_config c = { .size = sizeof(c) };

	if (ioctl(fd, FLAKEID_IOC_CONFIG, &c)) {
		fprintf(stderr, "flakeid_decode: config: %s\n", strerror(errno));
		return 1;
	}
	printf("epoch_ms=%llu\n", (unsigned long long)c.epoch_ms);
	printf("layout=%u:%u:%u:%u:%u\n", c.timestamp_bits, c.region_bits,
	       c.app_bits, c.machine_bits, c.sequence_bits);
	printf("region_id=%u\napp_id=%u\nmachine_id=%u\n", c.region_id,
	       c.app_id, c.machine_id);
	printf("max_borrow_ms=%u\n", c.max_borrow_ms);
	printf("floor_ms=%llu\n", (unsigned long long)c.floor_ms);
	printf("generation=%llu\n", (unsigned long long)c.generation);
	return 0;
}

/* One read(2) of @arg IDs: one per line, or "read: <errno name>". */
static int read_ids(int fd, const char *arg)
{
	uint64_t ids[1024];
	long n = atol(arg), i;
	ssize_t got;

	if (n < 1 || n > 1024) {
		fprintf(stderr, "flakeid_decode: --read wants 1..1024\n");
		return 2;
	}
	got = read(fd, ids, n * sizeof(ids[0]));
	if (got < 0) {
		printf("read: %s\n", errno == EOVERFLOW ? "EOVERFLOW" :
		       errno == EAGAIN ? "EAGAIN" : strerror(errno));
		return 1;
	}
	for (i = 0; i < got / 8; i++)
		printf("%" PRIu64 "\n", ids[i]);
	return 0;
}

int main(int argc, char **argv)
{
	char word[64];
	int fd, i, ret = 0;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: flakeid_decode [--config | --read N | ID...]\n"
		       "  with no ID, decodes the IDs read from stdin\n");
		return 0;
	}
	fd = open(FLAKEID_DEVICE_PATH, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "flakeid_decode: %s: %s\n", FLAKEID_DEVICE_PATH,
			strerror(errno));
		return 1;
	}
	if (argc > 1 && !strcmp(argv[1], "--config"))
		return print_config(fd);
	if (argc > 2 && !strcmp(argv[1], "--read"))
		return read_ids(fd, argv[2]);
	if (argc > 1) {
		for (i = 1; i < argc; i++)
			ret |= decode_one(fd, argv[i]);
		return ret;
	}
	while (scanf("%63s", word) == 1)
		ret |= decode_one(fd, word);
	return ret;
}
