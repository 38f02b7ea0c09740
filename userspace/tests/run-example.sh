#!/bin/sh
# Runs the example built from a staged install.  With the device present it
# must succeed; without it (the host) it must fail the way the docs say.
bin=$1
out=$("$bin" 2>&1)
rc=$?
if [ -e /dev/flakeid ]; then
	if [ $rc -eq 0 ]; then
		echo "ok 1 - examples/hello runs against /dev/flakeid"
		exit 0
	fi
elif [ $rc -eq 3 ] && echo "$out" | grep -q 'modprobe flakeid'; then
	echo "ok 1 - examples/hello built with pkg-config, loads libflakeid, reports the missing device # no /dev/flakeid here"
	exit 0
fi
echo "not ok 1 - examples/hello: exit $rc: $out"
exit 1
