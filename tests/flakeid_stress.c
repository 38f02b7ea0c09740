// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency and fault tests for /dev/flakeid: every CPU generating at
 * once, threads sharing one file, CPU hotplug and live reconfiguration under
 * load (of IDs, and of UUIDs from /dev/flakeid-uuid7), unprivileged readers
 * holding the borrow limit, and wall-clock
 * steps.  The clock test is declared last because it
 * leaves the ID clock an hour ahead of the wall clock.
 *
 * Worker threads never use the harness macros (they are not thread-safe);
 * they count violations and the main thread checks the counts.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop
#include "flakeid_util.h"

#define CPU_ONLINE "/sys/devices/system/cpu/cpu%d/online"

/* The default layout, which the fixture checks before every test. */
static const struct fl_layout def_layout = { 41, 4, 3, 5, 10 };

struct worker {
	pthread_t th;
	int fd;
	int cpu;		/* pin to this CPU, or -1 */
	bool follow;		/* re-pin to cpu before every call (hotplug) */
	unsigned int chunk;	/* IDs per call */
	unsigned int pause_us;	/* sleep between calls */
	bool check_shared;	/* same-file ordering against other threads */
	bool check_config;	/* ids must decode to a published state */
	uint64_t *ids;		/* stored IDs, up to cap */
	size_t cap, n, target;	/* target 0: run until stop */
	uint64_t *scratch;
	uint64_t last, calls, fetched;
	long err;		/* first unexpected -errno */
	uint64_t not_increasing, not_above_shared, bad_config, wrong_cpu;
};

static volatile bool stop_workers;
static uint64_t shared_max;	/* highest ID of any completed call */

/* Configurations (region, app, machine) that have been in effect. */
#define MAX_STATES 256
static uint32_t states[MAX_STATES][3];
static unsigned int nstates;

static void publish_max(uint64_t v)
{
	uint64_t cur = __atomic_load_n(&shared_max, __ATOMIC_RELAXED);

	while (cur < v && !__atomic_compare_exchange_n(&shared_max, &cur, v,
			false, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
}

static bool state_known(uint64_t id)
{
	unsigned int n = __atomic_load_n(&nstates, __ATOMIC_ACQUIRE), i;
	struct fl_fields f;

	fl_split(&def_layout, id, &f);
	for (i = 0; i < n; i++)
		if (states[i][0] == f.region && states[i][1] == f.app &&
		    states[i][2] == f.machine)
			return true;
	return false;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t snap = 0, *dst;
	size_t want, i;
	long got;

	if (w->cpu >= 0 && !w->follow &&
	    (fl_pin_cpu(w->cpu) || sched_getcpu() != w->cpu))
		w->wrong_cpu++;
	while (!stop_workers && (!w->target || w->n < w->target)) {
		want = w->chunk;
		if (w->n < w->cap) {
			dst = w->ids + w->n;
			if (want > w->cap - w->n)
				want = w->cap - w->n;
		} else {
			dst = w->scratch;
		}
		/* Fails while the CPU is offline: then run anywhere. */
		if (w->follow)
			fl_pin_cpu(w->cpu);
		if (w->check_shared)
			snap = __atomic_load_n(&shared_max, __ATOMIC_ACQUIRE);
		if (w->calls++ % 4 == 3)
			got = fl_read(w->fd, dst, want);
		else
			got = fl_batch(w->fd, dst, want, 0);
		if (got == -EINTR)
			continue;
		if (got <= 0) {
			w->err = got ? got : -ENODATA;
			break;
		}
		for (i = 0; i < (size_t)got; i++) {
			if (dst[i] <= w->last)
				w->not_increasing++;
			w->last = dst[i];
			if (w->check_config && !state_known(dst[i]))
				w->bad_config++;
		}
		if (w->check_shared && dst[0] <= snap)
			w->not_above_shared++;
		publish_max(dst[got - 1]);
		w->fetched += got;
		if (dst != w->scratch)
			w->n += got;
		if (w->pause_us)
			usleep(w->pause_us);
	}
	return NULL;
}

static int online_cpus(int *cpus, int max)
{
	cpu_set_t set;
	int cpu, n = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	for (cpu = 0; cpu < CPU_SETSIZE && n < max; cpu++)
		if (CPU_ISSET(cpu, &set))
			cpus[n++] = cpu;
	return n;
}

/* Start @nw workers; each gets its slice of @all (cap IDs each). */
static int start_workers(struct worker *w, int nw, uint64_t *all, size_t cap)
{
	int i;

	stop_workers = false;
	__atomic_store_n(&shared_max, 0, __ATOMIC_RELEASE);
	for (i = 0; i < nw; i++) {
		w[i].ids = all + (size_t)i * cap;
		w[i].cap = cap;
		w[i].scratch = calloc(w[i].chunk, sizeof(uint64_t));
		if (!w[i].scratch)
			return -ENOMEM;
		if (pthread_create(&w[i].th, NULL, worker_main, &w[i]))
			return -EAGAIN;
	}
	return 0;
}

/* Wait for the workers; with @stop, tell them to finish first. */
static void join_workers(struct worker *w, int nw, bool stop)
{
	int i;

	if (stop)
		stop_workers = true;
	for (i = 0; i < nw; i++) {
		pthread_join(w[i].th, NULL);
		free(w[i].scratch);
		w[i].scratch = NULL;
	}
}

/* Per-thread results, then every stored ID unique across threads. */
static void check_workers(struct __test_metadata *_metadata, struct worker *w,
			  int nw, uint64_t *all, size_t cap)
{
	size_t total = 0, dups;
	int i;

	for (i = 0; i < nw; i++) {
		EXPECT_EQ(0L, w[i].err) TH_LOG("thread %d: %s", i, strerror((int)-w[i].err));
		EXPECT_EQ(0ULL, (unsigned long long)w[i].not_increasing)
			TH_LOG("thread %d", i);
		EXPECT_EQ(0ULL, (unsigned long long)w[i].not_above_shared)
			TH_LOG("thread %d", i);
		EXPECT_EQ(0ULL, (unsigned long long)w[i].bad_config)
			TH_LOG("thread %d", i);
		EXPECT_EQ(0ULL, (unsigned long long)w[i].wrong_cpu)
			TH_LOG("thread %d (cpu %d)", i, w[i].cpu);
		EXPECT_LT(0ULL, (unsigned long long)w[i].fetched) TH_LOG("thread %d", i);
		TH_LOG("thread %d (cpu %d%s): %llu IDs in %llu calls, %zu kept", i,
		       w[i].cpu, w[i].follow ? ", following" : "",
		       (unsigned long long)w[i].fetched,
		       (unsigned long long)w[i].calls, w[i].n);
		/* Compact the stored slices into one array. */
		if (w[i].n)
			memmove(all + total, all + (size_t)i * cap,
				w[i].n * sizeof(uint64_t));
		total += w[i].n;
	}
	dups = fl_count_dups(all, total);
	EXPECT_EQ(0UL, (unsigned long)dups) TH_LOG("%zu duplicates in %zu IDs", dups, total);
	TH_LOG("%zu IDs checked", total);
}

static int cpu_online_write(int cpu, const char *val)
{
	char path[96];
	int fd, ret = 0;

	snprintf(path, sizeof(path), CPU_ONLINE, cpu);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static void all_cpus_online(void)
{
	int cpu;

	for (cpu = 1; cpu < 64; cpu++)
		if (cpu_online_write(cpu, "1") == -ENOENT)
			break;
}

/* Wall-clock save/restore for the clock test (and its teardown). */

static bool clock_saved;
static struct timespec wall0, mono0;

static void save_wall_clock(void)
{
	clock_gettime(CLOCK_REALTIME, &wall0);
	clock_gettime(CLOCK_MONOTONIC, &mono0);
	clock_saved = true;
}

/* Put the wall clock back where it would be had nobody touched it. */
static int restore_wall_clock(void)
{
	struct timespec m, t;
	int64_t ns;

	if (!clock_saved)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &m);
	ns = (int64_t)(m.tv_sec - mono0.tv_sec) * 1000000000LL +
	     (m.tv_nsec - mono0.tv_nsec) + wall0.tv_nsec;
	t.tv_sec = wall0.tv_sec + ns / 1000000000LL;
	t.tv_nsec = ns % 1000000000LL;
	clock_saved = false;
	return clock_settime(CLOCK_REALTIME, &t) ? -errno : 0;
}

FIXTURE(stress) {
	int fd;
};

FIXTURE_SETUP(stress)
{
	struct flakeid_config c;

	self->fd = open(FLAKEID_DEVICE_PATH, O_RDONLY);
	ASSERT_LE(0, self->fd) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(0, fl_restore_defaults());
	ASSERT_EQ(0, fl_get_config(self->fd, &c));
	ASSERT_EQ(def_layout.ts, c.timestamp_bits);
	ASSERT_EQ(def_layout.seq, c.sequence_bits);
	ASSERT_EQ(def_layout.machine, c.machine_bits);
}

FIXTURE_TEARDOWN(stress)
{
	/* A clock test that stopped half-way must not leave the clock off. */
	EXPECT_EQ(0, restore_wall_clock());
	all_cpus_online();
	close(self->fd);
	EXPECT_EQ(0, fl_restore_defaults());
}

/* One pinned thread per CPU plus as many unpinned, each with its own fd. */
TEST_F_TIMEOUT(stress, all_cpus_unique, 300)
{
	const size_t total = 10000000;
	int cpus[64], ncpu, nw, i;
	struct worker w[128];
	uint64_t i0, r0, i1, r1;
	uint64_t *all;
	size_t per;

	ncpu = online_cpus(cpus, 64);
	ASSERT_LT(0, ncpu);
	nw = ncpu + (ncpu < 4 ? 4 : ncpu);
	per = total / nw + 1;
	all = malloc((size_t)nw * per * sizeof(uint64_t));
	ASSERT_TRUE(all != NULL);
	memset(w, 0, sizeof(w));
	for (i = 0; i < nw; i++) {
		w[i].fd = open(FLAKEID_DEVICE_PATH, O_RDONLY);
		ASSERT_LE(0, w[i].fd);
		w[i].cpu = i < ncpu ? cpus[i] : -1;
		w[i].chunk = 1000;
		w[i].target = per;
	}
	i0 = fl_sysfs_u64("ids_issued");
	r0 = fl_sysfs_u64("refills");
	ASSERT_EQ(0, start_workers(w, nw, all, per));
	join_workers(w, nw, false);
	for (i = 0; i < nw; i++) {
		close(w[i].fd);
		EXPECT_EQ(per, w[i].n) TH_LOG("thread %d", i);
	}
	i1 = fl_sysfs_u64("ids_issued");
	r1 = fl_sysfs_u64("refills");
	EXPECT_LE(i0 + (uint64_t)nw * per, i1);
	EXPECT_GE((i1 - i0) / 16, r1 - r0) {
		TH_LOG("%llu refills for %llu IDs", (unsigned long long)(r1 - r0),
		       (unsigned long long)(i1 - i0));
	}
	check_workers(_metadata, w, nw, all, per);
	free(all);
}

/*
 * Threads sharing one open file: each call returns IDs above every ID of
 * any call on that file that completed before it started.
 */
TEST_F_TIMEOUT(stress, shared_fd_ordering, 300)
{
	const int nw = 8;
	const size_t per = 60000;
	struct worker w[8];
	uint64_t *all;
	int i;

	all = malloc(nw * per * sizeof(uint64_t));
	ASSERT_TRUE(all != NULL);
	memset(w, 0, sizeof(w));
	for (i = 0; i < nw; i++) {
		w[i].fd = self->fd;
		w[i].cpu = -1;
		w[i].chunk = 200 + 100 * i;
		w[i].target = per;
		w[i].check_shared = true;
	}
	ASSERT_EQ(0, start_workers(w, nw, all, per));
	join_workers(w, nw, false);
	for (i = 0; i < nw; i++)
		EXPECT_EQ(per, w[i].n) TH_LOG("thread %d", i);
	check_workers(_metadata, w, nw, all, per);
	free(all);
}

/*
 * One file read one ID at a time by threads pinned to different CPUs: the
 * order and uniqueness above, and the file served from a block of its own.
 * Per-CPU blocks would each lie below the IDs another CPU just returned
 * through the file and be replaced on nearly every call (0.2 to 0.6
 * shared-allocator touches per ID were measured); a file's own block is
 * replaced when it runs out (every 64 IDs at most, in this layout), when
 * its millisecond is over, or once per CPU before the file is found
 * shared.  The bound counts all three, so it holds at any speed.
 */
TEST_F_TIMEOUT(stress, shared_fd_one_id_reads, 300)
{
	const size_t cap = 400000;
	int cpus[4], ncpu, i;
	struct worker w[4];
	uint64_t i0, r0, i1, r1, bound, fetched = 0;
	int64_t t0, ms;
	uint64_t *all;

	ncpu = online_cpus(cpus, 4);
	if (ncpu < 2)
		SKIP(return, "needs 2 CPUs, has %d", ncpu);
	all = malloc(ncpu * cap * sizeof(uint64_t));
	ASSERT_TRUE(all != NULL);
	memset(w, 0, sizeof(w));
	for (i = 0; i < ncpu; i++) {
		w[i].fd = self->fd;
		w[i].cpu = cpus[i];
		w[i].chunk = 1;
		w[i].check_shared = true;
	}
	i0 = fl_sysfs_u64("ids_issued");
	r0 = fl_sysfs_u64("refills");
	t0 = fl_now_ms(CLOCK_MONOTONIC);
	/* Long enough for all of them to run at once. */
	ASSERT_EQ(0, start_workers(w, ncpu, all, cap));
	fl_sleep_ms(1000);
	join_workers(w, ncpu, true);
	ms = fl_now_ms(CLOCK_MONOTONIC) - t0;
	i1 = fl_sysfs_u64("ids_issued");
	r1 = fl_sysfs_u64("refills");
	for (i = 0; i < ncpu; i++) {
		EXPECT_LT(1000ULL, (unsigned long long)w[i].fetched)
			TH_LOG("thread %d", i);
		fetched += w[i].fetched;
	}
	EXPECT_EQ(fetched, i1 - i0);
	bound = (i1 - i0) / 64 + (uint64_t)ms + 1 + 2 * (uint64_t)ncpu;
	EXPECT_GE(bound, r1 - r0) {
		TH_LOG("%llu refills for %llu IDs in %lld ms, bound %llu",
		       (unsigned long long)(r1 - r0),
		       (unsigned long long)(i1 - i0), (long long)ms,
		       (unsigned long long)bound);
	}
	TH_LOG("%llu refills for %llu IDs in %lld ms",
	       (unsigned long long)(r1 - r0), (unsigned long long)(i1 - i0),
	       (long long)ms);
	check_workers(_metadata, w, ncpu, all, cap);
	free(all);
	/* Below this rate per-CPU blocks alone would stay within the bound. */
	if (i1 - i0 < 20 * (uint64_t)ms)
		SKIP(return, "%llu IDs in %lld ms: too slow to tell blocks apart",
		     (unsigned long long)(i1 - i0), (long long)ms);
}

/*
 * A thread that moves between CPUs can make its files look shared (a
 * CPU's block below the ID another CPU just gave); such a file gets a
 * block of its own.  Read rarely afterwards, it must not spend a block
 * per millisecond: 48 files, each read 40 times while the thread hops
 * between two CPUs, then read in turn, once a millisecond, from one CPU.
 * Refills stay within what per-CPU blocks need (one a millisecond, one a
 * block, a few per file to switch back) and nothing borrows ahead; with
 * every moved file keeping a full block, 0.4 refills per ID and 1,582
 * borrowed milliseconds in 2 s were measured.
 */
TEST_F_TIMEOUT(stress, moved_reader_files_do_not_waste, 120)
{
	enum { NF = 48 };
	int fd[NF], cpus[2], i, k;
	uint64_t id, last[NF], i0, r0, b0, i1, r1, b1, bound, bad = 0;
	int64_t t0, ms;

	if (online_cpus(cpus, 2) < 2)
		SKIP(return, "needs 2 CPUs");
	for (i = 0; i < NF; i++) {
		fd[i] = open(FLAKEID_DEVICE_PATH, O_RDONLY);
		ASSERT_LE(0, fd[i]);
		last[i] = 0;
	}
	for (i = 0; i < NF; i++) {
		for (k = 0; k < 40; k++) {
			ASSERT_EQ(0, fl_pin_cpu(cpus[k & 1]));
			ASSERT_EQ(1L, fl_read(fd[i], &id, 1));
			if (id <= last[i])
				bad++;
			last[i] = id;
		}
	}
	ASSERT_EQ(0, fl_pin_cpu(cpus[0]));
	i0 = fl_sysfs_u64("ids_issued");
	r0 = fl_sysfs_u64("refills");
	b0 = fl_sysfs_u64("borrowed_ms");
	t0 = fl_now_ms(CLOCK_MONOTONIC);
	while (fl_now_ms(CLOCK_MONOTONIC) - t0 < 2000) {
		for (i = 0; i < NF; i++) {
			ASSERT_EQ(1L, fl_read(fd[i], &id, 1));
			if (id <= last[i])
				bad++;
			last[i] = id;
		}
		usleep(1000);
	}
	ms = fl_now_ms(CLOCK_MONOTONIC) - t0;
	i1 = fl_sysfs_u64("ids_issued");
	r1 = fl_sysfs_u64("refills");
	b1 = fl_sysfs_u64("borrowed_ms");
	for (i = 0; i < NF; i++)
		close(fd[i]);
	EXPECT_EQ(0ULL, (unsigned long long)bad);
	bound = (i1 - i0) / 64 + (uint64_t)ms + 2 * NF + 8;
	EXPECT_GE(bound, r1 - r0);
	EXPECT_GE(100ULL, (unsigned long long)(b1 - b0));
	TH_LOG("%llu refills (bound %llu), %llu borrowed ms for %llu IDs in %lld ms",
	       (unsigned long long)(r1 - r0), (unsigned long long)bound,
	       (unsigned long long)(b1 - b0), (unsigned long long)(i1 - i0),
	       (long long)ms);
}

/*
 * Readers keep going while CPUs go offline and come back: some unpinned,
 * one following each hot-plugged CPU (pinned to it whenever it is online,
 * so calls run on it right up to the moment it goes and as soon as it is
 * back, with whatever per-CPU state it kept).
 */
TEST_F_TIMEOUT(stress, cpu_hotplug, 300)
{
	const size_t cap = 800000;
	int cpu, ncpu, round, offlined = 0, failed = 0, i, ret, nw;
	struct worker w[8];
	int64_t t0;
	uint64_t *all;
	char path[96];

	ncpu = (int)sysconf(_SC_NPROCESSORS_CONF);
	if (ncpu > 4)
		ncpu = 4;
	snprintf(path, sizeof(path), CPU_ONLINE, 1);
	if (ncpu < 2 || access(path, W_OK))
		SKIP(return, "no hot-pluggable CPU (%s)", path);

	nw = 4 + ncpu - 1;
	all = malloc(nw * cap * sizeof(uint64_t));
	ASSERT_TRUE(all != NULL);
	memset(w, 0, sizeof(w));
	for (i = 0; i < nw; i++) {
		w[i].fd = open(FLAKEID_DEVICE_PATH, O_RDONLY);
		ASSERT_LE(0, w[i].fd);
		w[i].cpu = i < 4 ? -1 : i - 3;
		w[i].follow = i >= 4;
		w[i].chunk = 512;
		w[i].pause_us = 200;
	}
	ASSERT_EQ(0, start_workers(w, nw, all, cap));
	t0 = fl_now_ms(CLOCK_MONOTONIC);
	for (round = 0; round < 6; round++) {
		for (cpu = 1; cpu < ncpu; cpu++) {
			ret = cpu_online_write(cpu, "0");
			if (ret) {
				failed++;
				TH_LOG("cpu%d offline: %s", cpu, strerror(-ret));
				continue;
			}
			offlined++;
			fl_sleep_ms(30);
			ret = cpu_online_write(cpu, "1");
			if (ret) {
				failed++;
				TH_LOG("cpu%d online: %s", cpu, strerror(-ret));
			}
			fl_sleep_ms(30);
		}
		if (fl_now_ms(CLOCK_MONOTONIC) - t0 > 20000)
			break;
	}
	join_workers(w, nw, true);
	all_cpus_online();
	for (i = 0; i < nw; i++)
		close(w[i].fd);
	TH_LOG("%d offline/online cycles in %lld ms", offlined,
	       (long long)(fl_now_ms(CLOCK_MONOTONIC) - t0));
	EXPECT_EQ(0, failed);
	EXPECT_LE(3, offlined);
	check_workers(_metadata, w, nw, all, cap);
	free(all);
}

/*
 * A writer cycles region/app/machine (decreases included) while readers
 * run.  Every ID decodes to a configuration that was in effect; an ID
 * fetched after a store returns exceeds every ID fetched before the store
 * started, and carries the new configuration.
 */
TEST_F_TIMEOUT(stress, reconfigure_under_load, 300)
{
	static const uint32_t seq[][3] = {
		{ 3, 5, 17 }, { 1, 2, 4 }, { 15, 7, 31 }, { 0, 1, 0 },
		{ 7, 0, 9 }, { 2, 6, 1 }, { 9, 3, 30 }, { 0, 0, 2 },
	};
	static const char *const names[] = { "region_id", "app_id", "machine_id" };
	const int nw = 4;
	const size_t cap = 1200000;
	uint32_t cur[3] = { 0, 0, 0 };
	unsigned int writes = 0, late = 0, wrong = 0, retries = 0;
	struct worker w[4];
	struct fl_fields f;
	int round, k, fld, i, wfd, tries;
	uint64_t snap, fresh, *all;
	long ret;

	/* The fixture restored ids 0:0:0, the first state. */
	nstates = 0;
	memcpy(states[nstates], cur, sizeof(cur));
	__atomic_store_n(&nstates, 1, __ATOMIC_RELEASE);

	all = malloc(nw * cap * sizeof(uint64_t));
	ASSERT_TRUE(all != NULL);
	wfd = open(FLAKEID_DEVICE_PATH, O_RDONLY);
	ASSERT_LE(0, wfd);
	memset(w, 0, sizeof(w));
	for (i = 0; i < nw; i++) {
		w[i].fd = open(FLAKEID_DEVICE_PATH, O_RDONLY);
		ASSERT_LE(0, w[i].fd);
		w[i].cpu = -1;
		w[i].chunk = 256;
		w[i].check_config = true;
	}
	ASSERT_EQ(0, start_workers(w, nw, all, cap));
	fl_sleep_ms(50);
	for (round = 0; round < 2; round++) {
		for (k = 0; k < (int)ARRAY_SIZE(seq); k++) {
			for (fld = 0; fld < 3; fld++) {
				cur[fld] = seq[k][fld];
				/* Publish the state before it can appear. */
				memcpy(states[nstates], cur, sizeof(cur));
				__atomic_store_n(&nstates, nstates + 1, __ATOMIC_RELEASE);

				snap = __atomic_load_n(&shared_max, __ATOMIC_ACQUIRE);
				ret = fl_sysfs_write_u64(names[fld], cur[fld]);
				/* Only borrowed ms far ahead may excuse a refusal. */
				for (tries = 0; ret == -ERANGE && tries < 20; tries++) {
					retries++;
					fl_sleep_ms(100);
					snap = __atomic_load_n(&shared_max, __ATOMIC_ACQUIRE);
					ret = fl_sysfs_write_u64(names[fld], cur[fld]);
				}
				if (ret <= 0) {
					TH_LOG("%s <- %u: %s", names[fld], cur[fld],
					       strerror((int)-ret));
					goto out;
				}
				writes++;
				if (fl_read(wfd, &fresh, 1) != 1)
					goto out;
				if (fresh <= snap)
					late++;
				fl_split(&def_layout, fresh, &f);
				if (f.region != cur[0] || f.app != cur[1] ||
				    f.machine != cur[2]) {
					wrong++;
					TH_LOG("after %s <- %u got %u:%u:%u",
					       names[fld], cur[fld], f.region,
					       f.app, f.machine);
				}
				fl_sleep_ms(20);
			}
		}
	}
out:
	join_workers(w, nw, true);
	for (i = 0; i < nw; i++)
		close(w[i].fd);
	close(wfd);
	TH_LOG("%u stores, %u ERANGE retries", writes, retries);
	EXPECT_EQ(2 * ARRAY_SIZE(seq) * 3, (size_t)writes);
	EXPECT_EQ(0U, late);
	EXPECT_EQ(0U, wrong);
	check_workers(_metadata, w, nw, all, cap);
	free(all);
}

/* ---- UUIDs under live reconfiguration ---------------------------------- */

struct uuid_reader {
	pthread_t th;
	int fd;
	bool ids;		/* read IDs instead, to share the slots */
	struct fl_uuid *out;	/* stored UUIDs, up to cap */
	size_t cap, n;
	uint64_t not_increasing, not_above_shared;
	long err;
};

static pthread_mutex_t uuid_max_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fl_uuid uuid_max;	/* highest UUID of a completed call */

static void uuid_max_get(struct fl_uuid *u)
{
	pthread_mutex_lock(&uuid_max_lock);
	*u = uuid_max;
	pthread_mutex_unlock(&uuid_max_lock);
}

static void *uuid_reader_main(void *arg)
{
	struct uuid_reader *r = arg;
	struct fl_uuid buf[256], snap, last;
	uint64_t ids[256];
	long n, i;

	memset(&last, 0, sizeof(last));
	while (!stop_workers) {
		if (r->ids) {
			n = fl_batch(r->fd, ids, 256, 0);
			if (n <= 0 && !r->err)
				r->err = n ? n : -EPROTO;
			continue;
		}
		uuid_max_get(&snap);
		n = fl_uuid_batch(r->fd, buf, 256, 0);
		if (n <= 0) {
			if (!r->err)
				r->err = n ? n : -EPROTO;
			continue;
		}
		/* Above every call on the file completed before this began. */
		if (fl_uuid_cmp(&buf[0], &snap) <= 0)
			r->not_above_shared++;
		for (i = 0; i < n; i++) {
			if (fl_uuid_cmp(&buf[i], &last) <= 0)
				r->not_increasing++;
			last = buf[i];
		}
		pthread_mutex_lock(&uuid_max_lock);
		if (fl_uuid_cmp(&last, &uuid_max) > 0)
			uuid_max = last;
		pthread_mutex_unlock(&uuid_max_lock);
		i = (long)(r->cap - r->n) < n ? (long)(r->cap - r->n) : n;
		memcpy(r->out + r->n, buf, i * sizeof(*buf));
		r->n += i;
	}
	return NULL;
}

/*
 * Four threads take UUIDs through one file (a fifth takes IDs from the
 * same slots) while node ids, the layout and the epoch (back: forward is
 * refused while readers keep the allocator borrowing) change under them.
 * Every UUID read after a store that changes the configuration, on a
 * fresh file, is above every UUID of a call completed before it; every call's UUIDs are above those of calls
 * on the shared file completed before it began (per-file order: across
 * files it holds only across a store); no two share unix_ts_ms and
 * counter.
 */
TEST_F_TIMEOUT(stress, uuid_reconfigure_under_load, 300)
{
	static const char *const stores[][2] = {
		{ "machine_id", "9" }, { "region_id", "3" }, { "app_id", "5" },
		{ "machine_id", "0" }, { "layout", "41:4:3:6:9" },
		{ "epoch_ms", "1704067199000" }, { "machine_id", "40" },
		{ "region_id", "0" }, { "app_id", "0" },
		{ "region_id", "1" }, { "machine_id", "0" },
		{ "layout", "41:4:3:5:10" },
	};
	const int nr = 5;
	const size_t cap = 400000;
	struct uuid_reader r[5];
	struct fl_uuid snap, fresh, *all;
	unsigned int late = 0, writes = 0;
	const char *val;
	size_t total = 0, k, dups = 0;
	int round, i, nfd, tries, shared;
	long ret;

	all = malloc(nr * cap * sizeof(*all));
	ASSERT_TRUE(all != NULL);
	memset(&uuid_max, 0, sizeof(uuid_max));
	stop_workers = false;
	memset(r, 0, sizeof(r));
	shared = open(FLAKEID_UUID7_DEVICE_PATH, O_RDONLY);
	ASSERT_LE(0, shared);
	for (i = 0; i < nr; i++) {
		r[i].fd = i ? shared : open(FLAKEID_DEVICE_PATH, O_RDONLY);
		ASSERT_LE(0, r[i].fd);
		r[i].ids = !i;
		r[i].out = all + i * cap;
		r[i].cap = cap;
		ASSERT_EQ(0, pthread_create(&r[i].th, NULL, uuid_reader_main,
					    &r[i]));
	}
	fl_sleep_ms(50);
	for (round = 0; round < 2; round++) {
		for (k = 0; k < ARRAY_SIZE(stores); k++) {
			/*
			 * Each store a change: one that changes nothing
			 * orders nothing across files.  The epoch moves
			 * back one second more in the second round.
			 */
			val = stores[k][1];
			if (round && !strcmp(stores[k][0], "epoch_ms"))
				val = "1704067198000";
			uuid_max_get(&snap);
			ret = fl_sysfs_write(stores[k][0], val);
			/* Only borrowed ms far ahead may excuse a refusal. */
			for (tries = 0; ret == -ERANGE && tries < 30; tries++) {
				fl_sleep_ms(100);
				uuid_max_get(&snap);
				ret = fl_sysfs_write(stores[k][0], val);
			}
			if (ret <= 0) {
				TH_LOG("%s <- %s: %s", stores[k][0], val,
				       strerror((int)-ret));
				goto out;
			}
			writes++;
			nfd = open(FLAKEID_UUID7_DEVICE_PATH, O_RDONLY);
			if (nfd < 0 || fl_uuid_read(nfd, &fresh, 1) != 1)
				goto out;
			close(nfd);
			if (fl_uuid_cmp(&fresh, &snap) <= 0)
				late++;
			fl_sleep_ms(20);
		}
	}
out:
	stop_workers = true;
	for (i = 0; i < nr; i++)
		pthread_join(r[i].th, NULL);
	close(r[0].fd);
	close(shared);
	stop_workers = false;
	EXPECT_EQ(2 * ARRAY_SIZE(stores), (size_t)writes);
	EXPECT_EQ(0U, late);
	for (i = 0; i < nr; i++) {
		EXPECT_EQ(0L, r[i].err) TH_LOG("reader %d", i);
		EXPECT_EQ(0ULL, (unsigned long long)r[i].not_increasing);
		EXPECT_EQ(0ULL, (unsigned long long)r[i].not_above_shared);
		if (i) {
			memmove(all + total, r[i].out, r[i].n * sizeof(*all));
			total += r[i].n;
		}
	}
	EXPECT_LT((size_t)10000, total);
	/* Equal (unix_ts_ms, counter), whatever the random bits: a slot twice. */
	qsort(all, total, sizeof(*all), fl_uuid_cmp);
	for (k = 1; k < total; k++)
		if (!memcmp(&all[k - 1], &all[k], 12))
			dups++;
	TH_LOG("%u stores, %zu UUIDs kept, %zu slots repeated", writes, total,
	       dups);
	EXPECT_EQ((size_t)0, dups);
	free(all);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* ---- the ceiling moving under load --------------------------------------- */

/*
 * The ceiling as the controller publishes it: a raise is published before
 * it is stored, a lowering after, so a call that starts and ends with the
 * same ceil_seq may return no ID above ceil_value.
 */
static unsigned long ceil_seq;
static uint64_t ceil_value, ceil_max;

static void ceil_publish(uint64_t v)
{
	__atomic_store_n(&ceil_value, v, __ATOMIC_RELAXED);
	if (v > __atomic_load_n(&ceil_max, __ATOMIC_RELAXED))
		__atomic_store_n(&ceil_max, v, __ATOMIC_RELAXED);
	__atomic_add_fetch(&ceil_seq, 1, __ATOMIC_RELEASE);
}

static int ceil_set(uint64_t v)
{
	char buf[32];
	bool raise = v > __atomic_load_n(&ceil_value, __ATOMIC_RELAXED);
	long ret;

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	if (raise)
		ceil_publish(v);
	ret = fl_sysfs_write("until_ms", buf);
	if (!raise)
		ceil_publish(v);
	return ret < 0 ? (int)ret : 0;
}

struct ceil_reader {
	pthread_t th;
	int fd, cpu;
	uint64_t *ids;
	size_t cap, n;
	uint64_t last, over, loose_over, refused, not_increasing;
	long err;
};

/* The default layout and 41:0:0:8:14 both shift the timestamp by 22. */
static uint64_t ts_of(uint64_t id)
{
	struct fl_fields f;

	fl_split(&def_layout, id, &f);
	return f.ts + FLAKEID_DEFAULT_EPOCH_MS;
}

static void *ceil_reader_main(void *arg)
{
	struct ceil_reader *r = arg;
	unsigned long seq0;
	uint64_t limit, top;
	unsigned int calls = 0;
	long got;
	size_t i;

	if (r->cpu >= 0)
		fl_pin_cpu(r->cpu);
	while (!stop_workers && r->n < r->cap) {
		size_t want = r->cap - r->n < 512 ? r->cap - r->n : 512;

		seq0 = __atomic_load_n(&ceil_seq, __ATOMIC_ACQUIRE);
		limit = __atomic_load_n(&ceil_value, __ATOMIC_RELAXED);
		if (calls++ % 3 == 2)
			got = fl_read(r->fd, r->ids + r->n, want);
		else
			got = fl_batch(r->fd, r->ids + r->n, want,
				       calls % 2 ? FLAKEID_BATCH_NONBLOCK : 0);
		if (got == -EKEYEXPIRED || got == -EAGAIN || got == -EINTR) {
			r->refused++;
			continue;
		}
		if (got <= 0) {
			r->err = got ? got : -ENODATA;
			break;
		}
		for (i = 0; i < (size_t)got; i++) {
			if (r->ids[r->n + i] <= r->last)
				r->not_increasing++;
			r->last = r->ids[r->n + i];
		}
		top = ts_of(r->last);
		if (__atomic_load_n(&ceil_seq, __ATOMIC_ACQUIRE) == seq0) {
			r->over += top > limit;
		} else {
			/* It moved during the call: any value it had counts. */
			r->loose_over += top > __atomic_load_n(&ceil_max,
							       __ATOMIC_RELAXED);
		}
		__atomic_store_n(&r->n, r->n + got, __ATOMIC_RELAXED);
	}
	return NULL;
}

/*
 * 10^7 IDs from 8 threads (four of them on one file) while the ceiling is
 * raised in small steps, lowered, fenced and unfenced: no ID above the
 * ceiling in force for the whole of the call that returned it, none
 * repeated, each thread's rising.
 */
TEST_F_TIMEOUT(stress, ceiling_under_load, 300)
{
	const size_t total = 10000000;
	struct ceil_reader r[8];
	int cpus[64], ncpu, i, step = 0;
	unsigned int lowered = 0, fenced = 0, raised = 0;
	uint64_t *all, over = 0, loose = 0, refused = 0;
	size_t per = total / 8, done, got = 0;
	int64_t now, t_end;

	ncpu = online_cpus(cpus, 64);
	ASSERT_LT(0, ncpu);
	all = malloc(total * sizeof(uint64_t));
	ASSERT_TRUE(all != NULL);
	/*
	 * The same timestamp shift with a 14-bit sequence: 16,384 IDs a
	 * millisecond rather than 1,024, so the ceiling bounds the rate and
	 * 10^7 IDs take seconds, not minutes, even on a debug kernel.
	 */
	ASSERT_LT(0L, fl_sysfs_write_settled("layout", "41:0:0:8:14"));
	ASSERT_LT(0L, fl_sysfs_write("until_wait_ms", "20"));
	ceil_max = 0;
	ceil_value = FLAKEID_UNTIL_NONE;
	ASSERT_EQ(0, ceil_set((uint64_t)fl_idclock_ms() + 20));
	stop_workers = false;
	memset(r, 0, sizeof(r));
	/*
	 * Readers 0-3 have a file each (on CPUs 0-3); 4-7 share one, each on
	 * a CPU of its own where there are enough, so that file is served
	 * from a block of its own, which the ceiling must bind as well.
	 */
	for (i = 0; i < 8; i++) {
		r[i].fd = i <= 4 ? open(FLAKEID_DEVICE_PATH, O_RDONLY) : r[4].fd;
		ASSERT_LE(0, r[i].fd);
		r[i].cpu = i < 4 ? (i < ncpu ? cpus[i] : -1) : cpus[(i - 4) % ncpu];
		r[i].ids = all + (size_t)i * per;
		r[i].cap = per;
		ASSERT_EQ(0, pthread_create(&r[i].th, NULL, ceil_reader_main, &r[i]));
	}
	/* Bounded: at most 200 s, well inside the test's timeout. */
	t_end = fl_now_ms(CLOCK_MONOTONIC) + 200000;
	for (step = 0; fl_now_ms(CLOCK_MONOTONIC) < t_end; step++) {
		for (i = 0, done = 0; i < 8; i++)
			done += __atomic_load_n(&r[i].n, __ATOMIC_RELAXED) == per;
		if (done == 8)
			break;
		now = fl_idclock_ms();
		/* Of every 20 steps: 10 raises, 6 fenced, 4 lowered. */
		if (step % 20 == 10) {
			ASSERT_EQ(0, ceil_set(0));
			fenced++;
		} else if (step % 20 == 16) {
			ASSERT_EQ(0, ceil_set((uint64_t)now - 5));
			lowered++;
		} else if (step % 20 < 10) {
			ASSERT_EQ(0, ceil_set((uint64_t)now + 3 + step % 7));
			raised++;
		}
		fl_sleep_ms(2);
	}
	stop_workers = true;
	for (i = 0; i < 8; i++) {
		pthread_join(r[i].th, NULL);
		if (i <= 4)
			close(r[i].fd);
		EXPECT_EQ(0L, r[i].err) TH_LOG("thread %d: %s", i, strerror((int)-r[i].err));
		EXPECT_EQ(0ULL, (unsigned long long)r[i].not_increasing);
		over += r[i].over;
		loose += r[i].loose_over;
		refused += r[i].refused;
		memmove(all + got, r[i].ids, r[i].n * sizeof(uint64_t));
		got += r[i].n;
	}
	TH_LOG("%zu IDs in %d steps: %u raises, %u lowerings, %u fences; %llu calls refused",
	       got, step, raised, lowered, fenced, (unsigned long long)refused);
	EXPECT_EQ(total, got);
	EXPECT_EQ(0ULL, (unsigned long long)over);
	EXPECT_EQ(0ULL, (unsigned long long)loose);
	EXPECT_LT(0U, fenced);
	EXPECT_LT(0ULL, (unsigned long long)refused);
	EXPECT_EQ(0UL, (unsigned long)fl_count_dups(all, got));
	fl_sysfs_write("until_ms", "none");
	free(all);
}

/*
 * Read @n IDs with a stall guard: returns the count or -errno, and the
 * time it took in *@ms.  A read stuck for 10 s is interrupted (EINTR).
 */
static long timed_read(int fd, uint64_t *ids, size_t n, int64_t *ms)
{
	struct itimerval it = { .it_value = { 10, 0 } }, off = { 0 };
	int64_t t0 = fl_now_ms(CLOCK_MONOTONIC);
	long ret;

	setitimer(ITIMER_REAL, &it, NULL);
	ret = fl_read(fd, ids, n);
	setitimer(ITIMER_REAL, &off, NULL);
	*ms = fl_now_ms(CLOCK_MONOTONIC) - t0;
	return ret;
}

/* ---- unprivileged hogs at the borrow limit ------------------------------ */

#define HOGS		3
#define HOG_UID		65534
#define HOG_SECS	3
#define HOG_BORROW_MS	200
#define SKEW_SLACK_MS	20	/* ms rounding of ahead_ms and the wall clock */
#define VICTIM_MAX	65536

struct hog {
	int dropped;		/* ran as HOG_UID, without root's groups */
	long err;		/* first unexpected -errno */
	uint64_t calls, ids;
};

/* A hog: drop to nobody, then read 2^20-ID buffers until the deadline. */
static void hog_main(struct hog *h, int64_t until_ms)
{
	size_t len = (size_t)FLAKEID_BATCH_MAX * sizeof(uint64_t);
	uint64_t *buf;
	long n;
	int fd;

	if (setgroups(0, NULL) || setgid(HOG_UID) || setuid(HOG_UID) ||
	    geteuid() != HOG_UID) {
		h->err = -errno;
		_exit(1);
	}
	h->dropped = 1;
	buf = malloc(len);
	fd = open(FLAKEID_DEVICE_PATH, O_RDONLY);
	if (!buf || fd < 0) {
		h->err = -errno;
		_exit(1);
	}
	while (fl_now_ms(CLOCK_MONOTONIC) < until_ms) {
		n = fl_read(fd, buf, FLAKEID_BATCH_MAX);
		if (n <= 0) {
			if (n == -EINTR)
				continue;
			h->err = n ? n : -ENODATA;
			_exit(1);
		}
		h->calls++;
		h->ids += n;
	}
	_exit(0);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * Any user can keep the allocator at the borrow limit with 2^20-ID reads.
 * What must hold then: every other reader still gets IDs (no starvation),
 * and no ID is stamped more than max_borrow_ms ahead of the ID clock.
 * The latencies and skews are logged as notes, not asserted: they depend
 * on the host.  The skew of an ID is its timestamp minus the ID clock
 * read just after the call returned, an upper bound on how far ahead of
 * the clock it was stamped.
 */
TEST_F_TIMEOUT(stress, unprivileged_hogs, 120)
{
	struct itimerval guard = { .it_value = { 10, 0 } }, off = { 0 };
	struct sigaction sa = { .sa_handler = on_alarm };
	int64_t *lat, *skew, until, t0, t1, clk, worst_lat = 0, worst_skew = INT64_MIN;
	uint64_t id, waits0, waits1, hog_ids = 0;
	struct flakeid_decode d;
	pid_t pid[HOGS] = { 0 };
	struct hog *hogs;
	size_t nv = 0, over_skew = 0, slow = 0;
	int i, status, reads = 0;
	long n = 1;
	char buf[32];

	if (geteuid() != 0)
		SKIP(return, "needs root to drop to uid %d and set max_borrow_ms", HOG_UID);
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	hogs = mmap(NULL, sizeof(*hogs) * HOGS, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hogs);
	lat = calloc(VICTIM_MAX, sizeof(*lat));
	skew = calloc(VICTIM_MAX, sizeof(*skew));
	ASSERT_NE(NULL, lat);
	ASSERT_NE(NULL, skew);
	snprintf(buf, sizeof(buf), "%d", HOG_BORROW_MS);
	ASSERT_LT(0L, fl_sysfs_write("max_borrow_ms", buf));
	fl_settle();
	waits0 = fl_sysfs_u64("waits");

	until = fl_now_ms(CLOCK_MONOTONIC) + HOG_SECS * 1000;
	for (i = 0; i < HOGS; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (!pid[i])
			hog_main(&hogs[i], until);
	}
	/* The victim: one-ID blocking reads, as long as the hogs run. */
	while (fl_now_ms(CLOCK_MONOTONIC) < until) {
		t0 = now_us();
		setitimer(ITIMER_REAL, &guard, NULL);
		n = fl_read(self->fd, &id, 1);
		setitimer(ITIMER_REAL, &off, NULL);
		t1 = now_us();
		clk = fl_idclock_ms();
		reads++;
		if (n != 1)
			break;
		if (t1 - t0 >= 2000000)
			slow++;
		if (t1 - t0 > worst_lat)
			worst_lat = t1 - t0;
		if (fl_decode(self->fd, id, &d)) {
			n = -errno;
			break;
		}
		if ((int64_t)d.unix_ms - clk > HOG_BORROW_MS + SKEW_SLACK_MS)
			over_skew++;
		if ((int64_t)d.unix_ms - clk > worst_skew)
			worst_skew = (int64_t)d.unix_ms - clk;
		if (nv < VICTIM_MAX) {
			lat[nv] = t1 - t0;
			skew[nv] = (int64_t)d.unix_ms - clk;
			nv++;
		}
	}
	for (i = 0; i < HOGS; i++) {
		ASSERT_EQ(pid[i], waitpid(pid[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
			TH_LOG("hog %d: status %#x, %s", i, status,
			       strerror((int)-hogs[i].err));
		EXPECT_EQ(1, hogs[i].dropped) TH_LOG("hog %d kept root", i);
		EXPECT_LT(0ULL, (unsigned long long)hogs[i].ids) TH_LOG("hog %d", i);
		TH_LOG("hog %d (uid %d): %llu IDs in %llu reads", i, HOG_UID,
		       (unsigned long long)hogs[i].ids,
		       (unsigned long long)hogs[i].calls);
		hog_ids += hogs[i].ids;
	}
	waits1 = fl_sysfs_u64("waits");

	/* No starvation: every blocking one-ID read completed, none stuck. */
	EXPECT_EQ(1L, n) TH_LOG("victim read %d: %s", reads, strerror((int)-n));
	EXPECT_EQ(0UL, (unsigned long)slow) TH_LOG("one-ID reads taking 2 s or more");
	EXPECT_LT(0UL, (unsigned long)nv);
	/* The skew: never more than max_borrow_ms ahead of the ID clock. */
	EXPECT_EQ(0UL, (unsigned long)over_skew)
		TH_LOG("IDs stamped more than %d + %d ms ahead (worst %lld ms)",
		       HOG_BORROW_MS, SKEW_SLACK_MS, (long long)worst_skew);
	if (nv) {
		qsort(lat, nv, sizeof(*lat), cmp_i64);
		qsort(skew, nv, sizeof(*skew), cmp_i64);
		TH_LOG("victim: %zu one-ID reads beside %llu hog IDs; latency median %.3f ms, max %.3f ms",
		       nv, (unsigned long long)hog_ids, lat[nv / 2] / 1000.0,
		       worst_lat / 1000.0);
		TH_LOG("skew (ID timestamp - ID clock), max_borrow_ms %d: min %lld, median %lld, max %lld ms",
		       HOG_BORROW_MS, (long long)skew[0], (long long)skew[nv / 2],
		       (long long)worst_skew);
	}
	TH_LOG("waits %llu -> %llu%s", (unsigned long long)waits0,
	       (unsigned long long)waits1,
	       waits1 > waits0 ? "" : " (the hogs never reached the limit: a slow host)");
	free(lat);
	free(skew);
	munmap(hogs, sizeof(*hogs) * HOGS);
	fl_settle();
}

/* ---- wall-clock steps (last: leaves the ID clock an hour ahead) --------- */

TEST_F_TIMEOUT(stress, clock_steps, 120)
{
	static const int64_t back[] = { 1, 5, 3600000 };
	struct sigaction sa = { .sa_handler = on_alarm };
	uint64_t ids[512], prev, c0, c1;
	struct flakeid_decode d;
	int64_t ms, ahead, wall;
	long n;
	size_t s;
	int k, i, ret;

	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	save_wall_clock();
	n = timed_read(self->fd, ids, 512, &ms);
	ASSERT_EQ(512L, n);
	prev = ids[511];

	for (s = 0; s < ARRAY_SIZE(back); s++) {
		c0 = fl_sysfs_u64("clock_steps_back");
		ret = fl_step_wall_clock(-back[s]);
		if (ret == -EPERM)
			SKIP(return, "cannot set the clock");
		ASSERT_EQ(0, ret);
		/* No stall, no repeat: each read is quick and increasing. */
		for (k = 0; k < 20; k++) {
			n = timed_read(self->fd, ids, 512, &ms);
			ASSERT_LT(0L, n) TH_LOG("step -%lld ms, read %d: %s",
						(long long)back[s], k, strerror((int)-n));
			EXPECT_GT(2000LL, (long long)ms) {
				TH_LOG("step -%lld ms: read %d took %lld ms",
				       (long long)back[s], k, (long long)ms);
			}
			for (i = 0; i < n; i++) {
				ASSERT_LT(prev, ids[i]) TH_LOG("step -%lld ms", (long long)back[s]);
				prev = ids[i];
			}
			fl_sleep_ms(10);
		}
		c1 = fl_sysfs_u64("clock_steps_back");
		TH_LOG("step -%lld ms: clock_steps_back %llu -> %llu", (long long)back[s],
		       (unsigned long long)c0, (unsigned long long)c1);
		EXPECT_LT(c0, c1) TH_LOG("step -%lld ms not counted", (long long)back[s]);
	}
	/* The ID clock kept running: about an hour ahead of the wall now. */
	ahead = fl_sysfs_s64("ahead_ms");
	EXPECT_LE(3590000LL, (long long)ahead);
	EXPECT_GE(3600000LL + 120000LL, (long long)ahead);
	ASSERT_EQ(0, fl_decode(self->fd, prev, &d));
	EXPECT_LE(fl_now_ms(CLOCK_REALTIME) + 3590000, (int64_t)d.unix_ms);

	/* Two hours forward: the ID clock follows the wall clock. */
	ASSERT_EQ(0, fl_step_wall_clock(2 * 3600000LL));
	for (k = 0; k < 5; k++) {
		n = timed_read(self->fd, ids, 64, &ms);
		ASSERT_LT(0L, n);
		EXPECT_GT(2000LL, (long long)ms);
		EXPECT_LT(prev, ids[0]);
		prev = ids[n - 1];
		ASSERT_EQ(0, fl_decode(self->fd, ids[0], &d));
		wall = fl_now_ms(CLOCK_REALTIME);
		EXPECT_GT(2000LL, llabs((long long)((int64_t)d.unix_ms - wall)))
			TH_LOG("decoded %llu, wall %lld", (unsigned long long)d.unix_ms,
			       (long long)wall);
		fl_sleep_ms(50);
	}
	ahead = fl_sysfs_s64("ahead_ms");
	EXPECT_GT(2000LL, llabs((long long)ahead)) TH_LOG("ahead_ms %lld", (long long)ahead);

	/* Back to the real time: a step back, the ID clock stays ahead. */
	ASSERT_EQ(0, restore_wall_clock());
	n = timed_read(self->fd, ids, 64, &ms);
	ASSERT_LT(0L, n);
	EXPECT_GT(2000LL, (long long)ms);
	EXPECT_LT(prev, ids[0]);
}

TEST_HARNESS_MAIN
