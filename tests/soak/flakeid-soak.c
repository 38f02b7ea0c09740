// SPDX-License-Identifier: GPL-2.0
/*
 * flakeid-soak: a long run of /dev/flakeid under everything that may go
 * wrong at once, then a proof that no ID was issued twice.
 *
 *   flakeid-soak [-n IDS] [-t MAX_SECONDS] [-r READERS] [-i EVENT_MS]
 *                [-m MODULE.ko] [-s SEED] [-T]
 *
 * READERS threads (default 2 per CPU) fetch IDs in batches until IDS
 * (default 10^8) have been fetched or MAX_SECONDS have passed, while a
 * controller thread, every EVENT_MS on average, does one of: change
 * region/app/machine, change the layout (to the same or a wider timestamp
 * shift, so it is accepted at run time), step the wall clock back or
 * forward, take a CPU offline or bring one back, or reload the module with
 * the saved floor_state (all readers close their files first).  A reload
 * may change the configuration: the epoch earlier by seconds or later by
 * less than a second, the layout to the same or a wider shift; before some
 * of them a load that must be refused (the epoch more than a second later,
 * a narrower shift) is tried first, and must fail.
 *
 * Once, after 2/5 of the IDs, the timestamp runs out: the module is
 * reloaded (floor_state given) with layout 32:0:0:0:31 and an epoch that
 * leaves the field about 3 s; readers then get EOVERFLOW, a pause while
 * that phase lasts (anywhere else it is a failure), until the controller
 * widens the layout to 33:0:0:0:31, at run time or by a reload with the
 * saved floor_state.  The soak goes on in 33-bit layouts from there.
 *
 * IDs are kept compactly: each reader appends to its own memory the
 * varint-coded difference to its previous ID (about 1-2 bytes an ID), one
 * run per open file; a run must strictly increase (checked on the fly).
 * At the end a k-way merge of all runs finds every duplicate with a few
 * bytes of memory per run.  The controller records every configuration
 * it set (layout, epoch, region, app, machine, and when), in order; in the
 * merged order each ID must decode under one of them to the fields it set
 * and a timestamp near the time it was in effect, and since a change keeps
 * every later ID above every earlier one, the configurations the IDs
 * decode to must follow the order they were set in.  The first ID of a
 * file opened after a reload must exceed every ID from before it.  Prints
 * its figures; exit 0 only with zero duplicates and zero violations.  -T
 * plants one duplicate and one ID from no configuration (the first ID
 * with its timestamp set to 1 ms) before the check, to prove the check
 * finds them (the run must then report exactly one of each and fail).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <linux/flakeid.h>
#include "flakeid_util.h"
#include "xorshift.h"

#define BATCH		4096
#define ARENA		(1ULL << 30)	/* virtual room per reader */
#define MAX_READERS	64
#define MAX_RUNS	(1 << 16)
#define SYS		FLAKEID_SYSFS_DIR "/"

/*
 * Layouts the soak moves between, T:R:A:M:S.  Family 0 runs under the
 * default epoch with shifts (R+A+M+S) 22 to 24; family 1 follows the
 * timestamp exhaustion, 33-bit timestamps with shift 31 (64 bits in all).
 * Changes stay within a family at the same or a wider shift.
 */
static const unsigned int layouts[][6] = {
	/* T, R, A, M, S, family */
	{ 41, 4, 3, 5, 10, 0 },
	{ 41, 2, 2, 4, 14, 0 },
	{ 41, 0, 0, 8, 14, 0 },
	{ 41, 3, 3, 3, 13, 0 },
	{ 40, 4, 3, 5, 11, 0 },
	{ 40, 0, 0, 8, 15, 0 },
	{ 39, 2, 2, 4, 16, 0 },
	{ 39, 4, 4, 4, 12, 0 },
	{ 33, 0, 0, 0, 31, 1 },
	{ 33, 1, 1, 1, 28, 1 },
	{ 33, 0, 0, 4, 27, 1 },
	{ 33, 2, 2, 2, 25, 1 },
	/* the timestamp that runs out: never chosen, only set by exhaust() */
	{ 32, 0, 0, 0, 31, 2 },
};
#define NLAYOUTS	(sizeof(layouts) / sizeof(layouts[0]))
#define L_WIDE		8		/* 33:0:0:0:31 */
#define L_EXHAUST	(NLAYOUTS - 1)
#define EXHAUST_MS	3000		/* how long 32:0:0:0:31 has left at load */

static unsigned int shift_of(unsigned int l)
{
	return layouts[l][1] + layouts[l][2] + layouts[l][3] + layouts[l][4];
}

/* ---- what was set ---- */

struct state {
	unsigned int layout, region, app, machine;
	int narrow;		/* a probe: T+1, S-1 of the layout */
	uint64_t epoch;
};

/* Every configuration in effect, in the order set; times on true_ms(). */
struct config {
	struct state s;
	int64_t from_ms, to_ms;
};

static struct config *configs;
static size_t nconfigs, configs_cap;
static struct state cur;
static int64_t wall0_ms, mono0_ms;

static int64_t clock_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The wall clock as it would read had the soak never stepped it. */
static int64_t true_ms(void)
{
	return wall0_ms + clock_ms(CLOCK_MONOTONIC) - mono0_ms;
}

/* Only the controller (and main, before it starts) records. */
static void record_state(void)
{
	int64_t now = true_ms();

	if (nconfigs == configs_cap) {
		configs_cap = configs_cap ? 2 * configs_cap : 4096;
		configs = realloc(configs, configs_cap * sizeof(*configs));
		if (!configs) {
			perror("soak: configs");
			exit(2);
		}
	}
	if (nconfigs)
		configs[nconfigs - 1].to_ms = now;
	configs[nconfigs].s = cur;
	configs[nconfigs].from_ms = now;
	configs[nconfigs].to_ms = INT64_MAX;
	nconfigs++;
}

/* ---- the runs readers keep ---- */

struct run {
	uint64_t start, end;	/* byte offsets in the reader's arena */
	uint64_t count;
	uint64_t above;		/* every ID must exceed this (0: no bound) */
};

struct reader {
	pthread_t thread;
	int idx;
	uint8_t *arena;
	uint64_t used;
	struct run runs[MAX_RUNS / MAX_READERS];
	unsigned int nruns;
	uint64_t last;		/* last ID of the current run */
	uint64_t ids;
	uint64_t order_bad;	/* IDs not above the previous one of their file */
	uint64_t above_bad;	/* first IDs after a reload not above the old ones */
	uint64_t errors;
	uint64_t overflow_bad;	/* EOVERFLOW outside the exhaustion phase */
	int parked;
};

static struct reader readers[MAX_READERS];
static int nreaders;
static volatile int stop, paused;
static int exhausting;			/* EOVERFLOW is expected now */
static uint64_t overflows;		/* EOVERFLOW pauses while exhausting */
static uint64_t reload_floor_id;	/* max ID before the last reload */
static uint64_t target = 100000000ULL;
static const char *module_path = "/flakeid.ko";

static void put_varint(struct reader *r, uint64_t v)
{
	uint8_t *p = r->arena + r->used;

	while (v >= 0x80) {
		*p++ = (v & 0x7f) | 0x80;
		v >>= 7;
	}
	*p++ = v;
	r->used = p - r->arena;
}

static uint64_t get_varint(const uint8_t **pp)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;
	int shift = 0;

	do {
		v |= (uint64_t)(*p & 0x7f) << shift;
		shift += 7;
	} while (*p++ & 0x80);
	*pp = p;
	return v;
}

static uint64_t total_ids(void)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < nreaders; i++)
		n += __atomic_load_n(&readers[i].ids, __ATOMIC_RELAXED);
	return n;
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	uint64_t *buf = malloc(BATCH * sizeof(*buf));
	struct flakeid_batch b;
	struct run *run = NULL;
	int fd = -1, exh;
	uint64_t i;

	while (!stop) {
		if (paused) {
			if (fd >= 0) {
				close(fd);
				fd = -1;
				run = NULL;
			}
			__atomic_store_n(&r->parked, 1, __ATOMIC_RELEASE);
			while (paused && !stop)
				usleep(1000);
			__atomic_store_n(&r->parked, 0, __ATOMIC_RELEASE);
			continue;
		}
		if (fd < 0) {
			fd = open(FLAKEID_DEVICE_PATH, O_RDONLY);
			if (fd < 0) {
				r->errors++;
				usleep(10000);
				continue;
			}
			if (r->nruns == sizeof(r->runs) / sizeof(r->runs[0]) ||
			    r->used + 2 * BATCH * 10 > ARENA) {
				fprintf(stderr, "soak: reader %d out of room\n", r->idx);
				r->errors++;
				stop = 1;
				break;
			}
			run = &r->runs[r->nruns++];
			run->start = run->end = r->used;
			run->count = 0;
			run->above = __atomic_load_n(&reload_floor_id, __ATOMIC_ACQUIRE);
			r->last = 0;
		}
		memset(&b, 0, sizeof(b));
		b.size = sizeof(b);
		b.count = BATCH;
		b.ids = (uintptr_t)buf;
		exh = __atomic_load_n(&exhausting, __ATOMIC_SEQ_CST);
		if (ioctl(fd, FLAKEID_IOC_BATCH, &b)) {
			if (errno == EOVERFLOW &&
			    (exh || __atomic_load_n(&exhausting, __ATOMIC_SEQ_CST))) {
				__atomic_fetch_add(&overflows, 1, __ATOMIC_RELAXED);
				usleep(1000);
			} else if (errno == EOVERFLOW) {
				r->overflow_bad++;
			} else if (errno != EINTR && errno != EAGAIN) {
				r->errors++;
			}
			continue;
		}
		for (i = 0; i < b.count; i++) {
			if (run->count == 0) {
				if (buf[i] <= run->above)
					r->above_bad++;
				put_varint(r, buf[i]);
			} else if (buf[i] > r->last) {
				put_varint(r, buf[i] - r->last);
			} else {
				/* Kept out of the run so the merge stays sorted. */
				r->order_bad++;
				continue;
			}
			r->last = buf[i];
			run->count++;
		}
		run->end = r->used;
		__atomic_fetch_add(&r->ids, b.count, __ATOMIC_RELAXED);
		/* The exhaustion phase runs to its end. */
		if (total_ids() >= __atomic_load_n(&target, __ATOMIC_RELAXED) &&
		    !__atomic_load_n(&exhausting, __ATOMIC_SEQ_CST))
			stop = 1;
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

/* ---- the controller ---- */

static uint64_t rng;

static uint64_t below(uint64_t n)
{
	return xorshift64s_below(&rng, n);
}

struct events {
	uint64_t node_sets, node_refused, layouts, layout_refused;
	uint64_t steps_back, steps_fwd, offline, online, hotplug_failed;
	uint64_t reloads, reload_failed;
	uint64_t reload_epoch_back, reload_epoch_fwd, reload_layouts;
	uint64_t refused_ok, refusal_missed;	/* loads and stores that must fail */
	uint64_t exhaustions, exhaust_failed, widen_sysfs, widen_reload;
	uint64_t module_steps_back, module_waits, module_borrowed;
};

static struct events ev;
static int64_t max_offset_ms;	/* the furthest the wall clock went ahead */
static int64_t epoch_fwd_ms;	/* all the later epochs added up */

/* Write a formatted value to the sysfs file at @path; 0 or -errno. */
__attribute__((format(printf, 2, 3)))
static int sysfs_write(const char *path, const char *fmt, ...)
{
	char val[64];
	va_list ap;
	long ret;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	ret = fl_file_write(path, val);
	return ret < 0 ? (int)ret : 0;
}

/* A counter of the module's, 0 when it cannot be read. */
static uint64_t counter(const char *name)
{
	uint64_t v = fl_sysfs_u64(name);

	return v == UINT64_MAX ? 0 : v;
}

static int set_node(const char *field, unsigned int *slot, unsigned int val)
{
	char name[64];
	int ret;

	snprintf(name, sizeof(name), SYS "%s", field);
	ret = sysfs_write(name, "%u", val);
	if (ret)
		return ret;
	*slot = val;
	record_state();
	return 0;
}

static void random_nodes(struct state *s)
{
	const unsigned int *l = layouts[s->layout];

	s->region = below(1U << l[1]);
	s->app = below(1U << l[2]);
	s->machine = below(1U << l[3]);
}

static void change_nodes(void)
{
	struct state to = cur;
	int bad = 0;

	random_nodes(&to);
	bad |= set_node("region_id", &cur.region, to.region);
	bad |= set_node("app_id", &cur.app, to.app);
	bad |= set_node("machine_id", &cur.machine, to.machine);
	if (bad)
		ev.node_refused++;
	else
		ev.node_sets++;
}

/*
 * Another layout of the current family with the same shift (mostly) or a
 * wider one; NLAYOUTS when there is none.
 */
static unsigned int pick_layout(void)
{
	unsigned int c[NLAYOUTS], n = 0, l, sh = shift_of(cur.layout);
	int same = below(8) != 0, pass;

	for (pass = 0; pass < 2 && !n; pass++, same = 0) {
		for (l = 0; l < NLAYOUTS; l++) {
			if (l == cur.layout || layouts[l][5] != layouts[cur.layout][5])
				continue;
			if (same ? shift_of(l) == sh : shift_of(l) >= sh)
				c[n++] = l;
		}
	}
	return n ? c[below(n)] : NLAYOUTS;
}

static void change_layout(void)
{
	unsigned int to = pick_layout();
	const unsigned int *l;
	int ret;

	if (to == NLAYOUTS)
		return;
	l = layouts[to];
	/* The ids must fit the new widths: zero them first. */
	if (set_node("region_id", &cur.region, 0) ||
	    set_node("app_id", &cur.app, 0) ||
	    set_node("machine_id", &cur.machine, 0)) {
		ev.layout_refused++;
		return;
	}
	ret = sysfs_write(SYS "layout", "%u:%u:%u:%u:%u", l[0], l[1], l[2], l[3], l[4]);
	if (ret) {
		fprintf(stderr, "soak: layout %u:%u:%u:%u:%u refused: %s\n",
			l[0], l[1], l[2], l[3], l[4], strerror(-ret));
		ev.layout_refused++;
		return;
	}
	cur.layout = to;
	record_state();
	ev.layouts++;
	change_nodes();
}

static int64_t clock_offset_ms;	/* how far we moved the wall clock, net */

static void step_clock(int64_t ms)
{
	struct timespec ts;
	int64_t ns;

	clock_gettime(CLOCK_REALTIME, &ts);
	ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec + ms * 1000000LL;
	ts.tv_sec = ns / 1000000000LL;
	ts.tv_nsec = ns % 1000000000LL;
	if (clock_settime(CLOCK_REALTIME, &ts))
		return;
	clock_offset_ms += ms;
	if (clock_offset_ms > max_offset_ms)
		max_offset_ms = clock_offset_ms;
	if (ms < 0)
		ev.steps_back++;
	else
		ev.steps_fwd++;
}

static void clock_event(void)
{
	static const int64_t sizes[] = { 1, 5, 50, 1000, 5000, 3600000 };
	int64_t ms = sizes[below(sizeof(sizes) / sizeof(sizes[0]))];

	/* Drift back towards the true time more often than away from it. */
	if (clock_offset_ms > 0)
		ms = below(3) ? -ms : ms;
	else if (clock_offset_ms < 0)
		ms = below(3) ? ms : -ms;
	else
		ms = below(2) ? ms : -ms;
	if (ms > 60000 && clock_offset_ms >= 0)
		ms = -ms;	/* the hour only ever goes back, then returns */
	if (clock_offset_ms < -60000 && below(2))
		ms = -clock_offset_ms;	/* the hour comes back */
	step_clock(ms);
}

static int ncpus;
static int offline_cpu[256];

static void hotplug_event(void)
{
	char name[96];
	int cpu = 1 + below(ncpus - 1), on = offline_cpu[cpu], n_off = 0, i;

	for (i = 1; i < ncpus; i++)
		n_off += offline_cpu[i];
	/* At most half the CPUs away at once. */
	if (!on && n_off >= ncpus / 2)
		return;
	snprintf(name, sizeof(name), "/sys/devices/system/cpu/cpu%d/online", cpu);
	if (sysfs_write(name, "%d", on)) {
		ev.hotplug_failed++;
		return;
	}
	offline_cpu[cpu] = !on;
	if (on)
		ev.online++;
	else
		ev.offline++;
}

static void add_module_counters(void)
{
	ev.module_steps_back += counter("clock_steps_back");
	ev.module_waits += counter("waits");
	ev.module_borrowed += counter("borrowed_ms");
}

/* Seconds on CLOCK_MONOTONIC: the soak steps the wall clock. */
static long mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Every reader closes its file; returns the largest ID read so far. */
static int park_readers(uint64_t *max)
{
	int i;

	paused = 1;
	for (i = 0; i < nreaders; i++)
		while (!__atomic_load_n(&readers[i].parked, __ATOMIC_ACQUIRE) && !stop)
			usleep(1000);
	if (stop) {
		paused = 0;
		return -1;
	}
	*max = 0;
	for (i = 0; i < nreaders; i++)
		if (readers[i].last > *max)
			*max = readers[i].last;
	return 0;
}

static void resume_readers(uint64_t max)
{
	__atomic_store_n(&reload_floor_id, max, __ATOMIC_RELEASE);
	paused = 0;
}

static int64_t floor_saved_ms;	/* CLOCK_MONOTONIC when it was read */

/* Save floor_state and unload; 0 or -1 (the module stays loaded). */
static int unload(char *floor, size_t len)
{
	add_module_counters();
	if (fl_sysfs_read("floor_state", floor, len))
		floor[0] = 0;
	floor_saved_ms = clock_ms(CLOCK_MONOTONIC);
	if (strncmp(floor, "floor_ms=", 9)) {
		fprintf(stderr, "soak: floor_state reads \"%s\"\n", floor);
		return -1;
	}
	if (syscall(SYS_delete_module, "flakeid", O_NONBLOCK)) {
		fprintf(stderr, "soak: rmmod: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* Load with the saved floor and configuration @s; 0 or -errno. */
static int load(const char *floor, const struct state *s)
{
	const unsigned int *l = layouts[s->layout];
	char params[512];
	int fd, ret;

	snprintf(params, sizeof(params),
		 "%s epoch_ms=%" PRIu64 " layout=%u:%u:%u:%u:%u region_id=%u app_id=%u machine_id=%u",
		 floor, s->epoch, l[0] + !!s->narrow, l[1], l[2], l[3], l[4] - !!s->narrow,
		 s->region, s->app, s->machine);
	fd = open(module_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return ret;
}

/*
 * A load that must be refused, against the floor's configuration (cur):
 * its epoch more than a second later, or a shift one bit narrower.  The
 * limit counts from the later of the floor and the clock, so the epoch
 * moves a second past the time since the floor was read, and more.  If
 * it is accepted anyway that is a failure; the module is unloaded again
 * (no reader ran) and its configuration recorded.
 */
static void try_refused_load(const char *floor)
{
	int64_t since = clock_ms(CLOCK_MONOTONIC) - floor_saved_ms;
	struct state bad = cur, keep;
	char scratch[256];

	random_nodes(&bad);
	if (below(2))
		bad.epoch += 2000 + since + below(4000);
	else
		bad.narrow = 1;
	if (load(floor, &bad)) {
		ev.refused_ok++;
		return;
	}
	fprintf(stderr, "soak: a load that must be refused was accepted: epoch %" PRIu64
		" layout %u%s (floor %s)\n", bad.epoch, bad.layout,
		bad.narrow ? " narrowed" : "", floor);
	ev.refusal_missed++;
	keep = cur;
	cur = bad;
	record_state();
	cur = keep;
	if (unload(scratch, sizeof(scratch)))
		stop = 1;
}

/*
 * Reload with the saved floor_state, new node ids and maybe a changed
 * epoch or layout; some reloads first try a load that must fail.
 */
static void reload(void)
{
	struct state to = cur;
	char floor[256];
	uint64_t max;
	int ret;

	if (park_readers(&max))
		return;
	if (unload(floor, sizeof(floor))) {
		ev.reload_failed++;
		paused = 0;
		return;
	}
	switch (below(4)) {
	case 0:
		to.epoch -= 1000 + below(9000);
		ev.reload_epoch_back++;
		break;
	case 1:
		to.epoch += 1 + below(999);
		epoch_fwd_ms += to.epoch - cur.epoch;
		ev.reload_epoch_fwd++;
		break;
	case 2:
		to.layout = pick_layout();
		if (to.layout == NLAYOUTS)
			to.layout = cur.layout;
		else
			ev.reload_layouts++;
		break;
	}
	random_nodes(&to);
	if (below(2))
		try_refused_load(floor);
	if (stop) {
		paused = 0;
		return;
	}
	ret = load(floor, &to);
	if (ret) {
		fprintf(stderr, "soak: load %s epoch %" PRIu64 " layout %u: %s; retrying as it was\n",
			floor, to.epoch, to.layout, strerror(-ret));
		ev.reload_failed++;
		to = cur;
		ret = load(floor, &to);
	}
	if (ret) {
		fprintf(stderr, "soak: load %s as it was: %s\n", floor, strerror(-ret));
		stop = 1;
		paused = 0;
		return;
	}
	cur = to;
	record_state();
	ev.reloads++;
	resume_readers(max);
}

/*
 * Run the timestamp out: reload with a 32-bit timestamp that has
 * EXHAUST_MS left, let readers reach EOVERFLOW, check that an epoch moved
 * forward is refused then, and widen to 33:0:0:0:31, at run time or by a
 * reload with the saved floor_state.
 */
static void exhaust(void)
{
	struct state to = { .layout = L_EXHAUST };
	uint64_t max, seen, floor_ms, now, ids0 = total_ids();
	char floor[256];
	long t0;
	int ret;

	/* Put the wall clock right: the phase is timed on it. */
	if (clock_offset_ms)
		step_clock(-clock_offset_ms);
	if (park_readers(&max))
		return;
	if (unload(floor, sizeof(floor))) {
		ev.exhaust_failed++;
		paused = 0;
		return;
	}
	/* The ID clock starts past the floor: count the time left from there. */
	now = clock_ms(CLOCK_REALTIME);
	floor_ms = strtoull(floor + 9, NULL, 10);
	if (floor_ms + 1 > now)
		now = floor_ms + 1;
	to.epoch = now - (1LL << 32) + EXHAUST_MS;
	ret = load(floor, &to);
	if (ret) {
		fprintf(stderr, "soak: load %s with layout 32:0:0:0:31 epoch %" PRIu64 ": %s\n",
			floor, to.epoch, strerror(-ret));
		ev.exhaust_failed++;
		if (load(floor, &cur))
			stop = 1;
		paused = 0;
		return;
	}
	cur = to;
	record_state();
	__atomic_store_n(&exhausting, 1, __ATOMIC_SEQ_CST);
	resume_readers(max);

	t0 = mono_s();
	while (!__atomic_load_n(&overflows, __ATOMIC_RELAXED) && mono_s() - t0 < 30)
		sleep_ms(10);
	seen = __atomic_load_n(&overflows, __ATOMIC_RELAXED);
	printf("soak: timestamp exhausted after %lds (%" PRIu64 " EOVERFLOW so far)\n",
	       mono_s() - t0, seen);
	fflush(stdout);
	if (!seen)
		ev.exhaust_failed++;
	sleep_ms(200);

	/* The allocator sits on the last millisecond: a later epoch is refused. */
	if (!sysfs_write(SYS "epoch_ms", "%" PRIu64, cur.epoch + 3000)) {
		fprintf(stderr, "soak: epoch_ms moved forward after EOVERFLOW: accepted\n");
		ev.refusal_missed++;
		cur.epoch += 3000;
		record_state();
	} else {
		ev.refused_ok++;
	}

	to = cur;
	to.layout = L_WIDE;
	if (below(2)) {
		ret = sysfs_write(SYS "layout", "33:0:0:0:31");
		if (!ret)
			ev.widen_sysfs++;
	} else if (!(ret = park_readers(&max))) {
		if (unload(floor, sizeof(floor))) {
			ret = -1;
			paused = 0;
		} else {
			ret = load(floor, &to);
			if (ret && load(floor, &cur))
				stop = 1;
			if (!ret)
				ev.widen_reload++;
			resume_readers(max);
		}
	}
	if (ret) {
		fprintf(stderr, "soak: widening to 33:0:0:0:31 after EOVERFLOW failed (%d)\n", ret);
		ev.exhaust_failed++;
		stop = 1;
	} else {
		cur = to;
		record_state();
		ev.exhaustions++;
	}
	/*
	 * 2^31 IDs a millisecond come fast: what the phase fetched does not
	 * count towards the target, so the soak goes on in the new layouts.
	 */
	__atomic_fetch_add(&target, total_ids() - ids0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&exhausting, 0, __ATOMIC_SEQ_CST);
	printf("soak: widened %s; the phase fetched %" PRIu64 " IDs, target now %" PRIu64 "\n",
	       ret ? "FAILED" : ev.widen_sysfs ? "at run time" : "by a reload",
	       total_ids() - ids0, target);
	fflush(stdout);
}

static void controller(long event_ms, long deadline)
{
	uint64_t last = 0, now;
	long t0 = mono_s(), tprint = t0;
	int exhaust_tried = 0;

	while (!stop) {
		sleep_ms(event_ms / 2 + below(event_ms));
		if (stop)
			break;
		if (!exhaust_tried && total_ids() >= target / 5 * 2) {
			exhaust_tried = 1;
			exhaust();
			continue;
		}
		switch (below(10)) {
		case 0: case 1: case 2: change_nodes(); break;
		case 3: change_layout(); break;
		case 4: case 5: clock_event(); break;
		case 6: case 7: hotplug_event(); break;
		default:
			if (below(2))
				reload();
			else
				change_nodes();
			break;
		}
		if (mono_s() >= deadline)
			stop = 1;
		if (mono_s() - tprint >= 30) {
			now = total_ids();
			printf("soak: %" PRIu64 " IDs after %lds (%.0f IDs/s lately), %" PRIu64
			       " reloads\n", now, mono_s() - t0,
			       (now - last) / (double)(mono_s() - tprint), ev.reloads);
			fflush(stdout);
			last = now;
			tprint = mono_s();
		}
	}
}

/* ---- verification ---- */

struct cursor {
	const uint8_t *p, *end;
	uint64_t v;
};

static int cursor_next(struct cursor *c, int first)
{
	if (c->p >= c->end)
		return 0;
	c->v = first ? get_varint(&c->p) : c->v + get_varint(&c->p);
	return 1;
}

static void heap_down(struct cursor **h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct cursor *t;

		if (l < n && h[l]->v < h[m]->v)
			m = l;
		if (r < n && h[r]->v < h[m]->v)
			m = r;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

/* Slack around a configuration's time for the ID clock's lead and lag. */
#define WINDOW_SLACK_MS	120000

/* Whether @id decodes under @c to the ids it set, near the time it held. */
static int id_matches(const struct config *c, uint64_t id)
{
	const unsigned int *l = layouts[c->s.layout];
	unsigned int tb = l[0] + !!c->s.narrow, sb = l[4] - !!c->s.narrow;
	unsigned int nb = l[1] + l[2] + l[3], sh = nb + sb;
	uint64_t ts = id >> sh, node = (id >> sb) & ((1ULL << nb) - 1);
	int64_t ms;

	if (tb + sh < 64 && ts >> tb)
		return 0;
	if (node != (((uint64_t)c->s.region << (l[2] + l[3])) |
		     ((uint64_t)c->s.app << l[3]) | c->s.machine))
		return 0;
	ms = (int64_t)(c->s.epoch + ts);
	return ms >= c->from_ms - WINDOW_SLACK_MS &&
	       (c->to_ms == INT64_MAX ||
		ms <= c->to_ms + WINDOW_SLACK_MS + max_offset_ms + epoch_fwd_ms);
}

struct verdict {
	uint64_t ids, dups, bad_config, config_order, runs;
};

/*
 * IDs come here in increasing order.  Each must decode to a recorded
 * configuration, and to one no earlier than the last ID's: the first
 * matching configuration at or after that one is taken (which leaves the
 * most room to the IDs after it).  *@k is that position.
 */
static void check_config(struct verdict *v, size_t *k, uint64_t id, int *shown)
{
	size_t j;

	for (j = *k; j < nconfigs; j++) {
		if (id_matches(&configs[j], id)) {
			*k = j;
			return;
		}
	}
	for (j = 0; j < *k; j++)
		if (id_matches(&configs[j], id))
			break;
	if (j < *k) {
		v->config_order++;
		if ((*shown)++ < 10)
			printf("soak: ID %#" PRIx64 " decodes only to configuration %zu, set before %zu\n",
			       id, j, *k);
	} else {
		v->bad_config++;
		if ((*shown)++ < 10)
			printf("soak: ID %#" PRIx64 " decodes to no configuration that was set\n", id);
	}
}

static struct verdict verify(void)
{
	struct verdict v = { 0 };
	struct cursor *cur_all, **heap;
	size_t n = 0, i, k = 0;
	uint64_t prev = 0;
	int have_prev = 0, j, shown = 0;

	for (j = 0; j < nreaders; j++)
		n += readers[j].nruns;
	cur_all = calloc(n, sizeof(*cur_all));
	heap = calloc(n, sizeof(*heap));
	n = 0;
	for (j = 0; j < nreaders; j++) {
		for (i = 0; i < readers[j].nruns; i++) {
			struct run *r = &readers[j].runs[i];
			struct cursor *c = &cur_all[n];

			c->p = readers[j].arena + r->start;
			c->end = readers[j].arena + r->end;
			if (cursor_next(c, 1))
				heap[n++] = c;
		}
	}
	v.runs = n;
	for (i = n / 2 + 1; i-- > 0;)
		heap_down(heap, n, i);
	while (n) {
		struct cursor *c = heap[0];

		v.ids++;
		if (have_prev && c->v == prev) {
			v.dups++;
			if (shown++ < 10)
				printf("soak: DUPLICATE ID %#" PRIx64 "\n", c->v);
		}
		if (!have_prev || c->v != prev)
			check_config(&v, &k, c->v, &shown);
		prev = c->v;
		have_prev = 1;
		if (!cursor_next(c, 0))
			heap[0] = heap[--n];
		heap_down(heap, n, 0);
	}
	free(heap);
	free(cur_all);
	return v;
}

int main(int argc, char **argv)
{
	long secs = 3600, event_ms = 500, start, took;
	struct verdict v;
	uint64_t order_bad = 0, above_bad = 0, errors = 0, overflow_bad = 0, bytes = 0;
	struct flakeid_config c = { .size = sizeof(c) };
	int opt, i, fd, found, selftest = 0;

	rng = time(NULL);
	ncpus = sysconf(_SC_NPROCESSORS_CONF);
	nreaders = 2 * sysconf(_SC_NPROCESSORS_ONLN);
	while ((opt = getopt(argc, argv, "n:t:r:i:m:s:T")) != -1) {
		switch (opt) {
		case 'n': target = strtod(optarg, NULL); break;
		case 't': secs = atol(optarg); break;
		case 'r': nreaders = atoi(optarg); break;
		case 'i': event_ms = atol(optarg); break;
		case 'm': module_path = optarg; break;
		case 's': rng = strtoull(optarg, NULL, 0); break;
		case 'T': selftest = 1; break;
		default:
			fprintf(stderr, "usage: %s [-n IDS] [-t MAX_SECONDS] [-r READERS] [-i EVENT_MS] [-m MODULE.ko] [-s SEED]\n",
				argv[0]);
			return 2;
		}
	}
	if (nreaders < 1 || nreaders > MAX_READERS || ncpus > 256 || event_ms < 2) {
		fprintf(stderr, "soak: bad arguments\n");
		return 2;
	}
	rng |= 1;

	/* Start from the module's current configuration. */
	fd = open(FLAKEID_DEVICE_PATH, O_RDONLY);
	if (fd < 0 || ioctl(fd, FLAKEID_IOC_CONFIG, &c)) {
		perror("soak: " FLAKEID_DEVICE_PATH);
		return 2;
	}
	close(fd);
	found = 0;
	for (i = 0; i < (int)NLAYOUTS; i++) {
		if (layouts[i][5] == 0 &&
		    c.timestamp_bits == layouts[i][0] && c.region_bits == layouts[i][1] &&
		    c.app_bits == layouts[i][2] && c.machine_bits == layouts[i][3] &&
		    c.sequence_bits == layouts[i][4]) {
			cur.layout = i;
			found = 1;
		}
	}
	if (!found || c.epoch_ms != FLAKEID_DEFAULT_EPOCH_MS) {
		fprintf(stderr, "soak: load the module with the default layout and epoch\n");
		return 2;
	}
	cur.region = c.region_id;
	cur.app = c.app_id;
	cur.machine = c.machine_id;
	cur.epoch = c.epoch_ms;
	wall0_ms = clock_ms(CLOCK_REALTIME);
	mono0_ms = clock_ms(CLOCK_MONOTONIC);
	record_state();

	printf("soak: %" PRIu64 " IDs, %d readers on %d CPUs, an event every ~%ldms, at most %lds, seed %#" PRIx64 "\n",
	       target, nreaders, ncpus, event_ms, secs, rng);
	fflush(stdout);
	start = mono_s();
	for (i = 0; i < nreaders; i++) {
		readers[i].idx = i;
		readers[i].arena = mmap(NULL, ARENA, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (readers[i].arena == MAP_FAILED ||
		    pthread_create(&readers[i].thread, NULL, reader_main, &readers[i])) {
			perror("soak: reader");
			return 2;
		}
	}
	controller(event_ms, start + secs);
	stop = 1;
	for (i = 0; i < nreaders; i++) {
		pthread_join(readers[i].thread, NULL);
		order_bad += readers[i].order_bad;
		above_bad += readers[i].above_bad;
		errors += readers[i].errors;
		overflow_bad += readers[i].overflow_bad;
		bytes += readers[i].used;
	}
	configs[nconfigs - 1].to_ms = true_ms();
	/* Put things back: CPUs online, the clock where it was. */
	for (i = 1; i < ncpus; i++) {
		char name[96];

		if (!offline_cpu[i])
			continue;
		snprintf(name, sizeof(name), "/sys/devices/system/cpu/cpu%d/online", i);
		if (!sysfs_write(name, "1"))
			ev.online++, offline_cpu[i] = 0;
	}
	if (clock_offset_ms)
		step_clock(-clock_offset_ms);
	add_module_counters();
	took = mono_s() - start;
	printf("soak: fetched %" PRIu64 " IDs in %lds (%.0f IDs/s), %.2f bytes an ID kept\n",
	       total_ids(), took, total_ids() / (double)(took ? took : 1),
	       bytes / (double)(total_ids() + !total_ids()));
	printf("soak: events: %" PRIu64 " node changes (%" PRIu64 " refused), %" PRIu64
	       " layout changes (%" PRIu64 " refused), %" PRIu64 " clock steps back, %" PRIu64
	       " forward, %" PRIu64 " CPU offline, %" PRIu64 " online (%" PRIu64
	       " refused), %" PRIu64 " reloads (%" PRIu64 " failed)\n",
	       ev.node_sets, ev.node_refused, ev.layouts, ev.layout_refused,
	       ev.steps_back, ev.steps_fwd, ev.offline, ev.online, ev.hotplug_failed,
	       ev.reloads, ev.reload_failed);
	printf("soak: events: reloads with the epoch %" PRIu64 " earlier, %" PRIu64
	       " later, %" PRIu64 " with another layout; %" PRIu64
	       " loads/stores refused as they must be, %" PRIu64 " accepted that must not\n",
	       ev.reload_epoch_back, ev.reload_epoch_fwd, ev.reload_layouts,
	       ev.refused_ok, ev.refusal_missed);
	printf("soak: events: %" PRIu64 " timestamp exhaustions (%" PRIu64
	       " failed), %" PRIu64 " EOVERFLOW pauses, then widened %" PRIu64
	       " at run time, %" PRIu64 " by a reload; %" PRIu64
	       " EOVERFLOW outside that phase; %zu configurations recorded\n",
	       ev.exhaustions, ev.exhaust_failed, overflows, ev.widen_sysfs,
	       ev.widen_reload, overflow_bad, nconfigs);
	printf("soak: module saw: %" PRIu64 " clock steps back, %" PRIu64 " waits, %" PRIu64
	       " borrowed ms\n", ev.module_steps_back, ev.module_waits, ev.module_borrowed);
	fflush(stdout);

	if (selftest && readers[0].nruns && readers[0].runs[0].count &&
	    readers[0].nruns < sizeof(readers[0].runs) / sizeof(readers[0].runs[0])) {
		/* A run of one: a copy of the reader's very first ID. */
		struct reader *r = &readers[0];
		const uint8_t *p = r->arena + r->runs[0].start;
		struct run *run = &r->runs[r->nruns++];

		uint64_t first = get_varint(&p), sh = shift_of(configs[0].s.layout);

		run->start = r->used;
		put_varint(r, first);
		run->end = r->used;
		run->count = 1;
		printf("soak: self-test: planted one duplicate\n");
		if (r->nruns < sizeof(r->runs) / sizeof(r->runs[0])) {
			run = &r->runs[r->nruns++];
			run->start = r->used;
			put_varint(r, (first & ((1ULL << sh) - 1)) | 1ULL << sh);
			run->end = r->used;
			run->count = 1;
			printf("soak: self-test: planted one ID stamped 1 ms after the epoch\n");
		}
	}
	start = mono_s();
	v = verify();
	printf("soak: verified %" PRIu64 " IDs in %" PRIu64 " runs in %lds: %" PRIu64
	       " duplicates, %" PRIu64 " decoding to no configuration set, %" PRIu64
	       " decoding out of the order set, %" PRIu64
	       " out of order in their file, %" PRIu64 " not above the IDs before a reload, %"
	       PRIu64 " read errors\n", v.ids, v.runs, mono_s() - start, v.dups,
	       v.bad_config, v.config_order, order_bad, above_bad, errors);
	printf("SOAK-RESULT ids=%" PRIu64 " duplicates=%" PRIu64 " bad_config=%" PRIu64
	       " out_of_order=%" PRIu64 " reload_order=%" PRIu64 " reloads=%" PRIu64
	       " node_changes=%" PRIu64 " layout_changes=%" PRIu64 " steps_back=%" PRIu64
	       " steps_forward=%" PRIu64 " cpu_offline=%" PRIu64 " cpu_online=%" PRIu64
	       " config_order=%" PRIu64 " refused_ok=%" PRIu64 " refusal_missed=%" PRIu64
	       " exhaustions=%" PRIu64 " exhaust_failed=%" PRIu64 " overflow_pauses=%" PRIu64
	       " overflow_unexpected=%" PRIu64 "\n",
	       v.ids, v.dups, v.bad_config, order_bad, above_bad, ev.reloads,
	       ev.node_sets, ev.layouts, ev.steps_back, ev.steps_fwd, ev.offline, ev.online,
	       v.config_order, ev.refused_ok, ev.refusal_missed, ev.exhaustions,
	       ev.exhaust_failed, overflows, overflow_bad);
	return v.dups || v.bad_config || v.config_order || order_bad || above_bad ||
	       ev.reload_failed || ev.refusal_missed || ev.exhaust_failed ||
	       !ev.exhaustions || overflow_bad || v.ids < target ? 1 : 0;
}
