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
 * EKEYEXPIRED, as the device does at its ceiling.  UUIDs come from the
 * library's own flakeid_uuid7_batch() over a fake ioctl that answers at
 * most 64 at a time: 1,024 a millisecond from 2025-01-01T00:00:00.123Z,
 * the rest of the counter and the random bits from a fixed xorshift.  With
 * $FLAKEID_FAKE_UUID7=none the ioctl is unknown (ENOTTY), as on a module
 * from before UUIDs.  UUIDs and IDs count together in the taken count.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "xorshift.h"

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
int __real_flakeid__uuid7_fetch(struct flakeid *h, struct flakeid_uuid7 *uuids,
				size_t n, size_t *got);
int __wrap_flakeid__uuid7_fetch(struct flakeid *h, struct flakeid_uuid7 *uuids,
				size_t n, size_t *got);

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

int __wrap_flakeid__uuid7_fetch(struct flakeid *h, struct flakeid_uuid7 *uuids,
				size_t n, size_t *got)
{
	static uint64_t rng = 0x9e3779b97f4a7c15u, minted, start;
	const char *limit = getenv("FLAKEID_FAKE_LIMIT");
	const char *mode = getenv("FLAKEID_FAKE_UUID7");
	uint64_t ms, counter, hi, lo;
	size_t i;
	int b;

	if (h->fd != -1)
		return __real_flakeid__uuid7_fetch(h, uuids, n, got);
	if (mode && !strcmp(mode, "none"))
		return -ENOTTY;
	if (n > 64)
		n = 64;
	if (getenv("FLAKEID_FAKE_UNTIL") &&
	    taken + n > (limit ? strtoull(limit, NULL, 10) : 0))
		return -EKEYEXPIRED;
	for (i = 0; i < n; i++, minted++) {
		ms = 1735689600123ULL + minted / 1024;
		/* Guard bit clear, a start drawn each ms, the sequence. */
		if (minted % 1024 == 0)
			start = xorshift64s(&rng) & 0x7fffffffULL;
		counter = start << 10 | minted % 1024;
		hi = ms << 16 | 0x7000 | counter >> 30;
		lo = 2ULL << 62 | (counter & 0x3fffffffULL) << 32 |
		     (xorshift64s(&rng) & 0xffffffffULL);
		for (b = 0; b < 8; b++) {
			uuids[i].b[b] = (uint8_t)(hi >> (56 - 8 * b));
			uuids[i].b[8 + b] = (uint8_t)(lo >> (56 - 8 * b));
		}
	}
	taken += n;
	record_taken();
	*got = n;
	return 0;
}
