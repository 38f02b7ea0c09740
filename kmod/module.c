// SPDX-License-Identifier: GPL-2.0
/*
 * Module entry: load-time parameters, which are checked by the same rules
 * as sysfs stores (a bad one fails the load with EINVAL), and init/exit.
 */

#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

#include "attrs.h"
#include "dev.h"
#include "gen.h"
#include "layout.h"
#include "vmgen.h"

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
MODULE_PARM_DESC(floor_ms, "Every ID is above what the floor's configuration can have issued by this Unix ms (restore the saved floor_state)");

/* Whether floor_epoch_ms was given at all: any u64 is a valid epoch. */
static bool floor_epoch_given;
static unsigned long long floor_epoch_ms;

static int flakeid_set_floor_epoch(const char *val,
				   const struct kernel_param *kp)
{
	int ret = param_set_ullong(val, kp);

	if (!ret)
		floor_epoch_given = true;
	return ret;
}

static const struct kernel_param_ops flakeid_floor_epoch_ops = {
	.set = flakeid_set_floor_epoch,
	.get = param_get_ullong,
};

module_param_cb(floor_epoch_ms, &flakeid_floor_epoch_ops, &floor_epoch_ms, 0);
MODULE_PARM_DESC(floor_epoch_ms, "Epoch under which floor_ms was read (default: epoch_ms)");

static char *floor_layout;
module_param(floor_layout, charp, 0);
MODULE_PARM_DESC(floor_layout, "Layout T:R:A:M:S under which floor_ms was read (default: layout)");

static char *until_ms;
module_param(until_ms, charp, 0);
MODULE_PARM_DESC(until_ms, "Timestamp ceiling, Unix ms: none (default), or 0 to load fenced");

static uint until_wait_ms = FLAKEID_DEFAULT_UNTIL_WAIT_MS;
module_param(until_wait_ms, uint, 0);
MODULE_PARM_DESC(until_wait_ms, "How long a reader at the ceiling waits for a raise, ms (default 1000, max 60000)");

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
	struct flakeid_floor floor = {
		.ms = floor_ms,
		.epoch_ms = floor_epoch_ms,
		.has_epoch = floor_epoch_given,
		.has_layout = floor_layout,
	};
	u64 until = FLAKEID_UNTIL_NONE;
	int ret;

	if (layout && flakeid_layout_parse(layout, &cfg.layout)) {
		pr_err("invalid layout=%s: want T:R:A:M:S, sum <= 64, T >= 32, S >= 1\n",
		       layout);
		return -EINVAL;
	}
	if (floor_layout && flakeid_layout_parse(floor_layout, &floor.layout)) {
		pr_err("invalid floor_layout=%s: want T:R:A:M:S, sum <= 64, T >= 32, S >= 1\n",
		       floor_layout);
		return -EINVAL;
	}
	if (!floor_ms && (floor.has_epoch || floor.has_layout)) {
		pr_err("floor_epoch_ms= and floor_layout= describe a floor_ms=: pass floor_ms= too\n");
		return -EINVAL;
	}
	if (until_ms && flakeid_attr_parse_until(until_ms, &until)) {
		pr_err("invalid until_ms=%s: want none or a Unix ms up to %llu\n",
		       until_ms, FLAKEID_MS_MAX);
		return -EINVAL;
	}
	if (until_wait_ms > FLAKEID_UNTIL_WAIT_MS_MAX) {
		pr_err("until_wait_ms=%u is above %u\n", until_wait_ms,
		       FLAKEID_UNTIL_WAIT_MS_MAX);
		return -EINVAL;
	}
	if (flakeid_layout_check_cfg(&cfg)) {
		pr_err("region_id=%u app_id=%u machine_id=%u do not fit layout %u:%u:%u:%u:%u\n",
		       region_id, app_id, machine_id, cfg.layout.ts_bits,
		       cfg.layout.region_bits, cfg.layout.app_bits,
		       cfg.layout.machine_bits, cfg.layout.seq_bits);
		return -EINVAL;
	}
	if (max_borrow_ms > FLAKEID_MAX_BORROW_MS_MAX) {
		pr_err("max_borrow_ms=%u is above %u\n", max_borrow_ms,
		       FLAKEID_MAX_BORROW_MS_MAX);
		return -EINVAL;
	}
	if (flakeid_gen_init(&cfg, max_borrow_ms)) {
		pr_err("epoch_ms=%llu with a %u-bit timestamp cannot stamp the current time (epoch in the future, or too long ago)\n",
		       epoch_ms, cfg.layout.ts_bits);
		return -EINVAL;
	}
	if (floor_ms && flakeid_gen_raise_floor(&floor)) {
		pr_err("floor_ms=%llu (floor_epoch_ms=%llu floor_layout=%s) cannot be placed under epoch_ms=%llu layout=%u:%u:%u:%u:%u: its IDs pass every ID issued by then only past the timestamp field or the kernel's time, or more than %u ms past the floor (an epoch moved forward or a narrower timestamp shift); load with the floor's epoch and layout, or check the saved floor\n",
		       floor_ms, floor.has_epoch ? floor_epoch_ms : epoch_ms,
		       floor_layout ? floor_layout : "(layout)", epoch_ms,
		       cfg.layout.ts_bits, cfg.layout.region_bits,
		       cfg.layout.app_bits, cfg.layout.machine_bits,
		       cfg.layout.seq_bits, FLAKEID_RECONFIG_MAX_JUMP_MS);
		return -EINVAL;
	}

	flakeid_gen_set_until(until);
	flakeid_gen_set_until_wait(until_wait_ms);

	/* The generation ID is known before the first call can compare it. */
	ret = flakeid_vmgen_init();
	if (ret)
		goto err_gen;
	ret = flakeid_dev_init();
	if (ret)
		goto err_vmgen;
	return 0;

err_vmgen:
	flakeid_vmgen_exit();
err_gen:
	flakeid_gen_exit();
	return ret;
}

static void __exit flakeid_exit(void)
{
	/*
	 * The fork notifier first: it fences, which notifies pollers of
	 * until_ms through a sysfs node that flakeid_dev_exit() lets go.
	 * No file is open (the module is going), so no call needs it.
	 */
	flakeid_vmgen_exit();
	flakeid_dev_exit();
	flakeid_gen_exit();
}

module_init(flakeid_init);
module_exit(flakeid_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("flakeid developers");
MODULE_DESCRIPTION("Unique, time-ordered 64-bit IDs and UUIDv7s from /dev/flakeid and /dev/flakeid-uuid7");
MODULE_VERSION(FLAKEID_VERSION);
