# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034 # sets variables for its callers
# Host-side helpers for tests/kernels/run.sh, the fuzz, soak and vmfork
# drivers (sourced):
# find a test kernel by name and build the module against it.  Needs TOP
# (the tree) set by the caller.

FLAKEID_KERNELS_DIR=$TOP/tests/kernels

# Sets KIMAGE, KBUILD, KREL, APPEND, TIMEOUT, MEM for kernel $1:
#   stock      Debian's linux-image-amd64, the default target
#   rt         Debian's linux-image-rt-amd64 (PREEMPT_RT), fetched unpacked
#   backports  Debian's linux-image-amd64 from bookworm-backports
#   unstable   a small build of the newest linux-source in Debian unstable
#   NAME       tests/kernels/NAME.config built from linux-source-6.1
flakeid_resolve_kernel() {
	local dir
	# no_timer_check: under a loaded host, TCG can miss the IO-APIC timer
	# check at boot and panic ("IO-APIC + timer doesn't work").
	APPEND="panic_on_warn=1 no_timer_check" TIMEOUT=1500 MEM=1G
	case $1 in
	stock)
		flakeid_kernel_env || return 1
		KIMAGE=/boot/vmlinuz-$KERNELRELEASE KBUILD=$KDIR KREL=$KERNELRELEASE
		;;
	rt|backports)
		if [ "$1" = rt ]; then
			dir=$("$FLAKEID_KERNELS_DIR/debian-kernel.sh" linux-image-rt-amd64) || return 1
		else
			dir=$("$FLAKEID_KERNELS_DIR/debian-kernel.sh" --suite bookworm-backports \
				linux-image-amd64) || return 1
		fi
		KIMAGE=$dir/vmlinuz KBUILD=$dir/build KREL=$(cat "$dir/release")
		;;
	unstable)
		dir=$("$FLAKEID_KERNELS_DIR/unstable-source.sh") || return 1
		dir=$("$FLAKEID_KERNELS_DIR/build-kernel.sh" --source "$dir" plain) || return 1
		KIMAGE=$dir/bzImage KBUILD=$dir/build KREL=$(cat "$dir/kernelrelease")
		;;
	*)
		if [ ! -f "$FLAKEID_KERNELS_DIR/$1.config" ]; then
			echo "unknown kernel $1" >&2
			return 1
		fi
		dir=$("$FLAKEID_KERNELS_DIR/build-kernel.sh" "$1") || return 1
		KIMAGE=$dir/bzImage KBUILD=$dir/build KREL=$(cat "$dir/kernelrelease")
		# Sanitizers slow everything down several times under TCG.
		TIMEOUT=3600 MEM=2G
		;;
	esac
	[ -r "$KIMAGE" ] && [ -e "$KBUILD/Makefile" ]
}

# Extra make arguments for an M= build against $1: kernels with BTF for
# modules (Debian's 6.12) run pahole after linking; without pahole (Debian
# package dwarves) the module is built without BTF, which it does not need.
flakeid_kbuild_args() {
	if grep -qs '^CONFIG_DEBUG_INFO_BTF_MODULES=y' "$1/.config" &&
	   ! command -v pahole >/dev/null; then
		echo "CONFIG_DEBUG_INFO_BTF_MODULES="
	fi
}

# Build the module for kernel $1 from a copy of the sources into
# build/kernels/$1/mod (the tree's own flakeid.ko is left alone), W=1;
# a compiler warning fails it.  Log: build/kernels/$1/module.log.
flakeid_build_module() {
	local out=$TOP/build/kernels/$1
	local m=$out/mod
	rm -rf "$m"
	mkdir -p "$m/kmod"
	(cd "$TOP" && cp -a Kbuild uapi "$m/" &&
	 find kmod -maxdepth 1 -type f ! -name '*.o' ! -name '.*' -exec cp {} "$m/kmod/" \;) ||
		return 1
	# shellcheck disable=SC2046 # no argument at all when there is none
	make -C "$KBUILD" M="$m" W=1 $(flakeid_kbuild_args "$KBUILD") modules \
		>"$out/module.log" 2>&1 &&
		[ -f "$m/flakeid.ko" ] || return 1
	! grep -q 'warning:' "$out/module.log"
}

# Setup shared by the fuzz and soak drivers: build tests/$1 into build/$1,
# resolve kernel $2 (sets KIMAGE, KREL, APPEND, ...) and build the module
# against it.  On failure print a failing TAP line and the summary, and
# exit 1.
flakeid_setup_guest_run() {
	local what=$1 kernel=$2 out=$TOP/build/$1 why
	mkdir -p "$out" "$TOP/build/kernels/$kernel"
	if ! make -s -C "$TOP/tests/$what" OUT="$out" >"$out/make.log" 2>&1; then
		cat "$out/make.log" >&2
		why="building tests/$what"
	elif ! flakeid_resolve_kernel "$kernel" 2>"$out/kernel.log"; then
		tail -n 5 "$out/kernel.log" >&2
		why="kernel $kernel"
	elif ! flakeid_build_module "$kernel"; then
		grep -E 'warning:|error:' "$TOP/build/kernels/$kernel/module.log" >&2
		why="module against $KREL"
	else
		return 0
	fi
	echo "not ok 1 - $what setup: $why"
	echo "0 passed, 1 failed"
	exit 1
}

# After the guest run of tests/$1 (run-guest.sh's exit status $2): its
# results in build/$1/results.txt counted into p and f; a failed run
# (status 1) is one failure more, with the runner's reason.
flakeid_guest_tally() {
	local out=$TOP/build/$1
	p=$(grep -c '^ok ' "$out/results.txt")
	f=$(grep -c '^not ok ' "$out/results.txt")
	if [ "$2" != 0 ]; then
		tail -n 3 "$out/run-guest.err" | sed 's/^/# /'
		if [ "$2" = 1 ]; then
			f=$((f + 1))
			echo "not ok - the guest run failed (console log: build/$1/console.log)"
		fi
	fi
}
