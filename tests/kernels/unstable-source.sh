#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fetch the newest linux-source-* package of Debian's unstable suite without
# installing it, and print the path of its source tarball.
#
#   unstable-source.sh [--suite SUITE] [--cache DIR]
#
# apt reads a private sources list and package lists under CACHE/apt-SUITE
# (the system's apt configuration and package set stay as they are); the
# package is fetched with `apt-get download` and unpacked with `dpkg-deb -x`
# into CACHE/src-deb-<package>-<version>/.  Build it with
# `build-kernel.sh --source <tarball> plain`.
set -eu

CACHE=${FLAKEID_KERNEL_CACHE:-/var/cache/flakeid-kernels}
SUITE=unstable
while [ $# -gt 0 ]; do
	case $1 in
	--suite) SUITE=$2; shift ;;
	--cache) CACHE=$2; shift ;;
	*) sed -n '3,12s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
	shift
done
say() { echo "unstable-source: $*" >&2; }
die() { say "FAIL: $*"; exit 1; }

A=$CACHE/apt-$SUITE
mkdir -p "$A/lists/partial" "$A/cache/archives/partial"
echo "deb http://deb.debian.org/debian $SUITE main" >"$A/sources.list"
APT=(-q -o APT::Sandbox::User=root
     -o Dir::Etc::SourceList="$A/sources.list"
     -o Dir::Etc::SourceParts=/dev/null
     -o Dir::State::Lists="$A/lists"
     -o Dir::Cache="$A/cache")
exec 9>"$CACHE/.lock-deb"
flock 9
if [ -z "$(find "$A/lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null)" ]; then
	say "apt-get update for $SUITE (private lists in $A)"
	apt-get "${APT[@]}" update >"$A/update.log" 2>&1 ||
		{ tail -n 5 "$A/update.log" >&2; die "apt-get update failed"; }
fi

# The newest linux-source-<version> (not the linux-source metapackage).
pkg=$(apt-cache "${APT[@]}" search --names-only '^linux-source-[0-9.]+$' |
	cut -d' ' -f1 | sort -V | tail -n 1)
[ -n "$pkg" ] || die "no linux-source-* package in $SUITE"
ver=$(apt-cache "${APT[@]}" show --no-all-versions "$pkg" | sed -n 's/^Version: //p' | head -n 1)
OUT=$CACHE/src-deb-$pkg-$ver
if [ ! -f "$OUT/.complete" ]; then
	say "fetching $pkg $ver from $SUITE"
	rm -rf "$OUT"
	mkdir -p "$OUT/root"
	(cd "$OUT" && apt-get "${APT[@]}" download "$pkg=$ver" >download.log 2>&1) ||
		{ tail -n 5 "$OUT/download.log" >&2; die "apt-get download $pkg failed"; }
	dpkg-deb -x "$OUT"/*.deb "$OUT/root"
	rm -f "$OUT"/*.deb
	touch "$OUT/.complete"
fi
tarball=$(ls "$OUT"/root/usr/src/linux-source-*.tar.* 2>/dev/null | head -n 1)
[ -n "$tarball" ] || die "$pkg holds no /usr/src/linux-source-*.tar.*"
say "$pkg $ver: $tarball"
echo "$tarball"
