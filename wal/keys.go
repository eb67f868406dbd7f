package wal

import "encoding/binary"

// Kind bytes: the first byte of every key (see the package comment).
const (
	kindEvent       = 'e'
	kindQueue       = 'q'
	kindRetry       = 'r'
	kindAttempt     = 'a'
	kindDead        = 'd'
	kindIdempotency = 'i'
	kindTenant      = 't'
	kindEndpoint    = 'n'
	kindReplayed    = 'p'
)

func eventKey(dst []byte, ev ID) []byte {
	dst = append(dst, kindEvent)
	return append(dst, ev[:]...)
}

func queueKey(dst []byte, ep, ev ID) []byte {
	dst = append(dst, kindQueue)
	dst = append(dst, ep[:]...)
	return append(dst, ev[:]...)
}

func retryKey(dst []byte, dueMs int64, ep, ev ID) []byte {
	dst = append(dst, kindRetry)
	dst = binary.BigEndian.AppendUint64(dst, uint64(dueMs))
	dst = append(dst, ep[:]...)
	return append(dst, ev[:]...)
}

// replayedKey marks a delivery queued again by a replay until its attempt
// is recorded, so the pending listing finds it without walking the attempt
// log; the delivery itself waits in the retry index.
func replayedKey(dst []byte, ep, ev ID) []byte {
	dst = append(dst, kindReplayed)
	dst = append(dst, ep[:]...)
	return append(dst, ev[:]...)
}

func attemptKey(dst []byte, ep, ev ID, attempt int) []byte {
	dst = append(dst, kindAttempt)
	dst = append(dst, ep[:]...)
	dst = append(dst, ev[:]...)
	return binary.BigEndian.AppendUint16(dst, uint16(attempt))
}

func deadKey(dst []byte, ep, ev ID) []byte {
	dst = append(dst, kindDead)
	dst = append(dst, ep[:]...)
	return append(dst, ev[:]...)
}

// idempotencyKey separates tenant and key with 0x00: tenant IDs cannot hold
// it (the engine allows [a-z0-9_-] only), so no two tenants' ranges overlap.
func idempotencyKey(dst []byte, tenant, key string) []byte {
	dst = append(dst, kindIdempotency)
	dst = append(dst, tenant...)
	dst = append(dst, 0)
	return append(dst, key...)
}

func tenantKey(dst []byte, tenant string) []byte {
	dst = append(dst, kindTenant)
	return append(dst, tenant...)
}

func endpointKey(dst []byte, ep ID) []byte {
	dst = append(dst, kindEndpoint)
	return append(dst, ep[:]...)
}

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}
