/* SPDX-License-Identifier: GPL-2.0 */
/* VM fork detection (vmgen.c): the VM generation ID and the fork notifier. */
#ifndef _FLAKEID_VMGEN_H
#define _FLAKEID_VMGEN_H

#include <linux/types.h>

/* The VM generation ID, 16 bytes the hypervisor changes on a VM fork. */
struct flakeid_vmgen {
	u64 lo;
	u64 hi;
};

int flakeid_vmgen_init(void);
void flakeid_vmgen_exit(void);
bool flakeid_vmgen_read(struct flakeid_vmgen *g);

#endif /* _FLAKEID_VMGEN_H */
