// SPDX-License-Identifier: MIT
/*
 * Compiled, never run: <flakeid.h> alone must build in C99 and C++ with
 * -pedantic, and its structures must have one layout on every target and
 * whatever the size of time_t and off_t.  Each check is an array whose
 * size turns negative when the layout is not the one below.
 */
#include <flakeid.h>

#define CHECK(name, cond) typedef char check_##name[(cond) ? 1 : -1]

CHECK(parts_size, sizeof(struct flakeid_parts) == 56);
CHECK(parts_id, offsetof(struct flakeid_parts, id) == 0);
CHECK(parts_unix_ms, offsetof(struct flakeid_parts, unix_ms) == 8);
CHECK(parts_timestamp, offsetof(struct flakeid_parts, timestamp) == 16);
CHECK(parts_time, offsetof(struct flakeid_parts, time) == 24);
CHECK(parts_time_size, sizeof(struct flakeid_time) == 16);
CHECK(parts_nsec, offsetof(struct flakeid_time, tv_nsec) == 8);
CHECK(parts_region, offsetof(struct flakeid_parts, region_id) == 40);
CHECK(parts_app, offsetof(struct flakeid_parts, app_id) == 44);
CHECK(parts_machine, offsetof(struct flakeid_parts, machine_id) == 48);
CHECK(parts_sequence, offsetof(struct flakeid_parts, sequence) == 52);

/* 56 bytes in 1.0 (flakeid_get_stats@LIBFLAKEID_1.0 fills those), 96 now. */
CHECK(stats_size, sizeof(struct flakeid_stats) == 96);
CHECK(stats_ahead, offsetof(struct flakeid_stats, ahead_ms) == 40);
CHECK(stats_generation, offsetof(struct flakeid_stats, generation) == 48);
CHECK(stats_until, offsetof(struct flakeid_stats, until_ms) == 56);
CHECK(stats_until_wait, offsetof(struct flakeid_stats, until_wait_ms) == 64);
CHECK(stats_until_waits, offsetof(struct flakeid_stats, until_waits) == 72);
CHECK(stats_until_refused, offsetof(struct flakeid_stats, until_refused) == 80);
CHECK(stats_vm_forks, offsetof(struct flakeid_stats, vm_forks) == 88);

CHECK(config_size, sizeof(struct flakeid_config) == FLAKEID_CONFIG_SIZE_VER0);
CHECK(config_floor, offsetof(struct flakeid_config, floor_ms) == 56);
CHECK(config_until, offsetof(struct flakeid_config, until_ms) == 72);
CHECK(config_vm_forks, offsetof(struct flakeid_config, vm_forks) == 80);
CHECK(batch_size, sizeof(struct flakeid_batch) == FLAKEID_BATCH_SIZE_VER0);
CHECK(decode_size, sizeof(struct flakeid_decode) == FLAKEID_DECODE_SIZE_VER0);

CHECK(uuid7_size, sizeof(struct flakeid_uuid7) == FLAKEID_UUID7_SIZE);
CHECK(uuid7_text, FLAKEID_UUID7_TEXT_SIZE == 2 * FLAKEID_UUID7_SIZE + 5);
CHECK(uuid7_parts_size, sizeof(struct flakeid_uuid7_parts) == 40);
CHECK(uuid7_parts_time, offsetof(struct flakeid_uuid7_parts, time) == 8);
CHECK(uuid7_parts_counter, offsetof(struct flakeid_uuid7_parts, counter) == 24);
CHECK(uuid7_parts_random, offsetof(struct flakeid_uuid7_parts, random) == 32);
CHECK(uuid7_parts_version, offsetof(struct flakeid_uuid7_parts, version) == 36);
CHECK(uuid7_parts_variant, offsetof(struct flakeid_uuid7_parts, variant) == 37);
CHECK(uuid7_batch_size,
      sizeof(struct flakeid_uuid7_batch) == FLAKEID_UUID7_BATCH_SIZE_VER0);
