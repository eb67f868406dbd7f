package engine

// HoldPurge stops e's background removal of deleted tenants' events until
// the next engine on the same store starts: a test can then see what the
// incarnation alone hides.
func HoldPurge(e *Engine) { e.stopPurge() }

// FeedWaiting is how many Feed calls are waiting for an event.
func FeedWaiting(e *Engine) int32 { return e.feed.waiting.Load() }
