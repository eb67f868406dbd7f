package engine

import (
	"fmt"
	"time"
)

// Kind groups errors by what the caller should do about them; httpin maps
// each kind to one HTTP status.
type Kind int

// Error kinds.
const (
	KindInvalid     Kind = iota + 1 // the request is wrong: 400
	KindNotFound                    // 404
	KindConflict                    // 409
	KindUnavailable                 // the server cannot take it now: 503
	KindTooMany                     // this caller is over its own limit: 429
)

// Error is an error the API shows its caller: Code is stable, Message is for
// people.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	// RetryAfter, for KindUnavailable, is how long the caller should wait.
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Invalid, NotFound, Conflict and Unavailable make the *Error of their
// kind. The feature packages (engine/inbound, engine/access) use them too,
// so that every API error is shown the same way.

// Invalid is a KindInvalid error: the request is wrong.
func Invalid(code, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Code: code, Message: fmt.Sprintf(format, args...)}
}

// NotFound is a KindNotFound error.
func NotFound(code, format string, args ...any) *Error {
	return &Error{Kind: KindNotFound, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Conflict is a KindConflict error: the request clashes with the state.
func Conflict(code, format string, args ...any) *Error {
	return &Error{Kind: KindConflict, Code: code, Message: fmt.Sprintf(format, args...)}
}

// TooMany is a KindTooMany error: the caller is over a limit of its own
// (a tenant's backlog or rate), which others are not.
func TooMany(code, format string, args ...any) *Error {
	return &Error{Kind: KindTooMany, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Unavailable is a KindUnavailable error: the server cannot take it now.
func Unavailable(code, format string, args ...any) *Error {
	return &Error{Kind: KindUnavailable, Code: code, Message: fmt.Sprintf(format, args...)}
}
