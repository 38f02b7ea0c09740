#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`: boot a guest on the target kernel, load flakeid.ko and show
# it issuing and decoding IDs (tests/demo/guest.sh, run inside the guest).
# Installs what is missing and builds what is needed first.
set -eu

. "$(dirname "$0")/../../scripts/host-lib.sh"
TOP=$(flakeid_top "$0")
cd "$TOP"

scripts/install-deps.sh </dev/null
flakeid_kernel_env
echo "target kernel: $KERNELRELEASE"

LOGS=$TOP/build/logs
mkdir -p "$LOGS"
rm -f flakeid.ko
if ! make --no-print-directory module KERNELRELEASE="$KERNELRELEASE" KDIR="$KDIR" -j"$(flakeid_jobs)" >"$LOGS/demo-module.log" 2>&1; then
	cat "$LOGS/demo-module.log" >&2
	echo "demo: FAIL: the module does not build" >&2
	exit 1
fi

# The demo uses the CLI and test programs that userspace/ and tests/
# install into build/guest/.  A failure there only costs the demo those
# programs.
rm -rf build/guest
for d in userspace tests; do
	if ! make --no-print-directory -C "$d" guest-install >"$LOGS/demo-$d.log" 2>&1; then
		echo "demo: warning: $d guest-install failed (build/logs/demo-$d.log)" >&2
	fi
done

# The guest's output streams to this terminal as it arrives.
exec tests/qemu/run-guest.sh --main tests/demo/guest.sh \
	--out "$LOGS/demo-results.txt" --log "$LOGS/demo-console.log" \
	--timeout "${FLAKEID_GUEST_TIMEOUT:-300}"
