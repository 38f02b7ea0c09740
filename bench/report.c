// SPDX-License-Identifier: GPL-2.0
/*
 * The host side: reads the raw BENCH rows a guest run printed, reduces the
 * repetitions of each measurement to median, min and max, and writes the
 * Markdown tables, the targets, a summary CSV and the gnuplot data files.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define MAX_KV		24
#define LAYOUT_DEFAULT	"41:4:3:5:10"
#define LAYOUT_WIDE	"41:0:0:4:18"

struct row {
	char kind[16];
	char mode[32];
	char layout[32];
	unsigned int threads, rep;
	unsigned int nkv;
	char key[MAX_KV][24];
	double val[MAX_KV];
};

static struct row *rows;
static size_t nrows;
static FILE *md, *csv;		/* results.md, summary.csv */

/* Markdown goes to stdout and to results.md alike. */
static void out(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	va_start(ap, fmt);
	vfprintf(md, fmt, ap);
	va_end(ap);
}

static int parse_line(char *line, struct row *r)
{
	char *save, *tok;
	unsigned int field = 0;

	memset(r, 0, sizeof(*r));
	line[strcspn(line, "\r\n")] = '\0';
	if (strncmp(line, "BENCH,", 6))
		return -1;
	for (tok = strtok_r(line + 6, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save), field++) {
		char *eq;

		switch (field) {
		case 0:
			snprintf(r->kind, sizeof(r->kind), "%s", tok);
			break;
		case 1:
			snprintf(r->mode, sizeof(r->mode), "%s", tok);
			break;
		case 2:
			snprintf(r->layout, sizeof(r->layout), "%s", tok);
			break;
		case 3:
			r->threads = strtoul(tok, NULL, 10);
			break;
		case 4:
			r->rep = strtoul(tok, NULL, 10);
			break;
		default:
			eq = strchr(tok, '=');
			if (!eq || r->nkv == MAX_KV)
				return -1;
			*eq = '\0';
			snprintf(r->key[r->nkv], sizeof(r->key[0]), "%s", tok);
			r->val[r->nkv++] = strtod(eq + 1, NULL);
		}
	}
	return field >= 5 ? 0 : -1;
}

static double get(const struct row *r, const char *key)
{
	unsigned int i;

	for (i = 0; i < r->nkv; i++)
		if (!strcmp(r->key[i], key))
			return r->val[i];
	return NAN;
}

static double ratio(const struct row *r, const char *num, const char *den)
{
	double d = get(r, den);

	return d > 0 ? get(r, num) / d : NAN;
}

/* ---- metrics of one row ---- */

/* Cost rows carry the median over their slices: robust to stolen time. */
static double ns_per_call(const struct row *r)
{
	double med = get(r, "slice_med_ns");

	return isnan(med) ? ratio(r, "wall_ns", "calls") : med;
}

static double ns_per_id(const struct row *r)
{
	double med = get(r, "slice_med_ns");

	if (isnan(med))
		return ratio(r, "wall_ns", "ids");
	return med / ratio(r, "ids", "calls");
}

static double ns_per_call_p10(const struct row *r)
{
	return get(r, "slice_p10_ns");
}

static double ns_per_call_mean(const struct row *r)
{
	return ratio(r, "wall_ns", "calls");
}

static double cpu_per_id(const struct row *r)
{
	return ratio(r, "cpu_ns", "ids");
}

static double ids_per_s(const struct row *r)
{
	return 1e9 / ratio(r, "wall_ns", "ids");
}

static double touches(const struct row *r)
{
	/* The mutex generator takes its one shared lock for every ID. */
	if (!strcmp(r->mode, "snowflake_mutex"))
		return 1.0;
	return ratio(r, "refills", "issued");
}

static double share(const struct row *r)
{
	return ids_per_s(r) / get(r, "ceiling_per_s");
}

static double borrowed_per_s(const struct row *r)
{
	return 1e9 * ratio(r, "borrowed", "wall_ns");
}

static double waits_per_s(const struct row *r)
{
	return 1e9 * ratio(r, "waits", "wall_ns");
}

static double sat_ceiling(const struct row *r)
{
	return get(r, "ceiling_per_s");
}

static double warm_ms(const struct row *r)
{
	return get(r, "warm_ns") / 1e6;
}

static double nb_ids_first(const struct row *r)
{
	return get(r, "ids_first");
}

static double nb_expected(const struct row *r)
{
	return get(r, "seqs_per_ms") *
	       (get(r, "max_borrow_ms") + get(r, "ns_first") / 1e6);
}

static double nb_ms_first(const struct row *r)
{
	return get(r, "ns_first") / 1e6;
}

static double nb_rate_after(const struct row *r)
{
	return 1e9 * ratio(r, "ids_after", "ns_after");
}

static double nb_ceiling(const struct row *r)
{
	return get(r, "seqs_per_ms") * 1000;
}

static double nb_eagain_ns(const struct row *r)
{
	return ratio(r, "eagain_ns", "eagain");
}

static double nb_eagain_share(const struct row *r)
{
	return get(r, "eagain") / (get(r, "eagain") + get(r, "full") +
				   get(r, "partial"));
}

/* ---- reduction ---- */

struct stat3 {
	double med, min, max;
	unsigned int n;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct filter {
	const char *kind, *mode, *layout;	/* NULL: any */
	unsigned int threads;			/* 0: any */
	double max_borrow;			/* NAN: any */
};

static int match(const struct row *r, const struct filter *f)
{
	return (!f->kind || !strcmp(r->kind, f->kind)) &&
	       (!f->mode || !strcmp(r->mode, f->mode)) &&
	       (!f->layout || !strcmp(r->layout, f->layout)) &&
	       (!f->threads || r->threads == f->threads) &&
	       (isnan(f->max_borrow) ||
		get(r, "max_borrow_ms") == f->max_borrow);
}

static struct stat3 reduce(const struct filter *f,
			   double (*metric)(const struct row *))
{
	struct stat3 s = { NAN, NAN, NAN, 0 };
	double *v = malloc((nrows + 1) * sizeof(*v));
	size_t i;

	if (!v)
		return s;
	for (i = 0; i < nrows; i++) {
		double x;

		if (!match(&rows[i], f) || get(&rows[i], "err") != 0)
			continue;
		x = metric(&rows[i]);
		if (!isnan(x) && !isinf(x))
			v[s.n++] = x;
	}
	if (s.n) {
		qsort(v, s.n, sizeof(*v), cmp_double);
		s.min = v[0];
		s.max = v[s.n - 1];
		s.med = s.n % 2 ? v[s.n / 2] :
				  (v[s.n / 2 - 1] + v[s.n / 2]) / 2;
	}
	free(v);
	return s;
}

/*
 * metric(a) / metric(b) for each repetition both modes ran in, reduced:
 * modes measured side by side in one repetition share its conditions.
 */
static struct stat3 paired(const char *kind, const char *a, const char *b,
			   double (*metric)(const struct row *))
{
	struct stat3 s = { NAN, NAN, NAN, 0 };
	double *v = malloc((nrows + 1) * sizeof(*v));
	size_t i, j;

	if (!v)
		return s;
	for (i = 0; i < nrows; i++) {
		const struct row *x = &rows[i];

		if (strcmp(x->kind, kind) || strcmp(x->mode, a) ||
		    get(x, "err") != 0)
			continue;
		for (j = 0; j < nrows; j++) {
			const struct row *y = &rows[j];
			double q;

			if (strcmp(y->kind, kind) || strcmp(y->mode, b) ||
			    y->rep != x->rep || strcmp(y->layout, x->layout) ||
			    get(y, "err") != 0)
				continue;
			q = metric(x) / metric(y);
			if (!isnan(q) && !isinf(q))
				v[s.n++] = q;
			break;
		}
	}
	if (s.n) {
		qsort(v, s.n, sizeof(*v), cmp_double);
		s.min = v[0];
		s.max = v[s.n - 1];
		s.med = s.n % 2 ? v[s.n / 2] :
				  (v[s.n / 2 - 1] + v[s.n / 2]) / 2;
	}
	free(v);
	return s;
}

static void csv_row(const char *section, const char *mode, const char *layout,
		    unsigned int threads, const char *metric, struct stat3 s)
{
	if (!s.n)
		return;
	fprintf(csv, "%s,%s,%s,%u,%s,%.6g,%.6g,%.6g,%u\n", section, mode,
		layout, threads, metric, s.med, s.min, s.max, s.n);
}

/* ---- formatting ---- */

static const char *fmt(char *buf, size_t size, double x)
{
	double a = fabs(x);

	if (isnan(x))
		snprintf(buf, size, "-");
	else if (a >= 1e7)
		snprintf(buf, size, "%.2fM", x / 1e6);
	else if (a >= 1e5)
		snprintf(buf, size, "%.0fk", x / 1e3);
	else if (a >= 100)
		snprintf(buf, size, "%.0f", x);
	else if (a >= 10)
		snprintf(buf, size, "%.1f", x);
	else if (a >= 0.1)
		snprintf(buf, size, "%.2f", x);
	else
		snprintf(buf, size, "%.4f", x);
	return buf;
}

/* "median (min-max)", or just the median when there is one sample. */
static const char *spread(char *buf, size_t size, struct stat3 s)
{
	char a[32], b[32], c[32];

	if (!s.n)
		snprintf(buf, size, "-");
	else if (s.n == 1 || s.min == s.max)
		snprintf(buf, size, "%s", fmt(a, sizeof(a), s.med));
	else
		snprintf(buf, size, "%s (%s-%s)", fmt(a, sizeof(a), s.med),
			 fmt(b, sizeof(b), s.min), fmt(c, sizeof(c), s.max));
	return buf;
}

static const char *layout_name(const char *l)
{
	if (!strcmp(l, LAYOUT_DEFAULT))
		return "default";
	if (!strcmp(l, LAYOUT_WIDE))
		return "wide-seq";
	return l;
}

/* Distinct values of a row field, in first-seen order. */
static size_t distinct(const char *kind, size_t off, const char **vals,
		       size_t max)
{
	size_t i, j, n = 0;

	for (i = 0; i < nrows; i++) {
		const char *v = (const char *)&rows[i] + off;

		if (strcmp(rows[i].kind, kind))
			continue;
		for (j = 0; j < n && strcmp(vals[j], v); j++)
			;
		if (j == n && n < max)
			vals[n++] = v;
	}
	return n;
}

static const char *label(int pass)
{
	return pass ? "PASS" : "MISS";
}

/* ---- sections ---- */

static struct stat3 cost_stat(const char *mode,
			      double (*metric)(const struct row *))
{
	struct filter f = { "cost", mode, NULL, 0, NAN };

	return reduce(&f, metric);
}

static void section_cost(FILE *dat)
{
	const char *layouts[4];
	size_t nl = distinct("cost", offsetof(struct row, layout), layouts, 4);
	char b1[64], b2[64], b3[64], b4[64];
	unsigned int i, idx = 0;

	out("\n### Cost per call and per ID, one thread\n\n");
	out("Layout during these runs: %s%s.  ns = wall-clock nanoseconds in "
	    "the guest: in each repetition the median over its short slices, "
	    "then median (min-max) over the repetitions; CPU ns/ID is the "
	    "thread's CPU time over all IDs; \"x getppid\" = ns per call over "
	    "getppid()'s in the same repetition.\n\n",
	    nl ? layouts[0] : "-",
	    nl && !strcmp(layouts[0], LAYOUT_WIDE) ?
	    " (wide sequence, so the 1,024-IDs-per-ms ceiling of the default "
	    "layout does not cap the batch modes)" : "");
	out("| mode | what | ns/call | ns/ID | CPU ns/ID | x getppid | runs |\n");
	out("|---|---|---:|---:|---:|---:|---:|\n");
	for (i = 0; i < bench_nr_modes; i++) {
		const struct bench_mode *m = &bench_modes[i];
		struct stat3 call = cost_stat(m->name, ns_per_call);
		struct stat3 id = cost_stat(m->name, ns_per_id);
		struct stat3 cpu = cost_stat(m->name, cpu_per_id);
		struct stat3 rel = paired("cost", m->name, "getppid",
					  ns_per_call);

		if (!call.n)
			continue;
		out("| %s | %s | %s | %s | %s | %s | %u |\n", m->name, m->what,
		    spread(b1, sizeof(b1), call), spread(b2, sizeof(b2), id),
		    spread(b3, sizeof(b3), cpu), spread(b4, sizeof(b4), rel),
		    call.n);
		csv_row("cost", m->name, nl ? layouts[0] : "-", 1, "ns_per_call",
			call);
		csv_row("cost", m->name, nl ? layouts[0] : "-", 1, "ns_per_id",
			id);
		csv_row("cost", m->name, nl ? layouts[0] : "-", 1,
			"cpu_ns_per_id", cpu);
		csv_row("cost", m->name, nl ? layouts[0] : "-", 1,
			"ns_per_call_p10", cost_stat(m->name, ns_per_call_p10));
		csv_row("cost", m->name, nl ? layouts[0] : "-", 1,
			"ns_per_call_mean", cost_stat(m->name, ns_per_call_mean));
		csv_row("cost", m->name, nl ? layouts[0] : "-", 1,
			"x_getppid", rel);
		fprintf(dat, "%u \"%s\" %.6g %.6g %.6g %d\n", idx++, m->name,
			id.med, id.min, id.max, m->group);
	}
}

static const char *const scale_modes[] = {
	"read_1", "read_1_shared", "batch_1000", "lib_next_cached",
	"snowflake_mutex", "uuid_time_uuidd",
};

static void section_scale(FILE *dat)
{
	const char *layouts[4];
	size_t nl = distinct("scale", offsetof(struct row, layout), layouts, 4);
	char b1[64], b2[64], b3[64];
	unsigned int threads[] = { 1, 2, 4, 8, 16, 32, 64 };
	unsigned int blocks = 0;
	size_t li, mi, ti;
	double cpus = NAN;

	for (mi = 0; mi < nrows; mi++)
		if (!strcmp(rows[mi].kind, "scale"))
			cpus = get(&rows[mi], "cpus");
	if (!nl)
		return;
	out("\n### Scaling: threads on one mode\n\n");
	out("The guest has %.0f vCPUs, time-sliced by QEMU's TCG on the host's "
	    "cores (see Machine), so more threads than host cores add no "
	    "throughput: IDs/s compares modes, not CPUs.  Thread i is pinned to "
	    "vCPU i.  touches/ID = the module's refills over ids_issued "
	    "(shared-state touches per ID); for snowflake_mutex it is its "
	    "one lock per ID.  Each run lasts about half a second from a "
	    "settled clock, so with the default layout a fast mode can borrow "
	    "up to max_borrow_ms (1 s) of IDs ahead and show more than the "
	    "1,024,000 IDs/s ceiling; the saturation table below is the "
	    "steady state.\n\n", cpus);
	/* At a glance: IDs/s by thread count, one line per mode and layout. */
	out("| mode | layout | IDs/s, 1 thread | 2 | 4 | 8 | touches/ID, 4 threads |\n");
	out("|---|---|---:|---:|---:|---:|---:|\n");
	for (mi = 0; mi < sizeof(scale_modes) / sizeof(scale_modes[0]); mi++) {
		for (li = 0; li < nl; li++) {
			struct filter f = { "scale", scale_modes[mi], layouts[li],
					    4, NAN };
			struct stat3 tch = reduce(&f, touches);

			out("| %s | %s", scale_modes[mi],
			    layout_name(layouts[li]));
			for (ti = 0; ti < 4; ti++) {
				f.threads = threads[ti];
				out(" | %s", fmt(b1, sizeof(b1),
						 reduce(&f, ids_per_s).med));
			}
			out(" | %s |\n", fmt(b2, sizeof(b2), tch.med));
		}
	}
	out("\nAll of it, median (min-max):\n\n");
	out("| mode | layout | threads | IDs/s | CPU ns/ID | touches/ID | runs |\n");
	out("|---|---|---:|---:|---:|---:|---:|\n");
	for (mi = 0; mi < sizeof(scale_modes) / sizeof(scale_modes[0]); mi++) {
		for (li = 0; li < nl; li++) {
			int block = 0;

			for (ti = 0; ti < sizeof(threads) / sizeof(threads[0]);
			     ti++) {
				struct filter f = { "scale", scale_modes[mi],
						    layouts[li], threads[ti],
						    NAN };
				struct stat3 rate = reduce(&f, ids_per_s);
				struct stat3 cpu = reduce(&f, cpu_per_id);
				struct stat3 wall = reduce(&f, ns_per_id);
				struct stat3 tch = reduce(&f, touches);

				if (!rate.n)
					continue;
				out("| %s | %s | %u | %s | %s | %s | %u |\n",
				    scale_modes[mi], layout_name(layouts[li]),
				    threads[ti], spread(b1, sizeof(b1), rate),
				    spread(b2, sizeof(b2), cpu),
				    spread(b3, sizeof(b3), tch), rate.n);
				csv_row("scale", scale_modes[mi], layouts[li],
					threads[ti], "ids_per_s", rate);
				csv_row("scale", scale_modes[mi], layouts[li],
					threads[ti], "cpu_ns_per_id", cpu);
				csv_row("scale", scale_modes[mi], layouts[li],
					threads[ti], "touches_per_id", tch);
				/* Blocks apart by two blank lines, none after. */
				if (!block++)
					fprintf(dat, "%s\"%s, %s\"\n",
						blocks++ ? "\n\n" : "",
						scale_modes[mi],
						layout_name(layouts[li]));
				fprintf(dat, "%u %.6g %.6g %.6g %.6g %.6g %.6g\n",
					threads[ti], wall.med, wall.min,
					wall.max, cpu.med, cpu.min, cpu.max);
			}
		}
	}
}

static void section_saturate(void)
{
	char b1[64], b2[64], b3[64], b4[64], b5[64], b6[64];
	unsigned int t;
	int any = 0;

	for (t = 1; t <= 64; t++) {
		struct filter f = { "saturate", NULL, NULL, t, NAN };
		struct stat3 rate = reduce(&f, ids_per_s);
		struct stat3 ceil, sh, bor, wai, warm;

		if (!rate.n)
			continue;
		ceil = reduce(&f, sat_ceiling);
		sh = reduce(&f, share);
		bor = reduce(&f, borrowed_per_s);
		wai = reduce(&f, waits_per_s);
		warm = reduce(&f, warm_ms);
		if (!any++) {
			out("\n### Saturation: default layout, blocking 65,536-ID "
			    "batches\n\n");
			out("Measured after the module first reached its borrow "
			    "limit (a reader slept), over the window only.\n\n");
			out("| threads | IDs/s delivered | ceiling | share | "
			    "borrowed_ms/s | waits/s | ms to reach the limit | "
			    "runs |\n");
			out("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
		}
		out("| %u | %s | %s | %s | %s | %s | %s | %u |\n", t,
		    spread(b1, sizeof(b1), rate), fmt(b2, sizeof(b2), ceil.med),
		    spread(b3, sizeof(b3), sh), spread(b4, sizeof(b4), bor),
		    spread(b5, sizeof(b5), wai), spread(b6, sizeof(b6), warm),
		    rate.n);
		csv_row("saturate", "batch_65536", LAYOUT_DEFAULT, t,
			"ids_per_s", rate);
		csv_row("saturate", "batch_65536", LAYOUT_DEFAULT, t, "share",
			sh);
		csv_row("saturate", "batch_65536", LAYOUT_DEFAULT, t,
			"borrowed_ms_per_s", bor);
		csv_row("saturate", "batch_65536", LAYOUT_DEFAULT, t,
			"waits_per_s", wai);
	}
}

static void section_nonblock(void)
{
	double borrows[8];
	char b[8][64];
	size_t i, j, n = 0;

	for (i = 0; i < nrows; i++) {
		double v;

		if (strcmp(rows[i].kind, "nonblock"))
			continue;
		v = get(&rows[i], "max_borrow_ms");
		for (j = 0; j < n && borrows[j] != v; j++)
			;
		if (j == n && n < 8)
			borrows[n++] = v;
	}
	if (!n)
		return;
	out("\n### Past the borrow limit: O_NONBLOCK, 65,536-ID batches in a "
	    "loop\n\n");
	out("Expected IDs before the first EAGAIN: 2^sequence_bits x "
	    "(max_borrow_ms + ms elapsed).  After it, a caller that keeps "
	    "asking gets the ceiling rate, the rest of its calls fail fast "
	    "with EAGAIN.\n\n");
	out("| max_borrow_ms | IDs before 1st EAGAIN | expected | ms to 1st "
	    "EAGAIN | IDs/s after | ceiling | EAGAIN share of calls | ns per "
	    "EAGAIN | runs |\n");
	out("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (i = 0; i < n; i++) {
		struct filter f = { "nonblock", NULL, NULL, 0, borrows[i] };
		struct stat3 first = reduce(&f, nb_ids_first);
		struct stat3 exp = reduce(&f, nb_expected);
		struct stat3 ms = reduce(&f, nb_ms_first);
		struct stat3 after = reduce(&f, nb_rate_after);
		struct stat3 ceil = reduce(&f, nb_ceiling);
		struct stat3 sh = reduce(&f, nb_eagain_share);
		struct stat3 ens = reduce(&f, nb_eagain_ns);

		out("| %.0f | %s | %s | %s | %s | %s | %s | %s | %u |\n",
		    borrows[i], spread(b[0], 64, first), fmt(b[1], 64, exp.med),
		    spread(b[2], 64, ms), spread(b[3], 64, after),
		    fmt(b[4], 64, ceil.med), spread(b[5], 64, sh),
		    spread(b[6], 64, ens), first.n);
		snprintf(b[7], 64, "borrow_%.0f", borrows[i]);
		csv_row("nonblock", b[7], "-", 1, "ids_before_eagain", first);
		csv_row("nonblock", b[7], "-", 1, "expected_before_eagain", exp);
		csv_row("nonblock", b[7], "-", 1, "ids_per_s_after", after);
		csv_row("nonblock", b[7], "-", 1, "ns_per_eagain", ens);
	}
}

static void target(const char *what, const char *measured, int have, int pass)
{
	out("| %s | %s | %s |\n", what, measured,
	    have ? label(pass) : "no data");
}

/*
 * A cost target: @a over @b per repetition, at most @limit (or, with
 * @inverse, @a at least @limit times @b).
 */
static void cost_target_in(const char *what, const char *kind,
			   const char *a, const char *b,
			   double (*metric)(const struct row *), double limit,
			   int inverse)
{
	struct filter fa = { kind, a, NULL, 0, NAN };
	struct filter fb = { kind, b, NULL, 0, NAN };
	struct stat3 q = paired(kind, a, b, metric), ma, mb;
	char m[256], x[32], y[32], z[32], lo[32], hi[32];

	/* Without the small mixes, fall back on the big one. */
	if (!q.n) {
		kind = "cost";
		fa.kind = fb.kind = kind;
		q = paired(kind, a, b, metric);
	}
	ma = reduce(&fa, metric);
	mb = reduce(&fb, metric);
	snprintf(m, sizeof(m), "%sx (%s-%s) over %u repetitions; medians %s "
		 "%s ns, %s %s ns", fmt(x, 32, q.med), fmt(lo, 32, q.min),
		 fmt(hi, 32, q.max), q.n, a, fmt(y, 32, ma.med), b,
		 fmt(z, 32, mb.med));
	target(what, m, q.n > 0, inverse ? q.med >= limit : q.med <= limit);
	csv_row("target", a, b, 1, kind, q);
}

static void cost_target(const char *what, const char *a, const char *b,
			double (*metric)(const struct row *), double limit,
			int inverse)
{
	cost_target_in(what, "pair", a, b, metric, limit, inverse);
}

/*
 * Threads at once: the median IDs/s of @a over that of @b, at least 1,
 * in one layout.
 */
static void scale_target(const char *a, const char *b, const char *layout,
			 unsigned int threads)
{
	struct filter fa = { "scale", a, layout, threads, NAN };
	struct filter fb = { "scale", b, layout, threads, NAN };
	struct stat3 ra = reduce(&fa, ids_per_s), rb = reduce(&fb, ids_per_s);
	double q = ra.med / rb.med;
	char w[160], m[160], x[32], y[32], z[32];

	snprintf(w, sizeof(w), "%u threads, %s layout: %s at least as many "
		 "IDs/s as %s", threads, layout_name(layout), a, b);
	snprintf(m, sizeof(m), "%sx; medians %s IDs/s, %s IDs/s over %u and "
		 "%u runs", fmt(x, 32, q), fmt(y, 32, ra.med),
		 fmt(z, 32, rb.med), ra.n, rb.n);
	target(w, m, ra.n && rb.n, q >= 1);
}

static void section_targets(void)
{
	static const char *const flake_modes[] = {
		"read_1", "read_1000", "batch_1000", "batch_65536", "lib_next",
		"lib_next_cached",
	};
	static const char *const uuid_modes[] = {
		"uuid_time", "uuid_time_clockfile", "uuid_time_uuidd",
	};
	static const char *const uuid_labels[] = {
		"plain", "clock file", "uuidd",
	};
	char m[256], a[32], b[32], c[32];
	size_t i, j, len;
	unsigned int t;

	out("\n### Targets (informational: a benchmark never fails a run)\n\n");
	out("Cost ratios are taken within each repetition from a process that "
	    "interleaved just the modes compared (zero_8, read_1, "
	    "lib_next_cached; zero_8000, read_1000, batch_1000; "
	    "lib_next_cached, uuid_time_uuidd with uuidd running), then "
	    "reduced to median (min-max); the 4-thread rows compare the "
	    "scaling runs' medians; the \"faster per ID\" rows use the table "
	    "above (libuuid's modes alone, ours among all the others).\n\n");
	out("| target | measured | |\n|---|---|---|\n");

	cost_target("one-ID read() <= 1.2x read(/dev/zero, 8)", "read_1",
		    "zero_8", ns_per_call, 1.2, 0);
	cost_target("1,000-ID batch ioctl <= 1.3x read(/dev/zero, 8000)",
		    "batch_1000", "zero_8000", ns_per_call, 1.3, 0);
	cost_target("1,000-ID read() <= 1.3x read(/dev/zero, 8000)",
		    "read_1000", "zero_8000", ns_per_call, 1.3, 0);
	cost_target("cached flakeid_next() >= 20x cheaper per ID than "
		    "one-ID read()", "read_1", "lib_next_cached", ns_per_id, 20,
		    1);
	cost_target_in("cached flakeid_next() <= uuid_generate_time() with "
		       "uuidd, per ID, 1 thread", "uuidd_pair",
		       "lib_next_cached", "uuid_time_uuidd", ns_per_id, 1, 0);
	scale_target("lib_next_cached", "uuid_time_uuidd", LAYOUT_WIDE, 4);
	scale_target("lib_next_cached", "uuid_time_uuidd", LAYOUT_DEFAULT, 4);

	for (t = 1; t <= 64; t++) {
		struct filter f = { "saturate", NULL, NULL, t, NAN };
		struct stat3 sh = reduce(&f, share);
		char w[96];

		if (!sh.n)
			continue;
		snprintf(m, sizeof(m), "%s%% of the ceiling (%s-%s%%)",
			 fmt(a, 32, 100 * sh.med), fmt(b, 32, 100 * sh.min),
			 fmt(c, 32, 100 * sh.max));
		snprintf(w, sizeof(w), "saturating batch load, %u thread%s: "
			 ">= 95%% of the ceiling delivered", t, t > 1 ? "s" : "");
		target(w, m, 1, sh.med >= 0.95);
	}

	for (i = 0; i < 4; i++) {
		const char *layouts[] = { LAYOUT_DEFAULT, LAYOUT_WIDE };

		for (j = 0; j < 2; j++) {
			struct filter f = { "scale", scale_modes[i], layouts[j],
					    4, NAN };
			struct stat3 tch = reduce(&f, touches);
			char w[96];

			if (!tch.n)
				continue;
			snprintf(m, sizeof(m), "%s (1/%s)", fmt(a, 32, tch.med),
				 fmt(b, 32, 1 / tch.med));
			snprintf(w, sizeof(w), "4 threads, %s, %s layout: "
				 "touches/ID <= 1/16", scale_modes[i],
				 layout_name(layouts[j]));
			target(w, m, 1, tch.med <= 1.0 / 16);
		}
	}

	for (i = 0; i < sizeof(flake_modes) / sizeof(flake_modes[0]); i++) {
		struct stat3 f = cost_stat(flake_modes[i], ns_per_id);
		int pass = 1, have = 0;
		char w[96];

		len = snprintf(m, sizeof(m), "%s ns/ID; libuuid is", fmt(a, 32,
			       f.med));
		for (j = 0; j < sizeof(uuid_modes) / sizeof(uuid_modes[0]);
		     j++) {
			struct stat3 u = cost_stat(uuid_modes[j], ns_per_id);
			struct stat3 q = paired("cost", uuid_modes[j],
						flake_modes[i], ns_per_id);

			if (!u.n || !q.n)
				continue;
			len += snprintf(m + len, sizeof(m) - len,
					"%s x%s %s (%s ns)", have ? "," : "",
					fmt(b, 32, q.med), uuid_labels[j],
					fmt(c, 32, u.med));
			if (len >= sizeof(m))
				len = sizeof(m) - 1;
			pass &= q.med > 1;
			have = 1;
		}
		snprintf(w, sizeof(w), "%s faster per ID than "
			 "uuid_generate_time()", flake_modes[i]);
		target(w, m, have && f.n, pass);
	}
}

static void copy_machine(const char *path)
{
	char line[512];
	FILE *f;

	out("\n### Machine\n\n");
	f = path ? fopen(path, "r") : NULL;
	if (!f) {
		out("- (not recorded)\n");
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0])
			out("- %s\n", line);
	}
	fclose(f);
}

static FILE *open_out(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "flakeid-bench: %s: %s\n", path,
			strerror(errno));
	return f;
}

int bench_report(const char *raw, const char *outdir, const char *machine)
{
	FILE *in, *scale_dat, *cost_dat;
	char line[4096];
	size_t cap = 0, bad = 0, i;
	int ret = 0;

	in = fopen(raw, "r");
	if (!in) {
		fprintf(stderr, "flakeid-bench: %s: %s\n", raw, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), in)) {
		struct row r;

		if (strncmp(line, "BENCH,", 6))
			continue;
		if (parse_line(line, &r)) {
			bad++;
			continue;
		}
		if (nrows == cap) {
			struct row *n;

			cap = cap ? cap * 2 : 256;
			n = realloc(rows, cap * sizeof(*rows));
			if (!n) {
				fclose(in);
				return -1;
			}
			rows = n;
		}
		rows[nrows++] = r;
	}
	fclose(in);
	if (!nrows) {
		fprintf(stderr, "flakeid-bench: %s: no BENCH rows\n", raw);
		return -1;
	}

	md = open_out(outdir, "results.md");
	csv = open_out(outdir, "summary.csv");
	scale_dat = open_out(outdir, "scaling.dat");
	cost_dat = open_out(outdir, "cost.dat");
	if (!md || !csv || !scale_dat || !cost_dat)
		return -1;
	fprintf(csv, "section,mode,layout,threads,metric,median,min,max,runs\n");
	fprintf(scale_dat, "# blocks: \"mode, layout\"; threads, wall ns/ID "
		"(median min max), CPU ns/ID (median min max)\n");
	fprintf(cost_dat, "# index mode ns/ID (median min max) group "
		"(0 floor, 1 flakeid, 2 peer)\n");

	copy_machine(machine);
	section_cost(cost_dat);
	section_scale(scale_dat);
	section_saturate();
	section_nonblock();
	section_targets();

	for (i = 0; i < nrows; i++) {
		double e = get(&rows[i], "err"), o = get(&rows[i], "order_errors");

		if ((!isnan(e) && e != 0) || (!isnan(o) && o != 0)) {
			out("\nRun with errors: %s %s %s threads %u rep %u "
			    "(err %.0f, order errors %.0f)\n", rows[i].kind,
			    rows[i].mode, rows[i].layout, rows[i].threads,
			    rows[i].rep, e, o);
			ret = -1;
		}
	}
	if (bad) {
		out("\n%zu malformed BENCH rows skipped\n", bad);
		ret = -1;
	}
	fclose(md);
	fclose(csv);
	fclose(scale_dat);
	fclose(cost_dat);
	free(rows);
	rows = NULL;
	nrows = 0;
	return ret;
}
