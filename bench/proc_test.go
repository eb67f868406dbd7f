package bench

import (
	"encoding/binary"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

func requireLinux(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skipf("/proc is Linux-only; running on %s", runtime.GOOS)
	}
}

func TestReadProcSelf(t *testing.T) {
	requireLinux(t)
	before, err := ReadProc(os.Getpid())
	require_NoError(t, err)
	if before.RSS <= 0 || before.PeakRSS < before.RSS {
		t.Fatalf("RSS %d, PeakRSS %d; want RSS > 0 and PeakRSS >= RSS", before.RSS, before.PeakRSS)
	}
	// Burn CPU until the tick-granular counter moves; a few ticks at most.
	after := before
	x := uint64(1)
	for deadline := time.Now().Add(10 * time.Second); after.CPU <= before.CPU; {
		for i := 0; i < 1_000_000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
		if time.Now().After(deadline) {
			t.Fatalf("CPU time stayed at %v after 10s of spinning", after.CPU)
		}
		after, err = ReadProc(os.Getpid())
		require_NoError(t, err)
	}
	if after.CPU <= 0 {
		t.Fatalf("CPU = %v; want > 0", after.CPU)
	}
	if x == 0 {
		t.Log(x) // keep the loop
	}
}

func TestReadProcInvalid(t *testing.T) {
	requireLinux(t)
	f := func(pid int) {
		t.Helper()
		s, err := ReadProc(pid)
		if err == nil {
			t.Fatalf("ReadProc(%d) = %+v; want an error", pid, s)
		}
		require_Equal(t, s, ProcSample{})
	}
	f(0)
	f(-1)
	f(1 << 30) // above the kernel's PID_MAX_LIMIT (2^22)
}

func TestResetPeakRSS(t *testing.T) {
	requireLinux(t)
	if err := ResetPeakRSS(os.Getpid()); err != nil {
		t.Skipf("clear_refs not writable here: %v", err) // old kernels, locked-down /proc
	}
	s, err := ReadProc(os.Getpid())
	require_NoError(t, err)
	if s.PeakRSS < s.RSS || s.RSS <= 0 {
		t.Fatalf("after reset: RSS %d, PeakRSS %d", s.RSS, s.PeakRSS)
	}
	if err := ResetPeakRSS(-1); err == nil {
		t.Fatalf("ResetPeakRSS(-1) succeeded")
	}
}

func TestCPUPer10k(t *testing.T) {
	f := func(before, after time.Duration, deliveries int64, want float64) {
		t.Helper()
		require_Equal(t, CPUPer10k(ProcSample{CPU: before}, ProcSample{CPU: after}, deliveries), want)
	}
	f(0, 2*time.Second, 10_000, 2)
	f(time.Second, 3*time.Second, 40_000, 0.5)
	f(0, 500*time.Millisecond, 1_000, 5)
	f(0, time.Second, 0, 0)
	f(0, time.Second, -5, 0)
	f(2*time.Second, time.Second, 10_000, 0) // samples swapped or of another process
}

func TestParseStatTicks(t *testing.T) {
	f := func(stat string, want int64, wantErr string) {
		t.Helper()
		got, err := parseStatTicks([]byte(stat))
		if wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Fatalf("error %v; want one containing %q", err, wantErr)
			}
			return
		}
		require_NoError(t, err)
		require_Equal(t, got, want)
	}
	tail := " 0 0 0 0 0 0 0 0 0 0 0 20 0 1 0 100 1000 200"
	f("1234 (hookline) S 1 1234 1234 0 -1 4194560 5000 0 0 0 250 37"+tail+"\n", 287, "")
	f("1234 (a) b (c)) R 1 1 1 0 -1 0 0 0 0 0 7 8"+tail, 15, "") // name with ") " inside
	f("1234 (x y) S 1 1 1 0 -1 0 0 0 0 0 7", 0, "fields after the command name")
	f("1234 (x) S 1 1 1 0 -1 0 0 0 0 0 u 8", 0, "utime")
	f("1234 (x) S 1 1 1 0 -1 0 0 0 0 0 7 -", 0, "stime")
	f("garbage", 0, "no ')'")
}

func TestStatusBytes(t *testing.T) {
	status := "Name:\thookline\nVmPeak:\t 1000 kB\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\nVmRSSX:\t 9 kB\nThreads:\t12\nBad:\t1 MB\nEmpty:\n"
	f := func(key string, want int64, wantErr string) {
		t.Helper()
		got, err := statusBytes([]byte(status), key)
		if wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Fatalf("%s: error %v; want one containing %q", key, err, wantErr)
			}
			return
		}
		require_NoError(t, err)
		require_Equal(t, got, want)
	}
	f("VmRSS", 1024<<10, "")
	f("VmHWM", 2048<<10, "")
	f("Threads", 12, "")
	f("Vm", 0, "no Vm line")
	f("VmSwap", 0, "no VmSwap line")
	f("Bad", 0, "unexpected unit")
	f("Empty", 0, "no value")
	f("Name", 0, "cannot parse Name")
}

func TestClockTicks(t *testing.T) {
	f := func(words []uint64, size int, want int64) {
		t.Helper()
		b := make([]byte, 0, len(words)*size)
		for _, w := range words {
			if size == 4 {
				b = binary.NativeEndian.AppendUint32(b, uint32(w))
			} else {
				b = binary.NativeEndian.AppendUint64(b, w)
			}
		}
		require_Equal(t, auxvClockTicks(b, size), want)
	}
	f([]uint64{6, 4096, 17, 100, 0, 0}, 8, 100)
	f([]uint64{6, 4096, 17, 250, 0, 0}, 4, 250)
	f([]uint64{6, 4096, 0, 0, 17, 100}, 8, 0) // after AT_NULL
	f([]uint64{6, 4096}, 8, 0)
	f([]uint64{17, 0}, 8, 0)
	f(nil, 8, 0)

	require_Equal(t, ticksToDuration(250, 100), 2500*time.Millisecond)
	require_Equal(t, ticksToDuration(1, 1024), time.Second/1024)
	if runtime.GOOS == "linux" {
		if hz := clockTicks(); hz <= 0 || hz > 10000 {
			t.Fatalf("clockTicks() = %d", hz)
		}
	}
}
