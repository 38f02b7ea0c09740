#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The benchmark's guest side, run as /main.sh by tests/qemu/init.sh.  Loads
# the module, then runs flakeid-bench for every measurement, interleaving
# modes and repetitions (each repetition starts the lists one mode later), in
# the conditions each needs: the ID layout, uuidd up or down, the libuuid
# clock file there or not.  Results are BENCH,... lines; machine facts are
# BENCHINFO lines; bench/run.sh reads both back.  /bench/params sets the
# sizes (MODE=full or smoke).
#
# The mode lists are split into words on purpose throughout.
# shellcheck disable=SC2086,SC2046

B=/bench/flakeid-bench
S=/sys/class/misc/flakeid
LAYOUT_DEFAULT=41:4:3:5:10
LAYOUT_WIDE=41:0:0:4:18

MODE=full REPS=5 COST_MS=500 SLICE_MS=2 SCALE_REPS=3 SCALE_MS=500 SCALE_THREADS="1 2 4 8"
SAT_REPS=3 SAT_SECS=4 SAT_THREADS="1 2" NB_REPS=3 NB_SECS=2 NB_BORROWS="1000 10"
# shellcheck source=/dev/null
[ -f /bench/params ] && . /bench/params

# Modes that can share one process, interleaved in slices; the libuuid ones
# each need their own process and surroundings.
COST_MODES="noop zero_8 zero_8000 getppid getrandom_8 clock_gettime read_1 read_1000
batch_1000 batch_65536 lib_next lib_next_cached uuid7_read_1 uuid7_read_1000
uuid7_batch_1000 lib_uuid7 proc_uuid snowflake_mutex"
UUID_MODES="uuid_time uuid_time_clockfile uuid_time_uuidd"
SCALE_MODES="read_1 read_1_shared batch_1000 lib_next_cached snowflake_mutex"

FAILED=0
# ok / not_ok (tests/tap.sh, in every guest as /tap.sh)
. /tap.sh

say() {
	echo "# $*"
}

# A failed measurement is reported and counted, and the run goes on.
bench() {
	if ! "$B" "$@"; then
		echo "guest-bench: FAILED: flakeid-bench $*"
		FAILED=$((FAILED + 1))
	fi
}

set_layout() {
	# Node ids first: they must fit the new layout (machine 0 fits 4 bits).
	echo 0 >$S/region_id && echo 0 >$S/app_id && echo 0 >$S/machine_id &&
		echo "$1" >$S/layout && return 0
	echo "guest-bench: FAILED: cannot set layout $1"
	FAILED=$((FAILED + 1))
	return 1
}

set_borrow() {
	echo "$1" >$S/max_borrow_ms || {
		echo "guest-bench: FAILED: cannot set max_borrow_ms $1"
		FAILED=$((FAILED + 1))
	}
}

# Print the words of $2.. starting at word number $1 (mod their count).
rotate() {
	n=$1
	shift
	[ $# -gt 0 ] || return 0
	n=$((n % $#))
	while [ "$n" -gt 0 ]; do
		first=$1
		shift
		set -- "$@" "$first"
		n=$((n - 1))
	done
	echo "$@"
}

UUIDD_PID=
uuidd_start() {
	[ -x /usr/sbin/uuidd ] || return 1
	mkdir -p /run/uuidd /var/lib/libuuid
	/usr/sbin/uuidd --no-fork --no-pid --quiet </dev/null >/dev/null 2>&1 &
	UUIDD_PID=$!
	i=0
	while [ ! -S /run/uuidd/request ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -S /run/uuidd/request ]
}

uuidd_stop() {
	if [ -n "$UUIDD_PID" ]; then
		kill "$UUIDD_PID" 2>/dev/null
		wait "$UUIDD_PID" 2>/dev/null
	fi
	UUIDD_PID=
	rm -f /run/uuidd/request
}

# libuuid without uuidd: with the clock file (uuid-runtime installed, its
# daemon stopped) or without (only libuuid1, Debian's default).
uuid_cost() {
	case $1 in
	uuid_time) rm -rf /var/lib/libuuid ;;
	uuid_time_clockfile) mkdir -p /var/lib/libuuid ;;
	uuid_time_uuidd)
		if ! uuidd_start; then
			uuidd_stop
			echo "guest-bench: uuidd not available, uuid_time_uuidd skipped"
			return 0
		fi
		;;
	esac
	bench cost -t "$COST_MS" -s "$SLICE_MS" -r "$2" "$1"
	if [ "$1" = uuid_time_uuidd ]; then
		# The library's cache against libuuid's, in one process.
		bench cost -k uuidd_pair -t "$COST_MS" -s "$SLICE_MS" -r "$2" \
			$(rotate $(($2 - 1)) lib_next_cached uuid_time_uuidd)
		uuidd_stop
	fi
	rm -rf /var/lib/libuuid
}

phase_cost() {
	say "cost: $REPS repetitions; $(echo $COST_MODES | wc -w) modes interleaved in ${SLICE_MS} ms slices, ${COST_MS} ms each, then the libuuid modes; layout $LAYOUT_WIDE"
	set_layout $LAYOUT_WIDE || return
	r=1
	while [ $r -le "$REPS" ]; do
		bench cost -t "$COST_MS" -s "$SLICE_MS" -r "$r" \
			$(rotate $((r - 1)) $COST_MODES)
		for m in $(rotate $((r - 1)) $UUID_MODES); do
			uuid_cost "$m" "$r"
		done
		# The targets' pairs again, each in a small mix of its own: in
		# TCG a mode's cost grows with the number of modes around it.
		bench cost -k pair -t "$COST_MS" -s "$SLICE_MS" -r "$r" \
			$(rotate $((r - 1)) zero_8 read_1 lib_next_cached)
		bench cost -k pair -t "$COST_MS" -s "$SLICE_MS" -r "$r" \
			$(rotate $((r - 1)) zero_8000 read_1000 batch_1000)
		r=$((r + 1))
	done
}

phase_scale() {
	say "scaling: threads $SCALE_THREADS, layouts default and wide-seq, $SCALE_REPS repetitions, ${SCALE_MS} ms each"
	# uuidd runs throughout, for libuuid's line; it idles otherwise.
	scale_uuid=uuid_time_uuidd
	if ! uuidd_start; then
		uuidd_stop
		scale_uuid=
		echo "guest-bench: uuidd not available, uuid_time_uuidd not scaled"
	fi
	r=1
	while [ $r -le "$SCALE_REPS" ]; do
		for l in $(rotate $((r - 1)) $LAYOUT_DEFAULT $LAYOUT_WIDE); do
			set_layout "$l" || continue
			for t in $SCALE_THREADS; do
				for m in $(rotate $((r - 1)) $SCALE_MODES $scale_uuid); do
					# Borrowed milliseconds would tax the next run.
					bench settle
					bench scale "$m" "$t" -t "$SCALE_MS" -r "$r"
				done
			done
		done
		r=$((r + 1))
	done
	uuidd_stop
}

phase_saturate() {
	say "saturation: default layout, threads $SAT_THREADS, ${SAT_SECS} s windows, $SAT_REPS repetitions"
	set_layout $LAYOUT_DEFAULT || return
	r=1
	while [ $r -le "$SAT_REPS" ]; do
		for t in $(rotate $((r - 1)) $SAT_THREADS); do
			bench saturate -s "$SAT_SECS" -T "$t" -r "$r"
		done
		r=$((r + 1))
	done
}

phase_nonblock() {
	say "past the borrow limit: O_NONBLOCK, max_borrow_ms $NB_BORROWS, ${NB_SECS} s, $NB_REPS repetitions"
	set_layout $LAYOUT_DEFAULT || return
	r=1
	while [ $r -le "$NB_REPS" ]; do
		for b in $NB_BORROWS; do
			set_borrow "$b"
			bench nonblock -s "$NB_SECS" -r "$r"
		done
		r=$((r + 1))
	done
	set_borrow 1000
	bench settle
}

insmod /flakeid.ko || {
	echo "guest-bench: FAILED: insmod /flakeid.ko"
	exit 1
}
[ -c /dev/flakeid ] || {
	echo "guest-bench: FAILED: no /dev/flakeid"
	exit 1
}
cs=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)
echo "BENCHINFO Guest: Linux $(uname -r), $(nproc) vCPUs, clocksource $cs, cmdline: $(cat /proc/cmdline)"

counters() {
	echo "BENCHINFO Module counters $1: ids_issued $(cat $S/ids_issued), refills $(cat $S/refills), borrowed_ms $(cat $S/borrowed_ms), waits $(cat $S/waits), ahead_ms $(cat $S/ahead_ms), clock_steps_back $(cat $S/clock_steps_back)"
}

if [ "$MODE" = smoke ]; then
	# Every mode works and is checked (TAP-style lines without numbers;
	# bench/run.sh numbers them), then the whole pipeline once, tiny.
	uuidd_start || echo "guest-bench: uuidd not available"
	"$B" smoke || FAILED=$((FAILED + 1))
	uuidd_stop
	set_borrow 10
	phase_cost
	phase_scale
	phase_saturate
	phase_nonblock
	if [ $FAILED = 0 ]; then
		ok "bench smoke guest pipeline (cost, scale, saturate, nonblock)"
	else
		not_ok "bench smoke guest pipeline: $FAILED commands failed"
	fi
else
	phase_cost
	phase_scale
	phase_saturate
	phase_nonblock
	say "done, $FAILED failed commands"
fi
counters "after the run"
[ $FAILED = 0 ]
