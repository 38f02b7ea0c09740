#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fetch a Debian kernel image and its headers without installing them, and
# print the directory holding them.
#
#   debian-kernel.sh [--suite SUITE] [--cache DIR] METAPACKAGE
#
# METAPACKAGE is e.g. linux-image-rt-amd64; its image package, the matching
# linux-headers-*, their -common headers and linux-kbuild-* are fetched with
# `apt-get download` and unpacked with `dpkg-deb -x` into
# CACHE/deb-<release>-<version>/root, so the system's package set (and the
# newest release under /lib/modules that the default build picks) stays as
# it was.  With --suite (e.g. bookworm-backports, unstable) apt reads a
# private sources list and package lists kept under CACHE; the system's
# apt configuration is not touched.  The directory holds:
#   vmlinuz   the kernel to boot
#   build     symlink to the headers, for `make -C .../build M=<dir>`
#   release   the kernel release string
# The last line on stdout is the directory; progress goes to stderr.
set -eu

CACHE=${FLAKEID_KERNEL_CACHE:-/var/cache/flakeid-kernels}
SUITE=
META=

say() { echo "debian-kernel: $*" >&2; }
die() { say "FAIL: $*"; exit 1; }
usage() {
	sed -n '3,19s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--suite) SUITE=$2; shift ;;
	--cache) CACHE=$2; shift ;;
	-h|--help) usage ;;
	-*) usage ;;
	*) [ -z "$META" ] || usage; META=$1 ;;
	esac
	shift
done
[ -n "$META" ] || usage
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock-deb"
flock 9

# apt as root downloads without its _apt sandbox (the target directory is
# root's); with a suite, everything apt keeps goes to a private directory.
APT=(-q -o APT::Sandbox::User=root)
if [ -n "$SUITE" ]; then
	A=$CACHE/apt-$SUITE
	mkdir -p "$A/lists/partial" "$A/cache/archives/partial"
	cat >"$A/sources.list" <<EOF
deb http://deb.debian.org/debian $SUITE main
EOF
	APT+=(-o Dir::Etc::SourceList="$A/sources.list"
	      -o Dir::Etc::SourceParts=/dev/null
	      -o Dir::State::Lists="$A/lists"
	      -o Dir::Cache="$A/cache"
	      -o APT::Default-Release="$SUITE")
	# Refresh the private lists at most once a day.
	if [ -z "$(find "$A/lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null)" ]; then
		say "apt-get update for $SUITE (private lists in $A)"
		apt-get "${APT[@]}" update >"$A/update.log" 2>&1 ||
			{ tail -n 5 "$A/update.log" >&2; die "apt-get update for $SUITE failed"; }
	fi
fi

# The candidate's dependency list names the versioned packages.
show() {
	apt-cache "${APT[@]}" show --no-all-versions "$1" 2>/dev/null
}
depends_on() {	# PACKAGE PATTERN: the first dependency matching PATTERN
	show "$1" | sed -n 's/^\(Pre-\)\{0,1\}Depends: //p' | tr ',|' '\n\n' |
		sed 's/^ *//; s/ .*//' | grep -E "$2" | head -n 1
}
version_of() {
	show "$1" | sed -n 's/^Version: //p' | head -n 1
}

image=$(depends_on "$META" '^linux-image-[0-9]')
[ -n "$image" ] || die "cannot resolve $META${SUITE:+ in $SUITE} to a kernel image package"
version=$(version_of "$image")
krel=${image#linux-image-}
krel=${krel%-unsigned}
OUT=$CACHE/deb-$krel-$version
if [ -f "$OUT/.complete" ]; then
	say "cached: $OUT"
	echo "$OUT"
	exit 0
fi

headers=linux-headers-$krel
common=$(depends_on "$headers" '^linux-headers-.*-common')
kbuild=$(depends_on "$headers" '^linux-kbuild-')
[ -n "$common" ] && [ -n "$kbuild" ] || die "cannot resolve the dependencies of $headers"
say "fetching $image $headers $common $kbuild ($version)"

rm -rf "$OUT"
mkdir -p "$OUT/debs" "$OUT/root"
(cd "$OUT/debs" && apt-get "${APT[@]}" download "$image=$version" "$headers=$version" \
	"$common=$version" "$kbuild" >"$OUT/download.log" 2>&1) ||
	{ tail -n 5 "$OUT/download.log" >&2; die "apt-get download failed"; }
for d in "$OUT"/debs/*.deb; do
	dpkg-deb -x "$d" "$OUT/root"
done
rm -rf "$OUT/debs"

R=$OUT/root
vmlinuz=$(ls "$R"/boot/vmlinuz-* 2>/dev/null | head -n 1)
[ -n "$vmlinuz" ] || die "$image holds no /boot/vmlinuz-*"
hdr=$R/usr/src/linux-headers-$krel
[ -f "$hdr/Makefile" ] || die "$headers holds no $hdr/Makefile"
# The headers' Makefiles include each other by absolute /usr/src paths.
grep -rlZ --include=Makefile '/usr/src/linux-headers' "$R/usr/src" |
	xargs -0 -r sed -i "s|\([ =]\)/usr/src/linux-headers|\1$R/usr/src/linux-headers|g"
ln -s "$vmlinuz" "$OUT/vmlinuz"
ln -s "$hdr" "$OUT/build"
echo "$krel" >"$OUT/release"

# Prove an external module builds against it.
probe=$OUT/probe
mkdir -p "$probe"
cat >"$probe/probe.c" <<'EOF'
#include <linux/module.h>
static int __init probe_init(void) { return 0; }
module_init(probe_init);
MODULE_LICENSE("GPL");
EOF
echo 'obj-m := probe.o' >"$probe/Kbuild"
# Without pahole, a kernel with BTF for modules cannot add it: skip it.
btf=
grep -qs '^CONFIG_DEBUG_INFO_BTF_MODULES=y' "$OUT/build/.config" &&
	! command -v pahole >/dev/null && btf=CONFIG_DEBUG_INFO_BTF_MODULES=
make -C "$OUT/build" M="$probe" $btf modules >"$probe/log" 2>&1 && [ -f "$probe/probe.ko" ] ||
	{ tail -n 20 "$probe/log" >&2; die "an M= build against $hdr fails"; }
rm -rf "$probe"
touch "$OUT/.complete"
say "ready: $krel ($version) in $OUT"
echo "$OUT"
