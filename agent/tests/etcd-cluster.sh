# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Helpers of the agent's host tests (run.sh) and the fleet (fleet/run.sh),
# sourced: a 3-member etcd on 127.0.0.1-3 (ETCD_DATA, W, EPS, PIDS and
# ETCD_PID are the caller's), bounded waits.

# ---- etcd ----------------------------------------------------------------
CLUSTER=m1=http://127.0.0.1:2380,m2=http://127.0.0.2:2380,m3=http://127.0.0.3:2380

start_member() {	# start_member INDEX(1-3) new|existing
	local i=$1 ip=127.0.0.$1
	timeout 900 etcd --name "m$i" --data-dir "$ETCD_DATA/m$i" \
		--listen-client-urls "http://$ip:2379" \
		--advertise-client-urls "http://$ip:2379" \
		--listen-peer-urls "http://$ip:2380" \
		--initial-advertise-peer-urls "http://$ip:2380" \
		--initial-cluster "$CLUSTER" --initial-cluster-state "$2" \
		--initial-cluster-token flakeid-agent-test \
		--heartbeat-interval 100 --election-timeout 1000 \
		>>"$W/etcd-m$i.log" 2>&1 &
	local t=$! e=""
	PIDS+=($t)
	ETCD_TPID[$((i - 1))]=$t
	# signals in the tests go to etcd itself, not to timeout(1)
	for _ in $(seq 1 50); do
		e=$(pgrep -P $t etcd) && break
		sleep 0.1
	done
	ETCD_PID[$((i - 1))]=${e:-$t}
	PIDS+=(${e:-$t})
}

ectl() {
	timeout 10 etcdctl --endpoints="$EPS" --dial-timeout=2s --command-timeout=5s "$@"
}

healthy() {	# healthy [ENDPOINTS]: bounded wait for every endpoint to answer
	local i
	for i in $(seq 1 60); do
		if timeout 10 etcdctl --endpoints="${1:-$EPS}" --dial-timeout=1s \
			--command-timeout=2s endpoint health >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.5
	done
	return 1
}

# wait_for SECONDS CODE: evaluate CODE every 0.2 s until it succeeds
wait_for() {
	local end=$(($(date +%s%N) / 1000000 + $1 * 1000))
	while [ "$(($(date +%s%N) / 1000000))" -lt "$end" ]; do
		if eval "$2"; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

