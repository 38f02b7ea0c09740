// SPDX-License-Identifier: GPL-2.0
/*
 * flakeid-fuzz: throw malformed ioctls, reads and sysfs stores at
 * /dev/flakeid and /dev/flakeid-uuid7 for a bounded time and check every
 * answer against the contract in uapi/linux/flakeid.h and docs/device.md.
 *
 *   flakeid-fuzz [-t SECONDS] [-j PROCS] [-s SEED] [-S] [-v]
 *
 * Each of PROCS processes (default: one per CPU) holds a few open files and
 * loops over random operations: the four ioctls with random sizes, flags,
 * reserved members, counts and pointers (NULL, unaligned, kernel, non-
 * canonical, read-only, running into an unmapped page), random command
 * numbers around the module's magic and elsewhere, reads and readv of odd
 * sizes (of IDs, and of UUIDs from a file of /dev/flakeid-uuid7 each file
 * holds beside), lseek/pread/mmap/write, O_NONBLOCK flips, and (root, unless -S)
 * sysfs stores that must be refused.  A timer signal interrupts long calls.
 *
 * A violation is an answer the contract forbids (a wrong errno, IDs or
 * UUIDs that do not increase on one file, a UUID without version 7 and
 * variant 0b10, a refused store that changed something); the
 * kernel's own detectors watch for the rest.  At the end a fresh file must
 * still get valid, increasing IDs that decode to the live configuration.
 * Exit status: 0 clean, 1 violations, 2 usage or setup error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <linux/flakeid.h>
#include "xorshift.h"

#define NFILES		4
#define BIGBUF_IDS	(FLAKEID_BATCH_MAX + 16)
#define MAX_REPORTS	20	/* violation messages printed per process */
#define PAGE		4096UL
#define RDONLY_SLOT	128	/* bytes per struct on the read-only page */

enum op {
	OP_BATCH, OP_DECODE, OP_CONFIG, OP_BADCMD, OP_READ, OP_READV,
	OP_MISC, OP_NONBLOCK, OP_REOPEN, OP_SYSFS, OP_UUID, OP_UREAD, OP_NR
};

static const char *const op_names[OP_NR] = {
	"batch", "decode", "config", "badcmd", "read", "readv",
	"misc", "nonblock", "reopen", "sysfs", "uuid7", "uread",
};

/* Totals shared by all processes (a MAP_SHARED page). */
struct totals {
	uint64_t ops[OP_NR];
	uint64_t ok[OP_NR];
	uint64_t err[OP_NR][160];	/* errno histogram per operation */
	uint64_t ids;
	uint64_t violations;
};

static struct totals *tot;
static int verbose;
static int reports;
static int no_sysfs;
static uint64_t rng;

/*
 * The memory pointers are picked from.  IDs and structs get areas of their
 * own, so a batch never writes its IDs over its own struct.
 */
struct area {
	uint8_t *good;		/* @len bytes of good memory */
	size_t len;
	uint8_t *edge;		/* a good page followed by an unmapped one */
};

static struct area data_area, cmd_area;
static uint8_t *bigbuf;		/* data_area.good: BIGBUF_IDS u64 */
static uint8_t *rdonly;		/* a read-only page of RDONLY_SLOT structs */
static uint8_t *noaccess;	/* a PROT_NONE page */

struct file_state {
	int fd;
	uint64_t last;		/* largest ID this open file returned */
	int nonblock;
	uint8_t last_uuid[16];	/* largest UUID the file returned (fd) */
	int ufd;		/* a file of /dev/flakeid-uuid7 */
	uint8_t ulast[16];	/* largest UUID ufd returned */
};

static struct file_state files[NFILES];

static uint64_t rnd(void)
{
	return xorshift64s(&rng);
}

static uint64_t below(uint64_t n)
{
	return xorshift64s_below(&rng, n);
}

static int chance(unsigned int percent)
{
	return below(100) < percent;
}

static void violation(const char *fmt, ...)
{
	va_list ap;

	__atomic_fetch_add(&tot->violations, 1, __ATOMIC_RELAXED);
	if (reports++ >= MAX_REPORTS)
		return;
	fprintf(stderr, "flakeid-fuzz[%d]: VIOLATION: ", getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void count(enum op op, long ret, int err)
{
	__atomic_fetch_add(&tot->ops[op], 1, __ATOMIC_RELAXED);
	if (ret >= 0)
		__atomic_fetch_add(&tot->ok[op], 1, __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(&tot->err[op][err < 160 ? err : 0], 1,
				   __ATOMIC_RELAXED);
}

static int errno_in(int err, const int *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i] == err)
			return 1;
	return 0;
}

#define EXPECT_ERRNO(what, err, ...)					\
	do {								\
		static const int ok_[] = { __VA_ARGS__ };		\
		if (!errno_in(err, ok_, sizeof(ok_) / sizeof(ok_[0])))	\
			violation("%s: errno %d (%s) not allowed here",	\
				  what, err, strerror(err));		\
	} while (0)

/* Interrupted calls come back as EINTR: the handler has no SA_RESTART. */
static void on_alarm(int sig)
{
	(void)sig;
}

/* ---- pointers ---- */

enum ptr_kind { PTR_GOOD, PTR_UNALIGNED, PTR_EDGE, PTR_BAD, PTR_RDONLY };

/*
 * A pointer for @len bytes the kernel will write (@len 0: any length).
 * *kind says how much of it is accessible.
 */
static uint64_t pick_ptr(const struct area *a, size_t len, enum ptr_kind *kind)
{
	static const uint64_t bad64[] = {
		0, 1, 8, 4095, 0xffffffffffffffffULL, 0xfffffffffffffff8ULL,
		0xffffffff81000000ULL,	/* kernel text */
		0xffff888000000000ULL,	/* direct map */
		0xffffc90000000000ULL,	/* vmalloc */
		0x0000800000000000ULL,	/* first non-canonical */
		0x00007ffffffff000ULL,	/* last user page, unmapped */
		0xdead000000000000ULL,
		0x00000000fffff000ULL,
		0x0000000100000000ULL,	/* beyond a 32-bit process */
	};
	unsigned int k = below(100);

	if (k < 55 || len > a->len - 8) {
		*kind = PTR_GOOD;
		return (uintptr_t)a->good;
	}
	if (k < 65) {
		*kind = PTR_UNALIGNED;
		return (uintptr_t)a->good + 1 + below(7);
	}
	if (k < 80 && (len < PAGE || !len)) {
		/* Starts in the good page, may run into the unmapped one. */
		*kind = PTR_EDGE;
		return (uintptr_t)a->edge + PAGE - 1 - below(len ? len + 8 : 64);
	}
	if (k < 85) {
		/* A readable struct (see make_rdonly) the kernel cannot answer into. */
		*kind = PTR_RDONLY;
		return (uintptr_t)rdonly + RDONLY_SLOT * below(PAGE / RDONLY_SLOT);
	}
	*kind = PTR_BAD;
	if (k < 88)
		return (uintptr_t)noaccess + below(PAGE);
	return bad64[below(sizeof(bad64) / sizeof(bad64[0]))];
}

/* Can the kernel write [p, p + len) of @a? */
static int writable(const struct area *a, uint64_t p, size_t len,
		    enum ptr_kind kind)
{
	if (!len)
		return 1;
	if (kind == PTR_GOOD || kind == PTR_UNALIGNED)
		return p + len <= (uintptr_t)a->good + a->len;
	if (kind == PTR_EDGE)
		return p + len <= (uintptr_t)a->edge + PAGE;
	return 0;
}

/* ---- checking what came back ---- */

static void check_ids(struct file_state *f, const uint64_t *ids, uint64_t n,
		      const char *what)
{
	uint64_t i, v;

	for (i = 0; i < n; i++) {
		memcpy(&v, &ids[i], sizeof(v));	/* may be unaligned */
		if (v <= f->last) {
			violation("%s: ID %" PRIu64 " of %" PRIu64 " is %#" PRIx64
				  ", not above the file's last %#" PRIx64,
				  what, i, n, v, f->last);
		}
		if (v > f->last)
			f->last = v;
	}
	__atomic_fetch_add(&tot->ids, n, __ATOMIC_RELAXED);
}

/* Version 7, variant 0b10, and above the last UUID of the same file. */
static void check_uuids(uint8_t *last, const uint8_t *u, uint64_t n,
			const char *what)
{
	uint64_t i;

	for (i = 0; i < n; i++, u += FLAKEID_UUID7_SIZE) {
		if (u[6] >> 4 != 7 || u[8] >> 6 != 2)
			violation("%s: UUID %" PRIu64 " of %" PRIu64
				  ": version %u, variant %u", what, i, n,
				  u[6] >> 4, u[8] >> 6);
		if (memcmp(u, last, FLAKEID_UUID7_SIZE) <= 0)
			violation("%s: UUID %" PRIu64 " of %" PRIu64
				  " not above the file's last", what, i, n);
		else
			memcpy(last, u, FLAKEID_UUID7_SIZE);
	}
	__atomic_fetch_add(&tot->ids, n, __ATOMIC_RELAXED);
}

static int get_config(int fd, struct flakeid_config *c)
{
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	return ioctl(fd, FLAKEID_IOC_CONFIG, c);
}

/* ---- the operations ---- */

static uint32_t pick_size(uint32_t min, uint32_t full)
{
	static const uint32_t odd[] = { 0, 1, 4, 7, 8, 16, 31, 4095, 4096,
					4097, 8192, 65536, 0x7fffffff,
					0xffffffff };

	switch (below(8)) {
	case 0: case 1: case 2:
		return full;
	case 3:
		return min - 1 - below(min);
	case 4:
		return full + 8 * (1 + below(4));
	case 5:
		return full + 1 + below(PAGE);
	case 6:
		return odd[below(sizeof(odd) / sizeof(odd[0]))];
	default:
		return below(2 * PAGE);
	}
}

static uint64_t pick_count(void)
{
	static const uint64_t odd[] = {
		0, 1, 2, FLAKEID_BATCH_MAX, FLAKEID_BATCH_MAX + 1,
		1ULL << 32, (1ULL << 32) + 1, 1ULL << 61, (1ULL << 61) + 1,
		1ULL << 63, ~0ULL, ~0ULL / 8, ~0ULL / 8 + 1,
	};

	switch (below(10)) {
	case 0: case 1: case 2: case 3:
		return 1 + below(64);
	case 4: case 5:
		return 1 + below(4096);
	case 6:
		return chance(10) ? FLAKEID_BATCH_MAX : below(FLAKEID_BATCH_MAX);
	case 7:
		return rnd();
	default:
		return odd[below(sizeof(odd) / sizeof(odd[0]))];
	}
}

/*
 * Build a struct of @full bytes (first version @min) at a picked place, with
 * a random @size, maybe unknown flags, non-zero reserved members and a
 * non-zero tail; return the pointer and what to expect of the header.
 */
struct ucmd {
	uint64_t arg;		/* the ioctl argument */
	enum ptr_kind kind;
	uint32_t size;
	uint8_t *s;		/* the struct if it is in good memory */
	int tail_dirty;		/* a non-zero byte past the kernel's struct */
};

static void make_ucmd(struct ucmd *u, uint32_t min, uint32_t full)
{
	size_t room;

	u->size = pick_size(min, full);
	u->tail_dirty = 0;
	u->arg = pick_ptr(&cmd_area, 0, &u->kind);
	if (u->kind == PTR_RDONLY || u->kind == PTR_BAD) {
		u->s = NULL;
		return;
	}
	if (u->kind == PTR_EDGE) {
		/* The header fits; the rest may run into the unmapped page. */
		u->arg = (uintptr_t)cmd_area.edge + PAGE - 8 - below(full + 16);
		room = (uintptr_t)cmd_area.edge + PAGE - u->arg;
	} else {
		room = cmd_area.len - (u->arg - (uintptr_t)cmd_area.good);
	}
	u->s = (uint8_t *)(uintptr_t)u->arg;
	memset(u->s, 0, room < full + PAGE + 16 ? room : full + PAGE + 16);
	if (u->size > full && u->size <= room && u->size <= PAGE && chance(30)) {
		u->s[full + below(u->size - full)] = 1 + below(255);
		u->tail_dirty = 1;
	}
	memcpy(u->s, &u->size, 4);
}

/* Copy the struct into place, as much of it as is mapped. */
static void put_ucmd(const struct ucmd *u, const void *s, size_t len)
{
	size_t room;

	if (!u->s)
		return;
	if (u->kind == PTR_EDGE) {
		room = (uintptr_t)cmd_area.edge + PAGE - u->arg;
		if (len > room)
			len = room;
	}
	memcpy(u->s, s, len);
}

/* Is the struct [arg, arg + size) entirely readable by the kernel? */
static int ucmd_readable(const struct ucmd *u, uint32_t full)
{
	uint64_t need = u->size < full ? full : u->size;

	if (!u->s)
		return 0;
	if (u->kind == PTR_EDGE)
		return u->arg + need <= (uintptr_t)cmd_area.edge + PAGE &&
		       u->arg + u->size <= (uintptr_t)cmd_area.edge + PAGE;
	return 1;
}

/*
 * The header checks every command makes, in the kernel's order: size below
 * the first version, then a dirty tail or an oversized struct.  Returns the
 * errno the header alone calls for, 0 if it passes, -1 if undecidable.
 */
static int header_errno(const struct ucmd *u, uint32_t min, uint32_t full)
{
	/*
	 * Not accessible at all, or (read-only page) a valid struct whose
	 * answer cannot be written back.
	 */
	if (!u->s)
		return EFAULT;
	if (u->size < min)
		return EINVAL;
	if (!ucmd_readable(u, full))
		return -1;
	if (u->size > PAGE)
		return -1;	/* E2BIG, or accepted if the tail is zero */
	if (u->tail_dirty)
		return E2BIG;
	return 0;
}

static void op_batch(struct file_state *f)
{
	struct flakeid_batch b = { 0 };
	enum ptr_kind idkind;
	int ret, err, hdr, bad_fields = 0;
	struct ucmd u;
	uint64_t asked;

	make_ucmd(&u, FLAKEID_BATCH_SIZE_VER0, sizeof(b));
	b.size = u.size;
	b.flags = chance(80) ? (chance(50) ? FLAKEID_BATCH_NONBLOCK : 0) : (uint32_t)rnd();
	b.reserved = chance(85) ? 0 : 1 + below(~0ULL - 1);
	b.count = pick_count();
	b.ids = pick_ptr(&data_area, b.count <= BIGBUF_IDS ? b.count * 8 : 0, &idkind);
	if ((b.flags & ~FLAKEID_BATCH_NONBLOCK) || b.reserved ||
	    b.count > FLAKEID_BATCH_MAX)
		bad_fields = 1;
	put_ucmd(&u, &b, sizeof(b));
	asked = b.count;

	ret = ioctl(f->fd, FLAKEID_IOC_BATCH, (void *)(uintptr_t)u.arg);
	err = errno;
	count(OP_BATCH, ret, err);
	hdr = header_errno(&u, FLAKEID_BATCH_SIZE_VER0, sizeof(b));
	if (hdr < 0)
		return;
	if (hdr) {
		if (ret == 0)
			violation("batch: succeeded, want %s (size %u)",
				  strerror(hdr), u.size);
		else if (bad_fields && hdr == E2BIG)
			EXPECT_ERRNO("batch (dirty tail, bad fields)", err, E2BIG, EINVAL);
		else if (err != hdr)
			violation("batch: errno %s, want %s (size %u)",
				  strerror(err), strerror(hdr), u.size);
		return;
	}
	if (bad_fields) {
		if (ret == 0)
			violation("batch: flags %#x reserved %#" PRIx64 " count %" PRIu64
				  " accepted", b.flags, b.reserved, asked);
		else
			EXPECT_ERRNO("batch (bad fields)", err, EINVAL);
		return;
	}
	if (ret) {
		if (!asked)
			violation("batch: count 0 failed: %s", strerror(err));
		else if (asked <= BIGBUF_IDS &&
			 writable(&data_area, b.ids, asked * 8, idkind))
			EXPECT_ERRNO("batch (good buffer)", err, EAGAIN, EINTR);
		else
			EXPECT_ERRNO("batch (bad buffer)", err, EFAULT, EAGAIN, EINTR);
		return;
	}
	memcpy(&b, u.s, sizeof(b));
	if (b.count > asked) {
		violation("batch: %" PRIu64 " IDs written, %" PRIu64 " asked",
			  b.count, asked);
		return;
	}
	if (!writable(&data_area, b.ids, b.count * 8, idkind)) {
		violation("batch: claims %" PRIu64 " IDs written to a bad buffer",
			  b.count);
		return;
	}
	check_ids(f, (const uint64_t *)(uintptr_t)b.ids, b.count, "batch");
}

/* FLAKEID_IOC_UUID7_BATCH, on the ID node's file or the UUID node's. */
static void op_uuid(struct file_state *f)
{
	struct flakeid_uuid7_batch b = { 0 };
	enum ptr_kind kind;
	int ret, err, hdr, bad_fields = 0, on_ufd = chance(50);
	uint8_t *last = on_ufd ? f->ulast : f->last_uuid;
	struct ucmd u;
	uint64_t asked;

	make_ucmd(&u, FLAKEID_UUID7_BATCH_SIZE_VER0, sizeof(b));
	b.size = u.size;
	b.flags = chance(80) ? (chance(50) ? FLAKEID_BATCH_NONBLOCK : 0) : (uint32_t)rnd();
	b.reserved = chance(85) ? 0 : 1 + below(~0ULL - 1);
	b.count = pick_count();
	b.uuids = pick_ptr(&data_area, b.count <= BIGBUF_IDS / 2 ? b.count * 16 : 0,
			   &kind);
	if ((b.flags & ~FLAKEID_BATCH_NONBLOCK) || b.reserved ||
	    b.count > FLAKEID_BATCH_MAX)
		bad_fields = 1;
	put_ucmd(&u, &b, sizeof(b));
	asked = b.count;

	ret = ioctl(on_ufd ? f->ufd : f->fd, FLAKEID_IOC_UUID7_BATCH,
		    (void *)(uintptr_t)u.arg);
	err = errno;
	count(OP_UUID, ret, err);
	hdr = header_errno(&u, FLAKEID_UUID7_BATCH_SIZE_VER0, sizeof(b));
	if (hdr < 0)
		return;
	if (hdr) {
		if (ret == 0)
			violation("uuid7: succeeded, want %s (size %u)",
				  strerror(hdr), u.size);
		else if (bad_fields && hdr == E2BIG)
			EXPECT_ERRNO("uuid7 (dirty tail, bad fields)", err, E2BIG, EINVAL);
		else if (err != hdr)
			violation("uuid7: errno %s, want %s (size %u)",
				  strerror(err), strerror(hdr), u.size);
		return;
	}
	if (bad_fields) {
		if (ret == 0)
			violation("uuid7: flags %#x reserved %#" PRIx64 " count %" PRIu64
				  " accepted", b.flags, b.reserved, asked);
		else
			EXPECT_ERRNO("uuid7 (bad fields)", err, EINVAL);
		return;
	}
	if (ret) {
		if (!asked)
			violation("uuid7: count 0 failed: %s", strerror(err));
		else if (asked <= BIGBUF_IDS / 2 &&
			 writable(&data_area, b.uuids, asked * 16, kind))
			EXPECT_ERRNO("uuid7 (good buffer)", err, EAGAIN, EINTR);
		else
			EXPECT_ERRNO("uuid7 (bad buffer)", err, EFAULT, EAGAIN, EINTR);
		return;
	}
	memcpy(&b, u.s, sizeof(b));
	if (b.count > asked) {
		violation("uuid7: %" PRIu64 " UUIDs written, %" PRIu64 " asked",
			  b.count, asked);
		return;
	}
	if (!writable(&data_area, b.uuids, b.count * 16, kind)) {
		violation("uuid7: claims %" PRIu64 " UUIDs written to a bad buffer",
			  b.count);
		return;
	}
	check_uuids(last, (const uint8_t *)(uintptr_t)b.uuids, b.count, "uuid7");
}

static uint64_t pick_id(const struct file_state *f)
{
	switch (below(6)) {
	case 0: return 0;
	case 1: return ~0ULL;
	case 2: return 1ULL << 63;
	case 3: return f->last;
	case 4: return f->last + 1 + below(1 << 20);
	default: return rnd();
	}
}

static void op_decode(struct file_state *f)
{
	struct flakeid_config c;
	struct flakeid_decode d = { 0 };
	unsigned int shift, total;
	int ret, err, hdr;
	struct ucmd u;

	make_ucmd(&u, FLAKEID_DECODE_SIZE_VER0, sizeof(d));
	d.size = u.size;
	d.flags = chance(85) ? 0 : (uint32_t)rnd();
	d.reserved = chance(85) ? 0 : rnd() | 1;
	d.id = pick_id(f);
	/* Output members come in as garbage: the kernel must overwrite them. */
	d.unix_ms = rnd();
	d.region_id = rnd();
	put_ucmd(&u, &d, sizeof(d));
	if (get_config(f->fd, &c))
		violation("config: %s", strerror(errno));

	ret = ioctl(f->fd, FLAKEID_IOC_DECODE, (void *)(uintptr_t)u.arg);
	err = errno;
	count(OP_DECODE, ret, err);
	hdr = header_errno(&u, FLAKEID_DECODE_SIZE_VER0, sizeof(d));
	if (hdr < 0)
		return;
	if (hdr) {
		if (ret == 0)
			violation("decode: succeeded, want %s", strerror(hdr));
		else if (hdr == E2BIG && (d.flags || d.reserved))
			EXPECT_ERRNO("decode (dirty tail, bad fields)", err, E2BIG, EINVAL);
		else if (err != hdr)
			violation("decode: errno %s, want %s (size %u)",
				  strerror(err), strerror(hdr), u.size);
		return;
	}
	total = c.timestamp_bits + c.region_bits + c.app_bits + c.machine_bits +
		c.sequence_bits;
	if (d.flags || d.reserved || (total < 64 && d.id >> total)) {
		if (ret == 0)
			violation("decode: flags %#x reserved %#" PRIx64 " id %#" PRIx64
				  " accepted", d.flags, d.reserved, d.id);
		else
			EXPECT_ERRNO("decode (bad input)", err, EINVAL);
		return;
	}
	if (ret) {
		violation("decode of %#" PRIx64 ": %s", d.id, strerror(err));
		return;
	}
	memcpy(&d, u.s, sizeof(d));
	shift = c.region_bits + c.app_bits + c.machine_bits + c.sequence_bits;
	if (d.timestamp != (shift < 64 ? d.id >> shift : 0) ||
	    d.unix_ms != d.timestamp + c.epoch_ms ||
	    d.sequence != (d.id & ((1ULL << c.sequence_bits) - 1)))
		violation("decode of %#" PRIx64 ": ts %" PRIu64 " unix %" PRIu64
			  " seq %u do not match layout %u:%u:%u:%u:%u",
			  d.id, d.timestamp, d.unix_ms, d.sequence,
			  c.timestamp_bits, c.region_bits, c.app_bits,
			  c.machine_bits, c.sequence_bits);
}

static void op_config(struct file_state *f)
{
	struct flakeid_config c = { 0 };
	int ret, err, hdr;
	struct ucmd u;
	int bad;

	make_ucmd(&u, FLAKEID_CONFIG_SIZE_VER0, sizeof(c));
	c.size = u.size;
	c.flags = chance(85) ? 0 : (uint32_t)rnd();
	c.reserved0 = chance(90) ? 0 : 1;
	c.until_ms = chance(90) ? 0 : rnd();
	bad = c.flags || c.reserved0;
	put_ucmd(&u, &c, sizeof(c));

	ret = ioctl(f->fd, FLAKEID_IOC_CONFIG, (void *)(uintptr_t)u.arg);
	err = errno;
	count(OP_CONFIG, ret, err);
	hdr = header_errno(&u, FLAKEID_CONFIG_SIZE_VER0, sizeof(c));
	if (hdr < 0)
		return;
	if (hdr) {
		if (ret == 0)
			violation("config: succeeded, want %s", strerror(hdr));
		else if (hdr == E2BIG && bad)
			EXPECT_ERRNO("config (dirty tail, bad fields)", err, E2BIG, EINVAL);
		else if (err != hdr)
			violation("config: errno %s, want %s (size %u)",
				  strerror(err), strerror(hdr), u.size);
		return;
	}
	if (bad) {
		if (ret == 0)
			violation("config: bad flags/reserved accepted");
		else
			EXPECT_ERRNO("config (bad fields)", err, EINVAL);
		return;
	}
	if (ret) {
		violation("config: %s", strerror(err));
		return;
	}
	memcpy(&c, u.s, sizeof(c));
	if (c.timestamp_bits + c.region_bits + c.app_bits + c.machine_bits +
	    c.sequence_bits > 64 || c.timestamp_bits < 32 || !c.sequence_bits ||
	    c.max_borrow_ms > FLAKEID_MAX_BORROW_MS_MAX)
		violation("config: impossible layout %u:%u:%u:%u:%u borrow %u",
			  c.timestamp_bits, c.region_bits, c.app_bits,
			  c.machine_bits, c.sequence_bits, c.max_borrow_ms);
}

/* The module ignores a command's size bits and goes by the struct's @size. */
static int is_command(unsigned int cmd)
{
	const unsigned int size_bits = _IOC_SIZEMASK << _IOC_SIZESHIFT;

	return (cmd & ~size_bits) == (FLAKEID_IOC_BATCH & ~size_bits) ||
	       (cmd & ~size_bits) == (FLAKEID_IOC_DECODE & ~size_bits) ||
	       (cmd & ~size_bits) == (FLAKEID_IOC_CONFIG & ~size_bits) ||
	       (cmd & ~size_bits) == (FLAKEID_IOC_UUID7_BATCH & ~size_bits);
}

/* Command types the VFS answers itself before the driver sees them. */
static int vfs_type(unsigned int type)
{
	return type == 0x00 || type == 'T' || type == 'X' || type == 'f' ||
	       type == 0x94;
}

static void op_badcmd(struct file_state *f)
{
	unsigned int cmd, type;
	enum ptr_kind kind;
	uint64_t arg;
	int ret;

	switch (below(4)) {
	case 0:	/* our magic, any number, direction and size */
		cmd = _IOC(below(4), FLAKEID_IOC_TYPE, below(256), below(1 << 14));
		break;
	case 1:	/* a real command number with size or direction bits added */
		cmd = (FLAKEID_IOC_BATCH + below(4)) | (unsigned int)_IOC(below(4), 0, 0, 1 + below((1 << 14) - 1));
		break;
	case 2:	/* next to the magic */
		type = FLAKEID_IOC_TYPE + (chance(50) ? 1 : -1);
		cmd = _IOC(below(4), type, below(8), below(128));
		break;
	default:
		cmd = rnd();
		break;
	}
	type = _IOC_TYPE(cmd);
	if (is_command(cmd) || vfs_type(type))
		return;
	arg = pick_ptr(&cmd_area, 0, &kind);
	if (chance(20))
		arg = rnd();
	ret = ioctl(chance(25) ? f->ufd : f->fd, cmd, (void *)(uintptr_t)arg);
	count(OP_BADCMD, ret, errno);
	if (ret == 0)
		violation("ioctl %#x accepted", cmd);
	else if (errno != ENOTTY)
		violation("ioctl %#x: %s, want ENOTTY", cmd, strerror(errno));
}

static size_t pick_len(void)
{
	switch (below(8)) {
	case 0: return below(8);
	case 1: return 8 * (1 + below(64)) + below(8);
	case 2: return 8 * (1 + below(4096));
	case 3: return chance(50) ? BIGBUF_IDS * 8 : (size_t)1 << (20 + below(12));
	case 4: return ~(size_t)0 - below(16);
	default: return 8 * (1 + below(32));
	}
}

static void op_read(struct file_state *f)
{
	enum ptr_kind kind;
	size_t len = pick_len();
	uint64_t p = pick_ptr(&data_area, len <= BIGBUF_IDS * 8 ? len : 0, &kind);
	ssize_t ret;
	int err;

	ret = read(f->fd, (void *)(uintptr_t)p, len);
	err = errno;
	count(OP_READ, ret, err);
	/* The VFS refuses a buffer outside user space before we see it. */
	if (len == 0) {
		if (ret != 0 && !(kind == PTR_BAD && err == EFAULT))
			violation("read of 0 bytes: %zd (%s)", ret, strerror(err));
		return;
	}
	if (len < 8) {
		if (ret >= 0)
			violation("read of %zu bytes returned %zd, want EINVAL", len, ret);
		else if (kind == PTR_BAD)
			EXPECT_ERRNO("read of 1-7 bytes (bad buffer)", err, EINVAL, EFAULT);
		else if (err != EINVAL)
			violation("read of %zu bytes: %s, want EINVAL", len, strerror(err));
		return;
	}
	if (ret < 0) {
		if (writable(&data_area, p, 8, kind))
			EXPECT_ERRNO("read (good start)", err, EAGAIN, EINTR, EFAULT);
		else
			EXPECT_ERRNO("read (bad buffer)", err, EFAULT, EAGAIN, EINTR);
		return;
	}
	if (ret % 8 || (size_t)ret > len || (uint64_t)ret / 8 > FLAKEID_BATCH_MAX) {
		violation("read of %zu bytes returned %zd", len, ret);
		return;
	}
	if (!writable(&data_area, p, ret, kind)) {
		violation("read claims %zd bytes written to a bad buffer", ret);
		return;
	}
	check_ids(f, (const uint64_t *)(uintptr_t)p, ret / 8, "read");
}

/* readv with odd segment sizes: IDs split across segments. */
static void op_readv(struct file_state *f)
{
	struct iovec iov[8];
	uint64_t got[64];
	size_t total = 0, off, i, n = 1 + below(8);
	uint8_t *base = bigbuf + PAGE * 4;
	int broken = 0;
	ssize_t ret;

	for (i = 0; i < n; i++) {
		iov[i].iov_base = base + total;
		iov[i].iov_len = below(24);
		total += iov[i].iov_len;
	}
	if (chance(10)) {	/* one segment points nowhere */
		i = below(n);
		iov[i].iov_base = (void *)(uintptr_t)(chance(50) ? 0 : 0xffffffffff600000ULL);
		/* A kernel address fails access_ok() even for 0 bytes. */
		broken = iov[i].iov_base || iov[i].iov_len;
	}
	ret = readv(f->fd, iov, n);
	count(OP_READV, ret, errno);
	if (broken) {
		/* The VFS or the copy refuses it; any whole IDs before it stand. */
		if (ret < 0)
			EXPECT_ERRNO("readv (broken segment)", errno, EFAULT, EINVAL, EAGAIN, EINTR);
		else if (ret % 8 || (size_t)ret > total)
			violation("readv of %zu bytes (broken segment) returned %zd", total, ret);
		return;
	}
	if (total == 0) {
		if (ret != 0)
			violation("readv of 0 bytes: %zd", ret);
		return;
	}
	if (total < 8) {
		if (ret >= 0 || errno != EINVAL)
			violation("readv of %zu bytes: %zd, want EINVAL", total, ret);
		return;
	}
	if (ret < 0) {
		EXPECT_ERRNO("readv", errno, EFAULT, EAGAIN, EINTR);
		return;
	}
	if (ret % 8 || (size_t)ret > total) {
		violation("readv of %zu bytes returned %zd", total, ret);
		return;
	}
	/* Gather the bytes back in order (segments are contiguous here). */
	for (off = 0, i = 0; i < n && off < (size_t)ret; i++) {
		size_t l = iov[i].iov_len;

		if (off + l > (size_t)ret)
			l = ret - off;
		memcpy((uint8_t *)got + off, iov[i].iov_base, l);
		off += l;
	}
	check_ids(f, got, ret / 8, "readv");
}

/* read or readv of /dev/flakeid-uuid7: 16-byte UUIDs, 1..15 bytes EINVAL. */
static void op_uread(struct file_state *f)
{
	enum ptr_kind kind;
	size_t len = chance(50) ? pick_len() * 2 : below(48);
	uint64_t p = pick_ptr(&data_area, len <= BIGBUF_IDS * 8 ? len : 0, &kind);
	struct iovec iov[2];
	size_t cut = below(11);
	ssize_t ret;
	int err;

	if (chance(30) && len <= BIGBUF_IDS * 8 && kind == PTR_GOOD) {
		/* Two segments: a UUID may straddle them. */
		iov[0].iov_base = (void *)(uintptr_t)p;
		iov[0].iov_len = len / 2 - (cut < len / 2 ? cut : len / 2);
		iov[1].iov_base = (uint8_t *)iov[0].iov_base + iov[0].iov_len;
		iov[1].iov_len = len - iov[0].iov_len;
		ret = readv(f->ufd, iov, 2);
	} else {
		ret = read(f->ufd, (void *)(uintptr_t)p, len);
	}
	err = errno;
	count(OP_UREAD, ret, err);
	if (len == 0) {
		if (ret != 0 && !(kind == PTR_BAD && err == EFAULT))
			violation("uuid read of 0 bytes: %zd (%s)", ret, strerror(err));
		return;
	}
	if (len < FLAKEID_UUID7_SIZE) {
		if (ret >= 0)
			violation("uuid read of %zu bytes returned %zd, want EINVAL",
				  len, ret);
		else if (kind == PTR_BAD)
			EXPECT_ERRNO("uuid read of 1-15 bytes (bad buffer)", err, EINVAL, EFAULT);
		else if (err != EINVAL)
			violation("uuid read of %zu bytes: %s, want EINVAL", len,
				  strerror(err));
		return;
	}
	if (ret < 0) {
		if (writable(&data_area, p, FLAKEID_UUID7_SIZE, kind))
			EXPECT_ERRNO("uuid read (good start)", err, EAGAIN, EINTR, EFAULT);
		else
			EXPECT_ERRNO("uuid read (bad buffer)", err, EFAULT, EAGAIN, EINTR);
		return;
	}
	if (ret % FLAKEID_UUID7_SIZE || (size_t)ret > len ||
	    (uint64_t)ret / FLAKEID_UUID7_SIZE > FLAKEID_BATCH_MAX) {
		violation("uuid read of %zu bytes returned %zd", len, ret);
		return;
	}
	if (!writable(&data_area, p, ret, kind)) {
		violation("uuid read claims %zd bytes written to a bad buffer", ret);
		return;
	}
	check_uuids(f->ulast, (const uint8_t *)(uintptr_t)p,
		    ret / FLAKEID_UUID7_SIZE, "uuid read");
}

static void op_misc(struct file_state *f)
{
	char c[16];
	void *m;
	long ret;

	switch (below(4)) {
	case 0:
		ret = lseek(f->fd, below(1000), below(3));
		count(OP_MISC, ret, errno);
		if (ret >= 0 || errno != ESPIPE)
			violation("lseek: %ld (%s), want ESPIPE", ret, strerror(errno));
		break;
	case 1:
		ret = pread(f->fd, c, 8, below(64));
		count(OP_MISC, ret, errno);
		if (ret >= 0 || errno != ESPIPE)
			violation("pread: %ld (%s), want ESPIPE", ret, strerror(errno));
		break;
	case 2:
		m = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, f->fd, 0);
		count(OP_MISC, m == MAP_FAILED ? -1 : 0, errno);
		if (m != MAP_FAILED) {
			violation("mmap succeeded");
			munmap(m, PAGE);
		} else if (errno != ENODEV) {
			violation("mmap: %s, want ENODEV", strerror(errno));
		}
		break;
	default:
		ret = write(f->fd, c, 8);
		count(OP_MISC, ret, errno);
		if (ret >= 0)
			violation("write succeeded");
		else
			EXPECT_ERRNO("write", errno, EBADF, EINVAL);
		break;
	}
}

static void op_nonblock(struct file_state *f)
{
	int fl = fcntl(f->fd, F_GETFL);

	f->nonblock = !f->nonblock;
	fl = f->nonblock ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	count(OP_NONBLOCK, fcntl(f->fd, F_SETFL, fl), errno);
	fl = fcntl(f->ufd, F_GETFL);
	fl = f->nonblock ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	count(OP_NONBLOCK, fcntl(f->ufd, F_SETFL, fl), errno);
}

static int open_dev(const char *dev, struct file_state *f)
{
	f->nonblock = chance(30);
	f->last = 0;
	memset(f->last_uuid, 0, sizeof(f->last_uuid));
	memset(f->ulast, 0, sizeof(f->ulast));
	f->fd = open(dev, O_RDONLY | O_CLOEXEC | (f->nonblock ? O_NONBLOCK : 0));
	if (f->fd < 0)
		return f->fd;
	f->ufd = open(FLAKEID_UUID7_DEVICE_PATH, O_RDONLY | O_CLOEXEC |
		      (f->nonblock ? O_NONBLOCK : 0));
	if (f->ufd < 0) {
		close(f->fd);
		f->fd = -1;
	}
	return f->fd;
}

static void op_reopen(const char *dev, struct file_state *f)
{
	close(f->fd);
	close(f->ufd);
	count(OP_REOPEN, open_dev(dev, f), errno);
	if (f->fd < 0) {
		violation("reopen: %s", strerror(errno));
		exit(1);
	}
}

/*
 * A store the module must refuse with EINVAL or ERANGE, leaving the
 * configuration (and its generation) as it was.
 */
static void op_sysfs(struct file_state *f)
{
	static const char *const attrs[] = {
		"region_id", "app_id", "machine_id", "epoch_ms", "layout",
		"max_borrow_ms", "floor_ms",
	};
	static const char *const junk[] = {
		"abc", "-1", "0x10", "1e3", " 5", "5 5", "5\n\n", "\n", "++5",
		"99999999999999999999999", "18446744073709551616", "5.0",
		"41:4:3:5", "41:4:3:5:10:1", "99:0:0:0:0", "31:0:0:0:33",
		"a:b:c:d:e", "41:4:3:5:-1", "41::3:5:10", "41:4:3:5:10x",
		"0:0:0:0:0", "64:0:0:0:1", "41:4:3:5:0",
	};
	struct flakeid_config before, after;
	const char *attr = attrs[below(sizeof(attrs) / sizeof(attrs[0]))];
	char val[48], path[128];
	size_t len, i;
	ssize_t ret;
	int fd, err;

	if (get_config(f->fd, &before))
		return;
	if (chance(70)) {
		snprintf(val, sizeof(val), "%s", junk[below(sizeof(junk) / sizeof(junk[0]))]);
	} else if (chance(50) && strcmp(attr, "layout") && strcmp(attr, "epoch_ms") &&
		   strcmp(attr, "floor_ms")) {
		/* One past what the field holds. */
		uint64_t lim = !strcmp(attr, "region_id") ? 1ULL << before.region_bits :
			       !strcmp(attr, "app_id") ? 1ULL << before.app_bits :
			       !strcmp(attr, "machine_id") ? 1ULL << before.machine_bits :
			       FLAKEID_MAX_BORROW_MS_MAX + 1ULL;
		snprintf(val, sizeof(val), "%" PRIu64, lim + below(3));
	} else {
		/* Random bytes that never start like a number. */
		len = 1 + below(sizeof(val) - 2);
		for (i = 0; i < len; i++)
			val[i] = 1 + below(255);
		val[len] = 0;
		if ((val[0] >= '0' && val[0] <= '9') || val[0] == '+')
			val[0] = 'x';
	}
	snprintf(path, sizeof(path), FLAKEID_SYSFS_DIR "/%s", attr);
	fd = open(path, O_WRONLY);
	if (fd < 0) {
		count(OP_SYSFS, -1, errno);
		return;
	}
	ret = write(fd, val, strlen(val));
	err = errno;
	close(fd);
	count(OP_SYSFS, ret, err);
	if (ret >= 0)
		violation("sysfs %s accepted \"%s\"", attr, val);
	else
		EXPECT_ERRNO("sysfs store", err, EINVAL, ERANGE);
	if (get_config(f->fd, &after))
		return;
	/* floor_ms moves with the clock; everything else must stand still. */
	before.floor_ms = after.floor_ms = 0;
	if (memcmp(&before, &after, sizeof(before)))
		violation("sysfs %s \"%s\" refused but the configuration changed "
			  "(generation %" PRIu64 " -> %" PRIu64 ")", attr, val,
			  before.generation, after.generation);
}

static void fuzz_loop(const char *dev, time_t deadline)
{
	struct itimerval it = { { 0, 7000 }, { 0, 7000 } };
	struct sigaction sa = { .sa_handler = on_alarm };
	struct file_state *f;
	unsigned int i;

	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	for (i = 0; i < NFILES; i++)
		if (open_dev(dev, &files[i]) < 0) {
			fprintf(stderr, "flakeid-fuzz: open %s: %s\n", dev, strerror(errno));
			exit(2);
		}
	while (time(NULL) < deadline) {
		f = &files[below(NFILES)];
		switch (below(100)) {
		case 0 ... 17: op_batch(f); break;
		case 18 ... 24: op_uuid(f); break;
		case 25 ... 39: op_decode(f); break;
		case 40 ... 49: op_config(f); break;
		case 50 ... 64: op_badcmd(f); break;
		case 65 ... 74: op_read(f); break;
		case 75 ... 79: op_uread(f); break;
		case 80 ... 87: op_readv(f); break;
		case 88 ... 91: op_misc(f); break;
		case 92 ... 94: op_nonblock(f); break;
		case 95 ... 96: op_reopen(dev, f); break;
		default:
			if (!no_sysfs)
				op_sysfs(f);
			break;
		}
	}
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
}

/* After the storm: a fresh file still gets valid, increasing IDs. */
static int final_check(const char *dev)
{
	struct flakeid_config c;
	struct flakeid_decode d;
	struct flakeid_batch b;
	struct timespec now;
	uint64_t ids[4096], wall, i;
	int fd, bad = 0;

	fd = open(dev, O_RDONLY);
	if (fd < 0 || get_config(fd, &c)) {
		printf("final: cannot open or configure: %s\n", strerror(errno));
		return 1;
	}
	memset(&b, 0, sizeof(b));
	b.size = sizeof(b);
	b.count = 4096;
	b.ids = (uintptr_t)ids;
	if (ioctl(fd, FLAKEID_IOC_BATCH, &b) || b.count != 4096) {
		printf("final: batch: %s, count %llu\n", strerror(errno),
		       (unsigned long long)b.count);
		return 1;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	wall = now.tv_sec * 1000ULL + now.tv_nsec / 1000000;
	for (i = 0; i < 4096; i++) {
		if (i && ids[i] <= ids[i - 1])
			bad++;
		memset(&d, 0, sizeof(d));
		d.size = sizeof(d);
		d.id = ids[i];
		if (ioctl(fd, FLAKEID_IOC_DECODE, &d) ||
		    d.region_id != c.region_id || d.app_id != c.app_id ||
		    d.machine_id != c.machine_id ||
		    d.unix_ms + 60000 < wall ||
		    d.unix_ms > wall + c.max_borrow_ms + 60000)
			bad++;
	}
	close(fd);
	printf("final: 4096 fresh IDs %s (first %#llx, last %#llx, %d bad)\n",
	       bad ? "INVALID" : "valid and increasing",
	       (unsigned long long)ids[0], (unsigned long long)ids[4095], bad);
	if (bad)
		return 1;

	/* And 2048 fresh UUIDs (the same 32 KiB) from the UUID node. */
	fd = open(FLAKEID_UUID7_DEVICE_PATH, O_RDONLY);
	if (fd < 0 || read(fd, ids, sizeof(ids)) != (ssize_t)sizeof(ids)) {
		printf("final: uuid read: %s\n", strerror(errno));
		return 1;
	}
	close(fd);
	for (i = 0; i < 2048; i++) {
		const uint8_t *u = (const uint8_t *)ids + 16 * i;

		if (u[6] >> 4 != 7 || u[8] >> 6 != 2 ||
		    (i && memcmp(u - 16, u, 16) >= 0))
			bad++;
	}
	printf("final: 2048 fresh UUIDs %s (%d bad)\n",
	       bad ? "INVALID" : "valid and increasing", bad);
	return bad != 0;
}

static int make_area(struct area *a, size_t len)
{
	a->len = len;
	a->good = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	a->edge = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a->good == MAP_FAILED || a->edge == MAP_FAILED)
		return -1;
	return munmap(a->edge + PAGE, PAGE);
}

static const char *errname(int e)
{
	switch (e) {
	case EINVAL: return "EINVAL";
	case EFAULT: return "EFAULT";
	case E2BIG: return "E2BIG";
	case ENOTTY: return "ENOTTY";
	case EAGAIN: return "EAGAIN";
	case EINTR: return "EINTR";
	case ESPIPE: return "ESPIPE";
	case ENODEV: return "ENODEV";
	case EBADF: return "EBADF";
	case ERANGE: return "ERANGE";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	default: return NULL;
	}
}

static void print_totals(void)
{
	uint64_t all = 0;
	const char *n;
	int o, e;

	for (o = 0; o < OP_NR; o++) {
		all += tot->ops[o];
		if (!tot->ops[o])
			continue;
		printf("  %-8s %9" PRIu64 " calls, %9" PRIu64 " ok", op_names[o],
		       tot->ops[o], tot->ok[o]);
		for (e = 0; e < 160; e++) {
			if (!tot->err[o][e])
				continue;
			n = errname(e);
			if (n)
				printf(", %s %" PRIu64, n, tot->err[o][e]);
			else
				printf(", errno%d %" PRIu64, e, tot->err[o][e]);
		}
		printf("\n");
	}
	printf("fuzz: %" PRIu64 " calls, %" PRIu64 " IDs checked, %" PRIu64
	       " violations\n", all, tot->ids, tot->violations);
}

int main(int argc, char **argv)
{
	const char *dev = FLAKEID_DEVICE_PATH;
	long secs = 60, procs = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t seed = time(NULL) ^ ((uint64_t)getpid() << 32);
	time_t deadline;
	int opt, status, bad = 0;
	long i;
	pid_t pid;

	while ((opt = getopt(argc, argv, "t:j:s:Sv")) != -1) {
		switch (opt) {
		case 't': secs = atol(optarg); break;
		case 'j': procs = atol(optarg); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'S': no_sysfs = 1; break;
		case 'v': verbose = 1; break;
		default:
			fprintf(stderr, "usage: %s [-t SECONDS] [-j PROCS] [-s SEED] [-S] [-v] [DEVICE]\n",
				argv[0]);
			return 2;
		}
	}
	if (optind < argc)
		dev = argv[optind];
	if (procs < 1)
		procs = 1;
	if (geteuid() != 0)
		no_sysfs = 1;

	tot = mmap(NULL, sizeof(*tot), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	rdonly = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	noaccess = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (tot == MAP_FAILED || rdonly == MAP_FAILED || noaccess == MAP_FAILED ||
	    make_area(&data_area, BIGBUF_IDS * 8) ||
	    make_area(&cmd_area, 4 * PAGE)) {
		perror("flakeid-fuzz: mmap");
		return 2;
	}
	bigbuf = data_area.good;
	/*
	 * Structs on the read-only page: size RDONLY_SLOT (larger than every
	 * struct, the tail zero), all else zero, so each command would succeed
	 * but for writing its answer back.
	 */
	for (i = 0; i < (long)(PAGE / RDONLY_SLOT); i++)
		*(uint32_t *)(rdonly + i * RDONLY_SLOT) = RDONLY_SLOT;
	mprotect(rdonly, PAGE, PROT_READ);

	printf("fuzz: %s for %lds, %ld processes, seed %#" PRIx64 "%s\n", dev,
	       secs, procs, seed, no_sysfs ? ", no sysfs stores" : "");
	fflush(stdout);
	deadline = time(NULL) + secs;
	for (i = 0; i < procs; i++) {
		pid = fork();
		if (pid < 0) {
			perror("flakeid-fuzz: fork");
			return 2;
		}
		if (pid == 0) {
			rng = seed + 0x9E3779B97F4A7C15ULL * (i + 1);
			fuzz_loop(dev, deadline);
			_exit(0);
		}
	}
	while ((pid = wait(&status)) > 0) {
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			printf("fuzz: process %d ended badly (status %#x)\n", pid, status);
			bad = 1;
		}
	}
	print_totals();
	bad |= final_check(dev);
	return bad || tot->violations ? 1 : 0;
}
