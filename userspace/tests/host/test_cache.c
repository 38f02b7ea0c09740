// SPDX-License-Identifier: MIT
/*
 * The per-thread cache (src/cache.c) on the host, under ASan and UBSan:
 * linked with --wrap so that fetches come from a counter instead of the
 * device and the clocks are made up here (the vDSO's clock_gettime() is
 * not looked up, so every clock read goes through clock_gettime()).  It
 * must drop a block when its age plus any forward step of the wall clock
 * reaches max_age, and read CLOCK_MONOTONIC_COARSE only once per tick: a
 * call whose CLOCK_REALTIME_COARSE reading is the one of the last check
 * is served on that alone.  Prints TAP.
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
int __wrap_clock_getres(clockid_t clk, struct timespec *ts);
int __wrap_flakeid__fetch(struct flakeid *h, uint64_t *ids, size_t n,
			  size_t *got);
flakeid__gettime_fn __wrap_flakeid__vdso_gettime(void);

#define MS		1000000ull
#define TICK_NS		(4 * MS)	/* HZ=250: the library allows 12 ms */

/*
 * The kernel's clocks, made up: CLOCK_MONOTONIC is mono, CLOCK_REALTIME
 * mono plus wall.  The coarse pair is the precise one as of the last
 * tick; a step (a change of wall) moves it too, as the kernel's does.
 */
static uint64_t mono = 1000 * 1000 * MS;
static uint64_t wall = 1700000000000 * MS;
static uint64_t coarse_mono, coarse_real;
static unsigned long reads[16];		/* per clock id */
static unsigned int tick_after;		/* a tick after that many reads */
static uint64_t next_id = 1, fetches;

static void tick(void)
{
	coarse_mono = mono;
	coarse_real = mono + wall;
}

/* Time passes, the tick runs at the end. */
static void pass(uint64_t ns)
{
	mono += ns;
	tick();
}

/* The wall clock is set ns forward (or back, ns negative). */
static void step(int64_t ns)
{
	wall += (uint64_t)ns;
	tick();
}

int __wrap_clock_gettime(clockid_t clk, struct timespec *ts)
{
	uint64_t ns;

	switch (clk) {
	case CLOCK_MONOTONIC:
		ns = mono;
		break;
	case CLOCK_REALTIME:
		ns = mono + wall;
		break;
	case CLOCK_MONOTONIC_COARSE:
		ns = coarse_mono;
		break;
	case CLOCK_REALTIME_COARSE:
		ns = coarse_real;
		break;
	default:
		return __real_clock_gettime(clk, ts);
	}
	reads[clk]++;
	ts->tv_sec = (time_t)(ns / 1000000000);
	ts->tv_nsec = (long)(ns % 1000000000);
	if (tick_after && !--tick_after)
		pass(TICK_NS);
	return 0;
}

int __wrap_clock_getres(clockid_t clk, struct timespec *ts)
{
	ts->tv_sec = 0;
	ts->tv_nsec = clk == CLOCK_MONOTONIC_COARSE ||
		      clk == CLOCK_REALTIME_COARSE ? (long)TICK_NS : 1;
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

static struct flakeid h;
static uint64_t prev;
static int order = 1;
static unsigned long mono_reads, precise_reads;	/* by the last take() */

/* One ID; how many fetches it took (0: served from the block). */
static uint64_t take(void)
{
	uint64_t before = fetches, id = 0;
	unsigned long m = reads[CLOCK_MONOTONIC_COARSE];
	unsigned long p = reads[CLOCK_MONOTONIC];

	if (flakeid_next(&h, &id) || id <= prev)
		order = 0;
	prev = id;
	mono_reads = reads[CLOCK_MONOTONIC_COARSE] - m +
		     reads[CLOCK_MONOTONIC] - p;
	precise_reads = reads[CLOCK_MONOTONIC] - p;
	return fetches - before;
}

/* A new setting and its first block, fetched at a tick. */
static int start(unsigned int max_age_ms)
{
	pass(TICK_NS);
	return flakeid_set_cache(&h, 256, max_age_ms) == 0 && take() == 1;
}

/* The checks the cache has always had: age, forward and backward steps. */
static void age_tests(void)
{
	ok(start(1000) && take() == 0,
	   "cache on: the first ID fetches a block, the second comes from it");

	pass(400 * MS);
	ok(take() == 0, "400 ms later: still from the block");
	pass(700 * MS);
	ok(take() == 1, "1100 ms later: a new block");

	step(5000 * MS);
	ok(take() == 1, "the wall clock steps 5 s forward: the block is dropped");
	ok(take() == 0, "the block fetched after the step is kept");

	step(600 * MS);
	ok(take() == 0, "a 600 ms step forward counts as 600 ms of age: kept");
	pass(300 * MS);
	ok(take() == 0, "and 300 ms more: 900 ms, kept");
	pass(150 * MS);
	ok(take() == 1, "and 150 ms more: 1050 ms, dropped");

	step(-3600000 * (int64_t)MS);
	ok(take() == 0,
	   "the wall clock steps an hour back: the block is kept (the device does not go back)");
	step(3600000 * (int64_t)MS + 900 * (int64_t)MS);
	ok(take() == 0,
	   "and an hour and 900 ms forward again: 900 ms past the fill, kept");
	step(100 * MS);
	ok(take() == 1, "and 100 ms more: dropped");
}

/* One coarse clock read per cached ID; the monotonic one once per tick. */
static void tick_tests(void)
{
	int i, quiet = 1;

	ok(start(1000) && take() == 0 && mono_reads == 0,
	   "the ID after a fill is served without a monotonic read");
	for (i = 0; i < 100; i++)
		if (take() != 0 || mono_reads != 0)
			quiet = 0;
	ok(quiet, "100 more within the tick: no monotonic read, no fetch");

	pass(TICK_NS);
	ok(take() == 0 && mono_reads == 1 && precise_reads == 0,
	   "a tick: the next ID takes one coarse monotonic read (the full check)");
	ok(take() == 0 && mono_reads == 0,
	   "and the one after it none again");

	/* The full check reads real, monotonic, real after the hot path's
	 * read: a tick after the 2nd read falls between the first two, one
	 * after the 3rd between the last two. */
	pass(TICK_NS);
	tick_after = 2;
	ok(take() == 0 && mono_reads == 1,
	   "a tick between the check's real-time and monotonic reads: served");
	ok(take() == 0 && mono_reads == 1,
	   "but not remembered: the next ID checks again");
	ok(take() == 0 && mono_reads == 0, "and that check is remembered");

	pass(TICK_NS);
	tick_after = 3;
	ok(take() == 0 && mono_reads == 1,
	   "a tick between the check's monotonic and real-time reads: served");
	ok(take() == 0 && mono_reads == 1,
	   "but not remembered: the next ID checks again");

	/* The fill reads real, monotonic, real, then CLOCK_MONOTONIC, after
	 * the hot path's read of the new setting's first call. */
	pass(TICK_NS);
	flakeid_set_cache(&h, 256, 1000);
	tick_after = 2;
	ok(take() == 1 && take() == 0 && mono_reads == 1,
	   "a tick between the fill's reads: the next ID checks");
	ok(take() == 0 && mono_reads == 0, "and that check is remembered");
	tick_after = 0;
}

/* Steps within a tick: the real-time reading changes, the check decides. */
static void step_tests(void)
{
	ok(start(1000) && take() == 0 && mono_reads == 0,
	   "step: a new block, served without a monotonic read");
	step(600 * MS);
	ok(take() == 0 && mono_reads == 1,
	   "a 600 ms step forward within the tick: checked, kept");
	step(500 * MS);
	ok(take() == 1,
	   "500 ms more within the same tick: 1100 ms of age, dropped");

	ok(start(1000) && take() == 0, "another block");
	step(-3600000 * (int64_t)MS);
	ok(take() == 0 && mono_reads == 1,
	   "an hour back within the tick: checked on the monotonic clock, kept");
	pass(500 * MS);
	ok(take() == 0 && mono_reads == 1, "500 ms later: kept");
	ok(take() == 0 && mono_reads == 0, "and remembered");
	pass(400 * MS);
	ok(take() == 0, "900 ms: kept");
	pass(150 * MS);
	ok(take() == 1,
	   "1050 ms, the wall clock still far below what it read: dropped");

	/* Past max_age minus the allowed lag only the precise clock decides,
	 * on every ID: its verdict is never remembered. */
	ok(start(20) && take() == 0, "max_age 20 ms: a block");
	pass(8 * MS);
	ok(take() == 0 && mono_reads == 1 && precise_reads == 0,
	   "8 ms: fresh by the coarse clock");
	pass(4 * MS);
	ok(take() == 0 && precise_reads == 1,
	   "12 ms: fresh by the precise clock");
	ok(take() == 0 && precise_reads == 1,
	   "and the next ID asks the precise clock again");
	mono += 9 * MS;		/* no tick */
	ok(take() == 1, "21 ms on the precise clock, no tick since: dropped");

	/* The wall clock set back to the very nanosecond the 8 ms check read:
	 * that check vouched for the block, the 12 ms one did not. */
	ok(start(20) && take() == 0, "max_age 20 ms: another block");
	pass(8 * MS);
	ok(take() == 0 && precise_reads == 0, "8 ms: fresh by the coarse clock");
	pass(4 * MS);
	ok(take() == 0 && precise_reads == 1,
	   "12 ms: fresh by the precise clock");
	mono += 9 * MS;		/* no tick */
	step(-13 * (int64_t)MS);
	ok(take() == 1,
	   "21 ms, the wall clock set back to its 8 ms reading: dropped");

	/* A max_age within the allowed lag: the precise clock from the start. */
	ok(start(10) && take() == 0 && precise_reads == 1,
	   "max_age 10 ms: the ID after the fill asks the precise clock");
	mono += 11 * MS;	/* no tick */
	ok(take() == 1, "11 ms on the precise clock, no tick since: dropped");
}

int main(void)
{
	memset(&h, 0, sizeof(h));
	h.fd = -1;
	tick();
	age_tests();
	tick_tests();
	step_tests();
	ok(order, "every ID larger than the one before");
	flakeid_set_cache(&h, 0, 0);
	diag("cache: %d passed, %d failed", tap_tests - tap_failed, tap_failed);
	return tap_done();
}
