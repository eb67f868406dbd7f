package bench

import (
	"bytes"
	"os"
	"runtime"
)

// Machine describes the box a bench ran on, for the JSON report: numbers
// from different machines are not comparable.
type Machine struct {
	Cores       int    `json:"cores"`
	MemoryBytes int64  `json:"memory_bytes"`
	CPUModel    string `json:"cpu_model"`
	GoVersion   string `json:"go_version"`
	OS          string `json:"os"`
	Arch        string `json:"arch"`
	Hostname    string `json:"hostname"`
}

// ReadMachine describes this machine. Cores is runtime.NumCPU (the CPUs this
// process may run on); MemoryBytes and CPUModel come from /proc/meminfo and
// /proc/cpuinfo and stay empty where those cannot be read. Neither reflects
// a cgroup (container) limit.
func ReadMachine() Machine {
	m := Machine{
		Cores:     runtime.NumCPU(),
		GoVersion: runtime.Version(),
		OS:        runtime.GOOS,
		Arch:      runtime.GOARCH,
	}
	m.Hostname, _ = os.Hostname()
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		m.MemoryBytes, _ = statusBytes(b, "MemTotal")
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPUModel = cpuModel(b)
	}
	return m
}

// cpuModel returns the first "model name" of /proc/cpuinfo, or on arm64,
// where there is none, "Hardware" or "Processor" if present.
func cpuModel(cpuinfo []byte) string {
	for _, key := range []string{"model name", "Hardware", "Processor"} {
		for line := range bytes.Lines(cpuinfo) {
			k, v, ok := bytes.Cut(line, []byte{':'})
			if ok && string(bytes.TrimSpace(k)) == key {
				if v = bytes.TrimSpace(v); len(v) > 0 {
					return string(v)
				}
			}
		}
	}
	return ""
}
