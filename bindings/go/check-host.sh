#!/bin/sh
# SPDX-License-Identifier: MIT
# The Go binding's host tests, as TAP lines (run by `make check-host`, which
# sets the Go environment).  gofmt and vet clean; the standard library
# only; each example under examples/ builds, and builds against the Go
# Snowflake library's API with its two "migrated" lines (the import and
# the constructor) put back; then go test but the device tests, which run
# in the guest.
cd "$(dirname "$0")" || exit 2
GO=${GO:-go}
# shellcheck source=../../tests/tap.sh
. ../../tests/tap.sh

if ! "$GO" version >/dev/null 2>&1; then
	echo "ok 1 - go toolchain # SKIP $GO not found (apt-get install golang-go)"
	exit 0
fi
echo "# $("$GO" version)"

out=$(gofmt -l . 2>&1)
[ -z "$out" ]
tap $? "gofmt -l prints nothing$([ -z "$out" ] || echo " ($out)" | tr '\n' ' ')"

"$GO" vet ./... >/tmp/flakeid-go-vet.$$ 2>&1
rc=$?
sed 's/^/# /' /tmp/flakeid-go-vet.$$
rm -f /tmp/flakeid-go-vet.$$
tap $rc "go vet ./..."

# Nothing outside the standard library, and in the package itself only
# what the binding promises (os, syscall, unsafe, encoding/binary, time,
# errors, sync).
deps=$("$GO" list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' ./... | grep -v '^flakeid.dev/flakeid')
[ -z "$deps" ]
tap $? "only the standard library$([ -z "$deps" ] || echo ": $deps" | tr '\n' ' ')"
imports=$("$GO" list -f '{{join .Imports " "}}' .)
extra=$(for i in $imports; do
	case $i in os | syscall | unsafe | encoding/binary | time | errors | sync | sync/atomic) ;; *) echo "$i" ;; esac
done)
[ -z "$extra" ]
tap $? "package imports ($imports) within os, syscall, unsafe, encoding/binary, time, errors, sync"

# Each example twice: as it is, against this package; and with its two
# "migrated" lines put back (the import, NewGenerator for OpenConfig)
# against the Go library's API (testdata/golib), in a scratch module.
orig=${GOCACHE:-/tmp}/../golib-examples
rm -rf "$orig"
mkdir -p "$orig/goflakeid"
cp testdata/golib/goflakeid.go "$orig/goflakeid/"
printf 'module golibcheck\n\ngo 1.19\n' >"$orig/go.mod"
for d in examples/*/; do
	name=$(basename "$d")
	marked=$(grep -c '// migrated' "$d/main.go")
	[ "$marked" = 2 ] && grep -q '^	goflakeid "flakeid.dev/flakeid" // migrated' "$d/main.go" &&
		grep -q 'goflakeid\.OpenConfig(.*// migrated' "$d/main.go"
	tap $? "example $name: two lines marked migrated, the import and the constructor ($marked marked)"
	out=$("$GO" build -o /dev/null "./$d" 2>&1)
	rc=$?
	[ -z "$out" ] || echo "$out" | sed 's/^/# /'
	tap $rc "example $name builds against flakeid.dev/flakeid"
	mkdir -p "$orig/$name"
	sed -e 's#^	goflakeid "flakeid.dev/flakeid" // migrated.*#	"golibcheck/goflakeid"#' \
		-e '/\/\/ migrated/s/goflakeid\.OpenConfig(/goflakeid.NewGenerator(/' \
		"$d/main.go" >"$orig/$name/main.go"
	out=$(cd "$orig" && "$GO" build -o /dev/null "./$name" 2>&1)
	rc=$?
	[ -z "$out" ] || echo "$out" | sed 's/^/# /'
	tap $rc "example $name with those two lines put back builds against the Go library's API"
done

# The device tests run in the guest (bindings/tests); here the rest.
tests=$("$GO" test -list '.*' . | grep '^Test' | grep -v '^TestDevice' | tr '\n' '|')
"$GO" test -v -count=1 -run "^(${tests%|})\$" . >/tmp/flakeid-go-test.$$ 2>&1
rc=$?
sh ./gotest-tap.sh "$rc" </tmp/flakeid-go-test.$$ >/tmp/flakeid-go-tap.$$
rm -f /tmp/flakeid-go-test.$$
tap_relay "" /tmp/flakeid-go-tap.$$
rm -f /tmp/flakeid-go-tap.$$
[ "$failed" = 0 ]
