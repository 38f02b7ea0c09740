// SPDX-License-Identifier: MIT
/*
 * Guest tests for libflakeid against the real /dev/flakeid, run as root
 * after the module is loaded.  Prints TAP.  Configuration changes made
 * here are undone before it exits.
 *
 *   flakeid-guest-test                    the library tests
 *   flakeid-guest-test asuser UID CMD...  run CMD as UID (for the CLI tests)
 *   flakeid-guest-test check-ids N        stdin holds N increasing IDs
 *   flakeid-guest-test now-ms             the wall clock, Unix ms
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "flakeid.h"
#include "ids.h"
#include "tap.h"
#include "xorshift.h"

static int kfd = -1;	/* a plain fd for the kernel's own decode */

static int kernel_decode(uint64_t id, struct flakeid_decode *d)
{
	memset(d, 0, sizeof(*d));
	d->size = sizeof(*d);
	d->id = id;
	return ioctl(kfd, FLAKEID_IOC_DECODE, d) < 0 ? -errno : 0;
}

/* 0 when the library and the kernel agree on @id. */
static int decode_differs(struct flakeid *h, uint64_t id)
{
	struct flakeid_decode d;
	struct flakeid_parts p;
	int kret = kernel_decode(id, &d);
	int uret = flakeid_decode(h, id, &p);

	if (kret != uret) {
		diag("id %" PRIu64 ": kernel %d, library %d", id, kret, uret);
		return 1;
	}
	if (kret)
		return 0;
	if (d.unix_ms != p.unix_ms || d.timestamp != p.timestamp ||
	    d.region_id != p.region_id || d.app_id != p.app_id ||
	    d.machine_id != p.machine_id || d.sequence != p.sequence ||
	    (uint64_t)p.time.tv_sec * 1000 + (uint64_t)p.time.tv_nsec / 1000000 !=
		    p.unix_ms) {
		diag("id %" PRIu64 ": kernel %llu %llu %u %u %u %u, library %"
		     PRIu64 " %" PRIu64 " %u %u %u %u", id,
		     (unsigned long long)d.unix_ms,
		     (unsigned long long)d.timestamp, d.region_id, d.app_id,
		     d.machine_id, d.sequence, p.unix_ms, p.timestamp,
		     p.region_id, p.app_id, p.machine_id, p.sequence);
		return 1;
	}
	return 0;
}

static uint64_t rng = 0x243f6a8885a308d3u;

static uint64_t rnd(void)
{
	return xorshift64s(&rng);
}

/* Issued IDs, random values and edges: library decode == kernel decode. */
static void decode_parity(struct flakeid *h, const char *what)
{
	enum { N = 20000 };
	static uint64_t ids[N];
	static const uint64_t edges[] = {
		0, 1, UINT64_MAX, UINT64_C(1) << 63, (UINT64_C(1) << 63) - 1,
		UINT64_C(1) << 62, (UINT64_C(1) << 22) - 1, UINT64_C(1) << 22,
	};
	int bad = 0, ret, i;

	ret = flakeid_refresh_config(h);
	ret = ret ? ret : flakeid_batch(h, ids, N);
	if (!ok(ret == 0, "%s: fetch %d IDs", what, N)) {
		diag("%s", flakeid_strerror(ret));
		return;
	}
	for (i = 0; i < N; i++)
		bad += decode_differs(h, ids[i]);
	ok(bad == 0, "%s: library decode equals FLAKEID_IOC_DECODE for %d issued IDs",
	   what, N);
	bad = 0;
	for (i = 0; i < N; i++)
		bad += decode_differs(h, rnd() >> (rnd() % 3));
	for (i = 0; i < (int)(sizeof(edges) / sizeof(edges[0])); i++)
		bad += decode_differs(h, edges[i]);
	ok(bad == 0, "%s: library decode equals FLAKEID_IOC_DECODE for %d random and edge values",
	   what, N);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int increasing(const uint64_t *ids, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (ids[i] <= ids[i - 1])
			return 0;
	return 1;
}

static int64_t real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cmp_uuid7(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct flakeid_uuid7));
}

/*
 * UUIDv7 through the library: 100,000 in one batch, each version 7 and
 * variant 10 with its time between the wall clock before the call and
 * max_borrow_ms past the wall clock after it, strictly increasing in byte
 * order; a later call continues above them; two handles taking turns never
 * meet; the device node /dev/flakeid-uuid7 reads the same kind.  Skipped
 * when the module issues no UUIDs.  Run while the ID clock follows the wall
 * clock (before the clock step test).
 */
static void uuid7_tests(struct flakeid *h)
{
	enum { N = 100000, TURN = 1000 };
	static struct flakeid_uuid7 u[N];
	struct flakeid_uuid7_parts p;
	struct flakeid_config cfg;
	struct flakeid_uuid7 one;
	struct flakeid *h2;
	int64_t t0, t1;
	size_t i, bad_kind = 0, bad_time = 0, bad_guard = 0, dups = 0;
	ssize_t got;
	int ret, fd, order = 1;

	ret = flakeid_uuid7(h, &one);
	if (ret == -EOPNOTSUPP) {
		ok(1, "uuid7: # SKIP the module issues no UUIDs");
		return;
	}
	ok(ret == 0 && flakeid_decode_uuid7(&one, &p) == 0,
	   "uuid7: flakeid_uuid7 gives a UUIDv7 (%s)", flakeid_strerror(ret));
	flakeid_get_config(h, &cfg);

	t0 = real_ms();
	ret = flakeid_uuid7_batch(h, u, N);
	t1 = real_ms();
	ok(ret == 0, "uuid7: a batch of %d (%s, %" PRId64 " ms)", N,
	   flakeid_strerror(ret), t1 - t0);
	for (i = 0; i < N && !ret; i++) {
		flakeid_decode_uuid7(&u[i], &p);
		bad_kind += p.version != 7 || p.variant != 2;
		bad_time += (int64_t)p.unix_ms < t0 ||
			    (int64_t)p.unix_ms > t1 + cfg.max_borrow_ms;
		/* The uapi's guard bit: the counter's top bit is clear. */
		bad_guard += p.counter >> (FLAKEID_UUID7_COUNTER_BITS - 1) != 0;
		if (i && memcmp(&u[i - 1], &u[i], sizeof(u[i])) >= 0)
			order = 0;
		if (i == 0 && memcmp(&one, &u[0], sizeof(one)) >= 0)
			order = 0;
	}
	ok(!ret && bad_kind == 0, "uuid7: all %d version 7, variant 10 (%zu not)",
	   N, bad_kind);
	ok(!ret && order, "uuid7: strictly increasing in byte order, above the one before");
	ok(!ret && bad_time == 0,
	   "uuid7: every unix_ts_ms in [%" PRId64 ", %" PRId64 " + max_borrow_ms %u] (%zu outside; first %" PRIu64 ")",
	   t0, t1, cfg.max_borrow_ms, bad_time,
	   (flakeid_decode_uuid7(&u[0], &p), p.unix_ms));
	ok(!ret && bad_guard == 0, "uuid7: the counter's guard bit is clear (%zu set)",
	   bad_guard);
	ret = flakeid_uuid7(h, &one);
	ok(ret == 0 && memcmp(&u[N - 1], &one, sizeof(one)) < 0,
	   "uuid7: the next call continues above the batch");

	/* Two open files taking turns: the shared allocator keeps them apart. */
	ret = flakeid_open(&h2, NULL, 0);
	for (i = 0; i < N && !ret; i += TURN)
		ret = flakeid_uuid7_batch(i / TURN % 2 ? h2 : h, u + i, TURN);
	if (!ret) {
		qsort(u, N, sizeof(u[0]), cmp_uuid7);
		for (i = 1; i < N; i++)
			dups += !memcmp(&u[i - 1], &u[i], sizeof(u[i]));
	}
	ok(ret == 0 && dups == 0,
	   "uuid7: two handles taking turns, %d UUIDs, %zu repeats (%s)", N,
	   dups, flakeid_strerror(ret));
	flakeid_close(h2);

	fd = open(FLAKEID_UUID7_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	got = fd < 0 ? -1 : read(fd, u, 1000 * sizeof(u[0]));
	order = got == 1000 * (ssize_t)sizeof(u[0]);
	for (i = 0; order && i < 1000; i++)
		order = !flakeid_decode_uuid7(&u[i], &p) &&
			(!i || memcmp(&u[i - 1], &u[i], sizeof(u[i])) < 0);
	ok(order, "uuid7: read(2) of 16000 bytes from %s: 1000 increasing UUIDv7s (%zd)",
	   FLAKEID_UUID7_DEVICE_PATH, got);
	if (fd >= 0)
		close(fd);
}

enum { THREADS = 100, PER_THREAD = 1000 };

struct worker {
	pthread_t tid;
	struct flakeid *h;
	uint64_t *ids;
	int err;
};

static void *worker(void *arg)
{
	struct worker *w = arg;
	int i;

	for (i = 0; i < PER_THREAD && !w->err; i++)
		w->err = flakeid_next(w->h, &w->ids[i]);
	return NULL;
}

/* 100 threads x 1,000 IDs through one handle: all distinct, and each
 * thread's own IDs increasing. */
static void threads_test(struct flakeid *h, const char *what)
{
	static struct worker w[THREADS];
	uint64_t *all = calloc(THREADS * PER_THREAD, sizeof(*all));
	int i, err = 0, order = 1;

	for (i = 0; i < THREADS; i++) {
		w[i].h = h;
		w[i].err = 0;
		w[i].ids = all + i * PER_THREAD;
		if (pthread_create(&w[i].tid, NULL, worker, &w[i]))
			w[i].err = -EAGAIN;
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(w[i].tid, NULL);
		err = err ? err : w[i].err;
		order &= increasing(w[i].ids, PER_THREAD);
	}
	ok(err == 0, "%s: %d threads x %d IDs: no error (%s)", what, THREADS,
	   PER_THREAD, flakeid_strerror(err));
	ok(order, "%s: each thread's IDs increase", what);
	ok(fl_count_dups(all, THREADS * PER_THREAD) == 0,
	   "%s: all %d IDs distinct", what, THREADS * PER_THREAD);
	free(all);
}

static uint64_t issued(struct flakeid *h)
{
	struct flakeid_stats st;

	return flakeid_get_stats(h, &st) ? 0 : st.ids_issued;
}

static void cache_tests(struct flakeid *h)
{
	enum { N = 100000 };
	uint64_t *ids = calloc(N, sizeof(*ids)), a, b, c, s0, s1, s2;
	int i, ret = 0;

	ok(flakeid_set_cache(h, FLAKEID_CACHE_BLOCK_MAX + 1, 1) == -EINVAL &&
	   flakeid_set_cache(h, 256, 0) == -EINVAL &&
	   flakeid_set_cache(h, 256, FLAKEID_CACHE_MAX_AGE_MAX + 1) == -EINVAL,
	   "cache: bad block sizes and ages are EINVAL");
	ret = flakeid_set_cache(h, 256, 1000);
	for (i = 0; i < N && !ret; i++)
		ret = flakeid_next(h, &ids[i]);
	ok(ret == 0 && increasing(ids, N),
	   "cache: %d IDs from one thread increase", N);
	ok(fl_count_dups(ids, N) == 0, "cache: %d IDs distinct", N);

	/* next and batch mixed: cached IDs come first, order holds. */
	ret = 0;
	for (i = 0; i < N - 1000 && !ret; i += 1000) {
		ret = flakeid_next(h, &ids[i]);
		ret = ret ? ret : flakeid_batch(h, &ids[i + 1], 999);
	}
	ok(ret == 0 && increasing(ids, (size_t)i),
	   "cache: next and batch mixed still increase");

	/* Served from the cache: the device's counter does not move. */
	flakeid_next(h, &a);
	s0 = issued(h);
	flakeid_next(h, &b);
	s1 = issued(h);
	ok(b > a && s1 == s0, "cache: a second ID comes from the cache (issued %" PRIu64 " -> %" PRIu64 ")",
	   s0, s1);

	/* Stale: older than max_age, dropped and refilled. */
	flakeid_set_cache(h, 256, 1);
	flakeid_next(h, &a);
	s1 = issued(h);
	usleep(5000);
	flakeid_next(h, &b);
	s2 = issued(h);
	ok(b > a && s2 >= s1 + 256,
	   "cache: an ID older than max_age is dropped (issued %" PRIu64 " -> %" PRIu64 ")",
	   s1, s2);

	/* A max_age long enough for the coarse clock: fresh blocks are served
	 * without the precise clock, stale ones still dropped.  "Fresh" holds
	 * only if the guest ran a..b well within 50 ms; a slow kernel or a
	 * busy host can pause it longer, so a round that took 20 ms or more
	 * proves nothing and is tried again.  One fetch moves the device's
	 * counter by 256, a refetch by 512. */
	for (i = 0, ret = 1; i < 20 && ret; i++) {
		int64_t t0;

		flakeid_set_cache(h, 256, 50);	/* drops what a round left */
		s0 = issued(h);
		t0 = mono_ms();
		flakeid_next(h, &a);
		flakeid_next(h, &b);
		ret = mono_ms() - t0 >= 20;
		s1 = issued(h);
	}
	ok(!ret && b > a && s1 == s0 + 256,
	   "cache: max_age 50 ms serves a second ID from the block (issued %" PRIu64 " -> %" PRIu64 ", %d rounds)",
	   s0, s1, i);
	usleep(60000);
	flakeid_next(h, &c);
	s2 = issued(h);
	ok(c > b && s2 >= s1 + 256,
	   "cache: max_age 50 ms drops the block after 60 ms (issued %" PRIu64 " -> %" PRIu64 ")",
	   s1, s2);

	/* Turned off: IDs come straight from the device, still increasing;
	 * turned on again: nothing cached before is handed out. */
	flakeid_set_cache(h, 256, 1000);
	flakeid_next(h, &a);
	flakeid_set_cache(h, 0, 0);
	s0 = issued(h);
	flakeid_next(h, &b);
	s1 = issued(h);
	flakeid_set_cache(h, 256, 1000);
	flakeid_next(h, &c);
	ok(b > a && c > b && s1 == s0 + 1,
	   "cache: off and on again keeps the thread's order");

	threads_test(h, "cache");
	free(ids);
}

/* A child never returns an ID its parent returned (the cache is dropped). */
static void fork_tests(struct flakeid *h)
{
	enum { N = 100 };
	uint64_t parent[N + 1], child[N], all[2 * N + 1];
	int pfd[2], round, bad = 0, ret, st, i;
	ssize_t got;
	pid_t pid;

	flakeid_set_cache(h, 256, 10000);
	for (round = 0; round < 5; round++) {
		ret = flakeid_next(h, &parent[0]);
		if (ret || pipe(pfd)) {
			bad++;
			continue;
		}
		pid = fork();
		if (pid == 0) {
			close(pfd[0]);
			for (i = 0; i < N; i++)
				if (flakeid_next(h, &child[i]))
					_exit(1);
			_exit(write(pfd[1], child, sizeof(child)) ==
			      (ssize_t)sizeof(child) ? 0 : 1);
		}
		close(pfd[1]);
		for (i = 1; i <= N; i++)
			ret |= flakeid_next(h, &parent[i]);
		got = read(pfd[0], child, sizeof(child));
		close(pfd[0]);
		waitpid(pid, &st, 0);
		if (ret || got != (ssize_t)sizeof(child) ||
		    !WIFEXITED(st) || WEXITSTATUS(st)) {
			bad++;
			continue;
		}
		/* Uniqueness is the promise, not order: the parent may refetch
		 * after the child did.  A child serving the inherited block
		 * would hand out exactly the parent's next IDs. */
		memcpy(all, parent, sizeof(parent));
		memcpy(all + N + 1, child, sizeof(child));
		bad += fl_count_dups(all, 2 * N + 1) != 0;
	}
	ok(bad == 0, "fork: the child's IDs never repeat the parent's cached block");
	flakeid_set_cache(h, 0, 0);
}

/*
 * The wall clock steps forward with a block cached: the next cached ID is at
 * most max_age behind an uncached one taken right after it.  Forward only:
 * a step back would leave the device's ID clock ahead for the tests after.
 */
static void clock_step_test(struct flakeid *h)
{
	struct flakeid_parts pc, pf;
	struct flakeid *plain;
	struct timespec ts;
	uint64_t a, b, f;
	int64_t behind = 0;
	int ret;

	ret = flakeid_open(&plain, NULL, 0);
	if (!ok(ret == 0, "clock step: a second, uncached handle (%s)",
		flakeid_strerror(ret)))
		return;
	flakeid_set_cache(h, 256, 1000);
	ret = flakeid_next(h, &a);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	if (clock_settime(CLOCK_REALTIME, &ts)) {
		ok(1, "clock step # SKIP clock_settime: %s", strerror(errno));
	} else {
		ret = ret ? ret : flakeid_next(h, &b);
		ret = ret ? ret : flakeid_next(plain, &f);
		ret = ret ? ret : flakeid_decode(h, b, &pc);
		ret = ret ? ret : flakeid_decode(h, f, &pf);
		if (!ret)
			behind = (int64_t)(pf.unix_ms - pc.unix_ms);
		ok(ret == 0 && b > a && behind <= 1000,
		   "clock step: 5 s forward, the cached ID is %" PRId64 " ms behind a fresh one (max_age 1000 ms)",
		   behind);
	}
	flakeid_set_cache(h, 0, 0);
	flakeid_close(plain);
}

static int save_config(struct flakeid *h, struct flakeid_config *cfg)
{
	return flakeid_get_config(h, cfg);
}

static int restore_config(struct flakeid *h, const struct flakeid_config *cfg)
{
	return flakeid_set_config(h, cfg, FLAKEID_SET_IDS | FLAKEID_SET_LAYOUT |
				  FLAKEID_SET_MAX_BORROW);
}

/* @c = @orig with region/app/machine @r/@a/@m bits wide and the sequence
 * taking the rest of the same shift; 0 when that breaks the rules. */
static int same_shift(const struct flakeid_config *orig, unsigned int r,
		      unsigned int a, unsigned int m, struct flakeid_config *c)
{
	unsigned int shift = orig->region_bits + orig->app_bits +
			     orig->machine_bits + orig->sequence_bits;

	*c = *orig;
	if (r + a + m >= shift || shift - r - a - m > 32)
		return 0;
	c->region_bits = r;
	c->app_bits = a;
	c->machine_bits = m;
	c->sequence_bits = shift - r - a - m;
	return 1;
}

static void config_tests(struct flakeid *h)
{
	struct flakeid_config orig, c, now;
	struct flakeid_parts p;
	struct flakeid *old;
	struct flakeid_stats st;
	struct timespec ts;
	uint64_t id, wall;
	unsigned int what, shift, m;
	int ret;

	ret = save_config(h, &orig);
	ok(ret == 0 && orig.size == sizeof(orig),
	   "config: read (layout %u:%u:%u:%u:%u, generation %llu)",
	   orig.timestamp_bits, orig.region_bits, orig.app_bits,
	   orig.machine_bits, orig.sequence_bits,
	   (unsigned long long)orig.generation);
	flakeid_open(&old, NULL, 0);

	/* The Go library's test: an ID made under region 5, app 3, machine 10.
	 * Whatever layout earlier tests left, one with room for those ids and
	 * the same shift is always accepted (and reversible). */
	c = orig;
	what = FLAKEID_SET_IDS;
	if (orig.region_bits < 3 || orig.app_bits < 2 || orig.machine_bits < 4) {
		if (!same_shift(&orig, 3, 2, 4, &c))
			c.timestamp_bits = 0;	/* cannot: the set fails */
		what |= FLAKEID_SET_LAYOUT;
	}
	c.region_id = 5;
	c.app_id = 3;
	c.machine_id = 10;
	ret = flakeid_set_config(h, &c, what);
	ok(ret == 0, "config: set region 5 app 3 machine 10 (%s)",
	   flakeid_strerror(ret));
	flakeid_get_config(h, &now);
	ok(now.region_id == 5 && now.app_id == 3 && now.machine_id == 10 &&
	   now.generation > orig.generation,
	   "config: the device reports them, generation moved");
	ret = flakeid_next(h, &id);
	ret = ret ? ret : flakeid_decode(h, id, &p);
	ret = ret ? ret : flakeid_get_stats(h, &st);
	clock_gettime(CLOCK_REALTIME, &ts);
	/* The ID clock may run ahead of the wall clock (an earlier test
	 * stepped it back): compare with wall + ahead_ms. */
	wall = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 +
	       (uint64_t)st.ahead_ms;
	ok(ret == 0 && p.region_id == 5 && p.app_id == 3 &&
	   p.machine_id == 10 && !decode_differs(h, id),
	   "Go parity: decode of an ID made under region 5, app 3, machine 10");
	ok(ret == 0 && p.unix_ms + 60000 > wall && p.unix_ms < wall + 60000,
	   "Go parity: its time is the ID clock's now (%" PRIu64 " vs %" PRIu64 ")",
	   p.unix_ms, wall);

	decode_parity(h, "region 5 app 3 machine 10");

	/* Layout changes that keep the shift (reversible): the library has to
	 * order the stores (region 0 before, a wide machine id after the
	 * layout). */
	shift = orig.region_bits + orig.app_bits + orig.machine_bits +
		orig.sequence_bits;
	m = shift > 10 ? 10 : shift - 1;
	ret = same_shift(&orig, 0, 0, m, &c) ? 0 : -EINVAL;
	c.region_id = 0;
	c.app_id = 0;
	c.machine_id = m == 10 ? 700 : (1U << m) - 1;
	ret = ret ? ret : flakeid_set_config(h, &c, FLAKEID_SET_IDS |
					     FLAKEID_SET_LAYOUT);
	flakeid_get_config(h, &now);
	ok(ret == 0 && now.machine_bits == m && now.machine_id == c.machine_id &&
	   now.region_bits == 0, "config: layout %u:0:0:%u:%u with machine %u (%s)",
	   c.timestamp_bits, m, c.sequence_bits, c.machine_id,
	   flakeid_strerror(ret));
	if (ret == 0)
		decode_parity(h, "region and app 0 bits wide");

	/* A handle that read the layout earlier decodes with it until it
	 * refreshes. */
	ret = flakeid_next(h, &id);
	flakeid_decode(old, id, &p);
	ok(ret == 0 && old && p.machine_id != c.machine_id &&
	   flakeid_refresh_config(old) == 0 &&
	   flakeid_decode(old, id, &p) == 0 && p.machine_id == c.machine_id,
	   "config: a handle decodes with the layout it read until flakeid_refresh_config");
	flakeid_close(old);

	/* All 64 bits: the timestamp takes what the shift leaves. */
	c = orig;
	c.timestamp_bits = 64 - shift;
	ret = flakeid_set_config(h, &c, FLAKEID_SET_IDS | FLAKEID_SET_LAYOUT);
	ok(ret == 0, "config: 64-bit layout %u:%u:%u:%u:%u (%s)",
	   c.timestamp_bits, c.region_bits, c.app_bits, c.machine_bits,
	   c.sequence_bits, flakeid_strerror(ret));
	if (ret == 0)
		decode_parity(h, "a 64-bit layout");

	ret = restore_config(h, &orig);
	flakeid_get_config(h, &now);
	ok(ret == 0 && now.timestamp_bits == orig.timestamp_bits &&
	   now.region_bits == orig.region_bits &&
	   now.machine_bits == orig.machine_bits &&
	   now.sequence_bits == orig.sequence_bits &&
	   now.region_id == orig.region_id && now.app_id == orig.app_id &&
	   now.machine_id == orig.machine_id,
	   "config: original configuration restored (%s)",
	   flakeid_strerror(ret));

	c = orig;
	c.machine_id = 1U << 20;
	ret = flakeid_set_config(h, &c, FLAKEID_SET_MACHINE);
	flakeid_get_config(h, &now);
	ok(ret == -ERANGE && now.machine_id == orig.machine_id,
	   "config: machine 2^20 is ERANGE and changes nothing (%s)",
	   flakeid_strerror(ret));
	ok(flakeid_set_config(h, &c, 1U << 30) == -EINVAL,
	   "config: unknown members are EINVAL");
	c.sequence_bits = 0;
	ok(flakeid_set_config(h, &c, FLAKEID_SET_LAYOUT) == -EINVAL,
	   "config: an invalid layout is EINVAL before any store");
}

static void nonblock_test(struct flakeid *h)
{
	enum { N = 1 << 20 };
	struct flakeid_config orig, c;
	struct flakeid *nb;
	uint64_t *ids = malloc(N * sizeof(*ids));
	int ret;

	if (save_config(h, &orig))
		flakeid_default_config(&orig);
	c = orig;
	c.max_borrow_ms = 5;
	ret = flakeid_set_config(h, &c, FLAKEID_SET_MAX_BORROW);
	ok(ret == 0, "nonblock: max_borrow_ms=5 (%s)", flakeid_strerror(ret));
	ret = flakeid_open(&nb, NULL, FLAKEID_OPEN_NONBLOCK);
	if (!ret) {
		/* 2^20 IDs take 1024 ms of sequence space at 1,024 per ms. */
		ret = flakeid_batch(nb, ids, N);
		flakeid_close(nb);
	}
	ok(ret == -EAGAIN || orig.sequence_bits > 14,
	   "nonblock: past the borrow limit a batch is EAGAIN (%s)",
	   flakeid_strerror(ret));
	c.max_borrow_ms = orig.max_borrow_ms;
	ret = flakeid_set_config(h, &c, FLAKEID_SET_MAX_BORROW);
	ok(ret == 0, "nonblock: max_borrow_ms restored");
	free(ids);
}

/* The ID clock's millisecond: that of a fresh ID. */
static int id_clock_ms(struct flakeid *h, uint64_t *ms)
{
	struct flakeid_parts p;
	uint64_t id;
	int ret;

	ret = flakeid_next(h, &id);
	ret = ret ? ret : flakeid_decode(h, id, &p);
	if (!ret)
		*ms = p.unix_ms;
	return ret;
}

static int set_until(struct flakeid *h, uint64_t until_ms)
{
	struct flakeid_config c;

	memset(&c, 0, sizeof(c));
	c.until_ms = until_ms;
	return flakeid_set_config(h, &c, FLAKEID_SET_UNTIL);
}

/*
 * The ceiling: IDs up to it and none above, EKEYEXPIRED once it was not
 * raised within until_wait_ms, EAGAIN for a non-blocking handle, at once
 * while fenced; config and stats report it all.  Leaves no ceiling and
 * the default until_wait_ms.
 */
static void ceiling_tests(struct flakeid *h)
{
	enum { CHUNK = 1024 };
	static uint64_t ids[CHUNK];
	struct flakeid_config c;
	struct flakeid_stats s0, s1;
	struct flakeid_parts p;
	struct flakeid *nb;
	uint64_t base = 0, until, top = 0, n = 0, id;
	int64_t t0, took;
	int ret, above = 0;
	size_t i;

	flakeid_set_cache(h, 0, 0);
	ret = flakeid_get_config(h, &c);
	ret = ret ? ret : flakeid_get_stats(h, &s0);
	ok(ret == 0 && c.until_ms == FLAKEID_UNTIL_NONE &&
	   s0.until_ms == FLAKEID_UNTIL_NONE &&
	   s0.until_wait_ms == FLAKEID_DEFAULT_UNTIL_WAIT_MS &&
	   c.vm_forks == s0.vm_forks,
	   "ceiling: none by default, until_wait_ms %u, vm_forks %llu (%s)",
	   s0.until_wait_ms, (unsigned long long)c.vm_forks,
	   flakeid_strerror(ret));
	ok(flakeid_set_until_wait(h, FLAKEID_UNTIL_WAIT_MS_MAX + 1) == -ERANGE &&
	   set_until(h, FLAKEID_UNTIL_MS_MAX + 1) == -ERANGE &&
	   flakeid_get_config(h, &c) == 0 && c.until_ms == FLAKEID_UNTIL_NONE,
	   "ceiling: until_wait 60001 and until past KTIME_MAX are ERANGE, nothing changed");

	ret = flakeid_set_until_wait(h, 200);
	ret = ret ? ret : id_clock_ms(h, &base);
	until = base + 250;
	ret = ret ? ret : set_until(h, until);
	ret = ret ? ret : flakeid_get_config(h, &c);
	ok(ret == 0 && c.until_ms == until,
	   "ceiling: until_ms = ID clock + 250 ms = %" PRIu64 " (%s)", until,
	   flakeid_strerror(ret));
	flakeid_get_stats(h, &s0);
	t0 = mono_ms();
	while (!(ret = flakeid_batch(h, ids, CHUNK))) {
		for (i = 0; i < CHUNK; i++) {
			flakeid_decode(h, ids[i], &p);
			above += p.unix_ms > until;
			top = p.unix_ms > top ? p.unix_ms : top;
		}
		n += CHUNK;
		if (mono_ms() - t0 > 10000)
			break;
	}
	took = mono_ms() - t0;
	flakeid_get_stats(h, &s1);
	ok(ret == -EKEYEXPIRED && above == 0 && top == until,
	   "ceiling: %" PRIu64 " IDs up to until_ms, none above, then EKEYEXPIRED (%s, %" PRId64 " ms)",
	   n, flakeid_strerror(ret), took);
	ok(took >= 200 && s1.until_waits > s0.until_waits &&
	   s1.until_refused > s0.until_refused && s1.until_ms == until,
	   "ceiling: waited until_wait_ms; until_waits %" PRIu64 " -> %" PRIu64 ", until_refused %" PRIu64 " -> %" PRIu64,
	   s0.until_waits, s1.until_waits, s0.until_refused, s1.until_refused);

	ret = flakeid_open(&nb, NULL, FLAKEID_OPEN_NONBLOCK);
	if (!ret) {
		ret = flakeid_next(nb, &id);
		flakeid_close(nb);
	}
	ok(ret == -EAGAIN, "ceiling: a non-blocking handle gets EAGAIN (%s)",
	   flakeid_strerror(ret));

	ret = set_until(h, until + 1000);
	ret = ret ? ret : flakeid_next(h, &id);
	ret = ret ? ret : flakeid_decode(h, id, &p);
	ok(ret == 0 && p.unix_ms > until && p.unix_ms <= until + 1000,
	   "ceiling: raised, IDs flow again (%s)", flakeid_strerror(ret));

	/* Fenced: refused at once, whatever until_wait_ms says. */
	flakeid_set_until_wait(h, 5000);
	flakeid_get_stats(h, &s0);
	ret = set_until(h, FLAKEID_UNTIL_FENCED);
	t0 = mono_ms();
	ret = ret ? ret : flakeid_next(h, &id);
	took = mono_ms() - t0;
	ok(ret == -EKEYEXPIRED && took < 1000,
	   "fence: until_ms 0 refuses at once (%s, %" PRId64 " ms)",
	   flakeid_strerror(ret), took);
	ret = flakeid_batch(h, ids, 10);
	ok(ret == -EKEYEXPIRED, "fence: the batch ioctl is refused too");
	ret = flakeid_get_config(h, &c);
	ret = ret ? ret : flakeid_get_stats(h, &s1);
	ok(ret == 0 && c.until_ms == FLAKEID_UNTIL_FENCED &&
	   s1.until_ms == FLAKEID_UNTIL_FENCED &&
	   s1.until_refused >= s0.until_refused + 2 &&
	   s1.until_waits == s0.until_waits,
	   "fence: config and stats show until_ms 0; until_refused +%" PRIu64 ", no waits",
	   s1.until_refused - s0.until_refused);

	ret = set_until(h, FLAKEID_UNTIL_NONE);
	ret = ret ? ret : flakeid_set_until_wait(h, FLAKEID_DEFAULT_UNTIL_WAIT_MS);
	ret = ret ? ret : flakeid_next(h, &id);
	ret = ret ? ret : flakeid_get_config(h, &c);
	ok(ret == 0 && c.until_ms == FLAKEID_UNTIL_NONE,
	   "unfence: until_ms none, IDs flow (%s)", flakeid_strerror(ret));
}

static void unprivileged_test(void)
{
	int st, pfd[2];
	pid_t pid;
	int res[3] = { 1, 1, 1 };

	if (pipe(pfd))
		return;
	pid = fork();
	if (pid == 0) {
		struct flakeid_config c;
		struct flakeid_stats s;
		struct flakeid *h;
		uint64_t id;

		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(2);
		res[0] = flakeid_open(&h, NULL, 0);
		if (!res[0]) {
			res[1] = flakeid_next(h, &id);
			flakeid_get_config(h, &c);
			c.region_id = 0;
			res[2] = flakeid_set_config(h, &c, FLAKEID_SET_REGION);
			flakeid_get_stats(h, &s);
		}
		_exit(write(pfd[1], res, sizeof(res)) != sizeof(res));
	}
	close(pfd[1]);
	if (read(pfd[0], res, sizeof(res)) != sizeof(res))
		res[0] = -EIO;
	close(pfd[0]);
	waitpid(pid, &st, 0);
	ok(res[0] == 0 && res[1] == 0,
	   "unprivileged: uid 65534 opens the device and gets IDs (%s)",
	   flakeid_strerror(res[0] ? res[0] : res[1]));
	ok(res[2] == -EACCES || res[2] == -EPERM,
	   "unprivileged: set_config is EACCES/EPERM (%s)",
	   flakeid_strerror(res[2]));
}

static int check_ids(long want)
{
	char line[64];
	uint64_t prev = 0, v;
	long n = 0;
	char *end;

	while (fgets(line, sizeof(line), stdin)) {
		errno = 0;
		v = strtoull(line, &end, 10);
		if (errno || end == line || *end != '\n') {
			fprintf(stderr, "check-ids: bad line %ld: %s", n + 1,
				line);
			return 1;
		}
		if (n && v <= prev) {
			fprintf(stderr, "check-ids: line %ld not increasing\n",
				n + 1);
			return 1;
		}
		prev = v;
		n++;
	}
	if (n != want) {
		fprintf(stderr, "check-ids: %ld lines, want %ld\n", n, want);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	enum { N = 10000 };
	static uint64_t ids[1 << 21];
	struct flakeid *h, *x;
	struct flakeid_stats st;
	struct flakeid_config cfg;
	int ret, i;

	if (argc > 1 && !strcmp(argv[1], "now-ms")) {
		printf("%" PRId64 "\n", real_ms());
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "check-ids"))
		return check_ids(argc > 2 ? atol(argv[2]) : 0);
	if (argc > 3 && !strcmp(argv[1], "asuser")) {
		uid_t uid = (uid_t)atol(argv[2]);

		if (setgroups(0, NULL) || setgid(uid) || setuid(uid)) {
			perror("asuser");
			return 126;
		}
		execv(argv[3], argv + 3);
		perror(argv[3]);
		return 127;
	}

	ret = flakeid_open(&h, NULL, 0);
	if (!ok(ret == 0, "open %s (%s)", FLAKEID_DEVICE_PATH,
		flakeid_strerror(ret))) {
		tap_done();
		return 1;
	}
	kfd = open(FLAKEID_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	ok(flakeid_open(&x, "/dev/null", 0) == -ENOTTY,
	   "open /dev/null is ENOTTY");
	ok(flakeid_open(&x, "/nonexistent", 0) == -ENOENT,
	   "open of a missing path is ENOENT");
	ok(flakeid_open(&x, NULL, 1U << 9) == -EINVAL && x == NULL,
	   "open with unknown flags is EINVAL");
	ok(flakeid_next(h, NULL) == -EINVAL && flakeid_batch(h, NULL, 1) ==
	   -EINVAL && flakeid_batch(h, NULL, 0) == 0,
	   "NULL arguments are EINVAL, an empty batch is fine");

	decode_parity(h, "current layout");
	uuid7_tests(h);

	/* The Go library's tests: 10,000 IDs all distinct. */
	ret = 0;
	for (i = 0; i < N && !ret; i++)
		ret = flakeid_next(h, &ids[i]);
	ok(ret == 0 && increasing(ids, N),
	   "Go parity: %d IDs from flakeid_next, increasing", N);
	ok(fl_count_dups(ids, N) == 0, "Go parity: %d IDs all distinct", N);
	threads_test(h, "Go parity");

	/* More than one ioctl can carry: split inside flakeid_batch. */
	ret = flakeid_batch(h, ids, FLAKEID_BATCH_MAX + 1000);
	ok(ret == 0 && increasing(ids, FLAKEID_BATCH_MAX + 1000),
	   "batch of FLAKEID_BATCH_MAX + 1000 IDs, increasing (%s)",
	   flakeid_strerror(ret));

	cache_tests(h);
	fork_tests(h);
	clock_step_test(h);
	config_tests(h);
	nonblock_test(h);
	ceiling_tests(h);
	unprivileged_test();

	ret = flakeid_get_stats(h, &st);
	flakeid_get_config(h, &cfg);
	ok(ret == 0 && st.ids_issued > 0 && st.generation == cfg.generation,
	   "stats: ids_issued %" PRIu64 ", generation %" PRIu64 " = config's",
	   st.ids_issued, st.generation);
	flakeid_set_sysfs_dir(h, "/nonexistent");
	ok(flakeid_get_stats(h, &st) == -ENOENT &&
	   flakeid_set_config(h, &cfg, FLAKEID_SET_REGION) == -ENOENT,
	   "a sysfs dir override is used (ENOENT under /nonexistent)");
	flakeid_set_sysfs_dir(h, NULL);
	ok(flakeid_strerror(-ENOTTY) && flakeid_strerror(12345) &&
	   flakeid_strerror(0), "flakeid_strerror answers anything");

	flakeid_close(h);
	close(kfd);
	return tap_done();
}
