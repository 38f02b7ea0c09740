// SPDX-License-Identifier: GPL-2.0
/*
 * The generator core: the ID clock, the shared sequence allocator, the
 * blocks served from it (per CPU, or per file for a file read on several
 * CPUs), configuration changes, and the two things a slot of a block
 * becomes: a 64-bit ID or a UUIDv7.
 *
 * Why no ID is ever issued twice
 * ------------------------------
 * Every ID is (timestamp, node bits, sequence) for a configuration.  The only
 * place that hands out sequence numbers is flakeid_refill(), under
 * flakeid_state.lock: it grants a block the range [next_seq, next_seq + n) of
 * the millisecond cur_ms and moves next_seq past it.  cur_ms never goes
 * back (every assignment is to a larger value), and next_seq only restarts
 * at 0 when cur_ms moves forward; elsewhere it is only set to 2^S, which
 * marks cur_ms used up under the live layout (flakeid_move_to_locked()).
 * So two grants never overlap and each grant lies above every earlier one,
 * as (Unix ms, sequence) slots compared in that order.  cur_ms moves only
 * after the new millisecond is known to fit the timestamp field, so it
 * always names a millisecond the configuration can stamp, and "the largest
 * ID granted" (the timestamp cur_ms, the sequence 2^S - 1) never wraps.  A
 * block is then consumed by its owner alone: a CPU, under that CPU's
 * local_lock, or a file read on more than one CPU, under the file's lock.
 * Under it a caller reserves a run of the block and moves the block's
 * cursor past the run, so no sequence number of a block is used twice; the
 * run is written out after the lock is dropped, being the caller's alone.
 * A file's block is granted by the same flakeid_refill() as a CPU's, so
 * nothing above depends on who owns a block.  A configuration change
 * moves the allocator to the first millisecond whose new IDs exceed every
 * ID the old configuration could have granted, and never to a millisecond
 * already granted in: where that one is cur_ms or earlier (new node bits
 * above the old ones keep the IDs above, the slots would repeat) cur_ms is
 * marked used up (next_seq = 2^S) and the next grant takes a later one.  It
 * bumps block_gen so that no block granted before it is served again.
 * So within a load no (Unix ms, sequence) slot is granted twice, whatever
 * the configuration did: the invariant UUIDs rest on (below).  CPU hotplug
 * needs no callback: a block belongs to its CPU whether that CPU is online
 * or not, and a CPU coming back finds its block either still exclusively
 * its own or stale.
 *
 * Why IDs from one file increase
 * ------------------------------
 * A file remembers the largest ID it handed out, raised before the IDs are
 * copied.  A block whose next ID is not above it is not served from (a
 * CPU's block: the file switches to a block of its own; the file's block:
 * it is refilled), and a fresh block lies above every ID granted before
 * it, hence above the file's last ID.  So a call returns IDs above those
 * of every call on the same file that completed before it began.
 *
 * Why a floor carries over reloads and reconfigurations
 * -----------------------------------------------------
 * A floor (floor_ms, floor_epoch_ms, floor_layout) says that no ID ever
 * issued had a timestamp above floor_ms under that epoch and layout, so
 * none exceeded the largest ID with that timestamp, whatever the node bits
 * were.  Raising a floor moves both the ID clock and cur_ms to the first
 * millisecond whose IDs under the live configuration exceed that ID, so
 * the saved floor of one load places the next load's IDs above all of its
 * IDs even when the epoch or the layout changed in between; a floor that
 * the live layout cannot pass is refused.
 *
 * Why no ID passes the ceiling
 * ----------------------------
 * until_ms bounds every timestamp: flakeid_refill() refuses to grant a
 * millisecond above it, and a grant is the only way a timestamp enters a
 * block.  Lowering it (or fencing, until_ms = 0) voids every block under
 * the lock before the store returns, so from then on IDs come only from
 * blocks granted under the new ceiling; a run reserved before the
 * store may still be copied out after it, as a read in flight at a
 * reconfiguration may.  The ceiling is a promise about timestamps, not
 * about the local clock: it holds whatever the wall clock, suspend or the
 * agent's pauses do, which is what makes a lease safe.  A lease agent
 * records the ceiling in its store before it writes it here; the next
 * holder of the node ID starts its floor above that record, so the two
 * holders' timestamps, hence their IDs, never meet.
 *
 * Why a restored or cloned VM does not repeat the discarded run
 * -------------------------------------------------------------
 * The hypervisor rewrites the VM generation ID in guest memory before a
 * restored or cloned VM runs again.  Every call reads it when it starts
 * and when it ends: a call that starts with a new one fences the device
 * (flakeid_gen_vm_forked()) before it takes a block, and a call that ends
 * with another one than it started with returns nothing, since the run
 * that was discarded may have returned the same IDs.  So a call whose
 * last read of the ID comes after the resume returns no ID that the other
 * copy may return, and the copy issues nothing until it is given a floor
 * above the discarded run, or its own node ID.  IDs of calls that read it last
 * before the save are in both copies, as is everything the application
 * held then (the save may fall between that read and the return to user
 * space): no generator can take those back.  Without the
 * generation ID's memory, the kernel's VM fork notifier fences the device,
 * some milliseconds after the VM resumed.
 *
 * Why no UUID is issued twice, and UUIDs from one file increase
 * --------------------------------------------------------------
 * A UUID spends one slot of a block, as an ID does, and is composed from
 * the slot alone: unix_ts_ms is the slot's millisecond (carried in the
 * block and the range, never decoded from an ID, whose configuration may
 * have changed since), the 42-bit counter is a guard bit 0, a seed, and the
 * slot's sequence in its low S = sequence_bits bits.  So two UUIDs of one
 * load with equal unix_ts_ms and counter would be one slot spent twice,
 * which the allocator rules out; the random low 32 bits only separate
 * hosts (a UUIDv7 has no node ID).  The seed is a keyed hash of the
 * millisecond (siphash, a key drawn at load), taken under the allocator's
 * lock at the grant, so every grant in a millisecond carries the same seed:
 * S changes only with the configuration, and the key only when a fence
 * after a VM fork is lifted, and both move the allocator past cur_ms.
 * Within a millisecond the counter, hence the UUID in memcmp order, then
 * grows with the sequence, and across milliseconds unix_ts_ms decides:
 * UUIDs order as their slots.  A file remembers its largest UUID slot
 * apart from its largest ID (80 bits, so under a per-file spinlock), and a
 * block whose next slot is not above it is refilled; the argument for IDs
 * above then holds word for word with slots for IDs.  Every slot granted
 * after a configuration change lies in a later millisecond than every slot
 * before it, so the UUIDs of a call that begins after the store returns
 * are above those of every call that completed before it (a run reserved
 * before the store and copied after it is the old configuration's, as for
 * IDs).  Across
 * reloads the floor does the same: every grant after a floor is in a
 * millisecond above floor_ms, which is at or after every slot granted
 * before it was read, whatever epoch the floor was read under, so a reload
 * with the saved floor (and its new key) issues UUIDs above the last
 * load's.
 *
 * Staleness and suspend
 * ---------------------
 * A block is served until its owner's clock says its millisecond is over:
 * local_clock() on a CPU, CLOCK_MONOTONIC for a file's block.  Both stop
 * across suspend on x86 while the ID clock jumps forward with the wall
 * clock on resume, so for at most one millisecond of running time after a
 * resume a block may serve IDs stamped with the millisecond before the
 * suspend.  They are still unique and in order;
 * only their timestamp lags, by the length of the suspend.
 */

#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <linux/percpu.h>
#include <linux/random.h>
#include <linux/siphash.h>
#include <linux/spinlock.h>
#include <linux/local_lock.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/ktime.h>
#include <linux/timekeeping.h>
#include <linux/hrtimer.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/clock.h>
#include <linux/delay.h>
#include <linux/wait.h>

#include "attrs.h"
#include "gen.h"
#include "layout.h"
#include "vmgen.h"

/* IDs composed on the stack between two copies to userspace. */
#define FLAKEID_CHUNK		64
/* UUIDs composed on the stack, and their random bits: 640 bytes. */
#define FLAKEID_UUID_CHUNK	32
/* From this many UUIDs on, one draw from the RNG for their random bits. */
#define FLAKEID_UUID_DRAW_MIN	8
/* Most IDs one caller takes under a block's lock at a time. */
#define FLAKEID_RESERVE_MAX	1024
/* Upper bound on the sequence numbers a CPU takes for itself at once. */
#define FLAKEID_BLOCK_MAX	1024
/* A file taking fewer in a millisecond goes back to CPUs' blocks. */
#define FLAKEID_FILE_MIN_USE	16
/* On unload, wait at most this long for the wall clock to pass the floor. */
#define FLAKEID_EXIT_MAX_WAIT_MS	2000

struct flakeid_state {
	spinlock_t lock;		/* protects everything below */
	struct flakeid_cfg cfg;
	u32 max_borrow_ms;
	u32 block;			/* default block size for this layout */
	u64 cur_ms;			/* Unix ms of the newest grant */
	u64 next_seq;			/* first sequence not granted in cur_ms */
	siphash_key_t seed_key;		/* a millisecond's UUID counter seed */
	bool rekey;			/* VM forked: new key when unfenced */
	s64 last_real_off;		/* wall minus monotonic at the last look */
	u64 generation;			/* config changes and VM forks, for userspace */
	u64 until_ms;			/* no timestamp above; FLAKEID_UNTIL_NONE */
	u32 until_wait_ms;		/* a reader's wait for a raise at it */
	unsigned long until_seq;	/* bumped by every change of until_ms */
	unsigned long until_noted;	/* until_seq whose "reached" was notified */
	struct flakeid_vmgen vmgen_seen; /* the VM generation ID last seen */
	unsigned long block_gen;	/* blocks granted before a bump are void */
	atomic64_t offset_ns;		/* ID clock = CLOCK_MONOTONIC + offset */
	atomic64_t counters[FLAKEID_CNT_NR];
};

static struct flakeid_state flakeid_state = {
	.lock = __SPIN_LOCK_UNLOCKED(flakeid_state.lock),
	.block_gen = 1,
	.until_ms = FLAKEID_UNTIL_NONE,
	.until_wait_ms = FLAKEID_DEFAULT_UNTIL_WAIT_MS,
};

/* A CPU's block; its expires is on this CPU's local_clock(). */
struct flakeid_pcpu {
	local_lock_t lock;
	struct flakeid_block b;
};

/* Readers waiting at the ceiling for it to be raised. */
static DECLARE_WAIT_QUEUE_HEAD(flakeid_until_wq);

static DEFINE_PER_CPU(struct flakeid_pcpu, flakeid_pcpu) = {
	.lock = INIT_LOCAL_LOCK(lock),
};

/* IDs and UUIDs handed out on each CPU, through either kind of block. */
static DEFINE_PER_CPU(u64, flakeid_issued);

/* ---- the ID clock ---- */

/* The wall clock's offset from CLOCK_MONOTONIC, read without jitter. */
static s64 flakeid_real_offset_ns(void)
{
	return ktime_to_ns(ktime_mono_to_real(0));
}

/*
 * Read the ID clock and let it follow the wall clock forward.  A wall clock
 * behind the ID clock leaves the offset alone: the ID clock never goes back.
 * NTP slewing moves CLOCK_REALTIME and CLOCK_MONOTONIC together, so any drop
 * of their difference is a step back (settimeofday, ADJ_SETOFFSET, leap).
 */
static u64 flakeid_clock_sync_ns_locked(void)
{
	struct flakeid_state *st = &flakeid_state;
	u64 mono = ktime_get_ns();
	s64 real_off = flakeid_real_offset_ns();
	s64 off = atomic64_read(&st->offset_ns);

	lockdep_assert_held(&st->lock);
	if (real_off < st->last_real_off)
		atomic64_inc(&st->counters[FLAKEID_CNT_STEPS_BACK]);
	st->last_real_off = real_off;
	if (real_off > off) {
		off = real_off;
		atomic64_set(&st->offset_ns, off);
	}
	return mono + off;
}

static u64 flakeid_clock_sync_locked(void)
{
	lockdep_assert_held(&flakeid_state.lock);
	return div_u64(flakeid_clock_sync_ns_locked(), NSEC_PER_MSEC);
}

/* Make the ID clock read at least @ms from now on. */
static void flakeid_clock_raise_locked(u64 now, u64 ms)
{
	lockdep_assert_held(&flakeid_state.lock);
	if (now < ms)
		atomic64_set(&flakeid_state.offset_ns,
			     ms * NSEC_PER_MSEC - ktime_get_ns());
}

s64 flakeid_gen_ahead_ms(void)
{
	s64 diff = atomic64_read(&flakeid_state.offset_ns) -
		   flakeid_real_offset_ns();

	return div_s64(diff, NSEC_PER_MSEC);
}

/* ---- the shared allocator ---- */

/* A UUID's counter is 42 bits: a guard bit, a seed, then the sequence. */
static_assert(FLAKEID_TOTAL_BITS_MAX - FLAKEID_TIMESTAMP_BITS_MIN <
	      FLAKEID_UUID7_COUNTER_BITS - 1);
/* unix_ts_ms is 48 bits wide and no timestamp passes FLAKEID_MS_MAX. */
static_assert(FLAKEID_MS_MAX < 1ULL << 48);

/*
 * The UUID counter of @ms above its sequence: bits 40..S of a keyed hash
 * of @ms (S = sequence_bits), bit 41 (the guard) clear.  The same for every
 * CPU and every grant in a millisecond, as long as the key and the layout
 * stay; a change of either moves the allocator past cur_ms.
 */
static u64 flakeid_uuid_seed_locked(u64 ms)
{
	struct flakeid_state *st = &flakeid_state;

	lockdep_assert_held(&st->lock);
	return siphash_1u64(ms, &st->seed_key) &
	       GENMASK_ULL(FLAKEID_UUID7_COUNTER_BITS - 2,
			   st->cfg.layout.seq_bits);
}

/* Why a grant failed, and what to wait for. */
struct flakeid_retry {
	u64 ms;			/* -EAGAIN: the ID clock must reach this */
	unsigned long until_seq; /* -EKEYEXPIRED: until_ms must change */
	bool fenced;		/* -EKEYEXPIRED with until_ms 0 */
};

/*
 * Grant @b up to @want sequence numbers.  A CPU's block is the layout's
 * block size at least and expires on this CPU's local_clock(); a file's
 * block (@shared) is sized by demand, twice what the file took so far in
 * the block's millisecond (the last one, for a block in a new one), so
 * that files read on several CPUs now and then do not each spend a block
 * per millisecond, and expires on CLOCK_MONOTONIC.  Returns 0;
 * -EAGAIN when the borrow limit is reached; -EKEYEXPIRED when the
 * millisecond to grant is above the ceiling until_ms; -EOVERFLOW when the
 * timestamp field is used up.  @why says what to wait for.
 */
static int flakeid_refill(struct flakeid_block *b, u64 want, bool shared,
			  struct flakeid_retry *why)
{
	struct flakeid_state *st = &flakeid_state;
	u64 now_ns, now, seqs, ms, seq, n, size;
	bool borrow = false;
	int ret = 0;

	spin_lock(&st->lock);
	seqs = flakeid_layout_seqs(&st->cfg.layout);
	now_ns = flakeid_clock_sync_ns_locked();
	now = div_u64(now_ns, NSEC_PER_MSEC);
	ms = st->cur_ms;
	seq = st->next_seq;
	if (ms < now) {
		ms = now;
		seq = 0;
	} else if (seq >= seqs) {
		/* This millisecond is used up: borrow the next, within limits. */
		if (ms + 1 > now + st->max_borrow_ms && ms + 1 <= st->until_ms) {
			why->ms = ms + 1 - st->max_borrow_ms;
			ret = -EAGAIN;
			goto out_unlock;
		}
		ms++;
		seq = 0;
		borrow = true;
	}
	/* cur_ms only ever names a millisecond the layout can stamp. */
	if (ms > flakeid_layout_last_ms(&st->cfg)) {
		ret = -EOVERFLOW;
		goto out_unlock;
	}
	if (ms > st->until_ms) {
		why->until_seq = st->until_seq;
		why->fenced = !st->until_ms;
		ret = -EKEYEXPIRED;
		goto out_unlock;
	}
	if (borrow)
		atomic64_inc(&st->counters[FLAKEID_CNT_BORROWED_MS]);
	st->cur_ms = ms;

	size = st->block;
	if (shared) {
		size = min_t(u64, max_t(u64, 2 * b->used, 2), size);
		if (b->ms != ms)
			b->used = 0;
	}
	n = min(max(want, size), seqs - seq);
	b->base = flakeid_layout_compose(&st->cfg, ms - st->cfg.epoch_ms, 0);
	b->ms = ms;
	b->ctr_hi = flakeid_uuid_seed_locked(ms);
	/*
	 * Serve it until the ID clock leaves its millisecond; see below.  The
	 * ID clock is CLOCK_MONOTONIC plus offset_ns, just read.
	 */
	if (shared)
		b->expires = (ms + 1) * NSEC_PER_MSEC -
			     atomic64_read(&st->offset_ns);
	else
		b->expires = local_clock() + (ms + 1) * NSEC_PER_MSEC - now_ns;
	b->next = seq;
	b->end = seq + n;
	b->block_gen = st->block_gen;
	st->next_seq = seq + n;
	atomic64_inc(&st->counters[FLAKEID_CNT_REFILLS]);

out_unlock:
	spin_unlock(&st->lock);
	return ret;
}

/* IDs a block hands one caller at a time, all consecutive. */
struct flakeid_range {
	u64 base;
	u64 ms;
	u64 ctr_hi;
	u64 first;
	u64 count;
};

/* What a caller's run must lie above: the file's last ID, or UUID slot. */
struct flakeid_last {
	bool uuid;
	u64 id;
	u64 ms;
	u64 seq;
};

/* Whether @b's next slot is not above @last; then it cannot serve. */
static bool flakeid_block_not_above(const struct flakeid_block *b,
				    const struct flakeid_last *last)
{
	if (!last->uuid)
		return (b->base | b->next) <= last->id;
	return b->ms < last->ms || (b->ms == last->ms && b->next <= last->seq);
}

/* Whether @b may serve at @now, on its owner's clock. */
static bool flakeid_block_live(const struct flakeid_block *b, u64 now)
{
	return b->block_gen == READ_ONCE(flakeid_state.block_gen) &&
	       b->next < b->end && now < b->expires;
}

/* Take up to @n consecutive slots of @b for the caller. */
static void flakeid_block_take(struct flakeid_block *b,
			       struct flakeid_range *r, u64 n)
{
	r->base = b->base;
	r->ms = b->ms;
	r->ctr_hi = b->ctr_hi;
	r->first = b->next;
	r->count = min(n, b->end - b->next);
	b->next += r->count;
	this_cpu_add(flakeid_issued, r->count);
}

/*
 * flakeid_reserve() for a file read on more than one CPU: its own block,
 * under its lock, stale on CLOCK_MONOTONIC, which every CPU reads alike.
 * Returns 1, taking nothing, when the file's block is over and the file
 * took fewer than FLAKEID_FILE_MIN_USE IDs in its millisecond (unless
 * @stay): it is no longer read often enough on several CPUs to need a
 * block of its own and goes back to the CPUs' blocks, which other files
 * share.
 */
static int flakeid_reserve_shared(struct flakeid_file *ff,
				  struct flakeid_range *r, u64 n, u64 want,
				  const struct flakeid_last *last,
				  struct flakeid_retry *why, bool stay)
{
	struct flakeid_block *b = &ff->block;
	u64 now;
	int ret = 0;

	spin_lock(&ff->lock);
	now = ktime_get_ns();
	if (!flakeid_block_live(b, now) || flakeid_block_not_above(b, last)) {
		if (!stay && now >= b->expires &&
		    b->used < FLAKEID_FILE_MIN_USE) {
			WRITE_ONCE(ff->shared, false);
			ret = 1;
			goto out_unlock;
		}
		ret = flakeid_refill(b, want, true, why);
		if (ret)
			goto out_unlock;
	}
	flakeid_block_take(b, r, n);
	b->used += r->count;
out_unlock:
	spin_unlock(&ff->lock);
	return ret;
}

/*
 * Take up to @n consecutive IDs above @last for @ff, refilling the block
 * (asking for @want) when it cannot serve.  The block is this CPU's, until
 * the file is found read on another CPU too: this CPU's block is live but
 * not above the file's last ID, which a later block, another CPU's, gave.
 * Serving such a file from per-CPU blocks would take a new block on nearly
 * every call; from then on it has a block of its own, until it is read
 * rarely again.  A call that has just switched a file one way does not
 * switch it back.  The owner's lock is held only for the bookkeeping:
 * composing and copying happen after, since the range belongs to the
 * caller alone.
 */
static int flakeid_reserve(struct flakeid_file *ff, struct flakeid_range *r,
			   u64 n, u64 want, const struct flakeid_last *last,
			   struct flakeid_retry *why)
{
	struct flakeid_block *b;
	bool left = false;
	int ret = 0;

	if (READ_ONCE(ff->shared)) {
		ret = flakeid_reserve_shared(ff, r, n, want, last, why, false);
		if (ret <= 0)
			return ret;
		left = true;
	}
	local_lock(&flakeid_pcpu.lock);
	b = &this_cpu_ptr(&flakeid_pcpu)->b;
	/*
	 * A block is stale once its millisecond is over.  That is timed with
	 * this CPU's local_clock(), which is cheap where reading the ID clock
	 * may be slow (an HPET clocksource costs a bus read), and consistent
	 * because the block is set and checked on this CPU only.
	 */
	if (!flakeid_block_live(b, local_clock()) ||
	    (left && flakeid_block_not_above(b, last))) {
		ret = flakeid_refill(b, want, false, why);
		if (ret)
			goto out_unlock;
	} else if (flakeid_block_not_above(b, last)) {
		local_unlock(&flakeid_pcpu.lock);
		WRITE_ONCE(ff->shared, true);
		return flakeid_reserve_shared(ff, r, n, want, last, why, true);
	}
	flakeid_block_take(b, r, n);
out_unlock:
	local_unlock(&flakeid_pcpu.lock);
	return ret;
}

void flakeid_gen_file_init(struct flakeid_file *ff)
{
	atomic64_set(&ff->last, 0);
	spin_lock_init(&ff->lock);
	ff->uuid_ms = 0;
	ff->uuid_seq = 0;
	ff->shared = false;
	memset(&ff->block, 0, sizeof(ff->block));
}

static void flakeid_file_last(struct flakeid_file *ff, bool uuid,
			      struct flakeid_last *last)
{
	last->uuid = uuid;
	if (!uuid) {
		last->id = atomic64_read(&ff->last);
		return;
	}
	spin_lock(&ff->lock);
	last->ms = ff->uuid_ms;
	last->seq = ff->uuid_seq;
	spin_unlock(&ff->lock);
}

/* Record @id as the file's largest; IDs are compared unsigned. */
static void flakeid_file_advance(struct flakeid_file *ff, u64 id)
{
	s64 old = atomic64_read(&ff->last);

	while ((u64)old < id) {
		if (atomic64_try_cmpxchg(&ff->last, &old, (s64)id))
			break;
	}
}

/* Record the slot (@ms, @seq) as the file's largest UUID slot. */
static void flakeid_file_advance_uuid(struct flakeid_file *ff, u64 ms,
				      u64 seq)
{
	spin_lock(&ff->lock);
	if (ms > ff->uuid_ms || (ms == ff->uuid_ms && seq > ff->uuid_seq)) {
		ff->uuid_ms = ms;
		ff->uuid_seq = seq;
	}
	spin_unlock(&ff->lock);
}

/*
 * Copy the IDs of @r to an iov_iter through a small bounce buffer.  Returns
 * how many IDs were copied whole.  The buffer is left uninitialized on
 * purpose (CONFIG_INIT_STACK_ALL_ZERO would clear it on every call): only
 * the part written just before is ever copied out.
 */
static noinline_for_stack u64
flakeid_copy_iter(const struct flakeid_range *r, struct iov_iter *to)
{
	u64 buf[FLAKEID_CHUNK] __uninitialized;
	u64 done = 0, n, i;
	size_t copied;

	while (done < r->count) {
		n = min_t(u64, r->count - done, FLAKEID_CHUNK);
		for (i = 0; i < n; i++)
			buf[i] = r->base | (r->first + done + i);
		copied = copy_to_iter(buf, n * sizeof(u64), to);
		done += copied / sizeof(u64);
		if (copied != n * sizeof(u64))
			break;
	}
	return done;
}

/*
 * Write the IDs of @r straight into a user array: no bounce buffer, one
 * access_ok() per range.  Returns how many IDs were stored before the
 * first fault; the store that faulted may have written part of its ID
 * (two 4-byte stores on i386, a store across a page), which is not counted
 * and never reissued.
 */
static u64 flakeid_copy_user(const struct flakeid_range *r,
			     u64 __user *ubuf)
{
	u64 i = 0;

	if (!user_access_begin(ubuf, r->count * sizeof(u64)))
		return 0;
	for (; i < r->count; i++)
		unsafe_put_user(r->base | (r->first + i), ubuf + i, efault);
efault:
	user_access_end();
	return i;
}

/* A UUIDv7 in the RFC's byte order. */
struct flakeid_uuid7 {
	__be64 hi;		/* unix_ts_ms, ver, rand_a */
	__be64 lo;		/* var, rand_b */
};

static_assert(sizeof(struct flakeid_uuid7) == FLAKEID_UUID7_SIZE);

/*
 * The UUIDs of @r, composed FLAKEID_UUID_CHUNK at a time on the stack, then
 * copied to the iov_iter or the user array of @sink at UUID @done.  Returns
 * how many UUIDs were copied whole; a UUID copied in part is not counted
 * and its slot never reissued.  The buffers hold only what is handed out:
 * nothing to wipe.  The random bits of a chunk come from one
 * get_random_bytes() draw, which costs a fresh ChaCha key and block on top
 * of the bytes; a few UUIDs take theirs from get_random_u32()'s per-CPU
 * batch instead (measured: a one-UUID read 2.3 us with a draw, 1.5 us
 * without; 1,000 UUIDs 159 ns each with draws, 207 ns without).
 */
static noinline_for_stack u64
flakeid_copy_uuids(const struct flakeid_range *r, struct flakeid_sink *sink,
		   u64 done)
{
	struct flakeid_uuid7 buf[FLAKEID_UUID_CHUNK] __uninitialized;
	u32 rnd[FLAKEID_UUID_CHUNK] __uninitialized;
	u64 k = 0, n, i, ctr;
	size_t bytes, copied;

	while (k < r->count) {
		n = min_t(u64, r->count - k, FLAKEID_UUID_CHUNK);
		if (n >= FLAKEID_UUID_DRAW_MIN) {
			get_random_bytes(rnd, n * sizeof(rnd[0]));
		} else {
			for (i = 0; i < n; i++)
				rnd[i] = get_random_u32();
		}
		for (i = 0; i < n; i++) {
			ctr = r->ctr_hi | (r->first + k + i);
			buf[i].hi = cpu_to_be64(r->ms << 16 | 0x7000 |
						(ctr >> 30 & 0xfff));
			buf[i].lo = cpu_to_be64(0x2ULL << 62 |
						(ctr & GENMASK_ULL(29, 0)) << 32 |
						rnd[i]);
		}
		bytes = n * sizeof(buf[0]);
		if (sink->iter)
			copied = copy_to_iter(buf, bytes, sink->iter);
		else
			copied = bytes - copy_to_user(sink->ubuf +
						      (done + k) * sizeof(buf[0]),
						      buf, bytes);
		k += copied / sizeof(buf[0]);
		if (copied != bytes)
			break;
	}
	return k;
}

static u64 flakeid_copy_out(const struct flakeid_range *r,
			    struct flakeid_sink *sink, u64 done)
{
	if (sink->uuid)
		return flakeid_copy_uuids(r, sink, done);
	if (sink->iter)
		return flakeid_copy_iter(r, sink->iter);
	return flakeid_copy_user(r, (u64 __user *)sink->ubuf + done);
}

/* Sleep until the ID clock reaches @ms; false if a signal woke us. */
static bool flakeid_wait(u64 ms)
{
	ktime_t deadline;

	atomic64_inc(&flakeid_state.counters[FLAKEID_CNT_WAITS]);
	deadline = ns_to_ktime(ms * NSEC_PER_MSEC -
			       atomic64_read(&flakeid_state.offset_ns));
	set_current_state(TASK_INTERRUPTIBLE);
	schedule_hrtimeout_range(&deadline, 100 * NSEC_PER_USEC,
				 HRTIMER_MODE_ABS);
	return !signal_pending(current);
}

/* Tell pollers of until_ms, once per ceiling, that it has been reached. */
static void flakeid_until_reached(unsigned long seq)
{
	if (xchg(&flakeid_state.until_noted, seq) != seq)
		flakeid_attr_notify_until();
}

static bool flakeid_until_moved(const struct flakeid_retry *why)
{
	return READ_ONCE(flakeid_state.until_seq) != why->until_seq;
}

/*
 * At the ceiling: wait for until_ms to change, at most until_wait_ms from
 * the first wait of this call (*@deadline, ns of CLOCK_MONOTONIC).  0 to
 * try again; -EKEYEXPIRED when fenced or the wait is over; -EAGAIN for a
 * non-blocking caller that would wait; -EINTR on a signal.
 */
static int flakeid_until_wait(const struct flakeid_retry *why, u64 *deadline,
			      bool nonblock)
{
	struct flakeid_state *st = &flakeid_state;
	u32 wait_ms = READ_ONCE(st->until_wait_ms);
	u64 now = ktime_get_ns();
	long left;

	if (why->fenced || !wait_ms)
		goto refused;
	if (nonblock)
		return -EAGAIN;
	if (!*deadline) {
		*deadline = now + (u64)wait_ms * NSEC_PER_MSEC;
		atomic64_inc(&st->counters[FLAKEID_CNT_UNTIL_WAITS]);
	}
	if (now >= *deadline)
		goto refused;
	left = max_t(long, nsecs_to_jiffies(*deadline - now), 1);
	left = wait_event_interruptible_timeout(flakeid_until_wq,
						flakeid_until_moved(why), left);
	/* Not restarted: a restart would start a new until_wait_ms. */
	if (left < 0)
		return -EINTR;
	/* Changed (maybe lowered, maybe fenced): the next grant decides. */
	if (left > 0 || flakeid_until_moved(why))
		return 0;
refused:
	atomic64_inc(&st->counters[FLAKEID_CNT_UNTIL_REFUSED]);
	return -EKEYEXPIRED;
}

/*
 * Hand out up to @count IDs, or UUIDs, to @sink.  Returns how many were
 * copied, or a negative errno when none were.  Having copied some, it
 * returns rather than wait, fault or ignore a signal.
 */
ssize_t flakeid_gen_issue(struct flakeid_file *ff, struct flakeid_sink *sink,
			  size_t count, bool nonblock)
{
	/*
	 * Not zeroed (CONFIG_INIT_STACK_ALL_ZERO would, 18 stores per call):
	 * each is written before it is read, gen0 and gen1 by a read that
	 * returned true, r and last by the reserve, why by a failed grant and
	 * read only after one; none is copied out.
	 */
	struct flakeid_vmgen gen0 __uninitialized, gen1 __uninitialized;
	struct flakeid_retry why __uninitialized;
	struct flakeid_range r __uninitialized;
	struct flakeid_last last __uninitialized;
	bool vmgen;
	size_t done = 0;
	u64 deadline = 0, copied;
	int ret = 0;

	/* A restore or clone not yet reported: fence before serving. */
	vmgen = flakeid_vmgen_read(&gen0);
	if (vmgen) {
		if (gen0.lo != READ_ONCE(flakeid_state.vmgen_seen.lo) ||
		    gen0.hi != READ_ONCE(flakeid_state.vmgen_seen.hi))
			flakeid_gen_vm_forked(&gen0);
		/* Seen means fenced: see the voided blocks before reserving. */
		smp_rmb();
	}

	while (done < count) {
		flakeid_file_last(ff, sink->uuid, &last);
		ret = flakeid_reserve(ff, &r,
				      min_t(u64, count - done,
					    FLAKEID_RESERVE_MAX),
				      count - done, &last, &why);
		if (ret == -EAGAIN) {
			if (done || nonblock)
				break;
			if (!flakeid_wait(why.ms)) {
				ret = -ERESTARTSYS;
				break;
			}
			continue;
		}
		if (ret == -EKEYEXPIRED) {
			flakeid_until_reached(why.until_seq);
			if (done)
				break;
			ret = flakeid_until_wait(&why, &deadline, nonblock);
			if (ret)
				break;
			continue;
		}
		if (ret < 0)
			break;

		/* IDs handed to a faulting buffer are lost, never reissued. */
		if (sink->uuid)
			flakeid_file_advance_uuid(ff, r.ms,
						  r.first + r.count - 1);
		else
			flakeid_file_advance(ff, r.base | (r.first + r.count - 1));
		copied = flakeid_copy_out(&r, sink, done);
		done += copied;
		if (copied != r.count) {
			ret = -EFAULT;
			break;
		}
		if (done < count) {
			if (signal_pending(current)) {
				ret = -ERESTARTSYS;
				break;
			}
			cond_resched();
		}
	}
	/*
	 * A call that a VM restore or clone cut in two returns nothing: the
	 * run that was discarded, or the twin, may return the same IDs.
	 */
	if (vmgen && flakeid_vmgen_read(&gen1) &&
	    (gen1.lo != gen0.lo || gen1.hi != gen0.hi)) {
		flakeid_gen_vm_forked(&gen1);
		atomic64_inc(&flakeid_state.counters[FLAKEID_CNT_UNTIL_REFUSED]);
		return -EKEYEXPIRED;
	}
	return done ? done : ret;
}

u64 flakeid_gen_ids_issued(void)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(*per_cpu_ptr(&flakeid_issued, cpu));
	return sum;
}

u64 flakeid_gen_counter(enum flakeid_counter c)
{
	return atomic64_read(&flakeid_state.counters[c]);
}

/* ---- configuration ---- */

void flakeid_gen_get_config(struct flakeid_cfg *cfg, u32 *max_borrow_ms,
			    u64 *generation)
{
	struct flakeid_state *st = &flakeid_state;

	spin_lock(&st->lock);
	*cfg = st->cfg;
	if (max_borrow_ms)
		*max_borrow_ms = st->max_borrow_ms;
	if (generation)
		*generation = st->generation;
	spin_unlock(&st->lock);
}

static u32 flakeid_block_size(const struct flakeid_layout *l)
{
	/* A sixteenth of a millisecond's sequences keeps 4+ CPUs in one ms. */
	return clamp_t(u64, flakeid_layout_seqs(l) >> 4, 1, FLAKEID_BLOCK_MAX);
}

/* The largest ID granted so far under the live configuration. */
static u64 flakeid_max_granted_locked(void)
{
	struct flakeid_state *st = &flakeid_state;
	const struct flakeid_cfg *cfg = &st->cfg;

	lockdep_assert_held(&st->lock);
	return flakeid_layout_compose(cfg, st->cur_ms - cfg->epoch_ms,
			       flakeid_layout_seqs(&cfg->layout) - 1);
}

/*
 * Move the allocator to @ms without granting again in a millisecond
 * already granted: a later @ms starts at sequence 0, cur_ms itself (or an
 * earlier @ms) is marked used up, so the next grant takes a later one.
 */
static void flakeid_move_to_locked(u64 ms)
{
	struct flakeid_state *st = &flakeid_state;

	lockdep_assert_held(&st->lock);
	if (ms > st->cur_ms) {
		st->cur_ms = ms;
		st->next_seq = 0;
	} else {
		st->next_seq = flakeid_layout_seqs(&st->cfg.layout);
	}
}

/* Void every block; the next request on each takes a new one. */
static void flakeid_invalidate_locked(void)
{
	lockdep_assert_held(&flakeid_state.lock);
	WRITE_ONCE(flakeid_state.block_gen, flakeid_state.block_gen + 1);
}

/*
 * Let @apply make the edit @e to a copy of the configuration, then check
 * the result and install it, all under the lock, so concurrent stores
 * neither mix nor get lost, and a refused one changes nothing.
 */
int flakeid_gen_update_config(int (*apply)(struct flakeid_cfg *cfg,
					   const struct flakeid_cfg_edit *e),
			      const struct flakeid_cfg_edit *e)
{
	struct flakeid_state *st = &flakeid_state;
	struct flakeid_cfg cfg;
	u64 now, first_ms;
	int ret;

	spin_lock(&st->lock);
	cfg = st->cfg;
	ret = apply(&cfg, e);
	if (!ret)
		ret = flakeid_layout_check_cfg(&cfg);
	if (ret || flakeid_layout_cfg_equal(&cfg, &st->cfg))
		goto out_unlock;
	now = flakeid_clock_sync_locked();
	/* The timestamp field must hold the present, and it may not be < 0. */
	if (now < cfg.epoch_ms ||
	    max(now, st->cur_ms) > flakeid_layout_last_ms(&cfg)) {
		ret = -ERANGE;
		goto out_unlock;
	}
	ret = flakeid_layout_first_ms_above(&cfg, flakeid_max_granted_locked(),
					    &first_ms);
	if (ret)
		goto out_unlock;
	/* Measured from the allocator, which may already be borrowing ahead. */
	if (first_ms > max(now, st->cur_ms) + FLAKEID_RECONFIG_MAX_JUMP_MS) {
		ret = -ERANGE;
		goto out_unlock;
	}
	/*
	 * Staying in cur_ms means the next grant takes cur_ms + 1 (below):
	 * that one must fit the new timestamp field, or nothing ever would.
	 */
	if (max(first_ms, now) <= st->cur_ms &&
	    st->cur_ms >= flakeid_layout_last_ms(&cfg)) {
		ret = -ERANGE;
		goto out_unlock;
	}

	st->cfg = cfg;
	st->block = flakeid_block_size(&cfg.layout);
	/*
	 * Never back: IDs may already carry a borrowed millisecond.  Never in
	 * cur_ms again either, even where the new IDs would exceed the old
	 * (higher node bits): its (ms, sequence) slots, hence UUIDs, were
	 * granted under the old configuration.
	 */
	flakeid_move_to_locked(max(first_ms, now));
	st->generation++;
	flakeid_invalidate_locked();

out_unlock:
	spin_unlock(&st->lock);
	return ret;
}

int flakeid_gen_set_max_borrow(u32 ms)
{
	if (ms > FLAKEID_MAX_BORROW_MS_MAX)
		return -ERANGE;
	spin_lock(&flakeid_state.lock);
	flakeid_state.max_borrow_ms = ms;
	spin_unlock(&flakeid_state.lock);
	return 0;
}

/*
 * A new ceiling; lowering it voids every block before this returns.  It
 * bounds the IDs issued after the store: IDs already issued may lie above
 * a lowered ceiling (floor_ms says how far), so a lease agent records the
 * highest ceiling it ever allowed, not the last one.
 */
static void flakeid_set_until_locked(u64 until_ms)
{
	struct flakeid_state *st = &flakeid_state;

	lockdep_assert_held(&st->lock);
	WRITE_ONCE(st->until_ms, until_ms);
	WRITE_ONCE(st->until_seq, st->until_seq + 1);
	flakeid_invalidate_locked();
}

/* FLAKEID_UNTIL_NONE removes the ceiling, 0 fences. */
int flakeid_gen_set_until(u64 until_ms)
{
	struct flakeid_state *st = &flakeid_state;
	siphash_key_t key;

	if (until_ms > FLAKEID_MS_MAX && until_ms != FLAKEID_UNTIL_NONE)
		return -ERANGE;
	spin_lock(&st->lock);
	flakeid_set_until_locked(until_ms);
	if (until_ms && st->rekey) {
		/*
		 * Drawn now, under the lock, so no key drawn before the fork
		 * can be installed after it; and mixed with the generation
		 * ID, which differs between the copies even while their RNGs
		 * have not been reseeded yet and return the same bytes.
		 */
		get_random_bytes(&key, sizeof(key));
		key.key[0] ^= st->vmgen_seen.lo;
		key.key[1] ^= st->vmgen_seen.hi;
		st->seed_key = key;
		memzero_explicit(&key, sizeof(key));
		st->rekey = false;
		/* One seed per millisecond: none granted under the old key. */
		flakeid_move_to_locked(st->cur_ms);
	}
	spin_unlock(&st->lock);
	wake_up_all(&flakeid_until_wq);
	flakeid_attr_notify_until();
	return 0;
}

u64 flakeid_gen_until_ms(void)
{
	return READ_ONCE(flakeid_state.until_ms);
}

int flakeid_gen_set_until_wait(u32 ms)
{
	if (ms > FLAKEID_UNTIL_WAIT_MS_MAX)
		return -ERANGE;
	WRITE_ONCE(flakeid_state.until_wait_ms, ms);
	return 0;
}

u32 flakeid_gen_until_wait_ms(void)
{
	return READ_ONCE(flakeid_state.until_wait_ms);
}

/*
 * The VM was restored from a snapshot or cloned: IDs issued by the run
 * that was discarded, or by the twin, may be issued again.  Fence until an
 * operator or the agent decides what this copy may issue.
 */
void flakeid_gen_vm_forked(const struct flakeid_vmgen *now)
{
	struct flakeid_state *st = &flakeid_state;

	spin_lock(&st->lock);
	/* Each new generation ID fences once, whoever sees it first. */
	if (now && now->lo == st->vmgen_seen.lo && now->hi == st->vmgen_seen.hi) {
		spin_unlock(&st->lock);
		return;
	}
	flakeid_set_until_locked(0);
	/*
	 * The copies share the UUID seed key.  Each draws its own when its
	 * fence is lifted, later than now, when the kernel's RNG is more
	 * likely to have been reseeded after the fork; the draw is mixed with
	 * the new generation ID, which tells the copies apart either way.
	 */
	st->rekey = true;
	st->generation++;
	atomic64_inc(&st->counters[FLAKEID_CNT_VM_FORKS]);
	if (now) {
		/*
		 * Published after the fence: a call that finds the new ID
		 * already seen (and skips the lock) must find the blocks
		 * voided; pairs with the smp_rmb() in flakeid_gen_issue().
		 */
		smp_wmb();
		WRITE_ONCE(st->vmgen_seen.lo, now->lo);
		WRITE_ONCE(st->vmgen_seen.hi, now->hi);
	}
	spin_unlock(&st->lock);
	wake_up_all(&flakeid_until_wq);
	flakeid_attr_notify_until();
	pr_warn("VM restored or cloned: fenced (until_ms=0); give a clone its own machine_id, raise floor_ms past what the discarded run issued, then write until_ms\n");
}

void flakeid_gen_set_vmgen_seen(const struct flakeid_vmgen *g)
{
	spin_lock(&flakeid_state.lock);
	WRITE_ONCE(flakeid_state.vmgen_seen.lo, g->lo);
	WRITE_ONCE(flakeid_state.vmgen_seen.hi, g->hi);
	spin_unlock(&flakeid_state.lock);
}

/*
 * Every ID issued after this returns exceeds every ID that @req's epoch and
 * layout (the live ones where @req leaves them out) can have stamped by
 * @req->ms, and carries a timestamp above @req->ms.  -ERANGE, changing
 * nothing, when the live configuration cannot stamp such an ID, or only
 * further ahead than a configuration change may move IDs.
 */
int flakeid_gen_raise_floor(const struct flakeid_floor *req)
{
	struct flakeid_state *st = &flakeid_state;
	struct flakeid_floor f = *req;
	u64 now, target, max_id, first_ms;
	int ret = 0;

	/* The ID clock is raised to ms + 1 ms in ns: stay in ktime's range. */
	if (f.ms >= FLAKEID_MS_MAX)
		return -ERANGE;
	spin_lock(&st->lock);
	if (!f.has_epoch)
		f.epoch_ms = st->cfg.epoch_ms;
	if (!f.has_layout)
		f.layout = st->cfg.layout;
	target = f.ms + 1;
	now = flakeid_clock_sync_locked();
	if (flakeid_layout_max_id_by(f.epoch_ms, &f.layout, f.ms, &max_id)) {
		ret = flakeid_layout_first_ms_above(&st->cfg, max_id,
						    &first_ms);
		if (ret)
			goto out_unlock;
		/*
		 * A floor taken under another epoch or layout moves IDs as a
		 * configuration change does, and within the same limit.
		 */
		if (first_ms > max3(target, now, st->cur_ms) +
			       FLAKEID_RECONFIG_MAX_JUMP_MS) {
			ret = -ERANGE;
			goto out_unlock;
		}
		target = max(target, first_ms);
	}
	if (target > flakeid_layout_last_ms(&st->cfg)) {
		ret = -ERANGE;
		goto out_unlock;
	}
	flakeid_clock_raise_locked(now, target);
	/* Every later grant at or after target, hence above f.ms. */
	if (st->cur_ms < target)
		flakeid_move_to_locked(target);
	/* Blocks of earlier milliseconds may still sit on CPUs and files. */
	flakeid_invalidate_locked();

out_unlock:
	spin_unlock(&st->lock);
	return ret;
}

static u64 flakeid_floor_ms_locked(void)
{
	lockdep_assert_held(&flakeid_state.lock);
	return max(flakeid_state.cur_ms, flakeid_clock_sync_locked());
}

/* A millisecond at or after the timestamp of every ID issued so far. */
u64 flakeid_gen_floor_ms(void)
{
	u64 floor;

	spin_lock(&flakeid_state.lock);
	floor = flakeid_floor_ms_locked();
	spin_unlock(&flakeid_state.lock);
	return floor;
}

/* The floor with the epoch and layout it is measured in, taken at once. */
void flakeid_gen_get_floor(struct flakeid_floor *f)
{
	struct flakeid_state *st = &flakeid_state;

	spin_lock(&st->lock);
	f->ms = flakeid_floor_ms_locked();
	f->epoch_ms = st->cfg.epoch_ms;
	f->layout = st->cfg.layout;
	f->has_epoch = true;
	f->has_layout = true;
	spin_unlock(&st->lock);
}

/*
 * Install the first configuration.  -ERANGE when its timestamp field cannot
 * hold the present (epoch in the future, or too long ago).
 */
int flakeid_gen_init(const struct flakeid_cfg *cfg, u32 max_borrow_ms)
{
	struct flakeid_state *st = &flakeid_state;
	siphash_key_t key;
	u64 now;
	int ret = 0;

	get_random_bytes(&key, sizeof(key));
	spin_lock(&st->lock);
	st->seed_key = key;
	memzero_explicit(&key, sizeof(key));
	st->last_real_off = flakeid_real_offset_ns();
	atomic64_set(&st->offset_ns, st->last_real_off);
	now = flakeid_clock_sync_locked();
	if (now < cfg->epoch_ms || now > flakeid_layout_last_ms(cfg)) {
		ret = -ERANGE;
		goto out_unlock;
	}
	st->cfg = *cfg;
	st->block = flakeid_block_size(&cfg->layout);
	st->max_borrow_ms = max_borrow_ms;
	st->cur_ms = now;
	st->next_seq = 0;
	flakeid_invalidate_locked();
out_unlock:
	spin_unlock(&st->lock);
	return ret;
}

/*
 * Called once the device is gone.  A module loaded next starts from the
 * wall clock, so give the wall clock a moment to pass what was issued, and
 * log the floor that the next load can be given to start above it.
 */
void flakeid_gen_exit(void)
{
	u64 real_ms = div_u64(ktime_get_real_ns(), NSEC_PER_MSEC);
	struct flakeid_floor f;

	flakeid_gen_get_floor(&f);
	if (f.ms >= real_ms && f.ms - real_ms < FLAKEID_EXIT_MAX_WAIT_MS) {
		msleep(f.ms - real_ms + 1);
		return;
	}
	if (f.ms >= real_ms)
		pr_notice("ID clock is %llu ms ahead of the wall clock: load with floor_ms=%llu floor_epoch_ms=%llu floor_layout=%u:%u:%u:%u:%u to keep IDs unique\n",
			  f.ms - real_ms, f.ms, f.epoch_ms, f.layout.ts_bits,
			  f.layout.region_bits, f.layout.app_bits,
			  f.layout.machine_bits, f.layout.seq_bits);
}
