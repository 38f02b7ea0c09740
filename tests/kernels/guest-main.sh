#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest script for check-kernels.sh: runs the guest suite (/suite.sh, a copy
# of tests/guest/main.sh) or, without one, the smoke (/smoke.sh); then, on a
# kernel with kmemleak, scans for leaks.  A leak whose allocation trace
# names flakeid, or an address no symbol covers (a module since
# unloaded), fails the run.
set -u

K=/sys/kernel/debug/kmemleak
echo "guest: $(uname -r), $(nproc) CPUs"
# Forget what boot left behind (ACPI caches and the like show up as
# leaks): a scan finds them, clear puts them aside, so only objects
# allocated from here on are reported.
if [ -w "$K" ]; then
	echo scan >"$K"
	echo clear >"$K"
fi
if [ -f /suite.sh ]; then
	sh /suite.sh
else
	sh /smoke.sh
fi
rc=$?

if [ -w "$K" ]; then
	# An object is reported once it has been unreferenced for 5 s and seen
	# by a scan; two scans apart make the report stable.
	echo scan >"$K"
	sleep 6
	echo scan >"$K"
	cat "$K" >/tmp/leaks
	total=$(grep -c '^unreferenced object' /tmp/leaks)
	ours=$(awk '/^unreferenced object/ { if (hit) n++; hit = 0 }
		    /flakeid|[]] 0x/ { hit = 1 }
		    END { if (hit) n++; print n + 0 }' /tmp/leaks)
	echo "kmemleak: $total suspected leaks, $ours from flakeid"
	if [ "$ours" != 0 ]; then
		cat /tmp/leaks
		rc=1
	elif [ "$total" != 0 ]; then
		# Boot-time leaks elsewhere in the kernel are not ours; show them
		# briefly so they can be told apart.
		head -n 40 /tmp/leaks
	fi
fi

# A KCSAN kernel whose detector is switched off would pass everything: show
# that it ran (debugfs prints "enabled: 1" and its watchpoint counters).
KC=/sys/kernel/debug/kcsan
if [ -r "$KC" ]; then
	tr '\n' ' ' <"$KC" | sed 's/^/kcsan: /'
	echo
	grep -q 'enabled: 1' "$KC" || { echo "kcsan: the detector is off"; rc=1; }
fi
exit $rc
