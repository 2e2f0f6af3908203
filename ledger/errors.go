package ledger

import (
	"errors"

	"github.com/truce-mission/truce/store"
)

// Sentinel errors that callers branch on, for instance to choose an HTTP status. The errors
// returned by this package wrap them with the field and the value at fault; test them with
// [errors.Is].
var (
	// ErrMalformed marks an entry, leaf, payload or checkpoint that does not follow its format.
	ErrMalformed = errors.New("malformed")
	// ErrTooLarge marks a payload above [MaxPayload], a signed batch above [MaxBatchSize],
	// or an append batch above the log's batch limit.
	ErrTooLarge = errors.New("too large")
	// ErrBadSignature marks a submitter signature that does not verify.
	ErrBadSignature = errors.New("bad signature")
	// ErrUnknownIdentity marks a submitter that is not an identity of the agreement.
	ErrUnknownIdentity = errors.New("unknown identity")
	// ErrRunOnly marks an entry in run form checked alone: its leaf carries no audit path,
	// and its batch's entries are needed to check its signature ([VerifyRun]).
	ErrRunOnly = errors.New("checkable only with its batch's entries")
	// ErrKeyConflict marks an idempotency key already used for a different entry.
	ErrKeyConflict = errors.New("idempotency key already used for a different entry")
	// ErrRange marks an index or tree size outside the log.
	ErrRange = errors.New("out of range")
	// ErrClosed is returned by a Log after Close.
	ErrClosed = errors.New("ledger closed")
	// ErrNotFound is returned when a leaf hash is not in the log; it is [store.ErrNotFound].
	ErrNotFound = store.ErrNotFound
	// ErrStoreMismatch is returned by Open when the store's hashes do not match its own
	// latest checkpoint or its entry count: the store was damaged or changed behind the log.
	ErrStoreMismatch = errors.New("store does not match its checkpoint")
)

// FieldError is an error in one field of an entry. It prints as "field: message", for
// instance `signature: does not verify for identity "east-liaison"`, and unwraps to one of
// the sentinels above.
type FieldError struct {
	Field string // "kind", "submitter", "submitted", "received", "payload", "signature", "batch", "batch.n", "batch.i", "batch.path", "sig" or "entry"
	Msg   string // what is wrong, quoting the bad value
	Err   error  // the sentinel
}

// Error returns "field: message".
func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Unwrap returns the sentinel.
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field string, sentinel error, msg string) *FieldError {
	return &FieldError{Field: field, Msg: msg, Err: sentinel}
}

// ParseError is returned by [ParseLeaf]. It prints as "parsing leaf: " and the cause, and
// unwraps to it (a *FieldError, and through it [ErrMalformed] or [ErrTooLarge]).
type ParseError struct{ Err error }

// Error returns "parsing leaf: " and the cause.
func (e *ParseError) Error() string { return "parsing leaf: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *ParseError) Unwrap() error { return e.Err }
