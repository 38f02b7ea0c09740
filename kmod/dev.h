/* SPDX-License-Identifier: GPL-2.0 */
/* The character device /dev/flakeid and its sysfs directory (dev.c). */
#ifndef _FLAKEID_DEV_H
#define _FLAKEID_DEV_H

int flakeid_dev_init(void);
void flakeid_dev_exit(void);

#endif /* _FLAKEID_DEV_H */
