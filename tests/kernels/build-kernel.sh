#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build a small test kernel and cache it; print the cache directory.
#
#   build-kernel.sh [--source TARBALL|DIR] [--cache DIR] [--jobs N] NAME
#
# NAME picks tests/kernels/NAME.config (debug, kcsan, ...), laid over
# `make allnoconfig` together with base.config (what the QEMU guest needs)
# and, for every NAME but "plain", detectors.config (lockdep, UBSAN, ...).
# NAME.config is optional for "plain".
# --source is a linux-source tarball or an unpacked tree (default Debian's
# /usr/src/linux-source-6.1.tar.xz).
#
# The result lives in CACHE/NAME-KEY/ (CACHE defaults to
# /var/cache/flakeid-kernels, or $FLAKEID_KERNEL_CACHE), where KEY hashes
# the source's identity, the fragments, the compiler and this recipe, so a
# rerun with the same inputs returns at once.  It holds:
#   bzImage       the kernel to boot (run-guest.sh --kernel)
#   build/        the O= tree, objects pruned, prepared for
#                 `make -C .../build M=<dir> modules`
#   src           symlink to the unpacked source the tree refers to
#   config-check  each fragment line and what the .config says
#   build-seconds wall time of the build
# The last line on stdout is the directory; progress goes to stderr.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
RECIPE=3	# bump when the steps below change what a cached build holds

CACHE=${FLAKEID_KERNEL_CACHE:-/var/cache/flakeid-kernels}
SOURCE=/usr/src/linux-source-6.1.tar.xz
JOBS=$(nproc 2>/dev/null || echo 2)
NAME=

usage() {
	sed -n '3,24s/^# \{0,1\}//p' "$0" >&2
	exit 2
}
say() { echo "build-kernel: $*" >&2; }
die() { say "FAIL: $*"; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--source) SOURCE=$2; shift ;;
	--cache) CACHE=$2; shift ;;
	--jobs) JOBS=$2; shift ;;
	-h|--help) usage ;;
	-*) say "unknown option $1"; usage ;;
	*) [ -z "$NAME" ] || usage; NAME=$1 ;;
	esac
	shift
done
[ -n "$NAME" ] || usage
case $NAME in *[!a-z0-9_.-]*) die "bad kernel name $NAME" ;; esac

FRAGMENTS="$HERE/base.config"
[ "$NAME" = plain ] || FRAGMENTS="$FRAGMENTS $HERE/detectors.config"
[ -f "$HERE/$NAME.config" ] && FRAGMENTS="$FRAGMENTS $HERE/$NAME.config"
[ "$NAME" = plain ] || [ -f "$HERE/$NAME.config" ] || die "no fragment $HERE/$NAME.config"
for t in make gcc flex bison bc perl; do
	command -v $t >/dev/null || die "$t missing (run scripts/install-deps.sh)"
done

# --- the key -------------------------------------------------------------
# A tarball is named by its content; a tree by its path and Makefile version.
if [ -f "$SOURCE" ]; then
	src_id=$(sha256sum <"$SOURCE" | cut -c1-16)
elif [ -f "$SOURCE/Makefile" ]; then
	SOURCE=$(cd "$SOURCE" && pwd)
	src_id=$( (echo "$SOURCE"; sed -n '1,6p' "$SOURCE/Makefile") | sha256sum | cut -c1-16)
else
	die "no kernel source at $SOURCE"
fi
# shellcheck disable=SC2086 # one word per fragment
key=$( (echo "recipe $RECIPE src $src_id"; gcc --version | head -n 1;
	cat $FRAGMENTS) | sha256sum | cut -c1-12)
OUT=$CACHE/$NAME-$key

cached() {
	[ -f "$OUT/.complete" ] || return 1
	say "cached: $OUT (built in $(cat "$OUT/build-seconds")s)"
	echo "$OUT"
}
cached && exit 0
mkdir -p "$CACHE"
# One build of a kernel at a time; a second caller waits and takes the
# result.  (A cached kernel never waits for another one being built.)
exec 9>"$CACHE/.lock-$NAME-$key"
flock 9
cached && exit 0

start=$(date +%s)

# --- the source ------------------------------------------------------------
if [ -f "$SOURCE" ]; then
	SRC=$CACHE/src-$src_id
	if [ ! -f "$SRC/.complete" ]; then
		say "unpacking $SOURCE"
		rm -rf "$SRC" "$SRC.tmp"
		mkdir -p "$SRC.tmp"
		tar -xf "$SOURCE" -C "$SRC.tmp" --strip-components=1
		[ -f "$SRC.tmp/Makefile" ] || die "$SOURCE holds no kernel tree"
		touch "$SRC.tmp/.complete"
		mv "$SRC.tmp" "$SRC"
	fi
else
	SRC=$SOURCE
fi
version=$(make -s -C "$SRC" kernelversion 2>/dev/null) || die "not a kernel tree: $SRC"

# --- configure -------------------------------------------------------------
# Built in place (the tree records its own path, so it cannot move
# afterwards); .complete marks a finished build, anything else is redone.
TMP=$OUT
rm -rf "$TMP"
mkdir -p "$TMP/build"
ln -s "$SRC" "$TMP/src"
# shellcheck disable=SC2086
cat $FRAGMENTS >"$TMP/fragment.config"
KMAKE=(make -C "$SRC" O="$TMP/build" ARCH=x86_64 -j"$JOBS")
say "configuring $NAME from $version ($(echo $FRAGMENTS | xargs -n1 basename | paste -sd+ -))"
"${KMAKE[@]}" -s KCONFIG_ALLCONFIG="$TMP/fragment.config" allnoconfig >"$TMP/build.log" 2>&1 ||
	{ tail -n 30 "$TMP/build.log" >&2; die "allnoconfig failed"; }

# Every fragment line must have landed: Kconfig drops a request silently
# when a dependency is missing.  A symbol this kernel does not know at all
# (renamed or removed in a newer kernel) is reported but not fatal.
check_config() {
	local cfg=$1 bad=0 line sym want have
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*) sym=${line%%=*}; want=${line#*=} ;;
		"# CONFIG_"*" is not set") sym=${line#\# }; sym=${sym%% *}; want=n ;;
		*) continue ;;
		esac
		have=$(grep -E "^$sym=|^# $sym is not set" "$cfg" | tail -n 1)
		case $have in
		"$sym="*) have=${have#*=} ;;
		*) have=n ;;
		esac
		if [ "$have" = "$want" ]; then
			printf 'ok      %s=%s\n' "$sym" "$want"
		elif ! grep -rqsE "^[[:space:]]*(menu)?config ${sym#CONFIG_}\$" \
				--include='Kconfig*' "$SRC"; then
			printf 'absent  %s (not in this kernel)\n' "$sym"
		else
			printf 'WRONG   %s: want %s, have %s\n' "$sym" "$want" "$have"
			bad=1
		fi
	done <"$TMP/fragment.config"
	return $bad
}
if ! check_config "$TMP/build/.config" >"$TMP/config-check"; then
	grep -v '^ok' "$TMP/config-check" >&2
	die "the .config lacks options the fragments ask for (see above)"
fi
say "config check: $(grep -c '^ok' "$TMP/config-check") options as asked$(
	n=$(grep -c '^absent' "$TMP/config-check" || true)
	[ "$n" = 0 ] || echo ", $n not in this kernel")"

# --- build -------------------------------------------------------------------
say "building $NAME ($version, $JOBS jobs; log $TMP/build.log)"
# `modules` also runs modpost over vmlinux, which writes Module.symvers;
# modules_prepare leaves what an external M= build needs.
if ! "${KMAKE[@]}" bzImage modules >>"$TMP/build.log" 2>&1 ||
   ! "${KMAKE[@]}" modules_prepare >>"$TMP/build.log" 2>&1; then
	grep -E 'error|Error' "$TMP/build.log" | head -n 20 >&2
	die "kernel build failed (log $TMP/build.log)"
fi
cp "$TMP/build/arch/x86/boot/bzImage" "$TMP/bzImage"
krel=$(cat "$TMP/build/include/config/kernel.release")
echo "$krel" >"$TMP/kernelrelease"

# Objects are only needed to link vmlinux again; an external module build
# needs the config, generated headers, Module.symvers and the host tools
# under scripts/ and tools/.  vmlinux stays for decoding stack traces.
find "$TMP/build" \( -path "$TMP/build/scripts" -o -path "$TMP/build/tools" \) -prune -o \
	-type f \( -name '*.o' -o -name '*.a' -o -name '.*.cmd' -o -name '*.o.d' \) -print0 |
	xargs -0 rm -f
rm -f "$TMP/build/vmlinux.o" "$TMP/build/arch/x86/boot/compressed/vmlinux.bin"*

# Prove the pruned tree still builds an external module.
probe=$TMP/probe
mkdir -p "$probe"
cat >"$probe/probe.c" <<'EOF'
#include <linux/module.h>
static int __init probe_init(void) { return 0; }
static void __exit probe_exit(void) { }
module_init(probe_init);
module_exit(probe_exit);
MODULE_LICENSE("GPL");
EOF
echo 'obj-m := probe.o' >"$probe/Kbuild"
make -C "$TMP/build" M="$probe" modules >"$probe/log" 2>&1 && [ -f "$probe/probe.ko" ] ||
	{ tail -n 20 "$probe/log" >&2; die "an M= build against the pruned tree fails"; }
rm -rf "$probe"

secs=$(( $(date +%s) - start ))
echo "$secs" >"$TMP/build-seconds"
touch "$OUT/.complete"
say "built $krel in ${secs}s: $OUT"
echo "$OUT"
