#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The bindings' suite, host side: `bindings/tests/run.sh [LANG...]` (all
# of bindings/*/ with a Makefile when none is named; `make check-bindings`).
#
# A binding is a directory bindings/<lang>/ whose Makefile has two targets:
#   check-host           prints its host tests as TAP lines ("ok N - NAME",
#                        "not ok N - NAME", "ok N - NAME # SKIP WHY"; other
#                        lines start with "#"); exits non-zero on a failure
#   guest-stage DEST=D   puts into D what the guest needs, static programs
#                        (busybox guest: no libc, no interpreter unless
#                        staged) and D/guest.sh
# In the guest, D is /bindings/<lang>/ and the shared decode vectors are
# /bindings/testdata/decode.tsv.  bindings/tests/guest.sh loads flakeid at
# its defaults (/flakeid.ko), runs `sh /bindings/<lang>/guest.sh
# /bindings/<lang>`, which prints TAP lines and may reload the module or
# set the clock (putting the clock back), and relays them.
#
# Every line is relayed as "<lang>: NAME" (host ones as "<lang> (host):"),
# then this script's own: each binding staged, the guest ran and its
# kernel log was clean.  One guest boot for all bindings.  Exits 1 when any
# line failed.  Logs: build/logs/bindings-*.
#
# Environment: FLAKEID_GUEST_TIMEOUT (seconds, default 1200),
# FLAKEID_GUEST_SMP (default 2), FLAKEID_GUEST_MEM (default 1G),
# FLAKEID_GUEST_APPEND (extra kernel args).
set -u

TOP=$(cd "$(dirname "$0")/../.." && pwd)
LOGS=$TOP/build/logs
STAGE=$TOP/build/bindings/guest
RESULTS=$LOGS/bindings-guest-results.txt
mkdir -p "$LOGS"
# shellcheck source=tests/tap.sh
. "$TOP/tests/tap.sh"

if [ $# -gt 0 ]; then
	langs="$*"
else
	langs=$(cd "$TOP/bindings" && for d in */; do
		d=${d%/}
		[ "$d" != tests ] && [ -f "$d/Makefile" ] && echo "$d"
	done)
fi
[ -n "$langs" ] || { not_ok "a binding to test under bindings/"; exit 1; }

rm -rf "$STAGE"
mkdir -p "$STAGE"
staged=0
for lang in $langs; do
	dir=$TOP/bindings/$lang
	if [ ! -f "$dir/Makefile" ]; then
		not_ok "$lang: bindings/$lang/Makefile exists"
		continue
	fi
	log=$LOGS/bindings-$lang-host.log
	rc=0
	make --no-print-directory -s -C "$dir" check-host >"$log" 2>&1 || rc=$?
	sed -i 's/\r$//' "$log"
	tap_relay "$lang (host)" "$log"
	if ! grep -qE '^(not )?ok ' "$log"; then
		not_ok "$lang (host): check-host ran no test (exit $rc, log: ${log#"$TOP"/})"
	elif [ "$rc" != 0 ] && ! grep -q '^not ok ' "$log"; then
		not_ok "$lang (host): check-host exited $rc with no failing test (log: ${log#"$TOP"/})"
	fi
	log=$LOGS/bindings-$lang-stage.log
	if make --no-print-directory -s -C "$dir" guest-stage DEST="$STAGE/$lang" >"$log" 2>&1 &&
		[ -f "$STAGE/$lang/guest.sh" ]; then
		ok "$lang: guest programs staged (guest-stage)"
		staged=1
	else
		sed 's/^/# /' "$log"
		not_ok "$lang: guest programs staged (log: ${log#"$TOP"/})"
		rm -rf "${STAGE:?}/$lang"
	fi
done

if [ "$staged" = 0 ]; then
	not_ok "guest: a binding to run (none staged)"
	exit 1
fi
if [ ! -f "$TOP/flakeid.ko" ]; then
	not_ok "guest: flakeid.ko built (make module)"
	exit 1
fi
cp -a "$TOP/bindings/testdata" "$STAGE/testdata"

rc=0
"$TOP/tests/qemu/run-guest.sh" --main "$TOP/bindings/tests/guest.sh" \
	--out "$RESULTS" --log "$LOGS/bindings-guest-console.log" \
	--extra-file "$STAGE:/bindings" \
	--smp "${FLAKEID_GUEST_SMP:-2}" --mem "${FLAKEID_GUEST_MEM:-1G}" \
	--timeout "${FLAKEID_GUEST_TIMEOUT:-1200}" \
	${FLAKEID_GUEST_APPEND:+--append "$FLAKEID_GUEST_APPEND"} || rc=$?

# 0: clean and guest.sh exited 0; 3: clean but guest.sh exited non-zero.
if [ "$rc" = 0 ] || [ "$rc" = 3 ]; then
	ok "bindings guest kernel clean"
else
	not_ok "bindings guest kernel clean (console: build/logs/bindings-guest-console.log)"
fi
results=$(grep -cE '^(not )?ok ' "$RESULTS" 2>/dev/null || true)
guest_failed=$(grep -cE '^not ok ' "$RESULTS" 2>/dev/null || true)
echo "# bindings guest tests: ${results:-0} results"
if [ "${results:-0}" = 0 ]; then
	not_ok "bindings guest suite ran no test"
elif [ "$rc" = 3 ] && [ "$guest_failed" = 0 ]; then
	not_ok "bindings guest suite exited non-zero with no failing test"
fi
[ "$failed" = 0 ] && [ "${guest_failed:-0}" = 0 ]
