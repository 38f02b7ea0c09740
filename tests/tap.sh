# SPDX-License-Identifier: MIT
# shellcheck shell=sh
# TAP for the shell test scripts, sourced: on the host as tests/tap.sh, in
# the guest as /tap.sh (tests/qemu/run-guest.sh puts it in every
# initramfs).  POSIX sh: bash and busybox sh both run it.
#
#   tap STATUS NAME   "ok N - NAME" when STATUS is 0, else "not ok N - NAME";
#                     called as `tap $? NAME`
#   ok NAME, not_ok NAME
#   skip NAME [WHY]   "ok N - NAME # SKIP WHY"
#   check NAME CODE   evaluates CODE in a subshell: ok when it succeeds
#   note TEXT         a "# TEXT" line
#   tap_relay PREFIX FILE
#                     another program's TAP lines in FILE as results of ours,
#                     renumbered, named "PREFIX: NAME" (just NAME when PREFIX
#                     is empty; skips stay skips, with their reasons); other
#                     lines pass through, its plan is dropped
#   tap_plan          the plan "1..N"; fails when any result failed
#
# The counters n, passed, failed and skipped are the caller's to read.

n=0 passed=0 failed=0 skipped=0

ok() {
	n=$((n + 1))
	passed=$((passed + 1))
	echo "ok $n - $*"
}

not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $*"
}

skip() {
	n=$((n + 1))
	skipped=$((skipped + 1))
	echo "ok $n - $1 # SKIP${2:+ $2}"
}

tap() {
	if [ "$1" = 0 ]; then
		shift
		ok "$@"
	else
		shift
		not_ok "$@"
	fi
}

check() {
	if (eval "$2"); then ok "$1"; else not_ok "$1"; fi
}

note() {
	echo "# $*"
}

tap_relay() {
	tap_pfx=${1:+$1: }
	while IFS= read -r tap_line; do
		case $tap_line in
		"ok "*" # SKIP"*)
			tap_line=${tap_line#* - }
			tap_why=${tap_line#* # SKIP}
			skip "$tap_pfx${tap_line%% # SKIP*}" "${tap_why# }"
			;;
		"ok "*) tap 0 "$tap_pfx${tap_line#* - }" ;;
		"not ok "*) tap 1 "$tap_pfx${tap_line#* - }" ;;
		1..*) ;;
		*) echo "$tap_line" ;;
		esac
	done <"$2"
}

tap_plan() {
	echo "1..$n"
	[ "$failed" = 0 ]
}
