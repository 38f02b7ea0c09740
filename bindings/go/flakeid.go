// SPDX-License-Identifier: MIT

// Package flakeid hands out unique, time-ordered 64-bit IDs from the
// flakeid kernel module's /dev/flakeid.
//
// The configuration (region, app and machine ids, epoch, bit layout)
// belongs to the machine's device and is set by root; a program only
// opens the device and reads IDs:
//
//	g, err := flakeid.Open()
//	if err != nil {
//		return err // errors.Is(err, flakeid.ErrNoDevice): module not loaded
//	}
//	defer g.Close()
//	id, err := g.Generate()
//
// A Generator is safe for concurrent use by any number of goroutines: every
// call is one system call on a shared file descriptor, and the kernel
// serialises what needs it.  The IDs one Generator returns strictly
// increase in the order the kernel handed them out; across goroutines that
// order is the order the calls reached the kernel.
//
// Programs written for the Go Snowflake library (NewConfig, NewGenerator,
// Generate, GenerateBatch, Decode, Stats) compile against this package with
// the import path and the constructor changed (OpenConfig instead of
// NewGenerator): see MIGRATING.md.
//
// The package uses the standard library only and no cgo.
package flakeid

import (
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// Generator is an open /dev/flakeid.  Create one with Open, OpenPath or
// OpenConfig; it is safe for concurrent use.
type Generator struct {
	mu    sync.RWMutex // Close takes it for writing, every call for reading
	fd    int          // -1 once closed
	path  string       // "" in a zero Generator, which is closed
	sysfs string
	last  atomic.Uint64 // the largest ID handed out, for Stats
}

// Open opens /dev/flakeid.
func Open() (*Generator, error) {
	return OpenPath(DevicePath)
}

// OpenPath opens the flakeid device at path (a container may bind-mount it
// elsewhere).  A missing device is ErrNoDevice.
func OpenPath(path string) (*Generator, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, newError("open", path, err.(syscall.Errno))
	}
	return &Generator{fd: fd, path: path, sysfs: SysfsDir}, nil
}

// Close closes the device.  It waits for calls in progress to return;
// calls after it fail with ErrClosed.  Closing twice is not an error.
func (g *Generator) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fd < 0 || g.path == "" {
		return nil
	}
	err := syscall.Close(g.fd)
	g.fd = -1
	if err != nil {
		return newError("close", g.path, err.(syscall.Errno))
	}
	return nil
}

// acquire returns the open descriptor with the read lock held, or
// ErrClosed; release with g.mu.RUnlock.
func (g *Generator) acquire(op string) (int, error) {
	g.mu.RLock()
	// A zero Generator's fd is 0, stdin: never use it.
	if g.fd < 0 || g.path == "" {
		g.mu.RUnlock()
		return -1, newError(op, g.path, syscall.EBADF)
	}
	return g.fd, nil
}

func (g *Generator) noteLast(id uint64) {
	for {
		old := g.last.Load()
		if id <= old || g.last.CompareAndSwap(old, id) {
			return
		}
	}
}

// Generate returns one new ID (an 8-byte read of the device).  It blocks
// while the device waits for the clock (more IDs asked in one millisecond
// than the sequence field holds, beyond the borrow limit).  Errors:
// ErrFenced, ErrOverflow, ErrClosed.
func (g *Generator) Generate() (uint64, error) {
	fd, err := g.acquire("read")
	if err != nil {
		return 0, err
	}
	defer g.mu.RUnlock()
	var id uint64
	for {
		n, _, e := syscall.Syscall(syscall.SYS_READ, uintptr(fd),
			uintptr(unsafe.Pointer(&id)), 8)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return 0, newError("read", g.path, e)
		}
		if n != 8 {
			return 0, newError("read", g.path, syscall.EIO)
		}
		break
	}
	g.noteLast(id)
	return id, nil
}

// GenerateBatch returns n new IDs, strictly increasing, through
// FLAKEID_IOC_BATCH (BatchMax at a time).  n must be positive.  On an
// error no ID is returned: IDs of a call a VM restore cut in two are void.
func (g *Generator) GenerateBatch(n int) ([]uint64, error) {
	if n <= 0 {
		return nil, newError("batch", g.path, syscall.EINVAL)
	}
	fd, err := g.acquire("batch")
	if err != nil {
		return nil, err
	}
	defer g.mu.RUnlock()
	ids := make([]uint64, n)
	for done := 0; done < n; {
		want := n - done
		if want > BatchMax {
			want = BatchMax
		}
		b := iocBatch{
			Size:  uint32(unsafe.Sizeof(iocBatch{})),
			Count: uint64(want),
			IDs:   uint64(uintptr(unsafe.Pointer(&ids[done]))),
		}
		if e := ioctl(fd, iocBatchNr, unsafe.Pointer(&b)); e != 0 {
			return nil, newError("batch", g.path, e)
		}
		if b.Count == 0 || b.Count > uint64(want) {
			return nil, newError("batch", g.path, syscall.EIO)
		}
		done += int(b.Count)
	}
	g.noteLast(ids[n-1])
	return ids, nil
}

// Parts splits id into its fields with the device's current configuration
// (FLAKEID_IOC_DECODE).  An ID with bits above the layout is ErrInvalidID.
func (g *Generator) Parts(id uint64) (Components, error) {
	fd, err := g.acquire("decode")
	if err != nil {
		return Components{}, err
	}
	defer g.mu.RUnlock()
	d := iocDecode{Size: uint32(unsafe.Sizeof(iocDecode{})), ID: id}
	if e := ioctl(fd, iocDecodeNr, unsafe.Pointer(&d)); e != 0 {
		return Components{}, newError("decode", g.path, e)
	}
	return Components{
		ID:          id,
		Timestamp:   unixMilli(d.UnixMS),
		UnixMS:      d.UnixMS,
		TimestampMS: d.Timestamp,
		RegionID:    d.RegionID,
		AppID:       d.AppID,
		MachineID:   d.MachineID,
		Sequence:    d.Sequence,
	}, nil
}

// Decode is Parts without the error, as the Go Snowflake library's Decode
// is: an ID the device refuses (or a closed Generator) gives the zero
// Components.  Use Parts to see why.
func (g *Generator) Decode(id uint64) Components {
	c, _ := g.Parts(id)
	return c
}

// Config returns the device's configuration (FLAKEID_IOC_CONFIG).
func (g *Generator) Config() (Config, error) {
	fd, err := g.acquire("config")
	if err != nil {
		return Config{}, err
	}
	defer g.mu.RUnlock()
	c := iocConfig{Size: uint32(unsafe.Sizeof(iocConfig{}))}
	if e := ioctl(fd, iocConfigNr, unsafe.Pointer(&c)); e != 0 {
		return Config{}, newError("config", g.path, e)
	}
	return Config{
		RegionID:  c.RegionID,
		AppID:     c.AppID,
		MachineID: c.MachineID,
		Epoch:     unixMilli(c.EpochMS),
		BitLayout: BitLayout{
			TimestampBits: uint8(c.TimestampBits),
			RegionBits:    uint8(c.RegionBits),
			AppBits:       uint8(c.AppBits),
			MachineBits:   uint8(c.MachineBits),
			SequenceBits:  uint8(c.SequenceBits),
		},
		MaxBorrowMS: c.MaxBorrowMS,
		FloorMS:     c.FloorMS,
		Generation:  c.Generation,
		UntilMS:     c.UntilMS,
		VMForks:     c.VMForks,
	}, nil
}
