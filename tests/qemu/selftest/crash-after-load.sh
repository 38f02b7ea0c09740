#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of tests/qemu/selftest.sh --boot: the kernel crashes once
# flakeid is loaded and a test has passed.  The runner must not retry.
insmod /flakeid.ko || exit 1
echo "ok - insmod"
echo c >/proc/sysrq-trigger
