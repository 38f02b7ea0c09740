/* SPDX-License-Identifier: MIT */
/*
 * flakeid-agent: leases this host's flakeid node ID from etcd and keeps the
 * device's ceiling (until_ms) below what etcd records as allowed.
 */
#ifndef FLAKEID_AGENT_H
#define FLAKEID_AGENT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define AGENT_MAX_ENDPOINTS	8
#define AGENT_MAX_POOL		4096
/* KTIME_MAX in ms: the largest until_ms or floor_ms the kernel takes */
#define AGENT_MS_MAX		9223372036854ULL

struct node_id {
	uint32_t region, app, machine;
};

/* conf.c: /etc/flakeid/agent.conf, key=value */
struct agent_conf {
	char *endpoints[AGENT_MAX_ENDPOINTS];
	int n_endpoints;
	char prefix[256];
	/* the pool: every region x app x machine listed */
	uint32_t regions[AGENT_MAX_POOL], apps[AGENT_MAX_POOL];
	uint32_t machines[AGENT_MAX_POOL];
	size_t n_regions, n_apps, n_machines;
	struct node_id pool[AGENT_MAX_POOL];
	size_t pool_len;
	uint32_t ttl_s;			/* lease TTL */
	uint32_t renew_ms;		/* between renewals */
	uint32_t ahead_ms;		/* V: ceiling = now + V at a renewal */
	uint32_t timeout_ms;		/* one HTTP request */
	uint32_t backoff_max_ms;
	char sysfs_dir[PATH_MAX];
	char state_file[PATH_MAX];
	char cacert[PATH_MAX], cert[PATH_MAX], key[PATH_MAX];
	char user[128], password[256];
	char name[256];			/* the owner key's value */
};

int conf_defaults(struct agent_conf *c);
int conf_load(struct agent_conf *c, const char *path, char *err, size_t errlen);
int conf_set(struct agent_conf *c, const char *key, const char *val,
	     char *err, size_t errlen);
int conf_check(struct agent_conf *c, char *err, size_t errlen);
void conf_free(struct agent_conf *c);
int parse_u64(const char *s, uint64_t max, uint64_t *out);

/* device.c: the sysfs files of /dev/flakeid (or a stand-in directory) */
struct device {
	const char *dir;
	int until_fd;		/* held open for poll(2) */
};

int dev_open(struct device *d, const char *dir);
void dev_close(struct device *d);
int dev_write(struct device *d, const char *name, const char *val);
int dev_write_u64(struct device *d, const char *name, uint64_t v);
int dev_read_u64(struct device *d, const char *name, uint64_t *v);
int dev_fence(struct device *d);
int dev_wait(struct device *d, int timeout_ms, const void *sigmask);

/* etcd.c: the v3 JSON gateway over libcurl, with endpoint failover */
struct etcd;

struct etcd_kv {
	int found;
	int64_t create_rev, mod_rev, lease;
	char value[64];
	size_t value_len;
	int value_truncated;
};

struct etcd *etcd_new(const struct agent_conf *c);
void etcd_free(struct etcd *e);
const char *etcd_error(const struct etcd *e);
const char *etcd_endpoint(const struct etcd *e);

int etcd_lease_grant(struct etcd *e, int64_t ttl, int64_t *lease);
/* 1: alive (ttl set), 0: lost, <0: no answer */
int etcd_lease_keepalive(struct etcd *e, int64_t lease, int64_t *ttl);
int etcd_lease_revoke(struct etcd *e, int64_t lease);
/*
 * Claim: owner absent -> put owner with lease; read high-water.
 * 1: the owner key is ours (*hw filled), 0: someone else owns it, <0 error.
 */
int etcd_claim(struct etcd *e, const char *owner, const char *hwkey,
	       const char *value, int64_t lease, struct etcd_kv *hw);
int etcd_get(struct etcd *e, const char *key, struct etcd_kv *kv);
/*
 * owner's lease == lease and hwkey's mod revision == hw_rev -> put hwkey.
 * 1: done, 0: compare failed (*owner filled), <0 error.
 */
int etcd_raise(struct etcd *e, const char *owner, int64_t lease,
	       const char *hwkey, int64_t hw_rev, const char *value,
	       struct etcd_kv *owner_kv);
/* owner's lease == lease -> delete owner.  1 deleted, 0 not ours, <0 error */
int etcd_release(struct etcd *e, const char *owner, int64_t lease);

/* base64, exposed for the tests */
size_t b64_encode(const void *in, size_t len, char *out, size_t outlen);
int b64_decode(const char *in, size_t len, void *out, size_t outlen,
	       size_t *got);

/* state.c: the status file under /run/flakeid */
struct agent_state {
	const char *state;	/* starting, claiming, holding, fenced, ... */
	int held;
	uint32_t region, app, machine;
	int64_t lease;
	uint64_t until_ms;	/* last ceiling written; 0 = fenced */
	uint64_t high_water;
	uint64_t last_renew_ms;
	uint64_t fenced_since_ms;
	uint64_t claims, renewals, renew_failures, lost_leases, vm_forks;
	char endpoint[256];
	char last_error[256];
};

int state_write(const char *path, const struct agent_state *s);
int state_show(const char *path, int json);

uint64_t now_ms(void);
void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
