#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest side of the VM restore and clone test (run as /main.sh by
# tests/qemu/run-guest.sh for tests/vmfork/run.sh, which reads every line
# and does all the judging).  The mode is on the kernel command line:
#   flakeid_vmfork=fork    issue IDs (phase 1); a copy that gets fenced does
#                          what an operator would: takes the machine_id and
#                          floor the host put in fw_cfg, writes until_ms=none
#                          and issues again (phase 2)
#   flakeid_vmfork=loadvm  issue IDs while the host runs savevm and loadvm
# Lines: "I ..."/"E ..." from flakeid_vmfork (one per batch), "U ..." (the
# first UUID of each millisecond, after the IDs), "V WHAT k=v..."
# for the state, "# ..." notes.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
SYS=/sys/class/misc/flakeid
FW=/sys/firmware/qemu_fw_cfg/by_name/opt/flakeid
T=/tests

mode=$(sed -n 's/.*flakeid_vmfork=\([a-z]*\).*/\1/p' /proc/cmdline)
# Phase 1: BATCHES batches of IDS IDs, MS ms apart (default 120:16:50).
arg() {
	sed -n "s/.*flakeid_vmfork_$1=\([0-9]*\).*/\1/p" /proc/cmdline
}
batches=$(arg batches) ids=$(arg ids) ms=$(arg ms)
: "${batches:=120}" "${ids:=16}" "${ms:=50}"

state() {
	echo "V $1 machine_id=$(cat $SYS/machine_id) vm_forks=$(cat $SYS/vm_forks)" \
		"until_ms=$(cat $SYS/until_ms) generation=$(cat $SYS/generation)" \
		"floor_ms=$(cat $SYS/floor_ms) until_refused=$(cat $SYS/until_refused)"
}

# fw_cfg: a module on Debian's kernel, built in on the debug kernel.
fwcfg() {
	cat "$FW/$1/raw" 2>/dev/null
}
[ -d /sys/firmware/qemu_fw_cfg ] || insmod /qemu_fw_cfg.ko 2>/dev/null
machine=$(fwcfg machine)
if [ -z "$machine" ]; then
	echo "V error no fw_cfg opt/flakeid/machine"
	exit 1
fi
if ! insmod /flakeid.ko "machine_id=$machine"; then
	echo "V error insmod /flakeid.ko machine_id=$machine"
	exit 1
fi
grep -qw rdrand /proc/cpuinfo || echo "# this CPU has no RDRAND"
state boot

case $mode in
fork)
	# A restored copy gets EKEYEXPIRED once fenced.
	"$T/flakeid_vmfork" 1 "$batches" "$ids" "$ms"
	rc=$?
	if [ "$rc" = 0 ]; then
		state end
		exit 0
	fi
	state fenced
	if [ "$rc" != 4 ]; then
		echo "V error flakeid_vmfork exited $rc"
		exit 1
	fi
	echo "V fenced-read $("$T/flakeid_read" 1 2>&1 | head -n 1)"
	# The operator's part: a new machine_id for a clone, a floor above the
	# discarded run for a plain restore, then lift the fence.
	new=$(fwcfg machine)
	floor=$(fwcfg floor)
	echo "V operator machine=$new floor=$floor"
	echo "$new" >$SYS/machine_id || echo "V error machine_id=$new refused"
	if [ -n "$floor" ] && [ "$floor" != 0000000000000 ]; then
		echo "$floor" >$SYS/floor_ms || echo "V error floor_ms=$floor refused"
	fi
	echo none >$SYS/until_ms || echo "V error until_ms=none refused"
	state unfenced
	# Phase 2: 40 batches of 16.
	"$T/flakeid_vmfork" 2 40 16 50
	rc=$?
	# UUIDs for 1.5 s: copies running at once share milliseconds.
	"$T/flakeid_vmfork" uuid 1500 || rc=$?
	state end
	[ "$rc" = 0 ]
	;;
loadvm)
	"$T/flakeid_vmfork" 1 "$batches" "$ids" "$ms"
	rc=$?
	state end
	[ "$rc" = 0 ]
	;;
*)
	echo "V error unknown mode '$mode'"
	exit 1
	;;
esac
