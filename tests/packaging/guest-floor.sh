#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest half of the packaging tests (busybox sh, run as the guest's
# /main.sh): load the DKMS-built module with modprobe from its modules
# directory, check the modprobe.d options and the device mode, then keep
# IDs unique across reloads with the wall clock set back, through the real
# modprobe hooks (kmod's modprobe) and flakeid-floor.  TAP on stdout.
#
# tests/packaging/run.sh builds the initramfs extras this needs:
#   /lib/modules/<release>/updates/dkms/flakeid.ko and depmod's indexes
#   /usr/sbin/flakeid-floor, /etc/default/flakeid
#   /etc/modprobe.d/flakeid.conf (region_id=3 app_id=5 machine_id=7)
#   /lib/modprobe.d/flakeid-floor.conf
#   /usr/bin/kmod and its libraries (busybox's modprobe ignores install/remove)
# and runs: run-guest.sh --no-module --main tests/packaging/guest-floor.sh
#           --extra-file ... (one per file above)

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
K=$(uname -r)
SYS=/sys/class/misc/flakeid
STATE=/var/lib/flakeid/floor_ms
MARGIN=120000
T=/tmp/flakeid-pkg
mkdir -p "$T" /var/lib/flakeid

. /tap.sh

loaded() { [ -e "$SYS/floor_ms" ]; }

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
# Unix ms of an ID, from the live layout and epoch.
ts_of() {
	echo $(($1 >> SHIFT))
	return 0
}
unix_ms() {
	echo $(($(ts_of "$1") + EPOCH))
}
layout_env() {
	IFS=: read -r _t r a m s <"$SYS/layout"
	SHIFT=$((r + a + m + s))
	EPOCH=$(cat "$SYS/epoch_ms")
}
clock_back_1h() {
	date -s "@$(($(date +%s) - 3600))" >/dev/null
}
saved() { cat "$STATE" 2>/dev/null; }

note "kernel $K"

# --- DKMS module, busybox modprobe, options, device --------------------
check "the DKMS-built module is in /lib/modules/$K/updates/dkms" \
	'[ -f "/lib/modules/$K/updates/dkms/flakeid.ko" ]'
check "busybox modprobe loads flakeid from the modules directory" \
	'modprobe flakeid && loaded'
check "the loaded module is version 0.1.0" \
	'[ "$(cat /sys/module/flakeid/version 2>/dev/null)" = 0.1.0 ]'
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
fi
check "busybox modprobe -r unloads it" 'modprobe -r flakeid && ! loaded'

# --- from here on the system's modprobe (kmod), with the hooks ----------
# Called by path: busybox sh runs its own applets before searching PATH.
ln -sf /usr/bin/kmod /sbin/modprobe
modprobe() { /sbin/modprobe "$@"; }

rm -f "$STATE"
check "first load with nothing saved: modprobe (install hook) loads it" \
	'modprobe flakeid && loaded'
layout_env
ids 1000 "$T/a"
flakeid-floor save >/dev/null
a_max=$(max_of "$T/a")
check "save stores a floor at or above every issued timestamp" \
	'[ -n "$(saved)" ] && [ "$(saved)" -ge "$(unix_ms "$a_max")" ]'
s1=$(saved)

rm -f "$STATE"
check "modprobe -r saves the floor (remove hook) and unloads" \
	'modprobe -r flakeid && ! loaded && [ "$(saved)" -ge "$s1" ]'
s1=$(saved)

# Control: the same reload without the floor repeats the past.
clock_back_1h
modprobe --ignore-install flakeid
ids 100 "$T/control"
check "control: loaded without the floor, IDs after the clock went back are lower" \
	'[ "$(max_of "$T/control")" -lt "$(min_of "$T/a")" ]'
rmmod flakeid

check "modprobe with the clock 1 h back passes floor_ms = saved + margin" \
	'modprobe flakeid && [ "$(cat $SYS/floor_ms)" -ge $((s1 + MARGIN)) ]'
ids 1000 "$T/b"
check "every ID after the reload exceeds every ID before it" \
	'[ "$(min_of "$T/b")" -gt "$a_max" ]'

# --- unclean stop: IDs issued after the last save, nothing saved at the end
ids 500 "$T/c1"
flakeid-floor save >/dev/null
s2=$(saved)
sleep 2
ids 500 "$T/c2"
check "IDs issued after the last save lie above the saved floor" \
	'[ "$(unix_ms "$(min_of "$T/c2")")" -gt "$s2" ]'
old_max=$(max_of "$T/a" "$T/b" "$T/c1" "$T/c2")
# rmmod, unlike modprobe -r, runs no hook: nothing is saved, as in a crash.
rmmod flakeid
check "after the unclean stop the state file still holds the last save" \
	'[ "$(saved)" = "$s2" ]'
clock_back_1h
check "modprobe with the clock back again restores saved + margin" \
	'modprobe flakeid && [ "$(cat $SYS/floor_ms)" -ge $((s2 + MARGIN)) ]'
ids 1000 "$T/d"
check "every ID after the unclean stop exceeds every earlier ID" \
	'[ "$(min_of "$T/d")" -gt "$old_max" ]'

# --- a load that bypasses modprobe (insmod): the restore that udev and
# flakeid-floor.service run raises the floor through sysfs.
flakeid-floor save >/dev/null
old_max=$(max_of "$T/d")
rmmod flakeid
clock_back_1h
insmod "/lib/modules/$K/updates/dkms/flakeid.ko"
check "flakeid-floor restore raises floor_ms after a plain insmod" \
	'flakeid-floor restore >/dev/null && [ "$(cat $SYS/floor_ms)" -ge $(( $(saved) + MARGIN )) ]'
ids 1000 "$T/e"
check "every ID after the sysfs restore exceeds every earlier ID" \
	'[ "$(min_of "$T/e")" -gt "$old_max" ]'
check "a second restore changes nothing (the floor never goes down)" \
	'before=$(cat $SYS/floor_ms); flakeid-floor restore >/dev/null && [ "$(cat $SYS/floor_ms)" -ge "$before" ]'

# --- a corrupt state file never keeps the module from loading
flakeid-floor save >/dev/null
rmmod flakeid
echo garbage >"$STATE"
check "modprobe still loads the module when the state file is corrupt" \
	'modprobe flakeid 2>/dev/null && loaded'
check "flakeid-floor restore reports the corrupt state file" \
	'! flakeid-floor restore 2>/dev/null'
rmmod flakeid 2>/dev/null

tap_plan
