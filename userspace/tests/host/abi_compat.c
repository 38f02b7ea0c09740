// SPDX-License-Identifier: MIT
/*
 * The shared library's versions: programs linked now get the
 * LIBFLAKEID_1.1 functions (struct flakeid_time) and the LIBFLAKEID_1.2
 * flakeid_get_stats (the ceiling's members), programs linked against 1.0
 * the LIBFLAKEID_1.0 ones, which fill the 1.0 struct flakeid_parts (struct
 * timespec in this target's default time_t) and the 56-byte 1.0 struct
 * flakeid_stats, and write nothing past them.  Prints TAP.
 *
 *   abi-compat PATH-TO-libflakeid.so
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "tap.h"

struct parts_1_0 {
	uint64_t id;
	uint64_t unix_ms;
	uint64_t timestamp;
	struct timespec time;
	uint32_t region_id;
	uint32_t app_id;
	uint32_t machine_id;
	uint32_t sequence;
};

typedef int decode_with_1_0_fn(const struct flakeid_config *, uint64_t,
			       struct parts_1_0 *);
typedef int compose_1_0_fn(const struct flakeid_config *,
			   const struct parts_1_0 *, uint64_t *);
typedef int decode_1_0_fn(struct flakeid *, uint64_t, struct parts_1_0 *);
typedef int decode_with_fn(const struct flakeid_config *, uint64_t,
			   struct flakeid_parts *);

struct stats_1_0 {
	uint64_t ids_issued;
	uint64_t clock_steps_back;
	uint64_t borrowed_ms;
	uint64_t waits;
	uint64_t refills;
	int64_t ahead_ms;
	uint64_t generation;
};

typedef int get_stats_1_0_fn(struct flakeid *, struct stats_1_0 *);
typedef int get_stats_fn(struct flakeid *, struct flakeid_stats *);

static const char *const stat_files[] = { "ids_issued", "clock_steps_back",
	"borrowed_ms", "waits", "refills", "ahead_ms", "generation",
	"until_ms", "until_wait_ms", "until_waits", "until_refused",
	"vm_forks" };

/* flakeid_get_stats at 1.0 and 1.2, on a handle whose sysfs is a directory. */
static void stats_versions(void *lib)
{
	get_stats_1_0_fn *gs10 = (get_stats_1_0_fn *)dlvsym(lib,
		"flakeid_get_stats", "LIBFLAKEID_1.0");
	get_stats_fn *gs12 = (get_stats_fn *)dlvsym(lib, "flakeid_get_stats",
						    "LIBFLAKEID_1.2");
	char dir[] = "/tmp/flakeid-abi.XXXXXX", path[256];
	struct {
		struct stats_1_0 s;
		unsigned char canary[40];
	} old;
	unsigned char canary[40];
	struct flakeid_stats st;
	struct flakeid *h;
	size_t i;
	FILE *f;
	int ret;

	ok(gs10 && gs12 && (void *)gs12 == dlsym(lib, "flakeid_get_stats") &&
	   (void *)gs10 != (void *)gs12,
	   "get_stats at LIBFLAKEID_1.0 and 1.2; 1.2 is the default");
	h = calloc(1, sizeof(*h));
	if (!gs10 || !gs12 || !h || !mkdtemp(dir)) {
		free(h);
		return;
	}
	h->fd = -1;
	flakeid_set_sysfs_dir(h, dir);
	for (i = 0; i < sizeof(stat_files) / sizeof(stat_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, stat_files[i]);
		f = fopen(path, "w");
		if (f) {
			fprintf(f, "%s\n", i == 7 ? "none" : "11");
			fclose(f);
		}
	}
	memset(&old, 0xa5, sizeof(old));
	memset(canary, 0xa5, sizeof(canary));
	ret = gs10(h, &old.s);
	ok(ret == 0 && old.s.ids_issued == 11 && old.s.generation == 11 &&
	   !memcmp(old.canary, canary, sizeof(canary)),
	   "1.0 get_stats fills the %zu-byte 1.0 struct and nothing past it",
	   sizeof(old.s));
	ret = gs12(h, &st);
	ok(ret == 0 && st.generation == 11 && st.until_ms == FLAKEID_UNTIL_NONE &&
	   st.until_wait_ms == 11 && st.vm_forks == 11,
	   "1.2 get_stats fills the ceiling's members (%zu-byte struct)",
	   sizeof(st));
	for (i = 0; i < sizeof(stat_files) / sizeof(stat_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, stat_files[i]);
		unlink(path);
	}
	rmdir(dir);
	flakeid_set_sysfs_dir(h, NULL);
	free(h);
}

int main(int argc, char **argv)
{
	/* 2025-01-01T00:00:00.123Z, region 5, app 3, machine 10, sequence 42 */
	const uint64_t id = 132633959326918698ULL;
	/* 2106-02-07T06:28:16Z: past a 32-bit time_t, needs 42 bits */
	const uint64_t late_ms = 4294967296000ULL;
	struct {
		struct parts_1_0 p;
		unsigned char canary[16];
	} old;
	unsigned char canary[16];
	struct flakeid_config cfg;
	struct flakeid_parts p;
	decode_with_1_0_fn *dw10;
	compose_1_0_fn *cp10;
	decode_1_0_fn *dec10;
	decode_with_fn *dw11;
	uint64_t back = 0;
	void *lib;
	int ret;

	lib = dlopen(argc > 1 ? argv[1] : "libflakeid.so.1", RTLD_NOW);
	if (!ok(lib != NULL, "dlopen %s", argc > 1 ? argv[1] : "libflakeid.so.1")) {
		diag("%s", dlerror());
		return tap_done();
	}
	dw10 = (decode_with_1_0_fn *)dlvsym(lib, "flakeid_decode_with",
					    "LIBFLAKEID_1.0");
	cp10 = (compose_1_0_fn *)dlvsym(lib, "flakeid_compose", "LIBFLAKEID_1.0");
	dec10 = (decode_1_0_fn *)dlvsym(lib, "flakeid_decode", "LIBFLAKEID_1.0");
	dw11 = (decode_with_fn *)dlvsym(lib, "flakeid_decode_with",
					"LIBFLAKEID_1.1");
	ok(dw10 && cp10 && dec10 && dw11 &&
	   (void *)dw11 == dlsym(lib, "flakeid_decode_with") &&
	   (void *)dw10 != (void *)dw11,
	   "decode, decode_with, compose at LIBFLAKEID_1.0 and 1.1; 1.1 is the default");
	if (!dw10 || !cp10 || !dec10 || !dw11)
		return tap_done();

	flakeid_default_config(&cfg);
	memset(&old, 0xa5, sizeof(old));
	memset(canary, 0xa5, sizeof(canary));
	ret = dw10(&cfg, id, &old.p);
	ok(ret == 0 && old.p.id == id && old.p.unix_ms == 1735689600123ULL &&
	   old.p.time.tv_sec == 1735689600 &&
	   old.p.time.tv_nsec == 123000000 && old.p.region_id == 5 &&
	   old.p.app_id == 3 && old.p.machine_id == 10 &&
	   old.p.sequence == 42 && !memcmp(old.canary, canary, sizeof(canary)),
	   "1.0 decode_with fills the %zu-byte 1.0 struct and nothing past it",
	   sizeof(old.p));
	ret = cp10(&cfg, &old.p, &back);
	ok(ret == 0 && back == id, "1.0 compose reads the 1.0 struct");
	ok(dec10(NULL, id, &old.p) == -EINVAL &&
	   dw10(&cfg, id, NULL) == -EINVAL && cp10(&cfg, NULL, &back) == -EINVAL,
	   "1.0 functions: NULL arguments are EINVAL");

	ret = flakeid_decode_with(&cfg, id, &p);
	ok(ret == 0 && p.time.tv_sec == 1735689600 &&
	   p.time.tv_nsec == 123000000 && p.region_id == 5 && p.sequence == 42,
	   "1.1 decode_with fills struct flakeid_time (%zu-byte struct)",
	   sizeof(p));

	cfg.timestamp_bits = 42;
	memset(&old, 0, sizeof(old));
	old.p.unix_ms = late_ms;
	ret = cp10(&cfg, &old.p, &back);
	ok(ret == 0, "compose an ID in 2106");
	ret = flakeid_decode_with(&cfg, back, &p);
	ok(ret == 0 && p.time.tv_sec == (int64_t)(late_ms / 1000),
	   "1.1 decode of 2106 fits its int64_t seconds");
	ret = dw10(&cfg, back, &old.p);
	ok(sizeof(time_t) > 4 ? ret == 0 && (uint64_t)old.p.time.tv_sec ==
					    late_ms / 1000
			      : ret == -EOVERFLOW && old.p.unix_ms == late_ms,
	   "1.0 decode of 2106 with a %zu-byte time_t: %s", sizeof(time_t),
	   flakeid_strerror(ret));
	stats_versions(lib);
	dlclose(lib);
	return tap_done();
}
