#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest script (run as /main.sh by tests/qemu/run-guest.sh) for
# tests/fuzz/run.sh: loads the module, runs the purpose-written
# fuzzer (64- and 32-bit) and trinity against /dev/flakeid, then checks the
# device still hands out valid, increasing IDs, that it unloads, and that
# the kernel logged no report and kmemleak found no leak of ours.
# Settings come from /fuzz/config (FUZZ_SECS, TRINITY_SECS, SEED).
# TAP on stdout; exit 0 when every line is "ok".
set -u

FUZZ_SECS=60 TRINITY_SECS=60 SEED=1
[ -f /fuzz/config ] && . /fuzz/config
BAD_RE='BUG:|WARNING:|Oops|KASAN:|UBSAN:|KCSAN:|circular locking|lock state|sleeping function|general protection|Call Trace'
S=/sys/class/misc/flakeid

. /tap.sh

echo "# fuzz guest: $(uname -r), $(nproc) CPUs, fuzzer ${FUZZ_SECS}s x2, trinity ${TRINITY_SECS}s, seed $SEED"
# Put boot-time leak suspects (ACPI caches) aside.
sh /kmemleak.sh forget

insmod /flakeid.ko region_id=5 app_id=3 machine_id=21
tap $? "insmod /flakeid.ko region_id=5 app_id=3 machine_id=21"
cfg_before="$(cat $S/layout $S/region_id $S/app_id $S/machine_id $S/epoch_ms $S/max_borrow_ms | tr '\n' ' ')"

# --- the purpose-written fuzzer ---------------------------------------------
for prog in flakeid-fuzz flakeid-fuzz32; do
	timeout -s KILL $((FUZZ_SECS + 120)) /fuzz/$prog -t "$FUZZ_SECS" -s "$SEED" >/tmp/$prog.out 2>&1
	rc=$?
	sed 's/^/# /' /tmp/$prog.out
	tap $rc "$prog: $(grep '^fuzz:.*violations' /tmp/$prog.out | sed 's/^fuzz: //')"
done

# --- trinity ----------------------------------------------------------------
# As nobody (--dropprivs): it gets the read-only device and no sysfs store.
# Its fd pool is /dev/flakeid alone (--victims; the other fd providers are
# off), and only the calls that reach the device are fuzzed.
if [ -x /usr/bin/trinity ]; then
	mkdir -p /tmp/trinity
	chmod 777 /tmp/trinity
	cd /tmp/trinity || exit 1
	calls="-c read -c readv -c preadv -c preadv2 -c pread64 -c ioctl -c lseek -c mmap -c fcntl -c dup -c dup2 -c poll -c select -c splice -c sendfile"
	# shellcheck disable=SC2086 # one word per option
	timeout -s INT "$TRINITY_SECS" /usr/bin/trinity --dropprivs -q -l off \
		-V /dev/flakeid -C 4 -s "$SEED" \
		--disable-fds=sockets,pipes,perf,epoll,eventfd,timerfd,testfile,memfd,drm \
		$calls >/tmp/trinity.out 2>&1
	rc=$?
	cd /
	# trinity stops on SIGINT with a summary; 124 is timeout's own status
	# when it had to send the signal, which is the plan.
	# Its countdown is one line of \r-separated steps with no newline at
	# the end: split it, or the next TAP line would be glued to it and
	# never counted.
	{ tail -n 25 /tmp/trinity.out; echo; } | tr '\r' '\n' | grep . | sed 's/^/# trinity: /'
	ran=$(grep -oE '[0-9]+ iterations' /tmp/trinity.out | tail -n 1)
	if grep -qE 'tainted|Bailing main loop|[Ee]rror' /tmp/trinity.out &&
	   ! grep -q 'Kernel was tainted on startup' /tmp/trinity.out; then
		rc=1
	fi
	[ "$rc" = 0 ] || [ "$rc" = 124 ] || [ "$rc" = 130 ]
	tap $? "trinity on /dev/flakeid for ${TRINITY_SECS}s (exit $rc${ran:+, $ran})"
else
	echo "# trinity is not in this guest"
	tap 0 "trinity # SKIP not installed in the guest"
fi

# --- afterwards -------------------------------------------------------------
/fuzz/flakeid-fuzz -t 0 -j 1 -S >/tmp/final.out 2>&1
tap $? "device still issues valid increasing IDs: $(grep '^final:' /tmp/final.out | sed 's/^final: //')"
cfg_after="$(cat $S/layout $S/region_id $S/app_id $S/machine_id $S/epoch_ms $S/max_borrow_ms | tr '\n' ' ')"
[ "$cfg_after" = "$cfg_before" ]
tap $? "configuration unchanged by refused stores ($cfg_after)"
echo "# counters: ids_issued=$(cat $S/ids_issued) refills=$(cat $S/refills) borrowed_ms=$(cat $S/borrowed_ms) waits=$(cat $S/waits) generation=$(cat $S/generation)"
rmmod flakeid
tap $? "rmmod after fuzzing (no file reference leaked)"

sh /kmemleak.sh report >/tmp/leaks.out
rc=$?
sed 's/^\([^#]\)/# \1/' /tmp/leaks.out
[ "$rc" = 2 ] || tap "$rc" "$(grep '^kmemleak:' /tmp/leaks.out)"

dmesg | grep -E "$BAD_RE" >/tmp/dmesg.bad
sed 's/^/# dmesg: /' /tmp/dmesg.bad | head -n 40
[ ! -s /tmp/dmesg.bad ]
tap $? "kernel log has no BUG/WARNING/KASAN/UBSAN/KCSAN/lockdep report"
tap_plan
