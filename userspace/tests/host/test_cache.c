// SPDX-License-Identifier: MIT
/*
 * The per-thread cache (src/cache.c) on the host, under ASan and UBSan:
 * linked with --wrap so that fetches come from a counter instead of the
 * device and the clocks can be moved (the vDSO's clock_gettime() is not
 * looked up, so every clock read goes through clock_gettime()), it must drop a block when its age
 * plus any forward step of the wall clock reaches max_age.  Prints TAP.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "tap.h"

int __real_clock_gettime(clockid_t clk, struct timespec *ts);
int __wrap_clock_gettime(clockid_t clk, struct timespec *ts);
int __wrap_flakeid__fetch(struct flakeid *h, uint64_t *ids, size_t n,
			  size_t *got);
flakeid__gettime_fn __wrap_flakeid__vdso_gettime(void);

static int64_t elapsed_ns;	/* added to every clock: time passing */
static int64_t step_ns;		/* added to the real-time clocks: a step */
static uint64_t next_id = 1, fetches;

static void add_ns(struct timespec *ts, int64_t ns)
{
	int64_t t = (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec + ns;

	ts->tv_sec = (time_t)(t / 1000000000);
	ts->tv_nsec = (long)(t % 1000000000);
}

int __wrap_clock_gettime(clockid_t clk, struct timespec *ts)
{
	int ret = __real_clock_gettime(clk, ts);

	if (ret)
		return ret;
	add_ns(ts, elapsed_ns);
	if (clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_COARSE)
		add_ns(ts, step_ns);
	return 0;
}

flakeid__gettime_fn __wrap_flakeid__vdso_gettime(void)
{
	return NULL;
}

int __wrap_flakeid__fetch(struct flakeid *h, uint64_t *ids, size_t n,
			  size_t *got)
{
	size_t i;

	(void)h;
	for (i = 0; i < n; i++)
		ids[i] = next_id++;
	*got = n;
	fetches++;
	return 0;
}

/* One ID; how many fetches it took (0: served from the block). */
static uint64_t take(struct flakeid *h, uint64_t *prev, int *order)
{
	uint64_t before = fetches, id = 0;

	if (flakeid_next(h, &id) || id <= *prev)
		*order = 0;
	*prev = id;
	return fetches - before;
}

int main(void)
{
	struct flakeid h;
	uint64_t prev = 0;
	int order = 1;

	memset(&h, 0, sizeof(h));
	h.fd = -1;
	ok(flakeid_set_cache(&h, 256, 1000) == 0, "cache on: 256 IDs, 1000 ms");
	ok(take(&h, &prev, &order) == 1 && take(&h, &prev, &order) == 0,
	   "the first ID fetches a block, the second comes from it");

	elapsed_ns += 400000000;
	ok(take(&h, &prev, &order) == 0, "400 ms later: still from the block");
	elapsed_ns += 700000000;
	ok(take(&h, &prev, &order) == 1, "1100 ms later: a new block");

	step_ns += 5000000000;
	ok(take(&h, &prev, &order) == 1,
	   "the wall clock steps 5 s forward: the block is dropped");
	ok(take(&h, &prev, &order) == 0,
	   "the block fetched after the step is kept");

	step_ns += 600000000;
	ok(take(&h, &prev, &order) == 0,
	   "a 600 ms step forward counts as 600 ms of age: kept");
	elapsed_ns += 300000000;
	ok(take(&h, &prev, &order) == 0, "and 300 ms more: 900 ms, kept");
	elapsed_ns += 150000000;
	ok(take(&h, &prev, &order) == 1, "and 150 ms more: 1050 ms, dropped");

	step_ns -= 3600000000000;
	ok(take(&h, &prev, &order) == 0,
	   "the wall clock steps an hour back: the block is kept (the device does not go back)");
	step_ns += 3600000000000 + 900000000;
	ok(take(&h, &prev, &order) == 0,
	   "and an hour and 900 ms forward again: 900 ms past the fill, kept");
	step_ns += 100000000;
	ok(take(&h, &prev, &order) == 1, "and 100 ms more: dropped");

	ok(order, "every ID larger than the one before");
	flakeid_set_cache(&h, 0, 0);
	diag("cache: %d passed, %d failed", tap_tests - tap_failed, tap_failed);
	return tap_done();
}
