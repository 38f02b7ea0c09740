/* SPDX-License-Identifier: GPL-2.0 */
/* The sysfs attributes of the misc device (attrs.c). */
#ifndef _FLAKEID_ATTRS_H
#define _FLAKEID_ATTRS_H

#include <linux/device.h>
#include <linux/sysfs.h>
#include <linux/types.h>

extern const struct attribute_group *flakeid_attr_groups[];
void flakeid_attr_init(struct device *dev);
void flakeid_attr_exit(void);
void flakeid_attr_notify_until(void);
int flakeid_attr_parse_until(const char *buf, u64 *until_ms);

#endif /* _FLAKEID_ATTRS_H */
