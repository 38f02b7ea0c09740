// SPDX-License-Identifier: MIT
// The kernel interface: the structs and ioctl numbers of
// <linux/flakeid.h>, spelled in Go.  Layouts match the header byte for
// byte (the tests compare sizes, offsets and numbers with a C compiler's).

package flakeid

import (
	"syscall"
	"unsafe"
)

// DevicePath is where the module's device node appears.
const DevicePath = "/dev/flakeid"

// SysfsDir holds the device's configuration and counter files.
const SysfsDir = "/sys/class/misc/flakeid"

// BatchMax is the most IDs one FLAKEID_IOC_BATCH call returns;
// GenerateBatch splits larger requests.
const BatchMax = 1 << 20

// UntilNone is Config.UntilMS when the device has no timestamp ceiling;
// UntilFenced (0) is a fenced device, which issues nothing.
const (
	UntilNone   = ^uint64(0)
	UntilFenced = 0
)

// The linux/ioctl.h encoding on x86, arm, arm64, riscv and s390:
// direction in bits 30-31, size in 16-29, type in 8-15, number in 0-7.
const (
	iocNrShift   = 0
	iocTypeShift = 8
	iocSizeShift = 16
	iocDirShift  = 30
	iocWrite     = 1
	iocRead      = 2
	iocType      = 0xB9
)

func iowr(nr, size uintptr) uintptr {
	return (iocRead|iocWrite)<<iocDirShift | size<<iocSizeShift |
		iocType<<iocTypeShift | nr<<iocNrShift
}

// struct flakeid_batch
type iocBatch struct {
	Size     uint32
	Flags    uint32
	Count    uint64
	IDs      uint64
	Reserved uint64
}

// struct flakeid_decode
type iocDecode struct {
	Size      uint32
	Flags     uint32
	ID        uint64
	UnixMS    uint64
	Timestamp uint64
	RegionID  uint32
	AppID     uint32
	MachineID uint32
	Sequence  uint32
	Reserved  uint64
}

// struct flakeid_config
type iocConfig struct {
	Size          uint32
	Flags         uint32
	EpochMS       uint64
	TimestampBits uint32
	RegionBits    uint32
	AppBits       uint32
	MachineBits   uint32
	SequenceBits  uint32
	RegionID      uint32
	AppID         uint32
	MachineID     uint32
	MaxBorrowMS   uint32
	Reserved0     uint32
	FloorMS       uint64
	Generation    uint64
	UntilMS       uint64
	VMForks       uint64
}

var (
	iocBatchNr  = iowr(0x01, unsafe.Sizeof(iocBatch{}))
	iocDecodeNr = iowr(0x02, unsafe.Sizeof(iocDecode{}))
	iocConfigNr = iowr(0x03, unsafe.Sizeof(iocConfig{}))
)

// ioctl retries on EINTR: every command here either completed nothing or
// reports what it did in its struct.
func ioctl(fd int, req uintptr, arg unsafe.Pointer) syscall.Errno {
	for {
		_, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
		if e != syscall.EINTR {
			return e
		}
	}
}
