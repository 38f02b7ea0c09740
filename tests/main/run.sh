#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The main guest suite, host side: boots the target kernel with flakeid.ko
# and build/guest/ (make module, make -C tests guest-install and make -C
# userspace guest-install first: `make check` does) and runs
# tests/main/guest.sh in it.  Prints the guest's TAP lines as they come,
# then its own: the kernel log was clean, the guest's UUIDs pass Python's
# uuid module (userspace/tests/uuid7-check.py), the suite ran tests, and a
# non-zero exit came with a failing test.  Exits 1 when any line failed.
# Results and console log: build/logs/guest-results.txt, guest-console.log.
#
# Environment: FLAKEID_GUEST_TIMEOUT (seconds, default 2400),
# FLAKEID_GUEST_SMP (default 4), FLAKEID_GUEST_MEM (default 2G: room for
# tests that keep millions of IDs), FLAKEID_GUEST_APPEND (extra kernel args).
set -u

TOP=$(cd "$(dirname "$0")/../.." && pwd)
LOGS=$TOP/build/logs
RESULTS=$LOGS/guest-results.txt
mkdir -p "$LOGS"
. "$TOP/tests/tap.sh"

rc=0
"$TOP/tests/qemu/run-guest.sh" --main "$TOP/tests/main/guest.sh" \
	--out "$RESULTS" --log "$LOGS/guest-console.log" \
	--smp "${FLAKEID_GUEST_SMP:-4}" --mem "${FLAKEID_GUEST_MEM:-2G}" \
	--timeout "${FLAKEID_GUEST_TIMEOUT:-2400}" \
	${FLAKEID_GUEST_APPEND:+--append "$FLAKEID_GUEST_APPEND"} || rc=$?

# 0: clean and guest.sh exited 0; 3: clean but guest.sh exited non-zero.
if [ "$rc" = 0 ] || [ "$rc" = 3 ]; then
	ok "guest kernel clean"
else
	not_ok "guest kernel clean (console: build/logs/guest-console.log)"
fi
# The guest's `flakeid uuid7` output, parsed by Python's uuid module here.
python3 "$TOP/userspace/tests/uuid7-check.py" "$RESULTS" >"$LOGS/uuid7-check.txt" 2>&1
tap_relay userspace "$LOGS/uuid7-check.txt"
results=$(grep -cE '^(not )?ok ' "$RESULTS")
echo "# guest tests: $results results"
guest_failed=$(grep -cE '^not ok ' "$RESULTS")
if [ "$results" = 0 ]; then
	not_ok "guest suite ran no test"
elif [ "$rc" = 3 ] && [ "$guest_failed" = 0 ]; then
	not_ok "guest suite exited non-zero with no failing test"
fi
[ "$failed" = 0 ] && [ "$guest_failed" = 0 ]
