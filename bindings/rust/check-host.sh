#!/bin/sh
# SPDX-License-Identifier: MIT
# The Rust binding's host tests, as TAP lines (`make check-host`, which
# passes ENV, the cut-down cargo environment, and CARGO): the crate and its
# docs without warnings; cargo test, its device tests skipping without
# /dev/flakeid; then cargo-tap.sh itself on a canned run, so that a
# converter dropping a failure cannot go unseen.
cd "$(dirname "$0")" || exit 2
OUT=$(cd ../.. && pwd)/build/rust
CARGO=${CARGO:-/usr/bin/cargo}
# shellcheck source=../../tests/tap.sh
. ../../tests/tap.sh

if [ ! -x "$CARGO" ]; then
	echo "ok 1 - cargo # SKIP $CARGO not found (apt-get install cargo)"
	exit 0
fi
mkdir -p "$OUT"
# shellcheck disable=SC2086 # ENV is words: env VAR=... VAR=...
echo "# $($ENV rustc --version), $($ENV "$CARGO" --version)"

# shellcheck disable=SC2086
$ENV "$CARGO" rustc --offline -j1 --lib -- -D warnings >"$OUT/build.out" 2>&1
rc=$?
[ $rc = 0 ] || sed 's/^/# /' "$OUT/build.out"
tap $rc "the crate builds with -D warnings"
# shellcheck disable=SC2086
$ENV RUSTDOCFLAGS="-D warnings" "$CARGO" doc --offline -j1 --no-deps >"$OUT/doc.out" 2>&1
rc=$?
[ $rc = 0 ] || sed 's/^/# /' "$OUT/doc.out"
tap $rc "cargo doc with -D warnings (doc links resolve)"

# shellcheck disable=SC2086
# The device tests (tests/device.rs, tests/fence.rs) run in the guest.
$ENV "$CARGO" test --offline -j1 --no-fail-fast --lib --test vectors --test host \
	--test ioctl_numbers -- --show-output >"$OUT/host-test.out" 2>&1
sh ./cargo-tap.sh $? <"$OUT/host-test.out" >"$OUT/host-test.tap"
tap_relay "" "$OUT/host-test.tap"

got=$(sh ./cargo-tap.sh 101 <tests/tap-selftest.out | grep -v '^#')
want="ok 1 - a: good
not ok 2 - a: bad
ok 3 - a: quiet # SKIP no device
ok 4 - a: later # SKIP ignored"
[ "$got" = "$want" ]
tap $? "cargo-tap.sh: a failure, a skip by output, an ignored test, from a canned run"
got=$(printf 'error: could not compile\n' | sh ./cargo-tap.sh 101 | grep -v '^#')
[ "$got" = "not ok 1 - test: cargo test exited 101 with no failing test" ]
tap $? "cargo-tap.sh: a non-zero exit without a failing test fails ($got)"
[ "$failed" = 0 ]
