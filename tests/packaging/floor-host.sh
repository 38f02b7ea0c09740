#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Host tests of packaging/flakeid-floor against a fake sysfs directory, run
# under each POSIX shell given (default: sh, and busybox sh when present).
# TAP on stdout.
#
#   floor-host.sh [SHELL...]
set -u

here=$(cd "$(dirname "$0")" && pwd)
script=$here/../../packaging/flakeid-floor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ $# -eq 0 ]; then
	set -- sh
	command -v busybox >/dev/null 2>&1 && set -- "$@" "busybox sh"
fi

. "$here/../tap.sh"

# A fresh fake system: sysfs dir with floor_ms, state dir, empty defaults.
reset() {
	rm -rf "$work/sys" "$work/state" "$work/defaults"
	mkdir -p "$work/sys"
	: >"$work/defaults"
	export FLAKEID_SYSFS="$work/sys" FLAKEID_FLOOR_FILE="$work/state/floor_ms"
	export FLAKEID_DEFAULTS="$work/defaults"
	unset FLAKEID_FLOOR_MARGIN_MS
}
live() { echo "$1" >"$work/sys/floor_ms"; }
saved() { mkdir -p "$work/state" && echo "$1" >"$work/state/floor_ms"; }
content() { cat "$1" 2>/dev/null; }
floor() {
	# shellcheck disable=SC2086 # $shell may be "busybox sh"
	$shell "$script" "$@"
}

for shell in "$@"; do
	t="[$shell]"

	reset
	rmdir "$work/sys"
	floor save >/dev/null 2>&1
	rc=$?
	check "$t save without the module succeeds and writes nothing" \
		'[ "$rc" = 0 ] && [ ! -e "$FLAKEID_FLOOR_FILE" ]'

	reset
	live 1750000000123
	floor save >/dev/null 2>&1
	check "$t save stores the live floor" '[ "$(content "$work/state/floor_ms")" = 1750000000123 ]'
	check "$t save leaves no temporary file" '[ "$(ls -A "$work/state")" = floor_ms ]'

	reset
	saved 1750000009999
	live 1750000000123
	floor save >/dev/null 2>&1
	check "$t save never lowers the saved floor" '[ "$(content "$work/state/floor_ms")" = 1750000009999 ]'

	reset
	saved garbage
	live 1750000000123
	floor save >/dev/null 2>&1
	check "$t save replaces a corrupt file with the live floor" '[ "$(content "$work/state/floor_ms")" = 1750000000123 ]'

	reset
	live 5
	floor restore >/dev/null 2>&1
	rc=$?
	check "$t restore with nothing saved succeeds, floor untouched" '[ "$rc" = 0 ] && [ "$(content "$work/sys/floor_ms")" = 5 ]'

	reset
	saved 1750000000000
	live 5
	floor restore >/dev/null 2>&1
	check "$t restore writes saved + 120000 by default" '[ "$(content "$work/sys/floor_ms")" = 1750000120000 ]'

	reset
	saved 1750000000000
	rmdir "$work/sys"
	floor restore >/dev/null 2>&1
	rc=$?
	check "$t restore without the module succeeds" '[ "$rc" = 0 ]'

	for bad in 0123 12a "" -5 1234567890123456789; do
		reset
		saved "$bad"
		live 5
		floor restore >/dev/null 2>&1
		rc=$?
		check "$t restore refuses saved '$bad' and leaves floor_ms alone" \
			'[ "$rc" = 1 ] && [ "$(content "$work/sys/floor_ms")" = 5 ]'
	done

	reset
	check "$t modprobe-arg prints nothing when nothing is saved" '[ -z "$(floor modprobe-arg)" ]'

	reset
	saved 1750000000000
	check "$t modprobe-arg prints saved + margin" \
		'[ "$(floor modprobe-arg region_id=1 app_id=2)" = floor_ms=1750000120000 ]'
	check "$t modprobe-arg keeps a higher explicit floor_ms" \
		'[ "$(floor modprobe-arg region_id=1 floor_ms=1760000000000)" = floor_ms=1760000000000 ]'
	check "$t modprobe-arg ignores a lower explicit floor_ms" \
		'[ "$(floor modprobe-arg floor_ms=1)" = floor_ms=1750000120000 ]'

	reset
	saved bogus
	out=$(floor modprobe-arg 2>/dev/null)
	rc=$?
	check "$t modprobe-arg with a corrupt file prints nothing and exits 0" '[ "$rc" = 0 ] && [ -z "$out" ]'

	reset
	saved 1000
	echo "FLAKEID_FLOOR_MARGIN_MS=7" >"$work/defaults"
	check "$t the defaults file sets the margin" '[ "$(floor modprobe-arg)" = floor_ms=1007 ]'
	check "$t the environment overrides the defaults file" \
		'[ "$(FLAKEID_FLOOR_MARGIN_MS=9 floor modprobe-arg)" = floor_ms=1009 ]'
	FLAKEID_FLOOR_MARGIN_MS=1x floor modprobe-arg >/dev/null 2>&1
	rc=$?
	check "$t a bad margin is refused" '[ "$rc" = 1 ]'

	reset
	saved 1000
	live 2000
	out=$(floor show)
	check "$t show prints saved, margin and live floor" \
		'[ "$out" = "saved: 1000 ($work/state/floor_ms)
margin_ms: 120000
floor_ms: 2000" ]'

	reset
	floor frobnicate >/dev/null 2>&1
	rc=$?
	check "$t an unknown command is a usage error" '[ "$rc" = 2 ]'
done

tap_plan
