// SPDX-License-Identifier: MIT
// Decoding an ID without the device: the same arithmetic as the kernel's
// FLAKEID_IOC_DECODE and libflakeid's flakeid_decode_with().

package flakeid

import (
	"syscall"
	"time"
)

// Components are the fields of an ID, with the Go Snowflake library's
// names (Timestamp, RegionID, AppID, MachineID, Sequence) and the raw
// values behind Timestamp.
type Components struct {
	ID          uint64
	Timestamp   time.Time // UnixMS as a UTC time
	UnixMS      uint64    // TimestampMS + epoch, ms since 1970-01-01 UTC
	TimestampMS uint64    // the timestamp field: ms since the epoch
	RegionID    uint32
	AppID       uint32
	MachineID   uint32
	Sequence    uint32
}

func mask(bits uint8) uint64 {
	if bits >= 64 {
		return ^uint64(0)
	}
	return 1<<bits - 1
}

// DecodeWith splits id under cfg's epoch and layout, without a device.  It
// agrees with the device: an ID with bits set above the layout is
// ErrInvalidID; an invalid layout is ErrInvalidLayout; an epoch before 1970,
// or one that with the timestamp passes 2^64 ms, is syscall.ERANGE.
func DecodeWith(cfg Config, id uint64) (Components, error) {
	l := cfg.BitLayout
	if err := l.Validate(); err != nil {
		return Components{}, err
	}
	if t := l.total(); t < 64 && id>>t != 0 {
		return Components{}, &Error{Op: "decode", Errno: syscall.EINVAL, Err: ErrInvalidID}
	}
	epoch, ok := cfg.epochMS()
	v := id
	c := Components{ID: id}
	c.Sequence = uint32(v & mask(l.SequenceBits))
	v >>= l.SequenceBits
	c.MachineID = uint32(v & mask(l.MachineBits))
	v >>= l.MachineBits
	c.AppID = uint32(v & mask(l.AppBits))
	v >>= l.AppBits
	c.RegionID = uint32(v & mask(l.RegionBits))
	v >>= l.RegionBits
	c.TimestampMS = v & mask(l.TimestampBits)
	c.UnixMS = c.TimestampMS + epoch
	if !ok || c.UnixMS < epoch {
		return Components{}, &Error{Op: "decode", Errno: syscall.ERANGE}
	}
	c.Timestamp = unixMilli(c.UnixMS)
	return c, nil
}
