#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/uuid7-check.py, the host's check of the guest's `flakeid uuid7`
# output, on made-up results: it passes UUIDs from the fake device and
# fails each broken copy of them.  Prints TAP.
#
#   uuid7-check.sh FLAKEID-FAKE

fake=$1
here=$(dirname "$0")
check=$here/../uuid7-check.py
dir=$(mktemp -d /tmp/flakeid-uuid7.XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
. "$here/../../../tests/tap.sh"

if ! command -v python3 >/dev/null; then
	skip "uuid7-check.py: no python3"
	tap_plan
	exit
fi

# The fake device's UUIDs: 1,024 a ms from 1735689600123.
"$fake" --device fake uuid7 -n 300 >"$dir/uuids"
tap $? "the fake device prints 300 UUIDs"
# results FILE FROM TO COUNT: a guest's results for the UUIDs in $dir/uuids
results() {
	{
		echo "ok 1 - something before"
		echo "# uuid7-check: from_ms=$2 to_ms=$3 count=$4"
		xargs -n 100 echo "# uuid7:" <"$dir/uuids"
		echo "ok 2 - something after"
	} >"$1"
}
results "$dir/good" 1735689600123 1735689600124 300
python3 "$check" "$dir/good" >"$dir/out"
rc=$?
[ "$rc" -eq 0 ] && [ "$(grep -c '^ok ' "$dir/out")" -eq 8 ] &&
	! grep -q '^not ok' "$dir/out"
tap $? "good UUIDs pass all 8 checks (exit $rc)"

# fails NAME FILE: the checker must exit 1 with a "not ok" line
fails() {
	python3 "$check" "$2" >"$dir/out" 2>&1
	rc=$?
	[ "$rc" -eq 1 ] && grep -q '^not ok' "$dir/out"
	tap $? "$1: fails ($(sed -n 's/^not ok [0-9]* - //p' "$dir/out" | head -n 1))"
}
cp "$dir/uuids" "$dir/orig"
# broken SED NAME: the UUIDs edited by SED must fail the check
broken() {
	sed "$1" "$dir/orig" >"$dir/uuids"
	results "$dir/bad" 1735689600123 1735689600124 300
	fails "$2" "$dir/bad"
}
broken '7s/^\(.\{14\}\)7/\14/' "a version 4 UUID among them"
broken '9s/^\(.\{19\}\)./\1c/' "variant bits 110 on one"
broken '9s/^\(.\{19\}\)./\13/' "variant bits 00 on one"
broken '5{h;d};6G' "two lines swapped"
broken '5p' "one line twice (301 lines)"
broken '5d' "one line missing"
broken '3s/-/x/' "one line not a UUID"
broken '4s/.*/\U&/' "one line in upper case"
cp "$dir/orig" "$dir/uuids"
results "$dir/bad" 1735689600124 1735689600200 300
fails "timestamps before the run" "$dir/bad"
results "$dir/bad" 1735689600000 1735689600122 300
fails "timestamps after the run" "$dir/bad"
echo "ok 1 - no uuid7 here" >"$dir/bad"
fails "no uuid7 run in the results" "$dir/bad"
echo "# uuid7-check: skip the module issues no UUIDs" >"$dir/skip"
python3 "$check" "$dir/skip" >"$dir/out" &&
	grep -q '^ok 1 .*# SKIP' "$dir/out"
tap $? "a module without UUIDs is a skip"

tap_plan
