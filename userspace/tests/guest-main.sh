# SPDX-License-Identifier: MIT
# A guest main script for running the userspace tests alone:
#   tests/qemu/run-guest.sh --main userspace/tests/guest-main.sh \
#       --out build/userspace-guest.out --log build/userspace-guest.log
# (after `make -C userspace guest-install` and a module build).
echo "== insmod /flakeid.ko"
insmod /flakeid.ko || exit 1
sh /userspace/guest.sh /userspace
rc=$?
rmmod flakeid || rc=1
exit $rc
