/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Declarations shared by the files of flakeid.ko: the configuration, the
 * generator core (gen.c), the character device (dev.c), sysfs (sysfs.c) and
 * the module entry (main.c).
 */
#ifndef _FLAKEID_H
#define _FLAKEID_H

#include <linux/types.h>
#include <linux/atomic.h>
#include <linux/ktime.h>
#include <linux/time64.h>
#include <linux/uio.h>
#include <linux/device.h>
#include <linux/flakeid.h>

/* How far a configuration change may move the allocator forward. */
#define FLAKEID_RECONFIG_MAX_JUMP_MS	1000
/* On unload, wait at most this long for the wall clock to pass the floor. */
#define FLAKEID_EXIT_MAX_WAIT_MS	2000
/* The last Unix ms whose nanoseconds fit ktime_t: no timestamp goes past. */
#define FLAKEID_MS_MAX			((u64)KTIME_MAX / NSEC_PER_MSEC)

struct flakeid_layout {
	u8 ts_bits;
	u8 region_bits;
	u8 app_bits;
	u8 machine_bits;
	u8 seq_bits;
};

struct flakeid_cfg {
	u64 epoch_ms;
	struct flakeid_layout layout;
	u32 region_id;
	u32 app_id;
	u32 machine_id;
};

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

/* The VM generation ID, 16 bytes the hypervisor changes on a VM fork. */
struct flakeid_vmgen {
	u64 lo;
	u64 hi;
};

/* Per open file: the largest ID handed out through it. */
struct flakeid_file {
	atomic64_t last;
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

/* Pure helpers on a configuration (gen.c). */
int flakeid_layout_parse(const char *buf, struct flakeid_layout *l);
int flakeid_layout_check(const struct flakeid_layout *l);
unsigned int flakeid_layout_total(const struct flakeid_layout *l);
int flakeid_config_check(const struct flakeid_cfg *cfg);

/* Generator state (gen.c). */
int flakeid_gen_init(const struct flakeid_cfg *cfg, u32 max_borrow_ms);
void flakeid_gen_exit(void);
/* Where IDs go: an iov_iter (readv, io_uring), or a plain user array. */
struct flakeid_sink {
	struct iov_iter *iter;
	u64 __user *ubuf;
};

ssize_t flakeid_issue(struct flakeid_file *ff, struct flakeid_sink *sink,
		      size_t count, bool nonblock);
void flakeid_get_config(struct flakeid_cfg *cfg, u32 *max_borrow_ms,
			u64 *generation);
int flakeid_update_config(int (*edit)(struct flakeid_cfg *cfg,
				      const void *arg), const void *arg);
int flakeid_set_max_borrow(u32 ms);
int flakeid_raise_floor(const struct flakeid_floor *req);
u64 flakeid_floor_ms(void);
void flakeid_get_floor(struct flakeid_floor *f);
s64 flakeid_ahead_ms(void);
int flakeid_set_until(u64 until_ms);
u64 flakeid_until_ms(void);
int flakeid_set_until_wait(u32 ms);
u32 flakeid_until_wait_ms(void);
void flakeid_vm_forked(const struct flakeid_vmgen *now);
void flakeid_vmgen_set_seen(const struct flakeid_vmgen *g);
u64 flakeid_ids_issued(void);
u64 flakeid_counter(enum flakeid_counter c);
int flakeid_decode(const struct flakeid_cfg *cfg, u64 id,
		   struct flakeid_decode *out);

/* VM fork detection (vmgen.c). */
int flakeid_vmgen_init(void);
void flakeid_vmgen_exit(void);
bool flakeid_vmgen_read(struct flakeid_vmgen *g);

/* Character device (dev.c). */
int flakeid_dev_init(void);
void flakeid_dev_exit(void);

/* sysfs attribute groups for the misc device (sysfs.c). */
extern const struct attribute_group *flakeid_groups[];
void flakeid_sysfs_init(struct device *dev);
void flakeid_sysfs_exit(void);
void flakeid_notify_until(void);
int flakeid_parse_until(const char *buf, u64 *until_ms);

#endif /* _FLAKEID_H */
