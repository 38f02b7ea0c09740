#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the benchmark in a QEMU guest and report on the host.
#
#   bench/run.sh           the full run: tables and CSV on stdout; every
#                          output in build/bench/results/; the summary
#                          (results.md) and the plots copied to
#                          bench/results/ when kmod/, uapi/ and Kbuild are
#                          committed, each naming the commit measured
#   bench/run.sh --smoke   a few seconds of everything with tiny counts;
#                          prints TAP ("ok N - bench smoke ..."), fails only
#                          on errors (no IDs, duplicates, a broken report),
#                          never on timing; output in build/bench/smoke/
#
# Environment: BENCH_SMP (vCPUs; 8, smoke 4), BENCH_APPEND (guest kernel
# arguments; default "tsc=reliable", see bench/README.md), BENCH_TIMEOUT
# (seconds), BENCH_REPS (cost repetitions, default 5).
# Expects flakeid.ko and build/bench/flakeid-bench built (make bench does).
set -eu

. "$(dirname "$0")/../scripts/host-lib.sh"
TOP=$(flakeid_top "$0")
BIN=$TOP/build/bench/flakeid-bench

SMOKE=0
case ${1:-} in
--smoke) SMOKE=1 ;;
'') ;;
*) sed -n '3,18s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac

if [ "$SMOKE" = 1 ]; then
	OUT=$TOP/build/bench/smoke
	SMP=${BENCH_SMP:-4}
	TIMEOUT=${BENCH_TIMEOUT:-300}
else
	OUT=$TOP/build/bench/results
	SMP=${BENCH_SMP:-8}
	TIMEOUT=${BENCH_TIMEOUT:-1800}
fi
APPEND=${BENCH_APPEND-tsc=reliable}
WORK=$TOP/build/bench/run
mkdir -p "$OUT" "$WORK"

# --- TAP for the smoke run (tests/tap.sh): numbered here, plan at the end.
. "$TOP/tests/tap.sh"
smoke() {
	if [ "$1" = ok ]; then
		ok "bench smoke $2"
	else
		not_ok "bench smoke $2"
	fi
}

finish() {
	tap_plan && exit 0
	exit 1
}

fatal() {
	if [ "$SMOKE" = 1 ]; then
		smoke fail "$*"
		finish
	fi
	echo "bench: FAIL: $*" >&2
	exit 1
}

[ -f "$TOP/flakeid.ko" ] || fatal "flakeid.ko not built (make module)"
[ -x "$BIN" ] || fatal "$BIN not built (make -C bench)"

# Which module this run measures, taken before the guest boots.
kstate=clean
git -C "$TOP" diff --quiet HEAD -- kmod uapi Kbuild 2>/dev/null ||
	kstate="with uncommitted changes"
COMMIT=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ "$COMMIT" = unknown ] && kstate="not in git"
MODULE_ID="Module: kmod/ at $COMMIT ($kstate), flakeid.ko sha256 $(sha256sum "$TOP/flakeid.ko" | cut -c1-16)"
DESCRIBE=$(git -C "$TOP" describe --always --dirty 2>/dev/null || echo unknown)
STAMP="module at $COMMIT"
[ "$kstate" = clean ] || STAMP="$STAMP, $kstate"

# --- what goes into the guest
if [ "$SMOKE" = 1 ]; then
	cat >"$WORK/params" <<-EOF
	MODE=smoke REPS=1 COST_MS=20 SLICE_MS=5 SCALE_REPS=1 SCALE_MS=20 SCALE_THREADS="1 2"
	SAT_REPS=1 SAT_SECS=1 SAT_THREADS=1 NB_REPS=1 NB_SECS=1 NB_BORROWS=10
	EOF
else
	echo "MODE=full REPS=${BENCH_REPS:-5}" >"$WORK/params"
fi
EXTRA=(--extra-file "$BIN:/bench/flakeid-bench"
	--extra-file "$WORK/params:/bench/params")

# uuidd is dynamically linked: it goes in with its libraries and loader,
# each copied from the file its name resolves to.
UUIDD=/usr/sbin/uuidd
if [ -x "$UUIDD" ]; then
	EXTRA+=(--extra-file "$UUIDD:$UUIDD")
	for lib in $(ldd "$UUIDD" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
		$1 ~ /^\// { print $1 }'); do
		EXTRA+=(--extra-file "$(readlink -f "$lib"):$lib")
	done
else
	echo "bench: $UUIDD missing (install uuid-runtime): uuid_time_uuidd is skipped" >&2
fi

QUIET=()
[ "$SMOKE" = 1 ] && QUIET=(--quiet)
rc=0
"$TOP/tests/qemu/run-guest.sh" --main "$TOP/bench/guest.sh" \
	--out "$WORK/guest.out" --log "$WORK/console.log" --smp "$SMP" \
	--timeout "$TIMEOUT" ${APPEND:+--append "$APPEND"} \
	${QUIET[@]+"${QUIET[@]}"} "${EXTRA[@]}" || rc=$?

if [ "$SMOKE" = 1 ]; then
	# The guest's own checks, numbered.
	while IFS= read -r line; do
		case $line in
		"ok "*" - bench smoke "*) smoke ok "${line#* - bench smoke }" ;;
		"not ok "*" - bench smoke "*) smoke fail "${line#* - bench smoke }" ;;
		esac
	done <"$WORK/guest.out"
	grep '^guest-bench: FAILED' "$WORK/guest.out" >&2 || true
	case $rc in
	0) smoke ok "guest run: clean kernel log, script passed" ;;
	3) smoke fail "guest run: the guest script failed (see $WORK/guest.out)" ;;
	*) smoke fail "guest run: failed (status $rc, console log $WORK/console.log)" ;;
	esac
fi
if [ "$rc" != 0 ] && [ "$rc" != 3 ]; then
	[ "$SMOKE" = 1 ] && finish
	fatal "guest run failed (status $rc)"
fi

grep '^BENCH,' "$WORK/guest.out" >"$OUT/raw.csv" || true
rows=$(wc -l <"$OUT/raw.csv")

# --- the machine, for the report
qemu_ver=$(qemu-system-x86_64 --version | head -n 1)
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
{
	echo "Command: \`make bench$([ "$SMOKE" = 1 ] && echo -smoke)\` ($(date -u +%Y-%m-%d), flakeid $DESCRIBE)"
	echo "$MODULE_ID"
	echo "Host: $cpu, $(nproc) cores, $(. /etc/os-release && echo "$PRETTY_NAME"), Linux $(uname -r)"
	echo "$qemu_ver, TCG (no KVM: every instruction emulated), $SMP vCPUs time-sliced on the host's $(nproc) cores"
	sed -n 's/^BENCHINFO //p' "$WORK/guest.out"
	echo "Absolute times mean little here; compare ratios within this run."
} >"$OUT/machine.txt"

report_rc=0
if [ "$SMOKE" = 1 ]; then
	"$BIN" report "$OUT/raw.csv" "$OUT" "$OUT/machine.txt" >"$OUT/report.out" 2>&1 ||
		report_rc=$?
	if [ "$report_rc" = 0 ] && grep -q '^### Targets' "$OUT/results.md"; then
		smoke ok "report: $rows BENCH rows, no errors, tables and targets written"
	else
		smoke fail "report: status $report_rc on $rows BENCH rows (see $OUT/report.out)"
	fi
else
	echo
	"$BIN" report "$OUT/raw.csv" "$OUT" "$OUT/machine.txt" || report_rc=$?
	echo
	echo "### Summary CSV ($OUT/summary.csv)"
	echo
	cat "$OUT/summary.csv"
fi

if command -v gnuplot >/dev/null; then
	prc=0
	gnuplot -e "scaling='$OUT/scaling.dat'; cost='$OUT/cost.dat'; outdir='$OUT'; stamp='$STAMP'" \
		"$TOP/bench/plot.gp" 2>"$WORK/gnuplot.err" || prc=$?
	if [ "$prc" = 0 ] && [ -s "$OUT/scaling.png" ] && [ -s "$OUT/cost.png" ]; then
		[ "$SMOKE" = 1 ] && smoke ok "plot: scaling.png and cost.png drawn"
		[ "$SMOKE" = 1 ] || echo "Plots: $OUT/scaling.png, $OUT/cost.png"
	else
		cat "$WORK/gnuplot.err" >&2
		[ "$SMOKE" = 1 ] && smoke fail "plot: gnuplot failed"
		[ "$SMOKE" = 1 ] || report_rc=1
	fi
else
	[ "$SMOKE" = 1 ] && smoke ok "plot # SKIP gnuplot not installed (gnuplot-nox)"
	[ "$SMOKE" = 1 ] || echo "bench: gnuplot not installed (gnuplot-nox): no plots" >&2
fi

[ "$SMOKE" = 1 ] && finish
if [ "$rc" != 0 ] || [ "$report_rc" != 0 ]; then
	fatal "some measurements failed (see above)"
fi

# What a reader needs goes into the tree, and only for a committed module:
# figures must name a commit that holds the code they measure.
if [ "$kstate" != clean ]; then
	echo "bench: kmod/, uapi/ or Kbuild differ from $COMMIT: results left in $OUT, bench/results/ unchanged" >&2
	exit 0
fi
PUB=$TOP/bench/results
mkdir -p "$PUB"
cp "$OUT/results.md" "$PUB/results.md"
for f in scaling.png cost.png; do
	[ -s "$OUT/$f" ] && cp "$OUT/$f" "$PUB/$f"
done
echo "Published: $PUB/results.md and the plots (module at $COMMIT)"
