# SPDX-License-Identifier: GPL-2.0
# Top-level driver: builds the module, the library and the tests, runs the
# lint and the guest test suite.  DKMS calls `make KERNELRELEASE=<ver>`.

ifneq ($(KERNELRELEASE),)
ifneq ($(M),)
# Invoked by Kbuild itself: the Kbuild file describes the module.
include $(src)/Kbuild
endif
endif

# The Debian kernel the module targets: the newest one with headers under
# /lib/modules, never the host's running kernel (it cannot load modules).
KERNELRELEASE ?= $(shell ls -1 /lib/modules 2>/dev/null | while read v; do \
	[ -e /lib/modules/$$v/build/Makefile ] && echo $$v; done | sort -V | tail -n 1)
KDIR ?= /lib/modules/$(KERNELRELEASE)/build
export KERNELRELEASE KDIR

Q ?= @

.PHONY: all module clean lint checkpatch sparse w1 userspace tests check demo deps

all: module userspace

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	$(MAKE) -C userspace clean
	$(MAKE) -C tests clean
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

# Everything: lint, host tests, the guest suite; ends with "N passed, N failed".
check:
	$(Q)scripts/check.sh

# Boot a guest, load the module, issue and decode IDs.
demo:
	$(Q)scripts/demo.sh

# Install the Debian packages the build and the tests need.
deps:
	$(Q)scripts/install-deps.sh
