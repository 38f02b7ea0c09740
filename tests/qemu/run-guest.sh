#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot a throw-away QEMU guest that runs one script and powers off.
#
#   run-guest.sh --main SCRIPT --out RESULTS --log CONSOLE_LOG
#                [--smp N] [--mem SIZE] [--timeout SECONDS]
#                [--kernel VMLINUZ] [--append "KERNEL ARGS"]
#                [--extra-file HOST:GUEST]... [--qemu-arg ARG]...
#                [--module KO | --no-module] [--quiet] [--keep]
#                [--monitor SOCKET] [--incoming STATEFILE]
#                [--initrd ARCHIVE | --save-initrd ARCHIVE]
#                [--guestfwd GUESTIP:PORT=HOSTIP:PORT]...
#
# The initramfs holds static busybox, /init (init.sh), /main.sh (SCRIPT),
# /tap.sh and /vectors.sh (tests/),
# /flakeid.ko (KO, default ./flakeid.ko; left out with a warning when not
# built), the tree build/guest/ copied to / and the --extra-file entries.
# --qemu-arg passes one more argument to QEMU (e.g. -rtc base=...);
# --keep leaves the initramfs under build/qemu/ for a look.
# --monitor puts QEMU's human monitor on a unix socket (tests/qemu/hmp.py
# talks to it).  --incoming starts QEMU with `-incoming "exec:cat FILE"`:
# the guest resumes from a state saved with `migrate "exec:cat > FILE"`.
# The restoring QEMU needs the same hardware as the saving one: the same
# options, and the same initramfs: keep the one built with --save-initrd,
# give it back with --initrd (used instead of the one built).
# --guestfwd gives the guest a virtio NIC (n0) on QEMU's user network with
# restrict=on (it reaches nothing else) on which a connection to GUESTIP:PORT
# (in 10.0.2.0/24) becomes one to HOSTIP:PORT on the host's loopback, one
# socat per connection; the guest loads virtio_net and brings eth0 up with
# 10.0.2.15 (see TESTING.md).  On the monitor, `set_link n0 off` cuts it.
# SCRIPT's output goes to the guest's ttyS1 = RESULTS, kernel messages to
# ttyS0 = CONSOLE_LOG.  RESULTS is streamed to stdout as it arrives (unless
# --quiet).  The guest has busybox, /tmp, /dev/shm, /sys, /proc, devpts and
# debugfs (if the kernel has it); SCRIPT runs as root with stdin /dev/null.
#
# Exit status: 0 the guest ran SCRIPT, it exited 0 and the kernel log is
# clean; 3 the same but SCRIPT exited non-zero; 1 the run failed (timeout,
# no done token, QEMU error, or the kernel log shows a warning/oops/...);
# 2 bad usage or missing files.  On failure the last line of stderr says why.
#
# A boot that fails before flakeid was ever loaded and before SCRIPT printed
# a result is booted once more, with a "# retrying boot: WHY" line on
# stdout: multi-threaded TCG sometimes oopses while the kernel boots
# (Debian's 6.12 with 4 vCPUs, 1 boot in 3: "Oops: int3" in sched_clock_cpu,
# "Modules linked in:" empty).  The first attempt's
# files stay as RESULTS.boot1 and CONSOLE_LOG.boot1.  A failure once the
# module is in (a "flakeid: " kernel line, flakeid in "Modules linked in:")
# or once a test has run is never retried, nor is a restore (--incoming).
#
#   run-guest.sh --classify CONSOLE_LOG RESULTS
# prints how a failed run with those files would be taken: "boot-crash"
# (retried) or "module-fault" (not); tests/qemu/selftest.sh checks it.
set -eu

. "$(dirname "$0")/../../scripts/host-lib.sh"
TOP=$(flakeid_top "$0")
HERE=$TOP/tests/qemu

# Kernel-side trouble: any of these in the console log fails the run.
BAD_RE='BUG:|WARNING:|Oops|KASAN:|UBSAN:|KCSAN:|circular locking|lock state|sleeping function|Kernel panic|general protection|Call Trace'
TOKEN=FLAKEID-GUEST-DONE

usage() {
	sed -n '3,/^set -eu/{/^#/s/^# \{0,1\}//p}' "$0" >&2
	exit 2
}

die() {
	echo "run-guest: $*" >&2
	exit 2
}

# classify CONSOLE_LOG RESULTS: how a failed run is taken (see the header):
# "boot-crash" when neither the console log shows flakeid loaded nor the
# results hold a test line, else "module-fault".
classify() {
	if grep -qE "$MODULE_RE" "$1" 2>/dev/null ||
	   grep -qE '^(not )?ok\b' "$2" 2>/dev/null; then
		echo module-fault
	else
		echo boot-crash
	fi
}
# The module's own lines carry its pr_fmt prefix (the load taints the
# kernel with one); an oops lists it among the loaded or unloaded modules.
MODULE_RE='(^|[] ])flakeid: |(Modules linked in|Unloaded tainted modules):.*[ :]flakeid([(: ]|$)'

if [ "${1:-}" = --classify ]; then
	[ $# = 3 ] && [ -f "$2" ] && [ -f "$3" ] ||
		{ echo "usage: run-guest.sh --classify CONSOLE_LOG RESULTS (both files)" >&2; exit 2; }
	classify "$2" "$3"
	exit 0
fi

MAIN='' OUT='' LOG='' KERNEL='' APPEND='' KO=''
MONITOR='' INCOMING='' USE_INITRD='' SAVE_INITRD=''
SMP=4 MEM=1G TIMEOUT=600 QUIET=0 KEEP=0 MODULE=1
EXTRA=()
QEMU_EXTRA=()
FWD=()
while [ $# -gt 0 ]; do
	case $1 in
	--main) MAIN=$2; shift ;;
	--out) OUT=$2; shift ;;
	--log) LOG=$2; shift ;;
	--smp) SMP=$2; shift ;;
	--mem) MEM=$2; shift ;;
	--timeout) TIMEOUT=$2; shift ;;
	--kernel) KERNEL=$2; shift ;;
	--append) APPEND=$2; shift ;;
	--extra-file) EXTRA+=("$2"); shift ;;
	--qemu-arg) QEMU_EXTRA+=("$2"); shift ;;
	--module) KO=$2; shift ;;
	--no-module) MODULE=0 ;;
	--quiet) QUIET=1 ;;
	--keep) KEEP=1 ;;
	--monitor) MONITOR=$2; shift ;;
	--incoming) INCOMING=$2; shift ;;
	--initrd) USE_INITRD=$2; shift ;;
	--save-initrd) SAVE_INITRD=$2; shift ;;
	--guestfwd) FWD+=("$2"); shift ;;
	-h|--help) usage ;;
	*) echo "run-guest: unknown argument $1" >&2; usage ;;
	esac
	[ $# -gt 0 ] && shift
done

[ -n "$MAIN" ] && [ -n "$OUT" ] && [ -n "$LOG" ] || usage
[ -f "$MAIN" ] || die "no such guest script: $MAIN"
[ -z "$USE_INITRD" ] || [ -f "$USE_INITRD" ] || die "--initrd: no such file $USE_INITRD"
if [ -n "$INCOMING" ]; then
	[ -f "$INCOMING" ] || die "--incoming: no such file $INCOMING"
	# QEMU hands the path to /bin/sh: keep it to characters sh leaves alone.
	case $INCOMING in *[!A-Za-z0-9/._+-]*) die "--incoming: unusual characters in $INCOMING" ;; esac
fi
case $TIMEOUT in ''|*[!0-9]*) die "--timeout wants whole seconds" ;; esac

if [ -z "$KERNEL" ]; then
	flakeid_kernel_env || die "no target kernel found"
	KERNEL=/boot/vmlinuz-$KERNELRELEASE
fi
[ -r "$KERNEL" ] || die "cannot read kernel $KERNEL (install linux-image-amd64)"

BUSYBOX=${BUSYBOX:-/bin/busybox}
[ -x "$BUSYBOX" ] || die "$BUSYBOX missing (install busybox-static)"
# A dynamic busybox would find no libc in the initramfs: refuse it early.
if LC_ALL=C readelf -l "$BUSYBOX" 2>/dev/null | grep -q 'program interpreter'; then
	die "$BUSYBOX is dynamically linked (install busybox-static)"
fi
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (install qemu-system-x86)"
command -v cpio >/dev/null || die "cpio missing"

mkdir -p "$TOP/build/qemu" "$(dirname "$OUT")" "$(dirname "$LOG")"
# One work directory per run, so parallel runs (check and demo) never share
# an initramfs.
WORK=$(mktemp -d "$TOP/build/qemu/run.XXXXXX")
QPID='' TPID=''
cleanup() {
	[ -n "$TPID" ] && kill "$TPID" 2>/dev/null
	[ -n "$QPID" ] && kill "$QPID" 2>/dev/null
	[ "$KEEP" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the initramfs -------------------------------------------------------
ROOT=$WORK/root
mkdir -p "$ROOT/bin" "$ROOT/dev" "$ROOT/proc" "$ROOT/sys" "$ROOT/tmp"
cp "$BUSYBOX" "$ROOT/bin/busybox"
install -m 755 "$HERE/init.sh" "$ROOT/init"
install -m 755 "$MAIN" "$ROOT/main.sh"
# The TAP helpers every guest script may source, and the decode vectors'.
install -m 644 "$HERE/../tap.sh" "$ROOT/tap.sh"
install -m 644 "$HERE/../vectors.sh" "$ROOT/vectors.sh"
# A console node lets the kernel give /init a stdout before devtmpfs is up;
# only root can make one, and init.sh copes without it.
mknod -m 600 "$ROOT/dev/console" c 5 1 2>/dev/null || true

if [ "$MODULE" = 1 ]; then
	if [ -n "$KO" ]; then
		[ -f "$KO" ] || die "--module: no such file $KO"
		cp "$KO" "$ROOT/flakeid.ko"
	elif [ -f "$TOP/flakeid.ko" ]; then
		cp "$TOP/flakeid.ko" "$ROOT/flakeid.ko"
	else
		echo "run-guest: warning: $TOP/flakeid.ko not built, guest has no module" >&2
	fi
fi

# build/guest/ is the tree the test build installs (tests/Makefile
# guest-install): it lands at / in the guest.
if [ -d "$TOP/build/guest" ]; then
	cp -a "$TOP/build/guest/." "$ROOT/"
fi

for e in ${EXTRA[@]+"${EXTRA[@]}"}; do
	src=${e%%:*}
	dst=${e#*:}
	[ "$src" != "$e" ] && [ -n "$dst" ] || die "--extra-file wants HOST:GUEST, got $e"
	[ -e "$src" ] || die "--extra-file: no such file $src"
	case $dst in /*) ;; *) dst=/$dst ;; esac
	mkdir -p "$ROOT$(dirname "$dst")"
	cp -a "$src" "$ROOT$dst"
done

# The NIC: virtio_net and what it needs, from the guest kernel's modules.
NET=()
if [ ${#FWD[@]} -gt 0 ]; then
	command -v socat >/dev/null || die "socat missing (install socat)"
	krel=$(basename "$KERNEL" | sed 's/^vmlinuz-//')
	mkdir -p "$ROOT/net"
	for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev \
		virtio_pci failover net_failover virtio_net; do
		f=$(find "/lib/modules/$krel/kernel" -name "$m.ko*" | head -n 1)
		# built in: nothing to load
		[ -n "$f" ] && cp "$f" "$ROOT/net/"
		echo "$m" >>"$ROOT/net/order"
	done
	nd=user,id=n0,restrict=on
	for f in "${FWD[@]}"; do
		g=${f%%=*}
		h=${f#*=}
		case $g:$h in
		10.0.2.*:*:127.0.0.*:*) ;;
		*) die "--guestfwd wants 10.0.2.X:PORT=127.0.0.Y:PORT, got $f" ;;
		esac
		nd="$nd,guestfwd=tcp:$g-cmd:socat - TCP:$h"
	done
	# shellcheck disable=SC2054 # the commas are QEMU's
	NET=(-netdev "$nd" -device virtio-net-pci,netdev=n0)
fi

INITRD=$WORK/initramfs.cpio.gz
# Sorted names and root ownership: the same inputs give the same archive.
(cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0) | gzip -1 >"$INITRD"
[ -z "$USE_INITRD" ] || cp "$USE_INITRD" "$INITRD"
if [ -n "$SAVE_INITRD" ]; then
	mkdir -p "$(dirname "$SAVE_INITRD")"
	cp "$INITRD" "$SAVE_INITRD"
fi

# --- the guest ------------------------------------------------------------
# no_timer_check: on a loaded host TCG can miss the boot-time IO-APIC timer
# check, and the kernel then panics ("IO-APIC + timer doesn't work!").
CMDLINE="console=ttyS0 panic=-1 oops=panic loglevel=7 no_timer_check${APPEND:+ $APPEND}"

# -nodefaults drops the default NIC, VGA and monitor; the two serial ports
# are the only I/O: ttyS0 is the console, ttyS1 the results.  Nothing reads
# stdin (CI has none).  -no-reboot turns the guest's reboot (and the reboot
# after a panic, panic=-1) into QEMU exiting.
# shellcheck disable=SC2054 # the commas are QEMU's, not array separators
QEMU=(qemu-system-x86_64
	-accel tcg,thread=multi -cpu max -smp "$SMP" -m "$MEM"
	-nodefaults -display none -no-reboot
	-serial "file:$LOG" -serial "file:$OUT"
	-kernel "$KERNEL" -initrd "$INITRD" -append "$CMDLINE"
	${NET[@]+"${NET[@]}"}
	${QEMU_EXTRA[@]+"${QEMU_EXTRA[@]}"})
[ -z "$MONITOR" ] || QEMU+=(-monitor "unix:$MONITOR,server=on,wait=off")
[ -z "$INCOMING" ] || QEMU+=(-incoming "exec:cat $INCOMING")

# One QEMU run: sets qrc (QEMU's exit status) and secs.
boot() {
	: >"$OUT"
	: >"$LOG"
	if [ -n "$INCOMING" ]; then
		echo "run-guest: restoring $INCOMING (smp $SMP, mem $MEM, timeout ${TIMEOUT}s)" >&2
	else
		echo "run-guest: booting $KERNEL (smp $SMP, mem $MEM, timeout ${TIMEOUT}s)" >&2
	fi
	local start
	start=$(date +%s)
	# timeout sends TERM first (QEMU exits cleanly, files flushed), KILL 10 s on.
	timeout -k 10 "$TIMEOUT" "${QEMU[@]}" </dev/null >"$WORK/qemu.stderr" 2>&1 &
	QPID=$!
	if [ "$QUIET" = 0 ]; then
		# Follow the results while the guest runs; tail ends itself once
		# QEMU is gone (--pid), after printing what is left.
		tail -s 0.5 -n +1 -f --pid="$QPID" "$OUT" | tr -d '\r' &
		TPID=$!
	fi
	qrc=0
	wait "$QPID" || qrc=$?
	QPID=
	if [ -n "$TPID" ]; then
		wait "$TPID" || true
		TPID=
	fi
	secs=$(( $(date +%s) - start ))
	# A serial line may carry \r; the callers parse these files line by line.
	sed -i 's/\r$//' "$OUT" "$LOG"
}

# Judge the run just made: 0 clean, 3 clean but SCRIPT exited non-zero
# (src holds its status), 1 failed with WHY saying why (details on stderr).
judge() {
	WHY=
	if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		tail -n 20 "$LOG" >&2
		WHY="timeout: guest still running after ${TIMEOUT}s (console log: $LOG)"
		return 1
	fi
	if [ "$qrc" != 0 ]; then
		cat "$WORK/qemu.stderr" >&2
		WHY="QEMU exited with status $qrc"
		return 1
	fi
	# Kernel trouble first: a warning matters even if the script finished.
	if grep -qE "$BAD_RE" "$LOG"; then
		echo "run-guest: kernel log problems (from $LOG):" >&2
		grep -nE -B 2 -A 12 "$BAD_RE" "$LOG" | head -n 150 >&2
		WHY="kernel log shows: $(grep -oE "$BAD_RE" "$LOG" | sort -u | paste -sd, -)"
		return 1
	fi
	# Not anchored at the line start: a test may leave a line unterminated.
	local tok
	tok=$(grep -oE "$TOKEN rc=[0-9]+\$" "$OUT" | tail -n 1 || true)
	if [ -z "$tok" ]; then
		tail -n 20 "$LOG" >&2
		WHY="no '$TOKEN' token: the guest died before its script finished (console log: $LOG)"
		return 1
	fi
	src=${tok##*rc=}
	return 0
}

boot
rc=0
judge || rc=$?
if [ "$rc" = 1 ] && [ -z "$INCOMING" ] && [ "$(classify "$LOG" "$OUT")" = boot-crash ]; then
	cp "$OUT" "$OUT.boot1"
	cp "$LOG" "$LOG.boot1"
	echo "# retrying boot: $WHY; flakeid not loaded, no test started (first console log: $LOG.boot1)"
	echo "run-guest: retrying boot once: $WHY" >&2
	boot
	rc=0
	judge || rc=$?
fi
if [ "$rc" = 1 ]; then
	echo "run-guest: FAIL: $WHY" >&2
	exit 1
fi

echo "run-guest: guest done in ${secs}s, main script exit status $src" >&2
[ "$src" = 0 ] || exit 3
exit 0
