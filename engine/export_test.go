package engine

// HoldPurge stops e's background removal of deleted tenants' events until
// the next engine on the same store starts: a test can then see what the
// incarnation alone hides.
func HoldPurge(e *Engine) { e.stopPurge() }

// FeedWaiting is how many Feed calls are waiting for an event.
func FeedWaiting(e *Engine) int32 { return e.feed.waiting.Load() }

// EndExhaustedWindows ends every endpoint's open hookline.delivery.exhausted
// window now, as its timer would: a test then sees the summaries without
// depending on how long the deaths took to come.
func EndExhaustedWindows(e *Engine) {
	for _, ln := range e.allLanes() {
		ln.notify.exhausted.mu.Lock()
		t := ln.notify.exhausted.timer
		ln.notify.exhausted.mu.Unlock()
		if t != nil && t.Stop() {
			e.exhaustedWindowEnd(ln)
		}
	}
}

// EndDeadLogWindows ends every endpoint's dead-letter log window now, as
// its timer would.
func EndDeadLogWindows(e *Engine) {
	for _, ln := range e.allLanes() {
		ln.deadLog.mu.Lock()
		t := ln.deadLog.timer
		ln.deadLog.mu.Unlock()
		if t != nil && t.Stop() {
			ln.endDeadLogWindow()
		}
	}
}
