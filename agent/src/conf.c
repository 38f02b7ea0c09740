// SPDX-License-Identifier: MIT
/*
 * The agent's configuration: defaults, the key=value file, and the checks
 * that keep every later computation (ms arithmetic, key lengths) in range.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static int copy_str(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(dst, src, n + 1);
	return 0;
}

int conf_defaults(struct agent_conf *c)
{
	char host[200];

	memset(c, 0, sizeof(*c));
	strcpy(c->prefix, "/flakeid");
	c->n_regions = 1;	/* region 0, app 0 */
	c->n_apps = 1;
	c->ttl_s = 10;
	c->timeout_ms = 2000;
	c->backoff_max_ms = 30000;
	strcpy(c->sysfs_dir, "/sys/class/misc/flakeid");
	strcpy(c->state_file, "/run/flakeid/agent.state");
	if (gethostname(host, sizeof(host)) != 0)
		strcpy(host, "unknown");
	host[sizeof(host) - 1] = '\0';
	snprintf(c->name, sizeof(c->name), "host=%s pid=%ld", host,
		 (long)getpid());
	return 0;
}

static int parse_endpoints(struct agent_conf *c, const char *val)
{
	char *copy = strdup(val), *tok, *save = NULL;
	int i;

	if (!copy)
		return -ENOMEM;
	for (i = 0; i < c->n_endpoints; i++)
		free(c->endpoints[i]);
	c->n_endpoints = 0;
	for (tok = strtok_r(copy, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save)) {
		if (c->n_endpoints == AGENT_MAX_ENDPOINTS) {
			free(copy);
			return -E2BIG;
		}
		if (strncmp(tok, "http://", 7) && strncmp(tok, "https://", 8)) {
			free(copy);
			return -EINVAL;
		}
		c->endpoints[c->n_endpoints] = strdup(tok);
		if (!c->endpoints[c->n_endpoints]) {
			free(copy);
			return -ENOMEM;
		}
		c->n_endpoints++;
	}
	free(copy);
	return c->n_endpoints ? 0 : -EINVAL;
}

/* "0-3,8,10-12": ids, each at most once */
static int parse_list(const char *val, uint32_t *out, size_t *n)
{
	char *copy = strdup(val), *tok, *save = NULL, *dash;
	uint64_t lo, hi, m;
	size_t i;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	*n = 0;
	for (tok = strtok_r(copy, ", ", &save); tok && !ret;
	     tok = strtok_r(NULL, ", ", &save)) {
		dash = strchr(tok, '-');
		if (dash)
			*dash = '\0';
		ret = parse_u64(tok, UINT32_MAX, &lo);
		if (ret)
			break;
		hi = lo;
		if (dash)
			ret = parse_u64(dash + 1, UINT32_MAX, &hi);
		if (!ret && hi < lo)
			ret = -EINVAL;
		for (m = lo; !ret && m <= hi; m++) {
			for (i = 0; i < *n; i++)
				if (out[i] == m)
					ret = -EINVAL;
			if (!ret && *n == AGENT_MAX_POOL)
				ret = -E2BIG;
			if (!ret)
				out[(*n)++] = (uint32_t)m;
		}
	}
	free(copy);
	if (!ret && !*n)
		ret = -EINVAL;
	return ret;
}

static int read_secret(char *dst, size_t len, const char *path)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(dst, 1, len - 1, f);
	fclose(f);
	dst[n] = '\0';
	while (n && (dst[n - 1] == '\n' || dst[n - 1] == '\r'))
		dst[--n] = '\0';
	return 0;
}

static int below(uint64_t v, uint64_t lo)
{
	return v < lo;
}

int conf_set(struct agent_conf *c, const char *key, const char *val,
	     char *err, size_t errlen)
{
	uint64_t v;
	int ret;

#define U32(name, lo, hi)						\
	if (!strcmp(key, #name)) {					\
		ret = parse_u64(val, hi, &v);				\
		if (!ret && below(v, lo))					\
			ret = -ERANGE;					\
		if (!ret)						\
			c->name = (uint32_t)v;				\
		goto out;						\
	}
#define STR(name)							\
	if (!strcmp(key, #name)) {					\
		ret = copy_str(c->name, sizeof(c->name), val);		\
		goto out;						\
	}
	U32(ttl_s, 2, 3600)
	U32(renew_ms, 100, 3600000)
	U32(ahead_ms, 100, 3600000)
	U32(timeout_ms, 100, 60000)
	U32(backoff_max_ms, 100, 3600000)
	STR(prefix)
	STR(sysfs_dir)
	STR(state_file)
	STR(cacert)
	STR(cert)
	STR(key)
	STR(user)
	STR(password)
	STR(name)
#undef U32
#undef STR
	if (!strcmp(key, "endpoints")) {
		ret = parse_endpoints(c, val);
		goto out;
	}
	if (!strcmp(key, "region")) {
		ret = parse_list(val, c->regions, &c->n_regions);
		goto out;
	}
	if (!strcmp(key, "app")) {
		ret = parse_list(val, c->apps, &c->n_apps);
		goto out;
	}
	if (!strcmp(key, "machines")) {
		ret = parse_list(val, c->machines, &c->n_machines);
		goto out;
	}
	if (!strcmp(key, "password_file")) {
		ret = read_secret(c->password, sizeof(c->password), val);
		goto out;
	}
	snprintf(err, errlen, "unknown key '%s'", key);
	return -EINVAL;
out:
	if (ret)
		snprintf(err, errlen, "%s: bad value '%s': %s", key, val,
			 strerror(-ret));
	return ret;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int conf_load(struct agent_conf *c, const char *path, char *err, size_t errlen)
{
	char line[4096], sub[512], *k, *eq;
	FILE *f = fopen(path, "re");
	int lineno = 0, ret = 0;

	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		k = trim(line);
		if (!*k || *k == '#')
			continue;
		eq = strchr(k, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%d: not key=value", path,
				 lineno);
			ret = -EINVAL;
			break;
		}
		*eq = '\0';
		ret = conf_set(c, trim(k), trim(eq + 1), sub, sizeof(sub));
		if (ret) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, sub);
			break;
		}
	}
	fclose(f);
	return ret;
}

int conf_check(struct agent_conf *c, char *err, size_t errlen)
{
	size_t r, a, m;

	if (!c->n_endpoints) {
		snprintf(err, errlen, "no endpoints");
		return -EINVAL;
	}
	if (!c->n_machines) {
		snprintf(err, errlen, "no machines (the machine-id pool)");
		return -EINVAL;
	}
	if (c->n_regions * c->n_apps * c->n_machines > AGENT_MAX_POOL) {
		snprintf(err, errlen, "more than %d node ids in region x app x machines",
			 AGENT_MAX_POOL);
		return -E2BIG;
	}
	c->pool_len = 0;
	for (r = 0; r < c->n_regions; r++)
		for (a = 0; a < c->n_apps; a++)
			for (m = 0; m < c->n_machines; m++)
				c->pool[c->pool_len++] = (struct node_id){
					c->regions[r], c->apps[a], c->machines[m] };
	if (c->prefix[0] != '/' || strlen(c->prefix) > 200) {
		snprintf(err, errlen, "prefix must start with '/' (at most 200 bytes)");
		return -EINVAL;
	}
	/* Several renewals per TTL, and the ceiling no further than a TTL. */
	if (!c->renew_ms)
		c->renew_ms = c->ttl_s * 1000 / 4;
	if (!c->ahead_ms)
		c->ahead_ms = c->ttl_s * 1000 / 2;
	if (c->renew_ms * 2ULL > c->ttl_s * 1000ULL) {
		snprintf(err, errlen, "renew_ms must be at most half of ttl_s");
		return -EINVAL;
	}
	if (c->timeout_ms > c->renew_ms)
		c->timeout_ms = c->renew_ms;
	return 0;
}

void conf_free(struct agent_conf *c)
{
	int i;

	for (i = 0; i < c->n_endpoints; i++)
		free(c->endpoints[i]);
	c->n_endpoints = 0;
	memset(c->password, 0, sizeof(c->password));
}
