// SPDX-License-Identifier: GPL-2.0
/*
 * flakeid_vectors DECODE.TSV: the kernel's decoder against the shared
 * decode vectors.  Every row whose epoch and layout are the live ones goes
 * through FLAKEID_IOC_DECODE; the others are left for a load with their
 * configuration (tests/main/guest.sh loads each in turn).  Prints one line,
 * "rows N differ D", and exits 0 when N > 0 and D = 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/flakeid.h>

#include "vectors.h"

static int same_config(const struct flakeid_config *c,
		       const struct fl_vector *v)
{
	return c->epoch_ms == v->epoch_ms && c->timestamp_bits == v->bits[0] &&
	       c->region_bits == v->bits[1] && c->app_bits == v->bits[2] &&
	       c->machine_bits == v->bits[3] && c->sequence_bits == v->bits[4];
}

static int kernel_agrees(int fd, const struct fl_vector *v)
{
	struct flakeid_decode d;
	int ret;

	memset(&d, 0, sizeof(d));
	d.size = sizeof(d);
	d.id = v->id;
	ret = ioctl(fd, FLAKEID_IOC_DECODE, &d);
	if (v->invalid)
		return ret == -1 && errno == EINVAL;
	return !ret && d.unix_ms == v->unix_ms &&
	       d.timestamp == v->timestamp && d.region_id == v->region_id &&
	       d.app_id == v->app_id && d.machine_id == v->machine_id &&
	       d.sequence == v->sequence;
}

int main(int argc, char **argv)
{
	struct flakeid_config c = { .size = sizeof(c) };
	struct fl_vector v = { 0 };
	int fd, ret, rows = 0, differ = 0;
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: flakeid_vectors DECODE.TSV\n");
		return 2;
	}
	f = fopen(argv[1], "r");
	fd = open(FLAKEID_DEVICE_PATH, O_RDONLY);
	if (!f || fd < 0 || ioctl(fd, FLAKEID_IOC_CONFIG, &c)) {
		perror("flakeid_vectors");
		return 1;
	}
	while ((ret = fl_vector_next(f, &v)) > 0) {
		if (!same_config(&c, &v))
			continue;
		rows++;
		if (!kernel_agrees(fd, &v)) {
			differ++;
			fprintf(stderr, "line %d: id %llu decodes differently\n",
				v.line, (unsigned long long)v.id);
		}
	}
	if (ret < 0) {
		fprintf(stderr, "line %d does not parse\n", v.line);
		return 1;
	}
	printf("rows %d differ %d\n", rows, differ);
	return rows > 0 && !differ ? 0 : 1;
}
