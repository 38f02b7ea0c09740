#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The long soak (`make soak`): many IDs across 8 vCPUs on the debug kernel
# while a controller changes region/app/machine and the layout, steps the
# wall clock back and forward, takes CPUs offline and online, reloads the
# module with the saved floor_state (and a changed epoch or layout, after
# trying loads that must be refused), and once runs the timestamp field
# out (EOVERFLOW) and widens the layout.  Zero duplicates required.
#
#   run.sh [--ids N] [--secs MAX] [--event-ms MS] [--kernel NAME]
#          [--smp N] [--mem SIZE] [--seed N] [--selftest]
#
# Defaults: 10^8 IDs (SOAK_IDS), at most 3 hours (SOAK_SECS), an event
# every ~200 ms, kernel debug, 8 vCPUs, 3 GiB.  The IDs are checked in the
# guest (see tests/soak/flakeid-soak.c); the figures are printed and kept
# in build/soak/last-result.txt.  Ends with "N passed, N failed".
# --selftest plants a duplicate and a stray ID; passes only if the check
# finds both and nothing else.
set -u

. "$(dirname "$0")/../../scripts/host-lib.sh"
TOP=$(flakeid_top "$0")
. "$TOP/tests/kernels/host-kernels.sh"

IDS=${SOAK_IDS:-100000000} SECS=${SOAK_SECS:-10800} EVENT_MS=200
KERNEL=debug SMP=8 SMEM=3G SEED=$(date +%s) SELFTEST=
while [ $# -gt 0 ]; do
	case $1 in
	--ids) IDS=$2; shift ;;
	--secs) SECS=$2; shift ;;
	--event-ms) EVENT_MS=$2; shift ;;
	--kernel) KERNEL=$2; shift ;;
	--smp) SMP=$2; shift ;;
	--mem) SMEM=$2; shift ;;
	--seed) SEED=$2; shift ;;
	--selftest) SELFTEST=1 ;;
	*) sed -n '3,18s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
	shift
done

OUT=$TOP/build/soak
flakeid_setup_guest_run soak "$KERNEL"
printf 'SOAK_IDS=%s\nSOAK_SECS=%s\nSOAK_EVENT_MS=%s\nSEED=%s\nSOAK_SELFTEST=%s\n' \
	"$IDS" "$SECS" "$EVENT_MS" "$SEED" "$SELFTEST" >"$OUT/config"

echo "# soak: $IDS IDs (at most ${SECS}s), kernel $KERNEL ($KREL), $SMP vCPUs, $SMEM, seed $SEED"
start=$(date +%s)
# The guest verifies after the run: leave it time for that and for boot.
"$TOP/tests/qemu/run-guest.sh" --kernel "$KIMAGE" --append "$APPEND" \
	--smp "$SMP" --mem "$SMEM" --timeout $((SECS * 2 + 1800)) --no-module \
	--extra-file "$TOP/build/kernels/$KERNEL/mod/flakeid.ko:/flakeid.ko" \
	--extra-file "$OUT/flakeid-soak:/soak/flakeid-soak" \
	--extra-file "$OUT/config:/soak/config" \
	--main "$TOP/tests/soak/guest.sh" \
	--out "$OUT/results.txt" --log "$OUT/console.log" 2>"$OUT/run-guest.err" |
	grep -v '^FLAKEID-GUEST-DONE'
rc=${PIPESTATUS[0]}
secs=$(( $(date +%s) - start ))
flakeid_guest_tally soak "$rc"
result=$OUT/last-result.txt
[ -n "$SELFTEST" ] && result=$OUT/selftest-result.txt
{
	echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "command: make soak SOAK_IDS=$IDS  (tests/soak/run.sh --ids $IDS)"
	echo "kernel: $KREL, $SMP vCPUs, $SMEM; wall time ${secs}s; seed $SEED"
	grep '^soak: \(fetched\|events\|module saw\|verified\)' "$OUT/results.txt"
	grep '^SOAK-RESULT' "$OUT/results.txt"
	echo "result: $p passed, $f failed"
} >"$result"
echo "# soak took ${secs}s; figures in ${result#"$TOP"/}"
echo "$p passed, $f failed"
[ "$f" = 0 ] && [ "$p" -gt 0 ]
