// SPDX-License-Identifier: MIT
/*
 * Operator side: configuration stores and counters under
 * /sys/class/misc/flakeid/.  Nothing here is on an ID path.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static const char *sysfs_dir(const struct flakeid *h)
{
	return h->sysfs_dir ? h->sysfs_dir : FLAKEID_SYSFS_DIR;
}

int flakeid_set_sysfs_dir(struct flakeid *h, const char *dir)
{
	char *copy = NULL;

	if (!h)
		return -EINVAL;
	if (dir) {
		copy = strdup(dir);
		if (!copy)
			return -ENOMEM;
	}
	free(h->sysfs_dir);
	h->sysfs_dir = copy;
	return 0;
}

static int attr_path(const struct flakeid *h, const char *name, char *buf,
		     size_t size)
{
	int n = snprintf(buf, size, "%s/%s", sysfs_dir(h), name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int write_attr(const struct flakeid *h, const char *name,
		      const char *value)
{
	char path[PATH_MAX];
	size_t len = strlen(value);
	ssize_t n;
	int fd, ret;

	ret = attr_path(h, name, path, sizeof(path));
	if (ret)
		return ret;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* A sysfs store takes the whole value in one write, or refuses it. */
	n = write(fd, value, len);
	ret = n < 0 ? -errno : (size_t)n == len ? 0 : -EIO;
	close(fd);
	return ret;
}

static int write_u64(const struct flakeid *h, const char *name, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64 "\n", v);
	return write_attr(h, name, buf);
}

/*
 * The whole file, up to ATTR_MAX bytes (a sysfs file holds at most a page);
 * a longer one is -EPROTO rather than read in part.
 */
#define ATTR_MAX	4096

static int read_attr(const struct flakeid *h, const char *name, char *buf,
		     size_t *len)
{
	char path[PATH_MAX];
	size_t n = 0;
	ssize_t r;
	int fd, ret;

	ret = attr_path(h, name, path, sizeof(path));
	if (ret)
		return ret;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* One byte of room past ATTR_MAX tells a full file from a longer one. */
	do {
		r = read(fd, buf + n, ATTR_MAX + 1 - n);
		if (r > 0)
			n += (size_t)r;
	} while ((r > 0 && n <= ATTR_MAX) || (r < 0 && errno == EINTR));
	ret = r < 0 ? -errno : n > ATTR_MAX ? -EPROTO : 0;
	close(fd);
	*len = n;
	return ret;
}

/*
 * A counter file is what sysfs_emit("%llu\n") or ("%lld\n") writes: decimal
 * digits, a '-' first for a signed one, at most one newline at the end.
 * Anything else is -EPROTO; a value past 64 bits (63 and the sign when
 * signed) is -ERANGE.
 */
static int parse_num(const char *s, size_t len, int is_signed, uint64_t *out)
{
	uint64_t v = 0, limit = UINT64_MAX;
	int neg = 0, range = 0;
	unsigned int d;
	size_t i = 0;

	if (len && s[len - 1] == '\n')
		len--;
	if (is_signed && len && s[0] == '-') {
		neg = 1;
		i++;
	}
	if (i == len)
		return -EPROTO;
	if (is_signed)
		limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < len; i++) {
		d = (unsigned int)(unsigned char)s[i] - '0';
		if (d > 9)
			return -EPROTO;
		if (v > (limit - d) / 10)
			range = 1;
		else
			v = v * 10 + d;
	}
	if (range)
		return -ERANGE;
	*out = neg ? 0 - v : v;
	return 0;
}

static int read_num(const struct flakeid *h, const char *name, int is_signed,
		    uint64_t *out)
{
	char buf[ATTR_MAX + 1];
	size_t len = 0;
	int ret;

	ret = read_attr(h, name, buf, &len);
	return ret ? ret : parse_num(buf, len, is_signed, out);
}

/*
 * until_ms reads "none" or a Unix ms.  A module from before the ceiling
 * has no such file, nor the counters beside it, and no ceiling: a missing
 * until_ms, once the older files were read, is none and zeros.
 */
static int read_until(const struct flakeid *h, uint64_t *until_ms)
{
	char buf[ATTR_MAX + 1];
	size_t len = 0;
	int ret;

	ret = read_attr(h, "until_ms", buf, &len);
	if (ret)
		return ret;
	if ((len == 4 || (len == 5 && buf[4] == '\n')) &&
	    !memcmp(buf, "none", 4)) {
		*until_ms = FLAKEID_UNTIL_NONE;
		return 0;
	}
	ret = parse_num(buf, len, 0, until_ms);
	/* The kernel never shows ~0 as a number: it would mean none. */
	return ret ? ret : *until_ms > FLAKEID_UNTIL_MS_MAX ? -EPROTO : 0;
}

static int read_ceiling(const struct flakeid *h, struct flakeid_stats *s)
{
	uint64_t wait;
	int ret;

	ret = read_until(h, &s->until_ms);
	if (ret == -ENOENT) {
		s->until_ms = FLAKEID_UNTIL_NONE;
		return 0;
	}
	if (ret || (ret = read_num(h, "until_wait_ms", 0, &wait)) ||
	    (ret = read_num(h, "until_waits", 0, &s->until_waits)) ||
	    (ret = read_num(h, "until_refused", 0, &s->until_refused)) ||
	    (ret = read_num(h, "vm_forks", 0, &s->vm_forks)))
		return ret;
	if (wait > UINT32_MAX)
		return -ERANGE;
	s->until_wait_ms = (uint32_t)wait;
	return 0;
}

/* The counters up to generation; then the ceiling's when @ceiling. */
int flakeid__get_stats(struct flakeid *h, struct flakeid_stats *s,
		       int ceiling)
{
	uint64_t ahead;
	int ret;

	memset(s, 0, sizeof(*s));
	if ((ret = read_num(h, "ids_issued", 0, &s->ids_issued)) ||
	    (ret = read_num(h, "clock_steps_back", 0, &s->clock_steps_back)) ||
	    (ret = read_num(h, "borrowed_ms", 0, &s->borrowed_ms)) ||
	    (ret = read_num(h, "waits", 0, &s->waits)) ||
	    (ret = read_num(h, "refills", 0, &s->refills)) ||
	    (ret = read_num(h, "ahead_ms", 1, &ahead)) ||
	    (ret = read_num(h, "generation", 0, &s->generation)))
		return ret;
	s->ahead_ms = (int64_t)ahead;
	return ceiling ? read_ceiling(h, s) : 0;
}

int flakeid__get_stats_1_2(struct flakeid *h, struct flakeid_stats *st)
{
	struct flakeid_stats s;
	int ret;

	if (!h || !st)
		return -EINVAL;
	ret = flakeid__get_stats(h, &s, 1);
	if (!ret)
		*st = s;
	return ret;
}
FLAKEID_SYMVER(flakeid__get_stats_1_2, "flakeid_get_stats@@LIBFLAKEID_1.2");

/*
 * A device from before the ceiling reports 0, its reserved value, where
 * until_ms now is, which would read as fenced.  Its sysfs directory has
 * no until_ms: then there is no ceiling.  Without the directory at all
 * (no /sys in a container) nothing can be told, and 0 stays.
 */
int flakeid__until_unknown(const struct flakeid *h)
{
	char path[PATH_MAX];
	struct stat st;

	if (attr_path(h, "until_ms", path, sizeof(path)) ||
	    stat(path, &st) == 0 || errno != ENOENT)
		return 0;
	return !attr_path(h, "generation", path, sizeof(path)) &&
	       stat(path, &st) == 0;
}

int flakeid_set_until_wait(struct flakeid *h, uint32_t until_wait_ms)
{
	if (!h)
		return -EINVAL;
	if (until_wait_ms > FLAKEID_UNTIL_WAIT_MS_MAX)
		return -ERANGE;
	return write_u64(h, "until_wait_ms", until_wait_ms);
}

/*
 * Each sysfs store is checked against the configuration in force at that
 * moment, so the order of the stores matters.  An id that fits the old
 * layout goes before the layout change (it may have to shrink to let the
 * new layout in); one that only fits the new layout goes after it.
 */
struct id_field {
	unsigned int flag;
	const char *name;
	uint32_t value;
	unsigned int old_bits;
};

static int store_ids(const struct flakeid *h, const struct id_field *f,
		     unsigned int what, int before_layout)
{
	int i, ret;

	for (i = 0; i < 3; i++) {
		if (!(what & f[i].flag))
			continue;
		if (flakeid__fits(f[i].value, f[i].old_bits) != before_layout)
			continue;
		ret = write_u64(h, f[i].name, f[i].value);
		if (ret)
			return ret;
	}
	return 0;
}

static int store_until(const struct flakeid *h, uint64_t until_ms)
{
	if (until_ms == FLAKEID_UNTIL_NONE)
		return write_attr(h, "until_ms", "none\n");
	return write_u64(h, "until_ms", until_ms);
}

static int store_layout(const struct flakeid *h,
			const struct flakeid_config *cfg)
{
	char buf[FLAKEID_LAYOUT_SIZE + 1];
	int ret;

	ret = flakeid_format_layout(cfg, buf, sizeof(buf) - 1);
	if (ret)
		return ret;
	strcat(buf, "\n");
	return write_attr(h, "layout", buf);
}

int flakeid_set_config(struct flakeid *h, const struct flakeid_config *cfg,
		       unsigned int what)
{
	const unsigned int all = FLAKEID_SET_IDS | FLAKEID_SET_EPOCH |
		FLAKEID_SET_LAYOUT | FLAKEID_SET_MAX_BORROW |
		FLAKEID_SET_FLOOR | FLAKEID_SET_UNTIL;
	struct flakeid_config cur;
	int epoch_first, until_first, ret;

	if (!h || !cfg || (what & ~all))
		return -EINVAL;
	if ((what & FLAKEID_SET_LAYOUT) && flakeid__layout_check(cfg))
		return -EINVAL;
	if ((what & FLAKEID_SET_UNTIL) && cfg->until_ms != FLAKEID_UNTIL_NONE &&
	    cfg->until_ms > FLAKEID_UNTIL_MS_MAX)
		return -ERANGE;
	ret = flakeid__read_config(h->fd, &cur);
	if (ret)
		return ret;
	if ((what & FLAKEID_SET_UNTIL) && cur.until_ms == FLAKEID_UNTIL_FENCED &&
	    flakeid__until_unknown(h))
		cur.until_ms = FLAKEID_UNTIL_NONE;

	const struct id_field ids[3] = {
		{ FLAKEID_SET_REGION, "region_id", cfg->region_id,
		  cur.region_bits },
		{ FLAKEID_SET_APP, "app_id", cfg->app_id, cur.app_bits },
		{ FLAKEID_SET_MACHINE, "machine_id", cfg->machine_id,
		  cur.machine_bits },
	};

	/* A wider timestamp field may be what lets an older epoch fit. */
	epoch_first = !(what & FLAKEID_SET_LAYOUT) ||
		      cfg->timestamp_bits <= cur.timestamp_bits;

	/*
	 * A lower ceiling or a fence goes first, so nothing is issued under
	 * the rest of the change before it holds; a raise goes last, so that
	 * a fenced device is let go only once its new machine id and floor
	 * are in place.
	 */
	until_first = (what & FLAKEID_SET_UNTIL) && cfg->until_ms < cur.until_ms;

	ret = until_first ? store_until(h, cfg->until_ms) : 0;
	if (!ret)
		ret = store_ids(h, ids, what, 1);
	if (!ret && (what & FLAKEID_SET_EPOCH) && epoch_first)
		ret = write_u64(h, "epoch_ms", cfg->epoch_ms);
	if (!ret && (what & FLAKEID_SET_LAYOUT))
		ret = store_layout(h, cfg);
	if (!ret && (what & FLAKEID_SET_EPOCH) && !epoch_first)
		ret = write_u64(h, "epoch_ms", cfg->epoch_ms);
	if (!ret)
		ret = store_ids(h, ids, what, 0);
	if (!ret && (what & FLAKEID_SET_MAX_BORROW))
		ret = write_u64(h, "max_borrow_ms", cfg->max_borrow_ms);
	if (!ret && (what & FLAKEID_SET_FLOOR))
		ret = write_u64(h, "floor_ms", cfg->floor_ms);
	if (!ret && (what & FLAKEID_SET_UNTIL) && !until_first)
		ret = store_until(h, cfg->until_ms);

	/* Whatever was stored, decode must follow it. */
	flakeid_refresh_config(h);
	return ret;
}
