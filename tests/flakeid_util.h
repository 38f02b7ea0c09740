/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the flakeid test programs: sysfs access, the ioctls,
 * clocks, and composing/splitting IDs in userspace from a known layout.
 * Every helper returns a value or -errno and never aborts, so the callers
 * decide (ASSERT/EXPECT) what a failure means.
 */
#ifndef FLAKEID_UTIL_H
#define FLAKEID_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include <linux/flakeid.h>

#include "ids.h"

#define SYSFS_DIR FLAKEID_SYSFS_DIR "/"

/* Both ABIs must agree on the struct layouts (no implicit padding). */
_Static_assert(sizeof(struct flakeid_batch) == FLAKEID_BATCH_SIZE_VER0,
	       "flakeid_batch size");
_Static_assert(sizeof(struct flakeid_decode) == FLAKEID_DECODE_SIZE_VER0,
	       "flakeid_decode size");
_Static_assert(sizeof(struct flakeid_config) == FLAKEID_CONFIG_SIZE_VER0,
	       "flakeid_config size");
_Static_assert(sizeof(struct flakeid_uuid7_batch) ==
	       FLAKEID_UUID7_BATCH_SIZE_VER0, "flakeid_uuid7_batch size");

struct fl_layout {
	unsigned int ts, region, app, machine, seq;
};

struct fl_fields {
	uint64_t ts;
	uint32_t region, app, machine, seq;
};

static inline int64_t fl_now_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void fl_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Write @val to the file at @path (any sysfs file); bytes written or -errno. */
static inline long fl_file_write(const char *path, const char *val)
{
	long ret;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = write(fd, val, strlen(val));
	if (ret < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Read the file at @path into @buf with the trailing newline removed. */
static inline int fl_file_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

/* The same for one of the device's attributes, by name. */
static inline long fl_sysfs_write(const char *name, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), SYSFS_DIR "%s", name);
	return fl_file_write(path, val);
}

static inline int fl_sysfs_read(const char *name, char *buf, size_t len)
{
	char path[256];

	snprintf(path, sizeof(path), SYSFS_DIR "%s", name);
	return fl_file_read(path, buf, len);
}

/* A numeric sysfs file; on any error returns INT64_MIN. */
static inline int64_t fl_sysfs_s64(const char *name)
{
	char buf[64], *end;
	long long v;

	if (fl_sysfs_read(name, buf, sizeof(buf)) || !buf[0])
		return INT64_MIN;
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno || *end)
		return INT64_MIN;
	return v;
}

static inline uint64_t fl_sysfs_u64(const char *name)
{
	char buf[64], *end;
	unsigned long long v;

	if (fl_sysfs_read(name, buf, sizeof(buf)) || !buf[0])
		return UINT64_MAX;
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno || *end)
		return UINT64_MAX;
	return v;
}

static inline long fl_sysfs_write_u64(const char *name, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return fl_sysfs_write(name, buf);
}

/* The ID clock now, in Unix ms: the wall clock plus ahead_ms. */
static inline int64_t fl_idclock_ms(void)
{
	int64_t ahead = fl_sysfs_s64("ahead_ms");

	if (ahead == INT64_MIN)
		return INT64_MIN;
	return fl_now_ms(CLOCK_REALTIME) + ahead;
}

/* Pin the calling thread to @cpu (every includer defines _GNU_SOURCE). */
static inline int fl_pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* Step the wall clock by @ms (either way); 0 or -errno. */
static inline int fl_step_wall_clock(int64_t ms)
{
	struct timespec t;
	int64_t ns;

	clock_gettime(CLOCK_REALTIME, &t);
	ns = (int64_t)t.tv_nsec + (ms % 1000) * 1000000LL;
	t.tv_sec += ms / 1000 + (ns < 0 ? -1 : ns / 1000000000LL);
	t.tv_nsec = ((ns % 1000000000LL) + 1000000000LL) % 1000000000LL;
	return clock_settime(CLOCK_REALTIME, &t) ? -errno : 0;
}

static inline int fl_get_config(int fd, struct flakeid_config *c)
{
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	return ioctl(fd, FLAKEID_IOC_CONFIG, c) ? -errno : 0;
}

static inline int fl_decode(int fd, uint64_t id, struct flakeid_decode *d)
{
	memset(d, 0, sizeof(*d));
	d->size = sizeof(*d);
	d->id = id;
	return ioctl(fd, FLAKEID_IOC_DECODE, d) ? -errno : 0;
}

/* FLAKEID_IOC_BATCH: the number of IDs written or -errno. */
static inline long fl_batch(int fd, uint64_t *ids, uint64_t count,
			    uint32_t flags)
{
	struct flakeid_batch b = {
		.size = sizeof(b),
		.flags = flags,
		.count = count,
		.ids = (uintptr_t)ids,
	};

	if (ioctl(fd, FLAKEID_IOC_BATCH, &b))
		return -errno;
	return (long)b.count;
}

/* read(2) of @count IDs: the number of IDs read or -errno. */
static inline long fl_read(int fd, uint64_t *ids, size_t count)
{
	ssize_t n = read(fd, ids, count * sizeof(*ids));

	if (n < 0)
		return -errno;
	if (n % 8)
		return -EPROTO;	/* never a partial ID */
	return (long)(n / 8);
}

/* A UUIDv7 as the device writes it: 16 bytes, big-endian. */
struct fl_uuid {
	uint8_t b[FLAKEID_UUID7_SIZE];
};

/* read(2) of @count UUIDs: the number of UUIDs read or -errno. */
static inline long fl_uuid_read(int fd, struct fl_uuid *u, size_t count)
{
	ssize_t n = read(fd, u, count * sizeof(*u));

	if (n < 0)
		return -errno;
	if (n % FLAKEID_UUID7_SIZE)
		return -EPROTO;	/* never a partial UUID */
	return (long)(n / FLAKEID_UUID7_SIZE);
}

/* FLAKEID_IOC_UUID7_BATCH: the number of UUIDs written or -errno. */
static inline long fl_uuid_batch(int fd, struct fl_uuid *u, uint64_t count,
				 uint32_t flags)
{
	struct flakeid_uuid7_batch b = {
		.size = sizeof(b),
		.flags = flags,
		.count = count,
		.uuids = (uintptr_t)u,
	};

	if (ioctl(fd, FLAKEID_IOC_UUID7_BATCH, &b))
		return -errno;
	return (long)b.count;
}

/* unix_ts_ms: bytes 0..5. */
static inline uint64_t fl_uuid_ms(const struct fl_uuid *u)
{
	uint64_t ms = 0;
	int i;

	for (i = 0; i < 6; i++)
		ms = ms << 8 | u->b[i];
	return ms;
}

/* The 42-bit counter: rand_a (12 bits), then the top 30 bits of rand_b. */
static inline uint64_t fl_uuid_counter(const struct fl_uuid *u)
{
	return (uint64_t)(u->b[6] & 0x0f) << 38 | (uint64_t)u->b[7] << 30 |
	       (uint64_t)(u->b[8] & 0x3f) << 24 | (uint64_t)u->b[9] << 16 |
	       (uint64_t)u->b[10] << 8 | u->b[11];
}

static inline int fl_uuid_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct fl_uuid));
}

static inline void fl_layout_of(const struct flakeid_config *c,
				struct fl_layout *l)
{
	l->ts = c->timestamp_bits;
	l->region = c->region_bits;
	l->app = c->app_bits;
	l->machine = c->machine_bits;
	l->seq = c->sequence_bits;
}

static inline uint64_t fl_mask(unsigned int bits)
{
	return bits >= 64 ? ~0ULL : (1ULL << bits) - 1;
}

static inline uint64_t fl_compose(const struct fl_layout *l,
				  const struct fl_fields *f)
{
	unsigned int sh = 0;
	uint64_t id = 0;

	id |= ((uint64_t)f->seq & fl_mask(l->seq)) << sh;
	sh += l->seq;
	id |= ((uint64_t)f->machine & fl_mask(l->machine)) << sh;
	sh += l->machine;
	id |= ((uint64_t)f->app & fl_mask(l->app)) << sh;
	sh += l->app;
	id |= ((uint64_t)f->region & fl_mask(l->region)) << sh;
	sh += l->region;
	if (sh < 64)
		id |= (f->ts & fl_mask(l->ts)) << sh;
	return id;
}

static inline void fl_split(const struct fl_layout *l, uint64_t id,
			    struct fl_fields *f)
{
	f->seq = id & fl_mask(l->seq);
	id = l->seq < 64 ? id >> l->seq : 0;
	f->machine = id & fl_mask(l->machine);
	id >>= l->machine;
	f->app = id & fl_mask(l->app);
	id >>= l->app;
	f->region = id & fl_mask(l->region);
	id >>= l->region;
	f->ts = id;
}

/*
 * Wait until the ID clock has passed floor_ms, i.e. every millisecond
 * handed out so far (borrowed ones included) is in the past.  Tests that
 * leave borrowed milliseconds behind call it so the next test starts clean.
 */
static inline void fl_settle(void)
{
	uint64_t floor = fl_sysfs_u64("floor_ms");
	int64_t now = fl_idclock_ms();
	int64_t wait;

	if (floor == UINT64_MAX || now == INT64_MIN)
		return;
	wait = (int64_t)floor - now + 5;
	if (wait > 70000)
		wait = 70000;
	if (wait > 0)
		fl_sleep_ms(wait);
}

/*
 * A configuration write that may be refused with ERANGE only because the
 * IDs issued so far sit in borrowed milliseconds ahead of the ID clock:
 * retry for a while as the clock catches up.
 */
static inline long fl_sysfs_write_settled(const char *name, const char *val)
{
	long ret = fl_sysfs_write(name, val);
	int i;

	for (i = 0; ret == -ERANGE && i < 12; i++) {
		fl_settle();
		fl_sleep_ms(250);
		ret = fl_sysfs_write(name, val);
	}
	return ret;
}

#define FL_DEFAULT_LAYOUT "41:4:3:5:10"

/*
 * Put the module back to its default configuration (the state tests/main/guest.sh
 * loads it in).  Returns 0 or the first -errno.
 */
static inline int fl_restore_defaults(void)
{
	static const char *const ids[] = { "region_id", "app_id", "machine_id" };
	char buf[64];
	long ret;
	int err = 0;
	size_t i;

	if (geteuid() != 0)
		return 0;
	for (i = 0; i < 3; i++) {
		if (fl_sysfs_u64(ids[i]) == 0)
			continue;
		ret = fl_sysfs_write_settled(ids[i], "0");
		if (ret < 0 && !err)
			err = (int)ret;
	}
	if (fl_sysfs_read("layout", buf, sizeof(buf)) ||
	    strcmp(buf, FL_DEFAULT_LAYOUT)) {
		ret = fl_sysfs_write_settled("layout", FL_DEFAULT_LAYOUT);
		if (ret < 0 && !err)
			err = (int)ret;
	}
	if (fl_sysfs_u64("epoch_ms") != FLAKEID_DEFAULT_EPOCH_MS) {
		ret = fl_sysfs_write_settled("epoch_ms", "1704067200000");
		if (ret < 0 && !err)
			err = (int)ret;
	}
	if (fl_sysfs_read("until_ms", buf, sizeof(buf)) || strcmp(buf, "none")) {
		ret = fl_sysfs_write("until_ms", "none");
		if (ret < 0 && !err)
			err = (int)ret;
	}
	if (fl_sysfs_u64("until_wait_ms") != FLAKEID_DEFAULT_UNTIL_WAIT_MS) {
		ret = fl_sysfs_write("until_wait_ms", "1000");
		if (ret < 0 && !err)
			err = (int)ret;
	}
	if (fl_sysfs_u64("max_borrow_ms") != FLAKEID_DEFAULT_MAX_BORROW_MS) {
		ret = fl_sysfs_write("max_borrow_ms", "1000");
		if (ret < 0 && !err)
			err = (int)ret;
	}
	return err;
}

#endif /* FLAKEID_UTIL_H */
