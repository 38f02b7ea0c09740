/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * flakeid: unique, time-ordered 64-bit IDs from /dev/flakeid.
 *
 * This is the only header shared by the kernel module and userspace.
 *
 * ID layout, high bit to low:
 *
 *   timestamp | region_id | app_id | machine_id | sequence
 *
 * The timestamp counts milliseconds since the configured epoch (default
 * FLAKEID_DEFAULT_EPOCH_MS, 2024-01-01T00:00:00Z).  Default widths are
 * 41:4:3:5:10, 63 bits, so bit 63 stays clear.
 *
 * read(2) of 8*N bytes returns N native-endian __u64 IDs.  A length that is
 * not a multiple of 8 but at least 8 is rounded down; 1..7 bytes is EINVAL.
 * With nothing read, read(2) and FLAKEID_IOC_BATCH fail with EOVERFLOW once
 * the timestamp field is used up (the ID clock has passed epoch +
 * 2^timestamp_bits - 1 ms): no ID can be issued under this epoch and
 * layout.  They fail with EKEYEXPIRED when this host may not issue IDs now:
 * the next ID would carry a timestamp above the ceiling until_ms
 * (/sys/class/misc/flakeid/until_ms) and it was not raised within
 * until_wait_ms, or the device is fenced (until_ms = 0, set by an operator,
 * a lease agent, or by the module itself when its VM was restored from a
 * snapshot or cloned).  Where a blocking caller would wait for a raise, a
 * non-blocking one gets EAGAIN.  A call that a VM restore or clone cut in
 * two (the VM generation ID changed between its start and its end) fails
 * with EKEYEXPIRED even though it wrote IDs: they are void.
 *
 * General ioctl format
 * --------------------
 * Every ioctl takes a pointer to a struct whose first member is a __u32
 * @size, set by the caller to sizeof() the struct it was compiled with, and a
 * __u32 @flags.  The kernel accepts a smaller @size down to the first
 * published version of the struct (missing members read as zero) and a
 * larger one as long as every byte it does not know is zero.  Members named
 * reserved must be zero.  The ioctl numbers carry the direction and the size
 * of the struct as this header defines it, for strace and seccomp; the
 * kernel ignores their size bits and goes by @size, so a struct can grow
 * without a new command.  A seccomp filter should therefore match the
 * direction, type and number and mask the size (_IOC_SIZEMASK).
 *
 * Errors common to all commands:
 *   ENOTTY  unknown command (including other drivers' magic numbers)
 *   EFAULT  the struct or a buffer it points to is not accessible
 *   EINVAL  @size below the first version, unknown @flags, non-zero reserved
 *           members, or a member out of its documented range
 *   E2BIG   @size larger than the kernel's struct and the extra bytes are not
 *           all zero, or @size above FLAKEID_STRUCT_SIZE_MAX (4096; no
 *           struct will grow that far)
 *
 * Structs use fixed-width types only, have no implicit padding, and carry
 * user pointers in __aligned_u64, so 32-bit and 64-bit processes share them.
 */
#ifndef _UAPI_LINUX_FLAKEID_H
#define _UAPI_LINUX_FLAKEID_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define FLAKEID_DEVICE_PATH		"/dev/flakeid"
#define FLAKEID_SYSFS_DIR		"/sys/class/misc/flakeid"

#define FLAKEID_DEFAULT_EPOCH_MS	1704067200000ULL
#define FLAKEID_DEFAULT_TIMESTAMP_BITS	41
#define FLAKEID_DEFAULT_REGION_BITS	4
#define FLAKEID_DEFAULT_APP_BITS	3
#define FLAKEID_DEFAULT_MACHINE_BITS	5
#define FLAKEID_DEFAULT_SEQUENCE_BITS	10
#define FLAKEID_DEFAULT_MAX_BORROW_MS	1000

/* Layout limits: the widths sum to at most 64. */
#define FLAKEID_TOTAL_BITS_MAX		64
#define FLAKEID_TIMESTAMP_BITS_MIN	32
#define FLAKEID_SEQUENCE_BITS_MIN	1
#define FLAKEID_MAX_BORROW_MS_MAX	60000

/* until_ms, the timestamp ceiling: none (the default), or 0 to fence. */
#define FLAKEID_UNTIL_NONE		0xffffffffffffffffULL
#define FLAKEID_UNTIL_FENCED		0ULL
#define FLAKEID_DEFAULT_UNTIL_WAIT_MS	1000
#define FLAKEID_UNTIL_WAIT_MS_MAX	60000

/* Most IDs one FLAKEID_IOC_BATCH call (or one read) can return. */
#define FLAKEID_BATCH_MAX		1048576U	/* 2^20 */

/* Largest @size any ioctl accepts, whatever the page size. */
#define FLAKEID_STRUCT_SIZE_MAX		4096U

/* Not taken in Documentation/userspace-api/ioctl/ioctl-number.rst (6.1). */
#define FLAKEID_IOC_TYPE		0xB9

/*
 * FLAKEID_IOC_BATCH - fetch up to @count IDs into the array at @ids.
 * @size:     sizeof(struct flakeid_batch)
 * @flags:    FLAKEID_BATCH_NONBLOCK, or 0
 * @count:    in: IDs wanted, 0..FLAKEID_BATCH_MAX; out: IDs written
 * @ids:      user pointer to room for @count __u64
 * @reserved: must be zero
 *
 * Returns 0 with @count set to the number of IDs written, which is less than
 * asked when a signal arrives, or the borrow limit, the ceiling or the end
 * of the timestamp field is reached, after some IDs were written.  With
 * nothing written: EAGAIN (non-blocking and the borrow limit or the ceiling
 * reached), EINTR/restart (signal), EFAULT (bad
 * @ids), EOVERFLOW (the timestamp field is used up), EKEYEXPIRED (at the
 * ceiling or fenced, see above).
 * @count above FLAKEID_BATCH_MAX is EINVAL.  IDs written to the caller's
 * array are strictly increasing and greater than every ID the same open file
 * returned before.
 */
#define FLAKEID_BATCH_NONBLOCK		0x1U

struct flakeid_batch {
	__u32 size;
	__u32 flags;
	__u64 count;
	__aligned_u64 ids;
	__u64 reserved;
};

#define FLAKEID_BATCH_SIZE_VER0		32

/*
 * FLAKEID_IOC_DECODE - split @id into its fields under the current layout.
 * @id:         in: the ID
 * @unix_ms:    out: @timestamp + epoch, milliseconds since 1970-01-01 UTC
 * @timestamp:  out: milliseconds since the configured epoch
 * @region_id, @app_id, @machine_id, @sequence: out: the fields
 * @reserved:   must be zero
 *
 * EINVAL when @id has bits set above the configured layout (bit 63 with the
 * default 63-bit layout).  Output members are written whatever their input.
 */
struct flakeid_decode {
	__u32 size;
	__u32 flags;
	__u64 id;
	__u64 unix_ms;
	__u64 timestamp;
	__u32 region_id;
	__u32 app_id;
	__u32 machine_id;
	__u32 sequence;
	__u64 reserved;
};

#define FLAKEID_DECODE_SIZE_VER0	56

/*
 * FLAKEID_IOC_CONFIG - read the current configuration.
 * Every member after @flags is output; @reserved0 must be zero on input.
 * @generation increases by one on every accepted configuration change, so
 * a caller that caches the layout can tell when to read it again.
 * @floor_ms is a millisecond at or after the timestamp of every ID issued
 * so far (the value to save for /sys/class/misc/flakeid/floor_ms).
 * @until_ms is the timestamp ceiling: FLAKEID_UNTIL_NONE, a Unix ms, or 0
 * (fenced).  @vm_forks counts the VM restores and clones the module saw
 * (each one fenced it).  Both were reserved, always zero, before the
 * ceiling existed: the struct kept its size.
 */
struct flakeid_config {
	__u32 size;
	__u32 flags;
	__u64 epoch_ms;
	__u32 timestamp_bits;
	__u32 region_bits;
	__u32 app_bits;
	__u32 machine_bits;
	__u32 sequence_bits;
	__u32 region_id;
	__u32 app_id;
	__u32 machine_id;
	__u32 max_borrow_ms;
	__u32 reserved0;
	__u64 floor_ms;
	__u64 generation;
	__u64 until_ms;
	__u64 vm_forks;
};

#define FLAKEID_CONFIG_SIZE_VER0	88

/*
 * UUIDv7 (RFC 9562) from the same generator
 * -----------------------------------------
 * FLAKEID_UUID7_DEVICE_PATH is a second device node: read(2) of 16*N bytes
 * returns N UUIDs of 16 bytes each, in the RFC's byte order (big-endian), so
 * memcmp() order is time order.  A length that is not a multiple of 16 but
 * at least 16 is rounded down; 1..15 bytes is EINVAL.  Errors as for
 * /dev/flakeid (EAGAIN, EOVERFLOW, EKEYEXPIRED for the ceiling and the
 * fence, which apply to UUIDs as to IDs).  FLAKEID_IOC_UUID7_BATCH works
 * on either node.  UUIDs from one open file strictly increase (memcmp
 * order); a file's UUIDs and its 64-bit IDs are ordered separately.
 *
 * Fields (RFC 9562 section 5.7 and section 6.2, Method 1):
 *   unix_ts_ms  48 bits  the granted millisecond, Unix ms (the ID clock,
 *                        or ahead of it by up to max_borrow_ms)
 *   ver          4 bits  7
 *   rand_a      12 bits  counter bits 41..30
 *   var          2 bits  0b10
 *   rand_b      62 bits  counter bits 29..0, then 32 bits from the kernel's
 *                        random number generator, fresh for every UUID
 * The 42-bit counter has its top bit (the guard bit) clear, then a seed for
 * the millisecond (41 - sequence_bits bits of a keyed hash of it: one value
 * per millisecond on every CPU, unpredictable without the module's key),
 * then the sequence number the shared allocator granted in that millisecond
 * (the same sequence space the 64-bit IDs use, sequence_bits wide; a slot
 * becomes an ID or a UUID, never both).  So no two UUIDs of one host share
 * (unix_ts_ms, counter): uniqueness on a host is deterministic.  There is
 * no node ID in a UUIDv7 (RFC 9562 section 6.4 puts embedded node IDs in
 * UUIDv8): across hosts uniqueness rests on the random bits.
 */
#define FLAKEID_UUID7_DEVICE_PATH	"/dev/flakeid-uuid7"
#define FLAKEID_UUID7_SIZE		16
#define FLAKEID_UUID7_COUNTER_BITS	42

/*
 * FLAKEID_IOC_UUID7_BATCH - fetch up to @count UUIDs into the array at @uuids.
 * @size:     sizeof(struct flakeid_uuid7_batch)
 * @flags:    FLAKEID_BATCH_NONBLOCK, or 0
 * @count:    in: UUIDs wanted, 0..FLAKEID_BATCH_MAX; out: UUIDs written
 * @uuids:    user pointer to room for @count * FLAKEID_UUID7_SIZE bytes
 * @reserved: must be zero
 *
 * Returns as FLAKEID_IOC_BATCH does, with UUIDs for IDs.
 */
struct flakeid_uuid7_batch {
	__u32 size;
	__u32 flags;
	__u64 count;
	__aligned_u64 uuids;
	__u64 reserved;
};

#define FLAKEID_UUID7_BATCH_SIZE_VER0	32

#define FLAKEID_IOC_BATCH	_IOWR(FLAKEID_IOC_TYPE, 0x01, struct flakeid_batch)
#define FLAKEID_IOC_DECODE	_IOWR(FLAKEID_IOC_TYPE, 0x02, struct flakeid_decode)
#define FLAKEID_IOC_CONFIG	_IOWR(FLAKEID_IOC_TYPE, 0x03, struct flakeid_config)
#define FLAKEID_IOC_UUID7_BATCH	_IOWR(FLAKEID_IOC_TYPE, 0x04, \
				      struct flakeid_uuid7_batch)

#endif /* _UAPI_LINUX_FLAKEID_H */
