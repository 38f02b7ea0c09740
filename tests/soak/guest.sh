#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest script (run as /main.sh by tests/qemu/run-guest.sh) for
# tests/soak/run.sh: loads the module and runs flakeid-soak with the
# settings in /soak/config (SOAK_IDS, SOAK_SECS, SOAK_EVENT_MS, SEED).
# TAP on stdout; the figures are flakeid-soak's own lines.
set -u

SOAK_IDS=100000000 SOAK_SECS=3600 SOAK_EVENT_MS=500 SEED=1 SOAK_SELFTEST=
[ -f /soak/config ] && . /soak/config
BAD_RE='BUG:|WARNING:|Oops|KASAN:|UBSAN:|KCSAN:|circular locking|lock state|sleeping function|general protection|Call Trace'

. /tap.sh

echo "# soak guest: $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB"
insmod /flakeid.ko
tap $? "insmod"
{
	/soak/flakeid-soak -n "$SOAK_IDS" -t "$SOAK_SECS" -i "$SOAK_EVENT_MS" \
		-s "$SEED" -m /flakeid.ko ${SOAK_SELFTEST:+-T}
	echo $? >/tmp/soak.rc
} | tee /tmp/soak.out
rc=$(cat /tmp/soak.rc)
if [ -n "$SOAK_SELFTEST" ]; then
	# The planted duplicate and the planted stray ID must be the only findings.
	[ "$rc" = 1 ] && grep -q '^SOAK-RESULT .* duplicates=1 bad_config=1 out_of_order=0 reload_order=0 ' /tmp/soak.out &&
		grep -q '^SOAK-RESULT .* config_order=0 refused_ok=[0-9]* refusal_missed=0 exhaustions=[0-9]* exhaust_failed=0 .* overflow_unexpected=0$' /tmp/soak.out
	tap $? "soak self-test: the planted duplicate and stray ID are the only findings (exit $rc)"
else
	[ "$rc" = 0 ]
	tap $? "soak: no duplicate, IDs decode to the configurations set in their order, EOVERFLOW only when exhausted, bad loads refused (exit $rc)"
fi
rmmod flakeid
tap $? "rmmod after the soak"
dmesg | grep -E "$BAD_RE" >/tmp/dmesg.bad
sed 's/^/# dmesg: /' /tmp/dmesg.bad | head -n 40
[ ! -s /tmp/dmesg.bad ]
tap $? "kernel log has no report"
tap_plan
