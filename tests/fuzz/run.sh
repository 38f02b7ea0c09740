#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fuzz /dev/flakeid in a guest (`make fuzz`): the purpose-written ioctl
# fuzzer (64- and 32-bit), then trinity, then checks that the device still
# issues valid increasing IDs and that the kernel reported nothing.
#
#   run.sh [--kernel NAME] [--secs N] [--trinity-secs N] [--seed N]
#
# NAME is a test kernel as in tests/kernels/run.sh (default
# debug: KASAN, UBSAN, lockdep, kmemleak).  --secs is each fuzzer run's
# length (default 120), --trinity-secs trinity's (default 120).  trinity is
# Debian's package, fetched with `apt-get download` and unpacked (with the
# host's libc) into the guest, not installed on the host.  TAP lines, then
# "N passed, N failed"; logs in build/fuzz/.
set -u

. "$(dirname "$0")/../../scripts/host-lib.sh"
TOP=$(flakeid_top "$0")
. "$TOP/tests/kernels/host-kernels.sh"

KERNEL=debug SECS=120 TSECS=120 SEED=$(date +%s)
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) KERNEL=$2; shift ;;
	--secs) SECS=$2; shift ;;
	--trinity-secs) TSECS=$2; shift ;;
	--seed) SEED=$2; shift ;;
	*) sed -n '3,14s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
	esac
	shift
done

OUT=$TOP/build/fuzz
flakeid_setup_guest_run fuzz "$KERNEL"

# trinity from Debian's archive, unpacked; it is dynamically linked against
# glibc only, so the host's loader and libc go along into the initramfs.
EXTRA=()
CACHE=${FLAKEID_KERNEL_CACHE:-/var/cache/flakeid-kernels}
tdir=$CACHE/trinity
if [ ! -x "$tdir/root/usr/bin/trinity" ]; then
	rm -rf "$tdir"
	mkdir -p "$tdir/root"
	if (cd "$tdir" && apt-get -q -o APT::Sandbox::User=root download trinity >download.log 2>&1) &&
	   dpkg-deb -x "$tdir"/trinity_*.deb "$tdir/root"; then
		rm -f "$tdir"/trinity_*.deb
	else
		echo "# trinity: apt-get download failed (see $tdir/download.log); fuzzing without it"
	fi
fi
if [ -x "$tdir/root/usr/bin/trinity" ]; then
	EXTRA+=(--extra-file "$tdir/root/usr/bin/trinity:/usr/bin/trinity")
	for lib in $(ldd "$tdir/root/usr/bin/trinity" | grep -oE '/[^ ]+\.so[^ ]*'); do
		EXTRA+=(--extra-file "$(readlink -f "$lib"):$lib")
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$OUT/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$OUT/group"
	EXTRA+=(--extra-file "$OUT/passwd:/etc/passwd" --extra-file "$OUT/group:/etc/group")
fi
printf 'FUZZ_SECS=%s\nTRINITY_SECS=%s\nSEED=%s\n' "$SECS" "$TSECS" "$SEED" >"$OUT/config"

echo "# fuzz: kernel $KERNEL ($KREL), fuzzer ${SECS}s x2, trinity ${TSECS}s, seed $SEED"
start=$(date +%s)
"$TOP/tests/qemu/run-guest.sh" --quiet --kernel "$KIMAGE" --append "$APPEND" \
	--mem "$MEM" --timeout $((SECS * 4 + TSECS * 2 + 900)) --no-module \
	--extra-file "$TOP/build/kernels/$KERNEL/mod/flakeid.ko:/flakeid.ko" \
	--extra-file "$OUT/flakeid-fuzz:/fuzz/flakeid-fuzz" \
	--extra-file "$OUT/flakeid-fuzz32:/fuzz/flakeid-fuzz32" \
	--extra-file "$OUT/config:/fuzz/config" "${EXTRA[@]}" \
	--extra-file "$TOP/tests/kernels/kmemleak.sh:/kmemleak.sh" \
	--main "$TOP/tests/fuzz/guest.sh" \
	--out "$OUT/results.txt" --log "$OUT/console.log" 2>"$OUT/run-guest.err"
rc=$?
grep -v '^FLAKEID-GUEST-DONE' "$OUT/results.txt"
flakeid_guest_tally fuzz "$rc"
echo "# fuzz run took $(( $(date +%s) - start ))s"
echo "$p passed, $f failed"
[ "$f" = 0 ] && [ "$p" -gt 0 ]
