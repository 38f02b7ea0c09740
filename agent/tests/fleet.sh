#!/bin/bash
# SPDX-License-Identifier: MIT
# `make fleet`: three QEMU guests, each with the module and flakeid-agent,
# lease node ids from a 3-member etcd on the host (127.0.0.1-3, reached
# through QEMU's guestfwd; the guests reach nothing else).  The pool has
# two machine ids, so one guest waits fenced.  Once two guests hold, one
# holder's link is cut (QEMU monitor `set_link n0 off`) for FLEET_CUT_SECS,
# longer than the TTL: it must fence, and its id must move to the waiting
# guest.  Then the other holder is paused (`stop`) past the TTL and
# resumed (`cont`): it must fence, its id having moved to the guest that
# lost its link.  Then the etcd leader is killed: the holders keep
# renewing through the other members.  Then one holder's clock is set back
# 5 minutes (its ceiling must stay), the other's forward (its ceiling
# follows), and the first one's agent is SIGSTOPped past the TTL (its id
# moves) and SIGCONTed (it fences).  Then a holder is cloned (its running
# state saved and started in a second QEMU process, -device vmgenid): the
# clone fences and issues nothing, the original keeps holding.  At the end
# every ID every guest got is collected: 0 duplicates, and for each machine id one guest's IDs at a
# time (sorted by timestamp, no more runs of one guest than claims).
# TAP lines, then "N passed, N failed".  Every wait is bounded.
#
# Environment: FLEET_SECS (each guest's run after boot, default 240),
# FLEET_CUT_SECS (default 15), FLEET_TTL (default 4).
set -u

AGENT_DIR=$(cd "$(dirname "$0")/.." && pwd)
TOP=$(cd "$AGENT_DIR/.." && pwd)
. "$TOP/tests/tap.sh"
. "$AGENT_DIR/tests/lib.sh"

W=$TOP/build/fleet
ETCD_DATA=$W/etcd
EPS=http://127.0.0.1:2379,http://127.0.0.2:2379,http://127.0.0.3:2379
export ETCDCTL_API=3
PIDS=()
ETCD_PID=(0 0 0)
ETCD_TPID=(0 0 0)
GPID=(0 0 0 0)
SECS=${FLEET_SECS:-240}
CUT=${FLEET_CUT_SECS:-15}
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
	"$TOP/tests/qemu/run-guest.sh" --main "$AGENT_DIR/tests/fleet-guest.sh" \
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

# Commands to a guest go through etcd (fleet-guest.sh reads its key).
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
		grep "^status $g " "$W/g$g.out" | awk -v t0="$(grep -m1 -h '^status ' "$W"/g?.out | sed 's/.* t=\([0-9]*\).*/\1/')" '
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
