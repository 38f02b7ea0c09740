// SPDX-License-Identifier: MIT
/*
 * The handle: opening the device, fetching IDs through read(2) and the batch
 * ioctl, UUIDs through theirs, and decoding against the configuration read
 * from the device.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

int flakeid__read_config(int fd, struct flakeid_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
	if (ioctl(fd, FLAKEID_IOC_CONFIG, cfg) < 0)
		return -errno;
	/* Anything else would make every decode fail or lie. */
	if (flakeid__layout_check(cfg))
		return -EPROTO;
	return 0;
}

/*
 * Opens @path only if it is a character device, without blocking: open(2)
 * of a FIFO waits for a writer, and touching one wakes whoever waits on its
 * other end.  The stat() keeps FIFOs unopened; O_NONBLOCK covers a path
 * swapped in between, and the fstat() decides.
 */
static int open_chardev(const char *path, unsigned int flags)
{
	struct stat st;
	int fd, fl;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISCHR(st.st_mode))
		return -ENOTTY;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		goto err_errno;
	if (!S_ISCHR(st.st_mode)) {
		close(fd);
		return -ENOTTY;
	}
	if (!(flags & FLAKEID_OPEN_NONBLOCK)) {
		fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
			goto err_errno;
	}
	return fd;

err_errno:
	fl = -errno;
	close(fd);
	return fl;
}

int flakeid_open(struct flakeid **hp, const char *path, unsigned int flags)
{
	struct flakeid *h;
	int ret;

	if (!hp)
		return -EINVAL;
	*hp = NULL;
	if (flags & ~FLAKEID_OPEN_NONBLOCK)
		return -EINVAL;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->flags = flags;
	h->fd = open_chardev(path ? path : FLAKEID_DEVICE_PATH, flags);
	if (h->fd < 0) {
		ret = h->fd;
		goto err_free;
	}
	/* Also proves the device is flakeid: others answer ENOTTY. */
	ret = flakeid__read_config(h->fd, &h->cfg);
	if (ret)
		goto err_close;
	ret = -pthread_rwlock_init(&h->cfg_lock, NULL);
	if (ret)
		goto err_close;
	*hp = h;
	return 0;

err_close:
	close(h->fd);
err_free:
	free(h);
	return ret;
}

void flakeid_close(struct flakeid *h)
{
	if (!h)
		return;
	/*
	 * Threads' cache entries for this handle are tagged with a cache_id
	 * that is never handed out again; they are reused or freed by their
	 * own threads, so nothing here touches them.
	 */
	pthread_rwlock_destroy(&h->cfg_lock);
	close(h->fd);
	free(h->sysfs_dir);
	free(h);
}

/* flakeid_next() without the cache; flakeid_next() is in cache.c. */
int flakeid__read_one(struct flakeid *h, uint64_t *id)
{
	ssize_t n = read(h->fd, id, sizeof(*id));

	if (n == (ssize_t)sizeof(*id))
		return 0;
	return n < 0 ? -errno : -EIO;
}

int flakeid__fetch(struct flakeid *h, uint64_t *ids, size_t n, size_t *got)
{
	struct flakeid_batch b = {
		.size = sizeof(b),
		.count = n < FLAKEID_BATCH_MAX ? n : FLAKEID_BATCH_MAX,
		.ids = (uintptr_t)ids,
	};

	if (h->flags & FLAKEID_OPEN_NONBLOCK)
		b.flags |= FLAKEID_BATCH_NONBLOCK;
	if (ioctl(h->fd, FLAKEID_IOC_BATCH, &b) < 0)
		return -errno;
	/* The kernel returns an error rather than zero IDs; be safe anyway. */
	if (b.count == 0 || b.count > n)
		return b.count ? -EIO : -EAGAIN;
	*got = (size_t)b.count;
	return 0;
}

/* One FLAKEID_IOC_UUID7_BATCH on the handle's /dev/flakeid. */
int flakeid__uuid7_fetch(struct flakeid *h, struct flakeid_uuid7 *uuids,
			 size_t n, size_t *got)
{
	struct flakeid_uuid7_batch b = {
		.size = sizeof(b),
		.count = n < FLAKEID_BATCH_MAX ? n : FLAKEID_BATCH_MAX,
		.uuids = (uintptr_t)uuids,
	};

	if (h->flags & FLAKEID_OPEN_NONBLOCK)
		b.flags |= FLAKEID_BATCH_NONBLOCK;
	if (ioctl(h->fd, FLAKEID_IOC_UUID7_BATCH, &b) < 0)
		return -errno;
	if (b.count == 0 || b.count > n)
		return b.count ? -EIO : -EAGAIN;
	*got = (size_t)b.count;
	return 0;
}

int flakeid_batch(struct flakeid *h, uint64_t *ids, size_t n)
{
	size_t done, got = 0;
	int ret;

	if (!h || (!ids && n))
		return -EINVAL;
	/*
	 * Cached IDs first: they are smaller than anything the device hands
	 * out now, so taking them first keeps this thread's IDs increasing.
	 */
	done = flakeid__cache_take(h, ids, n);
	while (done < n) {
		ret = flakeid__fetch(h, ids + done, n - done, &got);
		if (ret)
			return ret;
		done += got;
	}
	return 0;
}

int flakeid_get_config(struct flakeid *h, struct flakeid_config *cfg)
{
	struct flakeid_config c;
	int ret;

	if (!h)
		return -EINVAL;
	ret = flakeid__read_config(h->fd, &c);
	if (ret)
		return ret;
	if (cfg && c.until_ms == FLAKEID_UNTIL_FENCED &&
	    flakeid__until_unknown(h))
		c.until_ms = FLAKEID_UNTIL_NONE;
	pthread_rwlock_wrlock(&h->cfg_lock);
	h->cfg = c;
	pthread_rwlock_unlock(&h->cfg_lock);
	if (cfg)
		*cfg = c;
	return 0;
}

int flakeid_refresh_config(struct flakeid *h)
{
	return flakeid_get_config(h, NULL);
}

int flakeid__decode(struct flakeid *h, uint64_t id, struct flakeid_parts *parts)
{
	struct flakeid_config c;

	if (!h || !parts)
		return -EINVAL;
	pthread_rwlock_rdlock(&h->cfg_lock);
	c = h->cfg;
	pthread_rwlock_unlock(&h->cfg_lock);
	return flakeid__decode_with(&c, id, parts);
}
FLAKEID_SYMVER(flakeid__decode, "flakeid_decode@@LIBFLAKEID_1.1");
