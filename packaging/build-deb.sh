#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Behind `make deb`: build the Debian packages (flakeid-dkms, libflakeid1,
# libflakeid-dev, flakeid, flakeid-agent) from a clean copy of the source
# tree, so neither the checkout nor its parent directory collects build
# output.
#
#   build-deb.sh OUTDIR [VERSION]
#                       .deb, .changes and .buildinfo files land in OUTDIR;
#                       VERSION adds a changelog entry to the copy first (the
#                       packaging tests build a bumped version this way)
#
# Needs debhelper, dh-dkms, dpkg-dev and fakeroot (scripts/install-deps.sh).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
out=${1:?usage: build-deb.sh OUTDIR [VERSION]}
bump=${2:-}
case $out in /*) ;; *) out=$top/$out ;; esac

ver=${bump:-$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)}
# The project's version is VERSION; the changelog's newest entry names it
# (a test build's entry may add to it).
project=$(cat "$top/VERSION")
case ${ver%%-*} in
"$project"|"$project"+*) ;;
*) echo "build-deb: FAIL: debian/changelog is at $ver, VERSION says $project" >&2; exit 1 ;;
esac
work=$top/build/pkg
src=$work/flakeid-$ver

rm -rf "$work"
mkdir -p "$src" "$out"
# Everything the checkout holds except build output: git's view when this
# is a git tree (tracked files and new ones not ignored), else the files
# outside build/.
cd "$top"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf - | tar -xf - -C "$src"
else
	tar --exclude=./build -cf - . | tar -xf - -C "$src"
fi

cd "$src"
if [ -n "$bump" ]; then
	{
		printf 'flakeid (%s) unstable; urgency=medium\n\n  * Test build.\n\n' "$bump"
		printf ' -- flakeid developers <flakeid@example.org>  %s\n\n' "$(date -R)"
		cat debian/changelog
	} >debian/changelog.new
	mv debian/changelog.new debian/changelog
fi
echo "build-deb: dpkg-buildpackage in $src" >&2
dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1 || {
	tail -n 40 "$work/build.log" >&2
	echo "build-deb: FAIL: dpkg-buildpackage (log: $work/build.log)" >&2
	exit 1
}

rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
for f in "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo; do
	[ -e "$f" ] && cp "$f" "$out/"
done
echo "build-deb: packages in $out:" >&2
ls -1 "$out"/*.deb >&2
