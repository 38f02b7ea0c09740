# SPDX-License-Identifier: GPL-2.0
# Host-side helpers shared by the bash scripts in scripts/, tests/ and
# bench/ (sourced, not run; nothing here runs in a guest).
# They find the tree and pick the target kernel.

# The top of the work tree: host-lib.sh lives in scripts/, one level down.
# (Bash only: every script here is bash.)
FLAKEID_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
flakeid_top() {
	[ -e "$FLAKEID_TOP/Kbuild" ] || { echo "no Kbuild in $FLAKEID_TOP: not a flakeid tree" >&2; return 1; }
	echo "$FLAKEID_TOP"
}

# The kernel to build against and boot: the newest generic (non-rt) release
# that has headers under /lib/modules and an image in /boot.  Never
# `uname -r`: the host kernel is not the target (on CI it cannot even load
# modules).  Same rule as the top Makefile.
flakeid_newest_krel() {
	for d in /lib/modules/*/build/Makefile; do
		[ -e "$d" ] || continue
		d=${d%/build/Makefile}
		d=${d##*/}
		[ -e "/boot/vmlinuz-$d" ] || continue
		case $d in *-rt-*) continue ;; esac
		echo "$d"
	done | sort -V | tail -n 1
}

# Honour KERNELRELEASE/KDIR exported by the top Makefile (or DKMS), but redo
# the choice when they are empty or stale: `make check` evaluates them before
# install-deps.sh has put any headers on a fresh machine.
flakeid_kernel_env() {
	if [ -z "${KERNELRELEASE:-}" ] || [ ! -e "/lib/modules/$KERNELRELEASE/build/Makefile" ]; then
		KERNELRELEASE=$(flakeid_newest_krel)
		KDIR=
	fi
	if [ -z "${KDIR:-}" ] || [ ! -e "$KDIR/Makefile" ]; then
		KDIR=/lib/modules/$KERNELRELEASE/build
	fi
	if [ -z "$KERNELRELEASE" ] || [ ! -e "$KDIR/Makefile" ]; then
		echo "no kernel headers under /lib/modules: run scripts/install-deps.sh" >&2
		return 1
	fi
	export KERNELRELEASE KDIR
}

flakeid_jobs() {
	nproc 2>/dev/null || echo 2
}
