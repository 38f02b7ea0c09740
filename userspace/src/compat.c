// SPDX-License-Identifier: MIT
/*
 * The LIBFLAKEID_1.0 versions of the functions whose structs changed, for
 * programs linked before.  In 1.0 struct flakeid_parts held a struct
 * timespec, in the time_t this library is built with; on 64-bit targets
 * that is the layout 1.1 has, on 32-bit ones it is 8 bytes shorter.
 * struct flakeid_stats grew in 1.2: the 1.0 function fills the 56 bytes
 * those programs allocated, and nothing past them.
 */
#include <errno.h>
#include <time.h>

#include "internal.h"

struct flakeid_parts_1_0 {
	uint64_t id;
	uint64_t unix_ms;
	uint64_t timestamp;
	struct timespec time;
	uint32_t region_id;
	uint32_t app_id;
	uint32_t machine_id;
	uint32_t sequence;
};

int flakeid__decode_1_0(struct flakeid *h, uint64_t id,
			struct flakeid_parts_1_0 *old);
int flakeid__decode_with_1_0(const struct flakeid_config *cfg, uint64_t id,
			     struct flakeid_parts_1_0 *old);
int flakeid__compose_1_0(const struct flakeid_config *cfg,
			 const struct flakeid_parts_1_0 *old, uint64_t *id);

/* Takes decode's answer @ret and gives 1.0's: -EOVERFLOW past time_t. */
static int to_1_0(const struct flakeid_parts *p, struct flakeid_parts_1_0 *old,
		  int ret)
{
	old->id = p->id;
	old->unix_ms = p->unix_ms;
	old->timestamp = p->timestamp;
	old->time.tv_sec = (time_t)p->time.tv_sec;
	old->time.tv_nsec = (long)p->time.tv_nsec;
	old->region_id = p->region_id;
	old->app_id = p->app_id;
	old->machine_id = p->machine_id;
	old->sequence = p->sequence;
	if (!ret && (int64_t)old->time.tv_sec != p->time.tv_sec)
		return -EOVERFLOW;
	return ret;
}

int flakeid__decode_1_0(struct flakeid *h, uint64_t id,
			struct flakeid_parts_1_0 *old)
{
	struct flakeid_parts p;

	if (!h || !old)
		return -EINVAL;
	return to_1_0(&p, old, flakeid__decode(h, id, &p));
}
FLAKEID_SYMVER(flakeid__decode_1_0, "flakeid_decode@LIBFLAKEID_1.0");

int flakeid__decode_with_1_0(const struct flakeid_config *cfg, uint64_t id,
			     struct flakeid_parts_1_0 *old)
{
	struct flakeid_parts p;

	if (!old)
		return -EINVAL;
	return to_1_0(&p, old, flakeid__decode_with(cfg, id, &p));
}
FLAKEID_SYMVER(flakeid__decode_with_1_0, "flakeid_decode_with@LIBFLAKEID_1.0");

int flakeid__compose_1_0(const struct flakeid_config *cfg,
			 const struct flakeid_parts_1_0 *old, uint64_t *id)
{
	struct flakeid_parts p = { 0 };

	if (!old)
		return -EINVAL;
	p.unix_ms = old->unix_ms;
	p.region_id = old->region_id;
	p.app_id = old->app_id;
	p.machine_id = old->machine_id;
	p.sequence = old->sequence;
	return flakeid__compose(cfg, &p, id);
}
FLAKEID_SYMVER(flakeid__compose_1_0, "flakeid_compose@LIBFLAKEID_1.0");

struct flakeid_stats_1_0 {
	uint64_t ids_issued;
	uint64_t clock_steps_back;
	uint64_t borrowed_ms;
	uint64_t waits;
	uint64_t refills;
	int64_t ahead_ms;
	uint64_t generation;
};

int flakeid__get_stats_1_0(struct flakeid *h, struct flakeid_stats_1_0 *old);

/* Reads only the 1.0 counters: 1.0 did not fail on the ceiling's files. */
int flakeid__get_stats_1_0(struct flakeid *h, struct flakeid_stats_1_0 *old)
{
	struct flakeid_stats s;
	int ret;

	if (!h || !old)
		return -EINVAL;
	ret = flakeid__get_stats(h, &s, 0);
	if (ret)
		return ret;
	old->ids_issued = s.ids_issued;
	old->clock_steps_back = s.clock_steps_back;
	old->borrowed_ms = s.borrowed_ms;
	old->waits = s.waits;
	old->refills = s.refills;
	old->ahead_ms = s.ahead_ms;
	old->generation = s.generation;
	return 0;
}
FLAKEID_SYMVER(flakeid__get_stats_1_0, "flakeid_get_stats@LIBFLAKEID_1.0");
