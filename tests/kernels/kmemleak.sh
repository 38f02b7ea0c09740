#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest helper (copied in as /kmemleak.sh) for kernels with kmemleak:
#
#   sh /kmemleak.sh forget    scan, then put every suspect aside, so only
#                             objects allocated from here on are reported
#                             (boot leaves ACPI caches and the like)
#   sh /kmemleak.sh report    scan twice, print "kmemleak: T suspected
#                             leaks, N from flakeid"; exit 1 when N > 0
#
# A suspect whose allocation trace names flakeid, or an address no symbol
# covers (a module since unloaded), is ours.  Exits 2 without kmemleak.
K=/sys/kernel/debug/kmemleak
[ -w "$K" ] || exit 2

case ${1:-} in
forget)
	echo scan >"$K"
	echo clear >"$K"
	;;
report)
	# An object is reported once it has been unreferenced for 5 s and
	# seen by a scan; two scans apart make the report stable.
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
		exit 1
	fi
	# Leaks elsewhere in the kernel are not ours; show them briefly so
	# they can be told apart.
	head -n 40 /tmp/leaks | sed 's/^/# /'
	;;
*)
	echo "usage: kmemleak.sh forget|report" >&2
	exit 2
	;;
esac
