#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# `make demo` (run as /main.sh in the guest): load flakeid with region 1,
# app 2, machine 5, print a few IDs, decode them, show the configuration
# and the counters.

SYS=/sys/class/misc/flakeid
DEV=/dev/flakeid
DECODE=/tests/flakeid_decode
export PATH=/sbin:/bin:/usr/sbin:/usr/bin

show() {
	for f in "$@"; do
		printf '  %-17s %s\n' "$f" "$(cat "$SYS/$f" 2>/dev/null)"
	done
}

echo "\$ insmod /flakeid.ko region_id=1 app_id=2 machine_id=5"
if ! insmod /flakeid.ko region_id=1 app_id=2 machine_id=5; then
	echo "demo: insmod failed"
	exit 1
fi
ls -l "$DEV"

echo
echo "\$ head -c 40 $DEV | od -An -tu8   (five IDs)"
ids=$(head -c 40 "$DEV" | od -An -tu8 -v)
for id in $ids; do
	echo "  $id"
done

echo
echo "\$ flakeid_decode ...   (FLAKEID_IOC_DECODE)"
if [ -x "$DECODE" ]; then
	# shellcheck disable=SC2086 # one argument per ID
	"$DECODE" $ids | sed 's/^/  /'
else
	echo "  ($DECODE not installed: run make -C tests guest-install)"
fi

echo
echo "configuration ($SYS):"
show layout epoch_ms region_id app_id machine_id max_borrow_ms floor_ms generation

echo
echo "\$ head -c 8000000 $DEV >/dev/null   (a million IDs)"
head -c 8000000 "$DEV" >/dev/null
echo "counters:"
show ids_issued refills borrowed_ms waits clock_steps_back ahead_ms

echo
echo "\$ echo 3 > $SYS/region_id; a fresh ID:"
echo 3 >"$SYS/region_id"
id=$(head -c 8 "$DEV" | od -An -tu8)
[ -x "$DECODE" ] && "$DECODE" $id | sed 's/^/  /'

echo
echo "\$ rmmod flakeid"
rmmod flakeid && echo "  unloaded"
exit 0
