// SPDX-License-Identifier: MIT
/*
 * flakeid-agent(8): the lease loop (claim, renew, fence, VM fork, stop) and
 * the command line.  The safety argument is in flakeid-agent(8); the order
 * of the steps below is what it relies on.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "agent.h"

#define RAISE_TRIES	4
#define BACKOFF_MIN_MS	250

struct agent {
	struct agent_conf c;
	struct device dev;
	struct etcd *e;
	struct agent_state st;
	int64_t lease;
	uint64_t last_alive_ms;		/* last keepalive etcd confirmed */
	int held;
	struct node_id node;		/* the one held */
	char owner[300], hwkey[300];
	uint64_t vm_forks;
	uint64_t backoff_ms;
	sigset_t waitmask;		/* signals open while waiting */
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/*
 * Timers (renewal, a TTL without keepalive) run on CLOCK_BOOTTIME: a wall
 * clock step must not stop renewals, and a suspend counts like etcd's TTL.
 * Only the high-water (now + ahead_ms) is wall-clock time.
 */
static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t rand64(void)
{
	uint64_t v;

	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = now_ms() ^ ((uint64_t)getpid() << 32);
	return v;
}

static void publish(struct agent *a, const char *state)
{
	a->st.state = state;
	a->st.held = a->held;
	a->st.region = a->node.region;
	a->st.app = a->node.app;
	a->st.machine = a->node.machine;
	a->st.lease = a->lease;
	snprintf(a->st.endpoint, sizeof(a->st.endpoint), "%s",
		 etcd_endpoint(a->e));
	if (state_write(a->c.state_file, &a->st))
		logmsg("cannot write %s", a->c.state_file);
}

static void set_error(struct agent *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_error(struct agent *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->st.last_error, sizeof(a->st.last_error), fmt, ap);
	va_end(ap);
	logmsg("%s", a->st.last_error);
}

/* Stop issuing.  Retried by every later step if the write fails. */
static void fence(struct agent *a, const char *why)
{
	int ret = dev_fence(&a->dev);

	if (ret)
		logmsg("FENCE FAILED (%s): until_ms: %s", why, strerror(-ret));
	if (a->st.until_ms != 0 || !a->st.fenced_since_ms) {
		logmsg("fenced: %s", why);
		a->st.fenced_since_ms = now_ms();
	}
	a->st.until_ms = 0;
}

/* Forget the lease; with @revoke, ask etcd to end it (and its keys) too. */
static void drop_lease(struct agent *a, int revoke)
{
	if (revoke && a->lease && etcd_lease_revoke(a->e, a->lease))
		logmsg("revoke lease %" PRId64 ": %s", a->lease,
		       etcd_error(a->e));
	a->lease = 0;
	a->held = 0;
}

/* Bounded sleep, woken by a signal or by the device; 1 when the device. */
static int wait_ms(struct agent *a, uint64_t ms)
{
	if (stop_signal)
		return 0;
	return dev_wait(&a->dev, (int)(ms > 60000 ? 60000 : ms),
			&a->waitmask) == 1;
}

static void backoff(struct agent *a)
{
	uint64_t ms = a->backoff_ms;

	ms = ms / 2 + rand64() % (ms / 2 + 1);	/* jitter: half to whole */
	wait_ms(a, ms);
	a->backoff_ms = a->backoff_ms * 2 > a->c.backoff_max_ms ?
			a->c.backoff_max_ms : a->backoff_ms * 2;
}

/* A high-water value: decimal Unix ms, at most AGENT_MS_MAX. */
static int parse_hw(const struct etcd_kv *kv, uint64_t *v)
{
	if (!kv->found) {
		*v = 0;
		return 0;
	}
	if (kv->value_truncated)
		return -ERANGE;
	return parse_u64(kv->value, AGENT_MS_MAX, v);
}

/*
 * high-water := max(old, now + V), in one txn that also checks the owner
 * key still carries our lease and high-water did not move since we read it.
 * 1: raised, *hw the value now recorded; 0: the owner key is not ours;
 * <0: no answer or a bad record.
 */
static int raise_hw(struct agent *a, uint64_t *hw)
{
	struct etcd_kv kv, own;
	uint64_t old, want;
	char val[32];
	int i, ret;

	for (i = 0; i < RAISE_TRIES; i++) {
		ret = etcd_get(a->e, a->hwkey, &kv);
		if (ret)
			return ret;
		ret = parse_hw(&kv, &old);
		if (ret) {
			set_error(a, "%s: high-water is not a Unix ms", a->hwkey);
			return -EPROTO;
		}
		want = now_ms() + a->c.ahead_ms;
		if (want < old)
			want = old;
		if (want > AGENT_MS_MAX)
			want = AGENT_MS_MAX;
		snprintf(val, sizeof(val), "%" PRIu64, want);
		ret = etcd_raise(a->e, a->owner, a->lease, a->hwkey,
				 kv.found ? kv.mod_rev : 0, val, &own);
		if (ret == 1) {
			*hw = want;
			return 1;
		}
		if (ret < 0)
			return ret;
		if (!own.found || own.lease != a->lease)
			return 0;
		/* high-water moved under us (an earlier answer we lost) */
	}
	return -EAGAIN;
}

/* After a raise: the ceiling, and then make sure no fork came in between. */
static int set_ceiling(struct agent *a, uint64_t hw)
{
	uint64_t forks;
	int ret;

	ret = dev_write_u64(&a->dev, "until_ms", hw);
	if (ret) {
		set_error(a, "until_ms: %s", strerror(-ret));
		fence(a, "ceiling not written");
		return ret;
	}
	a->st.until_ms = hw;
	a->st.high_water = hw;
	a->st.fenced_since_ms = 0;
	a->st.last_renew_ms = now_ms();
	if (!dev_read_u64(&a->dev, "vm_forks", &forks) && forks != a->vm_forks) {
		fence(a, "VM fork while raising the ceiling");
		return -ESTALE;
	}
	return 0;
}

#define NODE_FMT	"%" PRIu32 "-%" PRIu32 "-%" PRIu32
#define NODE_ARGS(n)	(n)->region, (n)->app, (n)->machine

static void node_keys(struct agent *a, const struct node_id *n)
{
	snprintf(a->owner, sizeof(a->owner), "%s/node/" NODE_FMT "/owner",
		 a->c.prefix, NODE_ARGS(n));
	snprintf(a->hwkey, sizeof(a->hwkey), "%s/node/" NODE_FMT "/high-water",
		 a->c.prefix, NODE_ARGS(n));
}

static void give_back(struct agent *a, const struct node_id *n)
{
	node_keys(a, n);
	if (etcd_release(a->e, a->owner, a->lease) < 0)
		logmsg("release %s: %s (its lease will expire)", a->owner,
		       etcd_error(a->e));
}

/*
 * Program the device for node @n, which we just claimed, whose high-water
 * was @hw: fenced already; floor above hw, then the ids, then (after a
 * raise) the ceiling.
 */
static int take_node(struct agent *a, const struct node_id *n, uint64_t hw)
{
	uint64_t until;
	int ret;

	ret = dev_fence(&a->dev);
	if (!ret && hw)
		ret = dev_write_u64(&a->dev, "floor_ms", hw);
	if (!ret)
		ret = dev_write_u64(&a->dev, "region_id", n->region);
	if (!ret)
		ret = dev_write_u64(&a->dev, "app_id", n->app);
	if (!ret)
		ret = dev_write_u64(&a->dev, "machine_id", n->machine);
	if (ret) {
		set_error(a, "node " NODE_FMT ": device refused it: %s",
			  NODE_ARGS(n), strerror(-ret));
		return ret;
	}
	a->held = 1;
	a->node = *n;
	a->st.claims++;
	ret = raise_hw(a, &until);
	if (ret == 1)
		ret = set_ceiling(a, until);
	else if (ret == 0)
		ret = -ESTALE;
	logmsg("claimed node " NODE_FMT " (lease %" PRId64 ", floor %" PRIu64
	       ", ceiling %s)", NODE_ARGS(n), a->lease, hw,
	       ret ? "not yet" : "set");
	return 0;
}

/* 1: holding a node, 0: pool exhausted, <0: etcd trouble (-ENOENT: no lease). */
static int claim(struct agent *a)
{
	static struct node_id order[AGENT_MAX_POOL];
	struct node_id t;
	struct etcd_kv hw;
	uint64_t hwv;
	size_t i, j, n = a->c.pool_len;
	int ret;

	memcpy(order, a->c.pool, n * sizeof(order[0]));
	for (i = n; i > 1; i--) {
		j = rand64() % i;
		t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
	for (i = 0; i < n && !stop_signal; i++) {
		node_keys(a, &order[i]);
		ret = etcd_claim(a->e, a->owner, a->hwkey, a->c.name, a->lease,
				 &hw);
		if (ret < 0) {
			/* etcd unreachable or odd: back off, not one timeout per id */
			set_error(a, "claim: %s", etcd_error(a->e));
			return ret;
		}
		if (ret == 0)
			continue;
		if (parse_hw(&hw, &hwv)) {
			set_error(a, "%s: high-water is not a Unix ms: skipped",
				  a->hwkey);
			give_back(a, &order[i]);
			continue;
		}
		if (take_node(a, &order[i], hwv)) {
			give_back(a, &order[i]);
			continue;
		}
		return 1;
	}
	return 0;
}

/* One renewal: keepalive, raise high-water, then the ceiling. */
static void renew(struct agent *a)
{
	int64_t ttl;
	uint64_t hw;
	int ret;

	ret = etcd_lease_keepalive(a->e, a->lease, &ttl);
	if (ret == 0) {
		a->st.lost_leases++;
		set_error(a, "lease %" PRId64 " lost (keepalive without TTL)",
			  a->lease);
		fence(a, "lease lost");
		drop_lease(a, 0);
		return;
	}
	if (ret > 0) {
		a->last_alive_ms = mono_ms();
		ret = raise_hw(a, &hw);
		if (ret == 0) {
			a->st.lost_leases++;
			set_error(a, "%s no longer carries lease %" PRId64,
				  a->owner, a->lease);
			fence(a, "owner key lost");
			drop_lease(a, 1);
			return;
		}
		if (ret == 1 && !set_ceiling(a, hw)) {
			a->st.renewals++;
			publish(a, "holding");
			return;
		}
	}
	a->st.renew_failures++;
	if (ret < 0)
		set_error(a, "renew: %s", etcd_error(a->e));
	/*
	 * etcd has surely ended the lease a TTL after its last confirmation:
	 * fence now rather than at the ceiling, and start over.
	 */
	if (mono_ms() - a->last_alive_ms > a->c.ttl_s * 1000ULL) {
		fence(a, "no keepalive for a whole TTL");
		drop_lease(a, 0);
		publish(a, "fenced");
		return;
	}
	publish(a, "renewing");
}

static void check_fork(struct agent *a)
{
	uint64_t forks;

	if (dev_read_u64(&a->dev, "vm_forks", &forks) || forks == a->vm_forks)
		return;
	logmsg("VM fork (vm_forks %" PRIu64 " -> %" PRIu64 "): dropping lease %"
	       PRId64 " without touching its keys", a->vm_forks, forks,
	       a->lease);
	a->vm_forks = forks;
	a->st.vm_forks++;
	fence(a, "VM fork");
	drop_lease(a, 0);
	publish(a, "fenced");
}

static int run(struct agent *a)
{
	char dir[PATH_MAX], *slash;
	uint64_t next = 0, now;
	int ret;

	ret = dev_open(&a->dev, a->c.sysfs_dir);
	if (ret) {
		logmsg("%s/until_ms: %s (module not loaded, or too old)",
		       a->c.sysfs_dir, strerror(-ret));
		return 1;
	}
	fence(a, "agent starting");
	/* the state file's directory, when no service manager made it */
	snprintf(dir, sizeof(dir), "%s", a->c.state_file);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			logmsg("%s: %s", dir, strerror(errno));
	}
	if (dev_read_u64(&a->dev, "vm_forks", &a->vm_forks))
		a->vm_forks = 0;
	a->backoff_ms = BACKOFF_MIN_MS;
	publish(a, "starting");

	while (!stop_signal) {
		check_fork(a);
		if (!a->lease) {
			a->held = 0;
			if (etcd_lease_grant(a->e, a->c.ttl_s, &a->lease)) {
				a->lease = 0;
				set_error(a, "lease grant: %s", etcd_error(a->e));
				publish(a, "fenced");
				backoff(a);
				continue;
			}
			a->last_alive_ms = mono_ms();
		}
		if (!a->held) {
			publish(a, "claiming");
			ret = claim(a);
			if (ret == 1) {
				a->backoff_ms = BACKOFF_MIN_MS;
				a->st.last_error[0] = '\0';
				next = mono_ms() + a->c.renew_ms;
				publish(a, a->st.until_ms ? "holding" : "renewing");
				continue;
			}
			if (ret == 0)
				set_error(a, "pool exhausted: all %zu node ids "
					  "are owned; fenced, retrying",
					  a->c.pool_len);
			/* Revoke: a new lease comes with the next try. */
			drop_lease(a, ret != -ENOENT);
			publish(a, ret == 0 ? "pool-exhausted" : "fenced");
			backoff(a);
			continue;
		}
		now = mono_ms();
		if (now < next) {
			wait_ms(a, next - now);
			continue;
		}
		next = now + a->c.renew_ms;
		renew(a);
	}
	fence(a, "agent stopping");
	drop_lease(a, 1);
	publish(a, "stopped");
	logmsg("stopped (signal %d)", (int)stop_signal);
	dev_close(&a->dev);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: flakeid-agent [-c FILE] [-o KEY=VALUE]... [run]\n"
		"       flakeid-agent [-c FILE] status [--json]\n"
		"       flakeid-agent [-c FILE] [-o KEY=VALUE]... check-config\n"
		"Leases this host's flakeid node id from etcd; see flakeid-agent(8).\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "option", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct agent a;
	const char *conf = "/etc/flakeid/agent.conf", *cmd = "run";
	char *over[64], err[600], *eq;
	int nover = 0, json = 0, ch, i, ret;
	struct sigaction sa;
	sigset_t block;

	while ((ch = getopt_long(argc, argv, "c:o:jh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'o':
			if (nover == 64 || !strchr(optarg, '=')) {
				usage(stderr);
				return 2;
			}
			over[nover++] = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		cmd = argv[optind++];
	if (optind < argc && !strcmp(argv[optind], "--json"))
		json = 1, optind++;
	if (optind < argc || (strcmp(cmd, "run") && strcmp(cmd, "status") &&
			      strcmp(cmd, "check-config"))) {
		usage(stderr);
		return 2;
	}

	conf_defaults(&a.c);
	if (access(conf, F_OK) == 0 || strcmp(conf, "/etc/flakeid/agent.conf")) {
		if (conf_load(&a.c, conf, err, sizeof(err))) {
			logmsg("%s", err);
			return 2;
		}
	}
	for (i = 0; i < nover; i++) {
		eq = strchr(over[i], '=');
		*eq = '\0';
		ret = conf_set(&a.c, over[i], eq + 1, err, sizeof(err));
		*eq = '=';
		if (ret) {
			logmsg("-o %s", err);
			return 2;
		}
	}
	if (!strcmp(cmd, "status"))
		return state_show(a.c.state_file, json);
	if (conf_check(&a.c, err, sizeof(err))) {
		logmsg("%s: %s", conf, err);
		return 2;
	}
	if (!strcmp(cmd, "check-config")) {
		printf("ok: %d endpoints, %zu node ids, ttl %" PRIu32
		       " s, renew every %" PRIu32 " ms, ceiling now+%" PRIu32 " ms\n",
		       a.c.n_endpoints, a.c.pool_len, a.c.ttl_s, a.c.renew_ms,
		       a.c.ahead_ms);
		return 0;
	}

	/* Signals arrive only inside ppoll(), so every step runs whole. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &a.waitmask);
	sigdelset(&a.waitmask, SIGTERM);
	sigdelset(&a.waitmask, SIGINT);
	sigdelset(&a.waitmask, SIGHUP);

	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		logmsg("libcurl init failed");
		return 1;
	}
	a.e = etcd_new(&a.c);
	if (!a.e) {
		logmsg("out of memory");
		return 1;
	}
	logmsg("starting: %d endpoints, pool of %zu, ttl %" PRIu32 " s, "
	       "renew every %" PRIu32 " ms", a.c.n_endpoints, a.c.pool_len,
	       a.c.ttl_s, a.c.renew_ms);
	ret = run(&a);
	etcd_free(a.e);
	curl_global_cleanup();
	conf_free(&a.c);
	return ret;
}
