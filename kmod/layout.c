// SPDX-License-Identifier: GPL-2.0
/*
 * Layout arithmetic: the rules a layout obeys, and where each field of an
 * ID sits under a configuration.  Pure functions of their arguments: no
 * state, no locks, no clock.
 */

#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <linux/string.h>

#include "layout.h"

static unsigned int flakeid_layout_total(const struct flakeid_layout *l)
{
	return l->ts_bits + l->region_bits + l->app_bits + l->machine_bits +
	       l->seq_bits;
}

static int flakeid_layout_check(const struct flakeid_layout *l)
{
	if (flakeid_layout_total(l) > FLAKEID_TOTAL_BITS_MAX)
		return -EINVAL;
	if (l->ts_bits < FLAKEID_TIMESTAMP_BITS_MIN ||
	    l->seq_bits < FLAKEID_SEQUENCE_BITS_MIN)
		return -EINVAL;
	return 0;
}

/* Parse "T:R:A:M:S" (an optional trailing newline is allowed). */
int flakeid_layout_parse(const char *buf, struct flakeid_layout *l)
{
	u8 *fields[] = { &l->ts_bits, &l->region_bits, &l->app_bits,
			 &l->machine_bits, &l->seq_bits };
	char tmp[32];
	char *cur = tmp, *tok;
	unsigned int i;
	int ret;

	if (strscpy(tmp, buf, sizeof(tmp)) < 0)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(fields); i++) {
		tok = strsep(&cur, ":");
		if (!tok || (i < ARRAY_SIZE(fields) - 1 && !cur))
			return -EINVAL;
		ret = kstrtou8(tok, 10, fields[i]);
		if (ret)
			return -EINVAL;
	}
	if (cur)
		return -EINVAL;
	return flakeid_layout_check(l);
}

static unsigned int flakeid_ts_shift(const struct flakeid_layout *l)
{
	return l->region_bits + l->app_bits + l->machine_bits + l->seq_bits;
}

static u64 flakeid_ts_max(const struct flakeid_layout *l)
{
	return (1ULL << l->ts_bits) - 1;
}

u64 flakeid_layout_seqs(const struct flakeid_layout *l)
{
	return 1ULL << l->seq_bits;
}

static u64 flakeid_node_bits(const struct flakeid_cfg *cfg)
{
	const struct flakeid_layout *l = &cfg->layout;

	return (u64)cfg->region_id << (l->app_bits + l->machine_bits +
				       l->seq_bits) |
	       (u64)cfg->app_id << (l->machine_bits + l->seq_bits) |
	       (u64)cfg->machine_id << l->seq_bits;
}

u64 flakeid_layout_compose(const struct flakeid_cfg *cfg, u64 rel_ms, u64 seq)
{
	return rel_ms << flakeid_ts_shift(&cfg->layout) |
	       flakeid_node_bits(cfg) | seq;
}

static bool flakeid_fits(u64 value, unsigned int bits)
{
	return bits >= 64 || value >> bits == 0;
}

/*
 * The last Unix ms @cfg can stamp: the end of its timestamp field, or of the
 * kernel's time (KTIME_MAX), whichever comes first.
 */
u64 flakeid_layout_last_ms(const struct flakeid_cfg *cfg)
{
	u64 last;

	if (check_add_overflow(cfg->epoch_ms, flakeid_ts_max(&cfg->layout),
			       &last))
		return FLAKEID_MS_MAX;
	return min_t(u64, last, FLAKEID_MS_MAX);
}

/* Layout and node ids; the time-dependent checks need the clock's lock. */
int flakeid_layout_check_cfg(const struct flakeid_cfg *cfg)
{
	const struct flakeid_layout *l = &cfg->layout;
	int ret;

	ret = flakeid_layout_check(l);
	if (ret)
		return ret;
	if (!flakeid_fits(cfg->region_id, l->region_bits) ||
	    !flakeid_fits(cfg->app_id, l->app_bits) ||
	    !flakeid_fits(cfg->machine_id, l->machine_bits))
		return -ERANGE;
	return 0;
}

int flakeid_layout_decode(const struct flakeid_cfg *cfg, u64 id,
			  struct flakeid_decode *out)
{
	const struct flakeid_layout *l = &cfg->layout;
	unsigned int shift = flakeid_ts_shift(l);

	if (!flakeid_fits(id, flakeid_layout_total(l)))
		return -EINVAL;
	out->timestamp = id >> shift;
	out->unix_ms = out->timestamp + cfg->epoch_ms;
	out->region_id = (id >> (l->app_bits + l->machine_bits + l->seq_bits)) &
			 ((1ULL << l->region_bits) - 1);
	out->app_id = (id >> (l->machine_bits + l->seq_bits)) &
		      ((1ULL << l->app_bits) - 1);
	out->machine_id = (id >> l->seq_bits) & ((1ULL << l->machine_bits) - 1);
	out->sequence = id & ((1ULL << l->seq_bits) - 1);
	return 0;
}

/*
 * The largest ID that an epoch and layout can stamp with a timestamp at or
 * below the Unix ms @ms, whatever its node bits: false when @ms is before
 * the epoch, so that no ID can have been stamped.
 */
bool flakeid_layout_max_id_by(u64 epoch_ms, const struct flakeid_layout *l,
			      u64 ms, u64 *max_id)
{
	u64 rel;

	if (ms < epoch_ms)
		return false;
	rel = min(ms - epoch_ms, flakeid_ts_max(l)) + 1;
	/* (rel << shift) - 1; all 64 bits when the layout uses them all. */
	if (check_shl_overflow(rel, flakeid_ts_shift(l), max_id))
		*max_id = U64_MAX;
	else
		(*max_id)--;
	return true;
}

/*
 * The first Unix ms at which every ID of @cfg exceeds @old_max, or -ERANGE
 * when no millisecond that @cfg can stamp gets there.
 */
int flakeid_layout_first_ms_above(const struct flakeid_cfg *cfg, u64 old_max,
				  u64 *first_ms)
{
	u64 rel = old_max >> flakeid_ts_shift(&cfg->layout);

	if (flakeid_layout_compose(cfg, rel, 0) <= old_max)
		rel++;
	if (check_add_overflow(cfg->epoch_ms, rel, first_ms) ||
	    *first_ms > flakeid_layout_last_ms(cfg))
		return -ERANGE;
	return 0;
}

bool flakeid_layout_cfg_equal(const struct flakeid_cfg *a,
			      const struct flakeid_cfg *b)
{
	const struct flakeid_layout *la = &a->layout, *lb = &b->layout;

	return a->epoch_ms == b->epoch_ms && a->region_id == b->region_id &&
	       a->app_id == b->app_id && a->machine_id == b->machine_id &&
	       la->ts_bits == lb->ts_bits && la->region_bits == lb->region_bits &&
	       la->app_bits == lb->app_bits &&
	       la->machine_bits == lb->machine_bits &&
	       la->seq_bits == lb->seq_bits;
}
