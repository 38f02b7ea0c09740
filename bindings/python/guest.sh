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

# pytest SUFFIX ARGS...: unittest -v with ARGS, its results as our TAP.
pytest() {
	sfx=$1
	shift
	(cd "$D/tests" && "$D/runtime/python3" -S -m unittest -v "$@") >/tmp/py-binding.out 2>&1
	sh "$D/unittest-tap.sh" $? "$sfx" </tmp/py-binding.out >/tmp/py-binding.tap
	while IFS= read -r l; do
		case $l in
		"ok "*" # SKIP"*)
			# tap.sh's skip() drops the reason: keep it.
			n=$((n + 1)) skipped=$((skipped + 1))
			echo "ok $n - ${l#* - }"
			;;
		"ok "*) ok "${l#* - }" ;;
		"not ok "*) not_ok "${l#* - }" ;;
		*) echo "$l" ;;
		esac
	done </tmp/py-binding.tap
}

note "Python binding: $("$D/runtime/python3" -S -c 'import sys; print(sys.version.split()[0])'), runtime $(du -sh "$D/runtime" | cut -f1)"
pytest "" test_host test_device

up() { cut -d. -f1 /proc/uptime; }
t0=$(date +%s)
u0=$(up)
restore_clock() { date -s "@$((t0 + $(up) - u0))" >/dev/null; }

grep -v '^#' "$TSV" | grep . | cut -f1,2 | sort -u | tr '\t' ' ' >/tmp/py-binding.groups
while read -r epoch layout; do
	rmmod flakeid 2>/dev/null
	# The kernel refuses a wall clock below the uptime (epoch 0).
	date -s "@$((epoch / 1000 + $(up) + 10))" >/dev/null
	if insmod "$KO" "layout=$layout" "epoch_ms=$epoch" 2>/tmp/insmod.err; then
		export FLAKEID_TEST_LAYOUT="$layout"
		pytest " [$layout, epoch $epoch]" test_device.Device.test_decode_agrees_with_the_kernel
		unset FLAKEID_TEST_LAYOUT
	else
		not_ok "insmod layout=$layout epoch_ms=$epoch ($(cat /tmp/insmod.err))"
	fi
done </tmp/py-binding.groups
rmmod flakeid 2>/dev/null
restore_clock

# A 32-bit timestamp field whose end is 2 s away, then 3 s of waiting.
e=$(($(date +%s) * 1000 - 4294967296 + 2000))
if insmod "$KO" layout=32:0:0:0:32 "epoch_ms=$e" 2>/tmp/insmod.err; then
	sleep 3
	export FLAKEID_TEST_OVERFLOW=1
	pytest " [32:0:0:0:32, used up]" test_device.Device.test_used_up_timestamp_is_overflow
	unset FLAKEID_TEST_OVERFLOW
	rmmod flakeid
else
	not_ok "insmod layout=32:0:0:0:32 epoch_ms=$e ($(cat /tmp/insmod.err))"
fi

insmod "$KO"
tap $? "module reloaded with its defaults"
exit 0
