#!/bin/sh
# SPDX-License-Identifier: MIT
# The Rust binding's guest tests: `sh guest.sh DIR` in the QEMU guest of
# bindings/tests, DIR holding what `make guest-stage` put there (one static
# test binary per tests/*.rs, cargo-tap.sh).  Starts with flakeid loaded
# at its defaults; prints TAP lines; reloads the module and sets the clock
# for the decode groups, and puts both back before it ends.
#   1. every test binary at the defaults (fence alone: it fences the device);
#   2. decode parity: for each epoch and layout of decode.tsv, the module
#      reloaded with them (the clock set seconds after the epoch, so a 32-bit
#      timestamp field is not yet used up) and the kernel's decode checked
#      against decode_with() on every row of the group;
#   3. the timestamp field used up: EOVERFLOW is Error::Overflow.
D=${1:-/bindings/rust}
KO=/flakeid.ko
TSV=/bindings/testdata/decode.tsv
. /tap.sh
. /vectors.sh

# rtest BINARY SUFFIX ARGS...: one test binary, its results as our TAP.
rtest() {
	b=$1 sfx=$2
	shift 2
	# One test at a time: libtest then names a test before running it, so
	# a hang shows which; the timeout turns it into a failure.
	timeout -s KILL "${RUST_TEST_TIMEOUT:-300}" "$D/$b" --show-output --test-threads=1 "$@" \
		>/tmp/rs-binding.out 2>&1
	rc=$?
	[ $rc = 137 ] && echo "killed after ${RUST_TEST_TIMEOUT:-300} s" >>/tmp/rs-binding.out
	sh "$D/cargo-tap.sh" $rc "$b" "$sfx" </tmp/rs-binding.out >/tmp/rs-binding.tap
	tap_relay "" /tmp/rs-binding.tap
}

note "Rust binding: $(for b in vectors host ioctl_numbers device fence; do "$D/$b" --list 2>/dev/null; done | grep -c ': test$') tests"
# Not here: the header comparison (no C compiler in the guest; it ran on
# the host) and the used-up field (below, once it is used up).
for b in vectors host ioctl_numbers device fence; do
	rtest "$b" "" --skip ioctl_numbers_match_the_uapi_header \
		--skip used_up_timestamp_is_overflow
done

rs_decode() {
	FLAKEID_TEST_LAYOUT=$2 rtest device " [$2, epoch $1]" \
		--exact decode_agrees_with_the_kernel
}
vectors_each_config "$TSV" "$KO" rs_decode

rs_used_up() {
	FLAKEID_TEST_OVERFLOW=1 rtest device " [32:0:0:0:32, used up]" \
		--exact used_up_timestamp_is_overflow
}
vectors_used_up "$KO" rs_used_up

insmod "$KO"
tap $? "module reloaded with its defaults"
exit 0
