#!/bin/bash
# SPDX-License-Identifier: MIT
# flakeid-agent's host tests: a real 3-member etcd cluster on 127.0.0.1-3
# (started and stopped here, data under build/agent-etcd), agents writing
# stand-in sysfs directories, and a hostile fake etcd (fake-etcd.py) for
# answers a real one never gives.  Agents run under ASan+UBSan.  TAP
# lines, then "N passed, N failed".  Every wait is bounded.
set -u

AGENT_DIR=$(cd "$(dirname "$0")/.." && pwd)
TOP=$(cd "$AGENT_DIR/.." && pwd)
. "$TOP/tests/tap.sh"
. "$AGENT_DIR/tests/etcd-cluster.sh"

AGENT=$AGENT_DIR/build/flakeid-agent-san
W=$TOP/build/agent-test
ETCD_DATA=$TOP/build/agent-etcd
export ETCDCTL_API=3
EPS=http://127.0.0.1:2379,http://127.0.0.2:2379,http://127.0.0.3:2379
export ASAN_OPTIONS=abort_on_error=0:exitcode=99:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=98

PIDS=()		# every process we started, ended by id at exit
ETCD_PID=(0 0 0)
ETCD_TPID=(0 0 0)

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	sleep 0.5
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
}
trap cleanup EXIT

if [ ! -x "$AGENT" ]; then
	echo "not ok 1 - $AGENT is built"
	echo "0 passed, 1 failed"
	exit 1
fi
for t in etcd etcdctl python3; do
	if ! command -v $t >/dev/null; then
		echo "not ok 1 - $t is installed (scripts/install-deps.sh)"
		echo "0 passed, 1 failed"
		exit 1
	fi
done

rm -rf "$W" "$ETCD_DATA"
mkdir -p "$W" "$ETCD_DATA"

# ---- agents ----------------------------------------------------------------
mk_sysfs() {
	mkdir -p "$1"
	echo none >"$1/until_ms"
	echo 0 >"$1/floor_ms"
	echo 0 >"$1/region_id"
	echo 0 >"$1/app_id"
	echo 0 >"$1/machine_id"
	echo 0 >"$1/vm_forks"
}

declare -A APID
# start_agent NAME [-o k=v]...: sysfs in $W/NAME/sys, state $W/NAME/state
start_agent() {
	local n=$1
	shift
	mk_sysfs "$W/$n/sys"
	"$AGENT" -c /dev/null -o endpoints="$EPS" -o prefix=/flakeid-test \
		-o machines=0-3 -o ttl_s=3 -o timeout_ms=700 \
		-o backoff_max_ms=1000 -o sysfs_dir="$W/$n/sys" \
		-o state_file="$W/$n/state" -o name="agent-$n" "$@" \
		2>>"$W/$n/log" &
	APID[$n]=$!
	PIDS+=($!)
}

field() {	# field NAME KEY: from the agent's status (--json)
	"$AGENT" -o state_file="$W/$1/state" status --json 2>/dev/null |
		python3 -c "import json,sys; print(json.load(sys.stdin).get('$2',''))" 2>/dev/null
}

until_of() {
	tr -d '\n' <"$W/$1/sys/until_ms"
}

hw_of() {	# hw_of MACHINE: the high-water key's value
	ectl get --print-value-only "/flakeid-test/node/0-0-$1/high-water"
}

holding() {
	[ "$(field "$1" state)" = holding ]
}

stop_agent() {	# SIGTERM, bounded wait; 0 when it exited 0
	local rc
	kill -TERM "${APID[$1]}" 2>/dev/null
	for _ in $(seq 1 50); do
		kill -0 "${APID[$1]}" 2>/dev/null || break
		sleep 0.1
	done
	wait "${APID[$1]}"
	rc=$?
	return $rc
}

san_clean() {	# no sanitizer report in the agent's log
	! grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$W/$1/log"
}

# ---- configuration ---------------------------------------------------------
note "configuration"
"$AGENT" -c /dev/null -o endpoints=http://127.0.0.1:2379 -o machines=0-3,8 check-config >/dev/null
tap $? "check-config accepts a good configuration"
for bad in "machines=3-1" "machines=0-3,2" "endpoints=ftp://127.0.0.1" "ttl_s=1" \
	"nosuchkey=1" "region=-1" "renew_ms=99999999"; do
	"$AGENT" -c /dev/null -o endpoints=http://127.0.0.1:2379 -o machines=0-3 \
		-o "$bad" check-config >/dev/null 2>&1
	rc=$?
	[ $rc = 2 ]
	tap $? "check-config refuses $bad (exit $rc)"
done
printf 'endpoints = http://127.0.0.1:2379\n# comment\nmachines=1-2\nregion=3\n' >"$W/good.conf"
out=$("$AGENT" -c "$W/good.conf" check-config 2>&1)
case $out in *"2 node ids"*) ok "config file: key = value, comments" ;;
*) not_ok "config file: key = value, comments ($out)" ;; esac
out=$("$AGENT" -c /dev/null -o endpoints=http://127.0.0.1:2379 -o region=0-1 -o app=2,5 \
	-o machines=0-3 check-config 2>&1)
case $out in *"16 node ids"*) ok "pool: region x app x machines" ;;
*) not_ok "pool: region x app x machines ($out)" ;; esac
"$AGENT" -c /dev/null -o endpoints=http://127.0.0.1:2379 -o region=0-99 -o app=0-99 \
	-o machines=0-99 check-config >/dev/null 2>&1
[ $? = 2 ]
tap $? "check-config refuses a pool of more than 4096 node ids"
printf 'endpoints\n' >"$W/bad.conf"
out=$("$AGENT" -c "$W/bad.conf" check-config 2>&1)
case $out in *"bad.conf:1"*) ok "config file: error names file and line" ;;
*) not_ok "config file: error names file and line ($out)" ;; esac

# ---- TLS options reach libcurl ---------------------------------------------
note "TLS options"
mk_sysfs "$W/tls/sys"
timeout 10 "$AGENT" -c /dev/null -o endpoints=https://127.0.0.1:2479 -o machines=0 \
	-o ttl_s=3 -o timeout_ms=500 -o backoff_max_ms=200 \
	-o cacert="$W/no-such-ca.pem" -o sysfs_dir="$W/tls/sys" \
	-o state_file="$W/tls/state" 2>"$W/tls/log" &
p=$!
PIDS+=($p)
sleep 1.5
kill -TERM $p 2>/dev/null
wait $p
grep -qiE 'certificate|CA|SSL|connect' "$W/tls/log" && [ "$(until_of tls)" = 0 ]
tap $? "https endpoint with a missing CA file: curl's error logged, device fenced"

# ---- hostile answers -----------------------------------------------------
note "hostile etcd answers (fake-etcd.py, ASan+UBSan)"
port=2480
for mode in truncated types huge-id huge-hw negative-hw past-ktime-hw garbage-b64 \
	big-body deep nul bare-success http-500 redirect slow ok-then-lost \
	ok-then-garbage stream-error; do
	port=$((port + 1))
	timeout 30 python3 "$AGENT_DIR/tests/fake-etcd.py" 127.0.0.3 $port "$mode" 20 &
	fpid=$!
	PIDS+=($fpid)
	for _ in $(seq 1 30); do
		(exec 3<>/dev/tcp/127.0.0.3/$port) 2>/dev/null && break
		sleep 0.1
	done
	an=h-$mode
	start_agent "$an" -o endpoints=http://127.0.0.3:$port -o machines=0-1
	samples=""
	for _ in $(seq 1 15); do
		samples="$samples $(until_of "$an")"
		sleep 0.2
	done
	alive=0
	kill -0 "${APID[$an]}" 2>/dev/null && alive=1
	stop_agent "$an"
	rc=$?
	last=$(until_of "$an")
	case $mode in
	ok-then-lost)
		# a ceiling first, then the lost lease fences it
		echo "$samples" | grep -qE '[1-9][0-9]{9}' && [ "$last" = 0 ] &&
			grep -q "lease .* lost" "$W/$an/log"
		r=$? ;;
	ok-then-garbage|stream-error)
		# the ceiling set once is never raised by a garbled answer
		vals=$(echo "$samples" | tr ' ' '\n' | grep -E '^[1-9]' | sort -u | wc -l)
		[ "$vals" -le 1 ] && [ "$last" = 0 ]
		r=$? ;;
	*)
		! echo "$samples" | grep -qE '[1-9]' && [ "$last" = 0 ]
		r=$? ;;
	esac
	[ $r = 0 ] && [ $alive = 1 ] && [ $rc = 0 ] && san_clean "$an"
	tap $? "hostile answer '$mode': no crash (alive $alive, exit $rc), never issues past what etcd granted"
	kill $fpid 2>/dev/null
	wait $fpid 2>/dev/null
done

# ---- TLS with client certificates (a CA made here) ------------------------
note "TLS: a one-member etcd with client-certificate auth on 127.0.0.2:2479"
T=$W/tls-ca
mkdir -p "$T"
(
	cd "$T" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca \
		-keyout ca.key -out ca.pem
	openssl req -newkey rsa:2048 -nodes -subj /CN=etcd -keyout srv.key -out srv.csr
	printf 'subjectAltName=IP:127.0.0.2\nextendedKeyUsage=serverAuth,clientAuth\n' >srv.ext
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
		-days 2 -extfile srv.ext -out srv.pem
	openssl req -newkey rsa:2048 -nodes -subj /CN=flakeid-agent -keyout cli.key -out cli.csr
	printf 'extendedKeyUsage=clientAuth\n' >cli.ext
	openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
		-days 2 -extfile cli.ext -out cli.pem
) >"$W/openssl.log" 2>&1
tap $? "a CA, a server and a client certificate"
timeout 300 etcd --name tls --data-dir "$ETCD_DATA/tls" \
	--listen-client-urls https://127.0.0.2:2479 \
	--advertise-client-urls https://127.0.0.2:2479 \
	--listen-peer-urls http://127.0.0.2:2480 \
	--initial-advertise-peer-urls http://127.0.0.2:2480 \
	--initial-cluster tls=http://127.0.0.2:2480 \
	--cert-file "$T/srv.pem" --key-file "$T/srv.key" \
	--client-cert-auth --trusted-ca-file "$T/ca.pem" >"$W/etcd-tls.log" 2>&1 &
tpid=$!
PIDS+=($tpid)
healthy_tls() {
	timeout 5 etcdctl --endpoints=https://127.0.0.2:2479 --cacert "$T/ca.pem" \
		--cert "$T/cli.pem" --key "$T/cli.key" --dial-timeout=1s endpoint health >/dev/null 2>&1
}
wait_for 20 healthy_tls
tap $? "TLS etcd up"
start_agent t1 -o endpoints=https://127.0.0.2:2479 -o cacert="$T/ca.pem" \
	-o cert="$T/cli.pem" -o key="$T/cli.key"
start_agent t2 -o endpoints=https://127.0.0.2:2479 -o cacert="$T/ca.pem"
wait_for 20 'holding t1'
tap $? "agent with the CA and a client certificate holds its node over TLS"
sleep 2
[ "$(field t2 state)" != holding ] && [ "$(until_of t2)" = 0 ]
tap $? "agent without a client certificate: refused by etcd, fenced"
allok=0
for a in t1 t2; do
	stop_agent $a || allok=1
	san_clean $a || allok=1
done
tap $allok "TLS agents stopped: exit 0, no sanitizer report"
kill $tpid 2>/dev/null
wait $tpid 2>/dev/null

# ---- the real cluster ------------------------------------------------------
note "3-member etcd cluster on 127.0.0.1-3"
for i in 1 2 3; do
	start_member $i new
done
if ! healthy; then
	not_ok "etcd cluster up"
	echo "$passed passed, $failed failed"
	exit 1
fi
ok "etcd cluster up (3 members)"

# One agent: claim, floor, ceiling = recorded high-water.
start_agent a1 -o machines=2
wait_for 15 'holding a1'
tap $? "single agent claims its node"
[ "$(tr -d '\n' <"$W/a1/sys/machine_id")" = 2 ]
tap $? "machine_id written"
# The ceiling is never above what etcd records: sample both, device first.
bad=0
for _ in $(seq 1 20); do
	u=$(until_of a1)
	h=$(hw_of 2)
	if [ -z "$h" ] || [ "$u" = none ] || { [ "$u" != 0 ] && [ "$u" -gt "$h" ]; }; then
		bad=$((bad + 1))
		note "until_ms $u > high-water $h"
	fi
	sleep 0.15
done
[ $bad = 0 ]
tap $? "until_ms never above the high-water in etcd (20 samples)"
u1=$(until_of a1)
sleep 1.5
u2=$(until_of a1)
[ "$u2" -gt "$u1" ]
tap $? "renewals raise the ceiling ($u1 -> $u2)"

# All members stopped: no txn succeeds, so the ceiling stays; after a TTL
# without keepalive the agent fences.
# (A txn answered just before the stop may still reach the device: sample
# from 0.5 s after it.)
for i in 0 1 2; do kill -STOP "${ETCD_PID[$i]}"; done
t0=$(now_ms)
sleep 0.5
u_before=$(until_of a1)
raised=0
for _ in $(seq 1 40); do
	u=$(until_of a1)
	[ "$u" = 0 ] && break
	[ "$u" != "$u_before" ] && raised=1
	sleep 0.2
done
t1=$(now_ms)
r=1
[ "$(until_of a1)" = 0 ] && r=0
for i in 0 1 2; do kill -CONT "${ETCD_PID[$i]}"; done
[ $raised = 0 ]
tap $? "etcd unreachable: ceiling never raised without a txn (stayed $u_before)"
tap $r "etcd unreachable for a TTL: fenced after $((t1 - t0)) ms"
wait_for 20 'holding a1'
tap $? "etcd back: claims again"

# Lease revoked behind its back.
lease=$(field a1 lease)
ectl lease revoke "$(printf %x "$lease")" >/dev/null
# It may claim again within milliseconds, so read the fence from its log.
wait_for 5 'grep -q "fenced: lease lost" "$W/a1/log"'
tap $? "lease revoked with etcdctl: fenced"
wait_for 15 'grep -A1 "fenced: lease lost" "$W/a1/log" | tail -1 | grep -q claimed'
tap $? "the fence comes before the next claim"
wait_for 15 'holding a1'
tap $? "claims again with a new lease"
[ "$(field a1 lease)" != "$lease" ]
tap $? "new lease differs"

# Stop: fence, then revoke (the owner key goes at once, not after the TTL).
stop_agent a1
rc=$?
[ $rc = 0 ] && [ "$(until_of a1)" = 0 ]
tap $? "SIGTERM: exit 0, fenced"
[ -z "$(ectl get --print-value-only /flakeid-test/node/0-0-2/owner)" ]
tap $? "SIGTERM: owner key gone (lease revoked)"
[ "$(field a1 state)" = stopped ]
tap $? "status says stopped"
san_clean a1
tap $? "no sanitizer report"

# Status output.
out=$("$AGENT" -o state_file="$W/a1/state" status)
case $out in *"state: stopped"*"node: none"*) ok "status (human)" ;;
*) not_ok "status (human): $out" ;; esac
"$AGENT" -o state_file="$W/nonexistent" status >/dev/null 2>&1
[ $? = 1 ]
tap $? "status without a state file: exit 1"

# VM fork: vm_forks moves; the agent drops the lease without deleting keys.
start_agent f1 -o machines=0-1
wait_for 15 'holding f1'
m_old=$(field f1 machine)
echo 1 >"$W/f1/sys/vm_forks"
wait_for 5 'grep -q "VM fork" "$W/f1/log"'
tap $? "VM fork seen"
owner_after=$(ectl get --print-value-only "/flakeid-test/node/0-0-$m_old/owner")
wait_for 15 'holding f1 && [ "$(field f1 machine)" != "$m_old" ]'
tap $? "after the fork: a new node (was $m_old, now $(field f1 machine))"
[ "$owner_after" = agent-f1 ]
tap $? "the old owner key is left to its lease (not deleted)"
stop_agent f1
san_clean f1
tap $? "no sanitizer report"

# A node's next holder starts above the last one's high-water.
start_agent k1 -o machines=3
wait_for 15 'holding k1'
kill -9 "${APID[k1]}"
wait "${APID[k1]}" 2>/dev/null
u_k1=$(until_of k1)
start_agent k2 -o machines=3
wait_for 15 'holding k2'
tap $? "killed holder's node taken over after its TTL"
fl=$(tr -d '\n' <"$W/k2/sys/floor_ms")
[ -n "$fl" ] && [ "$fl" -ge "$u_k1" ]
tap $? "new holder's floor ($fl) >= old holder's last ceiling ($u_k1)"
stop_agent k2

# Whole node-id ranges: regions 0-1 with one machine: two hold, one waits.
for i in 1 2 3; do
	start_agent n$i -o region=0-1 -o app=5 -o machines=7
done
wait_for 20 '[ "$(for i in 1 2 3; do field n$i state; done | grep -c holding)" = 2 ]'
r=$?
regs=$(for i in 1 2 3; do [ "$(field n$i state)" = holding ] &&
	echo "$(tr -d '\n' <"$W/n$i/sys/region_id")-$(tr -d '\n' <"$W/n$i/sys/app_id")-$(tr -d '\n' <"$W/n$i/sys/machine_id")"; done | sort | paste -sd' ')
[ $r = 0 ] && [ "$regs" = "0-5-7 1-5-7" ]
tap $? "region range 0-1: two agents hold 0-5-7 and 1-5-7 ($regs), the third waits"
for i in 1 2 3; do
	stop_agent n$i
done

# SIGSTOP past the TTL: the device keeps only the ceiling it had; the next
# holder starts above it; on SIGCONT the stopped agent finds its lease lost.
start_agent s1 -o machines=3
wait_for 15 'holding s1'
kill -STOP "${APID[s1]}"
u_s1=$(until_of s1)
start_agent s2 -o machines=3
wait_for 20 'holding s2'
tap $? "agent SIGSTOPped past its TTL: its node taken over"
fl=$(tr -d '\n' <"$W/s2/sys/floor_ms")
[ "$fl" -ge "$u_s1" ] && [ "$(until_of s1)" = "$u_s1" ]
tap $? "stopped agent's ceiling unchanged ($u_s1), new holder's floor above it ($fl)"
kill -CONT "${APID[s1]}"
wait_for 10 '[ "$(until_of s1)" = 0 ]'
tap $? "SIGCONT: the old holder fences"
wait_for 5 '[ "$(field s1 state)" = pool-exhausted ]'
tap $? "SIGCONT: the old holder waits (pool-exhausted), the new one holds: $(field s2 state)"
stop_agent s1
stop_agent s2
san_clean s1 && san_clean s2
tap $? "no sanitizer report"

# Claim race: 10 agents, 4 ids.
for i in $(seq 0 9); do
	start_agent r$i -o machines=0-3
done
wait_for 30 '[ "$(for i in $(seq 0 9); do field r$i state; done | grep -c holding)" = 4 ]'
tap $? "10 agents, pool of 4: 4 hold"
sleep 2
holders=$(for i in $(seq 0 9); do [ "$(field r$i state)" = holding ] && field r$i machine; done)
[ "$(echo "$holders" | grep -c .)" = 4 ] && [ "$(echo "$holders" | sort -u | wc -l)" = 4 ]
tap $? "the 4 holders have distinct ids: $(echo $holders)"
fenced=0
for i in $(seq 0 9); do
	if [ "$(field r$i state)" != holding ] && [ "$(until_of r$i)" = 0 ]; then
		fenced=$((fenced + 1))
	fi
done
[ $fenced = 6 ]
tap $? "the other 6 are fenced ($fenced)"
grep -l "pool exhausted" "$W"/r*/log >/dev/null && for i in $(seq 0 9); do field r$i state; done | grep -q pool-exhausted
tap $? "pool exhaustion in status and log"

# Leader killed: a holder keeps renewing through another member.  Its TTL
# (10 s) covers an election (1-2 election timeouts of 1 s, more on a
# loaded machine) and the requests that time out during it; with the 3 s
# TTL of the agents above it may fence, which is safe but not this test.
start_agent lk -o prefix=/flakeid-test/leader -o ttl_s=10
wait_for 30 'holding lk'
tap $? "leader test: an agent with a 10 s TTL holds"
leader=$(ectl endpoint status -w json | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    if e["Status"]["header"]["member_id"] == e["Status"]["leader"]:
        print(e["Endpoint"][len("http://127.0.0."):][0])')
if [ -z "$leader" ] || ! holding lk; then
	not_ok "leader found ($leader) and the agent holding"
else
	rn=$(field lk renewals)
	kill -9 "${ETCD_PID[$((leader - 1))]}"
	wait "${ETCD_TPID[$((leader - 1))]}" 2>/dev/null
	zero=0
	for _ in $(seq 1 50); do
		[ "$(until_of lk)" = 0 ] && zero=$((zero + 1))
		sleep 0.2
	done
	rn2=$(field lk renewals)
	[ $zero = 0 ] && [ "$rn2" -gt "$rn" ] && holding lk
	tap $? "leader m$leader killed: the agent kept renewing ($rn -> $rn2), never fenced"
	start_member "$leader" existing
	healthy
	tap $? "member m$leader back"
fi
stop_agent lk
tap $? "leader test: the agent stops"

# Authentication and the RBAC role of flakeid-agent(8).
note "etcd authentication, a role limited to the prefix"
ectl user add root:rootpw >/dev/null &&
	ectl role add flakeid-agent >/dev/null &&
	ectl role grant-permission flakeid-agent --prefix=true readwrite /flakeid-test/ >/dev/null &&
	ectl user add agent:agentpw >/dev/null &&
	ectl user grant-role agent flakeid-agent >/dev/null &&
	ectl user add other:otherpw >/dev/null &&
	ectl auth enable >/dev/null
tap $? "auth enabled: role flakeid-agent readwrite on /flakeid-test/"
start_agent u1 -o region=1 -o user=agent -o password=agentpw -o machines=0
printf 'wrong\n' >"$W/pw"
start_agent u2 -o region=1 -o user=agent -o password_file="$W/pw" -o machines=1
start_agent u3 -o region=1 -o user=other -o password=otherpw -o machines=2
wait_for 15 'holding u1'
tap $? "agent with the role's user and password holds its node"
sleep 3
[ "$(field u2 state)" != holding ] && [ "$(until_of u2)" = 0 ] &&
	grep -q "authentication refused" "$W/u2/log"
tap $? "wrong password: refused, fenced"
[ "$(field u3 state)" != holding ] && [ "$(until_of u3)" = 0 ]
tap $? "user without the role: cannot claim, fenced"
! ectl --user agent:agentpw put /elsewhere x >/dev/null 2>&1
tap $? "the role cannot write outside its prefix"
allok=0
for a in u1 u2 u3; do
	stop_agent $a || allok=1
	san_clean $a || allok=1
done
tap $allok "auth agents stopped: exit 0, no sanitizer report"
[ -z "$(ectl --user root:rootpw get --print-value-only /flakeid-test/node/1-0-0/owner)" ]
tap $? "stopped agent revoked its lease under auth"
ectl --user root:rootpw auth disable >/dev/null
tap $? "auth disabled"

# Stop all race agents: every one exits 0 with no sanitizer report.
allok=0
for i in $(seq 0 9); do
	stop_agent r$i || allok=1
	san_clean r$i || allok=1
	[ "$(until_of r$i)" = 0 ] || allok=1
done
tap $allok "10 agents stopped: exit 0, fenced, no sanitizer report"
[ -z "$(ectl get --prefix --keys-only /flakeid-test/node/ | grep owner)" ]
tap $? "no owner key left"

echo "1..$n"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
