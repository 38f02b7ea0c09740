#!/bin/bash
# SPDX-License-Identifier: MIT
# `make fleet`: three QEMU guests, each with the module and flakeid-agent,
# lease node ids from a 3-member etcd on the host (127.0.0.1-3, reached
# through QEMU's guestfwd; the guests reach nothing else).  The pool has
# two machine ids, so one guest waits fenced.  The faults, one after the
# other, each on guests the earlier ones left holding or waiting:
#   - one holder's link cut (QEMU monitor `set_link n0 off`) for
#     FLEET_CUT_SECS, longer than the TTL: it fences, its id moves to the
#     waiting guest;
#   - the other holder paused (`stop`) past the TTL, then `cont`: its id
#     has moved, it fences on resuming;
#   - the etcd leader killed: the holders renew through the other members;
#   - one holder's clock set back 5 minutes (its ceiling stays), the
#     other's forward (its ceiling follows);
#   - an agent SIGSTOPped past the TTL (its id moves), then SIGCONTed (it
#     fences);
#   - an agent SIGKILLed: the device keeps its last ceiling and issues
#     nothing once past it; the id moves only after the TTL; a new agent
#     claims again;
#   - a holder restored: its state saved, its QEMU ended, the state started
#     in a new QEMU process (-device vmgenid gives it a new generation ID):
#     the copy fences, leaves its old keys to another holder, and claims
#     the id a clean stop (SIGTERM, revoke: faster than the TTL) frees;
#   - a holder cloned (state saved, the original goes on, a second QEMU
#     from the state): the clone fences and issues nothing, the original
#     keeps holding.
# At the end every ID every guest got is collected: 0 duplicates, and for
# each machine id one guest's IDs at a time (sorted by timestamp, no more
# runs of one guest than claims).  Each fault's fence and hand-over times
# are in the TAP lines.  TAP lines, then "N passed, N failed".  Every wait
# is bounded.
#
# FLEET_SIZE=check (`make check`, about 2 minutes on 2 cores): the same faults, the
# link cut 10 s, and the guests end as soon as the last fault has been
# checked.  Otherwise (`make fleet`) the guests run FLEET_SECS each, the
# faults done, so more IDs are collected under steady renewals.
#
# Environment: FLEET_SECS (each guest's run after boot, default 360; the
# bound of a check-sized run), FLEET_CUT_SECS (default 15, 10 check-sized),
# FLEET_TTL (default 4), FLEET_SIZE.
set -u

AGENT_DIR=$(cd "$(dirname "$0")/../.." && pwd)
TOP=$(cd "$AGENT_DIR/.." && pwd)
. "$TOP/tests/tap.sh"
. "$AGENT_DIR/tests/etcd-cluster.sh"

W=$TOP/build/fleet
ETCD_DATA=$W/etcd
EPS=http://127.0.0.1:2379,http://127.0.0.2:2379,http://127.0.0.3:2379
export ETCDCTL_API=3
PIDS=()
ETCD_PID=(0 0 0)
ETCD_TPID=(0 0 0)
GPID=(0 0 0 0)
SIZE=${FLEET_SIZE:-full}
SECS=${FLEET_SECS:-360}
if [ "$SIZE" = check ]; then
	CUT=${FLEET_CUT_SECS:-10}
else
	CUT=${FLEET_CUT_SECS:-15}
fi
TTL=${FLEET_TTL:-4}

cleanup() {
	local p
	for p in "${GPID[@]}" "${CPID:-0}" "${PIDS[@]}"; do
		[ "$p" != 0 ] && kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
}
trap cleanup EXIT

finish() {
	echo "1..$n"
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit
}

rm -rf "$W"
mkdir -p "$W/fleet/lib" "$ETCD_DATA"

# The agent and its shared libraries (libcurl's are many), run in the
# guest through the dynamic loader copied beside them.
if [ ! -x "$AGENT_DIR/build/flakeid-agent" ] || [ ! -f "$TOP/flakeid.ko" ]; then
	not_ok "agent and module built (make agent module)"
	finish
fi
cp "$AGENT_DIR/build/flakeid-agent" "$W/fleet/"
ldd "$AGENT_DIR/build/flakeid-agent" | grep -oE '/[^ ]+' | while read -r l; do
	cp -L "$l" "$W/fleet/lib/"
done
cat >"$W/fleet/agent.conf" <<EOF
endpoints = http://10.0.2.100:2379,http://10.0.2.101:2379,http://10.0.2.102:2379
prefix = /flakeid-fleet
machines = 0-1
ttl_s = $TTL
timeout_ms = 800
backoff_max_ms = 2000
EOF

note "3-member etcd on 127.0.0.1-3"
for i in 1 2 3; do
	start_member $i new
done
if ! healthy; then
	not_ok "etcd cluster up"
	finish
fi
ok "etcd cluster up"

note "three guests, a pool of two machine ids, ttl ${TTL}s"
# guest G [run-guest.sh options]: one QEMU process of guest G; a clone of
# it needs the same hardware (vmgenid, the NIC) and initramfs.
guest() {
	local g=$1
	shift
	"$TOP/tests/qemu/run-guest.sh" --main "$AGENT_DIR/tests/fleet/guest.sh" \
		--smp 1 --mem 512M --qemu-arg -device --qemu-arg vmgenid \
		--timeout $((SECS + 200)) --quiet --module "$TOP/flakeid.ko" \
		--append "flakeid_fleet=$g flakeid_fleet_secs=$SECS" \
		--extra-file "$W/fleet:/fleet" \
		--guestfwd 10.0.2.100:2379=127.0.0.1:2379 \
		--guestfwd 10.0.2.101:2379=127.0.0.2:2379 \
		--guestfwd 10.0.2.102:2379=127.0.0.3:2379 "$@"
}
for g in 1 2 3; do
	guest $g --out "$W/g$g.out" --log "$W/g$g.console" --monitor "$W/g$g.mon" \
		--save-initrd "$W/g$g.initrd" 2>"$W/g$g.stderr" &
	GPID[$g]=$!
done

last() {	# last G KEY: the newest status value KEY of guest G
	grep "^status $1 " "$W/g$1.out" 2>/dev/null | tail -n 1 |
		sed -n "s/.* $2=\([^ ]*\).*/\1/p"
}
monitor() {	# monitor G COMMAND
	echo "$2" | timeout 5 socat - "UNIX-CONNECT:$W/g$1.mon" >/dev/null
}

if ! wait_for 240 '[ "$(for g in 1 2 3; do last $g state; done | grep -c holding)" = 2 ] &&
	[ "$(for g in 1 2 3; do last $g state; done | grep -c pool-exhausted)" = 1 ]'; then
	not_ok "two guests hold a node, the third waits"
	finish
fi
ok "two guests hold a node, the third waits"
H='' WT=''
for g in 1 2 3; do
	if [ "$(last $g state)" = holding ]; then
		[ -z "$H" ] && H=$g
	else
		WT=$g
	fi
done
M=$(last "$H" machine)
note "guest $H holds machine $M; guest $WT waits ($(last "$WT" state))"
m1=$(last 1 machine) m2=$(last 2 machine) m3=$(last 3 machine)
note "machines: g1 $m1, g2 $m2, g3 $m3"

# Cut the holder's link past the TTL.
t0=$(now_ms)
monitor "$H" "set_link n0 off"
tap $? "guest $H: link cut (set_link n0 off)"
wait_for $((TTL * 4 + 10)) '[ "$(last $H until)" = 0 ]'
r=$?
t1=$(now_ms)
tap $r "guest $H fenced $((t1 - t0)) ms after its link was cut"
wait_for $((TTL * 4 + 20)) '[ "$(last $WT state)" = holding ] && [ "$(last $WT machine)" = "$M" ]'
r=$?
t2=$(now_ms)
tap $r "machine $M moved to guest $WT, $((t2 - t0)) ms after the cut"
left=$((CUT * 1000 - ($(now_ms) - t0)))
[ $left -gt 0 ] && sleep $((left / 1000))
monitor "$H" "set_link n0 on"
tap $? "guest $H: link back after ${CUT}s"

# Pause the other holder (QEMU `stop`) past the TTL, then let it run on:
# it must fence, and its id must have moved to the guest that waits now.
P=''
for g in 1 2 3; do
	[ "$g" != "$H" ] && [ "$g" != "$WT" ] && P=$g
done
PM=$(last "$P" machine)
if wait_for 30 '[ "$(last $H state)" = pool-exhausted ]'; then
	t0=$(now_ms)
	monitor "$P" stop
	tap $? "guest $P (machine $PM) paused (stop)"
	wait_for $((TTL * 4 + 20)) '[ "$(last $H state)" = holding ] && [ "$(last $H machine)" = "$PM" ]'
	r=$?
	tap $r "machine $PM moved to guest $H, $(($(now_ms) - t0)) ms after the pause"
	sleep 2
	before=$(grep -c "^status $P " "$W/g$P.out")
	monitor "$P" cont
	tap $? "guest $P resumed after $((($(now_ms) - t0) / 1000)) s (cont)"
	wait_for 20 '[ "$(grep -c "^status $P " "$W/g$P.out")" -gt "$before" ] && [ "$(last $P until)" = 0 ]'
	tap $? "guest $P fenced after it resumed ($(last "$P" state))"
else
	not_ok "guest $H back and waiting (pool-exhausted) after its link came back: $(last "$H" state)"
fi

# Kill the etcd leader: the holders renew through the other members and
# never fence.
leader=$(ectl endpoint status -w json | python3 -c '
import json, sys
for e in json.load(sys.stdin):
    if e["Status"]["header"]["member_id"] == e["Status"]["leader"]:
        print(e["Endpoint"][len("http://127.0.0."):][0])')
holders=$(for g in 1 2 3; do [ "$(last $g state)" = holding ] && echo $g; done)
if [ -n "$leader" ] && [ "$(echo "$holders" | grep -c .)" = 2 ]; then
	kill -9 "${ETCD_PID[$((leader - 1))]}"
	wait "${ETCD_TPID[$((leader - 1))]}" 2>/dev/null
	fenced=0
	for _ in $(seq 1 40); do
		for g in $holders; do
			[ "$(last "$g" until)" = 0 ] && fenced=$((fenced + 1))
		done
		sleep 0.25
	done
	still=$(for g in $holders; do [ "$(last "$g" state)" = holding ] && echo "$g"; done | grep -c .)
	[ $fenced = 0 ] && [ "$still" = 2 ]
	tap $? "etcd leader m$leader killed: guests $(echo $holders) kept holding, never fenced"
	start_member "$leader" existing
	healthy
	tap $? "etcd member m$leader back"
else
	not_ok "a leader ($leader) and two holders ($(echo $holders)) before killing the leader"
fi

# The lease (decimal) that owns machine id M's node, or nothing.
owner_lease() {
	ectl get "/flakeid-fleet/node/0-0-$1/owner" -w json 2>/dev/null | python3 -c '
import json, sys
try:
    kvs = json.load(sys.stdin).get("kvs") or []
except ValueError:
    kvs = []
print(kvs[0].get("lease", "") if kvs else "")'
}

# Commands to a guest go through etcd (fleet/guest.sh reads its key).
SEQ=0
send() {	# send G WHAT [ARG]
	SEQ=$((SEQ + 1))
	ectl put "/flakeid-fleet/cmd/$1" "$SEQ $2${3:+ $3}" >/dev/null
}
holders=$(for g in 1 2 3; do [ "$(last $g state)" = holding ] && echo $g; done)
A=$(echo "$holders" | sed -n 1p)
B=$(echo "$holders" | sed -n 2p)
if [ -n "$A" ] && [ -n "$B" ]; then
	# Clock back 5 minutes: its renewals cannot raise the high-water
	# (max with the old one), so its ceiling stays; availability only.
	send "$A" clock -300
	wait_for 15 'grep -q "ran command .* clock -300" "$W/g$A.out"'
	sleep 4
	ua1=$(last "$A" until)
	sleep 4
	ua2=$(last "$A" until)
	[ "$ua1" = "$ua2" ] && [ "$ua1" != 0 ]
	tap $? "guest $A's clock set back 5 min: its ceiling stays at $ua1"
	# Clock forward 5 minutes: the ceiling follows it.
	send "$B" clock 300
	wait_for 20 '[ "$(last $B until)" -gt $(($(now_ms) + 250000)) ]'
	tap $? "guest $B's clock set forward 5 min: its ceiling follows ($(last "$B" until))"
	# The agent SIGSTOPped past the TTL, then SIGCONTed.
	MA=$(last "$A" machine)
	WA=$(for g in 1 2 3; do [ "$g" != "$A" ] && [ "$g" != "$B" ] && echo $g; done)
	t0=$(now_ms)
	send "$A" agent-stop
	wait_for $((TTL * 4 + 20)) '[ "$(last $WA state)" = holding ] && [ "$(last $WA machine)" = "$MA" ]'
	tap $? "guest $A's agent SIGSTOPped: machine $MA moved to guest $WA after $(($(now_ms) - t0)) ms"
	send "$A" agent-cont
	wait_for 20 '[ "$(last $A until)" = 0 ]'
	tap $? "guest $A's agent SIGCONTed: it fences ($(last "$A" state))"
else
	not_ok "two holders ($(echo $holders)) for the clock and SIGSTOP faults"
fi

# The agent SIGKILLed: no clean stop, so the device keeps the ceiling the
# agent last set and stops issuing when its clock reaches it; the lease
# runs out on its own, so the id moves only after the TTL.
holders=$(for g in 1 2 3; do [ "$(last $g state)" = holding ] && echo $g; done)
K=$(echo "$holders" | grep -x "${WA:-0}" || echo "$holders" | sed -n 1p)
X=$(echo "$holders" | grep -vx "$K" | sed -n 1p)
WK=$(for g in 1 2 3; do [ "$g" != "$K" ] && [ "$g" != "$X" ] && echo $g; done)
if [ -n "$K" ] && [ -n "$X" ] && [ "$(echo "$holders" | grep -c .)" = 2 ] &&
	wait_for 20 '[ "$(last $WK state)" = pool-exhausted ]'; then
	MK=$(last "$K" machine) MX=$(last "$X" machine)
	lk0=$(owner_lease "$MK")
	t0=$(now_ms)
	send "$K" agent-kill
	wait_for 15 'grep -q "ran command .* agent-kill" "$W/g$K.out"'
	r=$?
	lk1=$(owner_lease "$MK")
	[ $r = 0 ] && [ -n "$lk0" ] && [ "$lk1" = "$lk0" ]
	tap $? "guest $K's agent SIGKILLed (holding machine $MK): its lease ($lk0) still owns the id (${lk1:-none})"
	# The first status line after the kill shows the ceiling it left (a
	# renewal may have raised it after the line before).
	nk=$(grep -c "^status $K " "$W/g$K.out")
	wait_for 10 '[ "$(grep -c "^status $K " "$W/g$K.out")" -gt "$nk" ]'
	uk=$(last "$K" until)
	# In the guest's own time: its clock past the ceiling, then 3 s more.
	wait_for $((TTL * 2 + 10)) '[ "$(($(last $K t) * 1000))" -gt "$((uk + 1000))" ]'
	ik=$(last "$K" ids)
	sleep 3
	grep "^status $K " "$W/g$K.out" | tail -n +"$((nk + 1))" |
		sed -n 's/.* until=\([^ ]*\).*/\1/p' | sort -u >"$W/kill-until"
	[ "$uk" != 0 ] && [ "$(cat "$W/kill-until")" = "$uk" ] && [ "$(last "$K" ids)" = "$ik" ]
	tap $? "guest $K kept its last ceiling $uk and issued nothing once its clock passed it ($ik IDs)"
	wait_for $((TTL * 4 + 20)) '[ "$(last $WK state)" = holding ] && [ "$(last $WK machine)" = "$MK" ]'
	r=$?
	dt=$(($(now_ms) - t0))
	# The lease was last renewed at most renew_ms (TTL/4) before the kill.
	[ $r = 0 ] && [ $dt -ge $((TTL * 750)) ]
	tap $? "machine $MK moved to guest $WK only after the lease ran out: $dt ms after the SIGKILL (TTL ${TTL} s)"

	# Save the other holder's state and end its QEMU: the copy started
	# from the state later is a restore, with no original left running.
	python3 "$TOP/tests/qemu/hmp.py" "$W/g$X.mon" "migrate \"exec:cat > $W/g$X.state\"" >"$W/restore.log" 2>&1
	st=''
	for _ in $(seq 1 600); do
		st=$(python3 "$TOP/tests/qemu/hmp.py" "$W/g$X.mon" "info migrate" 2>&1 |
			sed -n 's/^Migration status: //p')
		case $st in completed|failed|cancelled) break ;; esac
		sleep 0.1
	done
	# SIGKILL to that guest's QEMU (the one process with its monitor's
	# path on its command line): no orderly exit of any kind.
	tx=$(now_ms)
	qx=$(pgrep -f -- "^qemu-system[^ ]* .*-monitor unix:$W/g$X.mon,")
	if [ "$(echo "$qx" | grep -c .)" = 1 ]; then
		kill -9 "$qx"
	else
		qx=''
		kill "${GPID[$X]}"	# its runner ends it, and the test fails
	fi
	wait "${GPID[$X]}"
	GPID[$X]=0
	mv "$W/g$X.out" "$W/g${X}o.out"
	[ "$st" = completed ] && [ -n "$qx" ] && ! kill -0 "$qx" 2>/dev/null
	tap $? "guest $X (holding machine $MX): state saved, its QEMU (pid $qx) SIGKILLed"

	# The SIGKILLed agent's successor: the one contender for machine $MX
	# once guest $X's lease runs out, the restore not being up yet.
	send "$K" agent-start
	wait_for $((TTL * 4 + 20)) '[ "$(last $K state)" = holding ] && [ "$(last $K machine)" = "$MX" ]'
	r=$?
	tap $r "guest $K's restarted agent claimed machine $MX, $(($(now_ms) - tx)) ms after guest $X's QEMU ended"
	note "guest $K: $((($(now_ms) - t0) / 1000)) s from the SIGKILL to its new agent's claim, issuing nothing past the ceiling left"

	# The restore: a new QEMU process from the state, a new vmgenid.
	tr0=$(now_ms)
	nr=$(grep -c "^status $K " "$W/g$K.out")
	guest "$X" --out "$W/g$X.out" --log "$W/g${X}r.console" --monitor "$W/g$X.mon" \
		--initrd "$W/g$X.initrd" --incoming "$W/g$X.state" 2>"$W/g${X}r.stderr" &
	GPID[$X]=$!
	wait_for 120 'grep -qs "^fork $X " "$W/g$X.out"'
	tap $? "restored guest $X: its module saw the VM fork $(($(now_ms) - tr0)) ms after its QEMU started ($(grep -s "^fork $X " "$W/g$X.out"))"
	wait_for $((TTL * 2 + 20)) '[ "$(last $X state)" = pool-exhausted ]'
	tap $? "restored guest $X: its agent dropped the lease and waits ($(last "$X" state))"
	# Guest $K's status lines from the restore on (its reads wait at a
	# far floor, so they come seconds apart): held, never fenced.
	sleep $((TTL + 2))
	wait_for 20 '[ "$(grep -c "^status $K " "$W/g$K.out")" -ge "$((nr + 2))" ]'
	grep "^status $K " "$W/g$K.out" | tail -n +"$((nr + 1))" >"$W/restore-k"
	kk=$(sed -n 's/.* until=\([^ ]*\).*/\1/p' "$W/restore-k" | grep -cx 0)
	km=$(sed -n 's/.* machine=\([^ ]*\).*/\1/p' "$W/restore-k" | sort -u)
	[ "$(grep -c . "$W/restore-k")" -ge 2 ] && [ "$km" = "$MX" ] && [ "$kk" = 0 ] &&
		[ "$(last "$K" state)" = holding ]
	tap $? "restored guest $X left machine $MX's keys alone: guest $K kept holding it, never fenced ($(grep -c . "$W/restore-k") status lines)"

	# A clean stop (SIGTERM) revokes the lease: the id is free at once, not
	# after the TTL as with the SIGKILL, and the waiting restore claims it.
	lw0=$(owner_lease "$MK")
	send "$WK" agent-term
	# The guest prints the command once its agent has exited.
	wait_for 30 'grep -q "ran command .* agent-term" "$W/g$WK.out"'
	r=$?
	t0=$(now_ms)
	lw1=$(owner_lease "$MK")
	[ $r = 0 ] && [ -n "$lw0" ] && [ "$lw1" != "$lw0" ]
	tap $? "guest $WK's agent stopped cleanly: its lease ($lw0) no longer owns machine $MK (${lw1:-none})"
	wait_for $((TTL * 4 + 20)) '[ "$(last $X state)" = holding ] && [ "$(last $X machine)" = "$MK" ]'
	tap $? "restored guest $X claimed machine $MK $(($(now_ms) - t0)) ms after guest $WK's agent exited"
	wait_for 10 '[ "$(last $WK until)" = 0 ]'
	tap $? "guest $WK fenced after its agent stopped"
	note "restored guest $X issued nothing for $((($(now_ms) - tx) / 1000)) s: from its save to its claim"
else
	not_ok "two holders ($(echo $holders)) and a waiting guest ($WK: $(last "$WK" state)) for the SIGKILL and restore faults"
fi

# Clone a holder: save its running state, let it go on, and start a second
# QEMU process from the state.  The copy's module fences itself (a new VM
# generation ID); its agent drops the lease without revoking it (the
# original's owner key stays) and finds the pool exhausted: the copy issues
# nothing, the original keeps holding.
C=$(for g in 1 2 3; do [ "$(last $g state)" = holding ] && echo $g; done | tail -n 1)
CPID=0
if [ -n "$C" ]; then
	rm -f "$W/g$C.state"
	python3 "$TOP/tests/qemu/hmp.py" "$W/g$C.mon" "migrate \"exec:cat > $W/g$C.state\"" >"$W/migrate.log" 2>&1
	st=''
	for _ in $(seq 1 600); do
		st=$(python3 "$TOP/tests/qemu/hmp.py" "$W/g$C.mon" "info migrate" 2>&1 |
			sed -n 's/^Migration status: //p')
		case $st in completed|failed|cancelled) break ;; esac
		sleep 0.1
	done
	python3 "$TOP/tests/qemu/hmp.py" "$W/g$C.mon" cont >>"$W/migrate.log" 2>&1
	[ "$st" = completed ]
	tap $? "guest $C (holding machine $(last "$C" machine)): running state saved, then cont"
	n0=$(grep -c "^status $C " "$W/g$C.out")
	guest "$C" --out "$W/g${C}c.out" --log "$W/g${C}c.console" \
		--initrd "$W/g$C.initrd" --incoming "$W/g$C.state" 2>"$W/g${C}c.stderr" &
	CPID=$!
	wait_for 90 'grep -qs "^fork $C " "$W/g${C}c.out"'
	tap $? "clone of guest $C: its module saw the VM fork ($(grep "^fork $C " "$W/g${C}c.out"))"
	wait_for 20 'grep -qs "dropping lease" "$W/g${C}c.out" || [ "$(grep -s "^status $C " "$W/g${C}c.out" | tail -n 1 | sed -n "s/.* state=\([^ ]*\).*/\1/p")" = pool-exhausted ]'
	tap $? "clone of guest $C: its agent dropped the lease and waits ($(grep "^status $C " "$W/g${C}c.out" | tail -n 1 | sed -n 's/.* state=\([^ ]*\).*/\1/p'))"
	sleep $((TTL * 2))
	grep "^status $C " "$W/g$C.out" | tail -n +"$((n0 + 1))" >"$W/orig-after"
	! grep -q "until=0 " "$W/orig-after" && [ "$(last "$C" state)" = holding ]
	tap $? "original guest $C kept holding, never fenced, while its clone ran ($(grep -c . "$W/orig-after") status lines)"
	cu=$(grep "^status $C " "$W/g${C}c.out" | sed -n 's/.* until=\([^ ]*\).*/\1/p' | sort -u | paste -sd,)
	[ "$cu" = 0 ]
	tap $? "clone of guest $C: until_ms 0 in every status line ($cu)"
else
	not_ok "a holder to clone"
fi

# A check-sized run ends here (the clone reads its original's key).
if [ "$SIZE" = check ]; then
	for g in 1 2 3; do
		send "$g" end
	done
fi
for g in 1 2 3; do
	wait "${GPID[$g]}"
	rc=$?
	GPID[$g]=0
	tap $rc "guest $g ran clean (run-guest.sh exit $rc; $(grep -c '^id ' "$W/g$g.out") IDs)"
	grep -E '^(ok|not ok) ' "$W/g$g.out" | sed 's/^\(not \)\{0,1\}ok [0-9]* - /&[guest] /' |
		while read -r l; do echo "# $l"; done
	if grep -q '^not ok ' "$W/g$g.out"; then
		not_ok "guest $g: its own checks"
	fi
done

cat "$W"/g?.out | grep '^id ' >"$W/ids"

# Each guest's timeline: its state and machine id whenever they changed.
if [ "${FLEET_DEMO:-0}" = 1 ]; then
	for g in 1 2 3; do
		note "guest $g timeline:"
		# a restored guest: its original's lines, then the restore's
		cat "$W/g${g}o.out" "$W/g$g.out" 2>/dev/null | grep "^status $g " | awk -v t0="$(grep -m1 -h '^status ' "$W"/g?.out | sed 's/.* t=\([0-9]*\).*/\1/')" '
			{ for (i = 3; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
			  s = f["state"] " machine " f["machine"] (f["until"] == "0" ? " (fenced)" : "")
			  if (s != prev) { printf "#   t+%3ds %s\n", f["t"] - t0, s; prev = s } }'
	done
	note "IDs per guest, first and last, decoded (machine, Unix ms):"
	for g in 1 2 3; do
		for v in $(grep "^id $g " "$W/ids" | sed -n '1p;$p' | awk '{print $3}'); do
			note "  guest $g: $v machine $(((v >> 10) & 31)) ms $(((v >> 22) + 1704067200000))"
		done
	done
fi

# The clone: the IDs it had when it noticed the fork are the original's
# (read before the snapshot); any later one it issued under a node it
# claimed itself, and joins the checks below as guest "${C}c".
if [ "$CPID" != 0 ]; then
	wait "$CPID"
	rc=$?
	tap $rc "clone of guest $C ran clean (run-guest.sh exit $rc)"
	forkids=$(sed -n "s/^fork $C ids=//p" "$W/g${C}c.out" | head -n 1)
	grep "^id $C " "$W/g${C}c.out" | awk '{print $3}' >"$W/clone.ids"
	grep "^id $C " "$W/g$C.out" | awk '{print $3}' | sort >"$W/orig.ids"
	head -n "${forkids:-0}" "$W/clone.ids" | sort >"$W/clone.before"
	[ -n "$forkids" ] && [ -z "$(comm -23 "$W/clone.before" "$W/orig.ids")" ]
	tap $? "the $forkids IDs the clone had at the fork are the original's"
	after=$(tail -n +"$((${forkids:-0} + 1))" "$W/clone.ids" | grep -c .)
	[ "$after" = 0 ] || grep -q "agent: .*claimed node" "$W/g${C}c.out"
	tap $? "the clone issued IDs ($after) only under a node it claimed itself"
	tail -n +"$((${forkids:-0} + 1))" "$W/clone.ids" | sed "s/^/id ${C}c /" >"$W/clone.after"
fi

# The restore: the IDs it had when it noticed the fork were issued before
# the save; every later one under the machine id it claimed afterwards.
if [ -f "$W/g${X:-0}o.out" ]; then
	rk=$(sed -n "s/^fork $X ids=//p" "$W/g$X.out" | head -n 1)
	grep "^id $X " "$W/g$X.out" | awk '{print $3}' | tail -n +"$((${rk:-0} + 1))" >"$W/restore.after"
	ra=$(python3 -c '
import sys
v = [int(l) for l in open(sys.argv[1])]
print(len(v), sum(1 for x in v if (x >> 10) & 31 != int(sys.argv[2])))' "$W/restore.after" "$MK")
	grep -q "agent: .*VM fork (vm_forks .*): dropping lease .* without touching its keys" "$W/g$X.out"
	tap $? "restored guest $X: its agent dropped the lease without touching its keys (its log)"
	[ -n "$rk" ] && [ "${ra% *}" -gt 0 ] && [ "${ra#* }" = 0 ]
	tap $? "restored guest $X: $rk IDs from before the save, ${ra% *} after the restore, all under machine $MK it claimed (${ra#* } under another)"
fi
# Fenced, a guest issues nothing: between two status lines that both show
# until_ms 0, its ID count never grows (the restore and the clone, from
# the fork on; every guest for the whole run, a restored one up to its save
# in g<G>o).
for f in "$W"/g?.out "$W"/g?o.out "$W"/g?c.out; do
	[ -f "$f" ] || continue
	grep '^status ' "$f" | awk '
		{ u = ""; c = ""
		  for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "until") u = kv[2]; if (kv[1] == "ids") c = kv[2] }
		  if (u == "0" && pu == "0" && c > pc) { bad++ }
		  pu = u; pc = c + 0; n++ }
		END { print n + 0, bad + 0 }' >"$W/fenced-growth"
	read -r nl bad <"$W/fenced-growth"
	[ "$nl" -gt 0 ] && [ "$bad" = 0 ]
	tap $? "$(basename "$f" .out): no ID issued between two fenced status lines ($nl lines, $bad such gaps)"
done

# Every ID once; per machine id, guests' timestamp ranges disjoint.
[ -f "$W/clone.after" ] && cat "$W/clone.after" >>"$W/ids"
cat "$W"/g?.out "$W"/g?c.out 2>/dev/null | grep 'agent: .*claimed node' >"$W/claims"
python3 - "$W/ids" "$W/claims" >"$W/verdict" <<'EOF'
import sys
ids, seen, dup = {}, set(), 0
for line in open(sys.argv[1]):
    _, g, v = line.split()
    v = int(v)
    if v in seen:
        dup += 1
    seen.add(v)
    m = (v >> 10) & 31          # default layout 41:4:3:5:10
    ts = v >> 22
    r = ids.setdefault(m, {}).setdefault(g, [ts, ts])
    r[0], r[1] = min(r[0], ts), max(r[1], ts)
print("total", len(seen), "dup", dup)
for m, by in sorted(ids.items()):
    rs = sorted(by.items(), key=lambda kv: kv[1][0])
    print("machine", m, " ".join("g%s:%d-%d" % (g, a, b) for g, (a, b) in rs))
# Sorted by timestamp, each machine's IDs fall into runs of one guest; a
# run is one holding, so there are no more runs than claims of it.
claims, runs, prev = {}, {}, {}
for line in open(sys.argv[2]):
    if "claimed node" in line:
        m = int(line.split("claimed node ")[1].split()[0].split("-")[2])
        claims[m] = claims.get(m, 0) + 1
byts = sorted((int(l.split()[2]) >> 22, (int(l.split()[2]) >> 10) & 31, l.split()[1])
              for l in open(sys.argv[1]))
for ts, m, g in byts:
    if prev.get(m) != g:
        runs[m] = runs.get(m, 0) + 1
        prev[m] = g
bad = [m for m in runs if runs[m] > claims.get(m, 0)]
print("runs", " ".join("m%d:%d/%d" % (m, runs[m], claims.get(m, 0)) for m in sorted(runs)))
print("interleaved", len(bad))
EOF
sed 's/^/# /' "$W/verdict"
total=$(awk '/^total/ {print $2}' "$W/verdict")
[ "${total:-0}" -gt 0 ]
tap $? "IDs collected from the guests (${total:-0})"
grep -q '^total .* dup 0$' "$W/verdict"
tap $? "0 duplicate IDs across the guests"
grep -q '^interleaved 0$' "$W/verdict"
tap $? "per machine id, one guest's IDs at a time: no more runs than claims"
[ "$(grep -c "^machine $M .*g.*g" "$W/verdict")" = 1 ]
tap $? "machine $M was issued by two guests or more, one after the other"
[ "$(grep -c "^machine $PM .*g.*g" "$W/verdict")" = 1 ]
tap $? "machine $PM was issued by two guests or more, one after the other"
finish
