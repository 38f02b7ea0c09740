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
	done </tmp/rs-binding.tap
}

note "Rust binding: $(for b in vectors host ioctl_numbers device fence; do "$D/$b" --list 2>/dev/null; done | grep -c ': test$') tests"
for b in vectors host ioctl_numbers device fence; do
	rtest "$b" ""
done

up() { cut -d. -f1 /proc/uptime; }
t0=$(date +%s)
u0=$(up)
restore_clock() { date -s "@$((t0 + $(up) - u0))" >/dev/null; }

grep -v '^#' "$TSV" | grep . | cut -f1,2 | sort -u | tr '\t' ' ' >/tmp/rs-binding.groups
while read -r epoch layout; do
	rmmod flakeid 2>/dev/null
	# The kernel refuses a wall clock below the uptime (epoch 0).
	date -s "@$((epoch / 1000 + $(up) + 10))" >/dev/null
	if insmod "$KO" "layout=$layout" "epoch_ms=$epoch" 2>/tmp/insmod.err; then
		export FLAKEID_TEST_LAYOUT="$layout"
		rtest device " [$layout, epoch $epoch]" --exact decode_agrees_with_the_kernel
		unset FLAKEID_TEST_LAYOUT
	else
		not_ok "insmod layout=$layout epoch_ms=$epoch ($(cat /tmp/insmod.err))"
	fi
done </tmp/rs-binding.groups
rmmod flakeid 2>/dev/null
restore_clock

# A 32-bit timestamp field whose end is 2 s away, then 3 s of waiting.
e=$(($(date +%s) * 1000 - 4294967296 + 2000))
if insmod "$KO" layout=32:0:0:0:32 "epoch_ms=$e" 2>/tmp/insmod.err; then
	sleep 3
	export FLAKEID_TEST_OVERFLOW=1
	rtest device " [32:0:0:0:32, used up]" --exact used_up_timestamp_is_overflow
	unset FLAKEID_TEST_OVERFLOW
	rmmod flakeid
else
	not_ok "insmod layout=32:0:0:0:32 epoch_ms=$e ($(cat /tmp/insmod.err))"
fi

insmod "$KO"
tap $? "module reloaded with its defaults"
exit 0
