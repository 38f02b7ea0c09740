#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The packaging tests (`make check-packaging`): TAP lines on stdout, then
# "N passed, N failed".  Needs root: it installs into /usr/src, DKMS's tree,
# /lib/modules and the package database, and leaves them as it found them.
#
#   1. flakeid-floor against a fake sysfs (tests/packaging/floor-host.sh)
#   2. DKMS from this checkout for the Debian kernel under /lib/modules
#      (make dkms-install / dkms-remove), and `dkms add` of the shipped
#      tree + build for Debian's PREEMPT_RT 6.1 headers, unpacked under build/ (never
#      installed: they would become the tree's default kernel)
#   3. the guest: boots that kernel, loads the DKMS-built module with
#      modprobe from /lib/modules/<ver>/updates/dkms, checks the modprobe.d
#      options and the device mode, and keeps IDs unique across every kind
#      of reload the hooks and flakeid-floor see: clean cycles, a crash
#      right after a load, configuration changes, a corrupt state, a failed
#      save, a floor out of reach, no state directory
#      (tests/packaging/guest.sh); the same on the PREEMPT_RT kernel
#      (its image unpacked under build/ too)
#   4. dpkg-buildpackage -us -uc -b with a changelog entry newer than
#      VERSION, lintian, install the five packages on the host,
#      check DKMS built the module for the installed kernel, the initramfs
#      hook, an example built through pkg-config, flakeid-agent's files,
#      unit and conffile, purge
#
#   run.sh [host] [dkms] [guest] [deb]     the parts to run, default all
#                                          (guest reuses dkms's modules)
# FLAKEID_PKG_RT=0 skips the PREEMPT_RT parts (and their ~80 MB download).
set -u
PARTS=" ${*:-host dkms guest deb} "
want() { case $PARTS in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

. "$(dirname "$0")/../../scripts/host-lib.sh"
TOP=$(flakeid_top "$0")
cd "$TOP" || exit 1
OUT=$TOP/build/packaging
mkdir -p "$OUT"
RT=${FLAKEID_PKG_RT:-1}
VER=$(cat VERSION)
PKGS="flakeid flakeid-dkms libflakeid-dev libflakeid1 flakeid-agent"
export DEBIAN_FRONTEND=noninteractive

. "$TOP/tests/tap.sh"
finish() {
	tap_plan
	local rc=$?
	echo "packaging: $passed passed, $failed failed, $skipped skipped"
	exit $rc
}

if [ "$(id -u)" != 0 ]; then
	not_ok "packaging tests need root (DKMS, dpkg)"
	finish
fi
flakeid_kernel_env || { not_ok "a Debian kernel with headers under /lib/modules"; finish; }
K=$KERNELRELEASE

# Leave no earlier run's state behind: packages, DKMS tree, /usr/src.
clean_state() {
	local installed=
	for p in $PKGS; do
		dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -q installed && installed="$installed $p"
	done
	# shellcheck disable=SC2086
	[ -z "$installed" ] || apt-get purge -y -q $installed >"$OUT/purge.log" 2>&1
	if command -v dkms >/dev/null && [ -n "$(dkms status -m flakeid -v "$VER" 2>/dev/null)" ]; then
		dkms remove -m flakeid -v "$VER" --all >/dev/null 2>&1
	fi
	rm -rf "/usr/src/flakeid-$VER"
}

# --- 1. static checks and flakeid-floor on the host ------------------------
if want host; then
note "host: files and flakeid-floor"
deb_ver=$(dpkg-parsechangelog -l debian/changelog -S Version 2>/dev/null)
check "one version: VERSION $VER, debian/changelog $deb_ver, every man page footer" \
	'[ -n "$VER" ] && [ "${deb_ver%%-*}" = "$VER" ] &&
	 ! grep -h "^\.TH " userspace/man/* agent/*.8 packaging/*.8 | grep -v " \"flakeid $VER\" "'
check "shell scripts parse (sh -n)" \
	'for f in packaging/flakeid-floor packaging/dkms.sh packaging/build-deb.sh packaging/initramfs/flakeid \
		tests/packaging/floor-host.sh tests/packaging/guest.sh tests/tap.sh; do sh -n "$f" || exit 1; done &&
	 bash -n tests/packaging/run.sh'
if command -v systemd-analyze >/dev/null; then
	# Only what the files say; the installed copies are verified in part 4.
	check "systemd units: no errors from systemd-analyze verify" \
		'! systemd-analyze verify --man=no packaging/systemd/*.service packaging/systemd/*.timer \
			agent/flakeid-agent.service 2>&1 |
			grep -v "is not executable: No such file" | grep .'
else
	skip "systemd units: systemd-analyze not installed"
fi
tap_relay "flakeid-floor" <(tests/packaging/floor-host.sh 2>"$OUT/floor-host.err")
fi

command -v dkms >/dev/null || { not_ok "dkms installed (scripts/install-deps.sh)"; finish; }
clean_state

# --- 2. DKMS -----------------------------------------------------------------
if want dkms; then
note "DKMS: $K"
make -s dkms-install KERNELRELEASE="$K" >"$OUT/dkms-install.log" 2>&1
ko=$(ls "/lib/modules/$K/updates/dkms/flakeid.ko"* 2>/dev/null | head -n 1)
check "make dkms-install builds and installs flakeid.ko into /lib/modules/$K/updates/dkms" '[ -n "$ko" ]'
check "dkms status: flakeid/$VER installed for $K" \
	'dkms status -m flakeid -v "$VER" -k "$K" | grep -q ": installed"'
check "the module's vermagic is $K's" \
	'[ -n "$ko" ] && modinfo -F vermagic "$ko" | grep -q "^$K "'
mkdir -p "$OUT/ko/$K"
rm -f "$OUT/ko/$K/flakeid.ko"
[ -n "$ko" ] && cp "$ko" "$OUT/ko/$K/flakeid.ko"
make -s dkms-remove >"$OUT/dkms-remove.log" 2>&1
check "make dkms-remove takes it out of /lib/modules, DKMS and /usr/src" \
	'[ ! -e "/lib/modules/$K/updates/dkms/flakeid.ko" ] && [ -z "$(dkms status -m flakeid)" ] && [ ! -e "/usr/src/flakeid-$VER" ]'
fi

# Debian's PREEMPT_RT headers (and image, for the guest), unpacked privately.
RTK='' RTHDR='' RTIMG=''
rt_fetch() {
	local d=$OUT/rt rel common img try
	mkdir -p "$d/debs"
	: >"$d/download.log"
	# Stale package lists can name versions the archive has dropped:
	# on a failed download, refresh them once and look again.
	for try in 1 2; do
		rel=$(apt-cache depends linux-headers-rt-amd64 2>/dev/null |
			sed -n 's/^ *Depends: linux-headers-\(.*-rt-amd64\)$/\1/p' | head -n 1)
		common=$(apt-cache depends "linux-headers-$rel" 2>/dev/null |
			sed -n 's/^ *Depends: \(linux-headers-.*-common-rt\)$/\1/p' | head -n 1)
		img=linux-image-$rel
		[ -n "$rel" ] && [ -n "$common" ] && [ "$(cat "$d/release" 2>/dev/null)" = "$rel" ] && break
		rm -rf "$d/debs"/* "$d/root" "$d/release"
		[ -n "$rel" ] && [ -n "$common" ] &&
			(cd "$d/debs" && apt-get download "linux-headers-$rel" "$common" "$img") >>"$d/download.log" 2>&1 &&
			break
		rm -rf "$d/debs"/*
		[ "$try" = 2 ] && { note "cannot download the PREEMPT_RT packages, see $d/download.log"; return 1; }
		apt-get update -q >>"$d/download.log" 2>&1
	done
	if [ "$(cat "$d/release" 2>/dev/null)" != "$rel" ]; then
		mkdir -p "$d/root"
		for f in "$d/debs"/linux-headers-*.deb; do dpkg-deb -x "$f" "$d/root" || return 1; done
		# Only the kernel and the module lists, not 400 MB of modules.
		dpkg-deb --fsys-tarfile "$d/debs/${img}"_*.deb | tar -x -C "$d/root" \
			--wildcards './boot/vmlinuz-*' "./lib/modules/$rel/modules.builtin*" \
			"./lib/modules/$rel/modules.order" || return 1
		# The headers point at /usr/src and /usr/lib/linux-kbuild-6.1 by
		# absolute path: point them into the unpacked tree and the host's kbuild.
		sed -i "s|^include /usr/src/|include $d/root/usr/src/|" "$d/root/usr/src/linux-headers-$rel/Makefile"
		mkdir -p "$d/root/usr/lib"
		ln -sfn "$(readlink -f /usr/lib/linux-kbuild-6.1)" "$d/root/usr/lib/linux-kbuild-6.1"
		echo "$rel" >"$d/release"
	fi
	RTK=$rel
	RTHDR=$d/root/usr/src/linux-headers-$rel
	RTIMG=$d/root/boot/vmlinuz-$rel
}
if [ "$RT" = 0 ]; then
	want dkms && skip "DKMS build for PREEMPT_RT (FLAKEID_PKG_RT=0)"
elif ! want dkms; then
	want guest && rt_fetch
elif rt_fetch; then
	note "DKMS: $RTK (PREEMPT_RT, headers in $RTHDR)"
	# dkms add copies the tree it is given to /usr/src: give it the tree
	# the packages ship (make -C packaging install-dkms-src), whose
	# dkms.conf carries VERSION; a checkout's is a template.
	co=$OUT/dkms-src
	rm -rf "$co"
	{
		make -s -C packaging install-dkms-src DESTDIR="$co" SRCDIR= &&
		dkms add "$co/flakeid-$VER" &&
		dkms build -m flakeid -v "$VER" -k "$RTK" --kernelsourcedir "$RTHDR"
	} >"$OUT/dkms-rt.log" 2>&1
	rtko=$(find "/var/lib/dkms/flakeid/$VER/$RTK" -name 'flakeid.ko*' 2>/dev/null | head -n 1)
	check "dkms add of the shipped source tree + dkms build for $RTK (PREEMPT_RT headers)" '[ -n "$rtko" ]'
	if [ -z "$rtko" ]; then
		grep -E 'error|Error' "$OUT/dkms-rt.log" /var/lib/dkms/flakeid/"$VER"/build/make.log 2>/dev/null |
			head -n 8 | sed 's/^/#   /'
	fi
	check "the PREEMPT_RT module's vermagic says preempt_rt" \
		'[ -n "$rtko" ] && modinfo -F vermagic "$rtko" | grep -q "^$RTK .*preempt_rt"'
	mkdir -p "$OUT/ko/$RTK"
	rm -f "$OUT/ko/$RTK/flakeid.ko"
	[ -n "$rtko" ] && cp "$rtko" "$OUT/ko/$RTK/flakeid.ko"
	clean_state
else
	not_ok "Debian's PREEMPT_RT headers and image (apt-get download)"
fi

# --- 3. the guest --------------------------------------------------------------
# Stage /lib/modules/<ver> with the DKMS module and depmod's indexes, plus
# the packaging files and kmod; run guest.sh with them.
guest() {
	local krel=$1 kernel=$2 modsrc=$3 label=$4 st=$OUT/guest/$1 rc=0
	local -a extra
	rm -rf "$st"
	mkdir -p "$st/lib/modules/$krel/updates/dkms" "$st/files"
	cp "$OUT/ko/$krel/flakeid.ko" "$st/lib/modules/$krel/updates/dkms/"
	for f in modules.builtin modules.builtin.modinfo modules.order; do
		[ -e "$modsrc/$f" ] && cp "$modsrc/$f" "$st/lib/modules/$krel/"
	done
	depmod -b "$st" "$krel" || return 1
	sed 's/^options flakeid .*/options flakeid region_id=3 app_id=5 machine_id=7/' \
		packaging/modprobe/flakeid.conf >"$st/files/modprobe.conf"
	extra=(--extra-file "$st/lib/modules/$krel:/lib/modules/$krel"
		--extra-file "packaging/flakeid-floor:/usr/sbin/flakeid-floor"
		--extra-file "packaging/default/flakeid:/etc/default/flakeid"
		--extra-file "$st/files/modprobe.conf:/etc/modprobe.d/flakeid.conf"
		--extra-file "packaging/modprobe/flakeid-floor.conf:/lib/modprobe.d/flakeid-floor.conf")
	# kmod's modprobe (busybox's ignores install/remove commands) and
	# util-linux's flock (busybox here has none), with what they link
	# against, as real files.
	local kmod flock lib interp
	kmod=$(readlink -f "$(command -v kmod)")
	flock=$(readlink -f "$(command -v flock)")
	cp "$kmod" "$st/files/kmod"
	cp "$flock" "$st/files/flock"
	extra+=(--extra-file "$st/files/kmod:/usr/bin/kmod" --extra-file "$st/files/flock:/usr/bin/flock")
	for lib in $(ldd "$kmod" "$flock" | awk '$3 ~ /^\// { print $3 }' | sort -u); do
		cp -L "$lib" "$st/files/$(basename "$lib")"
		extra+=(--extra-file "$st/files/$(basename "$lib"):/lib/x86_64-linux-gnu/$(basename "$lib")")
	done
	interp=$(readelf -l "$kmod" | sed -n 's/.*interpreter: \(.*\)\]$/\1/p')
	cp -L "$interp" "$st/files/interp"
	extra+=(--extra-file "$st/files/interp:$interp")
	extra+=(--extra-file "$TOP/VERSION:/etc/flakeid-test-version")

	tests/qemu/run-guest.sh --quiet --no-module --smp 2 --timeout 600 \
		--kernel "$kernel" --main tests/packaging/guest.sh \
		--out "$OUT/guest-$krel.out" --log "$OUT/guest-$krel.log" \
		"${extra[@]}" 2>"$OUT/guest-$krel.err" || rc=$?
	tap_relay "guest $label" "$OUT/guest-$krel.out"
	case $rc in
	0|3) ;;
	*) not_ok "guest $label ran to the end with a clean kernel log ($(tail -n 1 "$OUT/guest-$krel.err"))" ;;
	esac
}

if want guest; then
note "guest: $K"
if [ -s "$OUT/ko/$K/flakeid.ko" ]; then
	guest "$K" "/boot/vmlinuz-$K" "/lib/modules/$K" "$K"
else
	not_ok "guest $K: no DKMS-built module to load"
fi
if [ "$RT" != 0 ] && [ -n "$RTK" ]; then
	note "guest: $RTK (PREEMPT_RT)"
	if [ -s "$OUT/ko/$RTK/flakeid.ko" ]; then
		guest "$RTK" "$RTIMG" "$OUT/rt/root/lib/modules/$RTK" "$RTK"
	else
		not_ok "guest $RTK: no DKMS-built module to load"
	fi
fi
fi

# --- 4. Debian packages ---------------------------------------------------------
want deb || finish
note "Debian packages"
DEB=$OUT/deb
# A changelog entry ahead of VERSION: the DKMS name and the /usr/src
# directory must still agree (VERSION is the one source of the module's
# version).
DEBVER=$VER+pkgtest1
packaging/build-deb.sh "$DEB" "$DEBVER" >"$OUT/deb.log" 2>&1
debs=
for p in flakeid-dkms_"$DEBVER"_all libflakeid1_"$DEBVER"_amd64 libflakeid-dev_"$DEBVER"_amd64 flakeid_"$DEBVER"_amd64 \
	flakeid-agent_"$DEBVER"_amd64; do
	if [ -e "$DEB/$p.deb" ]; then debs="$debs $DEB/$p.deb"; else note "missing $p.deb"; fi
done
check "dpkg-buildpackage -us -uc -b builds flakeid-dkms, libflakeid1, libflakeid-dev, flakeid, flakeid-agent ($DEBVER)" \
	'[ "$(echo $debs | wc -w)" = 5 ]'
if [ -z "$debs" ]; then
	sed 's/^/#   /' "$OUT/deb.log" | tail -n 20
	finish
fi

if command -v lintian >/dev/null; then
	lintian --tag-display-limit 0 -L '>=info' "$DEB"/*.changes >"$OUT/lintian.log" 2>&1
	check "lintian: no errors" '! grep -q "^E: " "$OUT/lintian.log"'
	note "lintian: $(grep -c '^W: ' "$OUT/lintian.log") warnings, $(grep -c '^I: ' "$OUT/lintian.log") info (in $OUT/lintian.log)"
else
	not_ok "lintian installed (scripts/install-deps.sh)"
fi

check "flakeid ships the udev rule, modprobe, modules-load, initramfs and systemd files, man pages, the state directory" \
	'c=$(dpkg-deb -c "$DEB/flakeid_${DEBVER}_amd64.deb");
	 for f in ./lib/udev/rules.d/60-flakeid.rules ./etc/modprobe.d/flakeid.conf \
		./lib/modprobe.d/flakeid-floor.conf ./usr/lib/modules-load.d/flakeid.conf \
		./lib/systemd/system/flakeid-floor.service ./lib/systemd/system/flakeid-floor-save.timer \
		./usr/share/initramfs-tools/hooks/flakeid ./var/lib/flakeid/ \
		./usr/sbin/flakeid-floor ./usr/bin/flakeid ./usr/share/man/man8/flakeid-floor.8.gz \
		./usr/share/man/man1/flakeid.1.gz; do
		echo "$c" | grep -q " $f\$" || { echo "# flakeid lacks $f"; exit 1; }
	 done'
check "flakeid-dkms depends on flakeid" \
	'dpkg-deb -f "$DEB/flakeid-dkms_${DEBVER}_all.deb" Depends | grep -Eq "(^|, )flakeid(,|$| )"'
check "flakeid-dkms carries /usr/src/flakeid-$VER, the version its maintainer scripts give DKMS" \
	'c=$(dpkg-deb -c "$DEB/flakeid-dkms_${DEBVER}_all.deb") &&
	 echo "$c" | grep -q " ./usr/src/flakeid-$VER/dkms.conf$" &&
	 ! echo "$c" | grep -q "/usr/src/flakeid-$DEBVER/" &&
	 d=$(mktemp -d) && dpkg-deb -e "$DEB/flakeid-dkms_${DEBVER}_all.deb" "$d" &&
	 grep -qx "DKMS_VERSION=$VER" "$d/postinst"; r=$?; rm -rf "$d"; exit $r'
check "libflakeid-dev puts the uapi header under /usr/include/flakeid, not /usr/include/linux" \
	'c=$(dpkg-deb -c "$DEB/libflakeid-dev_${DEBVER}_amd64.deb");
	 echo "$c" | grep -q " ./usr/include/flakeid/linux/flakeid.h$" && ! echo "$c" | grep -q "/usr/include/linux/"'
check "libflakeid1 ships a symbols file" \
	'dpkg-deb -I "$DEB/libflakeid1_${DEBVER}_amd64.deb" symbols | grep -q "^ flakeid_open@LIBFLAKEID_1.0 "'
AGDEB=$DEB/flakeid-agent_${DEBVER}_amd64.deb
check "flakeid-agent ships the daemon, its man page, its unit and /etc/flakeid/agent.conf" \
	'c=$(dpkg-deb -c "$AGDEB");
	 for f in ./usr/sbin/flakeid-agent ./usr/share/man/man8/flakeid-agent.8.gz \
		./lib/systemd/system/flakeid-agent.service ./etc/flakeid/agent.conf; do
		echo "$c" | grep -q " $f\$" || { echo "# flakeid-agent lacks $f"; exit 1; }
	 done'
check "flakeid-agent: /etc/flakeid/agent.conf is its one conffile" \
	'[ "$(dpkg-deb -I "$AGDEB" conffiles)" = /etc/flakeid/agent.conf ]'
check "flakeid-agent depends on flakeid" \
	'dpkg-deb -f "$AGDEB" Depends | grep -Eq "(^|, )flakeid(,|$| )"'
# The unit: after the module and the floor's restore, so the floor the agent
# writes is the last word; only with a config; and the packaged config,
# which names no endpoints, is skipped by its ExecCondition.
d=$OUT/agent-deb
rm -rf "$d"
mkdir -p "$d"
dpkg-deb -x "$AGDEB" "$d" 2>/dev/null
u=$d/lib/systemd/system/flakeid-agent.service
check "flakeid-agent.service starts after systemd-modules-load and flakeid-floor, only when /etc/flakeid/agent.conf exists" \
	'after=$(sed -n "s/^After=//p" "$u" | tr " " "\n");
	 echo "$after" | grep -qx systemd-modules-load.service && echo "$after" | grep -qx flakeid-floor.service &&
	 grep -qx "ConditionPathExists=/etc/flakeid/agent.conf" "$u"'
cond=$(sed -n "s/^ExecCondition=//p" "$u" 2>/dev/null | sed "s|/etc/flakeid/agent.conf|$d/etc/flakeid/agent.conf|")
printf 'endpoints = http://127.0.0.1:2379\n' >"$d/configured.conf"
cond2=$(sed -n "s/^ExecCondition=//p" "$u" 2>/dev/null | sed "s|/etc/flakeid/agent.conf|$d/configured.conf|")
check "flakeid-agent.service: its ExecCondition skips the packaged agent.conf and passes one that sets endpoints" \
	'[ -n "$cond" ] && ! $cond && $cond2'

# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $debs >"$OUT/apt-install.log" 2>&1
check "the five packages install on the host" \
	'for p in $PKGS; do dpkg-query -W -f="\${db:Status-Status}" $p | grep -qx installed || exit 1; done'
ko=$(ls "/lib/modules/$K/updates/dkms/flakeid.ko"* 2>/dev/null | head -n 1)
check "flakeid-dkms built and installed the module for $K (dkms flakeid/$VER)" \
	'[ -n "$ko" ] && modinfo -F vermagic "$ko" | grep -q "^$K " && dkms status -m flakeid -v "$VER" -k "$K" | grep -q ": installed"'
check "modprobe sees the install/remove hooks and the options" \
	'modprobe -n -v -S "$K" flakeid 2>&1 | grep -q "^install /usr/sbin/flakeid-floor load " &&
	 modprobe -n -v -S "$K" flakeid 2>&1 | grep -q "region_id=0 app_id=0 machine_id=0" &&
	 modprobe -c -S "$K" | grep -qx "remove flakeid /usr/sbin/flakeid-floor stop"'
if command -v systemd-analyze >/dev/null; then
	check "systemd-analyze verify accepts the installed units" \
		'systemd-analyze verify /lib/systemd/system/flakeid-floor.service \
			/lib/systemd/system/flakeid-floor-save.service \
			/lib/systemd/system/flakeid-floor-save.timer >"$OUT/verify.log" 2>&1 && ! grep -q . "$OUT/verify.log"'
fi
check "the installed flakeid and flakeid-floor run" \
	'flakeid --help >/dev/null 2>&1 && flakeid-floor show >/dev/null'
if command -v systemd-analyze >/dev/null; then
	check "systemd-analyze verify accepts the installed flakeid-agent unit" \
		'systemd-analyze verify /lib/systemd/system/flakeid-agent.service >"$OUT/verify-agent.log" 2>&1 &&
		 ! grep -q . "$OUT/verify-agent.log"'
fi
check "the installed /etc/flakeid/agent.conf: mode 0644, valid but for the endpoints it leaves to the operator" \
	'[ "$(stat -c %a /etc/flakeid/agent.conf)" = 644 ] &&
	 ! flakeid-agent check-config >/dev/null 2>"$OUT/agent-conf.err" && grep -q "no endpoints" "$OUT/agent-conf.err" &&
	 flakeid-agent -o endpoints=http://127.0.0.1:2379 check-config >/dev/null'
# Nothing started it (no state file): status must say so in one line and
# exit 1, with or without a configuration file.
check "flakeid-agent status with no agent running: exit 1, one clear line" \
	'mv /etc/flakeid/agent.conf "$OUT/agent.conf.saved";
	 flakeid-agent status >"$OUT/agent-status.out" 2>"$OUT/agent-status.err"; r=$?;
	 mv "$OUT/agent.conf.saved" /etc/flakeid/agent.conf;
	 [ $r = 1 ] && [ ! -s "$OUT/agent-status.out" ] && [ "$(grep -c . "$OUT/agent-status.err")" = 1 ] &&
	 grep -q "no status in /run/flakeid/agent.state (agent not running?)" "$OUT/agent-status.err"'
check "the state directory /var/lib/flakeid exists, mode 0755" \
	'[ "$(stat -c %a /var/lib/flakeid)" = 755 ]'
check "libflakeid-dev: examples/hello.c builds with pkg-config --cflags --libs flakeid" \
	'cc -Wall -Werror -o "$OUT/hello" examples/hello.c $(pkg-config --cflags --libs flakeid)'

# The initramfs: with flakeid listed as an initramfs module, the hook
# brings flakeid-floor along; without it, nothing is added.
if command -v mkinitramfs >/dev/null; then
	ird=$OUT/initramfs
	rm -rf "$ird"
	mkdir -p "$ird"
	cp -a /etc/initramfs-tools "$ird/conf"
	echo flakeid >>"$ird/conf/modules"
	mkinitramfs -d "$ird/conf" -o "$ird/with.img" "$K" >"$ird/log" 2>&1
	lsinitramfs "$ird/with.img" >"$ird/with.list" 2>>"$ird/log"
	check "initramfs with the flakeid module carries it and /usr/sbin/flakeid-floor" \
		'grep -q "flakeid\.ko" "$ird/with.list" && grep -qx "usr/sbin/flakeid-floor" "$ird/with.list" &&
		 grep -qx "usr/lib/modprobe.d/flakeid-floor.conf\|lib/modprobe.d/flakeid-floor.conf" "$ird/with.list"'
	rm -rf "$ird/conf"
	cp -a /etc/initramfs-tools "$ird/conf"
	mkinitramfs -d "$ird/conf" -o "$ird/without.img" "$K" >>"$ird/log" 2>&1
	lsinitramfs "$ird/without.img" >"$ird/without.list" 2>>"$ird/log"
	check "initramfs without the module: no flakeid-floor added" \
		'[ -s "$ird/without.list" ] && ! grep -q "flakeid-floor$\|flakeid\.ko" "$ird/without.list"'
	rm -f "$ird"/*.img
else
	not_ok "mkinitramfs installed (initramfs-tools)"
fi

clean_state
check "purging the packages removes the module again" \
	'[ ! -e "/lib/modules/$K/updates/dkms/flakeid.ko" ] && [ -z "$(dkms status -m flakeid)" ]'
check "purging flakeid-agent removes its conffile" '[ ! -e /etc/flakeid/agent.conf ]'

finish
