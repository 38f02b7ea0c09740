// SPDX-License-Identifier: MIT
// Errors: sentinels to match with errors.Is, and the one error type that
// carries the errno the kernel returned.

package flakeid

import (
	"errors"
	"syscall"
)

var (
	// ErrNoDevice: /dev/flakeid is missing (ENOENT, ENXIO or ENODEV on
	// open): the module is not loaded.
	ErrNoDevice = errors.New("flakeid: no device, is the module loaded?")

	// ErrFenced: this host may not issue IDs now (EKEYEXPIRED).  The
	// device is fenced (until_ms is 0: set by an operator or a lease
	// agent, or by the module after a VM restore or clone), or the next
	// ID would carry a timestamp above the ceiling until_ms and it was not
	// raised within until_wait_ms.
	ErrFenced = errors.New("flakeid: device fenced or at its ceiling")

	// ErrInvalidID: the ID has bits set above the configured layout
	// (EINVAL from the decode ioctl, or from DecodeWith).
	ErrInvalidID = errors.New("flakeid: invalid ID for this layout")

	// ErrOverflow: the timestamp field is used up (EOVERFLOW): the ID
	// clock has passed epoch + 2^TimestampBits - 1 ms and nothing more
	// can be issued under this epoch and layout.
	ErrOverflow = errors.New("flakeid: timestamp field used up")

	// ErrClockBackwards is kept so that code written for the Go Snowflake
	// library still compiles.  The device never returns it: its ID clock
	// does not run back when the wall clock does.
	ErrClockBackwards = errors.New("flakeid: clock moved backwards")

	// ErrClosed: the Generator was closed.
	ErrClosed = errors.New("flakeid: generator closed")

	// ErrInvalidLayout: a BitLayout breaks the device's rules (widths sum
	// to at most 64, a timestamp of at least 32 bits, a sequence of at
	// least 1 bit).
	ErrInvalidLayout = errors.New("flakeid: invalid bit layout")

	// ErrConfigMismatch: OpenConfig found the device configured otherwise
	// than the Config it was given.
	ErrConfigMismatch = errors.New("flakeid: device configuration differs")
)

// Error is what every failing call returns: the operation, the errno the
// kernel (or the sysfs file) gave, and the sentinel that errno means for
// that operation.  errors.Is matches both the sentinel (ErrFenced) and the
// errno (syscall.EKEYEXPIRED); through the errno also os.ErrNotExist and
// friends.
type Error struct {
	Op    string        // "open", "read", "batch", "decode", "config", "stats"
	Path  string        // the file involved, when there is one
	Errno syscall.Errno // the kernel's answer
	Err   error         // the sentinel, or nil when the errno has none
}

// Error returns "flakeid: OP PATH: MESSAGE".
func (e *Error) Error() string {
	s := "flakeid: " + e.Op
	if e.Path != "" {
		s += " " + e.Path
	}
	s += ": " + e.Errno.Error()
	if e.Err != nil {
		s += " (" + e.Err.Error()[len("flakeid: "):] + ")"
	}
	return s
}

// Unwrap returns the errno, so errors.Is(err, syscall.EKEYEXPIRED) holds.
func (e *Error) Unwrap() error { return e.Errno }

// Is reports whether target is the sentinel this error stands for.
func (e *Error) Is(target error) bool { return e.Err != nil && target == e.Err }

// newError maps an errno to its sentinel for operation op.
func newError(op, path string, errno syscall.Errno) error {
	e := &Error{Op: op, Path: path, Errno: errno}
	switch errno {
	case syscall.EKEYEXPIRED:
		e.Err = ErrFenced
	case syscall.EOVERFLOW:
		e.Err = ErrOverflow
	case syscall.EBADF:
		e.Err = ErrClosed
	case syscall.ENOENT, syscall.ENXIO, syscall.ENODEV:
		if op == "open" {
			e.Err = ErrNoDevice
		}
	case syscall.EINVAL:
		if op == "decode" {
			e.Err = ErrInvalidID
		}
	}
	return e
}
