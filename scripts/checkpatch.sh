#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the kernel's checkpatch.pl (from linux-source, see kernel-src.sh) in
# its strictest mode on the kernel-side sources: the module and the uapi
# header.  Any ERROR, WARNING or CHECK fails.  Nothing is --ignore'd: code
# that must break a rule says why at that line, for a reviewer to judge.
set -eu

. "$(dirname "$0")/host-lib.sh"
TOP=$(flakeid_top "$0")

KSRC=$("$TOP/scripts/kernel-src.sh")
CHECKPATCH=$KSRC/scripts/checkpatch.pl
LOG=$TOP/build/logs/checkpatch.log
mkdir -p "$(dirname "$LOG")"

cd "$TOP"
files=
for f in kmod/*.c kmod/*.h uapi/linux/flakeid.h; do
	[ -f "$f" ] && files="$files $f"
done
if [ -z "$files" ]; then
	echo "checkpatch: FAIL: no kernel sources found" >&2
	exit 1
fi

# --no-tree: we are not inside a kernel tree; it still finds spelling.txt
# and const_structs.checkpatch next to itself.  --show-types names each
# rule, so a finding is easy to look up.  One file per call keeps the
# per-file totals readable.
bad=0
: >"$LOG"
for f in $files; do
	# shellcheck disable=SC2086 # no options come from outside
	if ! perl "$CHECKPATCH" --strict --no-tree --show-types --quiet -f "$f" >>"$LOG" 2>&1; then
		bad=$((bad + 1))
	fi
done

# Belt and braces: count reports too, not only the exit status.
n=$(grep -cE "^(ERROR|WARNING|CHECK):" "$LOG" || true)
if [ "$bad" != 0 ] || [ "$n" != 0 ]; then
	cat "$LOG" >&2
	echo "checkpatch: FAIL: $n report(s) in $bad file(s)" >&2
	exit 1
fi
echo "checkpatch: clean ($(echo "$files" | wc -w) files)"
