// SPDX-License-Identifier: GPL-2.0
/*
 * VM fork detection.  The VM generation ID (vmgenid) is read straight from
 * the guest memory the hypervisor rewrites before a restored or cloned VM
 * runs again, so a call can tell that it straddled a restore; the
 * kernel's VM fork notifier, which arrives later (an ACPI notification
 * handled in a workqueue), fences the device where that memory cannot be
 * found.
 */

#include <linux/acpi.h>
#include <linux/io.h>
#include <linux/notifier.h>
#include <linux/random.h>

#include "gen.h"
#include "vmgen.h"

/* Read by flakeid_vmgen_read() (vmgen.h); NULL when not found. */
const u64 *flakeid_vmgen_id;

#ifdef CONFIG_ACPI
/* QEMU names the device QEMUVGID with this compatible ID; Hyper-V, VMGENCTR. */
static const char *const flakeid_vmgen_hids[] = { "VM_GEN_COUNTER", "VMGENCTR" };

static const u64 *flakeid_vmgen_map(void)
{
	struct acpi_buffer buf = { ACPI_ALLOCATE_BUFFER, NULL };
	struct acpi_device *adev = NULL;
	const union acpi_object *obj;
	const u64 *id = NULL;
	u64 phys;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(flakeid_vmgen_hids) && !adev; i++)
		adev = acpi_dev_get_first_match_dev(flakeid_vmgen_hids[i], NULL, -1);
	if (!adev)
		return NULL;
	if (ACPI_FAILURE(acpi_evaluate_object(adev->handle, "ADDR", NULL, &buf)))
		goto out_put;
	obj = buf.pointer;
	/* ADDR: a package of two integers, the low and high 32 bits. */
	if (obj && obj->type == ACPI_TYPE_PACKAGE && obj->package.count == 2 &&
	    obj->package.elements[0].type == ACPI_TYPE_INTEGER &&
	    obj->package.elements[1].type == ACPI_TYPE_INTEGER) {
		phys = (u64)obj->package.elements[0].integer.value |
		       (u64)obj->package.elements[1].integer.value << 32;
		if (phys == (phys_addr_t)phys)
			id = memremap(phys, 2 * sizeof(u64), MEMREMAP_WB);
	}
	ACPI_FREE(buf.pointer);
out_put:
	acpi_dev_put(adev);
	return id;
}
#else
static const u64 *flakeid_vmgen_map(void)
{
	return NULL;
}
#endif

/* The notifier is declared (and stubbed) whether or not vmgenid is built. */
#if defined(FLAKEID_HAVE_VMFORK) && IS_ENABLED(CONFIG_VMGENID)
#define FLAKEID_VMFORK_FALLBACK \
	": VM restores and clones are fenced when the kernel reports them"

static int flakeid_vmfork_event(struct notifier_block *nb,
				unsigned long action, void *data)
{
	struct flakeid_vmgen g;

	/* The same restore may have been seen by a call already. */
	flakeid_gen_vm_forked(flakeid_vmgen_read(&g) ? &g : NULL);
	return NOTIFY_DONE;
}

static struct notifier_block flakeid_vmfork_nb = {
	.notifier_call = flakeid_vmfork_event,
};

static int flakeid_vmfork_register(void)
{
	return register_random_vmfork_notifier(&flakeid_vmfork_nb);
}

static void flakeid_vmfork_unregister(void)
{
	unregister_random_vmfork_notifier(&flakeid_vmfork_nb);
}
#else
#define FLAKEID_VMFORK_FALLBACK \
	" and no VM fork notifier: VM restores and clones are not detected"

static int flakeid_vmfork_register(void)
{
	return 0;
}

static void flakeid_vmfork_unregister(void)
{
}
#endif

/* Before the device exists: the first call compares with a known ID. */
int flakeid_vmgen_init(void)
{
	const u64 *id = flakeid_vmgen_map();
	struct flakeid_vmgen g;
	int ret;

	if (id) {
		g.lo = READ_ONCE(id[0]);
		g.hi = READ_ONCE(id[1]);
		flakeid_gen_set_vmgen_seen(&g);
		/* Published after vmgen_seen; see flakeid_vmgen_read(). */
		smp_store_release(&flakeid_vmgen_id, id);
	}
	ret = flakeid_vmfork_register();
	if (ret)
		goto err_unmap;
	if (!id)
		pr_info("no VM generation ID found%s\n", FLAKEID_VMFORK_FALLBACK);
	return 0;

err_unmap:
	flakeid_vmgen_id = NULL;
	if (id)
		memunmap((void *)id);
	return ret;
}

/* After the device is gone: no call reads the ID any more. */
void flakeid_vmgen_exit(void)
{
	flakeid_vmfork_unregister();
	if (flakeid_vmgen_id)
		memunmap((void *)flakeid_vmgen_id);
	flakeid_vmgen_id = NULL;
}
