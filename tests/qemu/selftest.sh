#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The guest runner's retry rule, tested (host side): a boot that crashes
# before flakeid is loaded and before a test ran is booted once more; a
# crash once the module is in is never retried.
#
#   selftest.sh          the classifier on console logs and results kept in
#                        selftest/ (captured from the --boot runs), plus
#                        edge cases; no guest, a second
#   selftest.sh --boot   also two real crashes, injected with sysrq in a
#                        guest (selftest/crash-*.sh): three boots, a minute
#
# TAP lines, then "N passed, N failed".
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
RUN=$HERE/run-guest.sh
. "$TOP/tests/tap.sh"

BOOT=0
case ${1:-} in
--boot) BOOT=1 ;;
'') ;;
*) sed -n '3,12s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# classified WANT NAME CONSOLE RESULTS
classified() {
	local got
	got=$("$RUN" --classify "$3" "$4")
	[ "$got" = "$1" ]
	tap $? "classify $2: $got"
}

for c in boot-crash module-fault; do
	classified "$c" "a captured $c" "$HERE/selftest/$c.console" "$HERE/selftest/$c.results"
done

# Edge cases, each a few lines written here.
: >"$W/empty"
printf '[    2.1] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI\n[    2.1] Modules linked in:\n[    2.1] RIP: 0010:sched_clock_cpu+0x9/0x1e0\n' >"$W/int3"
classified boot-crash "an oops at boot with no module listed" "$W/int3" "$W/empty"
classified boot-crash "an empty console log (no output at all)" "$W/empty" "$W/empty"
printf 'guest: 6.1.0 4 CPUs\n# flakeid guest suite\n' >"$W/notes"
classified boot-crash "results with notes only, no test line" "$W/int3" "$W/notes"
printf 'ok - insmod\n' >"$W/one-ok"
classified module-fault "a test passed, module not named" "$W/int3" "$W/one-ok"
printf 'not ok 3 - reads\n' >"$W/one-fail"
classified module-fault "a test failed, module not named" "$W/int3" "$W/one-fail"
for l in '[    9.2] Modules linked in: flakeid(OE) virtio_net' \
	'[    9.2] Modules linked in: virtio_net flakeid' \
	'[    9.2] Modules linked in: crc32 flakeid(O) [last unloaded: flakeid]' \
	'[    9.2] Unloaded tainted modules: flakeid(OE):1' \
	'[    3.0] flakeid: loading out-of-tree module taints kernel.' \
	'[   12.4] flakeid: ID clock is 36000 ms ahead of the wall clock'; do
	printf '%s\n' "$l" >"$W/one"
	classified module-fault "console line '${l#*] }'" "$W/one" "$W/empty"
done
printf '[    1.0] flakeid-guest: 6.1.0, 4 CPUs, cmdline: flakeid_vmfork=fork\n[    9.2] Modules linked in: flakeidx virtio_net\n' >"$W/near"
classified boot-crash "names that only start with flakeid" "$W/near" "$W/empty"

if [ "$BOOT" = 1 ]; then
	make -s -C "$TOP" module >"$W/make.log" 2>&1 || { cat "$W/make.log" >&2; not_ok "module builds"; }
	OUT=$TOP/build/qemu-selftest
	mkdir -p "$OUT"
	for c in before after; do
		rc=0
		"$RUN" --main "$HERE/selftest/crash-$c-load.sh" --smp 4 --mem 1G \
			--timeout 300 --quiet --out "$OUT/$c.results" --log "$OUT/$c.console" \
			>"$OUT/$c.stdout" 2>"$OUT/$c.stderr" || rc=$?
		boots=$(grep -c '^run-guest: booting' "$OUT/$c.stderr")
		retried=$(grep -c '^# retrying boot: ' "$OUT/$c.stdout")
		sed 's/^/# /' "$OUT/$c.stdout"
		tail -n 1 "$OUT/$c.stderr" | sed 's/^/# /'
		if [ "$c" = before ]; then
			[ "$rc" = 1 ] && [ "$boots" = 2 ] && [ "$retried" = 1 ] && [ -s "$OUT/$c.console.boot1" ]
			tap $? "a crash before the module loaded: one retry, then the failure (exit $rc, $boots boots)"
		else
			[ "$rc" = 1 ] && [ "$boots" = 1 ] && [ "$retried" = 0 ]
			tap $? "a crash after the module loaded: no retry (exit $rc, $boots boots)"
		fi
	done
fi

tap_plan
rc=$?
echo "$passed passed, $failed failed"
exit $rc
