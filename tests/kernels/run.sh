#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build flakeid.ko against each test kernel and run the full guest suite on
# it (`make check-kernels`).  TAP lines on stdout, then "N passed, N failed".
#
#   run.sh [KERNEL...]
#
# Kernels (default: stock rt debug kcsan):
#   stock      Debian's linux-image-amd64, the default target
#   rt         Debian's linux-image-rt-amd64 (PREEMPT_RT), fetched unpacked
#   debug      built from linux-source-6.1 with KASAN, lockdep, UBSAN, ...
#   kcsan      the same with KCSAN instead of KASAN
#   kcsan-strict  KCSAN in strict mode, for looking (kcsan-strict.config)
#   backports  Debian's linux-image-amd64 from bookworm-backports (6.12)
#   unstable   a small build of the newest linux-source in Debian unstable
# Each kernel's module is built in build/kernels/<kernel>/mod (a copy of the
# sources, so the tree's own flakeid.ko is left alone) with W=1; any
# compiler warning fails it.  The guest boots with panic_on_warn=1; on
# kernels with kmemleak the suite is followed by a leak scan.  Logs:
# build/kernels/<kernel>/.  Built and fetched kernels are cached (see
# build-kernel.sh, debian-kernel.sh).
set -u

. "$(dirname "$0")/../../scripts/host-lib.sh"
TOP=$(flakeid_top "$0")
HERE=$TOP/tests/kernels
. "$HERE/host-kernels.sh"
KERNELS=${*:-stock rt debug kcsan}

. "$TOP/tests/tap.sh"

# The suite's programs and flakeid(1), installed into build/guest/ once.
mkdir -p "$TOP/build"
if ! { make -s -C "$TOP/tests" guest-install &&
	make -s -C "$TOP/userspace" guest-install; } >"$TOP/build/kernels-tests.log" 2>&1; then
	tail -n 20 "$TOP/build/kernels-tests.log" >&2
	tap 1 "build the guest test programs (make -C tests guest-install, make -C userspace guest-install)"
	echo "$passed passed, $failed failed"
	exit 1
fi
SUITE=$TOP/tests/main/guest.sh

for k in $KERNELS; do
	out=$TOP/build/kernels/$k
	mkdir -p "$out"
	start=$(date +%s)
	if ! flakeid_resolve_kernel "$k" 2>"$out/kernel.log"; then
		tail -n 5 "$out/kernel.log" | sed 's/^/# /'
		tap 1 "$k: kernel ready"
		continue
	fi
	tap 0 "$k: kernel ready ($KREL, $(( $(date +%s) - start ))s)"

	if ! flakeid_build_module "$k"; then
		grep -E 'warning:|error:' "$out/module.log" | head -n 10 | sed 's/^/# /'
		tap 1 "$k: module builds warning-free against $KBUILD"
		continue
	fi
	tap 0 "$k: module builds warning-free"

	start=$(date +%s)
	"$TOP/tests/qemu/run-guest.sh" --quiet --kernel "$KIMAGE" --append "$APPEND" \
		--mem "$MEM" --timeout "$TIMEOUT" --no-module \
		--extra-file "$out/mod/flakeid.ko:/flakeid.ko" \
		--extra-file "$SUITE:/suite.sh" \
		--extra-file "$HERE/kmemleak.sh:/kmemleak.sh" \
		--main "$HERE/guest.sh" --out "$out/results.txt" \
		--log "$out/console.log" 2>"$out/run-guest.err"
	rc=$?
	secs=$(( $(date +%s) - start ))
	p=$(grep -c '^ok ' "$out/results.txt")
	f=$(grep -c '^not ok ' "$out/results.txt")
	grep '^not ok ' "$out/results.txt" | sed 's/^/# /'
	grep -E '^(kmemleak|kcsan):' "$out/results.txt" | cut -c1-200 | sed 's/^/# /'
	if [ "$rc" != 0 ]; then
		tail -n 3 "$out/run-guest.err" | sed 's/^/# /'
		grep -E 'BUG:|WARNING:|KASAN:|UBSAN:|KCSAN:|circular locking|sleeping function' \
			"$out/console.log" | head -n 5 | sed 's/^/# console: /'
	fi
	[ "$rc" = 0 ] && [ "$f" = 0 ] && [ "$p" -gt 0 ]
	tap $? "$k: guest suite on $KREL: $p passed, $f failed, ${secs}s (log build/kernels/$k/)"
done

tap_plan
rc=$?
echo "$passed passed, $failed failed"
exit $rc
