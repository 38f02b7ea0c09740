#!/bin/sh
# SPDX-License-Identifier: MIT
# libflakeid and flakeid(1) against the real device, in the guest, as root.
# The guest side of the library's suite: run by tests/main/guest.sh with
# the module loaded, or alone as the guest's /main.sh (userspace/tests/run.sh),
# when it loads /flakeid.ko itself and unloads it at the end.  Prints TAP
# lines ("ok N - ...", "not ok N - ...") and a plan; exits non-zero when
# anything failed.  Configuration changes are undone before it exits.
#
#   guest.sh [DIR]     DIR holds the static binaries (default /userspace,
#                      where userspace guest-install puts them)

dir=${1:-/userspace}
cli=$dir/flakeid
lib=$dir/flakeid-guest-test
hello=$dir/hello
tmp=${TMPDIR:-/tmp}/flakeid-guest.$$
mkdir -p "$tmp" || exit 1
trap 'rm -rf "$tmp"' EXIT

# tap STATUS NAME (STATUS 0 passes) and the counters: tests/tap.sh, which
# the guest runner puts in every guest as /tap.sh.
. /tap.sh

loaded_here=
if [ ! -d /sys/module/flakeid ]; then
	insmod /flakeid.ko
	tap $? "insmod /flakeid.ko"
	loaded_here=1
fi

# expect RC NEEDLE NAME -- CMD...: exit code RC and stderr holding NEEDLE on
# one line
expect() {
	want=$1 needle=$2 name=$3
	shift 4
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	lines=$(wc -l <"$tmp/err")
	if [ "$rc" -eq "$want" ] && [ "$lines" -eq 1 ] &&
	   grep -qF -- "$needle" "$tmp/err"; then
		tap 0 "$name"
	else
		tap 1 "$name (exit $rc, want $want: $(cat "$tmp/err"))"
	fi
}

# --- the library (C): renumbered into this script's TAP stream
"$lib" >"$tmp/lib" 2>&1
rc=$?
tap_relay lib "$tmp/lib"
[ "$rc" -eq 0 ] || [ "$failed" -gt 0 ] || tap 1 "lib: flakeid-guest-test exited $rc"

# --- the command
id=$("$cli")
rc=$?
case $id in
''|*[!0-9]*) tap 1 "cli: flakeid prints one ID (exit $rc: '$id')" ;;
*) tap "$rc" "cli: flakeid prints one ID ($id)" ;;
esac

"$cli" -n 10000 >"$tmp/ids"
rc=$?
"$lib" check-ids 10000 <"$tmp/ids"
tap $((rc + $?)) "cli: flakeid -n 10000 prints 10000 increasing IDs, one a line"
distinct=$(sort -u "$tmp/ids" | wc -l)
[ "$distinct" -eq 10000 ]
tap $? "cli: flakeid -n 10000 | sort -u | wc -l is 10000"

# UUIDv7 from the command.  Python's uuid module checks them on the host
# (userspace/tests/uuid7-check.py): here the count, and the UUIDs with the
# run's time bounds as "# uuid7..." comment lines, 100 to a line.
t0=$("$lib" now-ms)
"$cli" uuid7 -n 1000 >"$tmp/uuids" 2>"$tmp/err"
rc=$?
t1=$("$lib" now-ms)
borrow=$("$cli" config | sed -n 's/^max_borrow_ms //p')
if [ "$rc" -ne 0 ] && grep -q "predates UUIDv7" "$tmp/err"; then
	skip "cli: flakeid uuid7 -n 1000: the module issues no UUIDs"
	echo "# uuid7-check: skip the module issues no UUIDs"
else
	[ "$rc" -eq 0 ] && [ "$(wc -l <"$tmp/uuids")" -eq 1000 ]
	tap $? "cli: flakeid uuid7 -n 1000 prints 1000 lines (exit $rc: $(cat "$tmp/err"))"
	echo "# uuid7-check: from_ms=$t0 to_ms=$((t1 + borrow)) count=1000"
	xargs -n 100 echo "# uuid7:" <"$tmp/uuids"
fi
out=$("$cli" decode "$(head -n 1 "$tmp/uuids")" 2>&1)
echo "$out" | grep -Eq '^[0-9a-f-]{36} [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z version=7 variant=10 unix_ms=[0-9]+ counter=[0-9]+$' ||
	grep -q "predates UUIDv7" "$tmp/err"
tap $? "cli: flakeid decode UUID ($out)"

"$cli" config >"$tmp/config"
tap $? "cli: flakeid config"
grep -Eq '^layout [0-9]+:[0-9]+:[0-9]+:[0-9]+:[0-9]+$' "$tmp/config" &&
	grep -Eq '^epoch_ms [0-9]+ [0-9-]+T[0-9:.]+Z$' "$tmp/config"
tap $? "cli: config shows the layout and the epoch"
region=$(sed -n 's/^region_id //p' "$tmp/config")
app=$(sed -n 's/^app_id //p' "$tmp/config")
machine=$(sed -n 's/^machine_id //p' "$tmp/config")

out=$("$cli" decode "$id")
tap $? "cli: flakeid decode $id"
echo "$out" | grep -Eq "^$id [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z region=$region app=$app machine=$machine sequence=[0-9]+ timestamp=[0-9]+\$"
tap $? "cli: decode prints the ISO 8601 time and this configuration's ids ($out)"
out=$("$cli" decode --json "$id")
echo "$out" | grep -q "^{\"id\":\"$id\",\"time\":\"[0-9T:.Z-]*\",\"unix_ms\":[0-9]*,\"timestamp\":[0-9]*,\"region_id\":$region,\"app_id\":$app,\"machine_id\":$machine,\"sequence\":[0-9]*}\$"
tap $? "cli: decode --json ($out)"
"$cli" config --json | grep -q '^{"region_id":[0-9]*,.*"generation":[0-9]*,"until_ms":null,.*"vm_forks":[0-9]*}$'
tap $? "cli: config --json"
"$cli" stats >"$tmp/stats"
rc=$?
for k in ids_issued clock_steps_back borrowed_ms waits refills ahead_ms generation \
	until_wait_ms until_waits until_refused vm_forks; do
	grep -Eq "^$k -?[0-9]+\$" "$tmp/stats" || rc=1
done
tap $rc "cli: stats shows every counter"
"$cli" stats --json | grep -q '^{"ids_issued":[0-9]*,.*"ahead_ms":-\{0,1\}[0-9]*,"generation":[0-9]*,"until_ms":null,.*"vm_forks":[0-9]*}$'
tap $? "cli: stats --json"

# Output that fails: the command stops taking IDs at the first failed
# write (SIGPIPE ignored, as a parent may leave it).
issued() {
	"$cli" stats | sed -n 's/^ids_issued //p'
}
for count in 20000000 18446744073709551615; do
	a=$(issued)
	(trap '' PIPE; timeout 60 "$cli" -n "$count" 2>"$tmp/err"
	 echo $? >"$tmp/rc") | head -n 1 >"$tmp/first"
	b=$(issued)
	rc=$(cat "$tmp/rc")
	[ "$rc" -eq 1 ] && [ $((b - a)) -le 8192 ] &&
		grep -q "Broken pipe" "$tmp/err" && [ -s "$tmp/first" ]
	tap $? "cli: -n $count | head -1, SIGPIPE ignored: exit $rc, $((b - a)) IDs taken"
done
a=$(issued)
"$cli" -n 20000000 >&- 2>"$tmp/err"
rc=$?
b=$(issued)
[ "$rc" -eq 1 ] && [ "$b" -eq "$a" ] && grep -q "closed" "$tmp/err"
tap $? "cli: -n 20000000 >&-: exit $rc, $((b - a)) IDs taken"
if [ -c /dev/full ]; then
	a=$(issued)
	"$cli" -n 20000000 >/dev/full 2>"$tmp/err"
	rc=$?
	b=$(issued)
	[ "$rc" -eq 1 ] && [ $((b - a)) -le 4096 ]
	tap $? "cli: -n 20000000 >/dev/full: exit $rc, $((b - a)) IDs taken"
fi

# Setting as root, and back: flip the machine id's low bit, which fits any
# layout with a machine field.
layout=$(sed -n 's/^layout //p' "$tmp/config")
mbits=$(echo "$layout" | cut -d: -f4)
if [ "${mbits:-0}" -ge 1 ]; then
	m2=$((machine ^ 1))
	"$cli" config "machine=$m2" "region=$region" &&
		"$cli" config | grep -q "^machine_id $m2\$" &&
		id2=$("$cli") &&
		"$cli" decode "$id2" | grep -q " region=$region app=$app machine=$m2 "
	tap $? "cli: config machine=$m2 region=$region (root), new IDs carry them"
	"$cli" config "machine=$machine"
	tap $? "cli: config machine=$machine restores it"
else
	tap 0 "cli: config machine= # SKIP layout $layout has no machine field"
fi
expect 5 "does not fit" "cli: config region=4096 exits 5 (does not fit)" -- \
	"$cli" config region=4096
expect 2 "colour" "cli: config colour=1 exits 2" -- "$cli" config colour=1
expect 4 "needs root" "cli: config as uid 65534 exits 4" -- \
	"$lib" asuser 65534 "$cli" config region=0
out=$("$lib" asuser 65534 "$cli" -n 3)
[ $? -eq 0 ] && [ "$(echo "$out" | wc -l)" -eq 3 ]
tap $? "cli: uid 65534 can take IDs"
"$lib" asuser 65534 "$cli" stats >/dev/null
tap $? "cli: uid 65534 can read the counters"

expect 3 "module not loaded: run \`modprobe flakeid\`" \
	"cli: a missing device exits 3 naming modprobe" -- \
	"$cli" --device /nonexistent/flakeid
expect 6 "not a flakeid device" "cli: /dev/null exits 6" -- \
	"$cli" --device /dev/null
expect 3 "configuration files missing" "cli: stats with a bad --sysfs exits 3" -- \
	"$cli" --sysfs /nonexistent stats
expect 2 "bits above the layout" "cli: decode of 2^64-1 exits 2" -- \
	"$cli" decode 18446744073709551615
expect 2 "bad option" "cli: a bad option exits 2" -- "$cli" --frobnicate

# --- the ceiling (until_ms) and the fence through the command
sysfs=/sys/class/misc/flakeid
# unix_ms ID: the ID's Unix ms, from decode --json
unix_ms() {
	"$cli" decode --json "$1" | sed -n 's/.*"unix_ms":\([0-9]*\),.*/\1/p'
}
[ "$(cat $sysfs/until_ms)" = none ] && "$cli" config | grep -q '^until_ms none$' &&
	"$cli" config --json | grep -q '"until_ms":null,"until":null,"fenced":false,"until_wait_ms":1000,"vm_forks":[0-9]*}$'
tap $? "cli: no ceiling by default: config shows until_ms none"
"$cli" config until_wait=100 && [ "$(cat $sysfs/until_wait_ms)" = 100 ]
tap $? "cli: config until_wait=100"
# A ceiling 1000 ms past the ID clock: at 2^sequence_bits IDs a ms (1024
# by default, and the borrow limit lends them ahead of the wall clock), so
# -n 2000000 runs into it.  A guest without KVM can take longer than that
# to start the command, and then prints nothing: that round is tried again.
refused0=$("$cli" stats | sed -n 's/^until_refused //p')
for round in 1 2 3; do
	ms=$(unix_ms "$("$cli")")
	until=$((ms + 1000))
	"$cli" config "until=$until" &&
		"$cli" -n 2000000 >"$tmp/ids" 2>"$tmp/err"
	rc=$?
	[ -s "$tmp/ids" ] && break
	echo "# round $round: the ceiling passed before the first IDs"
done
[ "$(cat $sysfs/until_ms)" = "$until" ] &&
	"$cli" config | grep -Eq "^until_ms $until [0-9T:.Z-]+\$" &&
	"$cli" config --json | grep -q "\"until_ms\":$until,\"until\":\"[0-9T:.Z-]*\",\"fenced\":false,\"until_wait_ms\":100,"
tap $? "cli: config until=$until (ID clock + 1000 ms); config shows it"
last=$(tail -n 1 "$tmp/ids")
top=$(unix_ms "$last")
[ "$rc" -eq 7 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
	grep -q "at the ceiling until_ms $until " "$tmp/err" &&
	[ -n "$top" ] && [ "$top" -le "$until" ]
tap $? "cli: -n 2000000 stops at the ceiling: exit $rc, $(wc -l <"$tmp/ids") IDs, the last at $top <= $until: $(cat "$tmp/err")"
"$lib" check-ids "$(wc -l <"$tmp/ids")" <"$tmp/ids"
tap $? "cli: the IDs before the ceiling are increasing"
"$cli" stats --json >"$tmp/stats"
refused1=$(sed -n 's/.*"until_refused":\([0-9]*\),.*/\1/p' "$tmp/stats")
grep -q "\"until_ms\":$until,\"until\":\"[0-9T:.Z-]*\",\"fenced\":false,\"until_wait_ms\":100,\"until_waits\":[1-9][0-9]*,\"until_refused\":[0-9]*,\"vm_forks\":[0-9]*}\$" "$tmp/stats" &&
	[ "$refused1" -gt "$refused0" ]
tap $? "cli: stats --json shows the ceiling, until_waits, until_refused $refused0 -> $refused1"

"$cli" config until=0 && [ "$(cat $sysfs/until_ms)" = 0 ]
tap $? "cli: config until=0 fences"
expect 7 "fenced (until_ms 0" "cli: fenced: flakeid exits 7 naming the fence" -- \
	"$cli"
"$cli" config | grep -q '^until_ms 0 fenced$' &&
	"$cli" config --json | grep -q '"until_ms":0,"until":null,"fenced":true,' &&
	"$cli" stats | grep -q '^until_ms 0 fenced$' &&
	"$cli" stats --json | grep -q '"until_ms":0,"until":null,"fenced":true,'
tap $? "cli: fenced: config and stats (and --json) show it"
expect 4 "needs root" "cli: config until=none as uid 65534 exits 4" -- \
	"$lib" asuser 65534 "$cli" config until=none
expect 7 "fenced" "cli: still fenced for uid 65534: exit 7" -- \
	"$lib" asuser 65534 "$cli" -n 3
"$cli" config until=none && id=$("$cli") && [ -n "$id" ] &&
	"$cli" config | grep -q '^until_ms none$'
tap $? "cli: config until=none unfences"
expect 2 "past the kernel's time range" "cli: config until=9223372036855 exits 2" -- \
	"$cli" config until=9223372036855
expect 5 "until_wait=60001 is above 60000" "cli: config until_wait=60001 exits 5" -- \
	"$cli" config until_wait=60001
"$cli" config until_wait=1000 && [ "$(cat $sysfs/until_wait_ms)" = 1000 ]
tap $? "cli: config until_wait=1000 restores the default"

# --- the example, built with pkg-config against a staged install
if [ -x "$hello" ]; then
	"$hello" >"$tmp/hello" 2>&1
	rc=$?
	grep -q '^machine ' "$tmp/hello" || rc=1
	tap $rc "examples/hello (static, pkg-config --static) runs"
else
	tap 1 "examples/hello is installed in $dir"
fi

if [ -n "$loaded_here" ]; then
	rmmod flakeid
	tap $? "rmmod flakeid"
fi

echo "1..$n"
echo "# userspace: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
