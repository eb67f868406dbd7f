package bench

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"os"
	"strconv"
	"time"
)

// ProcSample is what /proc says about a process at one moment.
type ProcSample struct {
	CPU     time.Duration // user+system time of all its threads (utime+stime)
	RSS     int64         // resident bytes now (VmRSS)
	PeakRSS int64         // peak resident bytes (VmHWM): since start, or since ResetPeakRSS
}

// ReadProc samples process pid from /proc/PID/stat and /proc/PID/status.
// CPU has the resolution of the kernel's clock tick (10ms at the usual
// USER_HZ of 100), so compare samples far enough apart. On error it returns
// a zero sample; a process that has exited (or is a zombie) is an error.
func ReadProc(pid int) (ProcSample, error) {
	if pid <= 0 {
		return ProcSample{}, fmt.Errorf("cannot sample process %d: not a process id", pid)
	}
	dir := "/proc/" + strconv.Itoa(pid)
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return ProcSample{}, fmt.Errorf("cannot read CPU time of process %d: %w", pid, err)
	}
	ticks, err := parseStatTicks(stat)
	if err != nil {
		return ProcSample{}, fmt.Errorf("cannot parse %s/stat: %w", dir, err)
	}
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return ProcSample{}, fmt.Errorf("cannot read memory use of process %d: %w", pid, err)
	}
	rss, err := statusBytes(status, "VmRSS")
	if err != nil {
		return ProcSample{}, fmt.Errorf("cannot parse %s/status: %w", dir, err)
	}
	peak, err := statusBytes(status, "VmHWM")
	if err != nil {
		return ProcSample{}, fmt.Errorf("cannot parse %s/status: %w", dir, err)
	}
	return ProcSample{CPU: ticksToDuration(ticks, clockTicks()), RSS: rss, PeakRSS: peak}, nil
}

// ResetPeakRSS restarts the VmHWM of process pid at its current RSS
// (writing "5" to /proc/PID/clear_refs, Linux 4.0+), so a server kept across
// scenarios can report each scenario's own peak. It needs the rights to
// ptrace pid: the same user, as for a server the bench started itself.
func ResetPeakRSS(pid int) error {
	if pid <= 0 {
		return fmt.Errorf("cannot reset peak RSS of process %d: not a process id", pid)
	}
	path := "/proc/" + strconv.Itoa(pid) + "/clear_refs"
	if err := os.WriteFile(path, []byte("5"), 0); err != nil {
		return fmt.Errorf("cannot reset peak RSS of process %d through %s: %w", pid, path, err)
	}
	return nil
}

// CPUPer10k returns CPU seconds spent per 10,000 deliveries between two
// samples of one process: 0 with no deliveries or when after is not later.
func CPUPer10k(before, after ProcSample, deliveries int64) float64 {
	cpu := after.CPU - before.CPU
	if deliveries <= 0 || cpu <= 0 {
		return 0
	}
	return cpu.Seconds() * 10000 / float64(deliveries)
}

// parseStatTicks returns utime+stime from the contents of /proc/PID/stat.
// The command name (field 2) is in parentheses and may itself hold spaces
// and parentheses, so fields are counted from the last ')'.
func parseStatTicks(stat []byte) (int64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("no ')' after the command name in %q", truncateForError(stat))
	}
	fields := bytes.Fields(stat[i+1:]) // fields[0] is field 3, state
	const utime, stime = 14 - 3, 15 - 3
	if len(fields) <= stime {
		return 0, fmt.Errorf("%d fields after the command name; want at least %d", len(fields), stime+1)
	}
	u, err := strconv.ParseInt(string(fields[utime]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cannot parse utime: %w", err)
	}
	s, err := strconv.ParseInt(string(fields[stime]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cannot parse stime: %w", err)
	}
	return u + s, nil
}

// statusBytes returns the value of a "Key:   123 kB" line of
// /proc/PID/status (or /proc/meminfo) in bytes.
func statusBytes(status []byte, key string) (int64, error) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte(key))
		if !ok || len(rest) == 0 || rest[0] != ':' {
			continue
		}
		f := bytes.Fields(rest[1:])
		if len(f) == 0 {
			return 0, fmt.Errorf("no value on line %q", bytes.TrimSpace(line))
		}
		n, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cannot parse %s: %w", key, err)
		}
		switch {
		case len(f) == 1:
			return n, nil
		case len(f) == 2 && string(f[1]) == "kB":
			return n << 10, nil
		default:
			return 0, fmt.Errorf("unexpected unit on line %q", bytes.TrimSpace(line))
		}
	}
	return 0, fmt.Errorf("no %s line", key)
}

// clockTicks returns the kernel's USER_HZ, the unit of utime and stime,
// from the AT_CLKTCK entry of /proc/self/auxv (where glibc's
// sysconf(_SC_CLK_TCK) gets it), or 100, the value on every mainstream
// Linux architecture, if that cannot be read.
func clockTicks() int64 {
	auxv, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 100
	}
	if hz := auxvClockTicks(auxv, bits.UintSize/8); hz > 0 {
		return hz
	}
	return 100
}

// auxvClockTicks finds AT_CLKTCK in auxv, pairs of native words; 0 if absent.
func auxvClockTicks(auxv []byte, word int) int64 {
	const atNull, atClkTck = 0, 17
	read := func(b []byte) uint64 {
		if word == 4 {
			return uint64(binary.NativeEndian.Uint32(b))
		}
		return binary.NativeEndian.Uint64(b)
	}
	for ; len(auxv) >= 2*word; auxv = auxv[2*word:] {
		switch read(auxv) {
		case atNull:
			return 0
		case atClkTck:
			if v := read(auxv[word:]); v > 0 && v < 1<<20 {
				return int64(v)
			}
			return 0
		}
	}
	return 0
}

func ticksToDuration(ticks, hz int64) time.Duration {
	sec, rem := ticks/hz, ticks%hz
	return time.Duration(sec)*time.Second + time.Duration(rem)*time.Second/time.Duration(hz)
}

func truncateForError(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// ReadMachineBusy returns the CPU time all CPUs of the machine have spent
// busy (user, nice, system, irq, softirq, steal) since boot, from the first
// line of /proc/stat. Compared with a process's CPU over the same span it
// says how much of the machine went to everything else.
func ReadMachineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("cannot read the machine's CPU time: %w", err)
	}
	ticks, err := parseMachineBusy(b)
	if err != nil {
		return 0, fmt.Errorf("cannot parse /proc/stat: %w", err)
	}
	return ticksToDuration(ticks, clockTicks()), nil
}

// parseMachineBusy sums the busy fields of the "cpu " line of /proc/stat:
// user nice system idle iowait irq softirq steal, idle and iowait left out.
func parseMachineBusy(stat []byte) (int64, error) {
	line, _, _ := bytes.Cut(stat, []byte{'\n'})
	rest, ok := bytes.CutPrefix(line, []byte("cpu "))
	if !ok {
		return 0, fmt.Errorf("first line %q is not the cpu total", truncateForError(line))
	}
	f := bytes.Fields(rest)
	if len(f) < 8 {
		return 0, fmt.Errorf("%d fields on the cpu line; want at least 8", len(f))
	}
	var busy int64
	for _, i := range []int{0, 1, 2, 5, 6, 7} {
		v, err := strconv.ParseInt(string(f[i]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cannot parse field %d of the cpu line: %w", i+1, err)
		}
		busy += v
	}
	return busy, nil
}
