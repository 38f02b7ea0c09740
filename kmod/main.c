// SPDX-License-Identifier: GPL-2.0
/*
 * Module entry: load-time parameters, which are checked by the same rules
 * as sysfs stores (a bad one fails the load with EINVAL), and init/exit.
 */

#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

#include "flakeid.h"

/*
 * Mode 0: the live configuration is in /sys/class/misc/flakeid/; showing
 * the load-time values elsewhere would only invite confusing the two.
 */
static uint region_id;
module_param(region_id, uint, 0);
MODULE_PARM_DESC(region_id, "Region field of every ID (default 0)");

static uint app_id;
module_param(app_id, uint, 0);
MODULE_PARM_DESC(app_id, "App field of every ID (default 0)");

static uint machine_id;
module_param(machine_id, uint, 0);
MODULE_PARM_DESC(machine_id, "Machine field of every ID (default 0)");

static unsigned long long epoch_ms = FLAKEID_DEFAULT_EPOCH_MS;
module_param(epoch_ms, ullong, 0);
MODULE_PARM_DESC(epoch_ms, "Epoch in Unix milliseconds (default 1704067200000, 2024-01-01)");

static char *layout;
module_param(layout, charp, 0);
MODULE_PARM_DESC(layout, "Bit widths T:R:A:M:S (default 41:4:3:5:10)");

static uint max_borrow_ms = FLAKEID_DEFAULT_MAX_BORROW_MS;
module_param(max_borrow_ms, uint, 0);
MODULE_PARM_DESC(max_borrow_ms, "How far ahead of the clock IDs may be borrowed, ms (default 1000, max 60000)");

static unsigned long long floor_ms;
module_param(floor_ms, ullong, 0);
MODULE_PARM_DESC(floor_ms, "Every ID gets a timestamp above this Unix ms (restore the saved floor_ms)");

static int __init flakeid_init(void)
{
	struct flakeid_cfg cfg = {
		.epoch_ms = epoch_ms,
		.layout = {
			.ts_bits = FLAKEID_DEFAULT_TIMESTAMP_BITS,
			.region_bits = FLAKEID_DEFAULT_REGION_BITS,
			.app_bits = FLAKEID_DEFAULT_APP_BITS,
			.machine_bits = FLAKEID_DEFAULT_MACHINE_BITS,
			.seq_bits = FLAKEID_DEFAULT_SEQUENCE_BITS,
		},
		.region_id = region_id,
		.app_id = app_id,
		.machine_id = machine_id,
	};
	int ret;

	if (layout && flakeid_layout_parse(layout, &cfg.layout)) {
		pr_err("invalid layout=%s: want T:R:A:M:S, sum <= 64, T >= 32, S >= 1\n",
		       layout);
		return -EINVAL;
	}
	ret = flakeid_gen_init(&cfg, max_borrow_ms, floor_ms);
	if (ret) {
		pr_err("invalid parameters (error %d): region_id/app_id/machine_id must fit the layout, epoch_ms must not be in the future, max_borrow_ms <= %u\n",
		       ret, FLAKEID_MAX_BORROW_MS_MAX);
		return -EINVAL;
	}

	ret = flakeid_dev_init();
	if (ret)
		goto err_gen;
	return 0;

err_gen:
	flakeid_gen_exit();
	return ret;
}

static void __exit flakeid_exit(void)
{
	flakeid_dev_exit();
	flakeid_gen_exit();
}

module_init(flakeid_init);
module_exit(flakeid_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("flakeid developers");
MODULE_DESCRIPTION("Unique, time-ordered 64-bit IDs from /dev/flakeid");
MODULE_VERSION("0.1.0");
