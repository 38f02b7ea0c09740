// SPDX-License-Identifier: MIT
/* Messages for the negative errno values the library returns. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "flakeid.h"

static const struct {
	int err;
	const char *msg;
} messages[] = {
	{ ENOENT, "no such file: is the flakeid module loaded?" },
	{ ENODEV, "no such device: is the flakeid module loaded?" },
	{ ENXIO, "no such device: is the flakeid module loaded?" },
	{ ENOTTY, "not a flakeid device" },
	{ EACCES, "permission denied" },
	{ EPERM, "operation not permitted: configuring needs CAP_SYS_ADMIN" },
	{ EAGAIN, "no ID available without waiting (borrow limit or until_ms ceiling reached)" },
	{ EKEYEXPIRED, "this host may not issue IDs now (at the until_ms ceiling or fenced)" },
	{ EINTR, "interrupted by a signal" },
	{ EINVAL, "invalid argument" },
	{ ERANGE, "value out of range for the configuration" },
	{ EOVERFLOW, "time does not fit in time_t" },
	{ EPROTO, "unexpected answer from the device" },
	{ E2BIG, "the kernel does not know this structure version" },
	{ ENOMEM, "out of memory" },
	{ EOPNOTSUPP, "the flakeid module issues no UUIDs: it predates UUIDv7" },
	{ EDOM, "not a UUIDv7: a UUID of another version or variant" },
};

const char *flakeid_strerror(int err)
{
	static __thread char buf[64];
	/* In unsigned arithmetic: -INT_MIN is not an int. */
	unsigned int e = err < 0 ? 0U - (unsigned int)err : (unsigned int)err;
	size_t i;

	if (e == 0)
		return "success";
	if (e > INT_MAX) {
		snprintf(buf, sizeof(buf), "unknown error %d", err);
		return buf;
	}
	for (i = 0; i < sizeof(messages) / sizeof(messages[0]); i++)
		if (messages[i].err == (int)e)
			return messages[i].msg;
	return strerror_r((int)e, buf, sizeof(buf));
}
