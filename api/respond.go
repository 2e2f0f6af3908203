// Package api serves truce over HTTP: the evidence log's read-only endpoints (checkpoint,
// verifier key, entries, inclusion and consistency proofs) and its append endpoint. Handlers
// decode, validate, call and respond; errors are mapped to HTTP statuses in one place
// ([statusOf]) and every error body names the field at fault.
package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/truce-mission/truce/ledger"
	"github.com/truce-mission/truce/reqauth"
)

// errorBody is the JSON body of every error answer.
type errorBody struct {
	Error string `json:"error"`           // what is wrong, lower case, quoting the bad value
	Field string `json:"field,omitempty"` // the request field at fault, when one is
}

// httpError is an error with a status, made by the handlers for request problems.
type httpError struct {
	status int
	field  string
	msg    string
	err    error // the cause, for errors.Is; may be nil
}

func (e *httpError) Error() string { return e.msg }

func (e *httpError) Unwrap() error { return e.err }

func badRequest(field, msg string) error {
	return &httpError{status: http.StatusBadRequest, field: field, msg: msg}
}

// statusOf maps an error to its HTTP status: the one place where sentinels become statuses.
func statusOf(err error) int {
	var he *httpError
	switch {
	case errors.As(err, &he):
		return he.status
	case errors.Is(err, reqauth.ErrUnsigned), errors.Is(err, reqauth.ErrUnknownIdentity),
		errors.Is(err, reqauth.ErrBadSignature), errors.Is(err, reqauth.ErrStale),
		errors.Is(err, reqauth.ErrReplayed), errors.Is(err, reqauth.ErrMalformed):
		return http.StatusUnauthorized
	case errors.Is(err, ledger.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ledger.ErrMalformed):
		return http.StatusBadRequest
	case errors.Is(err, ledger.ErrBadSignature), errors.Is(err, ledger.ErrUnknownIdentity):
		return http.StatusForbidden
	case errors.Is(err, ledger.ErrKeyConflict):
		return http.StatusConflict
	case errors.Is(err, ledger.ErrRange):
		return http.StatusBadRequest
	case errors.Is(err, ledger.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ledger.ErrClosed):
		return http.StatusServiceUnavailable
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusInternalServerError
}

// writeError answers with err's status and a JSON body; 5xx are logged with the request.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	body := errorBody{Error: err.Error()}
	var he *httpError
	var fe *ledger.FieldError
	var hde *reqauth.HeaderError
	switch {
	case errors.As(err, &he):
		body.Field = he.field
	case errors.As(err, &fe):
		body.Field = fe.Field
	case errors.As(err, &hde):
		body.Field = hde.Header
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Truce-Signature realm="truce"`)
	}
	if status >= 500 {
		slog.ErrorContext(r.Context(), "request failed", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Any("error", err))
		if status == http.StatusInternalServerError {
			body = errorBody{Error: "internal error"}
		}
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, body)
}

// readBody reads a request body of at most max bytes (else an *http.MaxBytesError) into a
// buffer sized by its Content-Length, so that a batch of a few hundred kilobytes is not
// copied over and over as it grows.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	hint := r.ContentLength
	if hint < 0 || hint > max {
		hint = 0
	}
	buf := bytes.NewBuffer(make([]byte, 0, hint+bytes.MinRead))
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, max))
	return buf.Bytes(), err
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
