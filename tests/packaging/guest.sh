#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest half of the packaging tests (busybox sh, run as the guest's
# /main.sh): load the DKMS-built module with modprobe from its modules
# directory, check the modprobe.d options and the device mode, then, through
# the real modprobe hooks (kmod's modprobe) and flakeid-floor, keep IDs
# unique across every reload an operator can cause: a crash right after a
# load, clean reload cycles, an epoch or layout change, a corrupt state with
# the clock back, a failed save, a saved floor out of the layout's reach,
# a load before the state file is reachable.  TAP on stdout.
#
# tests/packaging/run.sh builds the initramfs extras this needs:
#   /lib/modules/<release>/updates/dkms/flakeid.ko and depmod's indexes
#   /usr/sbin/flakeid-floor, /etc/default/flakeid
#   /etc/modprobe.d/flakeid.conf (region_id=3 app_id=5 machine_id=7)
#   /lib/modprobe.d/flakeid-floor.conf
#   /usr/bin/kmod, /usr/bin/flock and their libraries (busybox's modprobe
#   ignores install/remove commands; busybox here has no flock)
# and runs: run-guest.sh --no-module --main tests/packaging/guest.sh
#           --extra-file ... (one per file above)

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
K=$(uname -r)
SYS=/sys/class/misc/flakeid
DIR=/var/lib/flakeid
STATE=$DIR/floor_state
CONF=/etc/modprobe.d/flakeid.conf
T=/tmp/flakeid-pkg
mkdir -p "$T" "$DIR"
cp "$CONF" "$T/modprobe.conf"

. /tap.sh

loaded() { [ -e "$SYS/floor_state" ]; }

# N IDs into FILE, one per line.
ids() {
	dd if=/dev/flakeid bs=8 count="$1" 2>/dev/null | od -An -v -tu8 |
		tr -s ' ' '\n' | grep -v '^$' >"$2"
}
max_of() {
	m=
	for f in "$@"; do
		while read -r x; do
			if [ -z "$m" ] || [ "$x" -gt "$m" ]; then m=$x; fi
		done <"$f"
	done
	echo "$m"
}
min_of() {
	m=
	while read -r x; do
		if [ -z "$m" ] || [ "$x" -lt "$m" ]; then m=$x; fi
	done <"$1"
	echo "$m"
}
# Every ID in FILE exceeds every ID issued before: the running maximum.
ALL_MAX=0
above_all() {
	[ -s "$1" ] && [ "$(min_of "$1")" -gt "$ALL_MAX" ]
}
seen() {
	m=$(max_of "$@")
	[ "$m" -le "$ALL_MAX" ] || ALL_MAX=$m
}
layout_env() {
	IFS=: read -r _t r a m s <"$SYS/layout"
	SHIFT=$((r + a + m + s))
	EPOCH=$(cat "$SYS/epoch_ms")
}
clock_shift() {
	date -s "@$(($(date +%s) + $1))" >/dev/null
}
state_kind() { sed -n 's/^state=\([a-z]*\).*/\1/p' "$STATE" 2>/dev/null; }
saved_ms() { sed -n 's/^floor_ms=\([0-9]*\) .*/\1/p' "$STATE" 2>/dev/null; }
live_ms() { cat "$SYS/floor_ms"; }

note "kernel $K"

# --- DKMS module, busybox modprobe, options, device --------------------
check "the DKMS-built module is in /lib/modules/$K/updates/dkms" \
	'[ -f "/lib/modules/$K/updates/dkms/flakeid.ko" ]'
check "busybox modprobe loads flakeid from the modules directory" \
	'modprobe flakeid && loaded'
VER=$(cat /etc/flakeid-test-version)
check "the loaded module is version $VER (the tree's VERSION)" \
	'[ -n "$VER" ] && [ "$(cat /sys/module/flakeid/version 2>/dev/null)" = "$VER" ]'
check "/etc/modprobe.d/flakeid.conf sets region_id=3 app_id=5 machine_id=7" \
	'[ "$(cat $SYS/region_id):$(cat $SYS/app_id):$(cat $SYS/machine_id)" = 3:5:7 ]'
check "/dev/flakeid is a character device of mode 0444" \
	'[ -c /dev/flakeid ] && [ "$(stat -c %a /dev/flakeid)" = 444 ]'
if loaded; then
	layout_env
	ids 1 "$T/one"
	id=$(cat "$T/one")
	check "an ID carries the configured region, app and machine" \
		'[ $(( (id >> (SHIFT - r)) & ((1 << r) - 1) )) = 3 ] &&
		 [ $(( (id >> (m + s)) & ((1 << a) - 1) )) = 5 ] &&
		 [ $(( (id >> s) & ((1 << m) - 1) )) = 7 ]'
	seen "$T/one"
fi
check "busybox modprobe -r unloads it" 'modprobe -r flakeid && ! loaded'

# --- from here on the system's modprobe (kmod), with the hooks ----------
# Called by path: busybox sh runs its own applets before searching PATH.
ln -sf /usr/bin/kmod /sbin/modprobe
modprobe() { /sbin/modprobe "$@"; }

rm -f "$STATE"
check "first load with nothing saved: modprobe (install hook) loads it" \
	'modprobe flakeid && loaded'
check "... and the state file holds this load's floor_state, state saved" \
	'[ "$(saved_ms)" -le "$(live_ms)" ] && [ "$(state_kind)" = saved ] &&
	 [ "$(sed -n "1s/^floor_ms=[0-9]* //p" "$STATE")" = "$(sed "s/^floor_ms=[0-9]* //" $SYS/floor_state)" ]'
ids 1000 "$T/a"
check "IDs after the first load exceed the busybox-loaded ones" 'above_all "$T/a"'
seen "$T/a"

# --- clean reload cycles: no margin, ahead_ms stays small -----------------
ok_cycles=1
for i in 1 2 3 4; do
	modprobe -r flakeid || ok_cycles=0
	[ "$(state_kind)" = clean ] || ok_cycles=0
	modprobe flakeid || ok_cycles=0
	ids 500 "$T/cyc$i"
	above_all "$T/cyc$i" || ok_cycles=0
	seen "$T/cyc$i"
	ahead=$(cat $SYS/ahead_ms)
	note "clean cycle $i: ahead_ms=$ahead"
	[ "$ahead" -lt 15000 ] || ok_cycles=0
done
check "four clean modprobe -r/modprobe cycles: state clean, ahead_ms < 15 s, no ID repeats" \
	'[ "$ok_cycles" = 1 ]'
before=$(live_ms)
flakeid-floor restore >/dev/null 2>&1
flakeid-floor restore >/dev/null 2>&1
after=$(live_ms)
check "two more flakeid-floor restore runs in the same load add no margin" \
	'[ $((after - before)) -lt 15000 ]'

# --- a crash right after a load (nothing saved after the load) ------------
ids 500 "$T/b"
seen "$T/b"
rmmod flakeid
check "crash right after a load: modprobe with a correct clock loads again" \
	'modprobe flakeid && loaded'
ids 1000 "$T/c"
check "... and every ID exceeds every ID the crashed load issued" 'above_all "$T/c"'
seen "$T/c"
rmmod flakeid
clock_shift -3600
check "a second crash, then modprobe with the clock 1 h back" 'modprobe flakeid && loaded'
ids 1000 "$T/d"
check "... every ID exceeds every earlier ID" 'above_all "$T/d"'
seen "$T/d"

# --- a failed save keeps the module loaded ---------------------------------
mount -o bind "$DIR" "$DIR" && mount -o remount,ro,bind "$DIR"
if touch "$DIR/probe" 2>/dev/null; then
	rm -f "$DIR/probe"
	umount "$DIR"
	skip "modprobe -r with $DIR read-only (cannot make it read-only)"
else
	modprobe -r flakeid 2>"$T/err"
	rc=$?
	check "modprobe -r with $DIR read-only fails and leaves the module loaded" \
		'[ "$rc" != 0 ] && loaded && grep -q "not unloading" "$T/err"'
	umount "$DIR"
fi
check "modprobe -r once $DIR is writable again unloads, state clean" \
	'modprobe -r flakeid && ! loaded && [ "$(state_kind)" = clean ]'

# --- a corrupt state file with the clock an hour back ----------------------
cp "$STATE" "$T/good"
echo garbage >"$STATE"
clock_shift -3600
dmesg -c >/dev/null
modprobe flakeid 2>"$T/err"
rc=$?
check "corrupt state file: modprobe fails, the module stays out" '[ "$rc" != 0 ] && ! loaded'
check "... the file is kept as it was" '[ "$(cat "$STATE")" = garbage ]'
check "... the message names the file and the fix, on stderr and in the kernel log" \
	'grep -q "$STATE" "$T/err" && grep -q "flakeid-floor reset" "$T/err" &&
	 dmesg | grep -q "flakeid-floor: .*$STATE"'
clock_shift 3600
flakeid-floor reset >/dev/null 2>&1
check "flakeid-floor reset moves it aside" \
	'ls "$DIR" | grep -q "^floor_state\.corrupt-" && [ ! -e "$STATE" ]'
rm -f "$DIR"/floor_state.corrupt-*
cp "$T/good" "$STATE"
check "with the good state back, modprobe loads" 'modprobe flakeid && loaded'
ids 500 "$T/i"
check "... every ID exceeds every earlier ID" 'above_all "$T/i"'
seen "$T/i"
modprobe -r flakeid
cp "$STATE" "$T/good"

# --- a valid saved floor the layout cannot reach ----------------------------
layout_max=$((1704067200000 + (1 << 41)))
printf 'floor_ms=%s floor_epoch_ms=1704067200000 floor_layout=41:4:3:5:10\nstate=clean\n' \
	$((layout_max + 86400000)) >"$STATE"
cp "$STATE" "$T/far"
dmesg -c >/dev/null
modprobe flakeid 2>"$T/err"
rc=$?
check "a saved floor beyond the layout: modprobe fails, the module stays out" '[ "$rc" != 0 ] && ! loaded'
check "... the message names the file, the cause and the fix" \
	'grep -q "$STATE" "$T/err" && grep -q "beyond the last millisecond" "$T/err" && grep -q "flakeid-floor reset" "$T/err"'
check "... the kernel log names floor_ms" 'dmesg | grep -v "flakeid-floor:" | grep -q "floor_ms"'
check "... the state file is unchanged" 'cmp -s "$STATE" "$T/far"'
insmod "/lib/modules/$K/updates/dkms/flakeid.ko"
before=$(live_ms)
flakeid-floor restore 2>"$T/err"
rc=$?
check "the same floor through sysfs (after an insmod): restore fails, names the file, floor unchanged" \
	'[ "$rc" != 0 ] && grep -q "$STATE" "$T/err" && [ $(($(live_ms) - before)) -lt 15000 ] && cmp -s "$STATE" "$T/far"'
rmmod flakeid
cp "$T/good" "$STATE"

# --- insmod bypasses modprobe: the sysfs restore raises the floor ----------
clock_shift -3600
insmod "/lib/modules/$K/updates/dkms/flakeid.ko"
check "flakeid-floor restore gives a plain insmod the saved floor" \
	'flakeid-floor restore >/dev/null && [ "$(state_kind)" = saved ]'
ids 1000 "$T/j"
check "... every ID after it exceeds every earlier ID" 'above_all "$T/j"'
seen "$T/j"
modprobe -r flakeid

# --- a load before the state file is reachable (initramfs, /var not mounted)
c=$(saved_ms)
mv "$DIR" "$DIR.hidden"
check "no state directory: modprobe loads the module without a floor" \
	'modprobe flakeid 2>"$T/err" && loaded && grep -q "without a saved floor" "$T/err"'
mv "$DIR.hidden" "$DIR"
check "once the state is there, flakeid-floor restore raises the floor to the saved one" \
	'flakeid-floor restore >/dev/null && [ "$(live_ms)" -ge "$c" ]'
ids 1000 "$T/k"
check "... every ID after it exceeds every earlier ID" 'above_all "$T/k"'
seen "$T/k"
modprobe -r flakeid

# --- the configuration changes between loads (last: the kernel refuses to
# go back to a later epoch or a narrower timestamp shift, by design) -------
modprobe flakeid
layout_env
E1=$((EPOCH - 86400000))
echo "$E1" >"$SYS/epoch_ms"
ids 500 "$T/e"
check "epoch_ms moved back a day through sysfs: later IDs exceed earlier ones" 'above_all "$T/e"'
seen "$T/e"
check "modprobe -r saves the floor_state with the changed epoch" \
	'modprobe -r flakeid && ! loaded && grep -q "^floor_ms=[0-9]* floor_epoch_ms=$E1 " "$STATE"'
cp "$STATE" "$T/before"
dmesg -c >/dev/null
modprobe flakeid 2>"$T/err"
if loaded; then
	ids 1000 "$T/f"
	check "reload under modprobe.d's epoch: every ID exceeds every earlier ID" 'above_all "$T/f"'
	seen "$T/f"
	modprobe -r flakeid
else
	check "reload under modprobe.d's epoch refused: the message names the saved epoch, the file and the fix" \
		'grep -q "taken under epoch_ms=$E1" "$T/err" && grep -q "$STATE" "$T/err" &&
		 grep -q "Load with the saved epoch_ms" "$T/err" && cmp -s "$STATE" "$T/before"'
	check "... and the kernel log names floor_ms and the cause" \
		'dmesg | grep -v "flakeid-floor:" | grep -q "floor_ms=.*cannot be placed"'
fi

# The operator's way: the saved epoch in modprobe.d, then wider changes.
k=0
for opts in "epoch_ms=$E1" "epoch_ms=$E1 layout=40:4:3:5:12" \
	"epoch_ms=$((E1 - 86400000)) layout=40:4:3:5:12"; do
	k=$((k + 1))
	modprobe -r flakeid 2>/dev/null
	sed "s/^options flakeid .*/& $opts/" "$T/modprobe.conf" >"$CONF"
	modprobe flakeid 2>"$T/err"
	if loaded; then
		ids 1000 "$T/g$k"
		ep=${opts%% *}
		check "'$opts' in $CONF between loads: every ID exceeds every earlier ID" \
			'above_all "$T/g$k" && grep -q "floor_epoch_ms=${ep#epoch_ms=} " "$SYS/floor_state"'
		seen "$T/g$k"
	else
		not_ok "'$opts' in $CONF between loads: loaded ($(head -n 1 "$T/err"))"
	fi
done
modprobe -r flakeid
cp "$STATE" "$T/before"
cp "$T/modprobe.conf" "$CONF"
dmesg -c >/dev/null
modprobe flakeid 2>"$T/err"
rc=$?
if loaded; then
	ids 1000 "$T/h"
	check "back to the later epoch and narrower layout: every ID exceeds every earlier ID" 'above_all "$T/h"'
	modprobe -r flakeid
else
	check "back to the later epoch and narrower layout: refused, with the saved configuration named" \
		'[ "$rc" != 0 ] && grep -q "taken under epoch_ms=" "$T/err" && cmp -s "$STATE" "$T/before"'
fi

tap_plan
