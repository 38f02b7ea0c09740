// SPDX-License-Identifier: MIT
// Host tests: no device needed.  The shared decode vectors, the ioctl
// numbers and struct layouts against the C header, the error mapping.

package flakeid

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// vector is one row of bindings/testdata/decode.tsv.
type vector struct {
	line    int
	epochMS uint64
	layout  string
	id      uint64
	invalid bool
	want    Components
}

func tsvPath() string {
	if p := os.Getenv("FLAKEID_DECODE_TSV"); p != "" {
		return p
	}
	return filepath.Join("..", "testdata", "decode.tsv")
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	f, err := os.Open(tsvPath())
	if err != nil {
		t.Fatalf("decode vectors: %v (set FLAKEID_DECODE_TSV)", err)
	}
	defer f.Close()
	var vs []vector
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, "\t")
		u := func(s string) uint64 {
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				t.Fatalf("decode.tsv:%d: %q: %v", n, s, err)
			}
			return v
		}
		v := vector{line: n, layout: f[1]}
		switch {
		case len(f) == 4 && f[3] == "invalid":
			v.invalid = true
		case len(f) == 9:
			v.want = Components{
				UnixMS: u(f[3]), TimestampMS: u(f[4]),
				RegionID: uint32(u(f[5])), AppID: uint32(u(f[6])),
				MachineID: uint32(u(f[7])), Sequence: uint32(u(f[8])),
			}
		default:
			t.Fatalf("decode.tsv:%d: %d fields", n, len(f))
		}
		v.epochMS, v.id = u(f[0]), u(f[2])
		v.want.ID = v.id
		v.want.Timestamp = time.UnixMilli(int64(v.want.UnixMS)).UTC()
		vs = append(vs, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(vs) == 0 {
		t.Fatal("decode.tsv has no vectors")
	}
	return vs
}

func vectorConfig(t *testing.T, v vector) Config {
	l, err := ParseBitLayout(v.layout)
	if err != nil {
		t.Fatalf("decode.tsv:%d: layout %s: %v", v.line, v.layout, err)
	}
	return Config{Epoch: time.UnixMilli(int64(v.epochMS)), BitLayout: l}
}

// checkVector compares one decode with the row; what names the decoder.
func checkVector(t *testing.T, v vector, what string, got Components, err error) {
	t.Helper()
	if v.invalid {
		if !errors.Is(err, ErrInvalidID) || !errors.Is(err, syscall.EINVAL) {
			t.Errorf("decode.tsv:%d: %s(%d) under %s: err %v, want ErrInvalidID", v.line, what, v.id, v.layout, err)
		}
		return
	}
	if err != nil {
		t.Errorf("decode.tsv:%d: %s(%d) under %s: %v", v.line, what, v.id, v.layout, err)
		return
	}
	if got != v.want {
		t.Errorf("decode.tsv:%d: %s(%d) under %s epoch %d:\n got %+v\nwant %+v", v.line, what, v.id, v.layout, v.epochMS, got, v.want)
	}
}

func TestDecodeVectors(t *testing.T) {
	vs := loadVectors(t)
	for _, v := range vs {
		got, err := DecodeWith(vectorConfig(t, v), v.id)
		checkVector(t, v, "DecodeWith", got, err)
	}
	t.Logf("%d vectors", len(vs))
}

func TestDecodeWithErrors(t *testing.T) {
	cfg := *NewConfig(0, 0, 0)
	if _, err := DecodeWith(Config{Epoch: cfg.Epoch}, 1); !errors.Is(err, ErrInvalidLayout) {
		t.Errorf("zero layout: %v, want ErrInvalidLayout", err)
	}
	cfg.Epoch = time.UnixMilli(-1)
	if _, err := DecodeWith(cfg, 1); !errors.Is(err, syscall.ERANGE) {
		t.Errorf("epoch before 1970: %v, want ERANGE", err)
	}
	cfg.Epoch = time.Unix(0, 0)
	c, err := DecodeWith(cfg, 1<<62|5)
	if err != nil || c.Sequence != 5 || c.TimestampMS != 1<<40 {
		t.Errorf("decode 2^62|5: %+v %v", c, err)
	}
}

func TestBitLayout(t *testing.T) {
	for _, s := range []string{"41:4:3:5:10", "32:0:0:0:32", "63:0:0:0:1", "32:8:8:8:8"} {
		l, err := ParseBitLayout(s)
		if err != nil || l.String() != s {
			t.Errorf("ParseBitLayout(%q) = %v, %v", s, l, err)
		}
	}
	for _, s := range []string{"", "41:4:3:5", "41:4:3:5:10:1", "31:0:0:0:10", "41:4:3:5:0",
		"41:4:3:5:12", "a:4:3:5:10", "41:4:3:5:", "-1:4:3:5:10", "256:0:0:0:1", "41::3:5:10"} {
		if _, err := ParseBitLayout(s); !errors.Is(err, ErrInvalidLayout) {
			t.Errorf("ParseBitLayout(%q): %v, want ErrInvalidLayout", s, err)
		}
	}
	if DefaultBitLayout().String() != "41:4:3:5:10" {
		t.Errorf("default layout %s", DefaultBitLayout())
	}
}

// The numbers <linux/flakeid.h> gives, computed by hand from _IOWR.
func TestIoctlNumbers(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"FLAKEID_IOC_BATCH", iocBatchNr, 0xc020b901},
		{"FLAKEID_IOC_DECODE", iocDecodeNr, 0xc038b902},
		{"FLAKEID_IOC_CONFIG", iocConfigNr, 0xc058b903},
		{"sizeof(struct flakeid_batch)", unsafe.Sizeof(iocBatch{}), 32},
		{"sizeof(struct flakeid_decode)", unsafe.Sizeof(iocDecode{}), 56},
		{"sizeof(struct flakeid_config)", unsafe.Sizeof(iocConfig{}), 88},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
}

// The same numbers, sizes and every member's offset from a C compiler
// reading the header itself (FLAKEID_UAPI_DIR, default ../../uapi).
func TestIoctlNumbersC(t *testing.T) {
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler")
	}
	uapi := os.Getenv("FLAKEID_UAPI_DIR")
	if uapi == "" {
		uapi = filepath.Join("..", "..", "uapi")
	}
	if _, err := os.Stat(filepath.Join(uapi, "linux", "flakeid.h")); err != nil {
		t.Skipf("no header: %v", err)
	}
	var b iocBatch
	var d iocDecode
	var c iocConfig
	type item struct {
		expr string
		got  uintptr
	}
	items := []item{
		{"FLAKEID_IOC_BATCH", iocBatchNr},
		{"FLAKEID_IOC_DECODE", iocDecodeNr},
		{"FLAKEID_IOC_CONFIG", iocConfigNr},
		{"sizeof(struct flakeid_batch)", unsafe.Sizeof(b)},
		{"offsetof(struct flakeid_batch, flags)", unsafe.Offsetof(b.Flags)},
		{"offsetof(struct flakeid_batch, count)", unsafe.Offsetof(b.Count)},
		{"offsetof(struct flakeid_batch, ids)", unsafe.Offsetof(b.IDs)},
		{"offsetof(struct flakeid_batch, reserved)", unsafe.Offsetof(b.Reserved)},
		{"sizeof(struct flakeid_decode)", unsafe.Sizeof(d)},
		{"offsetof(struct flakeid_decode, id)", unsafe.Offsetof(d.ID)},
		{"offsetof(struct flakeid_decode, unix_ms)", unsafe.Offsetof(d.UnixMS)},
		{"offsetof(struct flakeid_decode, timestamp)", unsafe.Offsetof(d.Timestamp)},
		{"offsetof(struct flakeid_decode, region_id)", unsafe.Offsetof(d.RegionID)},
		{"offsetof(struct flakeid_decode, app_id)", unsafe.Offsetof(d.AppID)},
		{"offsetof(struct flakeid_decode, machine_id)", unsafe.Offsetof(d.MachineID)},
		{"offsetof(struct flakeid_decode, sequence)", unsafe.Offsetof(d.Sequence)},
		{"offsetof(struct flakeid_decode, reserved)", unsafe.Offsetof(d.Reserved)},
		{"sizeof(struct flakeid_config)", unsafe.Sizeof(c)},
		{"offsetof(struct flakeid_config, epoch_ms)", unsafe.Offsetof(c.EpochMS)},
		{"offsetof(struct flakeid_config, timestamp_bits)", unsafe.Offsetof(c.TimestampBits)},
		{"offsetof(struct flakeid_config, sequence_bits)", unsafe.Offsetof(c.SequenceBits)},
		{"offsetof(struct flakeid_config, region_id)", unsafe.Offsetof(c.RegionID)},
		{"offsetof(struct flakeid_config, machine_id)", unsafe.Offsetof(c.MachineID)},
		{"offsetof(struct flakeid_config, max_borrow_ms)", unsafe.Offsetof(c.MaxBorrowMS)},
		{"offsetof(struct flakeid_config, reserved0)", unsafe.Offsetof(c.Reserved0)},
		{"offsetof(struct flakeid_config, floor_ms)", unsafe.Offsetof(c.FloorMS)},
		{"offsetof(struct flakeid_config, generation)", unsafe.Offsetof(c.Generation)},
		{"offsetof(struct flakeid_config, until_ms)", unsafe.Offsetof(c.UntilMS)},
		{"offsetof(struct flakeid_config, vm_forks)", unsafe.Offsetof(c.VMForks)},
		{"FLAKEID_BATCH_MAX", BatchMax},
		{"FLAKEID_DEFAULT_EPOCH_MS", DefaultEpochMS},
		{"FLAKEID_UNTIL_NONE", uintptr(UntilNone)},
		{"FLAKEID_IOC_TYPE", iocType},
	}
	src := "#include <stdio.h>\n#include <stddef.h>\n#include <linux/flakeid.h>\nint main(void)\n{\n"
	for _, it := range items {
		src += "\tprintf(\"%llu\\n\", (unsigned long long)(" + it.expr + "));\n"
	}
	src += "\treturn 0;\n}\n"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "n.c"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(cc, "-I", uapi, "-o", filepath.Join(dir, "n"), filepath.Join(dir, "n.c")).CombinedOutput()
	if err != nil {
		t.Fatalf("cc: %v\n%s", err, out)
	}
	out, err = exec.Command(filepath.Join(dir, "n")).Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(out))
	if len(lines) != len(items) {
		t.Fatalf("%d values from C, want %d", len(lines), len(items))
	}
	for i, it := range items {
		if want, _ := strconv.ParseUint(lines[i], 10, 64); uint64(it.got) != want {
			t.Errorf("%s: Go %d, C %d", it.expr, it.got, want)
		}
	}
}

func TestErrorMapping(t *testing.T) {
	for _, c := range []struct {
		op    string
		errno syscall.Errno
		want  error
	}{
		{"open", syscall.ENOENT, ErrNoDevice},
		{"open", syscall.ENXIO, ErrNoDevice},
		{"open", syscall.ENODEV, ErrNoDevice},
		{"read", syscall.EKEYEXPIRED, ErrFenced},
		{"batch", syscall.EKEYEXPIRED, ErrFenced},
		{"read", syscall.EOVERFLOW, ErrOverflow},
		{"batch", syscall.EOVERFLOW, ErrOverflow},
		{"decode", syscall.EINVAL, ErrInvalidID},
		{"read", syscall.EBADF, ErrClosed},
		{"batch", syscall.EINVAL, nil},
		{"read", syscall.ENOENT, nil},
		{"read", syscall.EAGAIN, nil},
	} {
		err := newError(c.op, "/dev/flakeid", c.errno)
		if !errors.Is(err, c.errno) {
			t.Errorf("%s %v: errors.Is(err, errno) false", c.op, c.errno)
		}
		for _, s := range []error{ErrNoDevice, ErrFenced, ErrInvalidID, ErrOverflow, ErrClosed, ErrClockBackwards, ErrConfigMismatch} {
			if errors.Is(err, s) != (s == c.want) {
				t.Errorf("%s %v: errors.Is(err, %v) = %v", c.op, c.errno, s, !(s == c.want))
			}
		}
		var e *Error
		if !errors.As(err, &e) || e.Errno != c.errno || e.Op != c.op {
			t.Errorf("%s %v: errors.As gives %+v", c.op, c.errno, e)
		}
		if !strings.Contains(err.Error(), c.errno.Error()) {
			t.Errorf("%s %v: message %q", c.op, c.errno, err)
		}
	}
}

func TestOpenNoDevice(t *testing.T) {
	g, err := OpenPath("/nonexistent/flakeid")
	if g != nil || !errors.Is(err, ErrNoDevice) || !errors.Is(err, syscall.ENOENT) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("OpenPath(missing) = %v, %v; want ErrNoDevice", g, err)
	}
	t.Log(err)
}

// /dev/null stands in for the device: the calls after Close.
func TestClosed(t *testing.T) {
	g, err := OpenPath("/dev/null")
	if err != nil {
		t.Skip(err)
	}
	if _, err := g.Generate(); !errors.Is(err, syscall.EIO) {
		t.Errorf("Generate on /dev/null: %v, want EIO", err)
	}
	if _, err := g.GenerateBatch(0); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("GenerateBatch(0): %v, want EINVAL", err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				g.Generate()
			}
		}()
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := g.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := g.Generate(); !errors.Is(err, ErrClosed) {
		t.Errorf("Generate after Close: %v", err)
	}
	if _, err := g.GenerateBatch(3); !errors.Is(err, ErrClosed) {
		t.Errorf("GenerateBatch after Close: %v", err)
	}
	if _, err := g.Parts(1); !errors.Is(err, ErrClosed) {
		t.Errorf("Parts after Close: %v", err)
	}
	if _, err := g.Config(); !errors.Is(err, ErrClosed) {
		t.Errorf("Config after Close: %v", err)
	}
	if c := g.Decode(1); c != (Components{}) {
		t.Errorf("Decode after Close: %+v", c)
	}
}

func TestZeroGenerator(t *testing.T) {
	var g Generator
	if _, err := g.Generate(); !errors.Is(err, ErrClosed) {
		t.Errorf("Generate on a zero Generator: %v, want ErrClosed", err)
	}
	if err := g.Close(); err != nil {
		t.Errorf("Close on a zero Generator: %v", err)
	}
}

// A sysfs directory of our own: the parsing of every counter file.
func TestReadStatsFiles(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"ids_issued": "12\n", "clock_steps_back": "1\n", "borrowed_ms": "2\n",
		"waits": "3\n", "refills": "4\n", "ahead_ms": "-5\n", "generation": "6\n",
		"until_ms": "none\n", "until_wait_ms": "1000\n", "until_waits": "7\n",
		"until_refused": "8\n", "vm_forks": "9\n",
	}
	for k, v := range files {
		if err := os.WriteFile(filepath.Join(dir, k), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	g := &Generator{fd: -1, sysfs: dir}
	s := Stats{}
	var err error
	for _, f := range []struct {
		name string
		p    *uint64
	}{{"ids_issued", &s.IDsIssued}, {"vm_forks", &s.VMForks}, {"generation", &s.Generation}} {
		if *f.p, err = g.readUint(f.name); err != nil {
			t.Fatal(err)
		}
	}
	if s.IDsIssued != 12 || s.VMForks != 9 || s.Generation != 6 {
		t.Errorf("counters %+v", s)
	}
	if a, err := g.readInt("ahead_ms"); a != -5 || err != nil {
		t.Errorf("ahead_ms %d %v", a, err)
	}
	if u, _ := g.readAttr("until_ms"); u != "none" {
		t.Errorf("until_ms %q", u)
	}
	for _, bad := range []string{"", "x\n", "1 2\n", "18446744073709551616\n", "-1\n"} {
		os.WriteFile(filepath.Join(dir, "waits"), []byte(bad), 0o644)
		if _, err := g.readUint("waits"); !errors.Is(err, syscall.EPROTO) {
			t.Errorf("counter %q: %v, want EPROTO", bad, err)
		}
	}
	os.WriteFile(filepath.Join(dir, "ahead_ms"), []byte("-9223372036854775808\n"), 0o644)
	if a, err := g.readInt("ahead_ms"); a != -1<<63 || err != nil {
		t.Errorf("ahead_ms min: %d %v", a, err)
	}
	if _, err := g.readUint("nothere"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := g.ReadStats(); !errors.Is(err, ErrClosed) {
		t.Errorf("ReadStats on a closed generator: %v", err)
	}
}
