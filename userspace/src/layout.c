// SPDX-License-Identifier: MIT
/*
 * The ID arithmetic: the layout rules, a layout as text ("T:R:A:M:S"),
 * and splitting an ID into its fields or putting one together, under a
 * configuration given by the caller.  Pure code, no device, so the host
 * tests can run it under the sanitizers.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "flakeid.h"
#include "internal.h"

static uint64_t field_mask(unsigned int bits)
{
	/* No single field is 64 bits wide: the sequence takes at least one. */
	return bits ? (UINT64_C(1) << bits) - 1 : 0;
}

int flakeid__layout_check(const struct flakeid_config *cfg)
{
	uint64_t total;

	if (!cfg)
		return -EINVAL;
	total = (uint64_t)cfg->timestamp_bits + cfg->region_bits +
		cfg->app_bits + cfg->machine_bits + cfg->sequence_bits;
	if (total > FLAKEID_TOTAL_BITS_MAX ||
	    cfg->timestamp_bits < FLAKEID_TIMESTAMP_BITS_MIN ||
	    cfg->sequence_bits < FLAKEID_SEQUENCE_BITS_MIN ||
	    cfg->sequence_bits > 32)
		return -EINVAL;
	return 0;
}

unsigned int flakeid__layout_total(const struct flakeid_config *cfg)
{
	return cfg->timestamp_bits + cfg->region_bits + cfg->app_bits +
	       cfg->machine_bits + cfg->sequence_bits;
}

int flakeid__fits(uint64_t value, unsigned int bits)
{
	return bits >= 64 || value <= field_mask(bits);
}

/* One field: 1 to 15 decimal digits, at most UINT32_MAX. */
static int parse_bits(const char *s, size_t len, uint32_t *bits)
{
	uint64_t v = 0;
	size_t i;

	if (!len || len > 15)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned int)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return -EINVAL;
	*bits = (uint32_t)v;
	return 0;
}

/*
 * -EINVAL: not five decimal fields between colons; -ERANGE: a layout that
 * breaks the rules.  @cfg is left alone unless the layout is valid.
 */
int flakeid_parse_layout(const char *s, struct flakeid_config *cfg)
{
	struct flakeid_config l;
	uint32_t *bits[] = { &l.timestamp_bits, &l.region_bits, &l.app_bits,
			     &l.machine_bits, &l.sequence_bits };
	const char *colon;
	size_t i, len;

	if (!s || !cfg)
		return -EINVAL;
	memset(&l, 0, sizeof(l));
	for (i = 0; i < 5; i++) {
		colon = strchr(s, ':');
		if ((i < 4) != (colon != NULL))
			return -EINVAL;
		len = colon ? (size_t)(colon - s) : strlen(s);
		if (parse_bits(s, len, bits[i]))
			return -EINVAL;
		s += len + 1;
	}
	if (flakeid__layout_check(&l))
		return -ERANGE;
	cfg->timestamp_bits = l.timestamp_bits;
	cfg->region_bits = l.region_bits;
	cfg->app_bits = l.app_bits;
	cfg->machine_bits = l.machine_bits;
	cfg->sequence_bits = l.sequence_bits;
	return 0;
}

/* -EINVAL: no valid layout in @cfg; -ENOSPC: @buf too small (then ""). */
int flakeid_format_layout(const struct flakeid_config *cfg, char *buf,
			  size_t size)
{
	int n;

	if (!buf || flakeid__layout_check(cfg))
		return -EINVAL;
	n = snprintf(buf, size, "%u:%u:%u:%u:%u", cfg->timestamp_bits,
		     cfg->region_bits, cfg->app_bits, cfg->machine_bits,
		     cfg->sequence_bits);
	if (n < 0 || (size_t)n >= size) {
		if (size)
			buf[0] = '\0';
		return -ENOSPC;
	}
	return 0;
}

void flakeid_default_config(struct flakeid_config *cfg)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
	cfg->epoch_ms = FLAKEID_DEFAULT_EPOCH_MS;
	cfg->timestamp_bits = FLAKEID_DEFAULT_TIMESTAMP_BITS;
	cfg->region_bits = FLAKEID_DEFAULT_REGION_BITS;
	cfg->app_bits = FLAKEID_DEFAULT_APP_BITS;
	cfg->machine_bits = FLAKEID_DEFAULT_MACHINE_BITS;
	cfg->sequence_bits = FLAKEID_DEFAULT_SEQUENCE_BITS;
	cfg->max_borrow_ms = FLAKEID_DEFAULT_MAX_BORROW_MS;
	cfg->until_ms = FLAKEID_UNTIL_NONE;
}

int flakeid__decode_with(const struct flakeid_config *cfg, uint64_t id,
			 struct flakeid_parts *p)
{
	unsigned int total;
	uint64_t v = id;
	int ret;

	if (!p)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->id = id;
	ret = flakeid__layout_check(cfg);
	if (ret)
		return ret;
	/* Same answer as FLAKEID_IOC_DECODE: bits above the layout are EINVAL. */
	total = flakeid__layout_total(cfg);
	if (total < 64 && (id >> total))
		return -EINVAL;

	p->sequence = (uint32_t)(v & field_mask(cfg->sequence_bits));
	v >>= cfg->sequence_bits;
	p->machine_id = (uint32_t)(v & field_mask(cfg->machine_bits));
	v >>= cfg->machine_bits;
	p->app_id = (uint32_t)(v & field_mask(cfg->app_bits));
	v >>= cfg->app_bits;
	p->region_id = (uint32_t)(v & field_mask(cfg->region_bits));
	v >>= cfg->region_bits;
	p->timestamp = v & field_mask(cfg->timestamp_bits);

	p->unix_ms = p->timestamp + cfg->epoch_ms;
	if (p->unix_ms < p->timestamp)
		return -ERANGE;
	/* Below 2^64 / 1000: every unix_ms has its seconds in an int64_t. */
	p->time.tv_sec = (int64_t)(p->unix_ms / 1000);
	p->time.tv_nsec = (int64_t)(p->unix_ms % 1000) * 1000000;
	return 0;
}
FLAKEID_SYMVER(flakeid__decode_with, "flakeid_decode_with@@LIBFLAKEID_1.1");

int flakeid__compose(const struct flakeid_config *cfg,
		     const struct flakeid_parts *p, uint64_t *id)
{
	uint64_t ts, v;
	int ret;

	if (!p || !id)
		return -EINVAL;
	ret = flakeid__layout_check(cfg);
	if (ret)
		return ret;
	if (p->unix_ms < cfg->epoch_ms)
		return -ERANGE;
	ts = p->unix_ms - cfg->epoch_ms;
	if (!flakeid__fits(ts, cfg->timestamp_bits) ||
	    !flakeid__fits(p->region_id, cfg->region_bits) ||
	    !flakeid__fits(p->app_id, cfg->app_bits) ||
	    !flakeid__fits(p->machine_id, cfg->machine_bits) ||
	    !flakeid__fits(p->sequence, cfg->sequence_bits))
		return -ERANGE;

	v = ts;
	v = (v << cfg->region_bits) | p->region_id;
	v = (v << cfg->app_bits) | p->app_id;
	v = (v << cfg->machine_bits) | p->machine_id;
	v = (v << cfg->sequence_bits) | p->sequence;
	*id = v;
	return 0;
}
FLAKEID_SYMVER(flakeid__compose, "flakeid_compose@@LIBFLAKEID_1.1");
