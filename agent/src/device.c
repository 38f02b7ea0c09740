// SPDX-License-Identifier: MIT
/*
 * The device side: writes the ceiling, floor and node id to the sysfs files
 * of /dev/flakeid (or a directory standing in for them), and sleeps in
 * poll(2) on until_ms, which the module notifies on change, reach and fence.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

static int path_of(const struct device *d, const char *name, char *buf,
		   size_t len)
{
	int n = snprintf(buf, len, "%s/%s", d->dir, name);

	return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : 0;
}

int dev_write(struct device *d, const char *name, const char *val)
{
	char path[PATH_MAX];
	size_t len = strlen(val);
	ssize_t n;
	int fd, ret;

	ret = path_of(d, name, path, sizeof(path));
	if (ret)
		return ret;
	/* O_TRUNC is ignored by sysfs; a stand-in directory needs it. */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	ret = n < 0 ? -errno : ((size_t)n == len ? 0 : -EIO);
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

int dev_write_u64(struct device *d, const char *name, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64 "\n", v);
	return dev_write(d, name, buf);
}

static int read_fd_u64(int fd, uint64_t *v, int *none)
{
	char buf[64];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	if (none && !strcmp(buf, "none")) {
		*none = 1;
		*v = UINT64_MAX;
		return 0;
	}
	return parse_u64(buf, UINT64_MAX, v);
}

int dev_read_u64(struct device *d, const char *name, uint64_t *v)
{
	char path[PATH_MAX];
	int fd, ret;

	ret = path_of(d, name, path, sizeof(path));
	if (ret)
		return ret;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = read_fd_u64(fd, v, NULL);
	close(fd);
	return ret;
}

int dev_fence(struct device *d)
{
	return dev_write(d, "until_ms", "0\n");
}

int dev_open(struct device *d, const char *dir)
{
	char path[PATH_MAX];
	int ret;

	d->dir = dir;
	d->until_fd = -1;
	ret = path_of(d, "until_ms", path, sizeof(path));
	if (ret)
		return ret;
	d->until_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (d->until_fd < 0)
		return -errno;
	return 0;
}

void dev_close(struct device *d)
{
	if (d->until_fd >= 0)
		close(d->until_fd);
	d->until_fd = -1;
}

/*
 * Sleep up to @timeout_ms or until the module notifies until_ms (a fence,
 * a VM fork, a reader at the ceiling) or a signal arrives.  sysfs wants the
 * file read before each poll.  A regular file (the stand-in) never reports
 * POLLPRI, so there this is a plain bounded sleep.  1: woken by the device.
 */
int dev_wait(struct device *d, int timeout_ms, const void *sigmask)
{
	struct pollfd p = { .fd = d->until_fd, .events = POLLPRI };
	struct timespec ts;
	uint64_t v;
	int ret, none = 0;

	if (timeout_ms < 0)
		timeout_ms = 0;
	ts.tv_sec = timeout_ms / 1000;
	ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
	read_fd_u64(d->until_fd, &v, &none);
	ret = ppoll(&p, 1, &ts, sigmask);
	if (ret < 0)
		return errno == EINTR ? 0 : -errno;
	return ret > 0 && (p.revents & (POLLPRI | POLLERR)) ? 1 : 0;
}
