#!/bin/bash
# SPDX-License-Identifier: MIT
# The library's guest suite alone (host side): builds the module and the
# static test programs, boots a guest that runs userspace/tests/guest.sh as
# its /main.sh, and prints its TAP lines, then checks the guest's UUIDs
# with Python's uuid module (uuid7-check.py).  `make check` runs the same
# script inside the whole guest suite (tests/main/guest.sh).
#
#   userspace/tests/run.sh      results and console log in build/userspace/
set -eu

TOP=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$TOP/build/userspace
mkdir -p "$OUT"
make -s -C "$TOP" module >"$OUT/make.log" 2>&1 || { cat "$OUT/make.log" >&2; exit 1; }
make -s -C "$TOP/userspace" guest-install >>"$OUT/make.log" 2>&1 ||
	{ cat "$OUT/make.log" >&2; exit 1; }
rc=0
"$TOP/tests/qemu/run-guest.sh" --main "$TOP/userspace/tests/guest.sh" \
	--out "$OUT/results.txt" --log "$OUT/console.log" \
	--timeout "${FLAKEID_GUEST_TIMEOUT:-900}" || rc=$?
# The guest's `flakeid uuid7` output, parsed by Python's uuid module.
"$TOP/userspace/tests/uuid7-check.py" "$OUT/results.txt" || rc=1
exit "$rc"
