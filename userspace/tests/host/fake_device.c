// SPDX-License-Identifier: MIT
/*
 * A stand-in device for host tests of flakeid(1): linked into a test build
 * of the command with --wrap, flakeid_open() of the path "fake" gives a
 * handle with no device behind it, whose batches are increasing numbers.
 * After every batch the count handed out so far is written to the file
 * named by $FLAKEID_FAKE_TAKEN, so a test can see how many IDs a run took
 * even if the run was killed.  $FLAKEID_FAKE_UNTIL is the until_ms its
 * configuration reports (default none); with it set, a batch that would
 * take more than $FLAKEID_FAKE_LIMIT IDs in all (default 0) fails with
 * EKEYEXPIRED, as the device does at its ceiling.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

int __real_flakeid_open(struct flakeid **hp, const char *path,
			unsigned int flags);
int __real_flakeid_batch(struct flakeid *h, uint64_t *ids, size_t n);
int __wrap_flakeid_open(struct flakeid **hp, const char *path,
			unsigned int flags);
int __wrap_flakeid_batch(struct flakeid *h, uint64_t *ids, size_t n);
int __real_flakeid_get_config(struct flakeid *h, struct flakeid_config *cfg);
int __wrap_flakeid_get_config(struct flakeid *h, struct flakeid_config *cfg);
int __real_flakeid__read_config(int fd, struct flakeid_config *cfg);
int __wrap_flakeid__read_config(int fd, struct flakeid_config *cfg);

static uint64_t next_id = 1000, taken;

static void record_taken(void)
{
	const char *path = getenv("FLAKEID_FAKE_TAKEN");
	char buf[32];
	int fd, len;

	if (!path)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	len = snprintf(buf, sizeof(buf), "%" PRIu64 "\n", taken);
	if (write(fd, buf, (size_t)len) != len)
		perror("fake device: recording the count");
	close(fd);
}

static void fake_config(struct flakeid_config *cfg)
{
	const char *until = getenv("FLAKEID_FAKE_UNTIL");

	flakeid_default_config(cfg);
	if (until)
		cfg->until_ms = strtoull(until, NULL, 0);
}

int __wrap_flakeid_open(struct flakeid **hp, const char *path,
			unsigned int flags)
{
	struct flakeid *h;

	if (!path || strcmp(path, "fake"))
		return __real_flakeid_open(hp, path, flags);
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->fd = -1;
	h->flags = flags;
	fake_config(&h->cfg);
	pthread_rwlock_init(&h->cfg_lock, NULL);
	*hp = h;
	record_taken();
	return 0;
}

int __wrap_flakeid_batch(struct flakeid *h, uint64_t *ids, size_t n)
{
	size_t i;

	const char *limit = getenv("FLAKEID_FAKE_LIMIT");

	if (!h || h->fd != -1)
		return __real_flakeid_batch(h, ids, n);
	if (getenv("FLAKEID_FAKE_UNTIL") &&
	    taken + n > (limit ? strtoull(limit, NULL, 10) : 0))
		return -EKEYEXPIRED;
	for (i = 0; i < n; i++)
		ids[i] = next_id++;
	taken += n;
	record_taken();
	return 0;
}

int __wrap_flakeid_get_config(struct flakeid *h, struct flakeid_config *cfg)
{
	if (!h || h->fd != -1)
		return __real_flakeid_get_config(h, cfg);
	if (cfg)
		*cfg = h->cfg;
	return 0;
}

/* What flakeid_set_config() compares with before its stores. */
int __wrap_flakeid__read_config(int fd, struct flakeid_config *cfg)
{
	if (fd != -1)
		return __real_flakeid__read_config(fd, cfg);
	fake_config(cfg);
	return 0;
}
