#!/bin/sh
# SPDX-License-Identifier: MIT
# /main.sh of a fleet guest (fleet.sh): loads the module fenced, runs
# flakeid-agent against the host's etcd (through QEMU's guestfwd), takes
# IDs every quarter second for FLEET_SECS, reports its state every second
# ("status ..." lines, read by the host while the guest runs), then stops
# the agent and prints every ID it got ("id G N" lines).
. /tap.sh

G=$(sed -n 's/.*flakeid_fleet=\([0-9]*\).*/\1/p' /proc/cmdline)
SECS=$(sed -n 's/.*flakeid_fleet_secs=\([0-9]*\).*/\1/p' /proc/cmdline)
SYS=/sys/class/misc/flakeid

insmod /flakeid.ko until_ms=0
tap $? "guest $G: module loaded fenced"
mkdir -p /run/flakeid
/fleet/lib/ld-linux-x86-64.so.2 --library-path /fleet/lib /fleet/flakeid-agent \
	-c /fleet/agent.conf -o name="guest-$G" 2>/tmp/agent.log &
AP=$!

state() {
	sed -n 's/.*"state":"\([^"]*\)".*/\1/p' /run/flakeid/agent.state 2>/dev/null
}

start=$(date +%s)
end=$((start + ${SECS:-90}))
i=0
: >/tmp/ids.bin
while [ "$(date +%s)" -lt "$end" ]; do
	dd if=/dev/flakeid bs=400 count=1 2>/dev/null >>/tmp/ids.bin
	i=$((i + 1))
	if [ $((i % 4)) = 0 ]; then
		echo "status $G t=$(date +%s) machine=$(cat $SYS/machine_id) until=$(cat $SYS/until_ms) state=$(state)"
	fi
	sleep 0.25
done
kill -TERM $AP
for _ in 1 2 3 4 5 6 7 8 9 10; do
	kill -0 $AP 2>/dev/null || break
	sleep 0.5
done
wait $AP
tap $? "guest $G: agent stopped cleanly"
[ "$(cat $SYS/until_ms)" = 0 ]
tap $? "guest $G: fenced after the agent stopped"
sed "s/^/# guest $G agent: /" /tmp/agent.log
od -An -tu8 -v /tmp/ids.bin | tr -s ' ' '\n' | grep . | sed "s/^/id $G /"
tap_plan
