/* SPDX-License-Identifier: MIT */
/*
 * Sorting IDs and counting the repeats, for every test program (the
 * kselftest ones through flakeid_util.h, the library's, the benchmark).
 */
#ifndef FLAKEID_TESTS_IDS_H
#define FLAKEID_TESTS_IDS_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* qsort() order for uint64_t. */
static inline int fl_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sort @ids in place; the number of adjacent duplicates. */
static inline size_t fl_count_dups(uint64_t *ids, size_t n)
{
	size_t i, dups = 0;

	qsort(ids, n, sizeof(*ids), fl_cmp_u64);
	for (i = 1; i < n; i++)
		if (ids[i] == ids[i - 1])
			dups++;
	return dups;
}

#endif
