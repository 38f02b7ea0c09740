#!/bin/sh
# SPDX-License-Identifier: MIT
# The Go binding's host tests, as TAP lines (run by `make check-host`, which
# sets the Go environment).  gofmt and vet clean; each example under
# examples/ builds and differs from its Go Snowflake library original in
# exactly its two "migrated" lines (the import and the constructor); then
# go test, whose device tests skip without /dev/flakeid.
cd "$(dirname "$0")" || exit 2
GO=${GO:-go}
n=0 failed=0
result() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

if ! "$GO" version >/dev/null 2>&1; then
	echo "ok 1 - go toolchain # SKIP $GO not found (apt-get install golang-go)"
	exit 0
fi
echo "# $("$GO" version)"

out=$(gofmt -l . 2>&1)
[ -z "$out" ]
result $? "gofmt -l prints nothing${out:+ (}$(echo $out)${out:+)}"

"$GO" vet ./... >/tmp/flakeid-go-vet.$$ 2>&1
rc=$?
sed 's/^/# /' /tmp/flakeid-go-vet.$$
rm -f /tmp/flakeid-go-vet.$$
result $rc "go vet ./..."

# Nothing outside the standard library, and in the package itself only
# what the binding promises (os, syscall, unsafe, encoding/binary, time,
# errors, sync).
deps=$("$GO" list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' ./... | grep -v '^flakeid.dev/flakeid')
[ -z "$deps" ]
result $? "only the standard library${deps:+: }$(echo $deps)"
imports=$("$GO" list -f '{{join .Imports " "}}' .)
extra=$(for i in $imports; do
	case $i in os | syscall | unsafe | encoding/binary | time | errors | sync | sync/atomic) ;; *) echo "$i" ;; esac
done)
[ -z "$extra" ]
result $? "package imports ($imports) within os, syscall, unsafe, encoding/binary, time, errors, sync"

for d in examples/*/; do
	name=$(basename "$d")
	marked=$(grep -c '// migrated' "$d/main.go")
	[ "$marked" = 2 ] && grep -q '^	goflakeid "flakeid.dev/flakeid" // migrated' "$d/main.go"
	result $? "example $name: only the import and the constructor changed ($marked lines marked)"
	out=$("$GO" build -o /dev/null "./$d" 2>&1)
	rc=$?
	[ -z "$out" ] || echo "$out" | sed 's/^/# /'
	result $rc "example $name builds"
done

# The device tests run in the guest (bindings/tests); here the rest.
tests=$("$GO" test -list '.*' . | grep '^Test' | grep -v '^TestDevice' | tr '\n' '|')
"$GO" test -v -count=1 -run "^(${tests%|})\$" . >/tmp/flakeid-go-test.$$ 2>&1
rc=$?
sh ./gotest-tap.sh "$rc" </tmp/flakeid-go-test.$$ >/tmp/flakeid-go-tap.$$
rm -f /tmp/flakeid-go-test.$$
# Renumber after our own results.
while IFS= read -r line; do
	case $line in
	"ok "*) n=$((n + 1)); echo "ok $n - ${line#* - }" ;;
	"not ok "*) n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - ${line#* - }" ;;
	*) echo "$line" ;;
	esac
done </tmp/flakeid-go-tap.$$
rm -f /tmp/flakeid-go-tap.$$
[ "$failed" = 0 ]
