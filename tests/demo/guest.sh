#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# `make demo`, guest side (run as /main.sh in the guest by tests/demo/run.sh):
# load flakeid with region 1, app 2, machine 5, print a few IDs, decode them
# with flakeid(1), show the configuration and the counters, then UUIDv7s
# from /dev/flakeid-uuid7 and flakeid(1).

DEV=/dev/flakeid
CLI=/userspace/flakeid
export PATH=/sbin:/bin:/usr/sbin:/usr/bin

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

if [ ! -x "$CLI" ]; then
	echo "  ($CLI not installed: run make -C userspace guest-install)"
	rmmod flakeid
	exit 0
fi

echo
echo "\$ flakeid decode ...   (FLAKEID_IOC_DECODE)"
# shellcheck disable=SC2086 # one argument per ID
"$CLI" decode $ids | sed 's/^/  /'

echo
echo "\$ flakeid config"
"$CLI" config | sed 's/^/  /'

echo
echo "\$ head -c 8000000 $DEV >/dev/null   (a million IDs)"
head -c 8000000 "$DEV" >/dev/null
echo "\$ flakeid stats"
"$CLI" stats | sed 's/^/  /'

echo
echo "\$ flakeid config region=3; flakeid decode \$(flakeid)"
"$CLI" config region=3
"$CLI" decode "$("$CLI")" | sed 's/^/  /'

echo
echo "\$ head -c 16 /dev/flakeid-uuid7 | od -An -tx1   (a UUIDv7)"
head -c 16 /dev/flakeid-uuid7 | od -An -tx1 | sed 's/^/ /'
echo "\$ flakeid uuid7 -n 3"
uuids=$("$CLI" uuid7 -n 3)
echo "$uuids" | sed 's/^/  /'
echo "\$ flakeid decode $(echo "$uuids" | tail -n 1)"
"$CLI" decode "$(echo "$uuids" | tail -n 1)" | sed 's/^/  /'

echo
echo "\$ rmmod flakeid"
rmmod flakeid && echo "  unloaded"
exit 0
