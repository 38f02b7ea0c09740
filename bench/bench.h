/* SPDX-License-Identifier: GPL-2.0 */
/*
 * flakeid-bench: what one benchmark mode is, the per-thread state it runs
 * on, and the helpers main.c, modes.c and report.c share.
 */
#ifndef FLAKEID_BENCH_H
#define FLAKEID_BENCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include <flakeid.h>

#define NS_PER_SEC	1000000000ULL
#define NS_PER_MS	1000000ULL

/* The largest single call any mode makes (batch_65536). */
#define BENCH_BUF_IDS	65536

/* What a mode needs opened before its first call. */
#define NEED_DEV	(1U << 0)	/* a /dev/flakeid file of its own */
#define NEED_SHARED_DEV	(1U << 1)	/* one /dev/flakeid file for all threads */
#define NEED_ZERO	(1U << 2)	/* /dev/zero */
#define NEED_PROC_UUID	(1U << 3)	/* /proc/sys/kernel/random/uuid */
#define NEED_LIB	(1U << 4)	/* a libflakeid handle shared by all threads */
#define NEED_LIB_CACHE	(1U << 5)	/* ... with the per-thread cache on */
#define NEED_SNOWFLAKE	(1U << 6)	/* the in-process mutex generator */
#define NEED_UUIDD	(1U << 7)	/* uuidd must be answering */
#define NEED_UUID7_DEV	(1U << 8)	/* a /dev/flakeid-uuid7 file of its own */

/* Which column of the report a mode belongs to. */
enum bench_group {
	GROUP_FLOOR,		/* what the kernel costs anyway */
	GROUP_FLAKEID,		/* the device and the library */
	GROUP_PEER,		/* what a user would pick instead */
};

struct bench_thread;

struct bench_mode {
	const char *name;
	const char *what;	/* one line for the table */
	enum bench_group group;
	unsigned int per_call;	/* IDs, UUIDs (or 8-byte units) one call yields */
	unsigned int needs;	/* NEED_* */
	int checks_order;	/* its IDs (UUIDs) must strictly increase per thread */
	/* One call: the IDs it produced (> 0) or a negative errno. */
	int (*call)(struct bench_thread *t);
};

/* The mutex-protected generator most userspace Snowflake libraries are. */
struct snowflake {
	pthread_mutex_t lock;
	uint64_t epoch_ms;
	unsigned int seq_bits;
	unsigned int shift;	/* timestamp shift: all bits below it */
	uint64_t last_ms;
	uint64_t seq;
	uint64_t spins;		/* clock reads spent waiting for a new ms */
};

/* State every thread of one run shares. */
struct bench_shared {
	int dev_fd;		/* NEED_SHARED_DEV */
	struct flakeid *lib;	/* NEED_LIB, NEED_LIB_CACHE */
	struct snowflake sf;
	struct flakeid_config cfg;
};

struct bench_thread {
	struct bench_shared *sh;
	const struct bench_mode *mode;
	int fd;			/* /dev/flakeid, own or shared */
	int own_fd;
	int zero_fd;
	int proc_fd;
	int uuid7_fd;
	uint64_t *buf;
	uint64_t last;		/* largest ID this thread saw */
	struct flakeid_uuid7 last_uuid;	/* and UUID */
	uint64_t order_errors;	/* IDs not above the one before, UUIDs not v7 */
	uint64_t *log;		/* smoke: every ID, to look for duplicates */
	size_t log_len, log_cap;
};

extern const struct bench_mode bench_modes[];
extern const unsigned int bench_nr_modes;
const struct bench_mode *bench_find_mode(const char *name);

int bench_shared_init(struct bench_shared *sh, unsigned int needs);
void bench_shared_exit(struct bench_shared *sh);
int bench_thread_init(struct bench_thread *t, struct bench_shared *sh,
		      const struct bench_mode *m);
void bench_thread_exit(struct bench_thread *t);

int snowflake_init(struct snowflake *sf, const struct flakeid_config *cfg);
uint64_t snowflake_next(struct snowflake *sf);

/* Clocks. */
uint64_t mono_ns(void);
uint64_t thread_cpu_ns(void);
uint64_t real_ms(void);

/* /sys/class/misc/flakeid/<name>: 0 or -errno. */
int sysfs_str(const char *name, char *buf, size_t size);
int sysfs_u64(const char *name, uint64_t *val);
int sysfs_s64(const char *name, int64_t *val);
int sysfs_write(const char *name, const char *value);

/* Reading the raw rows back on the host (report.c). */
int bench_report(const char *raw, const char *outdir, const char *machine);

#endif /* FLAKEID_BENCH_H */
