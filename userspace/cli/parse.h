/* SPDX-License-Identifier: MIT */
/* Argument parsing and output formatting for the flakeid command. */
#ifndef FLAKEID_CLI_PARSE_H
#define FLAKEID_CLI_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "flakeid.h"

/* What `flakeid config KEY=VALUE...` asks for. */
struct settings {
	struct flakeid_config cfg;
	uint32_t until_wait_ms;
	unsigned int what;	/* FLAKEID_SET_* and SET_UNTIL_WAIT */
};

/* until_wait is no member of struct flakeid_config: its own store. */
#define SET_UNTIL_WAIT		(1U << 31)

int parse_u64(const char *s, uint64_t *v);
int parse_u32(const char *s, uint32_t *v);
int parse_until(const char *s, uint64_t *until_ms);
int parse_setting(const char *arg, struct settings *want);
int check_settings(const struct settings *want,
		   const struct flakeid_config *cur, char *why, size_t size);

int format_time(uint64_t unix_ms, char *buf, size_t size);
void format_until(uint64_t until_ms, char *buf, size_t size);
int format_parts(const struct flakeid_parts *p, int json, char *buf,
		 size_t size);
int is_uuid_text(const char *s);
int format_uuid7_parts(const struct flakeid_uuid7 *u,
		       const struct flakeid_uuid7_parts *p, int json, char *buf,
		       size_t size);

#endif /* FLAKEID_CLI_PARSE_H */
