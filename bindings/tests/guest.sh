#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The bindings' guest suite, /main.sh in the guest booted by
# bindings/tests/run.sh.  Every staged binding, /bindings/<lang>/guest.sh,
# runs in turn with flakeid freshly loaded at its defaults; its TAP lines
# are relayed as "<lang>: NAME".  A binding's script that exits non-zero
# without a failing line, prints no result, or leaves the wall clock
# moved, gets a failing line of its own.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
KO=/flakeid.ko
. /tap.sh
mkdir -p /tmp
note "bindings guest suite on $(uname -r), $(nproc) CPUs"

up() { cut -d. -f1 /proc/uptime; }
found=0
for dir in /bindings/*/; do
	dir=${dir%/}
	lang=${dir##*/}
	[ -f "$dir/guest.sh" ] || continue
	found=1
	rmmod flakeid 2>/dev/null
	if ! insmod "$KO" 2>/tmp/insmod.err; then
		not_ok "$lang: insmod with default parameters ($(cat /tmp/insmod.err))"
		continue
	fi
	note "=== $lang"
	t0=$(date +%s)
	u0=$(up)
	# Its lines stream as "# | ..." comments (nothing counts them), then
	# its results are relayed as ours.
	{
		timeout -s KILL "${BINDING_TIMEOUT:-900}" sh "$dir/guest.sh" "$dir" 2>&1
		echo $? >"/tmp/bindings-$lang.rc"
	} | tee "/tmp/bindings-$lang.tap" | sed 's/^/# | /'
	rc=$(cat "/tmp/bindings-$lang.rc")
	# The results only: the rest was streamed already.
	grep -E '^(not )?ok ' "/tmp/bindings-$lang.tap" >"/tmp/bindings-$lang.results"
	tap_relay "$lang" "/tmp/bindings-$lang.results"
	note "$lang: guest.sh exited $rc after $(($(up) - u0)) s"
	if ! grep -qE '^(not )?ok ' "/tmp/bindings-$lang.tap"; then
		not_ok "$lang: guest tests ran no test (exit $rc)"
	elif [ "$rc" != 0 ] && ! grep -q '^not ok ' "/tmp/bindings-$lang.tap"; then
		not_ok "$lang: guest.sh exited $rc with no failing test"
	fi
	drift=$(($(date +%s) - t0 - ($(up) - u0)))
	[ "$drift" -ge -2 ] && [ "$drift" -le 2 ]
	tap $? "$lang: left the wall clock where it was (drift ${drift} s)"
	# Whatever it did, the next binding starts from the right time.
	date -s "@$((t0 + $(up) - u0))" >/dev/null
done
[ "$found" = 1 ]
tap $? "at least one binding staged under /bindings"
rmmod flakeid 2>/dev/null

dmesg | grep -E 'BUG:|WARNING:|Oops|KASAN:|UBSAN:|KCSAN:|circular locking|lock state|sleeping function|general protection' >/tmp/dmesg.bad
[ ! -s /tmp/dmesg.bad ]
tap $? "kernel log has no BUG/WARNING/lockdep/KASAN/UBSAN report"
sed 's/^/# /' /tmp/dmesg.bad
exit 0
