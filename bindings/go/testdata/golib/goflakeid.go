// SPDX-License-Identifier: MIT
// The exported API of the Go Snowflake library the examples come from
// (package goflakeid), as signatures only: check-host.sh builds each
// example's original version, its two migrated lines put back, against
// this, to show every other line is the Go library's code unchanged.
// Never linked into anything; testdata/ is outside the module's build.
package goflakeid

import (
	"errors"
	"time"
)

var (
	ErrInvalidBitLayout = errors.New("bit layout must sum to 64")
	ErrClockBackwards   = errors.New("clock moved backwards")
	ErrSequenceOverflow = errors.New("sequence overflow")
	ErrInvalidConfig    = errors.New("invalid configuration")
)

type BitLayout struct {
	TimestampBits uint8
	RegionBits    uint8
	AppBits       uint8
	MachineBits   uint8
	SequenceBits  uint8
}

func (b BitLayout) Validate() error { panic("signature only") }

func DefaultBitLayout() BitLayout { panic("signature only") }

type Config struct {
	RegionID     uint16
	AppID        uint8
	MachineID    uint8
	Epoch        time.Time
	BitLayout    BitLayout
	MachineIDGen func() uint8
}

func (c *Config) Validate() error { panic("signature only") }

func NewConfig(regionID uint16, appID, machineID uint8) *Config { panic("signature only") }

func (c *Config) WithEpoch(epoch time.Time) *Config { panic("signature only") }

func (c *Config) WithBitLayout(layout BitLayout) *Config { panic("signature only") }

func (c *Config) WithAutoMachineID() *Config { panic("signature only") }

type Generator struct{}

func NewGenerator(config Config) (*Generator, error) { panic("signature only") }

func (g *Generator) Generate() (uint64, error) { panic("signature only") }

func (g *Generator) GenerateBatch(count int) ([]uint64, error) { panic("signature only") }

type Components struct {
	Timestamp time.Time
	RegionID  uint16
	AppID     uint8
	MachineID uint8
	Sequence  uint16
}

func (g *Generator) Decode(id uint64) Components { panic("signature only") }

func DefaultMachineIDGenerator() uint8 { panic("signature only") }

func MachineIDFromIP(ip string) uint8 { panic("signature only") }

type Stats struct {
	Config          Config
	CurrentSequence uint16
	LastTimestamp   time.Time
}

func (g *Generator) Stats() Stats { panic("signature only") }
