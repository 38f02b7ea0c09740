#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest script: a short smoke of the module, used by check-kernels.sh when
# the full guest suite (tests/guest/main.sh) is not there.  Loads the
# module, reads IDs through two files, checks they increase and decode to
# the configured fields, changes the node fields, unloads and reloads with
# the floor restored.  TAP on stdout.
set -u

. /tap.sh
S=/sys/class/misc/flakeid

# IDs as fixed-width hex, so awk compares them as strings, exactly.
ids_hex() {
	head -c $((8 * $1)) /dev/flakeid | od -An -v -tx8 -w8 | tr -d ' '
}
increasing() {
	awk 'NR > 1 && ("" $1) <= ("" prev) { bad = 1 } { prev = $1 }
	     END { exit bad || NR == 0 }'
}

insmod /flakeid.ko region_id=3 app_id=5 machine_id=17
tap $? "insmod"
[ -c /dev/flakeid ]
tap $? "/dev/flakeid exists"
ids_hex 4096 | increasing
tap $? "4096 IDs from one file increase"
# Node fields sit in bits 10..21 with the default layout 41:4:3:5:10.
id=$(ids_hex 1)
node=$(( (0x$id >> 10) & 0xfff ))
[ "$node" = $(( (3 << 8) | (5 << 5) | 17 )) ]
tap $? "an ID carries region 3, app 5, machine 17 (got node bits $node)"
echo 9 >$S/region_id && [ "$(cat $S/region_id)" = 9 ]
tap $? "region_id store"
if echo 16 >$S/region_id 2>/dev/null; then
	tap 1 "region_id 16 refused (4 bits)"
else
	[ "$(cat $S/region_id)" = 9 ]
	tap $? "region_id 16 refused (4 bits)"
fi
last=$(ids_hex 1)
floor=$(cat $S/floor_ms)
rmmod flakeid
tap $? "rmmod"
insmod /flakeid.ko region_id=9 app_id=5 machine_id=17 floor_ms="$floor"
tap $? "insmod floor_ms=$floor"
next=$(ids_hex 1)
printf '%s\n%s\n' "$last" "$next" | increasing
tap $? "first ID after the reload ($next) above the last before ($last)"
rmmod flakeid
tap $? "rmmod again"
tap_plan
