// SPDX-License-Identifier: MIT
/*
 * hello: take IDs from /dev/flakeid and take one apart.
 *
 *   cc hello.c $(pkg-config --cflags --libs flakeid) -o hello
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include <flakeid.h>

int main(void)
{
	struct flakeid_parts parts;
	struct flakeid *h;
	uint64_t id, batch[3];
	char when[32];
	time_t sec;
	int i, ret;

	ret = flakeid_open(&h, NULL, 0);
	if (ret) {
		fprintf(stderr, "hello: %s: %s\n", FLAKEID_DEVICE_PATH,
			flakeid_strerror(ret));
		if (ret == -ENOENT)
			fprintf(stderr, "hello: load the module: modprobe flakeid\n");
		return ret == -ENOENT ? 3 : 1;
	}

	ret = flakeid_next(h, &id);
	if (!ret)
		ret = flakeid_batch(h, batch, 3);
	if (!ret)
		ret = flakeid_decode(h, id, &parts);
	if (ret) {
		fprintf(stderr, "hello: %s\n", flakeid_strerror(ret));
		flakeid_close(h);
		return 1;
	}

	sec = (time_t)parts.time.tv_sec;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", gmtime(&sec));
	printf("id       %" PRIu64 "\n", id);
	printf("time     %s.%03dZ\n", when, (int)(parts.time.tv_nsec / 1000000));
	printf("region   %" PRIu32 "\n", parts.region_id);
	printf("app      %" PRIu32 "\n", parts.app_id);
	printf("machine  %" PRIu32 "\n", parts.machine_id);
	printf("sequence %" PRIu32 "\n", parts.sequence);
	for (i = 0; i < 3; i++)
		printf("next     %" PRIu64 "\n", batch[i]);

	flakeid_close(h);
	return batch[0] > id ? 0 : 1;
}
