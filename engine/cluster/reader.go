package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A node reads the log through one consumer of the stream at a time, a
// reader. A reader lives on one NATS server, which may die with its node,
// and JetStream places a new one on any server it believes alive, the
// dead one included until it notices. So readers are replaced rather
// than repaired: the watchdog makes a new one from the next record the
// applier needs, and from then on the applier takes records only from
// it. The old one is stopped in the background; the client library's
// ordered consumer, used before, repaired itself under a lock held
// through 10 s tries, and stopping it waited for them.

// delivery is one record a reader read.
type delivery struct {
	gen uint64 // the reader's generation; only the current one's count
	m   jetstream.Msg
}

// logReader is one consumer of the stream and its pull loop.
type logReader struct {
	gen  uint64
	name string // the consumer's, deleted when the reader is retired
	msgs jetstream.MessagesContext
}

// readerStall is how long the applier may stay behind the stream without
// applying anything before its reader is replaced.
const readerStall = 2 * time.Second

// openReader makes a reader of the stream from record from on: an
// ephemeral consumer in memory on one server, which JetStream removes a
// minute after no one reads it (a reader whose node died).
func (l *Log) openReader(ctx context.Context, from uint64) (*logReader, error) {
	cfg := jetstream.ConsumerConfig{
		DeliverPolicy:     jetstream.DeliverAllPolicy,
		AckPolicy:         jetstream.AckNonePolicy,
		MemoryStorage:     true,
		Replicas:          1,
		InactiveThreshold: time.Minute,
	}
	if from > 1 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from
	}
	cons, err := l.js.CreateConsumer(ctx, logStream, cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster: cannot read stream %s: %w", logStream, err)
	}
	name := cons.CachedInfo().Name
	// Short pulls with heartbeats: a reader whose server died says so
	// within a second instead of waiting out a long pull.
	msgs, err := cons.Messages(jetstream.PullExpiry(2*time.Second), jetstream.PullHeartbeat(500*time.Millisecond),
		jetstream.WithMessagesErrOnMissingHeartbeat(true))
	if err != nil {
		l.deleteConsumer(name)
		return nil, fmt.Errorf("cluster: cannot read stream %s: %w", logStream, err)
	}
	return &logReader{name: name, msgs: msgs}, nil
}

func (l *Log) deleteConsumer(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = l.js.DeleteConsumer(ctx, logStream, name)
}

// useReader makes r the reader the applier takes records from and
// retires the one before it.
func (l *Log) useReader(ctx context.Context, r *logReader) {
	l.readerMu.Lock()
	r.gen = l.gen.Add(1)
	old := l.rd
	l.rd = r
	l.readerMu.Unlock()
	go l.pump(ctx, r)
	if old != nil {
		go func() {
			old.msgs.Stop()
			l.deleteConsumer(old.name)
		}()
	}
}

// pump feeds r's records to the applier until r is stopped. An error
// (heartbeats missed: its server is gone or cut off) asks the watchdog
// for a new reader; r goes on meanwhile, in case it recovers first.
func (l *Log) pump(ctx context.Context, r *logReader) {
	for {
		m, err := r.msgs.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return
			}
			if r.gen == l.gen.Load() {
				l.o.Logf("cluster: reading the log: %v", err)
				l.askReplace(r.gen)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		select {
		case l.in <- delivery{gen: r.gen, m: m}:
		case <-ctx.Done():
			return
		}
	}
}

// askReplace asks the watchdog for a reader to replace generation gen.
func (l *Log) askReplace(gen uint64) {
	select {
	case l.replace <- gen:
	default:
	}
}

// watchReader replaces the reader when it asks to be, or when the
// applier is behind the stream and has not moved for readerStall.
func (l *Log) watchReader(ctx context.Context) {
	defer close(l.watchDone)
	t := time.NewTicker(readerStall / 4)
	defer t.Stop()
	last, since := l.applied.Load(), time.Now()
	failing, pending := false, false
	for {
		asked := pending
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case gen := <-l.replace:
			asked = asked || gen == l.gen.Load()
		}
		pending = false
		if a := l.applied.Load(); a != last {
			last, since = a, time.Now()
			if !asked {
				continue
			}
		}
		if !asked && time.Since(since) < readerStall {
			continue
		}
		// Behind the stream, or unable to ask (a stream without a leader
		// yet, which is also when readers stall): read again.
		ictx, cancel := context.WithTimeout(ctx, time.Second)
		info, err := l.js.Stream(ictx, logStream)
		cancel()
		if err == nil {
			st := info.CachedInfo().State
			if trimmed(st, last) {
				l.fail(fmt.Errorf("cluster: the log skips from record %d to %d: retention removed records this node never applied", last, st.FirstSeq))
				return
			}
			if !asked && st.LastSeq <= last {
				since = time.Now()
				continue
			}
		}
		octx, cancel := context.WithTimeout(ctx, 2*time.Second)
		r, err := l.openReader(octx, last+1)
		cancel()
		if err != nil {
			// Most likely no leader yet: try again at the next tick.
			if !failing {
				l.o.Logf("cluster: the log reader stalled at record %d and cannot be replaced yet: %v", last, err)
			}
			failing, pending = true, asked
			continue
		}
		failing = false
		l.o.Logf("cluster: the log reader stalled at record %d; reading again from %d", last, last+1)
		l.useReader(ctx, r)
		since = time.Now()
	}
}

// stopReader stops the current reader, for Close.
func (l *Log) stopReader() {
	l.readerMu.Lock()
	r := l.rd
	l.readerMu.Unlock()
	if r != nil {
		r.msgs.Stop()
		l.deleteConsumer(r.name)
	}
}
