#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of tests/qemu/selftest.sh --boot: the kernel crashes before
# flakeid is loaded and before any test ran, as an emulator crash at boot
# would.  The runner must boot once more, and fail when it crashes again.
echo "# crashing the kernel before loading flakeid"
echo c >/proc/sysrq-trigger
