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
 * region/app/machine, change the layout (keeping the timestamp shift, so
 * it is accepted at run time), step the wall clock back or forward, take a
 * CPU offline or bring one back, or reload the module with the saved
 * floor_ms (all readers close their files first).
 *
 * IDs are kept compactly: each reader appends to its own memory the
 * varint-coded difference to its previous ID (about 1-2 bytes an ID), one
 * run per open file; a run must strictly increase (checked on the fly).
 * At the end a k-way merge of all runs finds every duplicate with a few
 * bytes of memory per run, and every ID is decoded under the layouts used
 * and must carry a (region, app, machine) the controller actually set.
 * The first ID of a file opened after a reload must exceed every ID from
 * before it.  Prints its figures; exit 0 only with zero duplicates and
 * zero violations.  -T plants one duplicate before the check, to prove
 * the check finds it (the run must then report exactly one and fail).
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
#include "../xorshift.h"

#define BATCH		4096
#define ARENA		(1ULL << 30)	/* virtual room per reader */
#define MAX_READERS	64
#define MAX_RUNS	(1 << 16)
#define SYS		FLAKEID_SYSFS_DIR "/"

/* Layouts the soak moves between: all keep the shift R+A+M+S at 22. */
static const unsigned int layouts[][5] = {
	{ 41, 4, 3, 5, 10 },
	{ 41, 2, 2, 4, 14 },
	{ 41, 0, 0, 8, 14 },
	{ 41, 3, 3, 3, 13 },
};
#define NLAYOUTS (sizeof(layouts) / sizeof(layouts[0]))

/* ---- what was set ---- */

struct state {
	unsigned int layout, region, app, machine;
};

/* allowed[l]: bitmap of (region, app, machine) triples set under layout l */
static uint8_t *allowed[NLAYOUTS];
static struct state cur;
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned int node_of(unsigned int l, unsigned int r, unsigned int a,
			    unsigned int m)
{
	return (r << (layouts[l][2] + layouts[l][3])) | (a << layouts[l][3]) | m;
}

static void record_state(void)
{
	unsigned int node = node_of(cur.layout, cur.region, cur.app, cur.machine);

	pthread_mutex_lock(&state_lock);
	allowed[cur.layout][node / 8] |= 1 << (node % 8);
	pthread_mutex_unlock(&state_lock);
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
	int parked;
};

static struct reader readers[MAX_READERS];
static int nreaders;
static volatile int stop, paused;
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
	int fd = -1;
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
		if (ioctl(fd, FLAKEID_IOC_BATCH, &b)) {
			if (errno != EINTR && errno != EAGAIN)
				r->errors++;
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
		if (total_ids() >= target)
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
	uint64_t module_steps_back, module_waits, module_borrowed;
};

static struct events ev;

static int sysfs_write(const char *name, const char *fmt, ...)
{
	char path[256], val[64];
	va_list ap;
	int fd, ret;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	ret = write(fd, val, strlen(val)) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

static uint64_t sysfs_u64(const char *name)
{
	char buf[64] = "";
	int fd = open(name, O_RDONLY);

	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) < 0)
			buf[0] = 0;
		close(fd);
	}
	return strtoull(buf, NULL, 10);
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

static void change_nodes(void)
{
	const unsigned int *l = layouts[cur.layout];
	int bad = 0;

	bad |= set_node("region_id", &cur.region, below(1U << l[1]));
	bad |= set_node("app_id", &cur.app, below(1U << l[2]));
	bad |= set_node("machine_id", &cur.machine, below(1U << l[3]));
	if (bad)
		ev.node_refused++;
	else
		ev.node_sets++;
}

static void change_layout(void)
{
	unsigned int to = below(NLAYOUTS);
	const unsigned int *l = layouts[to];
	int ret;

	if (to == cur.layout)
		to = (to + 1) % NLAYOUTS, l = layouts[to];
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
	ev.module_steps_back += sysfs_u64(SYS "clock_steps_back");
	ev.module_waits += sysfs_u64(SYS "waits");
	ev.module_borrowed += sysfs_u64(SYS "borrowed_ms");
}

static void reload(void)
{
	const unsigned int *l;
	uint64_t floor_ms, max = 0;
	char params[256];
	int i, fd, ret;

	paused = 1;
	for (i = 0; i < nreaders; i++)
		while (!__atomic_load_n(&readers[i].parked, __ATOMIC_ACQUIRE) && !stop)
			usleep(1000);
	if (stop) {
		paused = 0;
		return;
	}
	for (i = 0; i < nreaders; i++)
		if (readers[i].last > max)
			max = readers[i].last;
	add_module_counters();
	floor_ms = sysfs_u64(SYS "floor_ms");
	if (syscall(SYS_delete_module, "flakeid", O_NONBLOCK)) {
		fprintf(stderr, "soak: rmmod: %s\n", strerror(errno));
		ev.reload_failed++;
		paused = 0;
		return;
	}
	/* Load with new ids; the layout stays (its shift must not shrink). */
	l = layouts[cur.layout];
	cur.region = below(1U << l[1]);
	cur.app = below(1U << l[2]);
	cur.machine = below(1U << l[3]);
	snprintf(params, sizeof(params),
		 "floor_ms=%" PRIu64 " layout=%u:%u:%u:%u:%u region_id=%u app_id=%u machine_id=%u",
		 floor_ms, l[0], l[1], l[2], l[3], l[4], cur.region, cur.app, cur.machine);
	fd = open(module_path, O_RDONLY | O_CLOEXEC);
	ret = fd < 0 ? -1 : syscall(SYS_finit_module, fd, params, 0);
	if (fd >= 0)
		close(fd);
	if (ret) {
		fprintf(stderr, "soak: insmod %s %s: %s\n", module_path, params, strerror(errno));
		ev.reload_failed++;
		stop = 1;
		paused = 0;
		return;
	}
	record_state();
	__atomic_store_n(&reload_floor_id, max, __ATOMIC_RELEASE);
	ev.reloads++;
	paused = 0;
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

static void controller(long event_ms, long deadline)
{
	uint64_t last = 0, now;
	long t0 = mono_s(), tprint = t0;

	while (!stop) {
		sleep_ms(event_ms / 2 + below(event_ms));
		if (stop)
			break;
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

static int id_allowed(uint64_t id)
{
	unsigned int l, node, nb;

	for (l = 0; l < NLAYOUTS; l++) {
		nb = layouts[l][1] + layouts[l][2] + layouts[l][3];
		node = (id >> layouts[l][4]) & ((1U << nb) - 1);
		if (allowed[l][node / 8] & (1 << (node % 8)))
			return 1;
	}
	return 0;
}

struct verdict {
	uint64_t ids, dups, bad_config, runs;
};

static struct verdict verify(void)
{
	struct verdict v = { 0 };
	struct cursor *cur_all, **heap;
	size_t n = 0, i;
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
		if (!id_allowed(c->v)) {
			v.bad_config++;
			if (shown++ < 10)
				printf("soak: ID %#" PRIx64 " carries fields never set\n", c->v);
		}
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
	uint64_t order_bad = 0, above_bad = 0, errors = 0, bytes = 0;
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
		/* Node fields take at most 12 bits in every layout. */
		allowed[i] = calloc(1, 4096 / 8);
		if (c.timestamp_bits == layouts[i][0] && c.region_bits == layouts[i][1] &&
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
		bytes += readers[i].used;
	}
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
	printf("soak: module saw: %" PRIu64 " clock steps back, %" PRIu64 " waits, %" PRIu64
	       " borrowed ms\n", ev.module_steps_back, ev.module_waits, ev.module_borrowed);
	fflush(stdout);

	if (selftest && readers[0].nruns && readers[0].runs[0].count &&
	    readers[0].nruns < sizeof(readers[0].runs) / sizeof(readers[0].runs[0])) {
		/* A run of one: a copy of the reader's very first ID. */
		struct reader *r = &readers[0];
		const uint8_t *p = r->arena + r->runs[0].start;
		struct run *run = &r->runs[r->nruns++];

		run->start = r->used;
		put_varint(r, get_varint(&p));
		run->end = r->used;
		run->count = 1;
		printf("soak: self-test: planted one duplicate\n");
	}
	start = mono_s();
	v = verify();
	printf("soak: verified %" PRIu64 " IDs in %" PRIu64 " runs in %lds: %" PRIu64
	       " duplicates, %" PRIu64 " with fields never set, %" PRIu64
	       " out of order in their file, %" PRIu64 " not above the IDs before a reload, %"
	       PRIu64 " read errors\n", v.ids, v.runs, mono_s() - start, v.dups,
	       v.bad_config, order_bad, above_bad, errors);
	printf("SOAK-RESULT ids=%" PRIu64 " duplicates=%" PRIu64 " bad_config=%" PRIu64
	       " out_of_order=%" PRIu64 " reload_order=%" PRIu64 " reloads=%" PRIu64
	       " node_changes=%" PRIu64 " layout_changes=%" PRIu64 " steps_back=%" PRIu64
	       " steps_forward=%" PRIu64 " cpu_offline=%" PRIu64 " cpu_online=%" PRIu64 "\n",
	       v.ids, v.dups, v.bad_config, order_bad, above_bad, ev.reloads,
	       ev.node_sets, ev.layouts, ev.steps_back, ev.steps_fwd, ev.offline, ev.online);
	return v.dups || v.bad_config || order_bad || above_bad || ev.reload_failed ||
	       v.ids < target ? 1 : 0;
}
