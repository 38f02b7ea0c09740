/* SPDX-License-Identifier: MIT */
/*
 * Reading bindings/testdata/decode.tsv, the decode vectors every decoder of
 * the project checks (the C library on the host, the kernel in the guest,
 * the Go, Rust and Python bindings): one ID, the epoch and layout it is
 * decoded under, and the parts expected, or "invalid".
 */
#ifndef FLAKEID_TESTS_VECTORS_H
#define FLAKEID_TESTS_VECTORS_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct fl_vector {
	uint64_t epoch_ms;
	unsigned int bits[5];	/* timestamp, region, app, machine, sequence */
	uint64_t id;
	int invalid;		/* the decoder must refuse the ID */
	uint64_t unix_ms;
	uint64_t timestamp;
	uint32_t region_id, app_id, machine_id, sequence;
	int line;
};

/*
 * The next vector of @f into @v: 1, 0 at the end, -1 on a line that does
 * not parse (its number in v->line).
 */
static inline int fl_vector_next(FILE *f, struct fl_vector *v)
{
	char buf[512], word[16];
	int n;

	while (fgets(buf, sizeof(buf), f)) {
		v->line++;
		if (buf[0] == '#' || buf[0] == '\n')
			continue;
		memset(word, 0, sizeof(word));
		n = sscanf(buf, "%" SCNu64 " %u:%u:%u:%u:%u %" SCNu64 " %15s",
			   &v->epoch_ms, &v->bits[0], &v->bits[1], &v->bits[2],
			   &v->bits[3], &v->bits[4], &v->id, word);
		if (n != 8)
			return -1;
		v->invalid = !strcmp(word, "invalid");
		if (v->invalid)
			return 1;
		n = sscanf(buf, "%*s %*s %*s %" SCNu64 " %" SCNu64
			   " %" SCNu32 " %" SCNu32 " %" SCNu32 " %" SCNu32,
			   &v->unix_ms, &v->timestamp, &v->region_id,
			   &v->app_id, &v->machine_id, &v->sequence);
		if (n != 6)
			return -1;
		return 1;
	}
	return 0;
}

#endif
