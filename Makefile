# SPDX-License-Identifier: GPL-2.0
# Top-level driver: builds the module, the library and the tests, runs the
# lint and the guest test suite.  `make module KERNELRELEASE=<ver>` builds
# for another kernel; DKMS runs Kbuild directly (dkms.conf).

ifneq ($(KERNELRELEASE),)
ifneq ($(M),)
# Invoked by Kbuild itself: the Kbuild file describes the module.
include $(src)/Kbuild
endif
endif

# The Debian kernel the module targets: the newest generic (non-rt) one with
# both headers and an image, never the host's running kernel (it cannot load
# modules).  Same rule as flakeid_newest_krel in scripts/host-lib.sh.
KERNELRELEASE ?= $(shell ls -1 /lib/modules 2>/dev/null | while read v; do \
	[ -e /lib/modules/$$v/build/Makefile ] && [ -e /boot/vmlinuz-$$v ] && \
	echo $$v; done | grep -v -e -rt- | sort -V | tail -n 1)
KDIR ?= /lib/modules/$(KERNELRELEASE)/build
export KERNELRELEASE KDIR

Q ?= @

.PHONY: all module clean lint checkpatch sparse w1 userspace tests check demo deps \
	agent check-agent check-fleet fleet demo-fleet

all: module userspace agent

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	$(MAKE) -C userspace clean
	$(MAKE) -C tests clean
	$(MAKE) -C agent clean
	rm -rf build

lint: checkpatch sparse w1

checkpatch:
	$(Q)scripts/checkpatch.sh

sparse:
	$(Q)scripts/kbuild-check.sh sparse

w1:
	$(Q)scripts/kbuild-check.sh w1

userspace:
	$(MAKE) -C userspace

tests:
	$(MAKE) -C tests

# flakeid-agent: leases the node id from etcd (agent/, flakeid-agent(8)).
agent:
	$(MAKE) -C agent

# Its host tests: a real 3-member etcd on 127.0.0.1-3, a hostile fake one.
check-agent:
	$(Q)$(MAKE) -C agent check

# Three QEMU guests with the module and the agent lease node ids from a
# 3-member etcd on the host; one loses its link, one is paused, past the
# TTL: both fence, their ids move; clock steps, a stopped and a killed
# agent, a restore, a clone; no ID is issued twice (agent/tests/fleet/run.sh).
# `make check-fleet` is the shorter run `make check` does.
check-fleet: module
	$(Q)$(MAKE) -C agent
	$(Q)FLEET_SIZE=check agent/tests/fleet/run.sh

fleet: module
	$(Q)$(MAKE) -C agent
	$(Q)agent/tests/fleet/run.sh

# The same run, with each guest's timeline of states printed at the end.
demo-fleet: module
	$(Q)$(MAKE) -C agent
	$(Q)FLEET_DEMO=1 agent/tests/fleet/run.sh

# Everything: lint, host tests, the guest suite; ends with "N passed, N failed".
check:
	$(Q)tests/check.sh

# Boot a guest, load the module, issue and decode IDs.
demo:
	$(Q)tests/demo/run.sh

# Install the Debian packages the build and the tests need.
deps:
	$(Q)scripts/install-deps.sh

# Packaging
# DKMS from this checkout, the Debian packages, and their tests (TAP).
# `make dkms-install KERNELRELEASE=<ver>` picks another installed kernel.
.PHONY: dkms-install dkms-remove deb check-packaging

dkms-install:
	$(Q)packaging/dkms.sh install $(KERNELRELEASE) $(KDIR)

dkms-remove:
	$(Q)packaging/dkms.sh remove

# flakeid-dkms, libflakeid1, libflakeid-dev, flakeid, flakeid-agent into build/deb/.
deb:
	$(Q)packaging/build-deb.sh build/deb

# Host and guest packaging tests; TAP lines, then "N passed, N failed".
check-packaging:
	$(Q)tests/packaging/run.sh

# Benchmarks (bench/README.md)
# `make bench`: the full run in an 8-vCPU guest; every output into
# build/bench/results/, the summary and the plots also into bench/results/.
# `make bench-smoke`: a few seconds of every mode, TAP lines,
# fails on errors only (never on timing).
.PHONY: bench bench-smoke bench-bin

bench-bin: module
	$(Q)$(MAKE) -C bench

bench: bench-bin
	$(Q)bench/run.sh

bench-smoke: bench-bin
	$(Q)bench/run.sh --smoke

# Kernels, fuzzing, soak
# `make kernels` builds and fetches the test kernels (cached under
# /var/cache/flakeid-kernels); `make check-kernels` runs the guest suite on
# each (KERNELS="stock rt debug kcsan" by default); `make fuzz` fuzzes the
# device on the debug kernel (FUZZ_SECS per fuzzer run); `make soak` issues
# SOAK_IDS IDs (default 10^8) under reloads, clock steps and CPU hotplug.
.PHONY: kernels check-kernels fuzz soak soak-selftest

KERNELS ?= stock rt debug kcsan
FUZZ_SECS ?= 120
SOAK_IDS ?= 100000000

kernels:
	$(Q)tests/kernels/build-kernel.sh debug >/dev/null
	$(Q)tests/kernels/build-kernel.sh kcsan >/dev/null
	$(Q)tests/kernels/debian-kernel.sh linux-image-rt-amd64 >/dev/null

check-kernels:
	$(Q)tests/kernels/run.sh $(KERNELS)

fuzz:
	$(Q)tests/fuzz/run.sh --secs $(FUZZ_SECS) --trinity-secs $(FUZZ_SECS)

soak:
	$(Q)tests/soak/run.sh --ids $(SOAK_IDS)

# A short soak with a duplicate and a stray ID planted: passes only if both
# are found.
soak-selftest:
	$(Q)tests/soak/run.sh --ids 1000000 --secs 120 --selftest

# Language bindings (bindings/): each binding's host tests, then one guest
# running every binding's device tests (bindings/tests/run.sh, which says
# how to add a binding).  TAP lines; exits 1 on a failure.
.PHONY: check-bindings

check-bindings: module
	$(Q)bindings/tests/run.sh

# VM restore and clone
# A running guest (QEMU, -device vmgenid) saved to a file, restored once and
# cloned twice: each copy fences itself, then issues again under a new
# floor or machine_id, and no ID appears twice; savevm/loadvm in one QEMU
# process is the negative control.  TAP lines, then "N passed, N failed".
# VMFORK_KERNEL=NAME runs it on another test kernel (tests/kernels/); it
# skips on one without CONFIG_VMGENID, such as the debug kernel.
.PHONY: check-vmfork

VMFORK_KERNEL ?= stock

check-vmfork: module
	$(Q)$(MAKE) --no-print-directory -s -C tests guest-install
	$(Q)tests/vmfork/run.sh --kernel $(VMFORK_KERNEL)
