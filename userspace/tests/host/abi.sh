#!/bin/sh
# SPDX-License-Identifier: MIT
# The library's interface, on the host: <flakeid.h> builds alone in C99 and
# C++ with -pedantic, and its structures have one layout on 64-bit, 32-bit,
# and 32-bit with a 64-bit time_t and off_t (tests/host/abi_layout.c); the
# shared library exports exactly the names and versions below; the
# LIBFLAKEID_1.0 versions still serve the 1.0 struct layouts, natively and,
# where gcc -m32 works, in a 32-bit build of the library
# (tests/host/abi_compat.c).  Prints TAP.
#
#   abi.sh [BUILD_DIR]       from userspace/, after `make` (default: build)

O=${1:-build}
CC=${CC:-cc}
CXX=${CXX:-c++}
MAKE=${MAKE:-make}
dir=$O/abi
mkdir -p "$dir" || exit 1

# tap STATUS NAME and the counters (run from userspace/).
. ../tests/tap.sh

# try NAME CMD...: passes when CMD exits 0; its output shown as comments
try() {
	name=$1
	shift
	"$@" >"$dir/log" 2>&1
	rc=$?
	[ "$rc" -eq 0 ] || sed 's/^/# /' "$dir/log"
	tap "$rc" "$name"
}

# compat LABEL LIBDIR CFLAGS: tests/host/abi_compat.c against LIBDIR
compat() {
	label=$1 libdir=$2
	shift 2
	if ! $CC "$@" -Wall -Wextra -Werror -pthread -Iinclude -Isrc -I../uapi -I../tests \
		-o "$dir/abi-compat-$label" tests/host/abi_compat.c \
		-L"$libdir" -lflakeid -ldl >"$dir/log" 2>&1; then
		sed 's/^/# /' "$dir/log"
		tap 1 "$label: abi_compat.c builds"
		return
	fi
	LD_LIBRARY_PATH=$libdir "$dir/abi-compat-$label" \
		"$libdir/libflakeid.so.1" >"$dir/out" 2>&1
	rc=$?
	tap_relay "$label" "$dir/out"
	[ "$rc" -eq 0 ] || tap 1 "$label: abi-compat exited $rc"
}

strict="-Wall -Wextra -Werror -pedantic -Iinclude -I../uapi -fsyntax-only"
try "header: alone in C99 (-std=c99 -pedantic), layout fixed" \
	$CC -std=c99 $strict tests/host/abi_layout.c
try "header: alone in C++ (-std=c++11 -pedantic), layout fixed" \
	$CXX -x c++ -std=c++11 $strict tests/host/abi_layout.c

m32=0
echo 'int main(void) { return 0; }' >"$dir/m32.c"
$CC -m32 -o "$dir/m32" "$dir/m32.c" 2>/dev/null && "$dir/m32" && m32=1
if [ "$m32" -eq 1 ]; then
	try "header: -m32, same layout" \
		$CC -m32 -std=c99 $strict tests/host/abi_layout.c
	try "header: -m32 -D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64, same layout" \
		$CC -m32 -std=c99 -D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64 \
		$strict tests/host/abi_layout.c
	try "header: C++ -m32 with a 64-bit time_t, same layout" \
		$CXX -x c++ -std=c++11 -m32 -D_TIME_BITS=64 \
		-D_FILE_OFFSET_BITS=64 $strict tests/host/abi_layout.c
else
	for what in "-m32" "-m32 with a 64-bit time_t" "C++ -m32"; do
		tap 0 "header: $what # SKIP gcc -m32 cannot build here"
	done
fi

# Every dynamic symbol the library defines, with its version.
cat >"$dir/exports.want" <<'LIST'
LIBFLAKEID_1.0
LIBFLAKEID_1.1
LIBFLAKEID_1.2
LIBFLAKEID_1.3
LIBFLAKEID_1.4
flakeid_batch@@LIBFLAKEID_1.0
flakeid_close@@LIBFLAKEID_1.0
flakeid_compose@@LIBFLAKEID_1.1
flakeid_compose@LIBFLAKEID_1.0
flakeid_decode@@LIBFLAKEID_1.1
flakeid_decode@LIBFLAKEID_1.0
flakeid_decode_with@@LIBFLAKEID_1.1
flakeid_decode_with@LIBFLAKEID_1.0
flakeid_decode_uuid7@@LIBFLAKEID_1.4
flakeid_default_config@@LIBFLAKEID_1.0
flakeid_format_layout@@LIBFLAKEID_1.3
flakeid_format_uuid7@@LIBFLAKEID_1.4
flakeid_get_config@@LIBFLAKEID_1.0
flakeid_get_stats@@LIBFLAKEID_1.2
flakeid_get_stats@LIBFLAKEID_1.0
flakeid_next@@LIBFLAKEID_1.0
flakeid_open@@LIBFLAKEID_1.0
flakeid_parse_layout@@LIBFLAKEID_1.3
flakeid_parse_uuid7@@LIBFLAKEID_1.4
flakeid_refresh_config@@LIBFLAKEID_1.0
flakeid_set_cache@@LIBFLAKEID_1.0
flakeid_set_config@@LIBFLAKEID_1.0
flakeid_set_sysfs_dir@@LIBFLAKEID_1.0
flakeid_set_until_wait@@LIBFLAKEID_1.2
flakeid_strerror@@LIBFLAKEID_1.0
flakeid_uuid7@@LIBFLAKEID_1.4
flakeid_uuid7_batch@@LIBFLAKEID_1.4
LIST
readelf --dyn-syms -W "$O/libflakeid.so.1" |
	awk '$1 ~ /^[0-9]+:$/ && $5 != "LOCAL" && $7 != "UND" && $8 != "" { print $8 }' |
	LC_ALL=C sort >"$dir/exports"
LC_ALL=C sort "$dir/exports.want" | diff - "$dir/exports" >"$dir/log"
rc=$?
[ "$rc" -eq 0 ] || sed 's/^/# /' "$dir/log"
tap "$rc" "libflakeid.so.1 exports exactly the 1.0 to 1.4 names"
readelf -d "$O/libflakeid.so.1" | grep -q 'SONAME.*\[libflakeid\.so\.1\]'
tap $? "soname is libflakeid.so.1"

compat native "$O"
if [ "$m32" -eq 1 ]; then
	if $MAKE --no-print-directory O="$O/m32" CFLAGS="-m32 -O2" \
		LDFLAGS=-m32 "$O/m32/libflakeid.so" >"$dir/log" 2>&1; then
		compat m32 "$O/m32" -m32
	else
		sed 's/^/# /' "$dir/log"
		tap 1 "m32: the library builds with -m32"
	fi
else
	tap 0 "m32: 1.0 compatibility # SKIP gcc -m32 cannot build here"
fi

echo "1..$n"
echo "# abi: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
