// SPDX-License-Identifier: MIT
// The configuration: what FLAKEID_IOC_CONFIG reports, in the Go Snowflake
// library's shape (NewConfig, WithEpoch, WithBitLayout), and OpenConfig,
// which opens the device and checks it is configured as a program expects.

package flakeid

import (
	"syscall"
	"time"
)

// The device's defaults (the module's parameters when none are given).
const (
	DefaultEpochMS       = 1704067200000 // 2024-01-01T00:00:00Z
	DefaultTimestampBits = 41
	DefaultRegionBits    = 4
	DefaultAppBits       = 3
	DefaultMachineBits   = 5
	DefaultSequenceBits  = 10
)

// BitLayout is the width of each field, high bits to low: timestamp,
// region, app, machine, sequence.  The device accepts widths that sum to at
// most 64 with a timestamp of at least 32 bits and a sequence of at least 1.
type BitLayout struct {
	TimestampBits uint8
	RegionBits    uint8
	AppBits       uint8
	MachineBits   uint8
	SequenceBits  uint8
}

// DefaultBitLayout returns the device's default layout, 41:4:3:5:10 (63
// bits: IDs stay positive as int64).
func DefaultBitLayout() BitLayout {
	return BitLayout{DefaultTimestampBits, DefaultRegionBits, DefaultAppBits,
		DefaultMachineBits, DefaultSequenceBits}
}

func (b BitLayout) total() uint {
	return uint(b.TimestampBits) + uint(b.RegionBits) + uint(b.AppBits) +
		uint(b.MachineBits) + uint(b.SequenceBits)
}

// Validate returns ErrInvalidLayout unless the device would accept b.
func (b BitLayout) Validate() error {
	if b.total() > 64 || b.TimestampBits < 32 || b.SequenceBits < 1 {
		return &Error{Op: "layout", Path: b.String(), Errno: syscall.EINVAL, Err: ErrInvalidLayout}
	}
	return nil
}

// String returns the layout as the module's layout parameter spells it,
// "T:R:A:M:S".
func (b BitLayout) String() string {
	return utoa(uint64(b.TimestampBits)) + ":" + utoa(uint64(b.RegionBits)) + ":" +
		utoa(uint64(b.AppBits)) + ":" + utoa(uint64(b.MachineBits)) + ":" +
		utoa(uint64(b.SequenceBits))
}

// ParseBitLayout reads "T:R:A:M:S" and validates it.
func ParseBitLayout(s string) (BitLayout, error) {
	var f [5]uint8
	bad := &Error{Op: "layout", Path: s, Errno: syscall.EINVAL, Err: ErrInvalidLayout}
	for i := range f {
		j := 0
		for j < len(s) && s[j] != ':' {
			j++
		}
		if (i < 4) != (j < len(s)) {
			return BitLayout{}, bad
		}
		v, ok := atou(s[:j], 255)
		if !ok {
			return BitLayout{}, bad
		}
		f[i] = uint8(v)
		if j < len(s) {
			s = s[j+1:]
		}
	}
	b := BitLayout{f[0], f[1], f[2], f[3], f[4]}
	return b, b.Validate()
}

// Config is a configuration of the device: the node ids, the epoch and the
// layout, with the field names of the Go Snowflake library, and what only
// the device knows (Generator.Config fills those).
type Config struct {
	RegionID  uint32
	AppID     uint32
	MachineID uint32
	Epoch     time.Time // the time timestamp 0 stands for
	BitLayout BitLayout

	MaxBorrowMS uint32 // how far ahead of the clock IDs may be borrowed
	FloorMS     uint64 // a Unix ms at or after every timestamp issued so far
	Generation  uint64 // counts accepted configuration changes
	UntilMS     uint64 // the ceiling: UntilNone, UntilFenced or a Unix ms
	VMForks     uint64 // VM restores and clones the module saw

	autoMachine bool
}

// NewConfig describes the configuration a program expects the device to
// have: these node ids, the device's default epoch and layout.  The
// argument types are the Go Snowflake library's.  Only OpenConfig and
// DecodeWith use a Config: the device's own configuration is root's to
// set (modprobe flakeid region_id=R app_id=A machine_id=M).
func NewConfig(regionID uint16, appID, machineID uint8) *Config {
	return &Config{
		RegionID:  uint32(regionID),
		AppID:     uint32(appID),
		MachineID: uint32(machineID),
		Epoch:     unixMilli(DefaultEpochMS),
		BitLayout: DefaultBitLayout(),
	}
}

// WithEpoch sets the expected epoch.
func (c *Config) WithEpoch(epoch time.Time) *Config {
	c.Epoch = epoch
	return c
}

// WithBitLayout sets the expected layout.
func (c *Config) WithBitLayout(layout BitLayout) *Config {
	c.BitLayout = layout
	return c
}

// WithAutoMachineID accepts whatever machine id the device has: on a
// flakeid host the machine id is the host's (set by root or leased by
// flakeid-agent), not derived by each process.
func (c *Config) WithAutoMachineID() *Config {
	c.autoMachine = true
	return c
}

// epochMS is c.Epoch in Unix ms, or false before 1970.
func (c *Config) epochMS() (uint64, bool) {
	ms := c.Epoch.UnixMilli()
	return uint64(ms), ms >= 0
}

// OpenConfig opens /dev/flakeid and checks that the device issues IDs as
// cfg describes: the same region and app ids, the same machine id (unless
// cfg.WithAutoMachineID), the same epoch (to the millisecond) and layout.
// A difference is ErrConfigMismatch, naming the fields, and no Generator.
// It replaces the Go Snowflake library's NewGenerator(config).
func OpenConfig(cfg Config) (*Generator, error) {
	g, err := Open()
	if err != nil {
		return nil, err
	}
	dev, err := g.Config()
	if err != nil {
		g.Close()
		return nil, err
	}
	var diff string
	add := func(name string, want, have uint64) {
		if want != have {
			diff += " " + name + " " + utoa(want) + " (device: " + utoa(have) + ")"
		}
	}
	add("region_id", uint64(cfg.RegionID), uint64(dev.RegionID))
	add("app_id", uint64(cfg.AppID), uint64(dev.AppID))
	if !cfg.autoMachine {
		add("machine_id", uint64(cfg.MachineID), uint64(dev.MachineID))
	}
	want, _ := cfg.epochMS()
	have, _ := dev.epochMS()
	add("epoch_ms", want, have)
	if cfg.BitLayout != dev.BitLayout {
		diff += " layout " + cfg.BitLayout.String() + " (device: " + dev.BitLayout.String() + ")"
	}
	if diff != "" {
		g.Close()
		return nil, &mismatchError{diff}
	}
	return g, nil
}

type mismatchError struct{ diff string }

func (e *mismatchError) Error() string {
	return "flakeid: device configuration differs:" + e.diff
}

func (e *mismatchError) Unwrap() error { return ErrConfigMismatch }

// unixMilli is a Unix ms as a UTC time, for any uint64.
func unixMilli(ms uint64) time.Time {
	return time.Unix(int64(ms/1000), int64(ms%1000)*int64(time.Millisecond)).UTC()
}

func utoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}

// atou parses decimal digits up to max; no sign, no spaces.
func atou(s string, max uint64) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		d := uint64(s[i]) - '0'
		if d > 9 || v > (max-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}
