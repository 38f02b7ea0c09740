#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages that building, linting and the QEMU guest tests
# need.  Idempotent and quiet when everything is there already: it asks dpkg
# first and only touches apt (one update, one install) for what is missing.
# Runs unattended as root (CI=true, no tty, no stdin).
set -eu

. "$(dirname "$0")/host-lib.sh"

# Kept in one list so CI and developers get the same set.  Why each one:
#   linux-image-amd64   the kernel the guest boots (/boot/vmlinuz-*)
#   linux-headers-amd64 the matching headers to build flakeid.ko against
#   linux-source-6.1    checkpatch.pl and the kselftest harness headers
#   busybox-static      the guest userland (must be static: no libc in it)
#   qemu-system-x86     runs the guest
#   sparse              `make C=2` lint
#   gcc make libc6-dev  module, library and test programs
#   gcc-multilib libc6-dev-i386  32-bit (compat ioctl) test programs
#   cpio gzip           pack the initramfs
#   kmod                modinfo/depmod on the host
#   bc flex bison libelf-dev libssl-dev perl  kbuild's own tools
#   xz-utils            unpack linux-source
#   pkg-config          the library's .pc file
#   binutils            readelf (is busybox static?), ld
#   coreutils findutils grep sed  timeout, tail --pid, find, grep -E (essential,
#                       listed so a trimmed image still gets them)
#   dkms debhelper dh-dkms dpkg-dev fakeroot lintian git  packaging: DKMS
#                       builds, dpkg-buildpackage, lintian (make check-packaging);
#                       PREEMPT_RT headers and image are fetched with
#                       `apt-get download` and unpacked under build/, never
#                       installed, so the generic kernel stays the default
#   uuid-dev uuid-runtime gnuplot-nox  benchmarks (make bench): static
#                       libuuid, uuidd for the guest, the PNG plots
#   qemu-utils python3  VM restore and clone test (make check-vmfork):
#                       qemu-img makes the qcow2 disk savevm/loadvm need,
#                       tests/qemu/hmp.py talks to QEMU's monitor socket
#   libcurl4-openssl-dev  flakeid-agent talks HTTP(S) to etcd's JSON gateway
#   libjson-c-dev       flakeid-agent parses etcd's answers
#   etcd-server         the 3-member etcd cluster of the agent's tests
#   etcd-client         etcdctl: the agent's tests revoke leases, find the leader
#   socat               the guests' forwarded connections to etcd (make fleet)
#   golang-go rustc cargo  the Go and Rust bindings (bindings/), built offline
#                       with Debian's toolchains (/usr/bin/go, /usr/bin/cargo)
PACKAGES="linux-image-amd64 linux-headers-amd64 linux-source-6.1
busybox-static qemu-system-x86 sparse gcc make libc6-dev gcc-multilib
libc6-dev-i386 cpio gzip kmod bc flex bison libelf-dev libssl-dev perl
xz-utils pkg-config binutils coreutils findutils grep sed
dkms debhelper dh-dkms dpkg-dev fakeroot lintian git
uuid-dev uuid-runtime gnuplot-nox
qemu-utils python3
libcurl4-openssl-dev libjson-c-dev etcd-server etcd-client socat
golang-go rustc cargo"

# apt needs root; use sudo only when we are not root and it works without a
# password prompt (there is no tty to type one into).
SUDO=
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	SUDO="sudo -n"
fi

# No stdin and no tty: keep debconf and dpkg from asking anything, and keep
# the existing version of any changed config file.
APT_OPTS="-y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"
UPDATED=0
apt_install() {
	if [ "$(id -u)" != 0 ] && [ -z "$SUDO" ]; then
		echo "install-deps: FAIL: not root and no password-less sudo; install: $*" >&2
		exit 1
	fi
	echo "install-deps: installing: $*"
	if [ "$UPDATED" = 0 ]; then
		$SUDO env DEBIAN_FRONTEND=noninteractive apt-get -q update </dev/null
		UPDATED=1
	fi
	# shellcheck disable=SC2086 # word splitting of the options is intended
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install $APT_OPTS "$@" </dev/null
}

installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

missing=
for p in $PACKAGES; do
	installed "$p" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	# The image and headers meta-packages move together: installing one
	# alone could pair new headers with an old image.
	case $missing in
	*linux-image-amd64*|*linux-headers-amd64*)
		missing="$missing linux-image-amd64 linux-headers-amd64" ;;
	esac
	# shellcheck disable=SC2046,SC2086 # one word per package
	apt_install $(echo $missing | tr ' ' '\n' | sort -u)
fi

# The build picks the newest kernel with headers; the guest boots that same
# release, so its image must be there too.
krel=$(flakeid_newest_krel)
if [ -n "$krel" ] && [ ! -e "/boot/vmlinuz-$krel" ]; then
	apt_install "linux-image-$krel"
fi

# Verify rather than trust apt's exit status alone.
still=
for p in $PACKAGES; do
	installed "$p" || still="$still $p"
done
krel=$(flakeid_newest_krel)
[ -n "$krel" ] || still="$still (kernel headers under /lib/modules)"
[ -z "$krel" ] || [ -e "/boot/vmlinuz-$krel" ] || still="$still linux-image-$krel"
if [ -n "$still" ]; then
	echo "install-deps: FAIL: still missing:$still" >&2
	exit 1
fi
if [ "$UPDATED" = 1 ]; then
	echo "install-deps: done (kernel $krel)"
else
	echo "install-deps: all packages present (kernel $krel)"
fi
