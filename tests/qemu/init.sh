#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# /init of the test guest's initramfs (see run-guest.sh).  Sets up a minimal
# busybox system, runs /main.sh with its output on the second serial port
# (the host's results file), writes the done token there, and reboots, which
# ends QEMU (-no-reboot).  Kernel messages stay on ttyS0, the console log.

# The archive carries only /bin/busybox: make the applet links first.
/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /tmp /run /root
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
export HOME=/root TMPDIR=/tmp TERM=dumb

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The kernel opened /dev/console before devtmpfs existed if the archive had
# no node for it; reopen so our messages reach the console either way.
exec </dev/console >/dev/console 2>&1
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs tmpfs /run
# Optional: debug kernels expose kmemleak and friends here.
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
hostname flakeid-guest
ip link set lo up 2>/dev/null
# run-guest.sh --guestfwd: the NIC's modules in order, then eth0 up.
if [ -f /net/order ]; then
	for m in $(cat /net/order); do
		for f in /net/"$m".ko*; do
			[ -e "$f" ] && insmod "$f"
		done
	done
	ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0
fi

echo "flakeid-guest: $(uname -r), $(nproc) CPUs, cmdline: $(cat /proc/cmdline)"

# Keep ttyS1 open for the whole run and turn off output processing, so the
# host gets the bytes as written (no \n -> \r\n) and nothing is lost between
# the script's exit and the token.
exec 3>/dev/ttyS1
stty -F /dev/ttyS1 raw -echo 2>/dev/null

rc=0
if [ -f /main.sh ]; then
	# stdin from /dev/null: no test may wait for input that never comes.
	sh /main.sh </dev/null >&3 2>&3 || rc=$?
else
	echo "flakeid-guest: /main.sh missing" >&3
	rc=127
fi

echo "FLAKEID-GUEST-DONE rc=$rc" >&3
echo "flakeid-guest: main.sh exited with $rc, rebooting"
sync
exec 3>&-
reboot -f
# reboot -f should not return; if it does, pid 1 exiting panics the guest,
# which with panic=-1 and -no-reboot ends QEMU just the same.
sleep 5
