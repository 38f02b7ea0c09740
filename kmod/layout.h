/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A configuration and its layout arithmetic (layout.c).
 *
 * Names in flakeid.ko say which file owns them: flakeid_layout_* is
 * layout.c, flakeid_gen_* gen.c, flakeid_dev_* dev.c, flakeid_attr_*
 * attrs.c, flakeid_vmgen_* vmgen.c; file-local functions are plain
 * flakeid_*.  libflakeid's public names are verb first (flakeid_decode(),
 * flakeid_get_config()), so no name is on both sides.
 */
#ifndef _FLAKEID_LAYOUT_H
#define _FLAKEID_LAYOUT_H

#include <linux/types.h>
#include <linux/ktime.h>
#include <linux/time64.h>
#include <linux/flakeid.h>

/* The last Unix ms whose nanoseconds fit ktime_t: no timestamp goes past. */
#define FLAKEID_MS_MAX			((u64)KTIME_MAX / NSEC_PER_MSEC)

struct flakeid_layout {
	u8 ts_bits;
	u8 region_bits;
	u8 app_bits;
	u8 machine_bits;
	u8 seq_bits;
};

struct flakeid_cfg {
	u64 epoch_ms;
	struct flakeid_layout layout;
	u32 region_id;
	u32 app_id;
	u32 machine_id;
};

int flakeid_layout_parse(const char *buf, struct flakeid_layout *l);
int flakeid_layout_check_cfg(const struct flakeid_cfg *cfg);
bool flakeid_layout_cfg_equal(const struct flakeid_cfg *a,
			      const struct flakeid_cfg *b);

u64 flakeid_layout_seqs(const struct flakeid_layout *l);
u64 flakeid_layout_compose(const struct flakeid_cfg *cfg, u64 rel_ms, u64 seq);
int flakeid_layout_decode(const struct flakeid_cfg *cfg, u64 id,
			  struct flakeid_decode *out);

u64 flakeid_layout_last_ms(const struct flakeid_cfg *cfg);
bool flakeid_layout_max_id_by(u64 epoch_ms, const struct flakeid_layout *l,
			      u64 ms, u64 *max_id);
int flakeid_layout_first_ms_above(const struct flakeid_cfg *cfg, u64 old_max,
				  u64 *first_ms);

#endif /* _FLAKEID_LAYOUT_H */
