// SPDX-License-Identifier: MIT
/*
 * The flakeid command's pure half: parsing arguments and formatting
 * output, kept apart from main() so the host tests can run it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "parse.h"

/* Decimal, or hex after 0x; no sign, no spaces, no octal surprises. */
int parse_u64(const char *s, uint64_t *v)
{
	unsigned int base = 10, d;
	uint64_t x = 0;

	if (!s || !*s)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (!*s)
			return -EINVAL;
	}
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -EINVAL;
		if (x > (UINT64_MAX - d) / base)
			return -ERANGE;
		x = x * base + d;
	}
	*v = x;
	return 0;
}

int parse_u32(const char *s, uint32_t *v)
{
	uint64_t x;
	int ret = parse_u64(s, &x);

	if (ret)
		return ret;
	if (x > UINT32_MAX)
		return -ERANGE;
	*v = (uint32_t)x;
	return 0;
}

/* "none", or a Unix ms the kernel can hold; 0 fences. */
int parse_until(const char *s, uint64_t *until_ms)
{
	uint64_t v;
	int ret;

	if (s && !strcmp(s, "none")) {
		*until_ms = FLAKEID_UNTIL_NONE;
		return 0;
	}
	ret = parse_u64(s, &v);
	if (ret)
		return ret;
	if (v > FLAKEID_UNTIL_MS_MAX)
		return -ERANGE;
	*until_ms = v;
	return 0;
}

static const struct setting {
	const char *name, *alias;
	unsigned int flag;
} settings[] = {
	{ "region", "region_id", FLAKEID_SET_REGION },
	{ "app", "app_id", FLAKEID_SET_APP },
	{ "machine", "machine_id", FLAKEID_SET_MACHINE },
	{ "epoch", "epoch_ms", FLAKEID_SET_EPOCH },
	{ "layout", "layout", FLAKEID_SET_LAYOUT },
	{ "max_borrow", "max_borrow_ms", FLAKEID_SET_MAX_BORROW },
	{ "floor", "floor_ms", FLAKEID_SET_FLOOR },
	{ "until", "until_ms", FLAKEID_SET_UNTIL },
	{ "until_wait", "until_wait_ms", SET_UNTIL_WAIT },
};

/*
 * KEY=VALUE into @want, adding the member to @want->what.  -ENOENT:
 * unknown key; -EEXIST: key given twice; -EINVAL: not a number, not
 * T:R:A:M:S, or for until not "none" either; -ERANGE: too large, or a
 * layout breaking the rules.
 */
int parse_setting(const char *arg, struct settings *want)
{
	const char *eq = arg ? strchr(arg, '=') : NULL;
	struct flakeid_config *cfg = &want->cfg;
	const struct setting *s = NULL;
	uint64_t v64 = 0;
	size_t i, klen;
	int ret;

	if (!eq)
		return -EINVAL;
	klen = (size_t)(eq - arg);
	for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		if ((strlen(settings[i].name) == klen &&
		     !strncmp(arg, settings[i].name, klen)) ||
		    (strlen(settings[i].alias) == klen &&
		     !strncmp(arg, settings[i].alias, klen))) {
			s = &settings[i];
			break;
		}
	}
	if (!s)
		return -ENOENT;
	if (want->what & s->flag)
		return -EEXIST;

	switch (s->flag) {
	case FLAKEID_SET_REGION:
		ret = parse_u32(eq + 1, &cfg->region_id);
		break;
	case FLAKEID_SET_APP:
		ret = parse_u32(eq + 1, &cfg->app_id);
		break;
	case FLAKEID_SET_MACHINE:
		ret = parse_u32(eq + 1, &cfg->machine_id);
		break;
	case FLAKEID_SET_EPOCH:
		ret = parse_u64(eq + 1, &v64);
		if (!ret)
			cfg->epoch_ms = v64;
		break;
	case FLAKEID_SET_LAYOUT:
		ret = flakeid_parse_layout(eq + 1, cfg);
		break;
	case FLAKEID_SET_MAX_BORROW:
		ret = parse_u32(eq + 1, &cfg->max_borrow_ms);
		break;
	case FLAKEID_SET_UNTIL:
		ret = parse_until(eq + 1, &v64);
		if (!ret)
			cfg->until_ms = v64;
		break;
	case SET_UNTIL_WAIT:
		ret = parse_u32(eq + 1, &want->until_wait_ms);
		break;
	default:
		ret = parse_u64(eq + 1, &v64);
		if (!ret)
			cfg->floor_ms = v64;
		break;
	}
	if (ret)
		return ret;
	want->what |= s->flag;
	return 0;
}

static int fits(uint64_t v, unsigned int bits)
{
	return bits >= 64 || v < (UINT64_C(1) << bits);
}

/*
 * Would the device accept @want over @cur?  Catches what can be told before
 * writing anything (an id too wide for its field, max_borrow over the
 * limit) and says why in @why; the device remains the judge of the rest.
 */
int check_settings(const struct settings *ws,
		   const struct flakeid_config *cur, char *why, size_t size)
{
	const struct flakeid_config *want = &ws->cfg;
	const unsigned int what = ws->what;
	const struct flakeid_config *lay = (what & FLAKEID_SET_LAYOUT) ? want
								       : cur;
	const struct {
		const char *name;
		unsigned int flag;
		uint32_t want, cur, bits;
	} f[] = {
		{ "region", FLAKEID_SET_REGION, want->region_id,
		  cur->region_id, lay->region_bits },
		{ "app", FLAKEID_SET_APP, want->app_id, cur->app_id,
		  lay->app_bits },
		{ "machine", FLAKEID_SET_MACHINE, want->machine_id,
		  cur->machine_id, lay->machine_bits },
	};
	char layout[FLAKEID_LAYOUT_SIZE];
	size_t i;

	if (flakeid_format_layout(lay, layout, sizeof(layout)))
		strcpy(layout, "?");
	for (i = 0; i < 3; i++) {
		if (what & f[i].flag) {
			if (fits(f[i].want, f[i].bits))
				continue;
			snprintf(why, size,
				 "%s=%" PRIu32 " does not fit the %" PRIu32
				 "-bit %s field of layout %s",
				 f[i].name, f[i].want, f[i].bits, f[i].name,
				 layout);
			return -ERANGE;
		}
		if (!fits(f[i].cur, f[i].bits)) {
			snprintf(why, size,
				 "the current %s %" PRIu32 " does not fit the %"
				 PRIu32 "-bit %s field of layout %s: set %s too",
				 f[i].name, f[i].cur, f[i].bits, f[i].name,
				 layout, f[i].name);
			return -ERANGE;
		}
	}
	if ((what & FLAKEID_SET_MAX_BORROW) &&
	    want->max_borrow_ms > FLAKEID_MAX_BORROW_MS_MAX) {
		snprintf(why, size, "max_borrow=%" PRIu32 " is above %u",
			 want->max_borrow_ms, FLAKEID_MAX_BORROW_MS_MAX);
		return -ERANGE;
	}
	if ((what & SET_UNTIL_WAIT) &&
	    ws->until_wait_ms > FLAKEID_UNTIL_WAIT_MS_MAX) {
		snprintf(why, size, "until_wait=%" PRIu32 " is above %u",
			 ws->until_wait_ms, FLAKEID_UNTIL_WAIT_MS_MAX);
		return -ERANGE;
	}
	return 0;
}

/* ISO 8601 UTC with milliseconds: 2024-01-01T00:00:00.000Z */
int format_time(uint64_t unix_ms, char *buf, size_t size)
{
	uint64_t sec = unix_ms / 1000;
	time_t t = (time_t)sec;
	struct tm tm;
	size_t n;

	if (t < 0 || (uint64_t)t != sec || !gmtime_r(&t, &tm))
		return -EOVERFLOW;
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!n || (size_t)snprintf(buf + n, size - n, ".%03uZ",
				   (unsigned int)(unix_ms % 1000)) >= size - n)
		return -ENOSPC;
	return 0;
}

/* "none", "0 fenced", or the Unix ms and its time. */
void format_until(uint64_t until_ms, char *buf, size_t size)
{
	char when[64];

	if (until_ms == FLAKEID_UNTIL_NONE)
		snprintf(buf, size, "none");
	else if (until_ms == FLAKEID_UNTIL_FENCED)
		snprintf(buf, size, "0 fenced");
	else if (format_time(until_ms, when, sizeof(when)))
		snprintf(buf, size, "%" PRIu64, until_ms);
	else
		snprintf(buf, size, "%" PRIu64 " %s", until_ms, when);
}

/*
 * One line, no newline.  JSON carries the ID as a string: it does not fit
 * a double, and jq and JavaScript would round it.
 */
int format_parts(const struct flakeid_parts *p, int json, char *buf,
		 size_t size)
{
	char when[64];
	int n;

	if (format_time(p->unix_ms, when, sizeof(when)))
		snprintf(when, sizeof(when), "+%" PRIu64 "ms", p->unix_ms);
	if (json)
		n = snprintf(buf, size,
			     "{\"id\":\"%" PRIu64 "\",\"time\":\"%s\","
			     "\"unix_ms\":%" PRIu64 ",\"timestamp\":%" PRIu64
			     ",\"region_id\":%" PRIu32 ",\"app_id\":%" PRIu32
			     ",\"machine_id\":%" PRIu32 ",\"sequence\":%"
			     PRIu32 "}",
			     p->id, when, p->unix_ms, p->timestamp,
			     p->region_id, p->app_id, p->machine_id,
			     p->sequence);
	else
		n = snprintf(buf, size,
			     "%" PRIu64 " %s region=%" PRIu32 " app=%" PRIu32
			     " machine=%" PRIu32 " sequence=%" PRIu32
			     " timestamp=%" PRIu64,
			     p->id, when, p->region_id, p->app_id,
			     p->machine_id, p->sequence, p->timestamp);
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}

/*
 * IDs have no dash, so an argument with one is meant as a UUID; one that
 * starts with a dash is a negative number (not an ID either).
 */
int is_uuid_text(const char *s)
{
	return s && s[0] != '-' && strchr(s, '-') != NULL;
}

/*
 * One line, no newline, for `flakeid decode UUID`: the variant is its two
 * bits in binary, as RFC 9562 writes them.
 */
int format_uuid7_parts(const struct flakeid_uuid7 *u,
		       const struct flakeid_uuid7_parts *p, int json, char *buf,
		       size_t size)
{
	char text[FLAKEID_UUID7_TEXT_SIZE], when[64];
	const char *variant[] = { "00", "01", "10", "11" };
	int n;

	if (flakeid_format_uuid7(u, text, sizeof(text)))
		return -EINVAL;
	if (format_time(p->unix_ms, when, sizeof(when)))
		snprintf(when, sizeof(when), "+%" PRIu64 "ms", p->unix_ms);
	if (json)
		n = snprintf(buf, size,
			     "{\"uuid\":\"%s\",\"time\":\"%s\",\"unix_ms\":%"
			     PRIu64 ",\"version\":%u,\"variant\":\"%s\","
			     "\"counter\":%" PRIu64 "}",
			     text, when, p->unix_ms, p->version,
			     variant[p->variant & 3], p->counter);
	else
		n = snprintf(buf, size,
			     "%s %s version=%u variant=%s unix_ms=%" PRIu64
			     " counter=%" PRIu64,
			     text, when, p->version, variant[p->variant & 3],
			     p->unix_ms, p->counter);
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}
