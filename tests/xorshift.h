/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xorshift64* (Vigna): the reproducible pseudo-random numbers of the test
 * programs (fuzz, soak, the library's host and guest tests).  The state is
 * the caller's, so a seed printed by a failing run replays it; it must not
 * be zero.
 */
#ifndef FLAKEID_TESTS_XORSHIFT_H
#define FLAKEID_TESTS_XORSHIFT_H

#include <stdint.h>

static inline uint64_t xorshift64s(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * UINT64_C(0x2545F4914F6CDD1D);
}

/* A number in [0, n), 0 for n == 0; the modulo bias is irrelevant here. */
static inline uint64_t xorshift64s_below(uint64_t *state, uint64_t n)
{
	return n ? xorshift64s(state) % n : 0;
}

#endif
