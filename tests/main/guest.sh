#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest test suite (run as /main.sh by the QEMU runner, as root, under
# busybox).  Every result is one TAP line: "ok N - ..." / "not ok N - ...", plus
# the kselftest programs' own lines.  A program that exits non-zero without
# a "not ok" line crashed and gets one.  Order matters: the clock test in
# flakeid_stress leaves the ID clock an hour ahead, so it runs last.

T=/tests
CLI=/userspace/flakeid
KO=/flakeid.ko
SYS=/sys/class/misc/flakeid
DEV=/dev/flakeid
UDEV=/dev/flakeid-uuid7
DEFAULT_EPOCH=1704067200000
export PATH=/sbin:/bin:/usr/sbin:/usr/bin

# ok, not_ok, note, and tap STATUS NAME, called as `tap $? NAME`: $? is
# expanded before any command substitution in NAME can change it.
. /tap.sh
. /vectors.sh

loaded() { [ -d /sys/module/flakeid ]; }
load() { insmod "$KO" "$@" 2>/tmp/insmod.err; }
unload() { ! loaded || rmmod flakeid; }
reload() {
	unload 2>/dev/null
	load "$@"
}

# N IDs from the device, one per line.
ids() { head -c $(($1 * 8)) "$DEV" | od -An -tu8 -v | tr -s ' ' '\n' | grep .; }
# N UUIDs, one per line in lower-case hex (od prints 16 bytes a line), so
# that sort and [ \> ] compare them as memcmp() does.
uuids() { head -c $(($1 * 16)) "$UDEV" | od -An -tx1 -v | tr -d ' ' | grep .; }

# Run a test program, stream its output, report a crash.
run_prog() {
	name=$1
	shift
	if [ ! -x "$T/$name" ]; then
		not_ok "$name missing from the guest"
		return
	fi
	note "=== $name"
	start=$(date +%s)
	{
		timeout -s KILL "$PROG_TIMEOUT" "$T/$name" "$@" 2>&1
		echo "$?" >"/tmp/$name.rc"
	} | tee "/tmp/$name.out"
	rc=$(cat "/tmp/$name.rc")
	note "$name exited $rc after $(($(date +%s) - start)) s"
	if [ "$rc" != 0 ] && ! grep -q '^not ok ' "/tmp/$name.out"; then
		not_ok "$name crashed (exit $rc)"
	fi
}

PROG_TIMEOUT=420
mkdir -p /tmp
note "flakeid guest suite on $(uname -r), $(nproc) CPUs"

# --- load and basic device checks -----------------------------------------
unload 2>/dev/null
load
tap $? "insmod with default parameters"
[ -c "$DEV" ]
tap $? "$DEV is a character device"
[ "$(stat -c %a "$DEV")" = 444 ]
tap $? "$DEV has mode 0444 (got $(stat -c %a "$DEV" 2>/dev/null))"
out=$(head -c 8 "$DEV" | od -An -tu8)
set -- $out
[ $# = 1 ] && [ "$1" -gt 0 ] 2>/dev/null
tap $? "head -c 8 $DEV | od -An -tu8 prints one ID ($out)"
cnt=$(ids 1000 | sort -u | wc -l)
[ "$cnt" = 1000 ]
tap $? "1000 IDs from head are distinct ($cnt)"
[ -c "$UDEV" ]
tap $? "$UDEV is a character device"
[ "$(stat -c %a "$UDEV")" = 444 ]
tap $? "$UDEV has mode 0444 (got $(stat -c %a "$UDEV" 2>/dev/null))"
out=$(head -c 16 "$UDEV" | od -An -tx1 | tr -d ' \n')
# Version 7 in the 13th hex digit, variant 0b10 (8, 9, a or b) in the 17th.
echo "$out" | grep -qE '^[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$'
tap $? "head -c 16 $UDEV | od -An -tx1 prints one UUIDv7 ($out)"
uuids 1000 >/tmp/uuids
cnt=$(sort -u /tmp/uuids | wc -l)
sort /tmp/uuids | cmp -s - /tmp/uuids && [ "$cnt" = 1000 ]
tap $? "1000 UUIDs from head are distinct and in order ($cnt)"

# --- the functional tests, as a 64-bit and a 32-bit process -----------------
run_prog flakeid_test
reload
tap $? "reload between test programs"
run_prog flakeid_test32

# --- rmmod while a file is open -------------------------------------------
reload
exec 7<"$DEV"
if rmmod flakeid 2>/tmp/rmmod.err; then
	not_ok "rmmod refused while $DEV is open"
	load
else
	loaded
	tap $? "rmmod refused while $DEV is open ($(tr "\n" " " </tmp/rmmod.err))"
fi
cnt=$(head -c 16 <&7 | od -An -tu8 | wc -w)
[ "$cnt" = 2 ]
tap $? "the open file still reads after the refused rmmod"
exec 7<&-
reload
exec 8<"$UDEV"
if rmmod flakeid 2>/tmp/rmmod.err; then
	not_ok "rmmod refused while $UDEV is open"
	load
else
	loaded
	tap $? "rmmod refused while $UDEV is open ($(tr "\n" " " </tmp/rmmod.err))"
fi
cnt=$(head -c 32 <&8 | od -An -tx1 | tr -d ' ' | grep -c .)
[ "$cnt" = 2 ]
tap $? "the open UUID file still reads after the refused rmmod"
exec 8<&-
rmmod flakeid
tap $? "rmmod accepted after the file is closed"
! loaded && [ ! -e "$DEV" ] && [ ! -e "$UDEV" ]
tap $? "module, $DEV and $UDEV gone after rmmod"

# --- module parameters -------------------------------------------------------
now_ms=$(($(date +%s) * 1000))
for p in "region_id=16" "app_id=8" "machine_id=32" "region_id=-1" \
	"region_id=abc" "machine_id=" \
	"layout=41:4:3:5:12" "layout=31:4:3:5:10" "layout=40:4:3:5:0" \
	"layout=abc" "layout=41:4:3:5" "layout=41:4:3:5:10:1" \
	"layout=32:0:0:0:1" "max_borrow_ms=60001" "max_borrow_ms=-5" \
	"epoch_ms=$((now_ms + 3600000))" "epoch_ms=abc" \
	"floor_ms=$((DEFAULT_EPOCH + 2199023255552 + 1000))" \
	"layout=41:2:3:7:10 region_id=4" "region_id=4 layout=41:2:3:7:10" \
	"layout=40:4:3:5:10 epoch_ms=0"; do
	# shellcheck disable=SC2086 # one word per parameter
	if load $p; then
		not_ok "insmod $p refused"
		unload
	elif loaded; then
		not_ok "insmod $p refused (module loaded anyway)"
		unload
	else
		grep -q "Invalid argument" /tmp/insmod.err
		tap $? "insmod $p refused with EINVAL ($(tr "\n" " " </tmp/insmod.err))"
	fi
done

# Valid parameters show up in sysfs, FLAKEID_IOC_CONFIG and the IDs.
check_params() {
	# $1: insmod arguments; $2: expected "layout region app machine borrow epoch"
	set -- "$1" $2
	params=$1
	# shellcheck disable=SC2086
	if ! load $params; then
		not_ok "insmod $params ($(tr "\n" " " </tmp/insmod.err))"
		return
	fi
	got="$(cat $SYS/layout) $(cat $SYS/region_id) $(cat $SYS/app_id) $(cat $SYS/machine_id) $(cat $SYS/max_borrow_ms) $(cat $SYS/epoch_ms)"
	[ "$got" = "$2 $3 $4 $5 $6 $7" ]
	tap $? "insmod $params: sysfs shows $got"
	# flakeid(1) reads the configuration with FLAKEID_IOC_CONFIG.
	cfg=$("$CLI" config | tr '\n' ' ')
	echo "$cfg" | grep -q "^region_id $3 app_id $4 machine_id $5 layout $2 epoch_ms $7 [^ ]* max_borrow_ms $6 "
	tap $? "insmod $params: FLAKEID_IOC_CONFIG agrees ($cfg)"
	id=$(ids 1)
	line=$("$CLI" decode --json "$id")
	echo "$line" | grep -q "\"region_id\":$3,\"app_id\":$4,\"machine_id\":$5,"
	tap $? "insmod $params: IDs carry the ids ($line)"
	ms=$(echo "$line" | sed -n 's/.*"unix_ms":\([0-9]*\),.*/\1/p')
	now=$(($(date +%s) * 1000))
	[ -n "$ms" ] && [ "$ms" -gt $((now - 5000)) ] && [ "$ms" -lt $((now + 5000)) ]
	tap $? "insmod $params: IDs carry the current time ($ms vs $now)"
	unload
}
check_params "region_id=3 app_id=5 machine_id=17 max_borrow_ms=500 epoch_ms=1700000000000" \
	"41:4:3:5:10 3 5 17 500 1700000000000"
check_params "layout=42:4:3:5:10 region_id=15 app_id=7 machine_id=31 max_borrow_ms=0" \
	"42:4:3:5:10 15 7 31 0 $DEFAULT_EPOCH"
check_params "layout=41:0:0:12:10 machine_id=4095 max_borrow_ms=60000" \
	"41:0:0:12:10 0 0 4095 60000 $DEFAULT_EPOCH"
check_params "" "41:4:3:5:10 0 0 0 1000 $DEFAULT_EPOCH"

# --- the shared decode vectors through the kernel's decoder ----------------
# bindings/testdata/decode.tsv holds IDs under several epochs and layouts;
# each configuration is loaded in turn (/vectors.sh) and its rows go
# through FLAKEID_IOC_DECODE.
vec_bad=
vec_check() {
	out=$("$T/flakeid_vectors" "$T/decode.tsv" 2>&1) ||
		vec_bad="$vec_bad [$1 $2: $(echo "$out" | tr '\n' ' ')]"
}
vectors_each_config "$T/decode.tsv" "$KO" vec_check
[ "$VEC_CONFIGS" -ge 20 ] && [ -z "$vec_bad" ]
tap $? "FLAKEID_IOC_DECODE agrees with the decode vectors under $VEC_CONFIGS configurations${vec_bad:+:$vec_bad}"

# --- reloads keep IDs increasing ---------------------------------------------
# Borrow about a second ahead, then reload without a floor: the unload must
# wait for the wall clock to pass the last millisecond it issued.
load
head -c 4000000 "$DEV" >/dev/null
last=$(head -c 4000000 "$DEV" | tail -c 8 | od -An -tu8 | tr -d ' ')
unload && load
first=$(ids 1)
[ -n "$last" ] && [ -n "$first" ] && [ "$first" -gt "$last" ]
tap $? "plain reload after borrowing: next ID $first > last $last"

# Save floor_ms, unload, set the clock back an hour, load with the floor.
old=$(ids 1000 | tail -n 1)
olduuid=$(uuids 1000 | tail -n 1)
floor=$(cat $SYS/floor_ms)
unload
tap $? "rmmod before the clock goes back"
t0=$(date +%s)
date -s "@$((t0 - 3600))" >/dev/null
tap $? "date -s one hour back"
load "floor_ms=$floor"
tap $? "insmod floor_ms=$floor"
lowest=$(ids 1000 | sort -n | head -n 1)
[ -n "$old" ] && [ -n "$lowest" ] && [ "$lowest" -gt "$old" ]
tap $? "after the clock went back, reload with floor_ms: $lowest > $old"
lowuuid=$(uuids 1000 | sort | head -n 1)
[ -n "$olduuid" ] && [ -n "$lowuuid" ] && [ "$lowuuid" \> "$olduuid" ]
tap $? "after the clock went back, reload with floor_ms: UUIDs above ($lowuuid > $olduuid)"
ahead=$(cat $SYS/ahead_ms)
[ "$ahead" -gt 3500000 ]
tap $? "the ID clock starts at the floor, an hour ahead (ahead_ms $ahead)"
date -s "@$(($(date +%s) + 3600))" >/dev/null
tap $? "date -s restored"
unload

# --- reloads with a changed configuration ----------------------------------
# The saved floor_state places the next load's IDs above every ID of the
# last one, or the load is refused with a log line naming the floor.

# Unsigned decimal comparison: IDs may not fit the shell's signed 64 bits.
gt() { [ ${#1} -gt ${#2} ] || { [ ${#1} = ${#2} ] && [ "$1" \> "$2" ]; }; }
max_id() { sort -n | tail -n 1; }
min_id() { sort -n | head -n 1; }
# Run insmod expecting a refusal; the kernel log must name the floor.
load_refused() {
	what=$1
	shift
	dmesg -c >/dev/null
	# shellcheck disable=SC2086
	if load "$@"; then
		not_ok "$what: load refused"
		unload
		return
	fi
	dmesg >/tmp/dmesg.refused
	grep -q "Invalid argument" /tmp/insmod.err &&
		grep -q "floor_ms=" /tmp/dmesg.refused &&
		! grep -q "region_id=" /tmp/dmesg.refused
	tap $? "$what: refused with EINVAL, the log names the floor ($(tail -n 1 /tmp/dmesg.refused | cut -c1-160))"
}
# Load with a saved state, read IDs, check every one is above $2.
load_above() {
	what=$1 old=$2
	shift 2
	# shellcheck disable=SC2086
	if ! load "$@"; then
		not_ok "$what: load accepted ($(tr "\n" " " </tmp/insmod.err))"
		return
	fi
	low=$(ids 20000 | min_id)
	[ -n "$low" ] && gt "$low" "$old"
	tap $? "$what: every new ID above the last load's ($low > $old)"
	if [ -n "${olduuid_max:-}" ]; then
		low=$(uuids 10000 | sort | head -n 1)
		[ -n "$low" ] && [ "$low" \> "$olduuid_max" ]
		tap $? "$what: every new UUID above the last load's ($low > $olduuid_max)"
	fi
	unload
}

load
ids 300000 | max_id >/tmp/old.max
old=$(cat /tmp/old.max)
olduuid_max=$(uuids 100000 | sort | tail -n 1)
state=$(cat $SYS/floor_state)
note "saved floor_state: $state"
unload
load_refused "reload with epoch_ms 5 s later and the saved floor" \
	"epoch_ms=$((DEFAULT_EPOCH + 5000))" $state
load_refused "reload with a narrower timestamp shift (43:4:3:5:8)" \
	layout=43:4:3:5:8 $state
load_above "reload with epoch_ms 5 s earlier and the saved floor" "$old" \
	"epoch_ms=$((DEFAULT_EPOCH - 5000))" $state
load_above "reload with a wider shift (40:4:3:6:10) and the saved floor" "$old" \
	layout=40:4:3:6:10 $state
load_above "reload with other node ids and the saved floor" "$old" \
	region_id=1 machine_id=3 $state
load_refused "floor_epoch_ms without floor_ms" "floor_epoch_ms=$DEFAULT_EPOCH"
olduuid_max=

# --- the timestamp field used up, then reconfigured or reloaded --------------
# An epoch 2^32 ms - 4 s ago: a 32-bit timestamp runs out in about 4 s.
exhaust() {
	# $1: layout; leaves the last ID read in /tmp/exh.last
	e=$(($(date +%s) * 1000 - 4294967296 + 4000))
	if ! load "layout=$1" "epoch_ms=$e"; then
		not_ok "insmod layout=$1 epoch_ms=$e ($(tr "\n" " " </tmp/insmod.err))"
		return 1
	fi
	i=0
	: >/tmp/exh.last
	while [ $i -lt 400 ]; do
		"$T/flakeid_read" 1 >/tmp/exh.id || break
		cp /tmp/exh.id /tmp/exh.last
		i=$((i + 1))
		sleep 0.05
	done
	[ "$(cat /tmp/exh.id)" = "read: EOVERFLOW" ]
	tap $? "layout $1: reads end in EOVERFLOW when the timestamp runs out ($(cat /tmp/exh.id))"
	[ -s /tmp/exh.last ]
}
if exhaust 32:0:0:0:32; then
	e0=$(cat $SYS/epoch_ms)
	! echo $((e0 + 3000)) >$SYS/epoch_ms 2>/dev/null && [ "$(cat $SYS/epoch_ms)" = "$e0" ]
	tap $? "64-bit layout used up: epoch_ms 3 s later refused"
	! echo 33:0:0:0:31 >$SYS/layout 2>/dev/null && [ "$(cat $SYS/layout)" = 32:0:0:0:32 ]
	tap $? "64-bit layout used up: layout 33:0:0:0:31 refused"
	[ "$("$T/flakeid_read" 1)" = "read: EOVERFLOW" ]
	tap $? "64-bit layout used up: still EOVERFLOW"
	state=$(cat $SYS/floor_state)
	unload
	load_refused "reload after a 64-bit layout ran out (every ID used)" \
		layout=33:0:0:0:31 "epoch_ms=$e0" $state
fi
# Borrowed up to the field's last millisecond while the clock is seconds
# before it: a node id raised there keeps IDs above the old ones in that
# millisecond but would repeat its (ms, sequence) slots, hence UUIDs, and
# no later millisecond fits: refused with ERANGE, nothing changed.
e=$(($(date +%s) * 1000 - 4294967296 + 6000))
if load layout=32:0:0:1:1 max_borrow_ms=5000 "epoch_ms=$e"; then
	lastms=$((e + 4294967295))
	i=0
	# 2 IDs a millisecond: each read borrows up to 512 ms, then as far as
	# the borrow limit lets it, until the field's last millisecond.
	while [ $i -lt 400 ] && [ "$(cat $SYS/floor_ms)" != "$lastms" ]; do
		"$T/flakeid_read" 1024 >/dev/null
		i=$((i + 1))
	done
	before=$(($(date +%s) * 1000))
	! echo 1 >$SYS/machine_id 2>/tmp/exh.err && [ "$(cat $SYS/machine_id)" = 0 ] &&
		grep -q "out of range" /tmp/exh.err
	rc=$?
	after=$(($(date +%s) * 1000))
	[ "$(cat $SYS/floor_ms)" = "$lastms" ] && [ $((after + 1000)) -le "$lastms" ]
	tap $? "borrowed to the last millisecond ($lastms), clock at $before..$after: setup"
	tap $rc "borrowed to the last millisecond: machine_id 1 refused with ERANGE, nothing changed ($(cat /tmp/exh.err))"
	unload
else
	not_ok "insmod layout=32:0:0:1:1 max_borrow_ms=5000 epoch_ms=$e ($(tr "\n" " " </tmp/insmod.err))"
fi
if exhaust 32:0:0:0:31; then
	last=$(cat /tmp/exh.last)
	state=$(cat $SYS/floor_state)
	echo 33:0:0:0:31 >$SYS/layout
	tap $? "63-bit layout used up: a 33-bit timestamp accepted"
	next=$(ids 1000 | min_id)
	[ -n "$next" ] && gt "$next" "$last"
	tap $? "63-bit layout used up, widened: new IDs above the old ($next > $last)"
	e0=$(cat $SYS/epoch_ms)
	unload
	load_above "reload after a 63-bit layout ran out, widened" "$last" \
		layout=33:0:0:0:31 "epoch_ms=$e0" $state
fi

# --- values at the edge of the kernel's time ----------------------------------
load_refused "floor_ms past KTIME_MAX with a 44-bit timestamp" \
	layout=44:0:0:0:20 floor_ms=9300000000000
load_refused "floor_ms at KTIME_MAX in ms" layout=44:0:0:0:20 \
	floor_ms=9223372036854
load_refused "floor_ms beyond a 41-bit timestamp" floor_ms=9300000000000
if load layout=44:0:0:0:20 floor_ms=9223372036853; then
	ahead=$(cat $SYS/ahead_ms)
	[ "$ahead" -gt 7000000000000 ]
	tap $? "floor_ms one below KTIME_MAX: accepted, the clock far ahead ($ahead)"
	sleep 1
	out=$(timeout -s KILL 5 "$T/flakeid_read" 1)
	[ "$out" = "read: EOVERFLOW" ]
	tap $? "at the end of kernel time a blocking read fails with EOVERFLOW, no stall ($out)"
	ahead2=$(cat $SYS/ahead_ms)
	[ "$ahead2" -ge "$ahead" ]
	tap $? "the ID clock did not run back ($ahead2 >= $ahead)"
	unload
else
	not_ok "insmod layout=44:0:0:0:20 floor_ms=9223372036853 ($(tr "\n" " " </tmp/insmod.err))"
fi

# --- libflakeid and flakeid(1) against the device ---------------------------
if [ -x /userspace/guest.sh ]; then
	load
	tap $? "insmod for the userspace tests"
	sh /userspace/guest.sh /userspace
	note "userspace suite exited with $?"
	unload
else
	not_ok "userspace guest tests missing (/userspace/guest.sh)"
fi

# --- concurrency, faults, clock steps (last) ---------------------------------
load
tap $? "insmod for the stress tests"
run_prog flakeid_stress

# The clock test left the ID clock an hour ahead: unloading cannot wait,
# it logs the floor to pass at the next load.  Do that and check it works.
last=$(ids 1)
dmesg >/tmp/dmesg.before
unload
tap $? "rmmod with the ID clock an hour ahead"
dmesg | tail -n +$(($(wc -l </tmp/dmesg.before) + 1)) >/tmp/dmesg.unload
cat /tmp/dmesg.unload | sed 's/^/# dmesg: /'
logged=$(sed -n 's/.*load with \(floor_ms=[0-9]* floor_epoch_ms=[0-9]* floor_layout=[0-9:]*\) .*/\1/p' /tmp/dmesg.unload | tail -n 1)
[ -n "$logged" ]
tap $? "rmmod logged the floor to pass at the next load ($logged)"
if [ -n "$logged" ]; then
	# shellcheck disable=SC2086 # one word per parameter
	load $logged
	first=$(ids 1)
	[ -n "$first" ] && [ "$first" -gt "$last" ]
	tap $? "reload with the logged floor_ms: $first > $last"
	unload
fi

dmesg | grep -E 'BUG:|WARNING:|Oops|KASAN:|UBSAN:|KCSAN:|circular locking|lock state|sleeping function|general protection' >/tmp/dmesg.bad
[ ! -s /tmp/dmesg.bad ]
tap $? "kernel log has no BUG/WARNING/lockdep/KASAN/UBSAN report"
sed 's/^/# /' /tmp/dmesg.bad
exit 0
