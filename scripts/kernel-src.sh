#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Pull the few kernel-tree files the project uses out of Debian's
# linux-source tarball into build/ksrc/ and print that directory:
#   scripts/checkpatch.pl (+ the two data files it reads from its own dir)
#   tools/testing/selftests/kselftest{,_harness}.h for the guest tests.
# Nothing from the kernel tree is ever committed: build/ is git-ignored.
# Unpacking means decompressing the whole 140 MB tarball (~15 s), so the
# result is cached and reused while the tarball stays the same.
set -eu

. "$(dirname "$0")/host-lib.sh"
TOP=$(flakeid_top "$0")

TARBALL=${KSRC_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
OUT=$TOP/build/ksrc
FILES="scripts/checkpatch.pl
scripts/spelling.txt
scripts/const_structs.checkpatch
tools/testing/selftests/kselftest_harness.h
tools/testing/selftests/kselftest.h"

if [ ! -r "$TARBALL" ]; then
	echo "kernel-src: FAIL: $TARBALL missing: run scripts/install-deps.sh" >&2
	exit 1
fi

# The stamp names the tarball and its size and time, so a new linux-source
# package invalidates the cache.
stamp=$(stat -c '%n %s %Y' "$TARBALL")
have_all() {
	[ -f "$OUT/.stamp" ] && [ "$(cat "$OUT/.stamp")" = "$stamp" ] || return 1
	for f in $FILES; do
		[ -s "$OUT/$f" ] || return 1
	done
}

if ! have_all; then
	# The tarball's top directory is linux-source-<ver>/; ask tar for it
	# instead of guessing from the file name.
	topdir=$(tar -tJf "$TARBALL" 2>/dev/null | head -n 1 | cut -d/ -f1) || true
	if [ -z "$topdir" ]; then
		echo "kernel-src: FAIL: cannot list $TARBALL" >&2
		exit 1
	fi
	# Unpack into a fresh directory and rename it into place, so an
	# interrupted run never leaves a half-filled cache behind.
	mkdir -p "$TOP/build"
	tmp=$(mktemp -d "$TOP/build/.ksrc.XXXXXX")
	chmod 755 "$tmp"
	trap 'rm -rf "$tmp"' EXIT
	members=
	for f in $FILES; do
		members="$members $topdir/$f"
	done
	# shellcheck disable=SC2086 # one word per member
	tar -xJf "$TARBALL" -C "$tmp" --strip-components=1 $members
	for f in $FILES; do
		[ -s "$tmp/$f" ] || { echo "kernel-src: FAIL: $f not in $TARBALL" >&2; exit 1; }
	done
	echo "$stamp" >"$tmp/.stamp"
	rm -rf "$OUT"
	mv "$tmp" "$OUT"
	trap - EXIT
fi

echo "$OUT"
