#!/bin/sh
# SPDX-License-Identifier: MIT
# unittest-tap.sh RC [SUFFIX] < OUTPUT
# Turns the output of `python3 -m unittest -v` into TAP lines named by the
# test's module.Class.method: "... ok" is ok, "... FAIL" and "... ERROR"
# are not ok, "... skipped 'WHY'" is "ok ... # SKIP WHY", "... expected
# failure" ok, "... unexpected success" not ok.  Every other line becomes
# a "# " comment.  RC non-zero without a failing test (an import error, a
# crash) is one more "not ok".  POSIX sh and awk: host and busybox guest.
exec awk -v rc="$1" -v sfx="${2:-}" '
/^[A-Za-z_][A-Za-z0-9_]* \([A-Za-z0-9_.]+\)( .*)? \.\.\. / {
	name = $0; sub(/^[^(]*\(/, "", name); sub(/\).*$/, "", name)
	res = $0; sub(/^.* \.\.\. /, "", res)
	n++
	if (res == "ok" || res == "expected failure") print "ok " n " - " name sfx
	else if (res ~ /^skipped /) {
		why = res; sub(/^skipped /, "", why); gsub(/^'"'"'|'"'"'$/, "", why)
		print "ok " n " - " name sfx " # SKIP " why
	} else { print "not ok " n " - " name sfx " (" res ")"; bad = 1 }
	next
}
{ print "# " $0 }
END {
	if (rc != 0 && !bad) { n++; print "not ok " n " - unittest exited " rc " with no failing test" sfx }
	if (n == 0) print "not ok 1 - unittest ran no test" sfx
}'
