/* SPDX-License-Identifier: GPL-2.0 */
/* VM fork detection (vmgen.c): the VM generation ID and the fork notifier. */
#ifndef _FLAKEID_VMGEN_H
#define _FLAKEID_VMGEN_H

#include <linux/compiler.h>
#include <linux/types.h>
#include <asm/barrier.h>

/* The VM generation ID, 16 bytes the hypervisor changes on a VM fork. */
struct flakeid_vmgen {
	u64 lo;
	u64 hi;
};

int flakeid_vmgen_init(void);
void flakeid_vmgen_exit(void);

/* The 16-byte generation ID, mapped read-only; NULL when not found. */
extern const u64 *flakeid_vmgen_id;

/*
 * Read the generation ID; false when there is none.  Inline: every call
 * reads it once or twice, and under TCG a call and its return cost about
 * as much as the reads.
 */
static inline bool flakeid_vmgen_read(struct flakeid_vmgen *g)
{
	/* Pairs with the release in flakeid_vmgen_init(): vmgen_seen is set. */
	const u64 *id = smp_load_acquire(&flakeid_vmgen_id);

	if (!id)
		return false;
	g->lo = READ_ONCE(id[0]);
	g->hi = READ_ONCE(id[1]);
	return true;
}

#endif /* _FLAKEID_VMGEN_H */
