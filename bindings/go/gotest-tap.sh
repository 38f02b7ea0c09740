#!/bin/sh
# SPDX-License-Identifier: MIT
# gotest-tap.sh RC [SUFFIX] < OUTPUT
# Turns the output of `go test -v` (or a test binary run with -test.v)
# into TAP lines: "--- PASS: T" is "ok", "--- FAIL: T" is "not ok",
# "--- SKIP: T" is "ok ... # SKIP" with the reason the test logged.  Only
# top-level tests count (a failing subtest fails its parent).  Every other
# line becomes a "# " comment, so nothing else reads as a result.  RC is
# the runner's exit status: non-zero without a failing test (a panic, a
# timeout, a build error) is one more "not ok".  SUFFIX is appended to each
# name.  POSIX sh: runs on the host and under busybox in the guest.
rc=$1
sfx=${2:-}
n=0 bad=0 skipped='' lastlog='' inrun=''

emit() {
	n=$((n + 1))
	echo "$1 $n - $2"
}

flush_skip() {
	if [ -n "$skipped" ]; then
		emit ok "$skipped$sfx # SKIP ${1:-skipped}"
		skipped=
	fi
}

while IFS= read -r line; do
	case $line in
	"    "*)
		# "    file_test.go:12: reason": the reason only.  -v prints a
		# test's log before its "--- SKIP", plain runs after it.
		if [ -n "$inrun" ] || [ -n "$skipped" ]; then
			lastlog=${line#    }
			case $lastlog in *.go:*": "*) lastlog=${lastlog#*: } ;; esac
			[ -z "$skipped" ] || flush_skip "$lastlog"
		fi
		echo "# $line"
		continue
		;;
	"=== RUN "* | "=== CONT "*) lastlog='' inrun=1 ;;
	"--- "*) inrun= ;;
	esac
	flush_skip
	case $line in
	"--- PASS: "*)
		t=${line#--- PASS: }
		emit ok "${t% (*}$sfx"
		;;
	"--- FAIL: "*)
		t=${line#--- FAIL: }
		emit "not ok" "${t% (*}$sfx"
		bad=1
		;;
	"--- SKIP: "*)
		t=${line#--- SKIP: }
		skipped=${t% (*}
		[ -z "$lastlog" ] || flush_skip "$lastlog"
		;;
	*)
		echo "# $line"
		;;
	esac
done
flush_skip
if [ "$rc" != 0 ] && [ "$bad" = 0 ]; then
	emit "not ok" "go test exited $rc with no failing test$sfx"
fi
if [ "$n" = 0 ]; then
	emit "not ok" "go test ran no test$sfx"
fi
exit 0
