// SPDX-License-Identifier: MIT
// Stats: the device's counters from sysfs (the files libflakeid's
// flakeid_get_stats() reads), its configuration, and this Generator's
// last ID, in the Go Snowflake library's Stats shape.

package flakeid

import (
	"syscall"
	"time"
)

// Stats describe the device and this Generator.
type Stats struct {
	// Config is the device's configuration (FLAKEID_IOC_CONFIG).
	Config Config
	// CurrentSequence and LastTimestamp are the sequence and time of the
	// largest ID this Generator handed out (zero before the first).  The
	// device has no single current sequence: each CPU serves its own block.
	CurrentSequence uint32
	LastTimestamp   time.Time

	// The device's counters (/sys/class/misc/flakeid/).
	IDsIssued      uint64 // ids_issued
	ClockStepsBack uint64 // clock_steps_back: wall-clock steps back seen
	BorrowedMS     uint64 // borrowed_ms: ms borrowed ahead of the clock
	Waits          uint64 // waits: readers that slept for the clock
	Refills        uint64 // refills: per-CPU blocks refilled
	AheadMS        int64  // ahead_ms: ID clock minus wall clock
	Generation     uint64 // generation: configuration changes
	UntilMS        uint64 // until_ms: UntilNone, UntilFenced or a Unix ms
	UntilWaitMS    uint32 // until_wait_ms: a reader's wait at the ceiling
	UntilWaits     uint64 // until_waits: readers that waited at the ceiling
	UntilRefused   uint64 // until_refused: reads refused, fenced or wait over
	VMForks        uint64 // vm_forks: VM restores and clones seen
}

// ReadStats reads the counters and the configuration.  A module from
// before the ceiling has no until_ms file: then UntilMS is UntilNone and
// the ceiling's counters are zero, as in libflakeid.
func (g *Generator) ReadStats() (Stats, error) {
	var s Stats
	cfg, err := g.Config()
	if err != nil {
		return s, err
	}
	s.Config = cfg
	if last := g.last.Load(); last != 0 {
		if c, err := DecodeWith(cfg, last); err == nil {
			s.CurrentSequence = c.Sequence
			s.LastTimestamp = c.Timestamp
		}
	}
	u := []struct {
		name string
		p    *uint64
	}{
		{"ids_issued", &s.IDsIssued},
		{"clock_steps_back", &s.ClockStepsBack},
		{"borrowed_ms", &s.BorrowedMS},
		{"waits", &s.Waits},
		{"refills", &s.Refills},
		{"generation", &s.Generation},
	}
	for _, f := range u {
		if *f.p, err = g.readUint(f.name); err != nil {
			return s, err
		}
	}
	if s.AheadMS, err = g.readInt("ahead_ms"); err != nil {
		return s, err
	}
	text, err := g.readAttr("until_ms")
	if e, ok := err.(*Error); ok && e.Errno == syscall.ENOENT {
		s.UntilMS = UntilNone
		return s, nil
	}
	if err != nil {
		return s, err
	}
	if text == "none" {
		s.UntilMS = UntilNone
	} else if s.UntilMS, err = g.parseUint("until_ms", text); err != nil {
		return s, err
	}
	wait, err := g.readUint("until_wait_ms")
	if err != nil {
		return s, err
	}
	if wait > 1<<32-1 {
		return s, g.attrError("until_wait_ms", syscall.ERANGE)
	}
	s.UntilWaitMS = uint32(wait)
	for _, f := range []struct {
		name string
		p    *uint64
	}{
		{"until_waits", &s.UntilWaits},
		{"until_refused", &s.UntilRefused},
		{"vm_forks", &s.VMForks},
	} {
		if *f.p, err = g.readUint(f.name); err != nil {
			return s, err
		}
	}
	return s, nil
}

// Stats is ReadStats without the error, as the Go Snowflake library's
// Stats is: what could not be read stays zero.
func (g *Generator) Stats() Stats {
	s, _ := g.ReadStats()
	return s
}

func (g *Generator) attrError(name string, errno syscall.Errno) error {
	return newError("stats", g.sysfs+"/"+name, errno)
}

// readAttr returns a sysfs file's text without its newline.  A sysfs file
// holds at most a page: a longer one is EPROTO.
func (g *Generator) readAttr(name string) (string, error) {
	path := g.sysfs + "/" + name
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return "", g.attrError(name, err.(syscall.Errno))
	}
	defer syscall.Close(fd)
	buf := make([]byte, 4097)
	n := 0
	for n < len(buf) {
		r, err := syscall.Read(fd, buf[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return "", g.attrError(name, err.(syscall.Errno))
		}
		if r == 0 {
			break
		}
		n += r
	}
	if n == len(buf) {
		return "", g.attrError(name, syscall.EPROTO)
	}
	if n > 0 && buf[n-1] == '\n' {
		n--
	}
	return string(buf[:n]), nil
}

func (g *Generator) parseUint(name, text string) (uint64, error) {
	v, ok := atou(text, ^uint64(0))
	if !ok {
		return 0, g.attrError(name, syscall.EPROTO)
	}
	return v, nil
}

func (g *Generator) readUint(name string) (uint64, error) {
	text, err := g.readAttr(name)
	if err != nil {
		return 0, err
	}
	return g.parseUint(name, text)
}

func (g *Generator) readInt(name string) (int64, error) {
	text, err := g.readAttr(name)
	if err != nil {
		return 0, err
	}
	neg := len(text) > 0 && text[0] == '-'
	if neg {
		text = text[1:]
	}
	limit := uint64(1<<63 - 1)
	if neg {
		limit++
	}
	v, ok := atou(text, limit)
	if !ok {
		return 0, g.attrError(name, syscall.EPROTO)
	}
	if neg {
		return -int64(v-1) - 1, nil
	}
	return int64(v), nil
}
