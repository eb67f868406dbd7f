package engine

import (
	"sync"
	"time"
)

// attemptTask is one attempt handed to an attempt worker.
type attemptTask struct {
	ln  *Lane
	cfg *laneConfig
	it  attemptItem
}

// attemptWorkers runs attempts on long-lived goroutines. A goroutine per
// attempt costs more than its start: its stack grows through the HTTP client
// and Pebble on every attempt, and the stack copying was 7% of the server's
// CPU under load. A worker keeps its grown stack for the next attempt.
//
// There is no fixed number of workers: a task goes to a worker only if one
// is idle and waiting, otherwise a new worker starts. So no lane ever waits
// for another lane's attempts; each lane's own max_in_flight is the only
// bound. Workers idle for idleTimeout exit.
type attemptWorkers struct {
	tasks chan attemptTask // unbuffered: a send succeeds only to an idle worker
}

const workerIdleTimeout = 10 * time.Second

func newAttemptWorkers() *attemptWorkers {
	return &attemptWorkers{tasks: make(chan attemptTask)}
}

func (p *attemptWorkers) run(t attemptTask) {
	select {
	case p.tasks <- t:
	default:
		go p.work(t)
	}
}

func (p *attemptWorkers) work(t attemptTask) {
	idle := time.NewTimer(workerIdleTimeout)
	defer idle.Stop()
	for {
		t.ln.attempt(t.cfg, t.it)
		t = attemptTask{} // do not pin the lane while idle
		idle.Reset(workerIdleTimeout)
		select {
		case t = <-p.tasks:
		case <-idle.C:
			return
		}
	}
}

// ticker runs a function every interval on its own goroutine until stop:
// the engine's periodic chores (pressure sampling, health flushing).
type ticker struct {
	stopCh   chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

func (t *ticker) start(every time.Duration, fn func()) {
	t.stopCh, t.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(t.done)
		tk := time.NewTicker(every)
		defer tk.Stop()
		for {
			select {
			case <-tk.C:
				fn()
			case <-t.stopCh:
				return
			}
		}
	}()
}

// stop returns once fn has returned for the last time; it may be called
// more than once.
func (t *ticker) stop() {
	t.stopOnce.Do(func() { close(t.stopCh) })
	<-t.done
}
