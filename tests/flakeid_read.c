// SPDX-License-Identifier: GPL-2.0
/*
 * flakeid_read N: one read(2) of N IDs (1..1024) from /dev/flakeid, printed
 * one per line, or "read: <errno name>" when it fails.  The guest scripts
 * need the errno itself (busybox's head and od report some read errors as
 * EIO); decoding and the configuration are flakeid(1)'s (`flakeid decode`,
 * `flakeid config`).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/flakeid.h>

int main(int argc, char **argv)
{
	uint64_t ids[1024];
	long n = argc == 2 ? atol(argv[1]) : 0, i;
	ssize_t got;
	int fd;

	if (n < 1 || n > 1024) {
		fprintf(stderr, "usage: flakeid_read N   (1..1024 IDs)\n");
		return 2;
	}
	fd = open(FLAKEID_DEVICE_PATH, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "flakeid_read: %s: %s\n", FLAKEID_DEVICE_PATH,
			strerror(errno));
		return 1;
	}
	got = read(fd, ids, n * sizeof(ids[0]));
	if (got < 0) {
		printf("read: %s\n", errno == EOVERFLOW ? "EOVERFLOW" :
		       errno == EAGAIN ? "EAGAIN" : strerror(errno));
		return 1;
	}
	for (i = 0; i < got / 8; i++)
		printf("%" PRIu64 "\n", ids[i]);
	return 0;
}
