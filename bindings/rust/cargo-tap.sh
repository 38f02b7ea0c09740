#!/bin/sh
# SPDX-License-Identifier: MIT
# cargo-tap.sh RC [BINARY [SUFFIX]] < OUTPUT
# Turns the output of `cargo test -- --show-output` (or of a test binary
# run with --show-output) into TAP lines named "BINARY: TEST":
# "test T ... ok" is ok, "... FAILED" is not ok, "... ignored" a skip.  A
# test that passed with "skip: WHY" first in its output (the device tests
# without /dev/flakeid) is "ok ... # SKIP WHY".  cargo's "Running
# tests/X.rs" and "Doc-tests" lines set BINARY.  Every other line becomes a
# "# " comment.  RC non-zero without a failing test (a build error, a
# crash) is one more "not ok".  POSIX sh and awk: host and busybox guest.
exec awk -v rc="$1" -v bin="${2:-test}" -v sfx="${3:-}" '
function flush(   i, t, s) {
	for (i = 1; i <= nres; i++) {
		t = res[i]; s = st[t]
		if (s == "ok" && (t in why)) s = "skip"
		n++
		if (s == "ok") print "ok " n " - " t sfx
		else if (s == "skip") print "ok " n " - " t sfx " # SKIP " why[t]
		else if (s == "ignored") print "ok " n " - " t sfx " # SKIP ignored"
		else { print "not ok " n " - " t sfx; bad = 1 }
	}
	nres = 0
	split("", st); split("", why)
}
/^ *Running (unittests )?[^ ]+ \(/ {
	flush(); b = $0; sub(/^ *Running (unittests )?/, "", b); sub(/ \(.*/, "", b)
	sub(/^.*\//, "", b); sub(/\.rs$/, "", b); bin = b
	print "# " $0; next
}
/^ *Doc-tests / { flush(); bin = "doc"; print "# " $0; next }
/^test .* \.\.\. (ok|FAILED|ignored)$/ {
	t = $0; sub(/^test /, "", t); s = t; sub(/ \.\.\. [a-zA-Z]+$/, "", t)
	sub(/^.* \.\.\. /, "", s)
	t = bin ": " t
	res[++nres] = t; st[t] = s
	next
}
/^---- .* stdout ----$/ {
	cur = $0; sub(/^---- /, "", cur); sub(/ stdout ----$/, "", cur)
	cur = bin ": " cur; first = 1; print "# " $0; next
}
{
	if (first && $0 ~ /^skip: /) { w = $0; sub(/^skip: /, "", w); why[cur] = w }
	first = 0
	print "# " $0
}
END {
	flush()
	if (rc != 0 && !bad) { n++; print "not ok " n " - " bin ": cargo test exited " rc " with no failing test" sfx }
	if (n == 0) print "not ok 1 - " bin ": ran no test" sfx
}'
