/* SPDX-License-Identifier: MIT */
/*
 * libflakeid: unique, time-ordered 64-bit IDs and UUIDv7s from /dev/flakeid.
 *
 * Every function that can fail returns 0 or a negative errno value;
 * flakeid_strerror() turns one into a message.  The structures the kernel
 * defines (struct flakeid_config) come from <linux/flakeid.h>, installed
 * as <includedir>/flakeid/linux/flakeid.h, out of the kernel headers' way;
 * `pkg-config --cflags flakeid` adds that directory.
 *
 * The header stands alone in C99 and C++, and its structures hold only
 * fixed-width members, so their layout does not depend on the size of
 * time_t or off_t (_TIME_BITS, _FILE_OFFSET_BITS).
 */
#ifndef FLAKEID_H
#define FLAKEID_H

#include <stddef.h>
#include <stdint.h>
#include <linux/flakeid.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FLAKEID_VERSION_MAJOR	1
#define FLAKEID_VERSION_MINOR	4

/* An open /dev/flakeid.  One handle may be shared by any number of threads. */
struct flakeid;

/* flakeid_open() flags */
#define FLAKEID_OPEN_NONBLOCK	(1U << 0)	/* -EAGAIN instead of waiting */

int flakeid_open(struct flakeid **hp, const char *path, unsigned int flags);
void flakeid_close(struct flakeid *h);

/* Where the configuration and counter files live (tests, chroots). */
int flakeid_set_sysfs_dir(struct flakeid *h, const char *dir);

int flakeid_next(struct flakeid *h, uint64_t *id);
int flakeid_batch(struct flakeid *h, uint64_t *ids, size_t n);

/*
 * Per-thread cache: each thread takes @block IDs at a time and hands them
 * out for at most @max_age_ms after fetching them.  @block 0 turns it off.
 */
#define FLAKEID_CACHE_BLOCK_DEFAULT	256
#define FLAKEID_CACHE_BLOCK_MAX		65536
#define FLAKEID_CACHE_MAX_AGE_DEFAULT	20
#define FLAKEID_CACHE_MAX_AGE_MAX	60000

int flakeid_set_cache(struct flakeid *h, unsigned int block,
		      unsigned int max_age_ms);

/*
 * A timespec's two members in 64 bits whatever time_t is.  Until 1.1 this
 * was a struct timespec, which has another size on 32-bit targets; the
 * functions taking struct flakeid_parts have LIBFLAKEID_1.1 versions, and
 * their 1.0 versions remain for programs built against the old layout.
 */
struct flakeid_time {
	int64_t tv_sec;
	int64_t tv_nsec;
};

/* The parts of an ID. */
struct flakeid_parts {
	uint64_t id;
	uint64_t unix_ms;	/* timestamp + epoch, ms since 1970-01-01 UTC */
	uint64_t timestamp;	/* ms since the configured epoch */
	struct flakeid_time time;	/* unix_ms in seconds and nanoseconds */
	uint32_t region_id;
	uint32_t app_id;
	uint32_t machine_id;
	uint32_t sequence;
};

int flakeid_decode(struct flakeid *h, uint64_t id, struct flakeid_parts *parts);

/* The same arithmetic without a device, under any valid configuration. */
void flakeid_default_config(struct flakeid_config *cfg);
int flakeid_decode_with(const struct flakeid_config *cfg, uint64_t id,
			struct flakeid_parts *parts);
int flakeid_compose(const struct flakeid_config *cfg,
		    const struct flakeid_parts *parts, uint64_t *id);

/*
 * A layout as text, "T:R:A:M:S": the timestamp, region, app, machine and
 * sequence bits, as the module's layout parameter and sysfs file spell
 * it.  Both functions apply the layout rules; parsing sets the five
 * *_bits members of @cfg and nothing else.  FLAKEID_LAYOUT_SIZE holds any
 * valid layout and its NUL.
 */
#define FLAKEID_LAYOUT_SIZE	16

int flakeid_parse_layout(const char *s, struct flakeid_config *cfg);
int flakeid_format_layout(const struct flakeid_config *cfg, char *buf,
			  size_t size);

/*
 * The timestamp ceiling, cfg->until_ms: FLAKEID_UNTIL_NONE (no ceiling),
 * FLAKEID_UNTIL_FENCED (the device issues nothing), or the last Unix ms an
 * ID may carry, at most FLAKEID_UNTIL_MS_MAX (the kernel's time range).
 */
#define FLAKEID_UNTIL_MS_MAX	9223372036854ULL	/* KTIME_MAX in ms */

int flakeid_get_config(struct flakeid *h, struct flakeid_config *cfg);
int flakeid_refresh_config(struct flakeid *h);

/* flakeid_set_config() @what: the members of @cfg to apply */
#define FLAKEID_SET_REGION	(1U << 0)	/* region_id */
#define FLAKEID_SET_APP		(1U << 1)	/* app_id */
#define FLAKEID_SET_MACHINE	(1U << 2)	/* machine_id */
#define FLAKEID_SET_EPOCH	(1U << 3)	/* epoch_ms */
#define FLAKEID_SET_LAYOUT	(1U << 4)	/* the five *_bits */
#define FLAKEID_SET_MAX_BORROW	(1U << 5)	/* max_borrow_ms */
#define FLAKEID_SET_FLOOR	(1U << 6)	/* floor_ms */
#define FLAKEID_SET_UNTIL	(1U << 7)	/* until_ms */
#define FLAKEID_SET_IDS		(FLAKEID_SET_REGION | FLAKEID_SET_APP | \
				 FLAKEID_SET_MACHINE)

int flakeid_set_config(struct flakeid *h, const struct flakeid_config *cfg,
		       unsigned int what);
/* How long a reader at the ceiling waits for a raise, in ms. */
int flakeid_set_until_wait(struct flakeid *h, uint32_t until_wait_ms);

/*
 * The device's counters and ceiling (sysfs).  Up to generation this is the
 * 1.0 struct; the members after it came in 1.2, whose flakeid_get_stats()
 * fills them, and programs built before keep the 1.0 function, which
 * writes only the 1.0 members.
 */
struct flakeid_stats {
	uint64_t ids_issued;
	uint64_t clock_steps_back;
	uint64_t borrowed_ms;
	uint64_t waits;
	uint64_t refills;
	int64_t ahead_ms;	/* ID clock minus wall clock */
	uint64_t generation;
	uint64_t until_ms;	/* FLAKEID_UNTIL_NONE, _FENCED or a Unix ms */
	uint32_t until_wait_ms;
	uint32_t reserved0;	/* zero */
	uint64_t until_waits;	/* readers that waited at the ceiling */
	uint64_t until_refused;	/* reads refused: fenced or wait over */
	uint64_t vm_forks;	/* VM restores and clones seen (each fenced) */
};

int flakeid_get_stats(struct flakeid *h, struct flakeid_stats *st);

/*
 * UUIDv7 (RFC 9562) from the same generator, since 1.4: 16 bytes in the
 * RFC's byte order, so memcmp() order is time order.  The text form is the
 * canonical lowercase 8-4-4-4-12 hex; FLAKEID_UUID7_TEXT_SIZE holds it and
 * its NUL.  A module without UUIDs answers -EOPNOTSUPP.
 */
#define FLAKEID_UUID7_TEXT_SIZE	37

struct flakeid_uuid7 {
	uint8_t b[16];		/* FLAKEID_UUID7_SIZE */
};

/* The fields of a UUIDv7; the counter is opaque (flakeid_uuid7(3)). */
struct flakeid_uuid7_parts {
	uint64_t unix_ms;	/* unix_ts_ms, 48 bits */
	struct flakeid_time time;	/* unix_ms in seconds and nanoseconds */
	uint64_t counter;	/* rand_a and rand_b's top 30 bits: 42 bits */
	uint32_t random;	/* rand_b's low 32 bits */
	uint8_t version;	/* 7 */
	uint8_t variant;	/* the top two bits of byte 8: 2 (binary 10) */
	uint8_t reserved[2];	/* zero */
};

int flakeid_uuid7(struct flakeid *h, struct flakeid_uuid7 *uuid);
int flakeid_uuid7_batch(struct flakeid *h, struct flakeid_uuid7 *uuids,
			size_t n);
int flakeid_format_uuid7(const struct flakeid_uuid7 *uuid, char *buf,
			 size_t size);
/* These two say -EDOM for a UUID of another version or variant. */
int flakeid_parse_uuid7(const char *s, struct flakeid_uuid7 *uuid);
int flakeid_decode_uuid7(const struct flakeid_uuid7 *uuid,
			 struct flakeid_uuid7_parts *parts);

const char *flakeid_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* FLAKEID_H */
