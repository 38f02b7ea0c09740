#!/bin/sh
# SPDX-License-Identifier: MIT
# The Python binding's guest tests: `sh guest.sh DIR` in the QEMU guest of
# bindings/tests, DIR holding what `make guest-stage` put there: the staged
# runtime (runtime/python3, PYTHONHOME set by it), src/flakeid, tests/,
# unittest-tap.sh.  Starts with flakeid loaded at its defaults; prints TAP
# lines; reloads the module and sets the clock for the decode groups, and
# puts both back before it ends.
#   1. every test at the defaults (the fence test fences and restores the
#      device; unittest runs one test at a time);
#   2. decode parity: for each epoch and layout of decode.tsv, the module
#      reloaded with them (the clock set seconds after the epoch) and the
#      kernel's decode checked against decode_with() on every row;
#   3. the timestamp field used up: EOVERFLOW is TimestampOverflowError.
D=${1:-/bindings/python}
KO=/flakeid.ko
TSV=/bindings/testdata/decode.tsv
export FLAKEID_DECODE_TSV=$TSV
export PYTHONPATH="$D/src"
. /tap.sh
. /vectors.sh

# pytest SUFFIX ARGS...: unittest -v with ARGS, its results as our TAP.
pytest() {
	sfx=$1
	shift
	(cd "$D/tests" && "$D/runtime/python3" -S -m unittest -v "$@") >/tmp/py-binding.out 2>&1
	sh "$D/unittest-tap.sh" $? "$sfx" </tmp/py-binding.out >/tmp/py-binding.tap
	tap_relay "" /tmp/py-binding.tap
}

note "Python binding: $("$D/runtime/python3" -S -c 'import sys; print(sys.version.split()[0])'), runtime $(du -sh "$D/runtime" | cut -f1)"
# Every test but the header comparison (no C compiler in the guest; it ran
# on the host) and the used-up field (below, once it is used up).
all=$(cd "$D/tests" && "$D/runtime/python3" -S -c '
import unittest
def ids(s):
    for t in s:
        yield from ids(t) if isinstance(t, unittest.TestSuite) else [t.id()]
print(" ".join(ids(unittest.defaultTestLoader.loadTestsFromNames(["test_host", "test_device"]))))')
pytest "" $(for t in $all; do
	case $t in
	*.test_match_the_uapi_header | *.test_used_up_timestamp_is_overflow) ;;
	*) echo "$t" ;;
	esac
done)

py_decode() {
	FLAKEID_TEST_LAYOUT=$2 pytest " [$2, epoch $1]" \
		test_device.Device.test_decode_agrees_with_the_kernel
}
vectors_each_config "$TSV" "$KO" py_decode

py_used_up() {
	FLAKEID_TEST_OVERFLOW=1 pytest " [32:0:0:0:32, used up]" \
		test_device.Device.test_used_up_timestamp_is_overflow
}
vectors_used_up "$KO" py_used_up

insmod "$KO"
tap $? "module reloaded with its defaults"
exit 0
