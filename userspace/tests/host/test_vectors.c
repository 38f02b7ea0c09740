// SPDX-License-Identifier: MIT
/*
 * The library's decoder against the shared decode vectors: every row of
 * bindings/testdata/decode.tsv through flakeid_decode_with(), and back
 * through flakeid_compose() where the ID is valid.  Prints TAP.
 *
 *   test-vectors DECODE.TSV
 */
#include <errno.h>
#include <stdio.h>

#include "flakeid.h"
#include "tap.h"
#include "vectors.h"

static int check(const struct fl_vector *v)
{
	struct flakeid_config c;
	struct flakeid_parts p;
	uint64_t back = 0;
	int ret;

	flakeid_default_config(&c);
	c.epoch_ms = v->epoch_ms;
	c.timestamp_bits = v->bits[0];
	c.region_bits = v->bits[1];
	c.app_bits = v->bits[2];
	c.machine_bits = v->bits[3];
	c.sequence_bits = v->bits[4];
	ret = flakeid_decode_with(&c, v->id, &p);
	if (v->invalid)
		return ret == -EINVAL;
	if (ret || p.unix_ms != v->unix_ms || p.timestamp != v->timestamp ||
	    p.region_id != v->region_id || p.app_id != v->app_id ||
	    p.machine_id != v->machine_id || p.sequence != v->sequence)
		return 0;
	return !flakeid_compose(&c, &p, &back) && back == v->id;
}

int main(int argc, char **argv)
{
	struct fl_vector v = { 0 };
	int rows = 0, bad = 0, ret;
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: test-vectors DECODE.TSV\n");
		return 2;
	}
	f = fopen(argv[1], "r");
	if (!ok(f != NULL, "open %s", argv[1]))
		return tap_done();
	while ((ret = fl_vector_next(f, &v)) > 0) {
		rows++;
		if (!check(&v)) {
			bad++;
			diag("line %d: id %llu decodes differently", v.line,
			     (unsigned long long)v.id);
		}
	}
	fclose(f);
	ok(ret == 0, "every line of the table parses (line %d)", v.line);
	ok(rows >= 100 && !bad,
	   "flakeid_decode_with() and flakeid_compose() agree with %d decode vectors (%d differ)",
	   rows, bad);
	return tap_done();
}
