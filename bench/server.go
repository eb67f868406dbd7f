package bench

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// server is a hookline server the bench spawned: its own process, so the
// bench can read its CPU and memory from /proc and kill it for real.
type server struct {
	cmd     *exec.Cmd
	addr    string
	token   string
	dataDir string
	extra   []string // flags beyond the defaults, kept for a restart
	exited  chan struct{}

	mu   sync.Mutex
	tail []string // last lines of its log, for error messages
}

// startServer runs `bin serve` on a free loopback port with data in dataDir.
// Endpoints on 127.0.0.0/8 are allowed: the sink lives there.
func startServer(bin, dataDir, token string, extra []string) (*server, error) {
	return startServerWithin(bin, dataDir, token, extra, 30*time.Second)
}

// startServerWithin is startServer waiting up to within for the address:
// a cluster node reports it once a quorum of the nodes has formed.
func startServerWithin(bin, dataDir, token string, extra []string, within time.Duration) (*server, error) {
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--data", dataDir,
		"--admin-token", token, "--allow-net", "127.0.0.0/8"}, extra...)
	s := &server{cmd: exec.Command(bin, args...), token: token, dataDir: dataDir, extra: extra, exited: make(chan struct{})}
	s.cmd.Env = append(os.Environ(), "HOOKLINE_ADMIN_TOKEN=")
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start server %q: %w", bin, err)
	}
	addrCh := make(chan string, 1)
	go s.readLog(stderr, addrCh)
	go func() {
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	select {
	case s.addr = <-addrCh:
		return s, nil
	case <-s.exited:
		return nil, fmt.Errorf("server exited during start-up:\n%s", s.logTail())
	case <-time.After(within):
		s.kill()
		return nil, fmt.Errorf("server did not report its address within %s:\n%s", within, s.logTail())
	}
}

func (s *server) readLog(r io.Reader, addrCh chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sent := false
	for sc.Scan() {
		line := sc.Text()
		s.mu.Lock()
		s.tail = append(s.tail, line)
		if len(s.tail) > 20 {
			s.tail = s.tail[1:]
		}
		s.mu.Unlock()
		if i := strings.Index(line, "listen=http://"); i >= 0 && !sent {
			addrCh <- strings.Fields(line[i+len("listen=http://"):])[0]
			sent = true
		}
	}
}

func (s *server) logTail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.tail, "\n")
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// kill stops the server with SIGKILL: no shutdown work, as in a crash.
func (s *server) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "bench_" + base64.RawURLEncoding.EncodeToString(b)
}

func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}
