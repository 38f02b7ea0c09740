#!/bin/sh
# SPDX-License-Identifier: MIT
# The Go binding's guest tests: `sh guest.sh DIR` in the QEMU guest of
# bindings/tests, DIR holding what `make guest-stage` put there.  Starts
# with flakeid loaded with its default parameters; prints TAP lines; may
# reload the module and set the clock, and puts both back before it ends.
#   1. every test of the package (device tests included) at the defaults;
#   2. two of the migrated examples, run;
#   3. decode parity: for each epoch and layout of decode.tsv, the module
#      reloaded with them (the clock set just after the epoch, so that a
#      32-bit timestamp field is not yet used up) and the kernel's decode
#      checked against every row;
#   4. the timestamp field used up: EOVERFLOW is ErrOverflow;
#   5. the module unloaded: ErrNoDevice.
D=${1:-/bindings/go}
KO=/flakeid.ko
TSV=/bindings/testdata/decode.tsv
export FLAKEID_DECODE_TSV=$TSV
. /tap.sh
. /vectors.sh

# go TEST_ARGS...: the test binary, its results as TAP (GO_SUFFIX names
# the run).
gotest() {
	# A hang ends in the timeout's panic, with every goroutine's stack.
	"$D/flakeid.test" -test.v -test.count=1 -test.timeout=300s "$@" >/tmp/go-binding.out 2>&1
	sh "$D/gotest-tap.sh" $? "${GO_SUFFIX:-}" </tmp/go-binding.out >/tmp/go-binding.tap
	tap_relay "" /tmp/go-binding.tap
}

# All but the C-header test (no compiler here; it ran on the host) and the
# three that need the module loaded (or not) for them (below).
tests=$("$D/flakeid.test" -test.list '.*' | grep '^Test' |
	grep -vxE 'TestIoctlNumbersC|TestDeviceDecodeVectors|TestDeviceOverflow|TestDeviceAbsent' | tr '\n' '|')
note "Go binding, at the defaults: ${tests%|}"
gotest -test.run "^(${tests%|})\$"

for ex in debugdecode batch; do
	out=$("$D/$ex" 2>&1)
	rc=$?
	echo "$out" | sed 's/^/# /'
	case $ex in
	debugdecode) echo "$out" | grep -q '^  Region ID: 0$' ;;
	batch) [ "$(echo "$out" | grep -c '^[0-9]')" = 3 ] ;;
	esac
	st=$?
	[ $rc = 0 ] && [ $st = 0 ]
	tap $? "migrated example $ex runs against the device"
done

go_decode() {
	FLAKEID_TEST_LAYOUT=$2 FLAKEID_TEST_EPOCH_MS=$1 GO_SUFFIX=" [$2, epoch $1]" \
		gotest -test.run '^TestDeviceDecodeVectors$'
}
vectors_each_config "$TSV" "$KO" go_decode

go_used_up() {
	FLAKEID_TEST_OVERFLOW=1 GO_SUFFIX=" [32:0:0:0:32, used up]" \
		gotest -test.run '^TestDeviceOverflow$'
}
vectors_used_up "$KO" go_used_up

# No module, no device node: ErrNoDevice.
rmmod flakeid 2>/dev/null
FLAKEID_TEST_ABSENT=1 GO_SUFFIX=" [module unloaded]" gotest -test.run '^TestDeviceAbsent$'

insmod "$KO"
tap $? "module reloaded with its defaults"
exit 0
