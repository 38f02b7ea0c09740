// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs under /sys/class/misc/flakeid/: the operator's configuration and
 * the generator's counters.  A store parses its value into an edit that
 * the generator applies, checks and installs atomically, or refuses.
 */

#include <linux/capability.h>
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/kernfs.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "attrs.h"
#include "gen.h"

enum flakeid_field {
	FLAKEID_REGION,
	FLAKEID_APP,
	FLAKEID_MACHINE,
	FLAKEID_EPOCH,
	FLAKEID_LAYOUT,
};

/* One store's change: @value for a number, @layout for FLAKEID_LAYOUT. */
struct flakeid_cfg_edit {
	enum flakeid_field field;
	u64 value;
	struct flakeid_layout layout;
};

/* Runs under the generator's lock, on a copy of the current configuration. */
static int flakeid_apply_edit(struct flakeid_cfg *cfg,
			      const struct flakeid_cfg_edit *e)
{
	if (e->field != FLAKEID_EPOCH && e->value > U32_MAX)
		return -ERANGE;
	switch (e->field) {
	case FLAKEID_REGION:
		cfg->region_id = e->value;
		break;
	case FLAKEID_APP:
		cfg->app_id = e->value;
		break;
	case FLAKEID_MACHINE:
		cfg->machine_id = e->value;
		break;
	case FLAKEID_EPOCH:
		cfg->epoch_ms = e->value;
		break;
	case FLAKEID_LAYOUT:
		cfg->layout = e->layout;
		break;
	}
	return 0;
}

static int flakeid_store_field(enum flakeid_field field, const char *buf)
{
	struct flakeid_cfg_edit e = { .field = field };
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	ret = kstrtou64(buf, 10, &e.value);
	if (ret)
		return ret;
	return flakeid_gen_update_config(flakeid_apply_edit, &e);
}

#define FLAKEID_FIELD_ATTR(_name, _field, _member)			\
static ssize_t _name##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	struct flakeid_cfg cfg;					\
									\
	flakeid_gen_get_config(&cfg, NULL, NULL);			\
	return sysfs_emit(buf, "%llu\n", (u64)cfg._member);		\
}									\
static ssize_t _name##_store(struct device *dev,			\
			     struct device_attribute *attr,		\
			     const char *buf, size_t len)		\
{									\
	int ret = flakeid_store_field(_field, buf);			\
									\
	return ret ? ret : len;						\
}									\
static DEVICE_ATTR_RW(_name)

FLAKEID_FIELD_ATTR(region_id, FLAKEID_REGION, region_id);
FLAKEID_FIELD_ATTR(app_id, FLAKEID_APP, app_id);
FLAKEID_FIELD_ATTR(machine_id, FLAKEID_MACHINE, machine_id);
FLAKEID_FIELD_ATTR(epoch_ms, FLAKEID_EPOCH, epoch_ms);

static ssize_t layout_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct flakeid_cfg cfg;
	const struct flakeid_layout *l = &cfg.layout;

	flakeid_gen_get_config(&cfg, NULL, NULL);
	return sysfs_emit(buf, "%u:%u:%u:%u:%u\n", l->ts_bits, l->region_bits,
			  l->app_bits, l->machine_bits, l->seq_bits);
}

static ssize_t layout_store(struct device *dev, struct device_attribute *attr,
			    const char *buf, size_t len)
{
	struct flakeid_cfg_edit e = { .field = FLAKEID_LAYOUT };
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	ret = flakeid_layout_parse(buf, &e.layout);
	if (!ret)
		ret = flakeid_gen_update_config(flakeid_apply_edit, &e);
	return ret ? ret : len;
}
static DEVICE_ATTR_RW(layout);

static ssize_t max_borrow_ms_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct flakeid_cfg cfg;
	u32 borrow;

	flakeid_gen_get_config(&cfg, &borrow, NULL);
	return sysfs_emit(buf, "%u\n", borrow);
}

/* A root-only store of one decimal u32, checked and applied by @set. */
static ssize_t flakeid_store_u32(const char *buf, size_t len,
				 int (*set)(u32 val))
{
	u32 val;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	ret = kstrtou32(buf, 10, &val);
	if (!ret)
		ret = set(val);
	return ret ? ret : len;
}

static ssize_t max_borrow_ms_store(struct device *dev,
				   struct device_attribute *attr,
				   const char *buf, size_t len)
{
	return flakeid_store_u32(buf, len, flakeid_gen_set_max_borrow);
}
static DEVICE_ATTR_RW(max_borrow_ms);

static ssize_t floor_ms_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%llu\n", flakeid_gen_floor_ms());
}

static ssize_t floor_ms_store(struct device *dev, struct device_attribute *attr,
			      const char *buf, size_t len)
{
	struct flakeid_floor f = {};
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	ret = kstrtou64(buf, 10, &f.ms);
	if (!ret)
		ret = flakeid_gen_raise_floor(&f);
	return ret ? ret : len;
}
static DEVICE_ATTR_RW(floor_ms);

/* The floor and what it is measured in, as module parameters spell them. */
static ssize_t floor_state_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct flakeid_floor f;
	const struct flakeid_layout *l = &f.layout;

	flakeid_gen_get_floor(&f);
	return sysfs_emit(buf, "floor_ms=%llu floor_epoch_ms=%llu floor_layout=%u:%u:%u:%u:%u\n",
			  f.ms, f.epoch_ms, l->ts_bits, l->region_bits,
			  l->app_bits, l->machine_bits, l->seq_bits);
}

/*
 * Parse "floor_ms=X [floor_epoch_ms=E] [floor_layout=T:R:A:M:S]": words
 * separated by blanks, in any order, each at most once, floor_ms required.
 */
static int flakeid_parse_floor(const char *buf, struct flakeid_floor *f)
{
	char tmp[128];
	char *cur = tmp, *word, *val;
	bool has_ms = false;
	int ret;

	if (strscpy(tmp, buf, sizeof(tmp)) < 0)
		return -EINVAL;
	while ((word = strsep(&cur, " \t\n"))) {
		if (!*word)
			continue;
		val = strchr(word, '=');
		if (!val)
			return -EINVAL;
		*val++ = '\0';
		if (!strcmp(word, "floor_ms") && !has_ms) {
			ret = kstrtou64(val, 10, &f->ms);
			has_ms = true;
		} else if (!strcmp(word, "floor_epoch_ms") && !f->has_epoch) {
			ret = kstrtou64(val, 10, &f->epoch_ms);
			f->has_epoch = true;
		} else if (!strcmp(word, "floor_layout") && !f->has_layout) {
			ret = flakeid_layout_parse(val, &f->layout);
			f->has_layout = true;
		} else {
			return -EINVAL;
		}
		if (ret)
			return ret;
	}
	return has_ms ? 0 : -EINVAL;
}

static ssize_t floor_state_store(struct device *dev,
				 struct device_attribute *attr,
				 const char *buf, size_t len)
{
	struct flakeid_floor f = {};
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	ret = flakeid_parse_floor(buf, &f);
	if (!ret)
		ret = flakeid_gen_raise_floor(&f);
	return ret ? ret : len;
}
static DEVICE_ATTR_RW(floor_state);

#define FLAKEID_COUNTER_ATTR(_name, _expr)				\
static ssize_t _name##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%llu\n", (u64)(_expr));			\
}									\
static DEVICE_ATTR_RO(_name)

FLAKEID_COUNTER_ATTR(ids_issued, flakeid_gen_ids_issued());
FLAKEID_COUNTER_ATTR(clock_steps_back, flakeid_gen_counter(FLAKEID_CNT_STEPS_BACK));
FLAKEID_COUNTER_ATTR(borrowed_ms, flakeid_gen_counter(FLAKEID_CNT_BORROWED_MS));
FLAKEID_COUNTER_ATTR(waits, flakeid_gen_counter(FLAKEID_CNT_WAITS));
FLAKEID_COUNTER_ATTR(refills, flakeid_gen_counter(FLAKEID_CNT_REFILLS));
FLAKEID_COUNTER_ATTR(until_waits, flakeid_gen_counter(FLAKEID_CNT_UNTIL_WAITS));
FLAKEID_COUNTER_ATTR(until_refused, flakeid_gen_counter(FLAKEID_CNT_UNTIL_REFUSED));
FLAKEID_COUNTER_ATTR(vm_forks, flakeid_gen_counter(FLAKEID_CNT_VM_FORKS));

/* "none" (no ceiling) or a Unix ms; 0 fences.  Shared with the parameter. */
int flakeid_attr_parse_until(const char *buf, u64 *until_ms)
{
	u64 val;
	int ret;

	if (sysfs_streq(buf, "none")) {
		*until_ms = FLAKEID_UNTIL_NONE;
		return 0;
	}
	ret = kstrtou64(buf, 10, &val);
	if (ret)
		return ret;
	if (val > FLAKEID_MS_MAX)
		return -ERANGE;
	*until_ms = val;
	return 0;
}

static ssize_t until_ms_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	u64 until = flakeid_gen_until_ms();

	if (until == FLAKEID_UNTIL_NONE)
		return sysfs_emit(buf, "none\n");
	return sysfs_emit(buf, "%llu\n", until);
}

static ssize_t until_ms_store(struct device *dev, struct device_attribute *attr,
			      const char *buf, size_t len)
{
	u64 val;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	ret = flakeid_attr_parse_until(buf, &val);
	if (!ret)
		ret = flakeid_gen_set_until(val);
	return ret ? ret : len;
}
static DEVICE_ATTR_RW(until_ms);

static ssize_t until_wait_ms_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", flakeid_gen_until_wait_ms());
}

static ssize_t until_wait_ms_store(struct device *dev,
				   struct device_attribute *attr,
				   const char *buf, size_t len)
{
	return flakeid_store_u32(buf, len, flakeid_gen_set_until_wait);
}
static DEVICE_ATTR_RW(until_wait_ms);

/*
 * until_ms's node, looked up once and held: sysfs_notify() looks it up on
 * every call and may sleep; kernfs_notify() on a held node does neither.
 */
static struct kernfs_node *flakeid_until_kn;

void flakeid_attr_init(struct device *dev)
{
	flakeid_until_kn = sysfs_get_dirent(dev->kobj.sd, "until_ms");
}

void flakeid_attr_exit(void)
{
	struct kernfs_node *kn = flakeid_until_kn;

	WRITE_ONCE(flakeid_until_kn, NULL);
	sysfs_put(kn);
}

/* Wake poll(2)ers of until_ms: it changed, was reached, or fenced. */
void flakeid_attr_notify_until(void)
{
	struct kernfs_node *kn = READ_ONCE(flakeid_until_kn);

	if (kn)
		sysfs_notify_dirent(kn);
}

static ssize_t ahead_ms_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%lld\n", flakeid_gen_ahead_ms());
}
static DEVICE_ATTR_RO(ahead_ms);

static ssize_t generation_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct flakeid_cfg cfg;
	u64 generation;

	flakeid_gen_get_config(&cfg, NULL, &generation);
	return sysfs_emit(buf, "%llu\n", generation);
}
static DEVICE_ATTR_RO(generation);

static struct attribute *flakeid_attrs[] = {
	&dev_attr_region_id.attr,
	&dev_attr_app_id.attr,
	&dev_attr_machine_id.attr,
	&dev_attr_epoch_ms.attr,
	&dev_attr_layout.attr,
	&dev_attr_max_borrow_ms.attr,
	&dev_attr_floor_ms.attr,
	&dev_attr_floor_state.attr,
	&dev_attr_ids_issued.attr,
	&dev_attr_clock_steps_back.attr,
	&dev_attr_borrowed_ms.attr,
	&dev_attr_waits.attr,
	&dev_attr_refills.attr,
	&dev_attr_ahead_ms.attr,
	&dev_attr_generation.attr,
	&dev_attr_until_ms.attr,
	&dev_attr_until_wait_ms.attr,
	&dev_attr_until_waits.attr,
	&dev_attr_until_refused.attr,
	&dev_attr_vm_forks.attr,
	NULL,
};

static const struct attribute_group flakeid_group = {
	.attrs = flakeid_attrs,
};

const struct attribute_group *flakeid_attr_groups[] = {
	&flakeid_group,
	NULL,
};
