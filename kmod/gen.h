/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The generator core (gen.c): issuing IDs, the live configuration, the
 * floor, the ceiling and the counters.  Callers never see its lock.
 */
#ifndef _FLAKEID_GEN_H
#define _FLAKEID_GEN_H

#include <linux/types.h>
#include <linux/atomic.h>
#include <linux/spinlock.h>
#include <linux/uio.h>

#include "layout.h"

struct flakeid_vmgen;

/* How far a configuration change may move the allocator forward. */
#define FLAKEID_RECONFIG_MAX_JUMP_MS	1000

/*
 * A floor: no ID issued so far has a timestamp above @ms (Unix ms) under
 * the epoch and layout given, the live ones where has_* is false.
 */
struct flakeid_floor {
	u64 ms;
	u64 epoch_ms;
	struct flakeid_layout layout;
	bool has_epoch;
	bool has_layout;
};

/*
 * A run of sequence numbers of one millisecond, granted by the shared
 * allocator and then consumed by its owner alone: a CPU, or a file read on
 * more than one CPU.
 */
struct flakeid_block {
	u64 base;		/* timestamp and node bits */
	u64 ms;			/* its Unix ms */
	u64 ctr_hi;		/* its UUID counter above the sequence */
	u64 expires;		/* when it is stale, on its owner's clock */
	u64 next;		/* [next, end) is still free */
	u64 end;
	u64 used;		/* a file's: IDs it took in millisecond ms */
	unsigned long block_gen;
};

/*
 * Per open file: the largest ID handed out through it, and apart from it
 * the largest (Unix ms, sequence) slot handed out as a UUID.  The slot is
 * 80 bits wide (a 48-bit ms, a sequence of up to 32 bits), too wide for
 * one atomic, so lock guards the pair.  A file found read on more than one
 * CPU is served from a block of its own from then on (shared), under the
 * same lock.
 */
struct flakeid_file {
	atomic64_t last;
	spinlock_t lock;		/* protects uuid_*, block */
	u64 uuid_ms;
	u64 uuid_seq;
	bool shared;			/* set once, never cleared */
	struct flakeid_block block;
};

/*
 * Where IDs or UUIDs go: an iov_iter (readv, io_uring), or a plain user
 * array of u64 IDs or of 16-byte UUIDs.
 */
struct flakeid_sink {
	struct iov_iter *iter;
	void __user *ubuf;
	bool uuid;
};

enum flakeid_counter {
	FLAKEID_CNT_STEPS_BACK,
	FLAKEID_CNT_BORROWED_MS,
	FLAKEID_CNT_WAITS,
	FLAKEID_CNT_REFILLS,
	FLAKEID_CNT_UNTIL_WAITS,
	FLAKEID_CNT_UNTIL_REFUSED,
	FLAKEID_CNT_VM_FORKS,
	FLAKEID_CNT_NR,
};

/*
 * What one store changes, defined by the caller (attrs.c); the generator
 * only passes it to the caller's @apply, under its lock.
 */
struct flakeid_cfg_edit;

int flakeid_gen_init(const struct flakeid_cfg *cfg, u32 max_borrow_ms);
void flakeid_gen_file_init(struct flakeid_file *ff);
void flakeid_gen_exit(void);

ssize_t flakeid_gen_issue(struct flakeid_file *ff, struct flakeid_sink *sink,
			  size_t count, bool nonblock);
u64 flakeid_gen_ids_issued(void);
u64 flakeid_gen_counter(enum flakeid_counter c);

void flakeid_gen_get_config(struct flakeid_cfg *cfg, u32 *max_borrow_ms,
			    u64 *generation);
int flakeid_gen_update_config(int (*apply)(struct flakeid_cfg *cfg,
					   const struct flakeid_cfg_edit *e),
			      const struct flakeid_cfg_edit *e);
int flakeid_gen_set_max_borrow(u32 ms);

int flakeid_gen_raise_floor(const struct flakeid_floor *req);
u64 flakeid_gen_floor_ms(void);
void flakeid_gen_get_floor(struct flakeid_floor *f);
s64 flakeid_gen_ahead_ms(void);

int flakeid_gen_set_until(u64 until_ms);
u64 flakeid_gen_until_ms(void);
int flakeid_gen_set_until_wait(u32 ms);
u32 flakeid_gen_until_wait_ms(void);

void flakeid_gen_vm_forked(const struct flakeid_vmgen *now);
void flakeid_gen_set_vmgen_seen(const struct flakeid_vmgen *g);

#endif /* _FLAKEID_GEN_H */
