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

# go TEST_ARGS...: the test binary, its results as TAP (GO_SUFFIX names
# the run).
gotest() {
	# A hang ends in the timeout's panic, with every goroutine's stack.
	"$D/flakeid.test" -test.v -test.count=1 -test.timeout=300s "$@" >/tmp/go-binding.out 2>&1
	sh "$D/gotest-tap.sh" $? "${GO_SUFFIX:-}" </tmp/go-binding.out >/tmp/go-binding.tap
	# Renumbered into ours, names kept (tap_relay would prefix them).
	while IFS= read -r l; do
		case $l in
		"ok "*" # SKIP"*) l=${l#* - } && skip "${l%% # SKIP*}" ;;
		"ok "*) ok "${l#* - }" ;;
		"not ok "*) not_ok "${l#* - }" ;;
		*) echo "$l" ;;
		esac
	done </tmp/go-binding.tap
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

# Wall-clock seconds now, from the clock as it was before any change.
up() { cut -d. -f1 /proc/uptime; }
t0=$(date +%s)
u0=$(up)
restore_clock() { date -s "@$((t0 + $(up) - u0))" >/dev/null; }

grep -v '^#' "$TSV" | grep . | cut -f1,2 | sort -u | tr '\t' ' ' >/tmp/go-binding.groups
while read -r epoch layout; do
	rmmod flakeid 2>/dev/null
	date -s "@$((epoch / 1000 + 10))" >/dev/null
	if insmod "$KO" "layout=$layout" "epoch_ms=$epoch" 2>/tmp/go-binding.insmod; then
		FLAKEID_TEST_LAYOUT=$layout FLAKEID_TEST_EPOCH_MS=$epoch \
			GO_SUFFIX=" [$layout, epoch $epoch]" gotest -test.run '^TestDeviceDecodeVectors$'
	else
		not_ok "insmod layout=$layout epoch_ms=$epoch ($(cat /tmp/go-binding.insmod))"
	fi
done </tmp/go-binding.groups
rmmod flakeid 2>/dev/null
restore_clock

# A 32-bit timestamp field whose end is 3 s away; wait (up to 10 s) for
# reads to start failing.
e=$(($(date +%s) * 1000 - 4294967296 + 3000))
if insmod "$KO" layout=32:0:0:0:32 "epoch_ms=$e" 2>/tmp/go-binding.insmod; then
	i=0
	while [ $i -lt 100 ] && head -c 8 /dev/flakeid >/dev/null 2>&1; do
		sleep 0.1
		i=$((i + 1))
	done
	FLAKEID_TEST_OVERFLOW=1 GO_SUFFIX=" [32:0:0:0:32, used up]" gotest -test.run '^TestDeviceOverflow$'
	rmmod flakeid
else
	not_ok "insmod layout=32:0:0:0:32 epoch_ms=$e ($(cat /tmp/go-binding.insmod))"
fi

# No module, no device node: ErrNoDevice.
rmmod flakeid 2>/dev/null
FLAKEID_TEST_ABSENT=1 GO_SUFFIX=" [module unloaded]" gotest -test.run '^TestDeviceAbsent$'

insmod "$KO"
tap $? "module reloaded with its defaults"
exit 0
