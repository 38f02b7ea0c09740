#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make check`: everything CI runs, in order, each step counted as tests:
#   deps, kernel files, module build, lint (checkpatch, sparse, W=1), host
#   tests (userspace check-host), test build (tests guest-install), the
#   guest suite in QEMU (tests/main/guest.sh), VM restore and clone
#   (tests/vmfork/), the language bindings (bindings/tests/), the
#   example, `make demo`, the benchmark smoke, the agent against etcd, the agent fleet
#   in QEMU (check-sized), packaging, the guest suite
#   on the PREEMPT_RT and debug kernels (VM restore and clone skips on the
#   debug kernel), then the fuzzers, the soak and its self-test on the
#   debug kernel.
# TAP lines from the host and guest suites are counted (`ok` passes, `ok ...
# # SKIP` skips, `not ok` fails); this script's own steps are tests too.
# The last line is always "N passed, N failed, N skipped"; exit 1 if any
# failed.  Logs stay in build/logs/.
#
# Environment: FLAKEID_FUZZ_SECS (each fuzzer run, default 60),
# FLAKEID_SOAK_IDS (default 10^8), FLAKEID_SOAK_SECS (the soak's time
# limit, default 900), FLAKEID_GUEST_TIMEOUT (seconds, default 2400),
# FLAKEID_GUEST_SMP (default 4), FLAKEID_GUEST_MEM (default 2G: room for
# tests that keep millions of IDs), FLAKEID_GUEST_APPEND (extra kernel args).
set -eu

. "$(dirname "$0")/../scripts/host-lib.sh"
TOP=$(flakeid_top "$0")
cd "$TOP"

LOGS=$TOP/build/logs
mkdir -p "$LOGS"
# ok, not_ok and the totals passed, failed, skipped (tests/tap.sh); the
# suites' results are added to the same totals.
. "$TOP/tests/tap.sh"
FAILURES=

# Each step of ours is one test: print it TAP-like, count it.
pass() {
	ok "$1"
}
fail() {
	FAILURES="$FAILURES
  $1"
	not_ok "$1"
}
banner() {
	echo
	echo "=== $* ==="
}

# Add the TAP results of FILE to the totals; COUNTED says how many it had.
# (Not run in $(...): the totals must change in this shell.)
count_tap() {
	local p f s
	p=$(grep -E '^ok ' "$1" | grep -cviE '# *SKIP' || true)
	s=$(grep -E '^ok ' "$1" | grep -ciE '# *SKIP' || true)
	f=$(grep -cE '^not ok ' "$1" || true)
	passed=$((passed + p))
	skipped=$((skipped + s))
	failed=$((failed + f))
	if [ "$f" != 0 ]; then
		FAILURES="$FAILURES
$(grep -E '^not ok ' "$1" | sed 's/^/  /')"
	fi
	COUNTED=$((p + s + f))
}

# Run a command with its output both shown and kept in a log.
logged() {
	local log=$1
	shift
	set +e
	"$@" 2>&1 | tee "$log"
	local rc=${PIPESTATUS[0]}
	set -e
	return "$rc"
}

# suite NAME LOG CMD...: run a command that prints TAP lines, count them,
# and fail NAME when it ran none or exited non-zero without a failing line.
suite() {
	local name=$1 log=$2 rc=0
	shift 2
	logged "$log" "$@" || rc=$?
	sed -i 's/\r$//' "$log"
	count_tap "$log"
	echo "# $name: $COUNTED results"
	if [ "$COUNTED" = 0 ]; then
		fail "$name ran no test (log: ${log#"$TOP"/})"
	elif [ "$rc" != 0 ] && ! grep -qE '^not ok ' "$log"; then
		fail "$name exited $rc with no failing test (log: ${log#"$TOP"/})"
	fi
}

finish() {
	if [ -n "$FAILURES" ]; then
		echo
		echo "Failed:$FAILURES"
	fi
	echo
	echo "$passed passed, $failed failed, $skipped skipped"
	if [ "$failed" = 0 ]; then
		exit 0
	fi
	exit 1
}

start=$(date +%s)

banner "dependencies"
if scripts/install-deps.sh </dev/null; then
	pass "dependencies installed"
else
	fail "dependencies installed"
	finish
fi
if flakeid_kernel_env; then
	echo "target kernel: $KERNELRELEASE ($KDIR)"
else
	fail "target kernel headers found"
	finish
fi

if KSRC=$(scripts/kernel-src.sh); then
	export KSRC
	pass "kernel source files extracted ($KSRC)"
else
	fail "kernel source files extracted"
fi

banner "module"
module_ok=0
# Remove an old flakeid.ko first: a failed build must not leave a stale
# module for the guest to test.
rm -f flakeid.ko
if logged "$LOGS/module.log" make --no-print-directory module KERNELRELEASE="$KERNELRELEASE" KDIR="$KDIR" -j"$(flakeid_jobs)" &&
	[ -f flakeid.ko ]; then
	pass "module builds"
	module_ok=1
else
	fail "module builds (log: build/logs/module.log)"
fi

banner "lint"
if scripts/checkpatch.sh; then pass "lint: checkpatch --strict"; else fail "lint: checkpatch --strict"; fi
if scripts/kbuild-check.sh sparse; then pass "lint: sparse (C=2)"; else fail "lint: sparse (C=2)"; fi
if scripts/kbuild-check.sh w1; then pass "lint: W=1"; else fail "lint: W=1"; fi

banner "host tests"
suite "host tests" "$LOGS/host.log" make --no-print-directory -C userspace check-host

# The guest runner's rule for retrying a boot that crashed before the
# module loaded, on captured console logs (no guest).
suite "guest runner self-test" "$LOGS/runner-selftest.log" tests/qemu/selftest.sh

banner "guest tests"
tests_ok=1
# Start from an empty tree so a test removed from the build cannot run.
rm -rf build/guest
# The library's static CLI and test programs.
if logged "$LOGS/userspace-guest.log" make --no-print-directory -C userspace guest-install -j"$(flakeid_jobs)"; then
	pass "userspace guest programs build (userspace guest-install)"
else
	fail "userspace guest programs build (log: build/logs/userspace-guest.log)"
	tests_ok=0
fi
if logged "$LOGS/tests-build.log" make --no-print-directory -C tests guest-install -j"$(flakeid_jobs)"; then
	pass "tests build (tests guest-install)"
else
	fail "tests build (log: build/logs/tests-build.log)"
	tests_ok=0
fi

if [ "$module_ok" != 1 ] || [ "$tests_ok" != 1 ]; then
	fail "guest kernel clean (not run: the module or the tests did not build)"
else
	suite "guest suite" "$LOGS/guest.log" tests/main/run.sh
fi

# A running guest saved to a file, restored once and cloned twice under
# -device vmgenid: every copy fences itself, and no ID is issued twice.
banner "VM restore and clone"
if [ "$module_ok" = 1 ] && [ "$tests_ok" = 1 ]; then
	suite "vmfork" "$LOGS/vmfork.log" tests/vmfork/run.sh
fi

# The Go, Rust and Python bindings: host tests, then one guest running
# each binding's device tests (bindings/tests/run.sh).
banner "language bindings"
if [ "$module_ok" = 1 ]; then
	suite "bindings" "$LOGS/bindings.log" bindings/tests/run.sh
else
	fail "bindings (not run: the module did not build)"
fi

banner "example program (pkg-config)"
if logged "$LOGS/examples.log" make --no-print-directory -C userspace examples-check; then
	pass "examples/hello.c builds with pkg-config and runs"
else
	fail "examples/hello.c builds with pkg-config and runs (log: build/logs/examples.log)"
fi

# `make demo`, the README's first command, so it cannot rot: the guest
# must decode IDs carrying the node ids it loaded with, and a UUIDv7.
banner "demo"
if [ "$module_ok" = 1 ]; then
	if logged "$LOGS/demo.log" tests/demo/run.sh &&
		grep -q ' region=1 app=2 machine=5 ' "$LOGS/demo-results.txt" &&
		grep -q ' version=7 variant=10 ' "$LOGS/demo-results.txt"; then
		pass "make demo decodes IDs and a UUIDv7"
	else
		fail "make demo decodes IDs and a UUIDv7 (log: build/logs/demo.log)"
	fi
fi

# The benchmark's short run, so it cannot rot; it never fails on timing.
banner "benchmark smoke"
if [ "$module_ok" = 1 ]; then
	suite "bench smoke" "$LOGS/bench-smoke.log" make --no-print-directory -s bench-smoke
fi

# flakeid-agent against a real 3-member etcd on 127.0.0.1-3 and a hostile
# fake etcd, under ASan+UBSan.
banner "flakeid-agent"
suite "agent" "$LOGS/agent.log" make --no-print-directory -s check-agent

# The fleet, check-sized (agent/tests/fleet/run.sh, FLEET_SIZE=check): three
# guests with the module and the agent, a 3-member etcd on the host, every
# fault kind of `make fleet` once.
banner "flakeid-agent fleet"
if [ "$module_ok" = 1 ]; then
	suite "fleet" "$LOGS/fleet.log" env FLEET_SIZE=check agent/tests/fleet/run.sh
else
	fail "fleet (not run: the module did not build)"
fi

# DKMS, Debian packages, and the floor surviving a reload with the clock
# set back.
banner "packaging"
suite "packaging" "$LOGS/packaging.log" tests/packaging/run.sh

# The whole guest suite again on Debian's PREEMPT_RT kernel (per-CPU code
# under real preemption) and on a debug kernel built from linux-source-6.1
# (KASAN, lockdep, UBSAN, DEBUG_ATOMIC_SLEEP, kmemleak, panic_on_warn; built
# once, then cached under /var/cache/flakeid-kernels).  Then the ioctl
# fuzzer and trinity, and the 10^8-ID soak, on the debug kernel.  KCSAN and
# the newer kernels run in `make check-kernels` (tests/kernels/README.md).
if [ "$module_ok" = 1 ] && [ "$tests_ok" = 1 ]; then
	banner "PREEMPT_RT kernel"
	suite "rt kernel suite" "$LOGS/kernel-rt.log" tests/kernels/run.sh rt
	banner "debug kernel (KASAN, lockdep, UBSAN, kmemleak)"
	suite "debug kernel suite" "$LOGS/kernel-debug.log" tests/kernels/run.sh debug
	# The VM restore test is not run here on the debug kernel: restored
	# copies print a KASAN stack-out-of-bounds report in __remove_hrtimer
	# from the idle task's timer interrupt (tests/kernels/README.md); run
	# it by hand with tests/vmfork/run.sh --kernel debug.
	banner "fuzzing (debug kernel)"
	suite "fuzz" "$LOGS/fuzz.log" tests/fuzz/run.sh \
		--secs "${FLAKEID_FUZZ_SECS:-60}" --trinity-secs "${FLAKEID_FUZZ_SECS:-60}"
	banner "soak (debug kernel)"
	suite "soak" "$LOGS/soak.log" tests/soak/run.sh \
		--ids "${FLAKEID_SOAK_IDS:-100000000}" --secs "${FLAKEID_SOAK_SECS:-900}"
	# The soak's verifier must be able to fail: one planted duplicate
	# among a million IDs has to be its one and only finding.
	banner "soak self-test (debug kernel)"
	suite "soak self-test" "$LOGS/soak-selftest.log" \
		make --no-print-directory -s soak-selftest
fi

echo
echo "# check took $(($(date +%s) - start))s; logs in build/logs/"
finish
