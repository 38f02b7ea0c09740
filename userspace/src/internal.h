/* SPDX-License-Identifier: MIT */
/* Internal to libflakeid: not installed, none of it exported. */
#ifndef FLAKEID_INTERNAL_H
#define FLAKEID_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "flakeid.h"

struct flakeid {
	int fd;
	unsigned int flags;
	/*
	 * Names this handle's current cache setting; 0 when the cache is off.
	 * Taken from a process-wide counter that never repeats, so a thread's
	 * cache entry can only ever match the handle and setting it was
	 * filled for, even after the handle is closed and its memory reused.
	 */
	_Atomic uint64_t cache_id;
	_Atomic unsigned int cache_block;
	_Atomic uint64_t cache_max_age_ns;
	/* The configuration decode uses; written only by a refresh. */
	pthread_rwlock_t cfg_lock;
	struct flakeid_config cfg;
	char *sysfs_dir;
};

/*
 * Exports @impl as @versioned: "name@@NODE" is the version programs link
 * against from now on, "name@NODE" one kept for programs linked earlier.
 * The nodes are in libflakeid.map.
 */
#define FLAKEID_SYMVER(impl, versioned) \
	__asm__(".symver " #impl ", " versioned)

/* The LIBFLAKEID_1.1 and 1.2 implementations behind the public names. */
int flakeid__decode(struct flakeid *h, uint64_t id,
		    struct flakeid_parts *parts);
int flakeid__decode_with(const struct flakeid_config *cfg, uint64_t id,
			 struct flakeid_parts *parts);
int flakeid__compose(const struct flakeid_config *cfg,
		     const struct flakeid_parts *parts, uint64_t *id);
int flakeid__get_stats_1_2(struct flakeid *h, struct flakeid_stats *st);

int flakeid__layout_check(const struct flakeid_config *cfg);
unsigned int flakeid__layout_total(const struct flakeid_config *cfg);
int flakeid__fits(uint64_t value, unsigned int bits);

int flakeid__read_config(int fd, struct flakeid_config *cfg);
int flakeid__until_unknown(const struct flakeid *h);
int flakeid__get_stats(struct flakeid *h, struct flakeid_stats *s,
		       int ceiling);

typedef int (*flakeid__gettime_fn)(clockid_t id, struct timespec *ts);
flakeid__gettime_fn flakeid__vdso_gettime(void);

uint64_t flakeid__coarse_lag_ns(uint64_t tick_ns);
int flakeid__read_one(struct flakeid *h, uint64_t *id);
size_t flakeid__cache_take(struct flakeid *h, uint64_t *ids, size_t n);
int flakeid__fetch(struct flakeid *h, uint64_t *ids, size_t n, size_t *got);
int flakeid__uuid7_fetch(struct flakeid *h, struct flakeid_uuid7 *uuids,
			  size_t n, size_t *got);

#endif /* FLAKEID_INTERNAL_H */
