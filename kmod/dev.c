// SPDX-License-Identifier: GPL-2.0
/*
 * The character devices /dev/flakeid (64-bit IDs) and /dev/flakeid-uuid7
 * (UUIDv7s): open/release, read_iter, and the ioctl table, shared by both,
 * that validates every user struct before a handler sees it.
 */

#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/log2.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "attrs.h"
#include "dev.h"
#include "gen.h"

static_assert(sizeof(struct flakeid_batch) == FLAKEID_BATCH_SIZE_VER0);
static_assert(sizeof(struct flakeid_decode) == FLAKEID_DECODE_SIZE_VER0);
static_assert(sizeof(struct flakeid_config) == FLAKEID_CONFIG_SIZE_VER0);
static_assert(sizeof(struct flakeid_uuid7_batch) ==
	      FLAKEID_UUID7_BATCH_SIZE_VER0);
/* flakeid_read_items() counts items by shifting. */
static_assert(FLAKEID_UUID7_SIZE == 1 << ilog2(FLAKEID_UUID7_SIZE));

static struct miscdevice flakeid_uuid_misc;

static int flakeid_dev_open(struct inode *inode, struct file *file)
{
	struct flakeid_file *ff;
	int ret;

	/*
	 * A stream: no lseek/pread, and read() neither reads nor writes
	 * f_pos, so threads sharing a file do not race on it in ksys_read()
	 * (KCSAN reports that race with nonseekable_open() alone).
	 */
	ret = stream_open(inode, file);
	if (ret)
		return ret;
	ff = kzalloc(sizeof(*ff), GFP_KERNEL);
	if (!ff)
		return -ENOMEM;
	flakeid_gen_file_init(ff);
	file->private_data = ff;
	file->f_mode |= FMODE_NOWAIT;
	return 0;
}

static int flakeid_dev_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

static bool flakeid_nonblock(struct file *file, int iocb_flags)
{
	return (file->f_flags & O_NONBLOCK) || (iocb_flags & IOCB_NOWAIT);
}

/* A file opened through /dev/flakeid-uuid7 reads UUIDs, else IDs. */
static bool flakeid_reads_uuids(struct file *file)
{
	return iminor(file_inode(file)) == flakeid_uuid_misc.minor;
}

/*
 * A read of @len bytes: as many whole IDs (8 bytes) or UUIDs (16) as fit,
 * at most FLAKEID_BATCH_MAX; less than one is EINVAL.
 */
static ssize_t flakeid_read_items(struct file *file, struct flakeid_sink *sink,
				  size_t len, bool nonblock)
{
	unsigned int shift;
	ssize_t ret;

	sink->uuid = flakeid_reads_uuids(file);
	/* A shift, not a 64-bit division (a helper call under TCG). */
	shift = sink->uuid ? ilog2(FLAKEID_UUID7_SIZE) : ilog2(sizeof(u64));
	if (!len)
		return 0;
	if (len >> shift == 0)
		return -EINVAL;
	ret = flakeid_gen_issue(file->private_data, sink,
				min_t(size_t, len >> shift, FLAKEID_BATCH_MAX),
				nonblock);
	return ret < 0 ? ret : ret << shift;
}

/* read(2): the common case, written straight to the user's buffer. */
static ssize_t flakeid_dev_read(struct file *file, char __user *buf,
				size_t len, loff_t *ppos)
{
	struct flakeid_sink sink = { .ubuf = buf };

	/* Refuse a bad buffer before any ID is spent on it. */
	if (!access_ok(buf, len))
		return -EFAULT;
	return flakeid_read_items(file, &sink, len, flakeid_nonblock(file, 0));
}

/* readv(2), preadv2(RWF_NOWAIT), io_uring: any iov_iter. */
static ssize_t flakeid_dev_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct flakeid_sink sink = { .iter = to };

	return flakeid_read_items(iocb->ki_filp, &sink, iov_iter_count(to),
				  flakeid_nonblock(iocb->ki_filp,
						   iocb->ki_flags));
}

union flakeid_ucmd {
	struct flakeid_batch batch;
	struct flakeid_decode decode;
	struct flakeid_config config;
	struct flakeid_uuid7_batch uuid7_batch;
};

/*
 * The two batch ioctls, whose structs agree member for member: *@count
 * IDs, or UUIDs, to the user array at @uptr.
 */
static int flakeid_batch_issue(struct file *file, u32 flags, u64 reserved,
			       u64 *count, u64 uptr, bool uuid)
{
	struct flakeid_sink sink = { .ubuf = u64_to_user_ptr(uptr),
				     .uuid = uuid };
	size_t size = uuid ? FLAKEID_UUID7_SIZE : sizeof(u64), bytes;
	ssize_t ret;

	if (flags & ~FLAKEID_BATCH_NONBLOCK || reserved)
		return -EINVAL;
	if (*count > FLAKEID_BATCH_MAX)
		return -EINVAL;
	if (!*count)
		return 0;
	if (check_mul_overflow((size_t)*count, size, &bytes))
		return -EINVAL;

	if (!access_ok(sink.ubuf, bytes))
		return -EFAULT;
	ret = flakeid_gen_issue(file->private_data, &sink, *count,
				flakeid_nonblock(file, 0) ||
				(flags & FLAKEID_BATCH_NONBLOCK));
	if (ret < 0)
		return ret;
	*count = ret;
	return 0;
}

static int flakeid_ioc_batch(struct file *file, union flakeid_ucmd *u)
{
	struct flakeid_batch *b = &u->batch;

	return flakeid_batch_issue(file, b->flags, b->reserved, &b->count,
				   b->ids, false);
}

static int flakeid_ioc_uuid7_batch(struct file *file, union flakeid_ucmd *u)
{
	struct flakeid_uuid7_batch *b = &u->uuid7_batch;

	return flakeid_batch_issue(file, b->flags, b->reserved, &b->count,
				   b->uuids, true);
}

static int flakeid_ioc_decode(struct file *file, union flakeid_ucmd *u)
{
	struct flakeid_decode *d = &u->decode;
	struct flakeid_cfg cfg;

	if (d->flags || d->reserved)
		return -EINVAL;
	flakeid_gen_get_config(&cfg, NULL, NULL);
	return flakeid_layout_decode(&cfg, d->id, d);
}

static int flakeid_ioc_config(struct file *file, union flakeid_ucmd *u)
{
	struct flakeid_config *c = &u->config;
	struct flakeid_cfg cfg;
	u64 generation;
	u32 borrow;

	if (c->flags || c->reserved0)
		return -EINVAL;
	flakeid_gen_get_config(&cfg, &borrow, &generation);
	c->epoch_ms = cfg.epoch_ms;
	c->timestamp_bits = cfg.layout.ts_bits;
	c->region_bits = cfg.layout.region_bits;
	c->app_bits = cfg.layout.app_bits;
	c->machine_bits = cfg.layout.machine_bits;
	c->sequence_bits = cfg.layout.seq_bits;
	c->region_id = cfg.region_id;
	c->app_id = cfg.app_id;
	c->machine_id = cfg.machine_id;
	c->max_borrow_ms = borrow;
	c->floor_ms = flakeid_gen_floor_ms();
	c->generation = generation;
	c->until_ms = flakeid_gen_until_ms();
	c->vm_forks = flakeid_gen_counter(FLAKEID_CNT_VM_FORKS);
	return 0;
}

struct flakeid_ioctl_op {
	unsigned int cmd;
	u32 size;		/* the kernel's struct */
	u32 min_size;		/* its first published version */
	int (*handler)(struct file *file, union flakeid_ucmd *u);
};

#define FLAKEID_OP(_cmd, _struct, _ver0, _fn)				\
	{ .cmd = _cmd, .size = sizeof(struct _struct), .min_size = _ver0, \
	  .handler = _fn }

static const struct flakeid_ioctl_op flakeid_ops[] = {
	FLAKEID_OP(FLAKEID_IOC_BATCH, flakeid_batch, FLAKEID_BATCH_SIZE_VER0,
		   flakeid_ioc_batch),
	FLAKEID_OP(FLAKEID_IOC_DECODE, flakeid_decode, FLAKEID_DECODE_SIZE_VER0,
		   flakeid_ioc_decode),
	FLAKEID_OP(FLAKEID_IOC_CONFIG, flakeid_config, FLAKEID_CONFIG_SIZE_VER0,
		   flakeid_ioc_config),
	FLAKEID_OP(FLAKEID_IOC_UUID7_BATCH, flakeid_uuid7_batch,
		   FLAKEID_UUID7_BATCH_SIZE_VER0, flakeid_ioc_uuid7_batch),
};

static unsigned int flakeid_ioc_nosize(unsigned int cmd)
{
	return cmd & ~(_IOC_SIZEMASK << _IOC_SIZESHIFT);
}

static long flakeid_dev_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	const struct flakeid_ioctl_op *op = NULL;
	union flakeid_ucmd buf;
	unsigned int i;
	u32 usize;
	int ret;

	/* The size bits may name any version of the struct: ignore them. */
	for (i = 0; i < ARRAY_SIZE(flakeid_ops); i++) {
		if (flakeid_ioc_nosize(flakeid_ops[i].cmd) ==
		    flakeid_ioc_nosize(cmd)) {
			op = &flakeid_ops[i];
			break;
		}
	}
	if (!op)
		return -ENOTTY;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < op->min_size)
		return -EINVAL;
	if (usize > FLAKEID_STRUCT_SIZE_MAX)
		return -E2BIG;
	ret = copy_struct_from_user(&buf, op->size, uarg, usize);
	if (ret)
		return ret;

	ret = op->handler(file, &buf);
	if (ret)
		return ret;
	if (copy_to_user(uarg, &buf, min(usize, op->size)))
		return -EFAULT;
	return 0;
}

static const struct file_operations flakeid_fops = {
	.owner = THIS_MODULE,
	.open = flakeid_dev_open,
	.release = flakeid_dev_release,
	.read = flakeid_dev_read,
	.read_iter = flakeid_dev_read_iter,
	.unlocked_ioctl = flakeid_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice flakeid_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "flakeid",
	.fops = &flakeid_fops,
	.mode = 0444,
};

/* No sysfs of its own: the configuration lives with /dev/flakeid. */
static struct miscdevice flakeid_uuid_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "flakeid-uuid7",
	.fops = &flakeid_fops,
	.mode = 0444,
};

int flakeid_dev_init(void)
{
	int ret;

	/*
	 * /dev/flakeid last: its uevent starts the floor service (udev), and
	 * nothing after it can fail.
	 */
	ret = misc_register(&flakeid_uuid_misc);
	if (ret)
		return ret;
	flakeid_misc.groups = flakeid_attr_groups;
	ret = misc_register(&flakeid_misc);
	if (ret)
		goto err_uuid;
	flakeid_attr_init(flakeid_misc.this_device);
	return 0;

err_uuid:
	misc_deregister(&flakeid_uuid_misc);
	return ret;
}

void flakeid_dev_exit(void)
{
	/* No store or reader is left to notify once the device is gone. */
	misc_deregister(&flakeid_misc);
	flakeid_attr_exit();
	misc_deregister(&flakeid_uuid_misc);
}
