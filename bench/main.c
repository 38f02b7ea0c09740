// SPDX-License-Identifier: GPL-2.0
/*
 * flakeid-bench: runs one measurement per invocation in the guest and prints
 * it as one raw row (BENCH,kind,mode,layout,threads,rep,key=value,...), so
 * the guest script can interleave modes freely; `smoke` checks every mode
 * works, and `report` turns saved rows into tables on the host.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "ids.h"
#include "tap.h"

#define MAX_THREADS	64

static const char usage_text[] =
"usage: flakeid-bench list\n"
"       flakeid-bench cost [-k KIND] [-t MS] [-s SLICE_MS] [-r REP] [-c CPU]\n"
"                          MODE...\n"
"       flakeid-bench scale MODE THREADS [-t MS] [-r REP]\n"
"       flakeid-bench saturate [-s SECONDS] [-T THREADS] [-r REP]\n"
"       flakeid-bench nonblock [-s SECONDS] [-r REP]\n"
"       flakeid-bench settle\n"
"       flakeid-bench smoke\n"
"       flakeid-bench report RAW.csv OUTDIR [MACHINE.txt]\n";

static void usage(void)
{
	fputs(usage_text, stderr);
	exit(2);
}

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("flakeid-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static unsigned int ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned int)n : 1;
}

static void pin_cpu(unsigned int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % ncpus(), &set);
	/* Best effort: an unpinned run is still a valid run. */
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = ns / NS_PER_SEC,
		.tv_nsec = ns % NS_PER_SEC,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- raw rows ---- */

static void row_begin(const char *kind, const char *mode, unsigned int threads,
		      unsigned int rep)
{
	char layout[32];

	if (sysfs_str("layout", layout, sizeof(layout)))
		strcpy(layout, "-");
	printf("BENCH,%s,%s,%s,%u,%u", kind, mode, layout, threads, rep);
}

static void kv(const char *key, uint64_t val)
{
	printf(",%s=%" PRIu64, key, val);
}

static void kvs(const char *key, int64_t val)
{
	printf(",%s=%" PRId64, key, val);
}

static void row_end(void)
{
	putchar('\n');
	fflush(stdout);
}

struct counters {
	uint64_t issued, refills, borrowed, waits;
};

static int counters_read(struct counters *c)
{
	int ret;

	ret = sysfs_u64("ids_issued", &c->issued);
	if (!ret)
		ret = sysfs_u64("refills", &c->refills);
	if (!ret)
		ret = sysfs_u64("borrowed_ms", &c->borrowed);
	if (!ret)
		ret = sysfs_u64("waits", &c->waits);
	return ret;
}

static void counters_delta(struct counters *after, const struct counters *b)
{
	after->issued -= b->issued;
	after->refills -= b->refills;
	after->borrowed -= b->borrowed;
	after->waits -= b->waits;
}

static int dev_mode(const struct bench_mode *m)
{
	return !!(m->needs & (NEED_DEV | NEED_SHARED_DEV | NEED_LIB |
			       NEED_UUID7_DEV));
}

/* ---- timing loops ---- */

struct tally {
	uint64_t calls, ids, wall_ns, cpu_ns;
	int err;
};

/*
 * Call the mode for @dur_ns, reading the clock once per chunk of calls; a
 * chunk doubles until it lasts about half a millisecond, so the clock reads
 * cost nothing measurable.
 */
static int run_timed(struct bench_thread *t, uint64_t dur_ns, struct tally *tl)
{
	int (*call)(struct bench_thread *) = t->mode->call;
	uint64_t chunk = 1, i, t0, c0, last, now;
	int r;

	memset(tl, 0, sizeof(*tl));
	c0 = thread_cpu_ns();
	t0 = last = mono_ns();
	for (;;) {
		for (i = 0; i < chunk; i++) {
			r = call(t);
			if (r < 0) {
				tl->err = r;
				goto out;
			}
			tl->ids += r;
			tl->calls++;
		}
		now = mono_ns();
		if (now - t0 >= dur_ns)
			break;
		if (now - last < NS_PER_MS / 2 && chunk < (1U << 20))
			chunk *= 2;
		last = now;
	}
out:
	tl->wall_ns = mono_ns() - t0;
	tl->cpu_ns = thread_cpu_ns() - c0;
	return tl->err;
}

struct worker {
	pthread_t th;
	struct bench_thread t;
	struct tally tl;
	uint64_t warm_ids;
	unsigned int cpu;
	uint64_t warm_ns;
	pthread_barrier_t *ready, *start;
	atomic_int *stop;
};

/*
 * A scaling thread: warm up, wait while the main thread reads the module's
 * counters, then call until it says stop.
 */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int (*call)(struct bench_thread *) = w->t.mode->call;
	struct tally warm;
	uint64_t t0, c0;
	int r;

	pin_cpu(w->cpu);
	run_timed(&w->t, w->warm_ns, &warm);
	w->warm_ids = warm.ids;
	w->tl.err = warm.err;
	pthread_barrier_wait(w->ready);
	pthread_barrier_wait(w->start);
	if (w->tl.err)
		return NULL;
	c0 = thread_cpu_ns();
	t0 = mono_ns();
	while (!atomic_load_explicit(w->stop, memory_order_relaxed)) {
		r = call(&w->t);
		if (r < 0) {
			w->tl.err = r;
			break;
		}
		w->tl.ids += r;
		w->tl.calls++;
	}
	w->tl.wall_ns = mono_ns() - t0;
	w->tl.cpu_ns = thread_cpu_ns() - c0;
	return NULL;
}

struct team {
	struct bench_shared sh;
	struct worker w[MAX_THREADS];
	unsigned int n;
	unsigned int nready;	/* workers set up, for team_exit */
	int have_barriers;
	pthread_barrier_t ready, start;
	atomic_int stop;
};

static int team_init(struct team *tm, const struct bench_mode *m,
		     unsigned int n, uint64_t warm_ns, int log_ids)
{
	unsigned int i;
	int ret;

	memset(tm, 0, sizeof(*tm));
	tm->n = n;
	ret = bench_shared_init(&tm->sh, m->needs);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		struct worker *w = &tm->w[i];

		ret = bench_thread_init(&w->t, &tm->sh, m);
		tm->nready++;
		if (ret)
			return ret;
		if (log_ids) {
			w->t.log_cap = 1 << 16;
			w->t.log = malloc(w->t.log_cap * sizeof(uint64_t));
			if (!w->t.log)
				return -ENOMEM;
		}
		/* Thread i on CPU i: each a CPU of its own while they last. */
		w->cpu = i;
		w->warm_ns = warm_ns;
		w->ready = &tm->ready;
		w->start = &tm->start;
		w->stop = &tm->stop;
	}
	ret = pthread_barrier_init(&tm->ready, NULL, n + 1);
	if (ret)
		return -ret;
	ret = pthread_barrier_init(&tm->start, NULL, n + 1);
	if (ret) {
		pthread_barrier_destroy(&tm->ready);
		return -ret;
	}
	tm->have_barriers = 1;
	return 0;
}

/*
 * Start the threads; once all are warm, read the counters into @c0 (if
 * given) and let them go.  Returns the start time.
 */
static uint64_t team_start(struct team *tm, struct counters *c0)
{
	unsigned int i;
	uint64_t t0;
	int ret;

	for (i = 0; i < tm->n; i++) {
		ret = pthread_create(&tm->w[i].th, NULL, worker_main, &tm->w[i]);
		if (ret)
			die("pthread_create: %s", strerror(ret));
	}
	pthread_barrier_wait(&tm->ready);
	if (c0 && counters_read(c0))
		die("cannot read the module's counters");
	t0 = mono_ns();
	pthread_barrier_wait(&tm->start);
	return t0;
}

/* Stop and join; the sum of the threads' tallies in @sum. */
static int team_stop(struct team *tm, struct tally *sum)
{
	unsigned int i;

	atomic_store(&tm->stop, 1);
	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < tm->n; i++) {
		struct tally *tl = &tm->w[i].tl;

		pthread_join(tm->w[i].th, NULL);
		sum->calls += tl->calls;
		sum->ids += tl->ids;
		sum->cpu_ns += tl->cpu_ns;
		if (tl->err && !sum->err)
			sum->err = tl->err;
	}
	return sum->err;
}

static uint64_t team_order_errors(const struct team *tm)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < tm->n; i++)
		n += tm->w[i].t.order_errors;
	return n;
}

static void team_exit(struct team *tm)
{
	unsigned int i;

	for (i = 0; i < tm->nready; i++)
		bench_thread_exit(&tm->w[i].t);
	if (tm->have_barriers) {
		pthread_barrier_destroy(&tm->ready);
		pthread_barrier_destroy(&tm->start);
	}
	bench_shared_exit(&tm->sh);
}

/* ---- settle: let the wall clock catch up with borrowed milliseconds ---- */

static int settle(uint64_t max_ns)
{
	uint64_t floor, now, t0 = mono_ns();
	int64_t ahead;
	int ret;

	for (;;) {
		ret = sysfs_u64("floor_ms", &floor);
		if (!ret)
			ret = sysfs_s64("ahead_ms", &ahead);
		if (ret)
			return ret;
		/*
		 * Nothing borrowed is left once the floor is back at the ID
		 * clock, which may lead the wall clock by ahead_ms.
		 */
		now = real_ms();
		if (floor <= now + (ahead > 0 ? ahead : 0) + 2)
			return 0;
		if (mono_ns() - t0 > max_ns) {
			fprintf(stderr, "flakeid-bench: settle: floor_ms %" PRIu64
				" is %" PRId64 " ms past the wall clock, ahead_ms %"
				PRId64 "\n", floor, (int64_t)(floor - now), ahead);
			return -ETIMEDOUT;
		}
		sleep_ns(10 * NS_PER_MS);
	}
}

/* ---- subcommands ---- */

struct opts {
	const char *kind;
	uint64_t ms;
	uint64_t secs;
	unsigned int rep;
	unsigned int threads;
	int cpu;
};

static uint64_t num(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end)
		die("not a number: %s", s);
	return v;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	int c;

	while ((c = getopt(argc, argv, "k:t:r:c:s:T:")) != -1) {
		switch (c) {
		case 'k':
			o->kind = optarg;
			break;
		case 't':
			o->ms = num(optarg);
			break;
		case 'r':
			o->rep = num(optarg);
			break;
		case 'c':
			o->cpu = num(optarg);
			break;
		case 's':
			o->secs = num(optarg);
			break;
		case 'T':
			o->threads = num(optarg);
			break;
		default:
			usage();
		}
	}
}

static const struct bench_mode *mode_arg(const char *name)
{
	const struct bench_mode *m = bench_find_mode(name);

	if (!m)
		die("unknown mode %s (see: flakeid-bench list)", name);
	return m;
}

static int cmd_list(void)
{
	static const char *const groups[] = { "floor", "flakeid", "peer" };
	unsigned int i;

	for (i = 0; i < bench_nr_modes; i++)
		printf("%-20s %-8s %6u  %s\n", bench_modes[i].name,
		       groups[bench_modes[i].group], bench_modes[i].per_call,
		       bench_modes[i].what);
	return 0;
}

/* One mode of a cost run: its own files and handles, and what it did. */
struct slot {
	const struct bench_mode *m;
	struct bench_shared sh;
	struct bench_thread t;
	struct tally sum;
	struct counters c;
	double *slice_ns;	/* ns per call of each slice */
	unsigned int nslices;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The @pct percentile of @v (sorted in place), nearest rank. */
static double percentile(double *v, unsigned int n, unsigned int pct)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return v[(n - 1) * pct / 100];
}

/*
 * One thread, several modes, interleaved: every round gives each mode a
 * slice of SLICE ms (starting one mode later each round) until each had MS
 * in all.  Whatever the host does meanwhile falls on all modes alike, so
 * their ratios hold even when absolute times drift.  Time stolen by the host
 * only ever adds, so besides the totals each row carries the median and
 * 10th percentile of the slices' ns per call.  One row per mode, of kind
 * KIND (default cost).
 */
static int cmd_cost(int argc, char **argv)
{
	struct opts o = { .kind = "cost", .ms = 300, .secs = 10, .cpu = -1 };
	struct slot *slots;
	struct counters c0, c1;
	struct tally tl;
	unsigned int n, i, j, r, rounds;
	int failed = 0, ret;

	parse_opts(argc, argv, &o);
	n = argc - optind;
	if (!n || !o.secs)
		usage();
	slots = calloc(n, sizeof(*slots));
	if (!slots)
		die("out of memory");
	/* The last CPU: CPU 0 takes the serial ports' interrupts. */
	pin_cpu(o.cpu >= 0 ? (unsigned int)o.cpu : ncpus() - 1);

	for (i = 0; i < n; i++) {
		struct slot *s = &slots[i];

		s->m = mode_arg(argv[optind + i]);
		ret = bench_shared_init(&s->sh, s->m->needs);
		if (!ret)
			ret = bench_thread_init(&s->t, &s->sh, s->m);
		if (!ret)
			ret = run_timed(&s->t, 2 * NS_PER_MS, &tl);
		if (ret)
			die("%s: setup: %s", s->m->name, strerror(-ret));
	}

	rounds = (o.ms + o.secs - 1) / o.secs;
	for (i = 0; i < n; i++) {
		slots[i].slice_ns = calloc(rounds, sizeof(double));
		if (!slots[i].slice_ns)
			die("out of memory");
	}
	for (r = 0; r < rounds; r++) {
		for (j = 0; j < n; j++) {
			struct slot *s = &slots[(j + r) % n];
			int dev = dev_mode(s->m);

			if (s->sum.err)
				continue;
			if (dev && counters_read(&c0))
				die("cannot read the module's counters");
			run_timed(&s->t, o.secs * NS_PER_MS, &tl);
			if (dev && counters_read(&c1))
				die("cannot read the module's counters");
			if (tl.calls)
				s->slice_ns[s->nslices++] =
					(double)tl.wall_ns / tl.calls;
			s->sum.calls += tl.calls;
			s->sum.ids += tl.ids;
			s->sum.wall_ns += tl.wall_ns;
			s->sum.cpu_ns += tl.cpu_ns;
			s->sum.err = tl.err;
			if (dev) {
				counters_delta(&c1, &c0);
				s->c.refills += c1.refills;
				s->c.issued += c1.issued;
			}
		}
	}

	for (i = 0; i < n; i++) {
		struct slot *s = &slots[i];

		row_begin(o.kind, s->m->name, 1, o.rep);
		kv("calls", s->sum.calls);
		kv("ids", s->sum.ids);
		kv("wall_ns", s->sum.wall_ns);
		kv("cpu_ns", s->sum.cpu_ns);
		kv("refills", s->c.refills);
		kv("issued", s->c.issued);
		kv("slices", s->nslices);
		kv("slice_med_ns", percentile(s->slice_ns, s->nslices, 50));
		kv("slice_p10_ns", percentile(s->slice_ns, s->nslices, 10));
		kv("order_errors", s->t.order_errors);
		kvs("err", s->sum.err);
		row_end();
		if (s->sum.err || s->t.order_errors) {
			fprintf(stderr, "flakeid-bench: %s: %s\n", s->m->name,
				s->sum.err ? strerror(-s->sum.err) :
					     "IDs out of order");
			failed = 1;
		}
		bench_thread_exit(&s->t);
		bench_shared_exit(&s->sh);
		free(s->slice_ns);
	}
	free(slots);
	return failed;
}

/* THREADS threads on one mode; IDs/s, CPU per ID, shared-state touches. */
static int cmd_scale(int argc, char **argv)
{
	struct opts o = { .ms = 500 };
	const struct bench_mode *m;
	static struct team tm;
	struct counters c0, c1;
	struct tally sum;
	unsigned int n;
	uint64_t t0;
	int ret;

	if (argc < 3)
		usage();
	m = mode_arg(argv[1]);
	n = num(argv[2]);
	if (n < 1 || n > MAX_THREADS)
		die("threads: 1..%d", MAX_THREADS);
	parse_opts(argc - 2, argv + 2, &o);

	ret = team_init(&tm, m, n, o.ms * NS_PER_MS / 20 + NS_PER_MS, 0);
	if (ret)
		die("%s: setup: %s", m->name, strerror(-ret));
	memset(&c0, 0, sizeof(c0));
	memset(&c1, 0, sizeof(c1));
	t0 = team_start(&tm, dev_mode(m) ? &c0 : NULL);
	sleep_ns(o.ms * NS_PER_MS);
	team_stop(&tm, &sum);
	sum.wall_ns = mono_ns() - t0;
	if (dev_mode(m) && counters_read(&c1))
		die("cannot read the module's counters");
	counters_delta(&c1, &c0);

	row_begin("scale", m->name, n, o.rep);
	kv("calls", sum.calls);
	kv("ids", sum.ids);
	kv("wall_ns", sum.wall_ns);
	kv("cpu_ns", sum.cpu_ns);
	kv("refills", c1.refills);
	kv("issued", c1.issued);
	kv("borrowed", c1.borrowed);
	kv("waits", c1.waits);
	kv("lock_spins", tm.sh.sf.spins);
	kv("cpus", ncpus());
	kv("order_errors", team_order_errors(&tm));
	kvs("err", sum.err);
	row_end();

	ret = sum.err || team_order_errors(&tm);
	if (sum.err)
		fprintf(stderr, "flakeid-bench: %s: %s\n", m->name,
			strerror(-sum.err));
	team_exit(&tm);
	return ret;
}

/*
 * Saturation: threads fetch 65,536-ID batches, blocking, until the module
 * reaches its borrow limit; then count what it delivers over a window
 * against the ceiling, 2^sequence_bits IDs per millisecond.
 */
static int cmd_saturate(int argc, char **argv)
{
	struct opts o = { .secs = 4, .threads = 2 };
	const struct bench_mode *m = mode_arg("batch_65536");
	static struct team tm;
	struct counters c0, c1, w0, w;
	struct tally sum;
	uint64_t t0, t1, start, ceiling;
	int ret;

	parse_opts(argc, argv, &o);
	if (o.threads < 1 || o.threads > MAX_THREADS)
		die("threads: 1..%d", MAX_THREADS);
	ret = settle(5 * NS_PER_SEC);
	if (ret)
		die("settle: %s", strerror(-ret));
	ret = team_init(&tm, m, o.threads, 0, 0);
	if (ret)
		die("saturate: setup: %s", strerror(-ret));
	ceiling = (1ULL << tm.sh.cfg.sequence_bits) * 1000;

	if (counters_read(&w0))
		die("saturate: cannot read the module's counters");
	start = team_start(&tm, NULL);
	/* The limit is reached once a reader had to sleep for the clock. */
	do {
		sleep_ns(5 * NS_PER_MS);
		counters_read(&w);
	} while (w.waits == w0.waits && mono_ns() - start < 10 * NS_PER_SEC);
	counters_delta(&w, &w0);
	counters_read(&c0);
	t0 = mono_ns();
	sleep_ns(o.secs * NS_PER_SEC);
	counters_read(&c1);
	t1 = mono_ns();
	team_stop(&tm, &sum);
	counters_delta(&c1, &c0);

	row_begin("saturate", m->name, o.threads, o.rep);
	kv("ids", c1.issued);
	kv("wall_ns", t1 - t0);
	kv("ceiling_per_s", ceiling);
	kv("borrowed", c1.borrowed);
	kv("waits", c1.waits);
	kv("refills", c1.refills);
	kv("warm_ns", t0 - start);
	kv("warm_ids", w.issued);
	kv("warm_waits", w.waits);
	kv("order_errors", team_order_errors(&tm));
	kvs("err", sum.err);
	row_end();
	ret = sum.err || team_order_errors(&tm);
	team_exit(&tm);
	return ret;
}

/*
 * Past the borrow limit with O_NONBLOCK: how many IDs come before the first
 * EAGAIN, and what a caller that keeps asking gets afterwards.
 */
static int cmd_nonblock(int argc, char **argv)
{
	struct opts o = { .secs = 2 };
	struct flakeid_config cfg = { .size = sizeof(cfg) };
	struct flakeid_batch b;
	struct counters c0, c1;
	uint64_t *buf, t0, t_first = 0, now, ids_first = 0, ids_after = 0;
	uint64_t eagain = 0, full = 0, partial = 0, eagain_ns = 0, t;
	uint64_t order_errors = 0, last = 0;
	int fd, ret;

	parse_opts(argc, argv, &o);
	ret = settle(5 * NS_PER_SEC);
	if (ret)
		die("settle: %s", strerror(-ret));
	buf = calloc(BENCH_BUF_IDS, sizeof(*buf));
	fd = open(FLAKEID_DEVICE_PATH, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (!buf || fd < 0 || ioctl(fd, FLAKEID_IOC_CONFIG, &cfg) < 0)
		die("nonblock: setup: %s", strerror(errno));
	if (counters_read(&c0))
		die("nonblock: cannot read the module's counters");

	ret = 0;
	t0 = mono_ns();
	do {
		b = (struct flakeid_batch){
			.size = sizeof(b),
			.count = BENCH_BUF_IDS,
			.ids = (uintptr_t)buf,
		};
		t = mono_ns();
		if (ioctl(fd, FLAKEID_IOC_BATCH, &b) < 0) {
			now = mono_ns();
			if (errno != EAGAIN) {
				ret = -errno;
				break;
			}
			eagain++;
			eagain_ns += now - t;
			if (!t_first)
				t_first = now;
			continue;
		}
		now = mono_ns();
		if (!b.count || b.count > BENCH_BUF_IDS) {
			ret = -EIO;
			break;
		}
		if (buf[0] <= last)
			order_errors++;
		last = buf[b.count - 1];
		if (b.count == BENCH_BUF_IDS)
			full++;
		else
			partial++;
		if (t_first)
			ids_after += b.count;
		else
			ids_first += b.count;
	} while (now - t0 < o.secs * NS_PER_SEC);
	counters_read(&c1);
	counters_delta(&c1, &c0);

	row_begin("nonblock", "batch_65536", 1, o.rep);
	kv("max_borrow_ms", cfg.max_borrow_ms);
	kv("seqs_per_ms", 1ULL << cfg.sequence_bits);
	kv("ids_first", ids_first);
	kv("ns_first", t_first ? t_first - t0 : 0);
	kv("ids_after", ids_after);
	kv("ns_after", t_first ? now - t_first : 0);
	kv("eagain", eagain);
	kv("eagain_ns", eagain_ns);
	kv("full", full);
	kv("partial", partial);
	kv("borrowed", c1.borrowed);
	kv("waits", c1.waits);
	kv("order_errors", order_errors);
	kvs("err", ret);
	row_end();
	close(fd);
	free(buf);
	return ret || order_errors || !t_first;
}

static int cmd_settle(void)
{
	int ret = settle(10 * NS_PER_SEC);

	if (ret)
		die("settle: %s", strerror(-ret));
	return 0;
}

/* ---- smoke: every mode works; errors fail, timing never does ---- */

/* One TAP line (tests/tap.h); bench/run.sh keeps the "bench smoke" ones. */
#define tap(cond, fmt, ...) ok(cond, "bench smoke " fmt, ##__VA_ARGS__)

static void smoke_one(const struct bench_mode *m)
{
	struct bench_shared sh;
	struct bench_thread t;
	struct counters c0 = { 0 }, c1 = { 0 };
	struct tally tl;
	int ret, dev = dev_mode(m);

	ret = bench_shared_init(&sh, m->needs);
	if ((ret == -ENOENT || ret == -ECONNREFUSED) &&
	    (m->needs & NEED_UUIDD)) {
		tap(1, "%s # SKIP uuidd is not running", m->name);
		bench_shared_exit(&sh);
		return;
	}
	if (!ret)
		ret = bench_thread_init(&t, &sh, m);
	if (ret) {
		tap(0, "%s: setup: %s", m->name, strerror(-ret));
		bench_shared_exit(&sh);
		return;
	}
	counters_read(&c0);
	run_timed(&t, 20 * NS_PER_MS, &tl);
	counters_read(&c1);
	counters_delta(&c1, &c0);
	if (tl.err)
		tap(0, "%s: %s", m->name, strerror(-tl.err));
	else if (!tl.ids)
		tap(0, "%s: no IDs", m->name);
	else if (t.order_errors)
		tap(0, "%s: %" PRIu64 " IDs not above the one before", m->name,
		    t.order_errors);
	else if (dev && c1.issued < tl.ids)
		tap(0, "%s: ids_issued grew by %" PRIu64 " for %" PRIu64 " IDs",
		    m->name, c1.issued, tl.ids);
	else
		tap(1, "%s: %" PRIu64 " IDs in %" PRIu64 " calls", m->name,
		    tl.ids, tl.calls);
	bench_thread_exit(&t);
	bench_shared_exit(&sh);
}

/* Several threads at once: every ID distinct, each thread's increasing. */
static void smoke_threads(const struct bench_mode *m, unsigned int n)
{
	static struct team tm;
	struct tally sum;
	uint64_t *all, total = 0, dups = 0;
	unsigned int k;
	int ret;

	ret = team_init(&tm, m, n, 0, 1);
	if (ret) {
		tap(0, "%s x%u threads: setup: %s", m->name, n, strerror(-ret));
		team_exit(&tm);
		return;
	}
	team_start(&tm, NULL);
	sleep_ns(30 * NS_PER_MS);
	team_stop(&tm, &sum);
	for (k = 0; k < n; k++) {
		total += tm.w[k].t.log_len;
		sum.ids += tm.w[k].warm_ids;
	}
	all = malloc((total + 1) * sizeof(*all));
	if (!all) {
		tap(0, "%s x%u threads: out of memory", m->name, n);
		team_exit(&tm);
		return;
	}
	total = 0;
	for (k = 0; k < n; k++) {
		memcpy(all + total, tm.w[k].t.log,
		       tm.w[k].t.log_len * sizeof(*all));
		total += tm.w[k].t.log_len;
	}
	dups = fl_count_dups(all, total);
	if (sum.err)
		tap(0, "%s x%u threads: %s", m->name, n, strerror(-sum.err));
	else if (!total || total != sum.ids)
		tap(0, "%s x%u threads: %" PRIu64 " IDs logged of %" PRIu64,
		    m->name, n, total, sum.ids);
	else if (dups)
		tap(0, "%s x%u threads: %" PRIu64 " duplicate IDs", m->name, n,
		    dups);
	else if (team_order_errors(&tm))
		tap(0, "%s x%u threads: %" PRIu64 " IDs out of order", m->name,
		    n, team_order_errors(&tm));
	else
		tap(1, "%s x%u threads: %" PRIu64 " IDs, all distinct", m->name,
		    n, total);
	free(all);
	team_exit(&tm);
}

/* A small borrow limit: non-blocking callers get EAGAIN, blocking ones wait. */
static void smoke_borrow_limit(void)
{
	struct flakeid_config cfg = { .size = sizeof(cfg) };
	struct flakeid_batch b;
	struct counters c0, c1;
	char saved[32];
	uint64_t *buf, ids = 0, t0, ms, bound, want;
	int fd = -1, bfd = -1, ret = 0, got_eagain = 0;

	buf = calloc(BENCH_BUF_IDS, sizeof(*buf));
	if (!buf || sysfs_str("max_borrow_ms", saved, sizeof(saved))) {
		tap(0, "borrow limit: cannot read max_borrow_ms");
		free(buf);
		return;
	}
	ret = sysfs_write("max_borrow_ms", "2");
	if (ret) {
		tap(0, "borrow limit: set max_borrow_ms: %s", strerror(-ret));
		free(buf);
		return;
	}
	settle(5 * NS_PER_SEC);
	fd = open(FLAKEID_DEVICE_PATH, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	bfd = open(FLAKEID_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || bfd < 0 || ioctl(fd, FLAKEID_IOC_CONFIG, &cfg) < 0) {
		tap(0, "borrow limit: open: %s", strerror(errno));
		goto out;
	}
	counters_read(&c0);
	t0 = mono_ns();
	while (mono_ns() - t0 < 10 * NS_PER_SEC) {
		b = (struct flakeid_batch){ .size = sizeof(b),
			.count = BENCH_BUF_IDS, .ids = (uintptr_t)buf };
		if (ioctl(fd, FLAKEID_IOC_BATCH, &b) < 0) {
			got_eagain = errno == EAGAIN;
			ret = -errno;
			break;
		}
		ids += b.count;
	}
	ms = (mono_ns() - t0) / NS_PER_MS;
	/* The current ms, 2 borrowed ones, the ones that passed, and slack. */
	bound = (1ULL << cfg.sequence_bits) * (cfg.max_borrow_ms + ms + 3);
	if (!got_eagain)
		tap(0, "borrow limit: O_NONBLOCK got %s, not EAGAIN, after %"
		    PRIu64 " IDs", ret ? strerror(-ret) : "no error", ids);
	else if (ids > bound)
		tap(0, "borrow limit: %" PRIu64 " IDs before EAGAIN, more than %"
		    PRIu64, ids, bound);
	else
		tap(1, "borrow limit: EAGAIN after %" PRIu64 " IDs", ids);

	/* A blocking caller asking past the limit sleeps, never fails. */
	want = (1ULL << cfg.sequence_bits) * (cfg.max_borrow_ms + 4);
	ids = 0;
	ret = 0;
	t0 = mono_ns();
	while (ids < want && mono_ns() - t0 < 10 * NS_PER_SEC) {
		b = (struct flakeid_batch){ .size = sizeof(b),
			.count = want - ids < BENCH_BUF_IDS ? want - ids :
							       BENCH_BUF_IDS,
			.ids = (uintptr_t)buf };
		if (ioctl(bfd, FLAKEID_IOC_BATCH, &b) < 0) {
			ret = -errno;
			break;
		}
		ids += b.count;
	}
	counters_read(&c1);
	counters_delta(&c1, &c0);
	if (ret)
		tap(0, "borrow limit: blocking batch: %s", strerror(-ret));
	else if (ids < want)
		tap(0, "borrow limit: blocking batches got %" PRIu64 " of %"
		    PRIu64 " IDs in 10 s", ids, want);
	else
		tap(1, "borrow limit: blocking batches got %" PRIu64
		    " IDs past the limit (waits +%" PRIu64 ", borrowed_ms +%"
		    PRIu64 ")", ids, c1.waits, c1.borrowed);
out:
	if (fd >= 0)
		close(fd);
	if (bfd >= 0)
		close(bfd);
	ret = sysfs_write("max_borrow_ms", saved);
	if (ret)
		tap(0, "borrow limit: restore max_borrow_ms: %s", strerror(-ret));
	settle(5 * NS_PER_SEC);
	free(buf);
}

static int cmd_smoke(void)
{
	static const char *const threaded[] = {
		"read_1", "read_1_shared", "batch_1000", "lib_next_cached",
		"snowflake_mutex",
	};
	unsigned int i, n = ncpus() < 4 ? ncpus() : 4;

	if (n < 2)
		n = 2;
	for (i = 0; i < bench_nr_modes; i++)
		smoke_one(&bench_modes[i]);
	for (i = 0; i < sizeof(threaded) / sizeof(threaded[0]); i++)
		smoke_threads(mode_arg(threaded[i]), n);
	smoke_borrow_limit();
	return tap_failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "list"))
		return cmd_list();
	if (!strcmp(argv[1], "cost"))
		return cmd_cost(argc - 1, argv + 1);
	if (!strcmp(argv[1], "scale"))
		return cmd_scale(argc - 1, argv + 1);
	if (!strcmp(argv[1], "saturate"))
		return cmd_saturate(argc - 1, argv + 1);
	if (!strcmp(argv[1], "nonblock"))
		return cmd_nonblock(argc - 1, argv + 1);
	if (!strcmp(argv[1], "settle"))
		return cmd_settle();
	if (!strcmp(argv[1], "smoke"))
		return cmd_smoke();
	if (!strcmp(argv[1], "report")) {
		if (argc < 4)
			usage();
		return bench_report(argv[2], argv[3], argc > 4 ? argv[4] : NULL)
			? 1 : 0;
	}
	usage();
	return 2;
}
