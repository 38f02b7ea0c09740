// SPDX-License-Identifier: MIT
// Device tests: run where /dev/flakeid exists (the QEMU guest of
// bindings/tests), skipped elsewhere.  Some take settings from the guest
// script: FLAKEID_TEST_LAYOUT and FLAKEID_TEST_EPOCH_MS (the module was
// loaded with that layout and epoch: decode parity with decode.tsv),
// FLAKEID_TEST_OVERFLOW=1 (the timestamp field is used up),
// FLAKEID_TEST_ABSENT=1 (the module is not loaded).

package flakeid

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func device(t *testing.T) *Generator {
	t.Helper()
	g, err := Open()
	if errors.Is(err, ErrNoDevice) {
		t.Skip("no /dev/flakeid")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

func sysfsRead(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(SysfsDir + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(string(b), "\n")
}

func sysfsWrite(t *testing.T, name, value string) {
	t.Helper()
	if err := os.WriteFile(SysfsDir+"/"+name, []byte(value+"\n"), 0o644); err != nil {
		t.Fatalf("write %s to %s: %v", value, name, err)
	}
}

func wantIncreasing(t *testing.T, ids []uint64, after uint64) {
	t.Helper()
	for i, id := range ids {
		if id <= after {
			t.Fatalf("ID %d is %d, not above %d", i, id, after)
		}
		after = id
	}
}

func TestDevice10000Distinct(t *testing.T) {
	g := device(t)
	ids := make([]uint64, 10000)
	for i := range ids {
		id, err := g.Generate()
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	// One file, one goroutine: strictly increasing, so all distinct.
	wantIncreasing(t, ids, 0)
}

func TestDeviceGoroutines100x1000(t *testing.T) {
	g := device(t)
	const workers, each = 100, 1000
	out := make([][]uint64, workers)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			ids := make([]uint64, each)
			for i := range ids {
				id, err := g.Generate()
				if err != nil {
					errs <- err
					return
				}
				ids[i] = id
			}
			out[w] = ids
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := make(map[uint64]struct{}, workers*each)
	for w, ids := range out {
		// Each goroutine's own IDs follow the kernel's order too.
		wantIncreasing(t, ids, 0)
		for _, id := range ids {
			if _, dup := seen[id]; dup {
				t.Fatalf("goroutine %d: duplicate ID %d", w, id)
			}
			seen[id] = struct{}{}
		}
	}
	if len(seen) != workers*each {
		t.Fatalf("%d distinct IDs, want %d", len(seen), workers*each)
	}
}

func TestDeviceBatch(t *testing.T) {
	g := device(t)
	first, err := g.Generate()
	if err != nil {
		t.Fatal(err)
	}
	last := first
	// One ioctl, then one split in two (more than BatchMax).
	for _, n := range []int{1, 1000, BatchMax + 3} {
		ids, err := g.GenerateBatch(n)
		if err != nil {
			t.Fatalf("GenerateBatch(%d): %v", n, err)
		}
		if len(ids) != n {
			t.Fatalf("GenerateBatch(%d) gave %d IDs", n, len(ids))
		}
		wantIncreasing(t, ids, last)
		last = ids[n-1]
	}
	if _, err := g.GenerateBatch(0); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("GenerateBatch(0): %v", err)
	}
}

func TestDeviceConfig(t *testing.T) {
	g := device(t)
	c, err := g.Config()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct{ file, got string }{
		{"layout", c.BitLayout.String()},
		{"epoch_ms", strconv.FormatInt(c.Epoch.UnixMilli(), 10)},
		{"region_id", strconv.Itoa(int(c.RegionID))},
		{"app_id", strconv.Itoa(int(c.AppID))},
		{"machine_id", strconv.Itoa(int(c.MachineID))},
		{"max_borrow_ms", strconv.Itoa(int(c.MaxBorrowMS))},
		{"generation", strconv.FormatUint(c.Generation, 10)},
	} {
		if want := sysfsRead(t, f.file); want != f.got {
			t.Errorf("%s: Config() %s, sysfs %s", f.file, f.got, want)
		}
	}
	if c.UntilMS != UntilNone {
		t.Errorf("UntilMS %d, want none", c.UntilMS)
	}
}

// Parts (the kernel's decode) and DecodeWith (ours) agree on fresh IDs,
// which carry the device's node ids and about the current time.
func TestDeviceDecodeParity(t *testing.T) {
	g := device(t)
	cfg, err := g.Config()
	if err != nil {
		t.Fatal(err)
	}
	ids, err := g.GenerateBatch(1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		k, err := g.Parts(id)
		if err != nil {
			t.Fatalf("Parts(%d): %v", id, err)
		}
		u, err := DecodeWith(cfg, id)
		if err != nil || k != u {
			t.Fatalf("ID %d: kernel %+v, DecodeWith %+v %v", id, k, u, err)
		}
		if k.RegionID != cfg.RegionID || k.AppID != cfg.AppID || k.MachineID != cfg.MachineID {
			t.Fatalf("ID %d: node ids %+v, config %+v", id, k, cfg)
		}
		if d := time.Since(k.Timestamp); d > time.Minute || d < -2*time.Minute {
			t.Fatalf("ID %d: timestamp %v is %v from now", id, k.Timestamp, d)
		}
		if g.Decode(id) != k {
			t.Fatalf("Decode(%d) differs from Parts", id)
		}
	}
}

func TestDeviceInvalidID(t *testing.T) {
	g := device(t)
	cfg, err := g.Config()
	if err != nil {
		t.Fatal(err)
	}
	total := cfg.BitLayout.total()
	if total == 64 {
		t.Skip("a 64-bit layout: every ID is valid")
	}
	for _, id := range []uint64{1 << total, ^uint64(0), 1 << 63} {
		_, err := g.Parts(id)
		if !errors.Is(err, ErrInvalidID) || !errors.Is(err, syscall.EINVAL) {
			t.Errorf("Parts(%d): %v, want ErrInvalidID", id, err)
		}
		if c := g.Decode(id); c != (Components{}) {
			t.Errorf("Decode(%d) = %+v, want zero", id, c)
		}
	}
}

func TestDeviceStats(t *testing.T) {
	g := device(t)
	before, err := g.ReadStats()
	if err != nil {
		t.Fatal(err)
	}
	ids, err := g.GenerateBatch(500)
	if err != nil {
		t.Fatal(err)
	}
	after, err := g.ReadStats()
	if err != nil {
		t.Fatal(err)
	}
	if after.IDsIssued < before.IDsIssued+500 {
		t.Errorf("ids_issued %d -> %d after 500 IDs", before.IDsIssued, after.IDsIssued)
	}
	if after.Generation != after.Config.Generation {
		t.Errorf("generation: sysfs %d, config %d", after.Generation, after.Config.Generation)
	}
	if after.UntilMS != UntilNone || after.UntilWaitMS == 0 {
		t.Errorf("ceiling: until_ms %d until_wait_ms %d", after.UntilMS, after.UntilWaitMS)
	}
	last, _ := DecodeWith(after.Config, ids[len(ids)-1])
	if after.CurrentSequence != last.Sequence || !after.LastTimestamp.Equal(last.Timestamp) {
		t.Errorf("last ID: stats %d %v, want %d %v", after.CurrentSequence, after.LastTimestamp, last.Sequence, last.Timestamp)
	}
	if s := g.Stats(); s.IDsIssued < after.IDsIssued {
		t.Errorf("Stats() ids_issued %d < %d", s.IDsIssued, after.IDsIssued)
	}
}

func TestDeviceOpenConfig(t *testing.T) {
	g := device(t)
	c, err := g.Config()
	if err != nil {
		t.Fatal(err)
	}
	want := NewConfig(uint16(c.RegionID), uint8(c.AppID), uint8(c.MachineID)).
		WithEpoch(c.Epoch).WithBitLayout(c.BitLayout)
	g2, err := OpenConfig(*want)
	if err != nil {
		t.Fatalf("OpenConfig(the device's own): %v", err)
	}
	g2.Close()
	other := *want
	other.MachineID++
	if _, err := OpenConfig(other); !errors.Is(err, ErrConfigMismatch) {
		t.Errorf("OpenConfig(machine %d): %v, want ErrConfigMismatch", other.MachineID, err)
	}
	g3, err := OpenConfig(*other.WithAutoMachineID())
	if err != nil {
		t.Errorf("OpenConfig(auto machine id): %v", err)
	} else {
		g3.Close()
	}
	other = *want
	other.Epoch = other.Epoch.Add(time.Millisecond)
	if _, err := OpenConfig(other); !errors.Is(err, ErrConfigMismatch) {
		t.Errorf("OpenConfig(epoch + 1 ms): %v, want ErrConfigMismatch", err)
	}
}

// Fence the device (until_ms 0): every call fails with ErrFenced, which
// is EKEYEXPIRED; then the old ceiling again, and IDs again.
func TestDeviceFenced(t *testing.T) {
	g := device(t)
	if os.Getuid() != 0 {
		t.Skip("fencing needs root")
	}
	old := sysfsRead(t, "until_ms")
	sysfsWrite(t, "until_ms", "0")
	defer sysfsWrite(t, "until_ms", old)
	before, _ := g.ReadStats()
	if _, err := g.Generate(); !errors.Is(err, ErrFenced) || !errors.Is(err, syscall.EKEYEXPIRED) {
		t.Errorf("Generate when fenced: %v, want ErrFenced", err)
	}
	if ids, err := g.GenerateBatch(10); !errors.Is(err, ErrFenced) || ids != nil {
		t.Errorf("GenerateBatch when fenced: %v %v, want ErrFenced", ids, err)
	}
	s, err := g.ReadStats()
	if err != nil {
		t.Fatal(err)
	}
	if s.UntilMS != UntilFenced || s.Config.UntilMS != UntilFenced {
		t.Errorf("until_ms %d / config %d, want 0", s.UntilMS, s.Config.UntilMS)
	}
	if s.UntilRefused < before.UntilRefused+2 {
		t.Errorf("until_refused %d -> %d", before.UntilRefused, s.UntilRefused)
	}
	sysfsWrite(t, "until_ms", old)
	if _, err := g.Generate(); err != nil {
		t.Errorf("Generate after the fence is lifted: %v", err)
	}
}

// The guest loads the module with the layout and epoch of a group of
// decode.tsv rows and runs this test alone.
func TestDeviceDecodeVectors(t *testing.T) {
	layout, epoch := os.Getenv("FLAKEID_TEST_LAYOUT"), os.Getenv("FLAKEID_TEST_EPOCH_MS")
	if layout == "" || epoch == "" {
		t.Skip("FLAKEID_TEST_LAYOUT and FLAKEID_TEST_EPOCH_MS not set")
	}
	g := device(t)
	cfg, err := g.Config()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BitLayout.String() != layout || strconv.FormatInt(cfg.Epoch.UnixMilli(), 10) != epoch {
		t.Fatalf("device has %s epoch %d, want %s epoch %s", cfg.BitLayout, cfg.Epoch.UnixMilli(), layout, epoch)
	}
	n := 0
	for _, v := range loadVectors(t) {
		if v.layout != layout || strconv.FormatUint(v.epochMS, 10) != epoch {
			continue
		}
		n++
		got, err := g.Parts(v.id)
		checkVector(t, v, "FLAKEID_IOC_DECODE", got, err)
		own, err := DecodeWith(vectorConfig(t, v), v.id)
		checkVector(t, v, "DecodeWith", own, err)
	}
	if n == 0 {
		t.Fatalf("no vector for %s epoch %s", layout, epoch)
	}
	t.Logf("%d vectors under %s epoch %s", n, layout, epoch)
}

func TestDeviceOverflow(t *testing.T) {
	if os.Getenv("FLAKEID_TEST_OVERFLOW") != "1" {
		t.Skip("FLAKEID_TEST_OVERFLOW not set")
	}
	g := device(t)
	if _, err := g.Generate(); !errors.Is(err, ErrOverflow) || !errors.Is(err, syscall.EOVERFLOW) {
		t.Errorf("Generate with the timestamp used up: %v, want ErrOverflow", err)
	}
	if _, err := g.GenerateBatch(5); !errors.Is(err, ErrOverflow) {
		t.Errorf("GenerateBatch with the timestamp used up: %v, want ErrOverflow", err)
	}
}

func TestDeviceAbsent(t *testing.T) {
	if os.Getenv("FLAKEID_TEST_ABSENT") != "1" {
		t.Skip("FLAKEID_TEST_ABSENT not set")
	}
	g, err := Open()
	if g != nil || !errors.Is(err, ErrNoDevice) || !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("Open() with the module unloaded: %v, %v; want ErrNoDevice", g, err)
	}
	if _, err := OpenConfig(*NewConfig(0, 0, 0)); !errors.Is(err, ErrNoDevice) {
		t.Errorf("OpenConfig with the module unloaded: %v, want ErrNoDevice", err)
	}
}
