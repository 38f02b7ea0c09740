// SPDX-License-Identifier: MIT
/*
 * The status file: the daemon replaces it (write, rename) at every change;
 * `flakeid-agent status` prints it as it is (--json) or as lines of text.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void logmsg(const char *fmt, ...)
{
	va_list ap;

	fputs("flakeid-agent: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void add_u64(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

int state_write(const char *path, const struct agent_state *s)
{
	json_object *o = json_object_new_object();
	char tmp[PATH_MAX + 8];
	const char *text;
	int fd, ret = 0;
	size_t len;

	json_object_object_add(o, "state", json_object_new_string(s->state));
	json_object_object_add(o, "pid", json_object_new_int64(getpid()));
	json_object_object_add(o, "held", json_object_new_boolean(s->held));
	if (s->held) {
		add_u64(o, "region", s->region);
		add_u64(o, "app", s->app);
		add_u64(o, "machine", s->machine);
	}
	json_object_object_add(o, "lease", json_object_new_int64(s->lease));
	add_u64(o, "until_ms", s->until_ms);
	add_u64(o, "high_water_ms", s->high_water);
	add_u64(o, "last_renew_ms", s->last_renew_ms);
	add_u64(o, "fenced_since_ms", s->fenced_since_ms);
	add_u64(o, "claims", s->claims);
	add_u64(o, "renewals", s->renewals);
	add_u64(o, "renew_failures", s->renew_failures);
	add_u64(o, "lost_leases", s->lost_leases);
	add_u64(o, "vm_forks", s->vm_forks);
	json_object_object_add(o, "endpoint", json_object_new_string(s->endpoint));
	json_object_object_add(o, "last_error",
			       json_object_new_string(s->last_error));
	add_u64(o, "updated_ms", now_ms());
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	len = strlen(text);

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
	} else {
		if (write(fd, text, len) != (ssize_t)len ||
		    write(fd, "\n", 1) != 1)
			ret = -EIO;
		if (close(fd) && !ret)
			ret = -errno;
		if (!ret && rename(tmp, path))
			ret = -errno;
	}
	json_object_put(o);
	return ret;
}

static const char *str_of(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v))
		return "";
	return json_object_get_string(v);
}

int state_show(const char *path, int json)
{
	json_object *o = json_object_from_file(path);
	static const char *const keys[] = {
		"lease", "until_ms", "high_water_ms", "last_renew_ms",
		"fenced_since_ms", "claims", "renewals", "renew_failures",
		"lost_leases", "vm_forks", "endpoint", "last_error", "pid",
		"updated_ms",
	};
	json_object *held;
	size_t i;

	if (!o || !json_object_is_type(o, json_type_object)) {
		fprintf(stderr, "flakeid-agent: no status in %s (agent not running?)\n",
			path);
		json_object_put(o);
		return 1;
	}
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(o,
				JSON_C_TO_STRING_PLAIN));
	} else {
		printf("state: %s\n", str_of(o, "state"));
		if (json_object_object_get_ex(o, "held", &held) &&
		    json_object_get_boolean(held))
			printf("node: region %s app %s machine %s\n",
			       str_of(o, "region"), str_of(o, "app"),
			       str_of(o, "machine"));
		else
			printf("node: none (fenced)\n");
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			printf("%s: %s\n", keys[i], str_of(o, keys[i]));
	}
	json_object_put(o);
	return 0;
}
