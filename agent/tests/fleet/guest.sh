#!/bin/sh
# SPDX-License-Identifier: MIT
# /main.sh of a fleet guest (fleet/run.sh): loads the module fenced, runs
# flakeid-agent against the host's etcd (through QEMU's guestfwd), takes
# IDs every quarter second for FLEET_SECS, reports its state every second
# ("status ..." lines, read by the host while the guest runs), runs the
# host's commands (a clock step; SIGSTOP, SIGCONT, SIGKILL or SIGTERM to the
# agent, or a new agent; the end of the run), then stops the agent and
# prints every ID it got ("id G N" lines).
. /tap.sh

G=$(sed -n 's/.*flakeid_fleet=\([0-9]*\).*/\1/p' /proc/cmdline)
SECS=$(sed -n 's/.*flakeid_fleet_secs=\([0-9]*\).*/\1/p' /proc/cmdline)
SYS=/sys/class/misc/flakeid

boot=$(cut -d. -f1 /proc/uptime)
insmod /flakeid.ko until_ms=0
tap $? "guest $G: module loaded fenced"
mkdir -p /run/flakeid
start_agent() {
	/fleet/lib/ld-linux-x86-64.so.2 --library-path /fleet/lib /fleet/flakeid-agent \
		-c /fleet/agent.conf -o name="guest-$G" 2>>/tmp/agent.log &
	AP=$!
}
start_agent
# The exit status of an agent the host had stopped with SIGTERM ('' while
# one runs).
term_rc=''

state() {
	sed -n 's/.*"state":"\([^"]*\)".*/\1/p' /run/flakeid/agent.state 2>/dev/null
}

# Commands from the host, through etcd (the guest reaches nothing else):
# key /flakeid-fleet/cmd/G = "SEQ WHAT [ARG]", each SEQ run once.
done_seq=0
host_command() {
	k=$(printf '/flakeid-fleet/cmd/%s' "$G" | base64)
	for ip in 10.0.2.100 10.0.2.101 10.0.2.102; do
		r=$(timeout 2 wget -q -O - --post-data "{\"key\":\"$k\"}" \
			"http://$ip:2379/v3/kv/range" 2>/dev/null) && break
	done
	v=$(echo "$r" | sed -n 's/.*"value":"\([^"]*\)".*/\1/p' | base64 -d 2>/dev/null)
	set -- $v
	[ $# -ge 2 ] && [ "$1" -gt "$done_seq" ] 2>/dev/null || return 0
	done_seq=$1
	case $2 in
	clock) date -s "@$(($(date +%s) + $3))" >/dev/null ;;
	agent-stop) kill -STOP $AP ;;
	agent-cont) kill -CONT $AP ;;
	# No clean stop: the device keeps the ceiling the agent last set.
	agent-kill) kill -KILL $AP; wait $AP ;;
	agent-start) start_agent; term_rc='' ;;
	agent-term)
		kill -TERM $AP
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 $AP 2>/dev/null || break
			sleep 0.5
		done
		wait $AP
		term_rc=$? ;;
	end) ending=1 ;;
	esac
	echo "# guest $G: ran command $v"
}

# The run's length in loop turns, not by the clock, which the host may step.
# The host may end it sooner with the "end" command.
i=0 ending=0
vf0=$(cat $SYS/vm_forks)
: >/tmp/ids.bin
while [ $ending = 0 ] && [ "$(cut -d. -f1 /proc/uptime)" -lt "$((${SECS:-90} + boot))" ]; do
	dd if=/dev/flakeid bs=400 count=1 2>/dev/null >>/tmp/ids.bin
	i=$((i + 1))
	if [ $((i % 4)) = 0 ]; then
		vf=$(cat $SYS/vm_forks)
		# a restored or cloned copy: how many IDs it had when it noticed
		if [ "$vf" != "$vf0" ]; then
			echo "fork $G ids=$(($(wc -c </tmp/ids.bin) / 8))"
			vf0=$vf
		fi
		echo "status $G t=$(date +%s) machine=$(cat $SYS/machine_id) until=$(cat $SYS/until_ms) state=$(state) forks=$vf ids=$(($(wc -c </tmp/ids.bin) / 8))"
		host_command
	fi
	sleep 0.25
done
if [ -z "$term_rc" ]; then
	kill -TERM $AP
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 $AP 2>/dev/null || break
		sleep 0.5
	done
	wait $AP
	term_rc=$?
fi
[ "$term_rc" = 0 ]
tap $? "guest $G: agent stopped cleanly (exit $term_rc)"
[ "$(cat $SYS/until_ms)" = 0 ]
tap $? "guest $G: fenced after the agent stopped"
sed "s/^/# guest $G agent: /" /tmp/agent.log
od -An -tu8 -v /tmp/ids.bin | tr -s ' ' '\n' | grep . | sed "s/^/id $G /"
tap_plan
