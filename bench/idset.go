package bench

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

const idShards = 64

// idSet remembers which webhook-ids were seen and whether one was answered
// 2xx. It keeps a 64-bit maphash of the id, not the id, so an entry is one
// 16-byte map slot plus control bytes and load-factor slack: 32..40 bytes of
// heap per distinct id whatever the id's length (BenchmarkIDSetRecord
// measures ~36 at 2M ids). Two ids sharing a hash (odds ~n²/2^65, ~3e-6 at
// 10M ids) would count as one.
type idSet struct {
	seed     maphash.Seed
	perShard int
	shards   [idShards]idShard

	unique, dups, untracked atomic.Uint64
	// delivered counts the ids answered 2xx at least once.
	delivered atomic.Uint64
}

type idShard struct {
	mu sync.Mutex
	m  map[uint64]bool // hash -> answered 2xx at least once
	_  [48]byte        // one shard per cache line, so shards do not contend through false sharing
}

func (set *idSet) init(maxIDs int) {
	set.seed = maphash.MakeSeed()
	set.perShard = max(1, maxIDs/idShards)
	for i := range set.shards {
		set.shards[i].m = make(map[uint64]bool)
	}
}

// record notes one request for id; scope, when not empty, is folded into
// the key so the same id under two scopes (two endpoints of one event)
// counts twice, not as a duplicate.
func (set *idSet) record(id, scope []byte, acked bool) {
	if len(id) == 0 {
		set.untracked.Add(1)
		return
	}
	h := maphash.Bytes(set.seed, id)
	if len(scope) > 0 {
		h = h*0x9e3779b97f4a7c15 ^ maphash.Bytes(set.seed, scope)
	}
	sh := &set.shards[h%idShards]
	sh.mu.Lock()
	was, seen := sh.m[h]
	switch {
	case !seen && len(sh.m) >= set.perShard:
		sh.mu.Unlock()
		set.untracked.Add(1)
		return
	case !seen || (acked && !was):
		sh.m[h] = acked
	}
	sh.mu.Unlock()
	if !seen {
		set.unique.Add(1)
	}
	if acked && !was {
		set.delivered.Add(1)
	}
	if was {
		set.dups.Add(1)
	}
}
