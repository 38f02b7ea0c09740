#!/bin/sh
# SPDX-License-Identifier: MIT
# stage-python.sh DEST
# A minimal Python runtime for the busybox guest, from Debian's python3.11:
#   DEST/bin/python3.11          the interpreter
#   DEST/lib/                    its shared libraries (ldd) and the loader
#   DEST/lib/python3.11/         the standard library less what the tests
#                                never import (test/, idlelib, tkinter, ...),
#                                and lib-dynload modules whose libraries are
#                                staged
#   DEST/python3                 a wrapper: runs the interpreter through the
#                                staged loader with PYTHONHOME=DEST (the guest
#                                has no /lib64), any arguments passed on
# Prints the staged size.  Host side, run by `make guest-stage`.
set -eu
DEST=$1
PY=${PYTHON:-/usr/bin/python3.11}
VER=3.11
LIBDIR=/usr/lib/python$VER

[ -x "$PY" ] || { echo "stage-python: $PY missing (apt-get install python3)" >&2; exit 1; }
rm -rf "$DEST"
mkdir -p "$DEST/bin" "$DEST/lib"
cp -L "$PY" "$DEST/bin/python$VER"

# The libraries of FILE (ldd) into DEST/lib; the loader too.
libs() {
	ldd "$1" | awk '/=> \// { print $3 } /^\t\/.*ld-linux/ { print $1 }' |
	while read -r so; do
		[ -e "$DEST/lib/$(basename "$so")" ] || cp -L "$so" "$DEST/lib/"
	done
}
libs "$PY"
cp -L /lib64/ld-linux-x86-64.so.2 "$DEST/lib/ld-linux-x86-64.so.2"

# The pure-Python library, without what no test here imports.
mkdir -p "$DEST/lib/python$VER"
tar -C "$LIBDIR" \
	--exclude=__pycache__ --exclude=./test --exclude=./idlelib \
	--exclude=./tkinter --exclude=./turtledemo --exclude=./ensurepip \
	--exclude=./lib2to3 --exclude=./pydoc_data --exclude=./distutils \
	--exclude='./config-*' --exclude=./venv --exclude=./site-packages \
	--exclude=./dist-packages --exclude=./sqlite3 --exclude=./curses \
	--exclude=./dbm --exclude=./xmlrpc --exclude=./wsgiref \
	--exclude=./multiprocessing --exclude=./asyncio --exclude=./lib-dynload \
	--exclude=./turtle.py --exclude=./pydoc.py --exclude=./unittest/test \
	--exclude=./ctypes --exclude=./email --exclude=./http --exclude=./urllib \
	--exclude=./xml --exclude=./html --exclude=./json --exclude=./concurrent \
	--exclude=./_pydecimal.py --exclude=./encodings \
	-cf - . | tar -C "$DEST/lib/python$VER" -xf -
# The codecs Python needs to start and to read the tests' files.
mkdir -p "$DEST/lib/python$VER/encodings"
for f in __init__ aliases utf_8 utf_8_sig ascii latin_1; do
	cp "$LIBDIR/encodings/$f.py" "$DEST/lib/python$VER/encodings/"
done

# Extension modules whose every library is the interpreter's (libc, libm,
# libz, libexpat): the rest would not load in the guest anyway.
mkdir -p "$DEST/lib/python$VER/lib-dynload"
have=$(ls "$DEST/lib")
for so in "$LIBDIR"/lib-dynload/*.so; do
	case $(basename "$so") in
	_test* | xx* | _ctypes* | _xxtestfuzz* | _codecs_* | _multibytecodec* | \
	_decimal* | audioop* | ossaudiodev* | _asyncio* | _xxsubinterpreters*) continue ;;
	esac
	need=$(ldd "$so" | awk '/=> \// { print $1 }')
	okay=1
	for l in $need; do
		echo "$have" | grep -qx "$l" || okay=0
	done
	[ "$okay" = 0 ] || cp "$so" "$DEST/lib/python$VER/lib-dynload/"
done

cat >"$DEST/python3" <<'WRAP'
#!/bin/sh
# The staged Python: its own loader and libraries, its own library tree.
R=$(cd "$(dirname "$0")" && pwd)
export PYTHONHOME="$R"
exec "$R/lib/ld-linux-x86-64.so.2" --library-path "$R/lib" "$R/bin/python3.11" "$@"
WRAP
chmod 755 "$DEST/python3"
echo "stage-python: $(du -sh "$DEST" | cut -f1) in $DEST ($(find "$DEST" -type f | wc -l) files)"
