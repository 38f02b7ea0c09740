#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Host tests of packaging/flakeid-floor against a fake sysfs directory and
# a fake modprobe, run under each POSIX shell given (default: sh, and
# busybox sh when present).  TAP on stdout.  The kernel's side (what a
# floor_state write does to IDs) is the guest's to test
# (guest.sh); here: what the script stores, when, and what it hands
# the module.
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

DEF=1704067200000
LAY=41:4:3:5:10
MARGIN=150000
# Far enough ahead that the wall clock never wins, and within reach of the
# default layout (it ends in 2093).
FUT=3000000000000

# The fake modprobe: a load creates the sysfs directory with a floor_state
# from the floor options (or the wall clock), and logs its arguments and
# what the state file held at that moment; -r removes the directory.
# FAKE_REFUSE=1 fails a load, FAKE_BUSY=1 an unload.
cat >"$work/modprobe" <<'EOF'
#!/bin/sh
echo "modprobe $*" >>"$FAKE_LOG"
echo "state-at-call: $(tr '\n' '|' <"$FLAKEID_FLOOR_FILE" 2>/dev/null)" >>"$FAKE_LOG"
if [ "$1" = -r ]; then
	[ -z "${FAKE_BUSY:-}" ] || exit 1
	rm -rf "$FLAKEID_SYSFS"
	exit 0
fi
[ -z "${FAKE_REFUSE:-}" ] || exit 1
f=$(($(date +%s) * 1000)) e=1704067200000 l=41:4:3:5:10
for o; do
	case $o in
	floor_ms=*) f=${o#*=} ;;
	epoch_ms=*) e=${o#*=} ;;
	layout=*) l=${o#*=} ;;
	esac
done
mkdir -p "$FLAKEID_SYSFS"
echo "floor_ms=$f floor_epoch_ms=$e floor_layout=$l" >"$FLAKEID_SYSFS/floor_state"
echo 1000 >"$FLAKEID_SYSFS/max_borrow_ms"
EOF
chmod +x "$work/modprobe"

# A fresh fake system: a loaded module, a state dir, empty defaults.
reset() {
	rm -rf "$work/sys" "$work/state" "$work/defaults" "$work/log"
	mkdir -p "$work/sys" "$work/state"
	: >"$work/defaults"
	: >"$work/log"
	export FLAKEID_SYSFS="$work/sys" FLAKEID_FLOOR_FILE="$work/state/floor_state"
	export FLAKEID_DEFAULTS="$work/defaults" FLAKEID_MODPROBE="$work/modprobe"
	export FAKE_LOG="$work/log"
	unset FLAKEID_FLOOR_MARGIN_MS FLAKEID_FLOOR_SAVE_INTERVAL_MS FAKE_REFUSE FAKE_BUSY
}
line() { echo "floor_ms=$1 floor_epoch_ms=${2:-$DEF} floor_layout=${3:-$LAY}"; }
live() { line "$@" >"$work/sys/floor_state" && echo 1000 >"$work/sys/max_borrow_ms"; }
saved() { mkdir -p "$work/state" && printf '%s\n%s' "$1" "${2-}" >"$FLOOR"; }
FLOOR=$work/state/floor_state
content() { cat "$1" 2>/dev/null; }
first() { head -n 1 "$1" 2>/dev/null; }
second() { sed -n 2p "$1" 2>/dev/null; }
this_load() {
	echo "$(cat /proc/sys/kernel/random/boot_id):$(ls -di "$work/sys/" | awk '{ print $1 }')"
}
floor() {
	# shellcheck disable=SC2086 # $shell may be "busybox sh"
	$shell "$script" "$@"
}
ms_of() { sed -n 's/^floor_ms=\([0-9]*\) .*/\1/p' "$1" | head -n 1; }

for shell in "$@"; do
	t="[$shell]"

	# --- save ------------------------------------------------------------
	reset
	rmdir "$work/sys"
	floor save >/dev/null 2>&1
	rc=$?
	check "$t save without the module succeeds and writes nothing" \
		'[ "$rc" = 0 ] && [ ! -e "$FLOOR" ]'

	reset
	rm -rf "$work/state"
	live 1750000000123
	(umask 000 && floor save >/dev/null 2>&1)
	check "$t save stores the live floor_state line, naming this load" \
		'[ "$(first "$FLOOR")" = "$(line 1750000000123)" ] &&
		 [ "$(second "$FLOOR")" = "state=saved load=$(this_load)" ]'
	check "$t save leaves no temporary file" '[ "$(ls -A "$work/state" | grep -v "^\.lock$")" = floor_state ]'
	check "$t save creates the state directory 0755 and the file 0644 under umask 000" \
		'[ "$(stat -c %a "$work/state")" = 755 ] && [ "$(stat -c %a "$FLOOR")" = 644 ]'

	reset
	saved "$(line $FUT)" "state=saved load=0:1"
	live 1750000000123
	floor save >/dev/null 2>&1
	check "$t save in a load that never got the saved floor gives it first (never lowers it)" \
		'[ "$(first "$work/sys/floor_state")" = "$(line $((FUT + MARGIN)))" ] &&
		 [ "$(first "$FLOOR")" = "$(line $((FUT + MARGIN)))" ] &&
		 [ "$(second "$FLOOR")" = "state=saved load=$(this_load)" ]'

	reset
	saved garbage
	live 1750000000123
	out=$(floor save 2>&1)
	rc=$?
	check "$t save refuses a corrupt file and leaves it as it is" \
		'[ "$rc" = 1 ] && [ "$(content "$FLOOR")" = garbage ] && echo "$out" | grep -q "flakeid-floor reset"'

	# --- restore ---------------------------------------------------------
	reset
	live 5
	floor restore >/dev/null 2>&1
	rc=$?
	check "$t restore with nothing saved stores the live floor, leaves it alone" \
		'[ "$rc" = 0 ] && [ "$(first "$work/sys/floor_state")" = "$(line 5)" ] &&
		 [ "$(first "$FLOOR")" = "$(line 5)" ]'

	reset
	saved "$(line $FUT)" "state=saved load=0:1"
	live 5
	floor restore >/dev/null 2>&1
	check "$t restore of an unclean state writes saved + $MARGIN ms to floor_state" \
		'[ "$(first "$work/sys/floor_state")" = "$(line $((FUT + MARGIN)))" ]'
	check "$t ... and the state then names this load" \
		'[ "$(second "$FLOOR")" = "state=saved load=$(this_load)" ]'
	live 5
	floor restore >/dev/null 2>&1
	check "$t a second restore in the same load adds nothing (no stacking)" \
		'[ "$(first "$work/sys/floor_state")" = "$(line 5)" ] &&
		 [ "$(first "$FLOOR")" = "$(line $((FUT + MARGIN)))" ]'

	reset
	saved "$(line $FUT)" "state=clean"
	live 5
	floor restore >/dev/null 2>&1
	check "$t restore of a clean state adds no margin" \
		'[ "$(first "$work/sys/floor_state")" = "$(line $FUT)" ]'

	reset
	saved "$(line $FUT)" "state=granted"
	live 5
	floor restore >/dev/null 2>&1
	check "$t restore of a grant no load confirmed adds the margin" \
		'[ "$(first "$work/sys/floor_state")" = "$(line $((FUT + MARGIN)))" ]'

	reset
	saved "$(line $FUT 1600000000000 42:4:3:5:10)" "state=saved load=0:1"
	live 5
	floor restore >/dev/null 2>&1
	check "$t restore passes the saved epoch and layout, not the live ones" \
		'[ "$(first "$work/sys/floor_state")" = "$(line $((FUT + MARGIN)) 1600000000000 42:4:3:5:10)" ]'

	reset
	saved "$(line $FUT)" "state=saved load=0:1"
	rmdir "$work/sys"
	floor restore >/dev/null 2>&1
	rc=$?
	check "$t restore without the module succeeds and keeps the state" \
		'[ "$rc" = 0 ] && [ "$(first "$FLOOR")" = "$(line $FUT)" ]'

	for bad in garbage "" "$(line 0123)" "$(line 12a)" "$(line 1234567890123456789)" \
		"$(line 5 1 41:4:3:5)" "floor_ms=5" "$(line 5) extra" "$(line 5)
state=dirty" "$(line 5)
state=clean
more"; do
		reset
		printf '%s\n' "$bad" >"$FLOOR"
		live 5
		floor restore >/dev/null 2>"$work/err"
		rc=$?
		check "$t restore refuses saved '$(echo "$bad" | tr '\n' '|')', keeps the file and floor_state" \
			'[ "$rc" = 1 ] && [ "$(content "$FLOOR")" = "$bad" ] &&
			 [ "$(first "$work/sys/floor_state")" = "$(line 5)" ] &&
			 grep -q "$FLOOR" "$work/err"'
	done

	# --- load (the modprobe install hook) ----------------------------------
	reset
	rmdir "$work/sys"
	rm -rf "$work/state"
	floor load region_id=1 >/dev/null 2>&1
	rc=$?
	check "$t load without a state directory loads with no floor and stores nothing" \
		'[ "$rc" = 0 ] && [ "$(head -n 1 "$work/log")" = "modprobe --ignore-install flakeid region_id=1" ] &&
		 [ ! -e "$work/state" ]'

	reset
	rmdir "$work/sys"
	floor load region_id=1 >/dev/null 2>&1
	rc=$?
	check "$t load with nothing saved stores the wall clock before loading" \
		'[ "$rc" = 0 ] && grep -q "^state-at-call: floor_ms=[0-9]* floor_epoch_ms=$DEF floor_layout=$LAY|state=granted|\$" "$work/log"'
	check "$t ... and afterwards the live floor_state of this load" \
		'[ "$(first "$FLOOR")" = "$(first "$work/sys/floor_state")" ] &&
		 [ "$(second "$FLOOR")" = "state=saved load=$(this_load)" ]'

	reset
	rmdir "$work/sys"
	saved "$(line $FUT)" "state=saved load=0:1"
	floor load region_id=1 app_id=2 >/dev/null 2>&1
	check "$t load of an unclean state passes saved + margin with the saved epoch and layout" \
		'grep -qx "modprobe --ignore-install flakeid region_id=1 app_id=2 $(line $((FUT + MARGIN)))" "$work/log"'
	check "$t ... having stored that grant first (write-ahead)" \
		'grep -qx "state-at-call: $(line $((FUT + MARGIN)))|state=granted|" "$work/log"'

	reset
	rmdir "$work/sys"
	saved "$(line $FUT)" "state=clean"
	floor load >/dev/null 2>&1
	check "$t load of a clean state passes the saved floor, no margin" \
		'grep -qx "modprobe --ignore-install flakeid $(line $FUT)" "$work/log"'

	reset
	rmdir "$work/sys"
	saved "$(line 1600000000000)" "state=clean"
	floor load >/dev/null 2>&1
	f=$(sed -n 's/.* floor_ms=\([0-9]*\) .*/\1/p' "$work/log" | head -n 1)
	check "$t load with the saved floor behind the wall clock passes the wall clock" \
		'[ -n "$f" ] && [ "$f" -ge $(( $(date +%s) * 1000 - 5000 )) ]'

	reset
	rmdir "$work/sys"
	saved "$(line $FUT 1600000000000 42:4:3:5:10)" "state=saved load=0:1"
	floor load epoch_ms=1650000000000 >/dev/null 2>&1
	check "$t load under a changed epoch passes the saved epoch and layout with the floor" \
		'grep -qx "modprobe --ignore-install flakeid epoch_ms=1650000000000 $(line $((FUT + MARGIN)) 1600000000000 42:4:3:5:10)" "$work/log"'

	reset
	rmdir "$work/sys"
	saved "$(line $FUT)" "state=clean"
	floor load floor_ms=1 floor_epoch_ms=2 >/dev/null 2>&1
	check "$t load drops floor_* options given by hand" \
		'grep -qx "modprobe --ignore-install flakeid $(line $FUT)" "$work/log"'

	# the first flakeid-floor kept a bare floor_ms: taken, in the loading
	# configuration, with the margin (nothing says its stop was clean).
	reset
	rmdir "$work/sys"
	echo "$FUT" >"$work/state/floor_ms"
	floor load epoch_ms=1650000000000 >/dev/null 2>&1
	check "$t load takes the first floor_ms file format in the loading configuration, with the margin" \
		'grep -qx "modprobe --ignore-install flakeid epoch_ms=1650000000000 $(line $((FUT + MARGIN)) 1650000000000)" "$work/log" &&
		 [ "$(ms_of "$FLOOR")" -ge $((FUT + MARGIN)) ]'
	reset
	echo "$FUT" >"$work/state/floor_ms"
	live 5
	floor restore >/dev/null 2>&1
	check "$t restore takes the first floor_ms file format in the live configuration" \
		'[ "$(first "$work/sys/floor_state")" = "$(line $((FUT + MARGIN)))" ]'
	reset
	rmdir "$work/sys"
	echo junk >"$work/state/floor_ms"
	out=$(floor load 2>&1)
	rc=$?
	check "$t an unusable 0.1.0 floor_ms file fails closed; reset moves it aside" \
		'[ "$rc" != 0 ] && [ ! -s "$work/log" ] && floor reset >/dev/null 2>&1 &&
		 [ ! -e "$work/state/floor_ms" ] && ls "$work/state" | grep -q "^floor_ms.corrupt-"'

	reset
	rmdir "$work/sys"
	saved garbage
	out=$(floor load 2>&1)
	rc=$?
	check "$t load with a corrupt state fails closed: no modprobe, file kept, the fix named" \
		'[ "$rc" != 0 ] && [ ! -s "$work/log" ] && [ "$(content "$FLOOR")" = garbage ] &&
		 echo "$out" | grep -q "$FLOOR" && echo "$out" | grep -q "flakeid-floor reset"'

	reset
	rmdir "$work/sys"
	saved "$(line 8000000000000)" "state=saved load=0:1"
	before=$(content "$FLOOR")
	out=$(FAKE_REFUSE=1 floor load 2>&1)
	rc=$?
	check "$t a floor the layout cannot reach: load fails, the message names the file, the cause and the fix" \
		'[ "$rc" != 0 ] && echo "$out" | grep -q "$FLOOR" && echo "$out" | grep -q "beyond the last millisecond layout $LAY" &&
		 echo "$out" | grep -q "flakeid-floor reset"'
	check "$t ... and the state file holds what it held before" '[ "$(content "$FLOOR")" = "$before" ]'

	reset
	saved "$(line $FUT)" "state=saved load=0:1"
	live 5
	floor load >/dev/null 2>&1
	rc=$?
	check "$t load when already loaded changes nothing" \
		'[ "$rc" = 0 ] && [ "$(first "$FLOOR")" = "$(line $FUT)" ]'

	# --- stop (the modprobe remove hook) -----------------------------------
	reset
	saved "$(line $FUT)" "state=clean"
	live 5
	floor restore >/dev/null 2>&1
	s0=$(date +%s)
	floor stop >/dev/null 2>&1
	rc=$?
	c=$(ms_of "$FLOOR")
	check "$t stop unloads, then marks the state clean at the live floor + max_borrow_ms + 1 s + elapsed" \
		'[ "$rc" = 0 ] && [ ! -e "$work/sys" ] && [ "$(second "$FLOOR")" = state=clean ] &&
		 [ "$c" -ge $((FUT + 2000)) ] && [ "$c" -le $((FUT + 2000 + ($(date +%s) - s0 + 1) * 1000)) ]'
	check "$t ... saving (unclean) before the unload" \
		'grep -q "^state-at-call: $(line $FUT)|state=saved load=" "$work/log"'

	reset
	saved "$(line $FUT)" "state=clean"
	live 5
	out=$(FAKE_BUSY=1 floor stop 2>&1)
	rc=$?
	check "$t stop when the unload fails: non-zero, the state stays unclean" \
		'[ "$rc" != 0 ] && [ -e "$work/sys" ] && [ "$(second "$FLOOR")" = "state=saved load=$(this_load)" ]'

	reset
	: >"$work/notadir"
	live 5
	out=$(FLAKEID_FLOOR_FILE=$work/notadir/floor_state floor stop 2>&1)
	rc=$?
	check "$t stop when the save fails: non-zero and the module stays loaded" \
		'[ "$rc" != 0 ] && [ -e "$work/sys" ] && ! grep -q "^modprobe -r" "$work/log"'

	reset
	live 5
	saved "$(line $FUT)" "state=clean"
	floor restore >/dev/null 2>&1
	if mount -o bind "$work/state" "$work/state" 2>/dev/null &&
		mount -o remount,ro,bind "$work/state" 2>/dev/null; then
		out=$(FLAKEID_FLOOR_FILE=$work/state/floor_state floor stop 2>&1)
		rc=$?
		umount "$work/state"
		check "$t stop with a read-only state directory: non-zero, module loaded, says why" \
			'[ "$rc" != 0 ] && [ -e "$work/sys" ] && ! grep -q "^modprobe -r" "$work/log" &&
			 echo "$out" | grep -q "not unloading" && [ "$(first "$FLOOR")" = "$(line $FUT)" ]'
	else
		umount "$work/state" 2>/dev/null
		skip "$t stop with a read-only state directory (cannot bind-mount it read-only here)"
	fi

	reset
	live 5
	saved garbage
	floor stop >/dev/null 2>&1
	rc=$?
	check "$t stop with a corrupt state: non-zero, module loaded, file kept" \
		'[ "$rc" != 0 ] && [ -e "$work/sys" ] && [ "$(content "$FLOOR")" = garbage ]'

	# Clean cycles never stack a margin.
	reset
	rmdir "$work/sys"
	saved "$(line $FUT)" "state=clean"
	for i in 1 2 3; do
		floor load >/dev/null 2>&1 && floor restore >/dev/null 2>&1 && floor stop >/dev/null 2>&1
	done
	c=$(ms_of "$FLOOR")
	check "$t three load/restore/stop cycles move a clean floor by seconds, not margins" \
		'[ "$(second "$FLOOR")" = state=clean ] && [ "$c" -gt "$FUT" ] && [ "$c" -lt $((FUT + 20000)) ]'

	# --- settings, show, reset ---------------------------------------------
	reset
	saved "$(line $FUT)" "state=saved load=0:1"
	live 5
	echo "FLAKEID_FLOOR_MARGIN_MS=200000" >"$work/defaults"
	floor restore >/dev/null 2>&1
	check "$t the defaults file sets the margin" \
		'[ "$(first "$work/sys/floor_state")" = "$(line $((FUT + 200000)))" ]'
	FLAKEID_FLOOR_MARGIN_MS=1x floor show >/dev/null 2>&1
	rc=$?
	check "$t a malformed margin is refused" '[ "$rc" = 1 ]'
	FLAKEID_FLOOR_MARGIN_MS=119999 floor show >/dev/null 2>&1
	rc=$?
	check "$t a margin below the save interval + 60 s is refused" '[ "$rc" = 1 ]'
	check "$t the margin follows FLAKEID_FLOOR_SAVE_INTERVAL_MS" \
		'echo > "$work/defaults"; FLAKEID_FLOOR_SAVE_INTERVAL_MS=300000 floor show | grep -qx "margin_ms: 390000"'

	reset
	saved "$(line 1000)" "state=clean"
	live 2000
	out=$(floor show)
	check "$t show prints the state, the margin and the live floor" \
		'[ "$out" = "saved: $(line 1000) ($FLOOR)
state: clean
margin_ms: $MARGIN
live: $(line 2000)
load: $(this_load)" ]'

	reset
	saved garbage
	live 5
	floor reset >/dev/null 2>&1
	check "$t reset moves a corrupt file aside and stores the live floor" \
		'ls "$work/state" | grep -q "^floor_state\.corrupt-[0-9T]*$" &&
		 [ "$(first "$FLOOR")" = "$(line 5)" ]'

	reset
	floor frobnicate >/dev/null 2>&1
	rc=$?
	check "$t an unknown command is a usage error" '[ "$rc" = 2 ]'
done

tap_plan
