// SPDX-License-Identifier: MIT
/*
 * UUIDv7 (RFC 9562): taking them from the device in batches, and the text
 * form and fields of one, which need no device.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

_Static_assert(sizeof(struct flakeid_uuid7) == FLAKEID_UUID7_SIZE,
	       "struct flakeid_uuid7 is the kernel's 16 bytes");

int flakeid_uuid7_batch(struct flakeid *h, struct flakeid_uuid7 *uuids,
			size_t n)
{
	size_t done = 0, got = 0;
	int ret;

	if (!h || (!uuids && n))
		return -EINVAL;
	while (done < n) {
		ret = flakeid__uuid7_fetch(h, uuids + done, n - done, &got);
		/*
		 * The handle's open already proved the device is flakeid's, so
		 * an unknown command means a module from before UUIDs.
		 */
		if (ret == -ENOTTY)
			return -EOPNOTSUPP;
		if (ret)
			return ret;
		done += got;
	}
	return 0;
}

int flakeid_uuid7(struct flakeid *h, struct flakeid_uuid7 *uuid)
{
	if (!uuid)
		return -EINVAL;
	return flakeid_uuid7_batch(h, uuid, 1);
}

/* Where the dashes of the 8-4-4-4-12 form go. */
static int dash_at(size_t i)
{
	return i == 8 || i == 13 || i == 18 || i == 23;
}

int flakeid_format_uuid7(const struct flakeid_uuid7 *uuid, char *buf,
			 size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, j = 0;

	if (!uuid || !buf)
		return -EINVAL;
	if (size < FLAKEID_UUID7_TEXT_SIZE) {
		if (size)
			buf[0] = '\0';
		return -ENOSPC;
	}
	for (i = 0; i < FLAKEID_UUID7_TEXT_SIZE - 1; i++) {
		if (dash_at(i)) {
			buf[i] = '-';
			continue;
		}
		buf[i] = hex[(uuid->b[j / 2] >> (j % 2 ? 0 : 4)) & 0xf];
		j++;
	}
	buf[i] = '\0';
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The 8-4-4-4-12 form, either case, nothing around it.  -EINVAL: not that
 * form; -EDOM: a UUID, but not version 7 of the RFC 9562 variant (written
 * to @uuid all the same, so the caller can say what it is).
 */
int flakeid_parse_uuid7(const char *s, struct flakeid_uuid7 *uuid)
{
	struct flakeid_uuid7 u;
	size_t i, j = 0;
	int d;

	if (!s || !uuid)
		return -EINVAL;
	memset(&u, 0, sizeof(u));
	for (i = 0; i < FLAKEID_UUID7_TEXT_SIZE - 1; i++) {
		if (dash_at(i)) {
			if (s[i] != '-')
				return -EINVAL;
			continue;
		}
		d = hex_digit(s[i]);	/* also stops at an early NUL */
		if (d < 0)
			return -EINVAL;
		u.b[j / 2] |= (uint8_t)(d << (j % 2 ? 0 : 4));
		j++;
	}
	if (s[i])
		return -EINVAL;
	*uuid = u;
	return (u.b[6] >> 4) == 7 && (u.b[8] >> 6) == 2 ? 0 : -EDOM;
}

/* Fills @parts whatever the UUID; -EDOM unless version 7, variant 10. */
int flakeid_decode_uuid7(const struct flakeid_uuid7 *uuid,
			 struct flakeid_uuid7_parts *parts)
{
	const uint8_t *b;
	uint64_t rand_b = 0;
	size_t i;

	if (!uuid || !parts)
		return -EINVAL;
	b = uuid->b;
	memset(parts, 0, sizeof(*parts));
	for (i = 0; i < 6; i++)
		parts->unix_ms = parts->unix_ms << 8 | b[i];
	parts->time.tv_sec = (int64_t)(parts->unix_ms / 1000);
	parts->time.tv_nsec = (int64_t)(parts->unix_ms % 1000) * 1000000;
	parts->version = b[6] >> 4;
	parts->variant = b[8] >> 6;
	for (i = 8; i < 16; i++)
		rand_b = rand_b << 8 | b[i];
	rand_b &= (UINT64_C(1) << 62) - 1;
	/* rand_a (12 bits) above rand_b's first 30. */
	parts->counter = ((uint64_t)(b[6] & 0xf) << 8 | b[7]) << 30 |
			 rand_b >> 32;
	parts->random = (uint32_t)rand_b;
	return parts->version == 7 && parts->variant == 2 ? 0 : -EDOM;
}
