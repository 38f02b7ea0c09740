#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Behind `make dkms-install` and `make dkms-remove`: copy this checkout's
# module source to /usr/src/flakeid-<version> and have DKMS build and install
# it for one kernel, or take every trace of it out again.
#
#   dkms.sh install KERNELRELEASE [KDIR]
#   dkms.sh remove
#
# The kernel is always named: the running one is usually not the target.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
ver=$(cat "$top/VERSION" 2>/dev/null || true)
src=/usr/src/flakeid-$ver

die() {
	echo "dkms-$cmd: $*" >&2
	exit 1
}

cmd=${1:-}
case $cmd in
install|remove) ;;
*) echo "usage: $0 install KERNELRELEASE [KDIR] | remove" >&2; exit 2 ;;
esac

[ -n "$ver" ] || die "no version in $top/VERSION"
[ "$(id -u)" = 0 ] || die "run as root (DKMS writes /usr/src, /var/lib/dkms and /lib/modules)"
command -v dkms >/dev/null 2>&1 || die "dkms is not installed (apt-get install dkms)"
# The package's tree is the package's business: never overwrite or delete it.
if dpkg-query -S "$src" >/dev/null 2>&1; then
	die "$src belongs to the flakeid-dkms package; remove the package first (apt-get remove flakeid-dkms)"
fi

# Forget any earlier add, so DKMS builds what this checkout holds now.
forget() {
	if [ -n "$(dkms status -m flakeid -v "$ver" 2>/dev/null)" ]; then
		dkms remove -m flakeid -v "$ver" --all
	fi
	rm -rf "$src"
}

if [ "$cmd" = remove ]; then
	forget
	echo "dkms-remove: flakeid $ver removed from DKMS and $src"
	exit 0
fi

krel=${2:-}
[ -n "$krel" ] || die "no kernel release given (make dkms-install KERNELRELEASE=<version>)"
kdir=${3:-/lib/modules/$krel/build}
[ -e "$kdir/Makefile" ] || die "no headers for $krel in $kdir (apt-get install linux-headers-$krel)"
[ -d "/lib/modules/$krel/kernel" ] || die "kernel $krel is not installed (/lib/modules/$krel/kernel missing)"

forget
make -s -C "$here" install-dkms-src
dkms add -m flakeid -v "$ver"
dkms build -m flakeid -v "$ver" -k "$krel" --kernelsourcedir "$kdir"
dkms install -m flakeid -v "$ver" -k "$krel"
echo "dkms-install: flakeid $ver installed for $krel: $(find "/lib/modules/$krel/updates" -name 'flakeid.ko*' 2>/dev/null | head -n 1)"
