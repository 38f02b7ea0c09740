#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest script for tests/kernels/run.sh: runs the guest suite (/suite.sh, a
# copy of tests/main/guest.sh); then, on a kernel with kmemleak, scans for
# leaks (/kmemleak.sh): one of flakeid's fails the run.
set -u

echo "guest: $(uname -r), $(nproc) CPUs"
# Forget what boot left behind, so only objects allocated from here on
# are reported (no-op without kmemleak).
sh /kmemleak.sh forget
sh /suite.sh
rc=$?

# 0: no leak of ours, 2: no kmemleak in this kernel; anything else (a
# leak, or the helper missing) fails the run.
sh /kmemleak.sh report
case $? in
0 | 2) ;;
*) rc=1 ;;
esac

# A KCSAN kernel whose detector is switched off would pass everything: show
# that it ran (debugfs prints "enabled: 1" and its watchpoint counters).
# A printed race fails the run (panic_on_warn); data_races also counts the
# races the default profile leaves unprinted (no value changed), which
# name no code, so they are shown, not judged.
KC=/sys/kernel/debug/kcsan
if [ -r "$KC" ]; then
	tr '\n' ' ' <"$KC" | sed 's/^/kcsan: /'
	echo
	grep -q 'enabled: 1' "$KC" || { echo "kcsan: the detector is off"; rc=1; }
fi
exit $rc
