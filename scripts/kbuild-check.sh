#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the module under one of the kernel's checkers and fail on any
# diagnostic about our own files:
#   kbuild-check.sh sparse   make C=2 (sparse on every source file)
#   kbuild-check.sh w1       make W=1 (gcc's extra warnings)
# The build runs on a copy of the sources in build/lint/<mode>/, so it
# neither leaves checker-built objects in the tree (`make module` stays
# valid) nor skips files that an earlier build left up to date.
set -eu

. "$(dirname "$0")/host-lib.sh"
TOP=$(flakeid_top "$0")

mode=${1:-}
case $mode in
sparse) flags="C=2" ;;
w1) flags="W=1" ;;
*) echo "usage: $0 sparse|w1" >&2; exit 2 ;;
esac

flakeid_kernel_env
if [ "$mode" = sparse ] && ! command -v sparse >/dev/null; then
	echo "$mode: FAIL: sparse not installed (scripts/install-deps.sh)" >&2
	exit 1
fi

OUT=$TOP/build/lint/$mode
LOG=$TOP/build/logs/lint-$mode.log
rm -rf "$OUT"
mkdir -p "$OUT" "$(dirname "$LOG")"

# The module's sources: whatever git knows (tracked or new, not ignored),
# which leaves out build products; without git, everything but obvious
# build products.  Only the parts Kbuild can reach are copied.
cd "$TOP"
list_sources() {
	if git rev-parse --git-dir >/dev/null 2>&1; then
		git ls-files -z --cached --others --exclude-standard
	else
		find . -type f ! -path './build/*' ! -path './.git/*' \
			! -name '*.o' ! -name '*.ko' ! -name '.*.cmd' ! -name '*.mod*' -print0
	fi
}
list_sources | grep -zvE '^(\./)?(build|userspace|tests|scripts|docs|\.ci|\.git)/' |
	while IFS= read -r -d '' f; do
		[ -f "$f" ] && printf '%s\0' "$f"
	done | xargs -0r cp --parents -t "$OUT"

set +e
LC_ALL=C make -C "$KDIR" M="$OUT" $flags -j"$(flakeid_jobs)" modules >"$LOG" 2>&1
rc=$?
set -e

# Show paths as the tree's own (kmod/gen.c, not build/lint/sparse/kmod/gen.c).
sed -i "s|$OUT/||g" "$LOG"

# Ours: diagnostics that name one of the copied files (the kernel's own
# headers print as ./include/..., never ours), and modpost's complaints
# about the module.
files_re=$(cd "$OUT" && find . -type f \( -name '*.c' -o -name '*.h' \) |
	sed 's|^\./||; s/[.[\*^$+?(){}|]/\\&/g' | paste -sd'|' -)
ours=$(grep -E "^(${files_re:-@none@}):[0-9]+(:[0-9]+)?: (warning|error)|(WARNING|ERROR): modpost" "$LOG" || true)

if [ -n "$ours" ]; then
	echo "$ours" >&2
	echo "$mode: FAIL: $(echo "$ours" | wc -l) diagnostic(s) in our files (full log: $LOG)" >&2
	exit 1
fi
if [ "$rc" != 0 ]; then
	tail -n 30 "$LOG" >&2
	echo "$mode: FAIL: the build failed (make exit $rc, log: $LOG)" >&2
	exit 1
fi
if [ ! -f "$OUT/flakeid.ko" ]; then
	echo "$mode: FAIL: no flakeid.ko built (log: $LOG)" >&2
	exit 1
fi
echo "$mode: clean"
