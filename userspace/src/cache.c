// SPDX-License-Identifier: MIT
/*
 * The opt-in per-thread cache: each thread fetches a block of IDs with one
 * batch ioctl and hands them out itself, for at most max_age after the
 * fetch.  No lock is shared between threads; the device keeps IDs unique
 * across threads and the order of one thread's fetches keeps them
 * increasing within the thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* Handles a thread keeps cached IDs for at once; beyond that the least
 * recently used entry is dropped, which is always safe: the next fetch
 * returns larger IDs. */
#define TCACHE_ENTRIES	4

/* No check vouches for the block: a value CLOCK_REALTIME_COARSE never
 * reads (the kernel keeps the wall clock below 2^63 ns). */
#define REAL_NONE	UINT64_MAX

/* What flakeid_next()'s hot path reads comes first, in one cache line. */
struct tcache {
	struct tcache *next;
	uint64_t cache_id;	/* the struct flakeid setting it belongs to */
	uint64_t real_seen;	/* CLOCK_REALTIME_COARSE at the last check
				 * that found the block fresh by the coarse
				 * test, see flakeid_next(); REAL_NONE: none */
	size_t pos, n;
	uint64_t *ids;
	size_t cap;
	uint64_t fill_ns;	/* CLOCK_MONOTONIC before the fetch */
	int64_t wall_offset;	/* real-time minus monotonic, before it */
	uint64_t max_age_ns;
	uint64_t coarse_ok;	/* CLOCK_MONOTONIC_COARSE up to which the
				 * block is surely fresh; 0: never */
} __attribute__((aligned(64)));

/* initial-exec: a plain %fs access on the hot path, no __tls_get_addr. */
static __thread struct tcache *tls_head
	__attribute__((tls_model("initial-exec")));

static pthread_once_t setup_once = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key;
static int setup_err;
static uint64_t coarse_lag_ns;	/* 0: no usable coarse clock */
/* The pair the wall clock's offset is read from: coarse where usable. */
static clockid_t offset_mono = CLOCK_MONOTONIC;
static clockid_t offset_real = CLOCK_REALTIME;
static _Atomic uint64_t next_cache_id = 1;
/*
 * The vDSO's own entry where it is found (set once, before any handle's
 * cache is on): a cached ID costs one clock read, and the C library's
 * wrapper around it is a good part of that.
 */
static flakeid__gettime_fn gettime = clock_gettime;

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	gettime(id, &ts);
	return ts_ns(&ts);
}

static uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static void free_thread_entries(void)
{
	struct tcache *c = tls_head, *next;

	tls_head = NULL;
	for (; c; c = next) {
		next = c->next;
		free(c->ids);
		free(c);
	}
}

static void thread_exit(void *unused)
{
	(void)unused;
	free_thread_entries();
}

/*
 * The child of fork() holds a copy of the forking thread's cache: IDs the
 * parent may hand out too.  Forget them; the entries are kept for reuse.
 * Other threads do not exist in the child and their caches are unreachable.
 */
static void forget_in_child(void)
{
	struct tcache *c;

	for (c = tls_head; c; c = c->next) {
		c->cache_id = 0;
		c->pos = c->n = 0;
		c->real_seen = REAL_NONE;
	}
}

/*
 * CLOCK_MONOTONIC costs a system call where the clocksource has no vDSO
 * support (QEMU without KVM, some hypervisors); CLOCK_MONOTONIC_COARSE is
 * always a memory read, but it only moves when the timekeeping tick runs.
 * clock_getres() gives the tick; measured lag reaches two ticks when the
 * read falls just before a tick that is itself late (8.10 ms at a 4 ms
 * tick under load).  A block whose coarse age is below max_age minus
 * flakeid__coarse_lag_ns() is taken as fresh; only near the end of its
 * life does the age need the precise clock.
 */
uint64_t flakeid__coarse_lag_ns(uint64_t tick_ns)
{
	const uint64_t slack_min = 2000000;	/* 2 ms: a late tick */

	if (!tick_ns || tick_ns >= 1000000000u)
		return 0;	/* no usable coarse clock */
	return 2 * tick_ns + (tick_ns > slack_min ? tick_ns : slack_min);
}

static void setup_clock(void)
{
	flakeid__gettime_fn vdso = flakeid__vdso_gettime();
	struct timespec res;

	if (vdso)
		gettime = vdso;
	if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) == 0 && res.tv_sec == 0)
		coarse_lag_ns = flakeid__coarse_lag_ns((uint64_t)res.tv_nsec);
	if (coarse_lag_ns && clock_getres(CLOCK_REALTIME_COARSE, &res) == 0) {
		offset_mono = CLOCK_MONOTONIC_COARSE;
		offset_real = CLOCK_REALTIME_COARSE;
	}
}

/*
 * The kernel's ID clock follows the wall clock forward, while a block's
 * age is measured on CLOCK_MONOTONIC: after a forward step (settimeofday,
 * an NTP step, a resume from suspend) fresh IDs are ahead of a cached one
 * by its age plus the step.  The step shows as a rise in CLOCK_REALTIME
 * minus CLOCK_MONOTONIC, which counts as age.  The coarse pair moves
 * together once a tick; a tick landing between the two reads shifts the
 * result by a tick, so the fill reads real-time first (the offset comes
 * out low) and a check reads monotonic first (high): an error only ever
 * makes a block look older.  *mono is the monotonic reading.  With the
 * coarse pair the real-time clock is read again: when both readings agree
 * no tick ran between them, the pair is exact and *seen is the real-time
 * reading (see flakeid_next()); else *seen is REAL_NONE.
 */
static int64_t offset_at_fill(uint64_t *mono, uint64_t *seen)
{
	uint64_t real = clock_ns(offset_real);

	*mono = clock_ns(offset_mono);
	*seen = REAL_NONE;
	if (offset_real == CLOCK_REALTIME_COARSE &&
	    clock_ns(CLOCK_REALTIME_COARSE) == real)
		*seen = real;
	return (int64_t)(real - *mono);
}

static void setup(void)
{
	setup_clock();
	setup_err = pthread_key_create(&exit_key, thread_exit);
	if (setup_err)
		return;
	setup_err = pthread_atfork(NULL, NULL, forget_in_child);
}

int flakeid_set_cache(struct flakeid *h, unsigned int block,
		      unsigned int max_age_ms)
{
	uint64_t id;

	if (!h || block > FLAKEID_CACHE_BLOCK_MAX)
		return -EINVAL;
	if (!block) {
		atomic_store_explicit(&h->cache_id, 0, memory_order_release);
		return 0;
	}
	if (!max_age_ms || max_age_ms > FLAKEID_CACHE_MAX_AGE_MAX)
		return -EINVAL;
	pthread_once(&setup_once, setup);
	if (setup_err)
		return -setup_err;

	atomic_store_explicit(&h->cache_block, block, memory_order_relaxed);
	atomic_store_explicit(&h->cache_max_age_ns,
			      (uint64_t)max_age_ms * 1000000u,
			      memory_order_relaxed);
	/* A new id: every thread's entry for the old setting goes stale. */
	id = atomic_fetch_add_explicit(&next_cache_id, 1, memory_order_relaxed);
	atomic_store_explicit(&h->cache_id, id, memory_order_release);
	return 0;
}

/* The calling thread's entry for @cid, moved to the front; or NULL. */
static struct tcache *find_entry(uint64_t cid)
{
	struct tcache *c, **pp;

	for (pp = &tls_head; (c = *pp); pp = &c->next) {
		if (c->cache_id != cid)
			continue;
		*pp = c->next;
		c->next = tls_head;
		tls_head = c;
		return c;
	}
	return NULL;
}

static struct tcache *new_entry(void)
{
	struct tcache *c, **pp;
	unsigned int count = 0;

	/* Reuse the least recently used entry once the thread has enough. */
	for (pp = &tls_head; *pp && count < TCACHE_ENTRIES - 1; count++)
		pp = &(*pp)->next;
	if (*pp && count == TCACHE_ENTRIES - 1) {
		c = *pp;
		*pp = c->next;
	} else {
		c = aligned_alloc(_Alignof(struct tcache), sizeof(*c));
		if (!c)
			return NULL;
		memset(c, 0, sizeof(*c));
		if (!tls_head)
			pthread_setspecific(exit_key, (void *)1);
	}
	c->cache_id = 0;
	c->pos = c->n = 0;
	c->real_seen = REAL_NONE;
	c->next = tls_head;
	tls_head = c;
	return c;
}

/*
 * The full check, once per tick per thread (flakeid_next() serves the
 * rest).  With the coarse pair it reads real, monotonic, real: the test
 * itself uses the last two, monotonic first as always (see
 * offset_at_fill()); equal real-time readings before and after the
 * monotonic one mean no tick ran in between, so the pair is exact and the
 * verdict may be remembered in real_seen.  The precise clock's verdict
 * never is.
 */
static int fresh(struct tcache *c)
{
	uint64_t mono, real, real0 = REAL_NONE, ahead;
	int64_t moved;

	c->real_seen = REAL_NONE;
	if (c->pos >= c->n)
		return 0;
	if (c->coarse_ok && offset_real == CLOCK_REALTIME_COARSE)
		real0 = clock_ns(CLOCK_REALTIME_COARSE);
	mono = clock_ns(offset_mono);
	real = clock_ns(offset_real);
	moved = (int64_t)(real - mono) - c->wall_offset;
	ahead = moved > 0 ? (uint64_t)moved : 0;
	if (ahead >= c->max_age_ns)
		return 0;
	/* mono is the coarse clock here, or the precise one, never behind it. */
	if (c->coarse_ok && mono + ahead <= c->coarse_ok) {
		if (real0 == real)
			c->real_seen = real;
		return 1;
	}
	return now_ns() - c->fill_ns + ahead < c->max_age_ns;
}

static __attribute__((noinline)) int refill_next(struct flakeid *h,
						  uint64_t cid, uint64_t *id)
{
	struct tcache *c = find_entry(cid);
	size_t block, got = 0;
	uint64_t t0, mono, coarse, seen;
	int64_t offset;
	int ret;

	if (c && fresh(c)) {
		*id = c->ids[c->pos++];
		return 0;
	}
	if (!c) {
		c = new_entry();
		if (!c)
			return -ENOMEM;
	}
	c->pos = c->n = 0;
	block = atomic_load_explicit(&h->cache_block, memory_order_relaxed);
	if (c->cap < block) {
		uint64_t *ids = realloc(c->ids, block * sizeof(*ids));

		if (!ids)
			return -ENOMEM;
		c->ids = ids;
		c->cap = block;
	}
	/* Taken before the fetch: no ID in the block was issued earlier,
	 * and a step during the fetch counts against the block. */
	offset = offset_at_fill(&mono, &seen);
	if (offset_mono == CLOCK_MONOTONIC_COARSE)
		coarse = mono;
	else
		coarse = coarse_lag_ns ? clock_ns(CLOCK_MONOTONIC_COARSE) : 0;
	t0 = now_ns();
	ret = flakeid__fetch(h, c->ids, block, &got);
	if (ret)
		return ret;
	c->cache_id = cid;
	c->fill_ns = t0;
	c->wall_offset = offset;
	c->max_age_ns = atomic_load_explicit(&h->cache_max_age_ns,
					     memory_order_relaxed);
	c->coarse_ok = coarse && c->max_age_ns > coarse_lag_ns ?
		coarse + c->max_age_ns - coarse_lag_ns : 0;
	/*
	 * At the exact pair (coarse, seen) the block passes fresh()'s coarse
	 * test: no step since the fill (ahead 0) and coarse <= coarse_ok.
	 */
	c->real_seen = c->coarse_ok ? seen : REAL_NONE;
	c->n = got;
	c->pos = 1;
	*id = c->ids[0];
	return 0;
}

/* flakeid_next() when the hot path below does not serve the call. */
static __attribute__((noinline)) int next_slow(struct flakeid *h,
						uint64_t *id)
{
	uint64_t cid = atomic_load_explicit(&h->cache_id, memory_order_acquire);

	if (!cid)
		return flakeid__read_one(h, id);
	return refill_next(h, cid, id);
}

/*
 * Here rather than in device.c so the cached path is one function, and it
 * reads one clock, CLOCK_REALTIME_COARSE: a call is served when that
 * reads exactly real_seen, the value it read at the last full check that
 * found the block fresh by the coarse test (fresh(), or the fill).
 *
 * Why that is enough: the vDSO's two coarse clocks are always written
 * together, under one seqcount, from one timekeeper state
 * (update_vsyscall()).  CLOCK_REALTIME_COARSE is the kernel's xtime cut to
 * the nanosecond; CLOCK_MONOTONIC_COARSE is that same value plus
 * wall_to_monotonic.  A timekeeping tick (or an NTP frequency change, or a
 * new clocksource) advances xtime and leaves wall_to_monotonic alone, so
 * it moves both clocks by the same amount.  Only a step (settimeofday(), clock_settime(),
 * ADJ_SETOFFSET, a leap second, a resume from suspend) changes
 * wall_to_monotonic, and it gives xtime a new value at the same time.  So
 * a real-time reading equal to real_seen means xtime is what it was at the
 * check and, no step having happened, so is wall_to_monotonic: the
 * monotonic clock reads what it read then, and fresh() would reach the
 * same verdict now from the same two values.  The check records real_seen
 * only when the real-time clock read the same before and after its
 * monotonic read, so the pair it tested came from one state.
 *
 * The one case this does not cover: a step that brings the real-time
 * clock back to exactly real_seen, to the nanosecond (a clock_settime() to
 * that very value, or a step back that later ticks land on it exactly).
 * The block is then served, whatever its age, until the next tick moves
 * the clock again.
 *
 * Anything else, the precise clock included, is next_slow()'s.  Under
 * emulation the vDSO call is most of the cost.
 */
int flakeid_next(struct flakeid *h, uint64_t *id)
{
	struct timespec real;
	struct tcache *c;
	uint64_t cid;

	if (!h || !id)
		return -EINVAL;
	/* No cache: no clock here. */
	if (!atomic_load_explicit(&h->cache_id, memory_order_relaxed))
		return next_slow(h, id);
	/* The clock first, so only h and id live across the call. */
	gettime(CLOCK_REALTIME_COARSE, &real);
	cid = atomic_load_explicit(&h->cache_id, memory_order_acquire);
	c = tls_head;
	/* cid 0 (the cache turned off since) never matches a filled entry. */
	if (__builtin_expect(c && c->cache_id == cid && c->pos < c->n &&
			     ts_ns(&real) == c->real_seen, 1)) {
		*id = c->ids[c->pos++];
		return 0;
	}
	return next_slow(h, id);
}

size_t flakeid__cache_take(struct flakeid *h, uint64_t *ids, size_t n)
{
	uint64_t cid = atomic_load_explicit(&h->cache_id, memory_order_acquire);
	struct tcache *c;
	size_t k;

	if (!cid || !n)
		return 0;
	c = find_entry(cid);
	if (!c || !fresh(c))
		return 0;
	k = c->n - c->pos;
	if (k > n)
		k = n;
	memcpy(ids, c->ids + c->pos, k * sizeof(*ids));
	c->pos += k;
	return k;
}
