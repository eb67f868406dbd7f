package engine

import (
	"fmt"
	"strings"
	"testing"
)

// TestAppendTopEndpointDepths: with 50 endpoints, at most 20 lines come out,
// the deepest first (ties by endpoint ID), and empty queues are left out.
func TestAppendTopEndpointDepths(t *testing.T) {
	f := func(n int, depths []int64, want string) string {
		t.Helper()
		seq := func(yield func(string, int64) bool) {
			for i, d := range depths {
				if !yield(fmt.Sprintf("ep_%02d", i), d) {
					return
				}
			}
		}
		got := string(appendTopEndpointDepths([]byte("x\n"), n, seq))
		if got != "x\n"+want {
			t.Fatalf("n=%d depths=%v:\ngot\n%s\nwant\n%s", n, depths, got, "x\n"+want)
		}
		return got
	}
	line := func(i int, d int64) string {
		return fmt.Sprintf("hookline_queue_endpoint_depth_deliveries{endpoint=\"ep_%02d\"} %d\n", i, d)
	}
	f(20, nil, "")
	f(20, []int64{0, -1, 0}, "")
	f(0, []int64{5}, "")
	f(20, []int64{3, 0, 7, 3}, line(2, 7)+line(0, 3)+line(3, 3))
	f(2, []int64{3, 0, 7, 3}, line(2, 7)+line(0, 3))
	f(1, []int64{1, 2, 3, 4}, line(3, 4))

	// 50 endpoints, depth i*7 mod 50 (a permutation of 0..49, scrambled):
	// the 20 deepest are 49 down to 30.
	depths := make([]int64, 50)
	where := make(map[int64]int)
	for i := range depths {
		depths[i] = int64(i * 7 % 50)
		where[depths[i]] = i
	}
	var want strings.Builder
	for d := int64(49); d >= 30; d-- {
		want.WriteString(line(where[d], d))
	}
	got := f(endpointDepthSeries, depths, want.String())
	if n := strings.Count(got, "\n") - 1; n != 20 {
		t.Fatalf("%d lines for 50 endpoints; want 20", n)
	}

	// Everything equally deep: the first 20 by ID.
	same := make([]int64, 50)
	want.Reset()
	for i := range same {
		same[i] = 4
		if i < 20 {
			want.WriteString(line(i, 4))
		}
	}
	f(endpointDepthSeries, same, want.String())
}
