package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// histMaxRelErr is the promised precision: half a bucket over its lower bound.
const histMaxRelErr = 1.0 / (2 * histSub)

func TestHistogramBuckets(t *testing.T) {
	// Every value falls in a bucket whose midpoint is within the promised
	// error, and indexes grow with values without gaps.
	prev := 0
	for _, v := range []int64{0, 1, 31, 32, 63, 64, 65, 127, 128, 1000, 1e6, 1e9, 60e9, histLimit - 1} {
		i := histBucket(v)
		if i < prev || i >= histBuckets {
			t.Fatalf("histBucket(%d) = %d; previous %d, %d buckets", v, i, prev, histBuckets)
		}
		prev = i
		if e := math.Abs(float64(histBucketMid(i)-v)) / float64(max(v, 1)); e > histMaxRelErr {
			t.Fatalf("value %d: bucket %d midpoint %d is %.4f off", v, i, histBucketMid(i), e)
		}
	}
	for i := 1; i < histBuckets; i++ {
		require_Equal(t, histBucket(histBucketMid(i)), i)
	}
	require_Equal(t, histBucket(histLimit), histBuckets-1)
	require_Equal(t, histBucket(math.MaxInt64), histBuckets-1)
}

func TestHistogramPercentiles(t *testing.T) {
	f := func(name string, gen func(r *rand.Rand) time.Duration) {
		t.Helper()
		r := rand.New(rand.NewPCG(1, uint64(len(name))))
		const n = 100_000
		var h Histogram
		samples := make([]time.Duration, n)
		var sum time.Duration
		for i := range samples {
			d := gen(r)
			samples[i] = d
			sum += d
			h.Record(d)
		}
		slices.Sort(samples)
		require_Equal(t, h.Count(), int64(n))
		require_Equal(t, h.Max(), samples[n-1])
		require_Equal(t, h.Min(), samples[0])
		require_Equal(t, h.Mean(), sum/n)
		require_Equal(t, h.Percentile(1), samples[n-1])
		require_Equal(t, h.Percentile(0), samples[0])
		for _, q := range []float64{0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999} {
			want := samples[int(math.Ceil(q*n))-1]
			got := h.Percentile(q)
			if e := math.Abs(float64(got-want)) / float64(want); e > histMaxRelErr {
				t.Fatalf("%s: p%g = %v; exact %v; error %.4f > %.4f", name, q*100, got, want, e, histMaxRelErr)
			}
		}
	}
	f("uniform 1µs..100ms", func(r *rand.Rand) time.Duration {
		return time.Microsecond + time.Duration(r.Int64N(int64(100*time.Millisecond)))
	})
	f("exponential mean 5ms", func(r *rand.Rand) time.Duration {
		return time.Duration(r.ExpFloat64() * float64(5*time.Millisecond))
	})
	f("bimodal 2ms and 200ms", func(r *rand.Rand) time.Duration {
		if r.IntN(10) == 0 {
			return time.Duration(max(1e3, 200e6+r.NormFloat64()*20e6))
		}
		return time.Duration(max(1e3, 2e6+r.NormFloat64()*0.2e6))
	})
	f("sub-µs to minutes", func(r *rand.Rand) time.Duration {
		return time.Duration(math.Exp(r.Float64() * math.Log(10*60e9)))
	})
}

func TestHistogramEmptyAndClamps(t *testing.T) {
	var h Histogram
	require_Equal(t, h.Count(), int64(0))
	require_Equal(t, h.Max(), time.Duration(0))
	require_Equal(t, h.Min(), time.Duration(0))
	require_Equal(t, h.Mean(), time.Duration(0))
	for _, q := range []float64{0, 0.5, 0.99, 1, math.NaN()} {
		require_Equal(t, h.Percentile(q), time.Duration(0))
	}

	h.Record(-5 * time.Second)
	require_Equal(t, h.Count(), int64(1))
	require_Equal(t, h.Max(), time.Duration(0))
	require_Equal(t, h.Percentile(0.5), time.Duration(0))
	require_Equal(t, h.Mean(), time.Duration(0))

	// Beyond the last bucket: the bucket is shared, but Max and the clamp to
	// [Min, Max] keep a lone huge value exact.
	h.Reset()
	h.Record(1000 * time.Hour)
	require_Equal(t, h.Max(), 1000*time.Hour)
	require_Equal(t, h.Percentile(0.5), 1000*time.Hour)
	require_Equal(t, h.buckets[histBuckets-1].Load(), int64(1))
	h.Record(24 * time.Hour)
	h.Record(time.Millisecond)
	require_Equal(t, h.Count(), int64(3))
	require_Equal(t, h.Percentile(0.1), time.Millisecond)
	if p := h.Percentile(0.5); p < 18*time.Minute || p > 1000*time.Hour {
		t.Fatalf("p50 of {1ms, 24h, 1000h} = %v; want within the last bucket", p)
	}
	require_Equal(t, h.Percentile(1), 1000*time.Hour)
	require_Equal(t, h.Percentile(2), 1000*time.Hour) // q > 1 is 1
	require_Equal(t, h.Percentile(-1), time.Millisecond)

	h.Reset()
	require_Equal(t, h.Count(), int64(0))
	require_Equal(t, h.Max(), time.Duration(0))
	require_Equal(t, h.Percentile(0.5), time.Duration(0))
	for i := range h.buckets {
		require_Equal(t, h.buckets[i].Load(), int64(0))
	}
}

func TestHistogramMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	var a, b, both Histogram
	for i := 0; i < 10_000; i++ {
		d := time.Duration(r.ExpFloat64() * 1e6)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(3 * d)
			d *= 3
		}
		both.Record(d)
	}
	a.Merge(&b)
	requireSameHistogram(t, &a, &both)

	var empty Histogram
	a.Merge(&empty)
	requireSameHistogram(t, &a, &both)
	empty.Merge(&both)
	requireSameHistogram(t, &empty, &both)
}

func requireSameHistogram(t *testing.T, got, want *Histogram) {
	t.Helper()
	require_Equal(t, got.Count(), want.Count())
	require_Equal(t, got.Max(), want.Max())
	require_Equal(t, got.Min(), want.Min())
	require_Equal(t, got.Mean(), want.Mean())
	for i := range got.buckets {
		if g, w := got.buckets[i].Load(), want.buckets[i].Load(); g != w {
			t.Fatalf("bucket %d: got %d; want %d", i, g, w)
		}
	}
	for _, q := range []float64{0.5, 0.9, 0.99} {
		require_Equal(t, got.Percentile(q), want.Percentile(q))
	}
}

// TestHistogramConcurrent records from 8 goroutines while another reads,
// for -race and for the exactness of the atomics.
func TestHistogramConcurrent(t *testing.T) {
	const workers, perWorker = 8, 20_000
	var h Histogram
	var wg sync.WaitGroup
	stop := make(chan struct{})
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			select {
			case <-stop:
				return
			default:
				_ = h.Percentile(0.99)
				_ = h.Mean()
			}
		}
	}()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= perWorker; i++ {
				h.Record(time.Duration(w*perWorker + i)) // 1 .. workers*perWorker, each once
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-readerDone
	const n = workers * perWorker
	require_Equal(t, h.Count(), int64(n))
	require_Equal(t, h.Min(), time.Duration(1))
	require_Equal(t, h.Max(), time.Duration(n))
	require_Equal(t, h.Mean(), time.Duration((n+1)/2))
	if e := math.Abs(float64(h.Percentile(0.5))-n/2) / (n / 2); e > histMaxRelErr {
		t.Fatalf("p50 = %v; want %d within %.4f", h.Percentile(0.5), n/2, histMaxRelErr)
	}
}

func TestHistogramRecordAllocs(t *testing.T) {
	var h Histogram
	d := time.Duration(1)
	allocs := testing.AllocsPerRun(1000, func() {
		h.Record(d)
		d = d*3 + 7
	})
	require_Equal(t, allocs, 0.0)
	allocs = testing.AllocsPerRun(100, func() { _ = h.Percentile(0.99) })
	require_Equal(t, allocs, 0.0)
}

func TestRate(t *testing.T) {
	f := func(n int64, elapsed time.Duration, want float64) {
		t.Helper()
		require_Equal(t, Rate(n, elapsed), want)
	}
	f(100, time.Second, 100)
	f(100, 2*time.Second, 50)
	f(3, 1500*time.Millisecond, 2)
	f(0, time.Second, 0)
	f(100, 0, 0)
	f(100, -time.Second, 0)
	f(-10, time.Second, -10)
}

func TestMeter(t *testing.T) {
	var m Meter
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	require_Equal(t, m.Tick(t0), 0.0) // starts the window
	const workers, perWorker = 8, 10_000
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				m.Add(1)
			}
		}()
	}
	wg.Wait()
	require_Equal(t, m.Total(), int64(workers*perWorker))
	require_Equal(t, m.Tick(t0.Add(2*time.Second)), float64(workers*perWorker)/2)
	m.Add(500)
	require_Equal(t, m.Tick(t0.Add(2*time.Second)), 0.0) // empty window: kept
	require_Equal(t, m.Tick(t0.Add(3*time.Second)), 500.0)
	require_Equal(t, m.Tick(t0.Add(4*time.Second)), 0.0)
	require_Equal(t, m.Total(), int64(workers*perWorker+500))
}
