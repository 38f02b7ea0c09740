#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# VM restore and clone (`make check-vmfork`): QEMU guests with
# `-device vmgenid` (a new generation ID in every QEMU process) run
# tests/vmfork/guest.sh, which issues IDs in batches (16 every 50 ms) and
# prints them.
#
#   run.sh [--kernel NAME]   NAME: stock (default) or one tests/kernels knows
#
#  1. Guest A boots (machine_id 1).  The host saves its running state with
#     `migrate "exec:cat > FILE"` through the monitor, and lets it go on
#     (`cont`): A issues IDs after the snapshot, a run that a restore
#     discards.
#  2. Restore: one new QEMU process with `-incoming "exec:cat FILE"`.  It
#     must fence itself (vm_forks 1, until_ms 0, reads fail with
#     EKEYEXPIRED).  Then, as an operator would, it raises floor_ms to A's
#     last floor_ms (passed in fw_cfg), writes until_ms=none and issues again.
#  3. Clone: two such processes at once, from the same file; each fences,
#     then takes its own machine_id (2, 3; fw_cfg) and issues again.
#  4. Every ID from every results file: `sort | uniq -d` must print nothing.
#     Lines a copy printed for batches read before the snapshot are the same
#     text as A's (each line carries a host RDRAND value drawn before and one
#     after its read, see flakeid_vmfork.c), so `sort -u` on whole lines
#     drops those repeats and keeps every ID issued after the snapshot.
#  5. UUIDs read by the restore and the clones after their fences (1.5 s
#     each, the first of every millisecond printed): none shares its
#     unix_ts_ms and counter with another copy's, though the clones read in
#     the same milliseconds.
#  6. Negative control: savevm and loadvm in one QEMU process keep the
#     generation ID: vm_forks stays 0 (not detected, by design).
# The window (IDs a copy returned after it resumed, before the fence) must
# be empty.  TAP lines, then "N passed, N failed".  Files in
# build/vmfork/NAME/.
set -u
export LC_ALL=C	# one collation for sort, uniq and comm

. "$(dirname "$0")/../../scripts/host-lib.sh"
TOP=$(flakeid_top "$0")
HERE=$TOP/tests/vmfork
HMP=$TOP/tests/qemu/hmp.py
. "$TOP/tests/tap.sh"
. "$TOP/tests/kernels/host-kernels.sh"

KNAME=stock
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) KNAME=$2; shift ;;
	*) echo "usage: run.sh [--kernel NAME]" >&2; exit 2 ;;
	esac
	shift
done

OUT=$TOP/build/vmfork/$KNAME
rm -rf "$OUT"
mkdir -p "$OUT"
# Phase 1: IDS IDs every MS ms (FLAKEID_VMFORK_IDS, FLAKEID_VMFORK_MS;
# default 16 every 50 ms).  A saves its state after 1.5 s of it and goes on
# for 4.5 s more.
IDS=${FLAKEID_VMFORK_IDS:-16}
MS=${FLAKEID_VMFORK_MS:-50}
SNAP_AT=$((1500 / MS))
BATCHES=$((6000 / MS))
PHASE1="flakeid_vmfork_batches=$BATCHES flakeid_vmfork_ids=$IDS flakeid_vmfork_ms=$MS"

finish() {
	tap_plan
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit
}

# --- kernel, module, fw_cfg -------------------------------------------------
if ! flakeid_resolve_kernel "$KNAME" 2>"$OUT/kernel.log"; then
	tail -n 5 "$OUT/kernel.log" | sed 's/^/# /'
	not_ok "$KNAME: kernel ready"
	finish
fi
KCONFIG=$KBUILD/.config
[ "$KNAME" != stock ] || KCONFIG=/boot/config-$KREL
# The debug kernel (allnoconfig + fragments) has ACPI but no PCI: its ACPI
# cannot load QEMU's tables, so there is no generation ID to watch.
if ! grep -qs '^CONFIG_VMGENID=y' "$KCONFIG"; then
	skip "$KNAME: the kernel has no CONFIG_VMGENID: nothing to fence"
	finish
fi
if [ "$KNAME" = stock ]; then
	KO=$TOP/flakeid.ko
else
	flakeid_build_module "$KNAME" || { not_ok "$KNAME: module builds"; finish; }
	KO=$TOP/build/kernels/$KNAME/mod/flakeid.ko
fi
[ -f "$KO" ] || { not_ok "$KNAME: $KO built (make module)"; finish; }
[ -x "$TOP/build/guest/tests/flakeid_vmfork" ] ||
	{ not_ok "build/guest/tests/flakeid_vmfork built (make -C tests guest-install)"; finish; }
FWKO=
if grep -qs '^CONFIG_FW_CFG_SYSFS=m' "$KCONFIG"; then
	for f in "/lib/modules/$KREL/kernel/drivers/firmware/qemu_fw_cfg.ko" \
		"$KBUILD/drivers/firmware/qemu_fw_cfg.ko"; do
		[ -f "$f" ] && FWKO=$f && break
	done
	[ -n "$FWKO" ] || { not_ok "$KNAME: qemu_fw_cfg.ko found"; finish; }
elif ! grep -qs '^CONFIG_FW_CFG_SYSFS=y' "$KCONFIG"; then
	skip "$KNAME: the kernel has no CONFIG_FW_CFG_SYSFS: copies cannot be told their machine_id"
	finish
fi
note "kernel $KREL, module $KO"

# Small guests save and restore fast; KASAN's shadow wants more room.
GMEM=256M
[ "$KNAME" = stock ] || GMEM=512M
# Every QEMU process gets the same hardware; only fw_cfg's values (same
# length) and -incoming differ.  The copies reuse A's initramfs.
COMMON=(--kernel "$KIMAGE" --module "$KO" --main "$HERE/guest.sh"
	--smp 2 --mem "$GMEM" --timeout 600 --quiet
	--qemu-arg -device --qemu-arg vmgenid)
[ -z "$FWKO" ] || COMMON+=(--extra-file "$FWKO:/qemu_fw_cfg.ko")

# guest NAME MACHINE FLOOR [run-guest.sh options]: run one QEMU process.
guest() {
	local name=$1 machine=$2 floor=$3
	shift 3
	"$TOP/tests/qemu/run-guest.sh" "${COMMON[@]}" \
		--qemu-arg -fw_cfg --qemu-arg "name=opt/flakeid/machine,string=$machine" \
		--qemu-arg -fw_cfg --qemu-arg "name=opt/flakeid/floor,string=$floor" \
		--out "$OUT/$name.txt" --log "$OUT/$name.console" "$@" 2>"$OUT/$name.err"
}

hmp() {
	python3 "$HMP" "$@"
}

# why NAME STATUS: the runner's last words when guest NAME failed.
why() {
	[ "$2" = 0 ] || tail -n 3 "$OUT/$1.err" | sed 's/^/# /'
}

# wait_lines FILE REGEX COUNT SECONDS PID: until FILE has COUNT lines
# matching REGEX; fails when PID ends or time runs out.
wait_lines() {
	local i=0 c
	while c=$(grep -cE "$2" "$1" 2>/dev/null); [ "${c:-0}" -lt "$3" ]; do
		kill -0 "$5" 2>/dev/null || return 1
		i=$((i + 1))
		[ "$i" -le $(($4 * 10)) ] || return 1
		sleep 0.1
	done
}

# field FILE WHAT KEY: KEY's value on the last "V WHAT" line of FILE.
field() {
	sed -n "s/^V $2 .*\\b$3=\\([^ ]*\\).*/\\1/p" "$1" | tail -n 1
}

# save SOCKET FILE: save the running guest's state to FILE, let it go on.
# (Migration ends with the source paused; the copies start running, as the
# state says the guest was running.)
save() {
	local i st
	hmp "$1" "migrate \"exec:cat > $2\"" >"$OUT/migrate.log" 2>&1 || return 1
	for i in $(seq 1 600); do
		st=$(hmp "$1" "info migrate" 2>&1 | sed -n 's/^Migration status: //p')
		case $st in
		completed) break ;;
		failed|cancelled) echo "migration $st" >>"$OUT/migrate.log"; return 1 ;;
		esac
		sleep 0.1
	done
	[ "$st" = completed ] || return 1
	hmp "$1" cont >>"$OUT/migrate.log" 2>&1
}

# Issued IDs of FILE's batch lines ("I ..."), one per line.
ids_of() {
	grep -E '^I ' "$@" | cut -d" " -f8- | tr ' ' '\n' | grep .
}

# window COPY: "BATCHES IDS FENCE_MS" for the phase-1 batches COPY read
# after it resumed and before its fence; their IDs go to COPY.window.  A line A printed too (same second
# RDRAND value) was read before the snapshot.  FENCE_MS: guest time from
# A's last batch read before the snapshot to COPY's first refused read, an
# upper bound on the fence's delay.
window() {
	awk -v A="$OUT/a.txt" -v W="${1%.txt}.window" '
	BEGIN {
		printf "" > W
		while ((getline l < A) > 0) {
			split(l, f, " ")
			if (f[1] == "I" && f[2] == 1) {
				r2[f[3]] = f[5]
				mono[f[3]] = f[6]
			}
		}
	}
	($1 == "I" || $1 == "E") && $2 == 1 && fence == "" {
		if ($1 == "I" && ($3 in r2) && $5 == r2[$3])
			next
		if (k == "")
			k = $3 - 1
		if ($1 == "E") {
			fence = (k in mono) ? $6 - mono[k] : "?"
			next
		}
		b++
		n += NF - 7
		for (i = 8; i <= NF; i++)
			print $i > W
	}
	END { printf "%d %d %s\n", b, n, fence == "" ? "none" : fence }' "$1"
}

# --- A: boot, snapshot, go on ---------------------------------------------------
note "A: boot, then after $SNAP_AT batches: migrate to a file, cont"
guest a 1 0000000000000 --monitor "$OUT/a.sock" --save-initrd "$OUT/initrd.gz" \
	--append "$APPEND flakeid_vmfork=fork $PHASE1" &
apid=$!
saved=1
if wait_lines "$OUT/a.txt" '^I 1 ' "$SNAP_AT" 300 "$apid"; then
	t0=$(date +%s%N)
	save "$OUT/a.sock" "$OUT/state" && saved=0
	note "state saved in $((($(date +%s%N) - t0) / 1000000)) ms, $(stat -c %s "$OUT/state" 2>/dev/null) bytes"
fi
wait "$apid"
arc=$?
why a "$arc"
[ "$(field "$OUT/a.txt" boot vm_forks)" = 0 ] && [ "$(field "$OUT/a.txt" boot until_ms)" = none ]
tap $? "A: booted with vmgenid, module loaded, vm_forks 0, until_ms none"
tap $saved "A: state saved with migrate \"exec:cat > FILE\" (completed), then cont"
grep -E '^I 1 ' "$OUT/a.txt" | head -n 1 | cut -d' ' -f4 | grep -qv '^0*$'
tap $? "A: batch lines carry RDRAND values (the host can place them around the snapshot)"
a_last=$(grep -E '^I 1 ' "$OUT/a.txt" | tail -n 1 | cut -d' ' -f3)
a_floor=$(field "$OUT/a.txt" end floor_ms)
[ "$arc" = 0 ] && [ "$a_last" = "$BATCHES" ] && [ "$(field "$OUT/a.txt" end vm_forks)" = 0 ] &&
	[ "$(field "$OUT/a.txt" end until_ms)" = none ]
tap $? "A: went on after the snapshot to batch $a_last of $BATCHES, never fenced (vm_forks $(field "$OUT/a.txt" end vm_forks), floor_ms $a_floor)"
if [ "$saved" != 0 ] || [ -z "$a_floor" ]; then
	tail -n 5 "$OUT/a.err" "$OUT/migrate.log" 2>/dev/null | sed 's/^/# /'
	finish
fi

# A copy resumed (printed no boot line) and fenced itself: vm_forks 1,
# until_ms 0, refused reads, a log line.
fenced() {
	local f=$OUT/$1.txt
	! grep -q '^V boot ' "$f" && [ "$(field "$f" fenced vm_forks)" = 1 ] && [ "$(field "$f" fenced until_ms)" = 0 ] &&
		grep -qE '^E 1 .* 1 EKEYEXPIRED$' "$f" &&
		grep -qE '^V fenced-read read: (EKEYEXPIRED|Key has expired)' "$f" &&
		grep -q 'VM restored or cloned: fenced' "$OUT/$1.console"
}

# A copy issued again after the operator's steps: phase 2 complete, with
# machine_id $2, every timestamp above $3 (Unix ms; 0: no floor).
reissued() {
	local f=$OUT/$1.txt n id bad=0
	n=$(grep -cE '^I 2 ' "$f")
	[ "$n" = 40 ] || return 1
	[ "$(field "$f" unfenced until_ms)" = none ] || return 1
	[ "$(field "$f" end vm_forks)" = 1 ] || return 1
	# The default layout 41:4:3:5:10 and epoch 2024-01-01.
	for id in $(grep -E '^I 2 ' "$f" | cut -d" " -f8-); do
		if [ $(((id >> 10) & 31)) != "$2" ] ||
			[ $(((id >> 22) + 1704067200000)) -le "$3" ]; then
			bad=$((bad + 1))
		fi
	done
	[ "$bad" = 0 ]
}

report_window() {
	local w
	read -r -a w <<<"$(window "$OUT/$1.txt")"
	note "$1: window: ${w[1]} IDs (${w[0]} batches) read after the resume, before the fence; first refused read at most ${w[2]} ms (guest time) after the snapshot"
	echo "$1 ${w[1]} ${w[0]} ${w[2]}" >>"$OUT/windows"
}

# --- restore ----------------------------------------------------------------
note "restore: a new QEMU process from the file, same machine_id, floor_ms $a_floor"
guest r 1 "$a_floor" --incoming "$OUT/state" --initrd "$OUT/initrd.gz" \
	--append "$APPEND flakeid_vmfork=fork $PHASE1"
rrc=$?
why r "$rrc"
fenced r
tap $? "restore: resumed from the file and fenced itself (vm_forks $(field "$OUT/r.txt" fenced vm_forks), until_ms $(field "$OUT/r.txt" fenced until_ms), reads fail with EKEYEXPIRED, logged)"
report_window r
reissued r 1 "$a_floor" && [ "$rrc" = 0 ]
tap $? "restore: after floor_ms=$a_floor and until_ms=none, issued 640 IDs, all above A's floor"

# --- clone ---------------------------------------------------------------------
note "clone: two QEMU processes at once from the same file, machine_id 2 and 3"
guest c2 2 0000000000000 --incoming "$OUT/state" --initrd "$OUT/initrd.gz" \
	--append "$APPEND flakeid_vmfork=fork $PHASE1" &
c2pid=$!
guest c3 3 0000000000000 --incoming "$OUT/state" --initrd "$OUT/initrd.gz" \
	--append "$APPEND flakeid_vmfork=fork $PHASE1"
c3rc=$?
wait "$c2pid"
c2rc=$?
why c2 "$c2rc"
why c3 "$c3rc"
for c in 2 3; do
	fenced "c$c"
	tap $? "clone $c: resumed from the file and fenced itself (vm_forks $(field "$OUT/c$c.txt" fenced vm_forks), until_ms $(field "$OUT/c$c.txt" fenced until_ms), reads fail with EKEYEXPIRED, logged)"
	report_window "c$c"
	rc=$c2rc
	[ "$c" = 2 ] || rc=$c3rc
	reissued "c$c" "$c" 0 && [ "$rc" = 0 ]
	tap $? "clone $c: with machine_id $c and until_ms=none, issued 640 IDs, all with machine_id $c"
done

# --- UUIDs across the copies ------------------------------------------------------
# Each copy printed the first UUID of every millisecond of 1.5 s of reads
# (sequence 0).  A copy draws its own UUID seed key when its fence is
# lifted, mixed with its own generation ID, so no (unix_ts_ms, counter)
# may turn up in two copies; copies still sharing the key at load would
# print the same one for every millisecond they share.  The clones run at
# once from the same saved clock, so they share most of theirs.
for c in r c2 c3; do
	awk -v c="$c" '$1 == "U" { print $2, $3, c }' "$OUT/$c.txt"
done | sort -u >"$OUT/uuids"
for c in r c2 c3; do
	awk -v c="$c" '$3 == c { print $1 }' "$OUT/uuids" >"$OUT/$c.uuid-ms"
done
shared_ms=$(comm -12 "$OUT/c2.uuid-ms" "$OUT/c3.uuid-ms" | wc -l)
udups=$(cut -d" " -f2 "$OUT/uuids" | sort | uniq -d | wc -l)
nu=$(wc -l <"$OUT/uuids")
[ "$udups" = 0 ] && [ "$shared_ms" -ge 100 ] &&
	[ "$(wc -l <"$OUT/r.uuid-ms")" -ge 100 ]
tap $? "UUIDs after the fence: $udups of $nu first-of-the-millisecond UUIDs share unix_ts_ms and counter with another copy's (want 0; the clones share $shared_ms milliseconds)"

# --- no ID twice ------------------------------------------------------------------
# Whole lines first: a copy's repeat of a line A printed goes; IDs issued
# after the snapshot are on lines of their own (their RDRAND values differ).
# The IDs a copy issued before its fence took effect are judged apart.
cat "$OUT/a.txt" "$OUT/r.txt" "$OUT/c2.txt" "$OUT/c3.txt" | grep -E '^I ' |
	sort -u | ids_of - | sort >"$OUT/all-ids"
sort -u "$OUT/r.window" "$OUT/c2.window" "$OUT/c3.window" >"$OUT/window-ids"
uniq -d "$OUT/all-ids" >"$OUT/all-dups"
comm -12 "$OUT/all-dups" "$OUT/window-ids" >"$OUT/window-dups"
total=$(wc -l <"$OUT/all-ids")
dups=$(wc -l <"$OUT/all-dups")
[ "$dups" = 0 ] && [ "$total" -gt 3000 ]
tap $? "0 IDs in common across the original, the restore and the two clones ($dups duplicates among $total IDs)"
head -n 5 "$OUT/all-dups" | sed 's/^/# duplicate: /'
win=$(cat "$OUT/r.window" "$OUT/c2.window" "$OUT/c3.window" | wc -l)
wdups=$(wc -l <"$OUT/window-dups")
# The module reads the generation ID at the start and end of every call:
# a copy returns no ID between its resume and its fence.
[ "$win" = 0 ]
tap $? "no fence window: the copies returned $win IDs after resuming, before the fence ($wdups of them issued elsewhere too)"
head -n 5 "$OUT/window-dups" | sed 's/^/# duplicate in a window: /'

# --- negative control: savevm / loadvm in one process -------------------------------
note "negative control: savevm, then loadvm, in one QEMU process"
qemu-img create -q -f qcow2 "$OUT/snap.qcow2" 64M
guest n 1 0000000000000 --monitor "$OUT/n.sock" \
	--qemu-arg -drive --qemu-arg "file=$OUT/snap.qcow2,if=none,id=snap,format=qcow2" \
	--append "$APPEND flakeid_vmfork=loadvm" &
npid=$!
loaded=1
if wait_lines "$OUT/n.txt" '^I 1 ' 10 300 "$npid" &&
	hmp "$OUT/n.sock" "savevm flakeid" >"$OUT/savevm.log" 2>&1 &&
	wait_lines "$OUT/n.txt" '^I 1 ' 40 120 "$npid" &&
	hmp "$OUT/n.sock" "loadvm flakeid" >"$OUT/loadvm.log" 2>&1; then
	loaded=0
fi
wait "$npid"
nrc=$?
why n "$nrc"
# loadvm took the guest back: a batch number goes down.  Lines printed
# twice (in flight at savevm) count once.  After that point, count the IDs
# stamped with a millisecond the discarded run had used already (timestamp
# = ID >> 22 in the default layout; awk's doubles are exact enough here).
read -r back overlap reissued <<<"$(awk '
	$1 != "I" || seen[$0]++ { next }
	$3 < last { back++ }
	{ last = $3 }
	!back { for (i = 8; i <= NF; i++) if (int($i / 4194304) > max) max = int($i / 4194304) }
	back { for (i = 8; i <= NF; i++) { n++; if (int($i / 4194304) <= max) o++ } }
	END { printf "%d %d\n", back, o }' "$OUT/n.txt") $(grep -E '^I ' "$OUT/n.txt" |
	sort -u | ids_of - | sort | uniq -d | wc -l)"
[ "$loaded" = 0 ] && [ "${back:-0}" -ge 1 ] && [ "$nrc" = 0 ] &&
	[ "$(field "$OUT/n.txt" end vm_forks)" = 0 ] && ! grep -qE '^E ' "$OUT/n.txt"
tap $? "negative control: loadvm in the same QEMU process keeps the generation ID: vm_forks stays $(field "$OUT/n.txt" end vm_forks), no fence (in-process loadvm is not detected)"
note "negative control: after loadvm the guest issued $overlap IDs in milliseconds the discarded run had used, $reissued of them equal to one it issued (the hole in-process loadvm leaves open)"

finish
