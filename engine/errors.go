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

func invalid(code, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Code: code, Message: fmt.Sprintf(format, args...)}
}

func notFound(code, format string, args ...any) *Error {
	return &Error{Kind: KindNotFound, Code: code, Message: fmt.Sprintf(format, args...)}
}

func conflict(code, format string, args ...any) *Error {
	return &Error{Kind: KindConflict, Code: code, Message: fmt.Sprintf(format, args...)}
}

func unavailable(code, format string, args ...any) *Error {
	return &Error{Kind: KindUnavailable, Code: code, Message: fmt.Sprintf(format, args...)}
}
