// SPDX-License-Identifier: MIT
/*
 * Host tests, no device: the ID arithmetic, UUIDv7 text and fields, error
 * messages, opening paths that are not the device, the counters read from
 * a fake sysfs directory, the command's parsing and formatting, and the command's behaviour where it
 * needs no device or makes do with a fake one.  Built with ASan and UBSan;
 * prints TAP.
 *
 *   test-host FLAKEID [FLAKEID-FAKE]
 *
 * FLAKEID-FAKE is the command built with tests/host/fake_device.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "flakeid.h"
#include "internal.h"
#include "parse.h"
#include "tap.h"
#include "xorshift.h"

static struct flakeid_config layout(unsigned int t, unsigned int r,
				    unsigned int a, unsigned int m,
				    unsigned int s)
{
	struct flakeid_config c;

	flakeid_default_config(&c);
	c.timestamp_bits = t;
	c.region_bits = r;
	c.app_bits = a;
	c.machine_bits = m;
	c.sequence_bits = s;
	return c;
}

/* A second, bit-at-a-time decoder to check the shifting one against. */
static void ref_decode(const struct flakeid_config *c, uint64_t id,
		       uint64_t out[5])
{
	const unsigned int w[5] = { c->sequence_bits, c->machine_bits,
				    c->app_bits, c->region_bits,
				    c->timestamp_bits };
	unsigned int bit = 0, f, i;

	for (f = 0; f < 5; f++) {
		out[f] = 0;
		for (i = 0; i < w[f]; i++, bit++)
			if ((id >> bit) & 1)
				out[f] |= UINT64_C(1) << i;
	}
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void)
{
	return xorshift64s(&rng_state);
}

static void test_arithmetic(void)
{
	struct flakeid_config c, d;
	struct flakeid_parts p, q;
	uint64_t id, ref[5];
	int i, bad, ret;

	flakeid_default_config(&d);
	ok(d.size == sizeof(d) && d.epoch_ms == 1704067200000ULL &&
	   d.timestamp_bits == 41 && d.region_bits == 4 && d.app_bits == 3 &&
	   d.machine_bits == 5 && d.sequence_bits == 10 &&
	   d.max_borrow_ms == 1000 && d.region_id == 0 &&
	   d.until_ms == FLAKEID_UNTIL_NONE && d.vm_forks == 0,
	   "default config is 41:4:3:5:10, epoch 2024-01-01, no ceiling");

	/* The Go library's test: region 5, app 3, machine 10. */
	memset(&p, 0, sizeof(p));
	p.unix_ms = 1735689600123ULL;	/* 2025-01-01T00:00:00.123Z */
	p.region_id = 5;
	p.app_id = 3;
	p.machine_id = 10;
	p.sequence = 42;
	ret = flakeid_compose(&d, &p, &id);
	ok(ret == 0, "compose region 5 app 3 machine 10");
	ok(id == (((1735689600123ULL - 1704067200000ULL) << 22) | (5 << 18) |
		  (3 << 15) | (10 << 10) | 42),
	   "composed ID has the fields where the layout puts them");
	ret = flakeid_decode_with(&d, id, &q);
	ok(ret == 0 && q.id == id && q.region_id == 5 && q.app_id == 3 &&
	   q.machine_id == 10 && q.sequence == 42 &&
	   q.unix_ms == 1735689600123ULL &&
	   q.timestamp == 1735689600123ULL - 1704067200000ULL,
	   "decode gives back region 5 app 3 machine 10 and the time");
	ok(q.time.tv_sec == 1735689600 && q.time.tv_nsec == 123000000,
	   "decode fills the timespec");

	ret = flakeid_decode_with(&d, 0, &q);
	ok(ret == 0 && q.timestamp == 0 && q.unix_ms == d.epoch_ms &&
	   q.region_id == 0 && q.sequence == 0, "decode of 0 is the epoch");
	ret = flakeid_decode_with(&d, INT64_MAX, &q);
	ok(ret == 0 && q.timestamp == (UINT64_C(1) << 41) - 1 &&
	   q.region_id == 15 && q.app_id == 7 && q.machine_id == 31 &&
	   q.sequence == 1023, "decode of 2^63-1 has every field at its max");
	ret = flakeid_decode_with(&d, UINT64_C(1) << 63, &q);
	ok(ret == -EINVAL && q.id == UINT64_C(1) << 63,
	   "bit 63 in a 63-bit layout is EINVAL, like the kernel");
	ok(flakeid_decode_with(&d, UINT64_MAX, &q) == -EINVAL,
	   "decode of ~0 in a 63-bit layout is EINVAL");

	c = layout(42, 4, 3, 5, 10);
	ret = flakeid_decode_with(&c, UINT64_MAX, &q);
	ok(ret == 0 && q.timestamp == (UINT64_C(1) << 42) - 1 &&
	   q.sequence == 1023, "a 64-bit layout decodes bit 63");

	c = layout(41, 0, 0, 0, 22);
	memset(&p, 0, sizeof(p));
	p.unix_ms = c.epoch_ms + 77;
	p.sequence = (1 << 22) - 1;
	ret = flakeid_compose(&c, &p, &id);
	ok(ret == 0 && id == ((UINT64_C(77) << 22) | ((1 << 22) - 1)),
	   "zero-width region/app/machine compose");
	p.machine_id = 1;
	ok(flakeid_compose(&c, &p, &id) == -ERANGE,
	   "a non-zero id in a zero-width field is ERANGE");

	memset(&p, 0, sizeof(p));
	p.unix_ms = d.epoch_ms - 1;
	ok(flakeid_compose(&d, &p, &id) == -ERANGE,
	   "compose before the epoch is ERANGE");
	p.unix_ms = d.epoch_ms + (UINT64_C(1) << 41);
	ok(flakeid_compose(&d, &p, &id) == -ERANGE,
	   "compose past the timestamp field is ERANGE");
	p.unix_ms = d.epoch_ms;
	p.region_id = 16;
	ok(flakeid_compose(&d, &p, &id) == -ERANGE,
	   "region 16 in a 4-bit field is ERANGE");
	p.region_id = 0;
	p.sequence = 1024;
	ok(flakeid_compose(&d, &p, &id) == -ERANGE,
	   "sequence 1024 in a 10-bit field is ERANGE");

	c = layout(31, 4, 3, 5, 10);
	ok(flakeid_decode_with(&c, 1, &q) == -EINVAL,
	   "a 31-bit timestamp is EINVAL");
	c = layout(41, 4, 3, 5, 0);
	ok(flakeid_decode_with(&c, 1, &q) == -EINVAL,
	   "a 0-bit sequence is EINVAL");
	c = layout(32, 0, 0, 0, 33);
	ok(flakeid_decode_with(&c, 1, &q) == -EINVAL,
	   "a 33-bit sequence is EINVAL");
	c = layout(43, 4, 3, 5, 10);
	ok(flakeid_decode_with(&c, 1, &q) == -EINVAL,
	   "a 65-bit layout is EINVAL");
	c = layout(41, UINT32_MAX, 3, 5, 10);
	ok(flakeid_decode_with(&c, 1, &q) == -EINVAL,
	   "widths that overflow 32 bits when summed are EINVAL");
	ok(flakeid_decode_with(NULL, 1, &q) == -EINVAL &&
	   flakeid_decode_with(&d, 1, NULL) == -EINVAL &&
	   flakeid_compose(&d, NULL, &id) == -EINVAL &&
	   flakeid_compose(&d, &p, NULL) == -EINVAL,
	   "NULL arguments are EINVAL");

	/* Random layouts, random IDs: against the reference decoder, and
	 * compose(decode(id)) == id. */
	bad = 0;
	for (i = 0; i < 200000; i++) {
		unsigned int s = 1 + rnd() % 32, t = 32 + rnd() % (64 - 32 - s + 1);
		unsigned int left = 64 - t - s, r, a, m;

		r = left ? rnd() % (left + 1) : 0;
		left -= r;
		a = left ? rnd() % (left + 1) : 0;
		left -= a;
		m = left ? rnd() % (left + 1) : 0;
		c = layout(t, r, a, m, s);
		c.epoch_ms = rnd() % (UINT64_C(1) << 42);
		id = rnd();
		if (t + r + a + m + s < 64 && (rnd() & 1))
			id &= (UINT64_C(1) << (t + r + a + m + s)) - 1;
		ret = flakeid_decode_with(&c, id, &q);
		if (t + r + a + m + s < 64 && (id >> (t + r + a + m + s))) {
			bad += ret != -EINVAL;
			continue;
		}
		ref_decode(&c, id, ref);
		bad += ret != 0 || q.sequence != ref[0] ||
		       q.machine_id != ref[1] || q.app_id != ref[2] ||
		       q.region_id != ref[3] || q.timestamp != ref[4] ||
		       q.unix_ms != ref[4] + c.epoch_ms;
		ret = flakeid_compose(&c, &q, &id);
		bad += ret != 0 || id != q.id;
	}
	ok(bad == 0, "200000 random layouts and IDs match a bit-by-bit decoder and round-trip (%d bad)",
	   bad);
}

static void test_parse(void)
{
	struct flakeid_config c, cur;
	struct settings w;
	uint64_t v;
	uint32_t v32;
	char why[256];
	int ret;

	ok(parse_u64("0", &v) == 0 && v == 0, "parse 0");
	ok(parse_u64("18446744073709551615", &v) == 0 && v == UINT64_MAX,
	   "parse 2^64-1");
	ok(parse_u64("18446744073709551616", &v) == -ERANGE,
	   "parse 2^64 is ERANGE");
	ok(parse_u64("0xffffffffffffffff", &v) == 0 && v == UINT64_MAX,
	   "parse hex 2^64-1");
	ok(parse_u64("0x10000000000000000", &v) == -ERANGE,
	   "parse hex 2^64 is ERANGE");
	ok(parse_u64("010", &v) == 0 && v == 10, "leading zero is decimal");
	ok(parse_u64("", &v) == -EINVAL && parse_u64("0x", &v) == -EINVAL &&
	   parse_u64("-1", &v) == -EINVAL && parse_u64("+5", &v) == -EINVAL &&
	   parse_u64(" 5", &v) == -EINVAL && parse_u64("5 ", &v) == -EINVAL &&
	   parse_u64("1e3", &v) == -EINVAL && parse_u64("0x1g", &v) == -EINVAL &&
	   parse_u64(NULL, &v) == -EINVAL,
	   "parse rejects empty, signs, spaces, 1e3, bad hex, NULL");
	ok(parse_u32("4294967295", &v32) == 0 && v32 == UINT32_MAX &&
	   parse_u32("4294967296", &v32) == -ERANGE, "parse_u32 limits");

	c = layout(0, 0, 0, 0, 0);
	ok(flakeid_parse_layout("41:4:3:5:10", &c) == 0 &&
	   c.timestamp_bits == 41 &&
	   c.region_bits == 4 && c.app_bits == 3 && c.machine_bits == 5 &&
	   c.sequence_bits == 10, "parse layout 41:4:3:5:10");
	ok(flakeid_parse_layout("42:4:3:5:10", &c) == 0 &&
	   flakeid_parse_layout("32:0:0:0:32", &c) == 0 &&
	   flakeid_parse_layout("41:0:0:4:18", &c) == 0,
	   "parse 64-bit and zero-width layouts");
	ok(flakeid_parse_layout("43:4:3:5:10", &c) == -ERANGE &&
	   flakeid_parse_layout("31:4:3:5:10", &c) == -ERANGE &&
	   flakeid_parse_layout("41:4:3:5:0", &c) == -ERANGE &&
	   flakeid_parse_layout("32:0:0:0:33", &c) == -ERANGE,
	   "layout rules: sum <= 64, timestamp >= 32, sequence 1..32");
	ok(flakeid_parse_layout("41:4:3:5", &c) == -EINVAL &&
	   flakeid_parse_layout("41:4:3:5:10:1", &c) == -EINVAL &&
	   flakeid_parse_layout("41::3:5:10", &c) == -EINVAL &&
	   flakeid_parse_layout("41:4:3:5:10:", &c) == -EINVAL &&
	   flakeid_parse_layout("0x29:4:3:5:10", &c) == -EINVAL &&
	   flakeid_parse_layout("41:4:3:5:-1", &c) == -EINVAL &&
	   flakeid_parse_layout("", &c) == -EINVAL &&
	   flakeid_parse_layout("41:4:3:5:99999999999999999999", &c) == -EINVAL,
	   "layout syntax errors are EINVAL");
	c = layout(41, 4, 3, 5, 10);
	ok(flakeid_parse_layout("43:4:3:5:10", &c) == -ERANGE &&
	   flakeid_parse_layout("41:4:3:5", &c) == -EINVAL &&
	   flakeid_parse_layout(NULL, &c) == -EINVAL &&
	   flakeid_parse_layout("41:4:3:5:10", NULL) == -EINVAL &&
	   c.timestamp_bits == 41 && c.region_bits == 4 && c.app_bits == 3 &&
	   c.machine_bits == 5 && c.sequence_bits == 10,
	   "a refused layout leaves the configuration alone");
	c = layout(41, 4, 3, 5, 10);
	c.epoch_ms = 7;
	c.machine_id = 9;
	ok(flakeid_parse_layout("042:0:0:10:12", &c) == 0 &&
	   c.timestamp_bits == 42 && c.machine_bits == 10 &&
	   c.sequence_bits == 12 && c.epoch_ms == 7 && c.machine_id == 9,
	   "parsing sets the five widths and nothing else");

	memset(&w, 0, sizeof(w));
	ret = parse_setting("region=1", &w);
	ret |= parse_setting("app_id=2", &w);
	ret |= parse_setting("machine=5", &w);
	ok(ret == 0 && w.what == FLAKEID_SET_IDS && w.cfg.region_id == 1 &&
	   w.cfg.app_id == 2 && w.cfg.machine_id == 5,
	   "region=1 app_id=2 machine=5");
	ret = parse_setting("epoch=1704067200000", &w);
	ret |= parse_setting("layout=41:0:0:10:12", &w);
	ret |= parse_setting("max_borrow_ms=60000", &w);
	ret |= parse_setting("floor=1800000000000", &w);
	ok(ret == 0 && w.cfg.epoch_ms == 1704067200000ULL &&
	   w.cfg.machine_bits == 10 && w.cfg.sequence_bits == 12 &&
	   w.cfg.max_borrow_ms == 60000 && w.cfg.floor_ms == 1800000000000ULL &&
	   w.what == (FLAKEID_SET_IDS | FLAKEID_SET_EPOCH | FLAKEID_SET_LAYOUT |
		      FLAKEID_SET_MAX_BORROW | FLAKEID_SET_FLOOR),
	   "epoch= layout= max_borrow_ms= floor=");
	ok(parse_setting("region_id=3", &w) == -EEXIST,
	   "a key given twice is EEXIST");
	memset(&w, 0, sizeof(w));
	ok(parse_setting("colour=1", &w) == -ENOENT &&
	   parse_setting("=1", &w) == -ENOENT &&
	   parse_setting("regionx=1", &w) == -ENOENT &&
	   parse_setting("untilx=1", &w) == -ENOENT,
	   "unknown keys are ENOENT");
	ok(parse_setting("region", &w) == -EINVAL &&
	   parse_setting("region=", &w) == -EINVAL &&
	   parse_setting("region=x", &w) == -EINVAL &&
	   parse_setting("region=4294967296", &w) == -ERANGE &&
	   parse_setting("layout=1:2", &w) == -EINVAL && w.what == 0,
	   "bad values leave nothing set");

	/* The ceiling: none, 0 (fence), a Unix ms up to KTIME_MAX in ms. */
	ok(parse_until("none", &v) == 0 && v == FLAKEID_UNTIL_NONE &&
	   parse_until("0", &v) == 0 && v == FLAKEID_UNTIL_FENCED &&
	   parse_until("1800000000000", &v) == 0 && v == 1800000000000ULL &&
	   parse_until("9223372036854", &v) == 0 && v == FLAKEID_UNTIL_MS_MAX,
	   "until: none, 0, a Unix ms, 9223372036854");
	ok(parse_until("9223372036855", &v) == -ERANGE &&
	   parse_until("18446744073709551615", &v) == -ERANGE &&
	   parse_until("None", &v) == -EINVAL &&
	   parse_until("none ", &v) == -EINVAL &&
	   parse_until("-1", &v) == -EINVAL && parse_until("", &v) == -EINVAL &&
	   parse_until(NULL, &v) == -EINVAL,
	   "until: past KTIME_MAX (2^64-1 too: it is not none), None, -1, empty refused");
	memset(&w, 0, sizeof(w));
	ret = parse_setting("until=none", &w);
	ok(ret == 0 && w.what == FLAKEID_SET_UNTIL &&
	   w.cfg.until_ms == FLAKEID_UNTIL_NONE, "until=none");
	ok(parse_setting("until_ms=0", &w) == -EEXIST, "until_ms is until");
	memset(&w, 0, sizeof(w));
	w.cfg.until_ms = 7;
	ok(parse_setting("until_ms=0", &w) == 0 && w.cfg.until_ms == 0 &&
	   parse_setting("until_wait=60000", &w) == 0 &&
	   w.until_wait_ms == 60000 &&
	   w.what == (FLAKEID_SET_UNTIL | SET_UNTIL_WAIT),
	   "until_ms=0 until_wait=60000");
	memset(&w, 0, sizeof(w));
	ok(parse_setting("until=9223372036855", &w) == -ERANGE &&
	   parse_setting("until=soon", &w) == -EINVAL &&
	   parse_setting("until_wait_ms=4294967296", &w) == -ERANGE &&
	   w.what == 0, "until and until_wait: bad values set nothing");

	flakeid_default_config(&cur);
	cur.region_id = 5;
	memset(&w, 0, sizeof(w));
	w.cfg.machine_id = 40;
	w.what = FLAKEID_SET_MACHINE;
	ok(check_settings(&w, &cur, why, sizeof(why)) == -ERANGE &&
	   strstr(why, "5-bit machine"),
	   "machine=40 does not fit 5 bits: %s", why);
	w.cfg = layout(41, 0, 0, 10, 12);
	w.cfg.machine_id = 700;
	w.what = FLAKEID_SET_LAYOUT | FLAKEID_SET_MACHINE;
	ok(check_settings(&w, &cur, why, sizeof(why)) == -ERANGE &&
	   strstr(why, "set region"),
	   "a layout dropping the region needs region=0: %s", why);
	w.what = FLAKEID_SET_LAYOUT | FLAKEID_SET_IDS;
	ok(check_settings(&w, &cur, why, sizeof(why)) == 0,
	   "layout 41:0:0:10:12 with region=0 app=0 machine=700 passes");
	w.cfg.max_borrow_ms = 60001;
	w.what = FLAKEID_SET_MAX_BORROW;
	ok(check_settings(&w, &cur, why, sizeof(why)) == -ERANGE,
	   "max_borrow over 60000 is refused");
	w.until_wait_ms = 60001;
	w.what = SET_UNTIL_WAIT;
	ok(check_settings(&w, &cur, why, sizeof(why)) == -ERANGE &&
	   strstr(why, "until_wait=60001"), "until_wait over 60000 is refused: %s",
	   why);
	w.until_wait_ms = 60000;
	ok(check_settings(&w, &cur, why, sizeof(why)) == 0,
	   "until_wait 60000 passes");
}

static void test_format(void)
{
	struct flakeid_config d;
	struct flakeid_parts p;
	char buf[512];
	int ret;

	ok(format_time(0, buf, sizeof(buf)) == 0 &&
	   !strcmp(buf, "1970-01-01T00:00:00.000Z"), "format 0: %s", buf);
	ok(format_time(1704067200000ULL, buf, sizeof(buf)) == 0 &&
	   !strcmp(buf, "2024-01-01T00:00:00.000Z"), "format the epoch");
	ok(format_time(1735689600123ULL, buf, sizeof(buf)) == 0 &&
	   !strcmp(buf, "2025-01-01T00:00:00.123Z"), "format milliseconds");
	ok(format_time(1735689600123ULL, buf, 20) == -ENOSPC,
	   "a short buffer is ENOSPC");
	ok(format_time(UINT64_MAX, buf, sizeof(buf)) == 0 &&
	   strstr(buf, ".615Z"), "the largest time still formats: %s", buf);

	flakeid_default_config(&d);
	memset(&p, 0, sizeof(p));
	p.unix_ms = 1735689600123ULL;
	p.region_id = 5;
	p.app_id = 3;
	p.machine_id = 10;
	p.sequence = 42;
	flakeid_compose(&d, &p, &p.id);
	flakeid_decode_with(&d, p.id, &p);
	ret = format_parts(&p, 0, buf, sizeof(buf));
	ok(ret > 0 && !strcmp(buf, "132633959326918698 2025-01-01T00:00:00.123Z region=5 app=3 machine=10 sequence=42 timestamp=31622400123"),
	   "decode line: %s", buf);
	ret = format_parts(&p, 1, buf, sizeof(buf));
	ok(ret > 0 && !strcmp(buf, "{\"id\":\"132633959326918698\",\"time\":\"2025-01-01T00:00:00.123Z\",\"unix_ms\":1735689600123,\"timestamp\":31622400123,\"region_id\":5,\"app_id\":3,\"machine_id\":10,\"sequence\":42}"),
	   "decode JSON: %s", buf);
	ok(format_parts(&p, 1, buf, 16) == -ENOSPC, "short JSON buffer");

	ok(flakeid_format_layout(&d, buf, sizeof(buf)) == 0 &&
	   !strcmp(buf, "41:4:3:5:10"), "format the default layout: %s", buf);
	d = layout(32, 0, 0, 0, 32);
	ok(flakeid_format_layout(&d, buf, FLAKEID_LAYOUT_SIZE) == 0 &&
	   !strcmp(buf, "32:0:0:0:32") &&
	   flakeid_parse_layout(buf, &d) == 0 && d.sequence_bits == 32,
	   "a formatted layout parses back: %s", buf);
	d = layout(41, 4, 3, 5, 10);
	ok(flakeid_format_layout(&d, buf, 11) == -ENOSPC && !buf[0] &&
	   flakeid_format_layout(&d, buf, 12) == 0,
	   "a short layout buffer is ENOSPC");
	d = layout(43, 4, 3, 5, 10);
	ok(flakeid_format_layout(&d, buf, sizeof(buf)) == -EINVAL &&
	   flakeid_format_layout(NULL, buf, sizeof(buf)) == -EINVAL,
	   "only a valid layout formats");
	flakeid_default_config(&d);

	format_until(FLAKEID_UNTIL_NONE, buf, sizeof(buf));
	ok(!strcmp(buf, "none"), "until none: %s", buf);
	format_until(FLAKEID_UNTIL_FENCED, buf, sizeof(buf));
	ok(!strcmp(buf, "0 fenced"), "until 0: %s", buf);
	format_until(1735689600123ULL, buf, sizeof(buf));
	ok(!strcmp(buf, "1735689600123 2025-01-01T00:00:00.123Z"),
	   "until a Unix ms: %s", buf);
}

static void test_strerror(void)
{
	const char *m;

	ok(!strcmp(flakeid_strerror(0), "success") &&
	   !strcmp(flakeid_strerror(-ENOTTY), "not a flakeid device") &&
	   !strcmp(flakeid_strerror(ENOTTY), "not a flakeid device"),
	   "strerror: 0, -ENOTTY and ENOTTY");
	m = flakeid_strerror(-EKEYEXPIRED);
	ok(!strcmp(m, "this host may not issue IDs now (at the until_ms ceiling or fenced)"),
	   "strerror(-EKEYEXPIRED): %s", m);
	m = flakeid_strerror(-EAGAIN);
	ok(strstr(m, "ceiling") != NULL, "strerror(-EAGAIN) names the ceiling: %s",
	   m);
	m = flakeid_strerror(INT_MIN);
	ok(m && strstr(m, "-2147483648"), "strerror(INT_MIN): %s", m);
	m = flakeid_strerror(-INT_MAX);
	ok(m && *m, "strerror(-INT_MAX): %s", m);
	m = flakeid_strerror(INT_MAX);
	ok(m && *m, "strerror(INT_MAX): %s", m);
	m = flakeid_strerror(-12345);
	ok(m && *m, "strerror(-12345): %s", m);
}

/*
 * UUIDv7: the text form both ways, the fields, and the batch loop over a
 * fake FLAKEID_IOC_UUID7_BATCH (flakeid__uuid7_fetch() wrapped: a handle
 * with fd -1 is answered here, any other goes to the real ioctl).
 */
static struct {
	size_t per_call;	/* most UUIDs one fake ioctl returns */
	int fail_after;		/* calls before @err; -1: never */
	int err;
	int calls;
	uint8_t next;		/* byte 15 of the next UUID */
} fake_uuid;

int __real_flakeid__uuid7_fetch(struct flakeid *h, struct flakeid_uuid7 *uuids,
				size_t n, size_t *got);
int __wrap_flakeid__uuid7_fetch(struct flakeid *h, struct flakeid_uuid7 *uuids,
				size_t n, size_t *got);

int __wrap_flakeid__uuid7_fetch(struct flakeid *h, struct flakeid_uuid7 *uuids,
				size_t n, size_t *got)
{
	size_t i;

	if (h->fd != -1)
		return __real_flakeid__uuid7_fetch(h, uuids, n, got);
	if (fake_uuid.fail_after >= 0 && fake_uuid.calls >= fake_uuid.fail_after)
		return fake_uuid.err;
	fake_uuid.calls++;
	if (n > fake_uuid.per_call)
		n = fake_uuid.per_call;
	for (i = 0; i < n; i++) {
		memset(uuids[i].b, 0, sizeof(uuids[i].b));
		uuids[i].b[6] = 0x70;
		uuids[i].b[8] = 0x80;
		uuids[i].b[15] = fake_uuid.next++;
	}
	*got = n;
	return 0;
}

/* A UUIDv7 put together from its fields, the RFC's way. */
static struct flakeid_uuid7 make_uuid7(uint64_t ms, uint64_t counter,
				       uint32_t random)
{
	struct flakeid_uuid7 u;
	uint64_t hi = ms << 16 | 0x7000 | (counter >> 30 & 0xfff);
	uint64_t lo = UINT64_C(2) << 62 | (counter & 0x3fffffff) << 32 | random;
	int i;

	for (i = 0; i < 8; i++) {
		u.b[i] = (uint8_t)(hi >> (56 - 8 * i));
		u.b[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
	}
	return u;
}

static void test_uuid7_text(void)
{
	/* RFC 9562 appendix A.6 */
	const char *rfc = "017f22e2-79b0-7cc3-98c4-dc0c0c07398f";
	static const struct {
		const char *text, *why;
		int err;
	} bad[] = {
		{ "", "empty", -EINVAL },
		{ "017f22e2-79b0-7cc3-98c4-dc0c0c07398", "35 characters", -EINVAL },
		{ "017f22e2-79b0-7cc3-98c4-dc0c0c07398f0", "37 characters", -EINVAL },
		{ "017f22e2-79b0-7cc3-98c4-dc0c0c07398f\n", "a newline after", -EINVAL },
		{ " 017f22e2-79b0-7cc3-98c4-dc0c0c07398f", "a space before", -EINVAL },
		{ "{017f22e2-79b0-7cc3-98c4-dc0c0c07398f}", "braces", -EINVAL },
		{ "017f22e279b07cc398c4dc0c0c07398f", "no dashes", -EINVAL },
		{ "017f22e2079b0-7cc3-98c4-dc0c0c07398f", "a dash moved", -EINVAL },
		{ "017f22e2-79b0-7cc3-98c4_dc0c0c07398f", "'_' for a dash", -EINVAL },
		{ "017f22e2-79b0-7cc3-98c4-dc0c0c07398-", "a dash for a digit", -EINVAL },
		{ "017f22g2-79b0-7cc3-98c4-dc0c0c07398f", "'g'", -EINVAL },
		{ "017f22e2-79b0-7cc3-98c4-dc0c0c07 98f", "a space inside", -EINVAL },
		{ "+17f22e2-79b0-7cc3-98c4-dc0c0c07398f", "a sign", -EINVAL },
		{ "0x7f22e2-79b0-7cc3-98c4-dc0c0c07398f", "0x", -EINVAL },
		{ "017f22e2-79b0-4cc3-98c4-dc0c0c07398f", "version 4", -EDOM },
		{ "017f22e2-79b0-8cc3-98c4-dc0c0c07398f", "version 8", -EDOM },
		{ "017f22e2-79b0-0cc3-98c4-dc0c0c07398f", "version 0", -EDOM },
		{ "00000000-0000-0000-0000-000000000000", "the nil UUID", -EDOM },
		{ "ffffffff-ffff-ffff-ffff-ffffffffffff", "the max UUID", -EDOM },
		{ "017f22e2-79b0-7cc3-58c4-dc0c0c07398f", "variant 0b01", -EDOM },
		{ "017f22e2-79b0-7cc3-18c4-dc0c0c07398f", "variant 0b00 (NCS)", -EDOM },
		{ "017f22e2-79b0-7cc3-c8c4-dc0c0c07398f", "variant 0b110 (Microsoft)", -EDOM },
		{ "017f22e2-79b0-7cc3-f8c4-dc0c0c07398f", "variant 0b111", -EDOM },
	};
	struct flakeid_uuid7 u, v;
	struct flakeid_uuid7_parts p;
	char buf[64], text[FLAKEID_UUID7_TEXT_SIZE], line[256];
	uint64_t seed = 0x5851f42d4c957f2du, ms, counter;
	uint32_t random;
	size_t i;
	int ret, bad_round = 0;

	ret = flakeid_parse_uuid7(rfc, &u);
	ok(ret == 0 && u.b[0] == 0x01 && u.b[6] == 0x7c && u.b[15] == 0x8f,
	   "parse RFC 9562's example UUIDv7 (%d)", ret);
	ok(flakeid_format_uuid7(&u, buf, sizeof(buf)) == 0 && !strcmp(buf, rfc),
	   "it formats back: %s", buf);
	ok(flakeid_parse_uuid7("017F22E2-79B0-7CC3-98C4-DC0C0C07398F", &v) == 0 &&
	   !memcmp(&u, &v, sizeof(u)), "upper case parses to the same bytes");
	memset(&p, 0xa5, sizeof(p));
	ret = flakeid_decode_uuid7(&u, &p);
	ok(ret == 0 && p.unix_ms == 0x017f22e279b0ULL &&
	   p.unix_ms == 1645557742000ULL && p.time.tv_sec == 1645557742 &&
	   p.time.tv_nsec == 0 && p.version == 7 && p.variant == 2 &&
	   p.counter == (UINT64_C(0xcc3) << 30 | 0x18c4dc0c) &&
	   p.random == 0x0c07398f && !p.reserved[0] && !p.reserved[1],
	   "decode the example: unix_ms %" PRIu64 ", version %u, variant %u, counter %#" PRIx64 ", random %#x",
	   p.unix_ms, p.version, p.variant, p.counter, p.random);
	ok(format_uuid7_parts(&u, &p, 0, buf, sizeof(buf)) == -ENOSPC,
	   "a short decode line buffer is ENOSPC");

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&v, 0x5a, sizeof(v));
		ret = flakeid_parse_uuid7(bad[i].text, &v);
		ok(ret == bad[i].err &&
		   (ret == -EDOM || v.b[0] == 0x5a),
		   "parse refuses %s: %s (%d)", bad[i].why, bad[i].text, ret);
	}
	ret = flakeid_parse_uuid7("6ba7b810-9dad-11d1-80b4-00c04fd430c8", &v);
	flakeid_decode_uuid7(&v, &p);
	ok(ret == -EDOM && flakeid_decode_uuid7(&v, &p) == -EDOM &&
	   p.version == 1 && p.variant == 2,
	   "a version 1 UUID: -EDOM, its bytes kept, decode says version %u",
	   p.version);
	ret = flakeid_parse_uuid7("017f22e2-79b0-7cc3-d8c4-dc0c0c07398f", &v);
	ok(ret == -EDOM && flakeid_decode_uuid7(&v, &p) == -EDOM &&
	   p.version == 7 && p.variant == 3,
	   "variant bits 11: -EDOM, decode says variant %u", p.variant);
	ok(flakeid_parse_uuid7(NULL, &v) == -EINVAL &&
	   flakeid_parse_uuid7(rfc, NULL) == -EINVAL &&
	   flakeid_format_uuid7(NULL, buf, sizeof(buf)) == -EINVAL &&
	   flakeid_format_uuid7(&u, NULL, 37) == -EINVAL &&
	   flakeid_decode_uuid7(NULL, &p) == -EINVAL &&
	   flakeid_decode_uuid7(&u, NULL) == -EINVAL,
	   "NULL arguments are EINVAL");
	strcpy(buf, "x");
	ok(flakeid_format_uuid7(&u, buf, FLAKEID_UUID7_TEXT_SIZE - 1) == -ENOSPC &&
	   !buf[0] && flakeid_format_uuid7(&u, buf, 0) == -ENOSPC &&
	   flakeid_format_uuid7(&u, text, sizeof(text)) == 0 &&
	   strlen(text) == 36, "format: 36 bytes is ENOSPC (and \"\"), 37 fit");

	/* Random fields: put together, formatted, parsed, decoded back. */
	for (i = 0; i < 100000 && !bad_round; i++) {
		ms = xorshift64s(&seed) >> 16;
		counter = xorshift64s(&seed) >> 22;
		random = (uint32_t)xorshift64s(&seed);
		if (i == 0)
			ms = counter = random = 0;
		if (i == 1) {
			ms = (UINT64_C(1) << 48) - 1;
			counter = (UINT64_C(1) << 42) - 1;
			random = UINT32_MAX;
		}
		u = make_uuid7(ms, counter, random);
		if (flakeid_format_uuid7(&u, text, sizeof(text)) ||
		    flakeid_parse_uuid7(text, &v) || memcmp(&u, &v, sizeof(u)) ||
		    flakeid_decode_uuid7(&v, &p) || p.unix_ms != ms ||
		    p.counter != counter || p.random != random ||
		    p.time.tv_sec * 1000 + p.time.tv_nsec / 1000000 != (int64_t)ms)
			bad_round = 1;
	}
	ok(!bad_round, "100000 random UUIDv7s and the extremes: fields -> bytes -> text -> bytes -> fields (%s)",
	   text);

	/* Byte order is time order, then counter order. */
	u = make_uuid7(1000, UINT64_C(1) << 41, UINT32_MAX);
	v = make_uuid7(1001, 0, 0);
	ok(memcmp(&u, &v, sizeof(u)) < 0, "memcmp: a later ms sorts after");
	u = make_uuid7(1000, (UINT64_C(1) << 30) - 1, UINT32_MAX);
	v = make_uuid7(1000, UINT64_C(1) << 30, 0);
	ok(memcmp(&u, &v, sizeof(u)) < 0,
	   "memcmp: a larger counter sorts after across rand_a and rand_b");

	u = make_uuid7(1735689600123ULL, 5, 7);
	flakeid_decode_uuid7(&u, &p);
	ret = format_uuid7_parts(&u, &p, 0, line, sizeof(line));
	ok(ret > 0 && !strcmp(line, "01941f29-7c7b-7000-8000-000500000007 2025-01-01T00:00:00.123Z version=7 variant=10 unix_ms=1735689600123 counter=5"),
	   "decode line: %s", line);
	ret = format_uuid7_parts(&u, &p, 1, line, sizeof(line));
	ok(ret > 0 && !strcmp(line, "{\"uuid\":\"01941f29-7c7b-7000-8000-000500000007\",\"time\":\"2025-01-01T00:00:00.123Z\",\"unix_ms\":1735689600123,\"version\":7,\"variant\":\"10\",\"counter\":5}"),
	   "decode JSON: %s", line);
	ok(is_uuid_text(rfc) && is_uuid_text("0-") && !is_uuid_text("123") &&
	   !is_uuid_text("0x1f") && !is_uuid_text("-5") &&
	   !is_uuid_text(NULL),
	   "an argument with a dash, not first, is taken for a UUID");
}

static void test_uuid7_batch(void)
{
	struct flakeid fake = { .fd = -1 };
	struct flakeid_uuid7 u[10], one;
	struct flakeid null = { .fd = -1 };
	int ret, i, good = 1;

	memset(&fake_uuid, 0, sizeof(fake_uuid));
	fake_uuid.per_call = 3;
	fake_uuid.fail_after = -1;
	ret = flakeid_uuid7_batch(&fake, u, 10);
	for (i = 0; i < 10; i++)
		good &= u[i].b[15] == i && u[i].b[6] == 0x70;
	ok(ret == 0 && good && fake_uuid.calls == 4,
	   "batch of 10 over short answers of 3: 4 calls, in order (%d)", ret);
	fake_uuid.calls = 0;
	ok(flakeid_uuid7_batch(&fake, NULL, 0) == 0 &&
	   flakeid_uuid7_batch(&fake, u, 0) == 0 && fake_uuid.calls == 0,
	   "an empty batch asks the device nothing");
	ok(flakeid_uuid7(&fake, &one) == 0 && one.b[15] == 10 &&
	   fake_uuid.calls == 1, "flakeid_uuid7 takes one");
	ok(flakeid_uuid7_batch(NULL, u, 1) == -EINVAL &&
	   flakeid_uuid7_batch(&fake, NULL, 1) == -EINVAL &&
	   flakeid_uuid7(&fake, NULL) == -EINVAL &&
	   flakeid_uuid7(NULL, &one) == -EINVAL, "NULL arguments are EINVAL");

	fake_uuid.calls = 0;
	fake_uuid.fail_after = 0;
	fake_uuid.err = -ENOTTY;
	ret = flakeid_uuid7_batch(&fake, u, 10);
	ok(ret == -EOPNOTSUPP, "a module without the UUID ioctl (ENOTTY): -EOPNOTSUPP (%s)",
	   flakeid_strerror(ret));
	fake_uuid.fail_after = 2;
	fake_uuid.err = -EKEYEXPIRED;
	ok(flakeid_uuid7_batch(&fake, u, 10) == -EKEYEXPIRED,
	   "an error after some UUIDs is returned as it is");

	/* The real ioctl, on /dev/null, which knows no flakeid command. */
	null.fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ret = flakeid_uuid7_batch(&null, u, 10);
	ok(null.fd >= 0 && ret == -EOPNOTSUPP,
	   "the real ioctl on /dev/null: -EOPNOTSUPP (%s)", flakeid_strerror(ret));
	if (null.fd >= 0)
		close(null.fd);
	ok(strstr(flakeid_strerror(-EOPNOTSUPP), "UUID") &&
	   strstr(flakeid_strerror(-EDOM), "UUIDv7"),
	   "strerror: %s; %s", flakeid_strerror(-EOPNOTSUPP),
	   flakeid_strerror(-EDOM));
}

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

/*
 * The lag the cache allows CLOCK_MONOTONIC_COARSE, and what this machine
 * shows.  The precise clock is read first, so a test preempted between
 * the two reads sees less lag, never more.
 */
static void test_coarse_clock(void)
{
	struct timespec res, a, b;
	uint64_t tick, bound, lag, worst = 0, t0, end;
	long samples = 0, over = 0;

	ok(flakeid__coarse_lag_ns(4000000) == 12000000 &&
	   flakeid__coarse_lag_ns(10000000) == 30000000 &&
	   flakeid__coarse_lag_ns(1000000) == 4000000 &&
	   flakeid__coarse_lag_ns(0) == 0 &&
	   flakeid__coarse_lag_ns(1000000000) == 0,
	   "coarse clock: lag allowed is two ticks plus max(tick, 2 ms)");
	if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) || res.tv_sec) {
		ok(1, "coarse clock # SKIP no usable CLOCK_MONOTONIC_COARSE");
		return;
	}
	tick = (uint64_t)res.tv_nsec;
	bound = flakeid__coarse_lag_ns(tick);
	clock_gettime(CLOCK_MONOTONIC, &a);
	t0 = ts_ns(&a);
	end = t0 + 200000000;	/* 200 ms */
	do {
		clock_gettime(CLOCK_MONOTONIC, &a);
		clock_gettime(CLOCK_MONOTONIC_COARSE, &b);
		lag = ts_ns(&a) > ts_ns(&b) ? ts_ns(&a) - ts_ns(&b) : 0;
		worst = lag > worst ? lag : worst;
		over += lag > 2 * tick;
		samples++;
	} while (ts_ns(&a) < end);
	/*
	 * Informational: a preemption between the two reads shows as lag, so
	 * on a busy host the worst sample says little; the bound is the
	 * arithmetic checked above.
	 */
	printf("# coarse clock: tick %" PRIu64 " us, worst lag %" PRIu64 " us in %ld samples (%ld over two ticks), allowed %" PRIu64 " us\n",
	       tick / 1000, worst / 1000, samples, over, bound / 1000);
}

/*
 * The vDSO's clock_gettime(), which the cache calls directly: found on
 * x86-64 when the kernel maps a vDSO, and reading the clocks the C
 * library's clock_gettime() reads.
 */
static void test_vdso_clock(void)
{
	static const clockid_t ids[] = {
		CLOCK_MONOTONIC, CLOCK_MONOTONIC_COARSE, CLOCK_REALTIME,
		CLOCK_REALTIME_COARSE,
	};
	flakeid__gettime_fn f = flakeid__vdso_gettime();
	struct timespec a, v, b, res;
	unsigned int i, good = 0;

#if defined(__x86_64__) && defined(__LP64__)
	if (!getauxval(AT_SYSINFO_EHDR)) {
		ok(1, "vDSO clock # SKIP the kernel maps no vDSO");
		return;
	}
	ok(f != NULL, "vDSO clock: __vdso_clock_gettime found");
#else
	ok(f == NULL, "vDSO clock: not used on this architecture");
#endif
	if (!f)
		return;
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		/* A coarse clock is a tick behind; allow it on the low side. */
		clock_getres(ids[i], &res);
		clock_gettime(ids[i], &a);
		if (f(ids[i], &v))
			continue;
		clock_gettime(ids[i], &b);
		good += ts_ns(&a) <= ts_ns(&v) + ts_ns(&res) &&
			ts_ns(&v) <= ts_ns(&b) + ts_ns(&res);
	}
	ok(good == i, "vDSO clock: monotonic, real-time and their coarse clocks agree with clock_gettime() (%u of %u)",
	   good, i);
}

static char tmpdir[] = "/tmp/flakeid-host.XXXXXX";

static const char *tmp_path(const char *name)
{
	static char buf[4][256];
	static unsigned int i;
	char *p = buf[i++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", tmpdir, name);
	return p;
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* Paths that are not a flakeid device: -ENOTTY, and a FIFO must not block. */
static void test_open(void)
{
	struct sigaction sa;
	struct flakeid *h = (struct flakeid *)&h;
	const char *fifo = tmp_path("fifo"), *file = tmp_path("file");
	FILE *f;
	int ret;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART: a stuck open is EINTR */
	sigaction(SIGALRM, &sa, NULL);

	ok(mkfifo(fifo, 0600) == 0, "mkfifo %s", fifo);
	alarm(5);
	ret = flakeid_open(&h, fifo, 0);
	alarm(0);
	ok(ret == -ENOTTY && h == NULL, "open of a FIFO is ENOTTY at once (%s)",
	   flakeid_strerror(ret));
	alarm(5);
	ret = flakeid_open(&h, fifo, FLAKEID_OPEN_NONBLOCK);
	alarm(0);
	ok(ret == -ENOTTY, "open of a FIFO with FLAKEID_OPEN_NONBLOCK is ENOTTY (%s)",
	   flakeid_strerror(ret));

	f = fopen(file, "w");
	if (f)
		fclose(f);
	ret = flakeid_open(&h, file, 0);
	ok(ret == -ENOTTY, "open of a regular file is ENOTTY (%s)",
	   flakeid_strerror(ret));
	ret = flakeid_open(&h, tmpdir, 0);
	ok(ret == -ENOTTY, "open of a directory is ENOTTY (%s)",
	   flakeid_strerror(ret));
	ret = flakeid_open(&h, "/dev/null", 0);
	ok(ret == -ENOTTY, "open of /dev/null is ENOTTY (%s)",
	   flakeid_strerror(ret));
	ret = flakeid_open(&h, tmp_path("missing"), 0);
	ok(ret == -ENOENT, "open of a missing path is ENOENT (%s)",
	   flakeid_strerror(ret));
	signal(SIGALRM, SIG_DFL);
}

static void put_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f))
		diag("cannot write %s", path);
}

static void put_str(const char *path, const char *data)
{
	put_file(path, data, strlen(data));
}

/*
 * flakeid_get_stats() against a fake sysfs directory, through a handle with
 * no device behind it (the counters never touch the fd).
 */
static void test_stats(void)
{
	static const char *const names[] = { "ids_issued", "clock_steps_back",
		"borrowed_ms", "waits", "refills", "ahead_ms", "generation",
		"until_ms", "until_wait_ms", "until_waits", "until_refused",
		"vm_forks" };
	static const struct {
		const char *name, *data;
		int len, want;
	} bad[] = {
		{ "ids_issued", "5\ngarbage", -1, -EPROTO },
		{ "ids_issued", "5\n\n", -1, -EPROTO },
		{ "ids_issued", "5 ", -1, -EPROTO },
		{ "ids_issued", " 5", -1, -EPROTO },
		{ "ids_issued", "", -1, -EPROTO },
		{ "ids_issued", "\n", -1, -EPROTO },
		{ "ids_issued", "-1\n", -1, -EPROTO },
		{ "ids_issued", "+5\n", -1, -EPROTO },
		{ "ids_issued", "0x10\n", -1, -EPROTO },
		{ "ids_issued", "5\0001", 3, -EPROTO },
		{ "ids_issued", "18446744073709551616\n", -1, -ERANGE },
		{ "ids_issued", "99999999999999999999999999\n", -1, -ERANGE },
		{ "ahead_ms", "-\n", -1, -EPROTO },
		{ "ahead_ms", "--5\n", -1, -EPROTO },
		{ "ahead_ms", "9223372036854775808\n", -1, -ERANGE },
		{ "ahead_ms", "-9223372036854775809\n", -1, -ERANGE },
		{ "until_ms", "none\n\n", -1, -EPROTO },
		{ "until_ms", "nonesuch\n", -1, -EPROTO },
		{ "until_ms", "NONE\n", -1, -EPROTO },
		{ "until_ms", "-1\n", -1, -EPROTO },
		{ "until_ms", "9223372036855\n", -1, -EPROTO },
		{ "until_ms", "18446744073709551615\n", -1, -EPROTO },
		{ "until_wait_ms", "4294967296\n", -1, -ERANGE },
		{ "until_waits", "x\n", -1, -EPROTO },
		{ "vm_forks", "", -1, -EPROTO },
	};
	const char *dir = tmp_path("sysfs");
	struct flakeid_stats st, keep;
	struct flakeid fake;
	char path[512], big[8192];
	size_t i;
	int ret, good;

	memset(&fake, 0, sizeof(fake));
	fake.fd = -1;
	mkdir(dir, 0700);
	flakeid_set_sysfs_dir(&fake, dir);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		put_str(path, "7\n");
	}
	snprintf(path, sizeof(path), "%s/ahead_ms", dir);
	put_str(path, "-12\n");
	ret = flakeid_get_stats(&fake, &st);
	ok(ret == 0 && st.ids_issued == 7 && st.generation == 7 &&
	   st.ahead_ms == -12 && st.until_ms == 7 && st.until_wait_ms == 7 &&
	   st.until_waits == 7 && st.until_refused == 7 && st.vm_forks == 7 &&
	   st.reserved0 == 0,
	   "stats: counters and the ceiling read from a sysfs directory (%s)",
	   flakeid_strerror(ret));
	snprintf(path, sizeof(path), "%s/until_ms", dir);
	put_str(path, "none\n");
	ret = flakeid_get_stats(&fake, &st);
	ok(ret == 0 && st.until_ms == FLAKEID_UNTIL_NONE,
	   "stats: until_ms \"none\" is FLAKEID_UNTIL_NONE (%s)",
	   flakeid_strerror(ret));
	put_str(path, "none");
	ret = flakeid_get_stats(&fake, &st);
	ok(ret == 0 && st.until_ms == FLAKEID_UNTIL_NONE,
	   "stats: \"none\" without a newline too");
	put_str(path, "0\n");
	ret = flakeid_get_stats(&fake, &st);
	ok(ret == 0 && st.until_ms == FLAKEID_UNTIL_FENCED, "stats: fenced is 0");
	put_str(path, "9223372036854\n");
	ret = flakeid_get_stats(&fake, &st);
	ok(ret == 0 && st.until_ms == FLAKEID_UNTIL_MS_MAX,
	   "stats: until_ms up to KTIME_MAX in ms");
	snprintf(path, sizeof(path), "%s/ids_issued", dir);
	put_str(path, "18446744073709551615");
	snprintf(path, sizeof(path), "%s/ahead_ms", dir);
	put_str(path, "-9223372036854775808\n");
	ret = flakeid_get_stats(&fake, &st);
	ok(ret == 0 && st.ids_issued == UINT64_MAX && st.ahead_ms == INT64_MIN,
	   "stats: 2^64-1 without a newline, and INT64_MIN (%s)",
	   flakeid_strerror(ret));

	memset(big, '0', 150);
	strcpy(big + 150, "7\n");
	snprintf(path, sizeof(path), "%s/ids_issued", dir);
	put_str(path, big);
	ret = flakeid_get_stats(&fake, &st);
	ok(ret == 0 && st.ids_issued == 7,
	   "stats: 150 zeros then 7 reads as 7 (%s, %" PRIu64 ")",
	   flakeid_strerror(ret), st.ids_issued);
	memset(big, '0', sizeof(big));
	put_file(path, big, sizeof(big));
	ret = flakeid_get_stats(&fake, &st);
	ok(ret == -EPROTO, "stats: an 8 KiB file is EPROTO, not read in part (%s)",
	   flakeid_strerror(ret));

	good = 1;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (size_t j = 0; j < sizeof(names) / sizeof(names[0]); j++) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[j]);
			put_str(path, "7\n");
		}
		snprintf(path, sizeof(path), "%s/%s", dir, bad[i].name);
		put_file(path, bad[i].data, bad[i].len < 0 ?
			 strlen(bad[i].data) : (size_t)bad[i].len);
		memset(&st, 0xa5, sizeof(st));
		keep = st;
		ret = flakeid_get_stats(&fake, &st);
		if (ret != bad[i].want || memcmp(&st, &keep, sizeof(st))) {
			diag("bad case %zu (%s): %d, want %d", i, bad[i].name,
			     ret, bad[i].want);
			good = 0;
		}
	}
	ok(good, "stats: trailing garbage, empty, signs, hex, NUL, a bad until_ms are EPROTO, overflow ERANGE, nothing stored");

	/* The 1.0 function reads only the 1.0 files: garbage past them is
	 * not its business. */
	snprintf(path, sizeof(path), "%s/until_ms", dir);
	put_str(path, "garbage\n");
	ok(flakeid__get_stats(&fake, &st, 0) == 0 && st.until_ms == 0 &&
	   flakeid_get_stats(&fake, &st) == -EPROTO,
	   "stats: the 1.0 counters alone ignore until_ms; 1.2 refuses garbage");

	/* A module from before the ceiling: no ceiling, zeros. */
	for (i = 7; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	memset(&st, 0xa5, sizeof(st));
	ret = flakeid_get_stats(&fake, &st);
	ok(ret == 0 && st.ids_issued == 7 && st.until_ms == FLAKEID_UNTIL_NONE &&
	   st.until_wait_ms == 0 && st.until_waits == 0 &&
	   st.until_refused == 0 && st.vm_forks == 0 && st.reserved0 == 0,
	   "stats: no until_ms file (an older module) is no ceiling, zero counters (%s)",
	   flakeid_strerror(ret));
	ok(flakeid__until_unknown(&fake) == 1,
	   "config: an older module's 0 in until_ms is not a fence");
	snprintf(path, sizeof(path), "%s/until_ms", dir);
	put_str(path, "0\n");
	ok(flakeid__until_unknown(&fake) == 0,
	   "config: with an until_ms file, 0 is a fence");
	unlink(path);
	snprintf(path, sizeof(path), "%s/until_wait_ms", dir);
	put_str(path, "1000\n");
	snprintf(path, sizeof(path), "%s/until_ms", dir);
	put_str(path, "5\n");
	ok(flakeid_get_stats(&fake, &st) == -ENOENT,
	   "stats: until_ms without the counters beside it is ENOENT");
	unlink(path);
	snprintf(path, sizeof(path), "%s/until_wait_ms", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/waits", dir);
	unlink(path);
	ok(flakeid_get_stats(&fake, &st) == -ENOENT, "stats: a missing file is ENOENT");
	flakeid_set_sysfs_dir(&fake, tmp_path("nowhere"));
	ok(flakeid__until_unknown(&fake) == 0,
	   "config: no sysfs directory at all: 0 stays a fence");
	flakeid_set_sysfs_dir(&fake, dir);

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
	flakeid_set_sysfs_dir(&fake, NULL);
}

/* The configuration a handle with fd -1 reads (linked with --wrap). */
static struct flakeid_config fake_cur;

int __real_flakeid__read_config(int fd, struct flakeid_config *cfg);
int __wrap_flakeid__read_config(int fd, struct flakeid_config *cfg);

int __wrap_flakeid__read_config(int fd, struct flakeid_config *cfg)
{
	if (fd != -1)
		return __real_flakeid__read_config(fd, cfg);
	*cfg = fake_cur;
	return 0;
}

static const char *get_str(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return f ? buf : "(missing)";
}

/*
 * flakeid_set_config()'s until_ms and flakeid_set_until_wait() against a
 * sysfs directory of plain files.  A missing machine_id file makes the
 * machine store fail, which shows whether until_ms was stored before it.
 */
static void test_set_until(void)
{
	static const char *const names[] = { "machine_id", "until_ms",
		"until_wait_ms", "generation" };
	const char *dir = tmp_path("sysfs-set");
	char upath[512], wpath[512], mpath[512];
	struct flakeid_config c;
	struct flakeid fake;
	size_t i;
	int ret;

	memset(&fake, 0, sizeof(fake));
	fake.fd = -1;
	mkdir(dir, 0700);
	flakeid_set_sysfs_dir(&fake, dir);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(upath, sizeof(upath), "%s/%s", dir, names[i]);
		put_str(upath, "");
	}
	snprintf(upath, sizeof(upath), "%s/until_ms", dir);
	snprintf(wpath, sizeof(wpath), "%s/until_wait_ms", dir);
	snprintf(mpath, sizeof(mpath), "%s/machine_id", dir);
	flakeid_default_config(&fake_cur);
	fake_cur.until_ms = 1000;

	c = fake_cur;
	c.until_ms = FLAKEID_UNTIL_NONE;
	ret = flakeid_set_config(&fake, &c, FLAKEID_SET_UNTIL);
	ok(ret == 0 && !strcmp(get_str(upath), "none\n"),
	   "set until: FLAKEID_UNTIL_NONE writes \"none\" (%s)",
	   flakeid_strerror(ret));
	c.until_ms = 1800000000000ULL;
	ret = flakeid_set_config(&fake, &c, FLAKEID_SET_UNTIL);
	ok(ret == 0 && !strcmp(get_str(upath), "1800000000000\n"),
	   "set until: a Unix ms");
	/* The library writes as to sysfs, without truncating. */
	put_str(upath, "");
	c.until_ms = FLAKEID_UNTIL_FENCED;
	ret = flakeid_set_config(&fake, &c, FLAKEID_SET_UNTIL);
	ok(ret == 0 && !strcmp(get_str(upath), "0\n"), "set until: 0 fences");
	c.until_ms = FLAKEID_UNTIL_MS_MAX;
	ret = flakeid_set_config(&fake, &c, FLAKEID_SET_UNTIL);
	ok(ret == 0 && !strcmp(get_str(upath), "9223372036854\n"),
	   "set until: KTIME_MAX in ms");
	put_str(upath, "");
	c.until_ms = FLAKEID_UNTIL_MS_MAX + 1;
	ret = flakeid_set_config(&fake, &c, FLAKEID_SET_UNTIL);
	c.until_ms = FLAKEID_UNTIL_NONE - 1;
	ret = ret == -ERANGE ? flakeid_set_config(&fake, &c, FLAKEID_SET_UNTIL)
			     : ret;
	ok(ret == -ERANGE && !*get_str(upath),
	   "set until: past KTIME_MAX in ms is ERANGE, nothing written (%s)",
	   flakeid_strerror(ret));
	c.until_ms = FLAKEID_UNTIL_NONE - 1;
	ok(flakeid_set_config(&fake, &c, FLAKEID_SET_MACHINE) == 0,
	   "set: until_ms is not looked at without FLAKEID_SET_UNTIL");

	/* Order: a raise after the other stores, a lowering or fence before. */
	unlink(mpath);
	put_str(upath, "");
	c.machine_id = 3;
	c.until_ms = 2000;
	ret = flakeid_set_config(&fake, &c, FLAKEID_SET_MACHINE | FLAKEID_SET_UNTIL);
	ok(ret == -ENOENT && !*get_str(upath),
	   "set until: a raise (1000 -> 2000) is stored after machine_id (%s)",
	   flakeid_strerror(ret));
	c.until_ms = 500;
	ret = flakeid_set_config(&fake, &c, FLAKEID_SET_MACHINE | FLAKEID_SET_UNTIL);
	ok(ret == -ENOENT && !strcmp(get_str(upath), "500\n"),
	   "set until: a lowering (1000 -> 500) is stored before machine_id");
	put_str(upath, "");
	c.until_ms = 0;
	ret = flakeid_set_config(&fake, &c, FLAKEID_SET_MACHINE | FLAKEID_SET_UNTIL);
	ok(ret == -ENOENT && !strcmp(get_str(upath), "0\n"),
	   "set until: a fence is stored before machine_id");
	fake_cur.until_ms = FLAKEID_UNTIL_FENCED;
	put_str(upath, "0\n");
	c.until_ms = FLAKEID_UNTIL_NONE;
	ret = flakeid_set_config(&fake, &c, FLAKEID_SET_MACHINE | FLAKEID_SET_UNTIL);
	ok(ret == -ENOENT && !strcmp(get_str(upath), "0\n"),
	   "set until: unfencing is stored after machine_id");
	put_str(mpath, "");
	ret = flakeid_set_config(&fake, &c, FLAKEID_SET_MACHINE | FLAKEID_SET_UNTIL);
	ok(ret == 0 && !strcmp(get_str(mpath), "3\n") &&
	   !strcmp(get_str(upath), "none\n"),
	   "set until: machine_id then unfence (%s)", flakeid_strerror(ret));

	ok(flakeid_set_until_wait(&fake, 60001) == -ERANGE && !*get_str(wpath),
	   "set until_wait: over 60000 is ERANGE, nothing written");
	ok(flakeid_set_until_wait(&fake, 0) == 0 &&
	   !strcmp(get_str(wpath), "0\n") && (put_str(wpath, ""), 1) &&
	   flakeid_set_until_wait(&fake, 60000) == 0 &&
	   !strcmp(get_str(wpath), "60000\n") &&
	   flakeid_set_until_wait(NULL, 5) == -EINVAL,
	   "set until_wait: 0 and 60000 written, NULL handle EINVAL");

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(upath, sizeof(upath), "%s/%s", dir, names[i]);
		unlink(upath);
	}
	rmdir(dir);
	flakeid_set_sysfs_dir(&fake, NULL);
}

struct run {
	int status;	/* exit code, or 128 + signal */
	char out[8192], err[8192];
};

/* The first @size - 1 bytes; the rest is read and dropped. */
static void slurp(int fd, char *buf, size_t size)
{
	char drop[4096];
	size_t n = 0;
	ssize_t r;

	while (n < size - 1 && (r = read(fd, buf + n, size - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	while (n == size - 1 && read(fd, drop, sizeof(drop)) > 0)
		;
}

/* Runs the command with @args (NULL-terminated); stdout and stderr kept. */
static void run(struct run *r, const char *bin, ...)
{
	const char *argv[32];
	int out[2], err[2], st, i = 0;
	va_list ap;
	pid_t pid;

	argv[i++] = bin;
	va_start(ap, bin);
	while (i < 31 && (argv[i] = va_arg(ap, const char *)))
		i++;
	va_end(ap);
	argv[i] = NULL;

	if (pipe(out) || pipe(err))
		abort();
	pid = fork();
	if (pid == 0) {
		alarm(30);	/* kept across execv: a stuck command dies */
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(out[0]);
		close(err[0]);
		execv(bin, (char **)argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	/* Outputs here are small: stdout first cannot block on stderr. */
	slurp(out[0], r->out, sizeof(r->out));
	slurp(err[0], r->err, sizeof(r->err));
	close(out[0]);
	close(err[0]);
	waitpid(pid, &st, 0);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static int one_line_error(const struct run *r, const char *needle)
{
	int good = lines(r->err) == 1 && strstr(r->err, needle) &&
		   !strncmp(r->err, "flakeid: ", 9);

	if (!good)
		diag("stderr: %s", r->err);
	return good;
}

static void test_cli(const char *bin)
{
	static struct run r;
	const char *id = "132633959326918698";

	run(&r, bin, "--help", NULL);
	ok(r.status == 0 && strstr(r.out, "Usage: flakeid") &&
	   strstr(r.out, "Exit codes") && strstr(r.out, "7 this host may not issue IDs now"),
	   "--help");
	run(&r, bin, "--version", NULL);
	ok(r.status == 0 && !strncmp(r.out, "flakeid " FLAKEID_VERSION " (",
				     strlen("flakeid " FLAKEID_VERSION " (")), "--version: %.*s",
	   (int)strcspn(r.out, "\n"), r.out);
	run(&r, bin, "--bogus", NULL);
	ok(r.status == 2 && one_line_error(&r, "--bogus"),
	   "an unknown option exits 2");
	run(&r, bin, "-n", "abc", NULL);
	ok(r.status == 2 && one_line_error(&r, "abc"), "-n abc exits 2");
	run(&r, bin, "frobnicate", NULL);
	ok(r.status == 2 && one_line_error(&r, "frobnicate"),
	   "an unknown command exits 2");
	run(&r, bin, "-n", "3", "decode", id, NULL);
	ok(r.status == 2 && one_line_error(&r, "-n"),
	   "-n with a command exits 2");

	run(&r, bin, "--device", "/nonexistent/flakeid", NULL);
	ok(r.status == 3 && one_line_error(&r, "run `modprobe flakeid`"),
	   "a missing device exits 3 and says to modprobe");
	run(&r, bin, "--device", "/nonexistent/flakeid", "-n", "5", NULL);
	ok(r.status == 3 && !*r.out, "-n 5 without a device exits 3, no output");
	run(&r, bin, "--device", "/nonexistent/flakeid", "stats", NULL);
	ok(r.status == 3 && one_line_error(&r, "modprobe"),
	   "stats without a device exits 3");
	run(&r, bin, "--device", "/nonexistent/flakeid", "config", NULL);
	ok(r.status == 3 && one_line_error(&r, "modprobe"),
	   "config without a device exits 3");
	run(&r, bin, "--device", "/nonexistent/flakeid", "decode", id, NULL);
	ok(r.status == 3 && one_line_error(&r, "--layout"),
	   "decode without a device exits 3 and offers --layout");
	run(&r, bin, "--device", "/dev/null", NULL);
	ok(r.status == 6 && one_line_error(&r, "not a flakeid device"),
	   "/dev/null is not a flakeid device: exit 6");
	run(&r, bin, "--device", tmp_path("fifo"), NULL);
	ok(r.status == 6 && one_line_error(&r, "not a flakeid device"),
	   "a FIFO is not a flakeid device: exit 6, no wait");

	run(&r, bin, "config", "region=x", NULL);
	ok(r.status == 2 && one_line_error(&r, "region=x"),
	   "config region=x exits 2 before touching the device");
	run(&r, bin, "config", "colour=1", NULL);
	ok(r.status == 2 && one_line_error(&r, "colour"),
	   "config colour=1 exits 2");
	run(&r, bin, "config", "layout=20:4:3:5:10", NULL);
	ok(r.status == 2 && one_line_error(&r, "layout rules"),
	   "config layout=20:4:3:5:10 exits 2");
	run(&r, bin, "stats", "extra", NULL);
	ok(r.status == 2 && one_line_error(&r, "extra"),
	   "stats with an argument exits 2");

	run(&r, bin, "decode", "--epoch", "1704067200000", id, NULL);
	ok(r.status == 0 && !strcmp(r.out, "132633959326918698 2025-01-01T00:00:00.123Z region=5 app=3 machine=10 sequence=42 timestamp=31622400123\n"),
	   "offline decode prints the fields and the time");
	run(&r, bin, "decode", "--json", "--layout", "41:4:3:5:10", id,
	    "0x1d734b0000000000", NULL);
	ok(r.status == 0 && lines(r.out) == 2 &&
	   strstr(r.out, "{\"id\":\"132633959326918698\",\"time\":\"2025-01-01T00:00:00.123Z\",") &&
	   strstr(r.out, "\"id\":\"2122122312793718784\""),
	   "offline decode --json prints one object per ID");
	run(&r, bin, "decode", "--layout", "41:0:0:0:22", "--epoch", "0", "4194305", NULL);
	ok(r.status == 0 && !strcmp(r.out, "4194305 1970-01-01T00:00:00.001Z region=0 app=0 machine=0 sequence=1 timestamp=1\n"),
	   "offline decode under another layout and epoch");
	run(&r, bin, "decode", "--epoch", "1704067200000", "9223372036854775808", NULL);
	ok(r.status == 2 && one_line_error(&r, "bits above the layout"),
	   "decode of 2^63 under 63 bits exits 2");
	run(&r, bin, "decode", "--epoch", "1704067200000", "abc", id, NULL);
	ok(r.status == 2 && one_line_error(&r, "'abc' is not an ID") &&
	   lines(r.out) == 1, "a bad ID exits 2 but the good ones print");
	run(&r, bin, "decode", "--layout", "1:2:3", id, NULL);
	ok(r.status == 2 && one_line_error(&r, "--layout"),
	   "decode --layout 1:2:3 exits 2");
	run(&r, bin, "decode", NULL);
	ok(r.status == 2 && one_line_error(&r, "no ID"),
	   "decode without an ID exits 2");
}

/* How many IDs the fake device handed out in the last run (0: none). */
static uint64_t fake_taken(void)
{
	char buf[32] = "";
	FILE *f = fopen(tmp_path("taken"), "r");
	uint64_t v = 0;

	if (f) {
		if (fgets(buf, sizeof(buf), f))
			v = strtoull(buf, NULL, 10);
		fclose(f);
	}
	return v;
}

enum out_kind { OUT_FIRST_LINE, OUT_CLOSED, OUT_FULL };

/*
 * `flakeid --device fake -n COUNT [uuid7]` with SIGPIPE ignored, its stdout
 * a pipe read for one line then closed (| head -1), closed (>&-), or
 * /dev/full.
 */
static void run_generate(struct run *r, const char *bin, enum out_kind kind,
			 const char *count, int uuid)
{
	int out[2], err[2], st, fd;
	size_t n = 0;
	ssize_t got;
	pid_t pid;

	unlink(tmp_path("taken"));
	if (pipe(out) || pipe(err))
		abort();
	pid = fork();
	if (pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		alarm(30);
		dup2(err[1], 2);
		if (kind == OUT_FIRST_LINE)
			dup2(out[1], 1);
		else if (kind == OUT_CLOSED)
			close(1);
		else if ((fd = open("/dev/full", O_WRONLY)) >= 0 && fd != 1)
			dup2(fd, 1);
		close(out[0]);
		close(out[1]);
		close(err[0]);
		close(err[1]);
		execl(bin, bin, "--device", "fake", "-n", count,
		      uuid ? "uuid7" : (char *)NULL, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	while (kind == OUT_FIRST_LINE && n < sizeof(r->out) - 1 &&
	       !memchr(r->out, '\n', n) &&
	       (got = read(out[0], r->out + n, sizeof(r->out) - 1 - n)) > 0)
		n += (size_t)got;
	r->out[n] = '\0';
	close(out[0]);
	slurp(err[0], r->err, sizeof(r->err));
	close(err[0]);
	waitpid(pid, &st, 0);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The generate loop against the fake device: it stops when output fails. */
static void test_cli_output(const char *bin)
{
	static struct run r;
	uint64_t taken;

	setenv("FLAKEID_FAKE_TAKEN", tmp_path("taken"), 1);
	unlink(tmp_path("taken"));
	run(&r, bin, "--device", "fake", "-n", "5", NULL);
	ok(r.status == 0 && !strcmp(r.out, "1000\n1001\n1002\n1003\n1004\n") &&
	   fake_taken() == 5, "fake device: -n 5 prints 5 IDs, takes 5");
	unlink(tmp_path("taken"));
	run(&r, bin, "--device", "fake", "-n", "0", NULL);
	ok(r.status == 0 && !*r.out && !*r.err && fake_taken() == 0,
	   "fake device: -n 0 prints and takes nothing");

	run_generate(&r, bin, OUT_FIRST_LINE, "20000000", 0);
	taken = fake_taken();
	ok(r.status == 1 && !strncmp(r.out, "1000\n", 5) &&
	   one_line_error(&r, "Broken pipe") && taken <= 2 * 4096,
	   "-n 20000000 | head -1, SIGPIPE ignored: exit 1, one line, %" PRIu64 " IDs taken",
	   taken);
	run_generate(&r, bin, OUT_FIRST_LINE, "18446744073709551615", 0);
	taken = fake_taken();
	ok(r.status == 1 && one_line_error(&r, "Broken pipe") &&
	   taken <= 2 * 4096,
	   "-n 2^64-1 | head -1 ends: exit 1, %" PRIu64 " IDs taken", taken);
	run_generate(&r, bin, OUT_CLOSED, "20000000", 0);
	taken = fake_taken();
	ok(r.status == 1 && one_line_error(&r, "standard output is closed") &&
	   taken == 0, "-n 20000000 >&-: exit 1, %" PRIu64 " IDs taken", taken);
	run_generate(&r, bin, OUT_FULL, "20000000", 0);
	taken = fake_taken();
	ok(r.status == 1 && one_line_error(&r, "No space left") &&
	   taken <= 4096,
	   "-n 20000000 >/dev/full: exit 1, %" PRIu64 " IDs taken", taken);
	unlink(tmp_path("taken"));
	unsetenv("FLAKEID_FAKE_TAKEN");
}

/* `flakeid decode UUID` needs no device; `flakeid uuid7` does. */
static void test_cli_uuid7_decode(const char *bin)
{
	static struct run r;
	const char *rfc = "017F22E2-79B0-7CC3-98C4-DC0C0C07398F";
	const char *line = "017f22e2-79b0-7cc3-98c4-dc0c0c07398f 2022-02-22T19:22:22.000Z version=7 variant=10 unix_ms=1645557742000 counter=3508330093580\n";

	run(&r, bin, "--device", "/nonexistent/flakeid", "decode", rfc, NULL);
	ok(r.status == 0 && !strcmp(r.out, line) && !*r.err,
	   "decode of a UUIDv7 without a device: %.*s",
	   (int)strcspn(r.out, "\n"), r.out);
	run(&r, bin, "--device", "/nonexistent/flakeid", "decode", "--json",
	    rfc, NULL);
	ok(r.status == 0 && !strcmp(r.out, "{\"uuid\":\"017f22e2-79b0-7cc3-98c4-dc0c0c07398f\",\"time\":\"2022-02-22T19:22:22.000Z\",\"unix_ms\":1645557742000,\"version\":7,\"variant\":\"10\",\"counter\":3508330093580}\n"),
	   "decode --json of a UUIDv7");
	run(&r, bin, "decode", "919108f7-52d1-4320-9bac-f847db4148a8", NULL);
	ok(r.status == 2 && !*r.out &&
	   one_line_error(&r, "is a version 4 UUID, not a UUIDv7"),
	   "decode of a UUIDv4 exits 2 naming its version");
	run(&r, bin, "decode", "017f22e2-79b0-7cc3-c8c4-dc0c0c07398f", NULL);
	ok(r.status == 2 && one_line_error(&r, "variant bits are not 10"),
	   "decode of a UUID of another variant exits 2");
	run(&r, bin, "decode", "017f22e2-79b0-7cc3-98c4-dc0c0c07398", rfc, NULL);
	ok(r.status == 2 && one_line_error(&r, "is not a UUID (want 36") &&
	   lines(r.out) == 1,
	   "a 35-character UUID exits 2, the good one prints");
	run(&r, bin, "decode", "017f22e2-79b0-7cc3-98c4-dc0c0c07398z", NULL);
	ok(r.status == 2 && one_line_error(&r, "is not a UUID"),
	   "a UUID with a non-hex digit exits 2");
	run(&r, bin, "--device", "/nonexistent/flakeid", "decode", rfc,
	    "132633959326918698", NULL);
	ok(r.status == 3 && one_line_error(&r, "modprobe"),
	   "a UUID beside an ID still needs the device for the ID");
	run(&r, bin, "--device", "/nonexistent/flakeid", "uuid7", NULL);
	ok(r.status == 3 && !*r.out && one_line_error(&r, "modprobe"),
	   "uuid7 without a device exits 3");
	run(&r, bin, "uuid7", "-n", "x", NULL);
	ok(r.status == 2 && one_line_error(&r, "'x'"), "uuid7 -n x exits 2");
	run(&r, bin, "uuid7", "extra", NULL);
	ok(r.status == 2 && one_line_error(&r, "'extra'"),
	   "uuid7 with an argument exits 2");
	run(&r, bin, "uuid7", "--help", NULL);
	ok(r.status == 0 && strstr(r.out, "uuid7 [-n N]"), "uuid7 --help");
	run(&r, bin, "--version", NULL);
	ok(r.status == 0 && strstr(r.out, "(libflakeid 1.4)\n"),
	   "--version names libflakeid 1.4: %.*s", (int)strcspn(r.out, "\n"),
	   r.out);
}

/* Lines of UUID text: each a UUIDv7, each above the one before. */
static int uuid7_lines(const char *s, int want)
{
	struct flakeid_uuid7 prev, u;
	char text[FLAKEID_UUID7_TEXT_SIZE];
	int n = 0;

	for (; *s; s += 37, n++) {
		if (strlen(s) < 37 || s[36] != '\n')
			return 0;
		memcpy(text, s, 36);
		text[36] = '\0';
		if (flakeid_parse_uuid7(text, &u) ||
		    (n && memcmp(&prev, &u, sizeof(u)) >= 0)) {
			diag("line %d: %s", n + 1, text);
			return 0;
		}
		prev = u;
	}
	return n == want;
}

/* `flakeid uuid7` on the fake device, whose ioctl answers 64 at a time. */
static void test_cli_uuid7(const char *bin)
{
	static struct run r;

	setenv("FLAKEID_FAKE_TAKEN", tmp_path("taken"), 1);
	unlink(tmp_path("taken"));
	run(&r, bin, "--device", "fake", "uuid7", NULL);
	ok(r.status == 0 && uuid7_lines(r.out, 1) && fake_taken() == 1,
	   "fake device: uuid7 prints one UUIDv7: %.*s",
	   (int)strcspn(r.out, "\n"), r.out);
	run(&r, bin, "--device", "fake", "uuid7", "-n", "200", NULL);
	ok(r.status == 0 && uuid7_lines(r.out, 200) && !*r.err &&
	   fake_taken() == 200,
	   "fake device: uuid7 -n 200 prints 200 increasing UUIDv7s, takes 200");
	run(&r, bin, "--device", "fake", "-n", "3", "uuid7", NULL);
	ok(r.status == 0 && uuid7_lines(r.out, 3), "-n 3 uuid7 prints 3");
	unlink(tmp_path("taken"));
	run(&r, bin, "--device", "fake", "uuid7", "--count", "0", NULL);
	ok(r.status == 0 && !*r.out && fake_taken() == 0,
	   "fake device: uuid7 --count 0 prints and takes nothing");
	setenv("FLAKEID_FAKE_UUID7", "none", 1);
	run(&r, bin, "--device", "fake", "uuid7", NULL);
	ok(r.status == 1 && !*r.out &&
	   one_line_error(&r, "fetching UUIDs: the flakeid module issues no UUIDs"),
	   "a module without UUIDs: exit 1, one line");
	unsetenv("FLAKEID_FAKE_UUID7");
	unlink(tmp_path("taken"));
	setenv("FLAKEID_FAKE_UNTIL", "0", 1);
	run(&r, bin, "--device", "fake", "uuid7", "-n", "5", NULL);
	ok(r.status == 7 && !*r.out &&
	   one_line_error(&r, "fetching UUIDs: this host may not issue IDs now: fenced"),
	   "fenced: uuid7 exits 7 naming the fence");
	unsetenv("FLAKEID_FAKE_UNTIL");
	run_generate(&r, bin, OUT_CLOSED, "20000000", 1);
	ok(r.status == 1 && one_line_error(&r, "closed: no UUIDs taken") &&
	   fake_taken() == 0, "uuid7 -n 20000000 >&-: exit 1, none taken");
	run_generate(&r, bin, OUT_FIRST_LINE, "20000000", 1);
	ok(r.status == 1 && strlen(r.out) >= 37 &&
	   one_line_error(&r, "Broken pipe") && fake_taken() <= 2 * 4096,
	   "uuid7 -n 20000000 | head -1: exit 1, %" PRIu64 " UUIDs taken",
	   fake_taken());
	unlink(tmp_path("taken"));
	unsetenv("FLAKEID_FAKE_TAKEN");
}

/*
 * The ceiling through the command, on the fake device: the exit code and
 * line for EKEYEXPIRED, config and stats (plain and JSON), and the stores
 * until= and until_wait= make in a sysfs directory of plain files.
 */
static void test_cli_ceiling(const char *bin)
{
	static const char *const names[] = { "ids_issued", "clock_steps_back",
		"borrowed_ms", "waits", "refills", "ahead_ms", "generation",
		"until_ms", "until_wait_ms", "until_waits", "until_refused",
		"vm_forks" };
	static struct run r;
	const char *dir = tmp_path("sysfs-cli");
	char path[512];
	size_t i;

	mkdir(dir, 0700);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		put_str(path, i == 7 ? "1800000000000\n" : i == 8 ? "250\n" :
			      "3\n");
	}

	setenv("FLAKEID_FAKE_UNTIL", "0", 1);
	run(&r, bin, "--device", "fake", "-n", "5", NULL);
	ok(r.status == 7 && !*r.out && one_line_error(&r, "fenced (until_ms 0)"),
	   "fenced: -n 5 exits 7, one line, no IDs");
	run(&r, bin, "--device", "fake", "--sysfs", dir, "config", NULL);
	ok(r.status == 0 && strstr(r.out, "\nuntil_ms 0 fenced\n") &&
	   strstr(r.out, "\nuntil_wait_ms 250\n") &&
	   strstr(r.out, "\nvm_forks 0\n"),
	   "fenced: config shows until_ms 0 fenced, until_wait_ms, vm_forks");
	run(&r, bin, "--device", "fake", "--sysfs", dir, "config", "--json", NULL);
	ok(r.status == 0 && lines(r.out) == 1 &&
	   strstr(r.out, ",\"until_ms\":0,\"until\":null,\"fenced\":true,\"until_wait_ms\":250,\"vm_forks\":0}\n"),
	   "fenced: config --json: %.*s",
	   (int)strcspn(r.out, "\n"), r.out);

	setenv("FLAKEID_FAKE_UNTIL", "1800000000000", 1);
	setenv("FLAKEID_FAKE_LIMIT", "4096", 1);
	setenv("FLAKEID_FAKE_TAKEN", tmp_path("taken"), 1);
	run(&r, bin, "--device", "fake", "-n", "5000", NULL);
	ok(r.status == 7 && !strncmp(r.out, "1000\n1001\n", 10) &&
	   fake_taken() == 4096 &&
	   one_line_error(&r, "at the ceiling until_ms 1800000000000 2027-01-15T08:00:00.000Z"),
	   "at the ceiling: -n 5000 prints the first 4096, exits 7 naming the ceiling");
	unlink(tmp_path("taken"));
	unsetenv("FLAKEID_FAKE_TAKEN");
	unsetenv("FLAKEID_FAKE_LIMIT");
	run(&r, bin, "--device", "fake", "--sysfs", dir, "config", "--json", NULL);
	ok(r.status == 0 &&
	   strstr(r.out, "\"until_ms\":1800000000000,\"until\":\"2027-01-15T08:00:00.000Z\",\"fenced\":false,"),
	   "ceiling: config --json has until_ms, until and fenced false");
	unsetenv("FLAKEID_FAKE_UNTIL");
	run(&r, bin, "--device", "fake", "--sysfs", dir, "config", "--json", NULL);
	ok(r.status == 0 &&
	   strstr(r.out, "\"until_ms\":null,\"until\":null,\"fenced\":false,"),
	   "no ceiling: config --json has until_ms null");
	run(&r, bin, "--device", "fake", "--sysfs", dir, "config", NULL);
	ok(r.status == 0 && strstr(r.out, "\nuntil_ms none\n"),
	   "no ceiling: config shows until_ms none");

	run(&r, bin, "--device", "fake", "--sysfs", dir, "stats", NULL);
	ok(r.status == 0 && strstr(r.out, "\ngeneration 3\n") &&
	   strstr(r.out, "\nuntil_ms 1800000000000 2027-01-15T08:00:00.000Z\nuntil_wait_ms 250\nuntil_waits 3\nuntil_refused 3\nvm_forks 3\n"),
	   "stats shows the ceiling and its counters");
	run(&r, bin, "--device", "fake", "--sysfs", dir, "stats", "--json", NULL);
	ok(r.status == 0 && lines(r.out) == 1 &&
	   strstr(r.out, ",\"generation\":3,\"until_ms\":1800000000000,\"until\":\"2027-01-15T08:00:00.000Z\",\"fenced\":false,\"until_wait_ms\":250,\"until_waits\":3,\"until_refused\":3,\"vm_forks\":3}\n"),
	   "stats --json: %.*s",
	   (int)strcspn(r.out, "\n"), r.out);
	snprintf(path, sizeof(path), "%s/until_ms", dir);
	put_str(path, "none\n");
	run(&r, bin, "--device", "fake", "--sysfs", dir, "stats", "--json", NULL);
	ok(r.status == 0 && strstr(r.out, "\"until_ms\":null,\"until\":null,\"fenced\":false,"),
	   "stats --json: no ceiling is null");

	put_str(path, "");
	run(&r, bin, "--device", "fake", "--sysfs", dir, "config",
	    "until=1800000000000", NULL);
	ok(r.status == 0 && !strcmp(get_str(path), "1800000000000\n"),
	   "config until=1800000000000 stores it");
	put_str(path, "");
	run(&r, bin, "--device", "fake", "--sysfs", dir, "config", "until_ms=none",
	    NULL);
	ok(r.status == 0 && !strcmp(get_str(path), "none\n"),
	   "config until_ms=none stores none");
	snprintf(path, sizeof(path), "%s/until_wait_ms", dir);
	put_str(path, "");
	run(&r, bin, "--device", "fake", "--sysfs", dir, "config",
	    "until_wait=0", NULL);
	ok(r.status == 0 && !strcmp(get_str(path), "0\n"),
	   "config until_wait=0 stores it");
	run(&r, bin, "--device", "fake", "--sysfs", dir, "config",
	    "until_wait=60001", NULL);
	ok(r.status == 5 && one_line_error(&r, "until_wait=60001 is above 60000") &&
	   !strcmp(get_str(path), "0\n"),
	   "config until_wait=60001 exits 5, nothing stored");
	run(&r, bin, "--device", "fake", "config", "until=9223372036855", NULL);
	ok(r.status == 2 && one_line_error(&r, "past the kernel's time range"),
	   "config until=9223372036855 exits 2");
	run(&r, bin, "--device", "fake", "config", "until=soon", NULL);
	ok(r.status == 2 && one_line_error(&r, "until=soon"),
	   "config until=soon exits 2");

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

int main(int argc, char **argv)
{
	test_arithmetic();
	test_parse();
	test_format();
	test_strerror();
	test_uuid7_text();
	test_uuid7_batch();
	test_coarse_clock();
	test_vdso_clock();
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_open();
	test_stats();
	test_set_until();
	if (argc > 1) {
		test_cli(argv[1]);
		test_cli_uuid7_decode(argv[1]);
	}
	if (argc > 2) {
		test_cli_output(argv[2]);
		test_cli_ceiling(argv[2]);
		test_cli_uuid7(argv[2]);
	}
	unlink(tmp_path("fifo"));
	unlink(tmp_path("file"));
	rmdir(tmpdir);
	diag("%d passed, %d failed", tap_tests - tap_failed, tap_failed);
	return tap_done();
}
