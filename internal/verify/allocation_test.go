package verify

import (
	"testing"
	"time"
)

// TestVerifyAllocs: the success path of every preset allocates nothing
// on the 28 KB pull_request fixture (slack's url_verification answer
// excepted: it is rare and returns a fresh challenge).
func TestVerifyAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("under the race detector sync.Pool drops objects at random")
	}
	if testing.CoverMode() != "" {
		t.Skip("coverage counters allocate")
	}
	now := time.Now()
	body := fixture(t, "github/pull_request_opened.json")
	for name, pc := range presetCases(t) {
		t.Run(name, func(t *testing.T) {
			cfg := pc.cfg
			cfg.Secrets = pc.secrets[:]
			v := mustNew(t, cfg)
			// The previous secret makes the verifier try both.
			r := pc.sign(t, pc.secrets[1], body, now)
			requireOK(t, v, r, now)
			allocs := testing.AllocsPerRun(200, func() {
				if _, err := v.Verify(r, now); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Fatalf("%s: %v allocations per Verify, want 0", name, allocs)
			}
		})
	}
}
