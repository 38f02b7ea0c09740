#!/bin/sh
# SPDX-License-Identifier: MIT
# The Python binding's host tests, as TAP lines (`make check-host`): the
# package installs from this directory with pip, no network and no index
# (--no-build-isolation: the build uses Debian's python3-setuptools and
# python3-wheel, which pip could not fetch into an isolated build), into
# build/python/site; then unittest against that installed copy, the
# device tests skipping without /dev/flakeid.
cd "$(dirname "$0")" || exit 2
PYTHON=${PYTHON:-/usr/bin/python3}
OUT=$(cd ../.. && pwd)/build/python
# shellcheck source=../../tests/tap.sh
. ../../tests/tap.sh

if ! "$PYTHON" -c 'import sys; assert sys.version_info >= (3, 8)' 2>/dev/null; then
	echo "ok 1 - python3 # SKIP $PYTHON (3.8 or later) not found (apt-get install python3)"
	exit 0
fi
echo "# $("$PYTHON" --version) at $PYTHON"

rm -rf "$OUT/site" "$OUT/pip.log"
mkdir -p "$OUT"
"$PYTHON" -m pip install --no-index --no-build-isolation --no-deps --disable-pip-version-check \
	--root-user-action=ignore --target "$OUT/site" . >"$OUT/pip.log" 2>&1
rc=$?
[ $rc = 0 ] || sed 's/^/# /' "$OUT/pip.log"
rm -rf build src/*.egg-info
tap $rc "pip install --no-index --no-build-isolation --target build/python/site ./bindings/python"
[ -f "$OUT/site/flakeid/__init__.py" ] && [ -f "$OUT/site/flakeid/py.typed" ]
tap $? "the installed package has flakeid/__init__.py and py.typed"

# From tests/, so the package comes from the installed copy only; the
# device tests (test_device) run in the guest.
(cd tests && PYTHONPATH="$OUT/site" PYTHONDONTWRITEBYTECODE=1 "$PYTHON" -m unittest -v \
	test_host) >"$OUT/unittest.out" 2>&1
rc=$?
sh ./unittest-tap.sh "$rc" <"$OUT/unittest.out" >"$OUT/unittest.tap"
tap_relay "" "$OUT/unittest.tap"
where=$(cd tests && PYTHONPATH="$OUT/site" "$PYTHON" -B -c 'import flakeid; print(flakeid.__file__)')
[ "$where" = "$OUT/site/flakeid/__init__.py" ]
tap $? "unittest used the installed copy ($where)"

# The converter itself, on a canned run: a failure must never be dropped.
got=$(sh ./unittest-tap.sh 1 <tests/tap-selftest.out | grep -v '^#')
want="ok 1 - test_x.C.test_a
not ok 2 - test_x.C.test_b (FAIL)
not ok 3 - test_x.C.test_c (ERROR)
ok 4 - test_x.C.test_d # SKIP no /dev/flakeid
ok 5 - test_x.C.test_e"
[ "$got" = "$want" ]
tap $? "unittest-tap.sh: ok, FAIL, ERROR, skipped, expected failure from a canned run"
got=$(printf 'ImportError: no module named flakeid\n' | sh ./unittest-tap.sh 1 | grep -v '^#')
[ "$got" = "not ok 1 - unittest exited 1 with no failing test" ]
tap $? "unittest-tap.sh: a non-zero exit without a failing test fails ($got)"
[ "$failed" = 0 ]
