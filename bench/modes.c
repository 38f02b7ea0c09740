// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark modes: the syscall floor, the ways to get IDs and UUIDv7s
 * from /dev/flakeid, and the peers a user would reach for instead.  Each mode is
 * one call that yields a known number of IDs; main.c times it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <uuid/uuid.h>

#include "bench.h"
#include "flakeid_util.h"

#define UUIDD_SOCKET	"/run/uuidd/request"
#define PROC_UUID	"/proc/sys/kernel/random/uuid"

uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / NS_PER_MS;
}

/* ---- order and duplicate bookkeeping ---- */

/* Smoke runs: every ID kept, to look for duplicates. */
static __attribute__((noinline)) void log_ids(struct bench_thread *t,
					       const uint64_t *ids, size_t n)
{
	if (t->log_len + n > t->log_cap) {
		size_t cap = (t->log_cap ? t->log_cap * 2 : 4096) + n;
		uint64_t *log = realloc(t->log, cap * sizeof(*log));

		if (!log) {
			/* Smoke runs are small; losing the log is an error. */
			t->order_errors++;
			return;
		}
		t->log = log;
		t->log_cap = cap;
	}
	memcpy(t->log + t->log_len, ids, n * sizeof(*ids));
	t->log_len += n;
}

/*
 * Inline, with the log out of line: the check is on the path every ID of
 * ours is timed on, and libuuid's modes do not pay it.
 */
static inline void seen(struct bench_thread *t, const uint64_t *ids,
			size_t n)
{
	if (ids[0] <= t->last)
		t->order_errors++;
	/* The kernel promises the rest of a call increases; check the ends. */
	if (n > 1 && ids[n - 1] <= ids[0])
		t->order_errors++;
	t->last = ids[n - 1];
	if (t->log)
		log_ids(t, ids, n);
}

/* UUIDs: each version 7 and variant 10, each above the one before. */
static void seen_uuid7(struct bench_thread *t,
		       const struct flakeid_uuid7 *u, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if ((u[i].b[6] >> 4) != 7 || (u[i].b[8] >> 6) != 2 ||
		    memcmp(&t->last_uuid, &u[i], sizeof(u[i])) >= 0)
			t->order_errors++;
		t->last_uuid = u[i];
	}
}

/* ---- the floor ---- */

/* Nothing: what the harness itself costs per call. */
static int call_noop(struct bench_thread *t)
{
	(void)t;
	return 1;
}

static int call_zero(struct bench_thread *t, size_t bytes)
{
	ssize_t n = read(t->zero_fd, t->buf, bytes);

	if (n < 0)
		return -errno;
	return n == (ssize_t)bytes ? (int)(bytes / 8) : -EIO;
}

static int call_zero_8(struct bench_thread *t)
{
	return call_zero(t, 8);
}

static int call_zero_8000(struct bench_thread *t)
{
	return call_zero(t, 8000);
}

static int call_getppid(struct bench_thread *t)
{
	(void)t;
	return getppid() > 0 ? 1 : -ESRCH;
}

static int call_getrandom_8(struct bench_thread *t)
{
	ssize_t n = getrandom(t->buf, 8, 0);

	if (n < 0)
		return -errno;
	return n == 8 ? 1 : -EIO;
}

static int call_clock(struct bench_thread *t)
{
	struct timespec ts;

	(void)t;
	return clock_gettime(CLOCK_MONOTONIC, &ts) ? -errno : 1;
}

/* ---- /dev/flakeid and libflakeid ---- */

static int call_read(struct bench_thread *t, size_t ids)
{
	ssize_t n = read(t->fd, t->buf, ids * 8);

	if (n < 0)
		return -errno;
	if (n < 8 || n % 8)
		return -EIO;
	seen(t, t->buf, (size_t)n / 8);
	return (int)(n / 8);
}

static int call_read_1(struct bench_thread *t)
{
	return call_read(t, 1);
}

static int call_read_1000(struct bench_thread *t)
{
	return call_read(t, 1000);
}

static int call_batch(struct bench_thread *t, uint64_t ids)
{
	struct flakeid_batch b = {
		.size = sizeof(b),
		.count = ids,
		.ids = (uintptr_t)t->buf,
	};

	if (ioctl(t->fd, FLAKEID_IOC_BATCH, &b) < 0)
		return -errno;
	if (b.count == 0 || b.count > ids)
		return -EIO;
	seen(t, t->buf, b.count);
	return (int)b.count;
}

static int call_batch_1000(struct bench_thread *t)
{
	return call_batch(t, 1000);
}

static int call_batch_65536(struct bench_thread *t)
{
	return call_batch(t, 65536);
}

static int call_lib_next(struct bench_thread *t)
{
	int ret = flakeid_next(t->sh->lib, t->buf);

	if (ret)
		return ret;
	seen(t, t->buf, 1);
	return 1;
}

static int call_uuid7_read(struct bench_thread *t, size_t uuids)
{
	ssize_t n = read(t->uuid7_fd, t->buf, uuids * FLAKEID_UUID7_SIZE);

	if (n < 0)
		return -errno;
	if (n < FLAKEID_UUID7_SIZE || n % FLAKEID_UUID7_SIZE)
		return -EIO;
	seen_uuid7(t, (struct flakeid_uuid7 *)t->buf,
		   (size_t)n / FLAKEID_UUID7_SIZE);
	return (int)(n / FLAKEID_UUID7_SIZE);
}

static int call_uuid7_read_1(struct bench_thread *t)
{
	return call_uuid7_read(t, 1);
}

static int call_uuid7_read_1000(struct bench_thread *t)
{
	return call_uuid7_read(t, 1000);
}

static int call_uuid7_batch_1000(struct bench_thread *t)
{
	struct flakeid_uuid7_batch b = {
		.size = sizeof(b),
		.count = 1000,
		.uuids = (uintptr_t)t->buf,
	};

	if (ioctl(t->fd, FLAKEID_IOC_UUID7_BATCH, &b) < 0)
		return -errno;
	if (b.count == 0 || b.count > 1000)
		return -EIO;
	seen_uuid7(t, (struct flakeid_uuid7 *)t->buf, b.count);
	return (int)b.count;
}

static int call_lib_uuid7(struct bench_thread *t)
{
	struct flakeid_uuid7 *u = (struct flakeid_uuid7 *)t->buf;
	int ret = flakeid_uuid7(t->sh->lib, u);

	if (ret)
		return ret;
	seen_uuid7(t, u, 1);
	return 1;
}

/* ---- peers ---- */

static int call_uuid_time(struct bench_thread *t)
{
	uuid_t u;

	(void)t;
	uuid_generate_time(u);
	/* A version-1 UUID, or libuuid gave up. */
	return (u[6] >> 4) == 1 ? 1 : -EIO;
}

static int call_proc_uuid(struct bench_thread *t)
{
	char s[64];
	ssize_t n = pread(t->proc_fd, s, sizeof(s), 0);

	if (n < 0)
		return -errno;
	return n == 37 ? 1 : -EIO;
}

static int call_snowflake(struct bench_thread *t)
{
	t->buf[0] = snowflake_next(&t->sh->sf);
	seen(t, t->buf, 1);
	return 1;
}

int snowflake_init(struct snowflake *sf, const struct flakeid_config *cfg)
{
	memset(sf, 0, sizeof(*sf));
	sf->epoch_ms = cfg->epoch_ms;
	sf->seq_bits = cfg->sequence_bits;
	sf->shift = cfg->region_bits + cfg->app_bits + cfg->machine_bits +
		    cfg->sequence_bits;
	return -pthread_mutex_init(&sf->lock, NULL);
}

/*
 * One lock around clock, sequence and last millisecond, as in the common
 * libraries; a used-up millisecond is waited out by reading the clock.
 */
uint64_t snowflake_next(struct snowflake *sf)
{
	uint64_t ms, id;

	pthread_mutex_lock(&sf->lock);
	ms = real_ms();
	if (ms < sf->last_ms)
		ms = sf->last_ms;	/* the clock stepped back: stay put */
	if (ms == sf->last_ms) {
		if (++sf->seq >> sf->seq_bits) {
			while ((ms = real_ms()) <= sf->last_ms)
				sf->spins++;
			sf->seq = 0;
		}
	} else {
		sf->seq = 0;
	}
	sf->last_ms = ms;
	id = (ms - sf->epoch_ms) << sf->shift | sf->seq;
	pthread_mutex_unlock(&sf->lock);
	return id;
}

/* ---- the table ---- */

const struct bench_mode bench_modes[] = {
	{ "noop", "nothing: the harness's own cost per call", GROUP_FLOOR, 1,
	  0, 0, call_noop },
	{ "zero_8", "read(/dev/zero, 8)", GROUP_FLOOR, 1,
	  NEED_ZERO, 0, call_zero_8 },
	{ "zero_8000", "read(/dev/zero, 8000), per 8 bytes", GROUP_FLOOR,
	  1000, NEED_ZERO, 0, call_zero_8000 },
	{ "getppid", "getppid()", GROUP_FLOOR, 1, 0, 0, call_getppid },
	{ "getrandom_8", "getrandom(8 bytes)", GROUP_FLOOR, 1, 0, 0,
	  call_getrandom_8 },
	{ "clock_gettime", "clock_gettime(CLOCK_MONOTONIC)", GROUP_FLOOR, 1,
	  0, 0, call_clock },
	{ "read_1", "read() of 1 ID", GROUP_FLAKEID, 1, NEED_DEV, 1,
	  call_read_1 },
	{ "read_1_shared", "read() of 1 ID, one file for all threads",
	  GROUP_FLAKEID, 1, NEED_SHARED_DEV, 1, call_read_1 },
	{ "read_1000", "read() of 1,000 IDs", GROUP_FLAKEID, 1000, NEED_DEV,
	  1, call_read_1000 },
	{ "batch_1000", "FLAKEID_IOC_BATCH, 1,000 IDs", GROUP_FLAKEID, 1000,
	  NEED_DEV, 1, call_batch_1000 },
	{ "batch_65536", "FLAKEID_IOC_BATCH, 65,536 IDs", GROUP_FLAKEID,
	  65536, NEED_DEV, 1, call_batch_65536 },
	{ "lib_next", "flakeid_next(), no cache", GROUP_FLAKEID, 1, NEED_LIB,
	  1, call_lib_next },
	{ "lib_next_cached", "flakeid_next(), per-thread cache",
	  GROUP_FLAKEID, 1, NEED_LIB | NEED_LIB_CACHE, 1, call_lib_next },
	{ "uuid7_read_1", "read() of 1 UUIDv7 from /dev/flakeid-uuid7",
	  GROUP_FLAKEID, 1, NEED_UUID7_DEV, 1, call_uuid7_read_1 },
	{ "uuid7_read_1000", "read() of 1,000 UUIDv7s", GROUP_FLAKEID, 1000,
	  NEED_UUID7_DEV, 1, call_uuid7_read_1000 },
	{ "uuid7_batch_1000", "FLAKEID_IOC_UUID7_BATCH, 1,000 UUIDv7s",
	  GROUP_FLAKEID, 1000, NEED_DEV, 1, call_uuid7_batch_1000 },
	{ "lib_uuid7", "flakeid_uuid7()", GROUP_FLAKEID, 1, NEED_LIB, 1,
	  call_lib_uuid7 },
	{ "uuid_time", "uuid_generate_time(), no uuidd, no clock file",
	  GROUP_PEER, 1, 0, 0, call_uuid_time },
	{ "uuid_time_clockfile", "uuid_generate_time(), no uuidd, clock file",
	  GROUP_PEER, 1, 0, 0, call_uuid_time },
	{ "uuid_time_uuidd", "uuid_generate_time(), uuidd running",
	  GROUP_PEER, 1, NEED_UUIDD, 0, call_uuid_time },
	{ "proc_uuid", "pread(/proc/sys/kernel/random/uuid)", GROUP_PEER, 1,
	  NEED_PROC_UUID, 0, call_proc_uuid },
	{ "snowflake_mutex", "in-process Snowflake behind a mutex", GROUP_PEER,
	  1, NEED_SNOWFLAKE, 1, call_snowflake },
};

const unsigned int bench_nr_modes = sizeof(bench_modes) /
				    sizeof(bench_modes[0]);

const struct bench_mode *bench_find_mode(const char *name)
{
	unsigned int i;

	for (i = 0; i < bench_nr_modes; i++)
		if (!strcmp(bench_modes[i].name, name))
			return &bench_modes[i];
	return NULL;
}

/* ---- setup ---- */

static int read_config(struct flakeid_config *cfg)
{
	int fd = open(FLAKEID_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
	if (ioctl(fd, FLAKEID_IOC_CONFIG, cfg) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int uuidd_answers(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int ret = 0;

	if (s < 0)
		return -errno;
	strcpy(sa.sun_path, UUIDD_SOCKET);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		ret = -errno;
	close(s);
	return ret;
}

int bench_shared_init(struct bench_shared *sh, unsigned int needs)
{
	int ret;

	memset(sh, 0, sizeof(*sh));
	sh->dev_fd = -1;
	/* The snowflake peer uses the device's layout, so both share a ceiling. */
	if (needs & (NEED_DEV | NEED_SHARED_DEV | NEED_LIB | NEED_SNOWFLAKE)) {
		ret = read_config(&sh->cfg);
		if (ret)
			return ret;
	}
	if (needs & NEED_SHARED_DEV) {
		sh->dev_fd = open(FLAKEID_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
		if (sh->dev_fd < 0)
			return -errno;
	}
	if (needs & NEED_LIB) {
		ret = flakeid_open(&sh->lib, NULL, 0);
		if (ret)
			return ret;
		if (needs & NEED_LIB_CACHE) {
			ret = flakeid_set_cache(sh->lib,
						FLAKEID_CACHE_BLOCK_DEFAULT,
						FLAKEID_CACHE_MAX_AGE_DEFAULT);
			if (ret)
				return ret;
		}
	}
	if (needs & NEED_SNOWFLAKE) {
		ret = snowflake_init(&sh->sf, &sh->cfg);
		if (ret)
			return ret;
	}
	if (needs & NEED_UUIDD) {
		ret = uuidd_answers();
		if (ret)
			return ret;
	}
	return 0;
}

void bench_shared_exit(struct bench_shared *sh)
{
	if (sh->dev_fd >= 0)
		close(sh->dev_fd);
	flakeid_close(sh->lib);
	sh->dev_fd = -1;
	sh->lib = NULL;
}

int bench_thread_init(struct bench_thread *t, struct bench_shared *sh,
		      const struct bench_mode *m)
{
	memset(t, 0, sizeof(*t));
	t->sh = sh;
	t->mode = m;
	t->fd = t->zero_fd = t->proc_fd = t->uuid7_fd = -1;
	t->buf = calloc(BENCH_BUF_IDS, sizeof(*t->buf));
	if (!t->buf)
		return -ENOMEM;
	if (m->needs & NEED_DEV) {
		t->fd = open(FLAKEID_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
		if (t->fd < 0)
			return -errno;
		t->own_fd = 1;
	} else if (m->needs & NEED_SHARED_DEV) {
		t->fd = sh->dev_fd;
	}
	if (m->needs & NEED_UUID7_DEV) {
		t->uuid7_fd = open(FLAKEID_UUID7_DEVICE_PATH,
				   O_RDONLY | O_CLOEXEC);
		if (t->uuid7_fd < 0)
			return -errno;
	}
	if (m->needs & NEED_ZERO) {
		t->zero_fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
		if (t->zero_fd < 0)
			return -errno;
	}
	if (m->needs & NEED_PROC_UUID) {
		t->proc_fd = open(PROC_UUID, O_RDONLY | O_CLOEXEC);
		if (t->proc_fd < 0)
			return -errno;
	}
	return 0;
}

void bench_thread_exit(struct bench_thread *t)
{
	if (t->own_fd && t->fd >= 0)
		close(t->fd);
	if (t->zero_fd >= 0)
		close(t->zero_fd);
	if (t->proc_fd >= 0)
		close(t->proc_fd);
	if (t->uuid7_fd >= 0)
		close(t->uuid7_fd);
	free(t->buf);
	free(t->log);
	t->buf = t->log = NULL;
}

/*
 * ---- sysfs counters: read and written by the tests' helpers
 * (tests/flakeid_util.h); here every answer is 0 or -errno, -EIO for an
 * empty file or a short write.
 */

int sysfs_str(const char *name, char *buf, size_t size)
{
	int ret = fl_sysfs_read(name, buf, size);

	return ret ? ret : buf[0] ? 0 : -EIO;
}

int sysfs_write(const char *name, const char *value)
{
	long n = fl_sysfs_write(name, value);

	return n == (long)strlen(value) ? 0 : n < 0 ? (int)n : -EIO;
}

int sysfs_u64(const char *name, uint64_t *val)
{
	*val = fl_sysfs_u64(name);
	return *val == UINT64_MAX ? -EIO : 0;
}

int sysfs_s64(const char *name, int64_t *val)
{
	*val = fl_sysfs_s64(name);
	return *val == INT64_MIN ? -EIO : 0;
}
