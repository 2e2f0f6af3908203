package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/truce-mission/truce/alert/outbox"
	"github.com/truce-mission/truce/ledger"
)

// MaxEntriesPerRequest bounds GET /v1/log/entries, as RFC 6962 servers do; a client pages.
const MaxEntriesPerRequest = 1000

// maxAppendBody bounds POST /v1/log/entries: a payload at its limit, base64-free, plus the
// fixed fields and JSON escaping headroom.
const maxAppendBody = 2*ledger.MaxPayload + 4096

// Log is what the log endpoints need of the ledger (a *ledger.Log).
type Log interface {
	AppendWithKey(ctx context.Context, e *ledger.Entry, key string) (ledger.Receipt, error)
	AppendBatch(ctx context.Context, es []*ledger.Entry, keys []string) ([]ledger.Receipt, error)
	Checkpoint(ctx context.Context) ([]byte, error)
	Entries(ctx context.Context, start, end int64) ([][]byte, error)
	InclusionProof(ctx context.Context, index, size int64) (tlog.RecordProof, error)
	InclusionProofByHash(ctx context.Context, leafHash tlog.Hash, size int64) (int64, tlog.RecordProof, error)
	ConsistencyProof(ctx context.Context, first, second int64) (tlog.TreeProof, error)
	Size() int64
}

var _ Log = (*ledger.Log)(nil)

// AppendRequest is the body of POST /v1/log/entries: an entry as its submitter signed it.
type AppendRequest struct {
	Kind      string          `json:"kind"`
	Submitter string          `json:"submitter"`
	Submitted time.Time       `json:"submitted"`
	Payload   json.RawMessage `json:"payload"`   // canonical JSON: compact, keys sorted
	Signature string          `json:"signature"` // standard base64 of the ed25519 signature
	// IdempotencyKey, or the Idempotency-Key header, makes a resubmission return the original
	// receipt instead of appending again.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// ReceiptResponse answers an append.
type ReceiptResponse struct {
	Index     int64     `json:"index"`
	LeafHash  string    `json:"leaf_hash"` // standard base64, as RFC 6962 hashes are sent
	Received  time.Time `json:"received"`
	Duplicate bool      `json:"duplicate,omitempty"`
}

// EntriesResponse is RFC 6962 get-entries' shape, with each entry's index.
type EntriesResponse struct {
	Entries []LeafEntry `json:"entries"`
}

// LeafEntry carries one entry's exact leaf bytes, which a verifier hashes itself.
type LeafEntry struct {
	Index     int64  `json:"index"`
	LeafInput string `json:"leaf_input"` // standard base64
}

// InclusionResponse is RFC 6962 get-proof-by-hash's shape.
type InclusionResponse struct {
	LeafIndex int64    `json:"leaf_index"`
	AuditPath []string `json:"audit_path"`
}

// ConsistencyResponse is RFC 6962 get-sth-consistency's shape.
type ConsistencyResponse struct {
	Consistency []string `json:"consistency"`
}

type logHandlers struct {
	log      Log
	verifier string
	auth     *authn
	offer    func([]outbox.Appended) // hands the alert outbox what was appended
}

func (h *logHandlers) register(mux *router) {
	mux.HandleFunc("GET /v1/log/checkpoint", h.checkpoint)
	mux.HandleFunc("GET /v1/log/verifier", h.verifierKey)
	mux.HandleFunc("GET /v1/log/entries", h.entries)
	mux.Handle("POST /v1/log/entries", http.MaxBytesHandler(http.HandlerFunc(h.append), maxAppendBody))
	mux.HandleFunc("GET /v1/log/proofs/inclusion", h.inclusion)
	mux.HandleFunc("GET /v1/log/proofs/consistency", h.consistency)
}

func (h *logHandlers) checkpoint(w http.ResponseWriter, r *http.Request) {
	msg, err := h.log.Checkpoint(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(msg)
}

func (h *logHandlers) verifierKey(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = fmt.Fprintln(w, h.verifier)
}

func (h *logHandlers) entries(w http.ResponseWriter, r *http.Request) {
	ident, err := h.auth.identify(r, nil)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if !mayReadEntries(ident.Role) {
		writeError(w, r, forbidden(ident, "read the log's entries (they carry every observation); checkpoints and proofs are public"))
		return
	}
	start, err := intParam(r, "start", -1)
	if err != nil {
		writeError(w, r, err)
		return
	}
	end, err := intParam(r, "end", -1)
	if err != nil {
		writeError(w, r, err)
		return
	}
	// end is exclusive; it is clipped to the log's size and to the page limit.
	end = min(end, h.log.Size(), start+MaxEntriesPerRequest)
	if end < start {
		writeError(w, r, badRequest("end", fmt.Sprintf("range [%d, %d) is empty or beyond the log's %d entries", start, end, h.log.Size())))
		return
	}
	leaves, err := h.log.Entries(r.Context(), start, end)
	if err != nil {
		writeError(w, r, err)
		return
	}
	resp := EntriesResponse{Entries: make([]LeafEntry, len(leaves))}
	for i, l := range leaves {
		resp.Entries[i] = LeafEntry{Index: start + int64(i), LeafInput: base64.StdEncoding.EncodeToString(l)}
	}
	writeJSON(w, http.StatusOK, resp)
}

func (h *logHandlers) append(w http.ResponseWriter, r *http.Request) {
	var req AppendRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, r, decodeError(err))
		return
	}
	if dec.More() {
		writeError(w, r, badRequest("", "body holds more than one JSON value"))
		return
	}
	e, err := req.entry()
	if err != nil {
		writeError(w, r, err)
		return
	}
	if h.auth != nil && h.auth.a != nil {
		if ident, ok := h.auth.a.Identity(e.Submitter()); ok && !mayWrite(ident.Role, e.Kind()) {
			writeError(w, r, forbidden(ident, "append "+e.Kind().String()+" entries"))
			return
		}
	}
	key := req.IdempotencyKey
	if hk := r.Header.Get("Idempotency-Key"); hk != "" {
		if key != "" && key != hk {
			writeError(w, r, badRequest("idempotency_key", "differs from the Idempotency-Key header"))
			return
		}
		key = hk
	}
	rec, err := h.log.AppendWithKey(r.Context(), e, submitterKey(e.Submitter(), key))
	if err != nil {
		writeError(w, r, err)
		return
	}
	h.offer([]outbox.Appended{{Receipt: rec}})
	status := http.StatusCreated
	if rec.Duplicate {
		status = http.StatusOK
	}
	writeJSON(w, status, ReceiptResponse{
		Index: rec.Index, LeafHash: base64.StdEncoding.EncodeToString(rec.LeafHash[:]),
		Received: rec.Received, Duplicate: rec.Duplicate,
	})
}

// entry checks the request's fields and builds the signed entry.
func (req *AppendRequest) entry() (*ledger.Entry, error) {
	if req.Kind == "" {
		return nil, badRequest("kind", "missing")
	}
	kind, err := ledger.ParseKind(req.Kind)
	if err != nil {
		return nil, badRequest("kind", err.Error())
	}
	if req.Submitter == "" {
		return nil, badRequest("submitter", "missing")
	}
	if req.Submitted.IsZero() {
		return nil, badRequest("submitted", "missing: the submitter's RFC 3339 time")
	}
	if len(req.Payload) == 0 {
		return nil, badRequest("payload", "missing")
	}
	if req.Signature == "" {
		return nil, badRequest("signature", "missing: the entry must be signed by its submitter")
	}
	sig, err := base64.StdEncoding.DecodeString(req.Signature)
	if err != nil {
		return nil, badRequest("signature", "not standard base64")
	}
	e, err := ledger.NewEntry(kind, req.Submitter, req.Submitted, bytes.TrimSpace(req.Payload))
	if err != nil {
		return nil, err
	}
	if err := e.SetSignature(sig); err != nil {
		return nil, err
	}
	return e, nil
}

func (h *logHandlers) inclusion(w http.ResponseWriter, r *http.Request) {
	size, err := intParam(r, "size", h.log.Size())
	if err != nil {
		writeError(w, r, err)
		return
	}
	var index int64
	var proof tlog.RecordProof
	if hs := r.URL.Query().Get("hash"); hs != "" {
		h64, err := parseHash(hs)
		if err != nil {
			writeError(w, r, badRequest("hash", err.Error()))
			return
		}
		index, proof, err = h.log.InclusionProofByHash(r.Context(), h64, size)
		if err != nil {
			writeError(w, r, err)
			return
		}
	} else {
		if index, err = intParam(r, "index", -1); err != nil {
			writeError(w, r, err)
			return
		}
		if proof, err = h.log.InclusionProof(r.Context(), index, size); err != nil {
			writeError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, InclusionResponse{LeafIndex: index, AuditPath: hashes(proof)})
}

func (h *logHandlers) consistency(w http.ResponseWriter, r *http.Request) {
	first, err := intParam(r, "first", -1)
	if err != nil {
		writeError(w, r, err)
		return
	}
	second, err := intParam(r, "second", h.log.Size())
	if err != nil {
		writeError(w, r, err)
		return
	}
	proof, err := h.log.ConsistencyProof(r.Context(), first, second)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ConsistencyResponse{Consistency: hashes(proof)})
}

func hashes(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	return out
}

// parseHash reads a leaf hash in standard or URL-safe base64, or hex.
func parseHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == len(h) {
			copy(h[:], b)
			return h, nil
		}
	}
	if b, err := hexDecode(s); err == nil && len(b) == len(h) {
		copy(h[:], b)
		return h, nil
	}
	return h, fmt.Errorf("%q is not a 32-byte hash in base64 or hex", s)
}

func hexDecode(s string) ([]byte, error) {
	if len(s)%2 != 0 {
		return nil, errors.New("odd length")
	}
	b := make([]byte, len(s)/2)
	for i := range b {
		v, err := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
		if err != nil {
			return nil, err
		}
		b[i] = byte(v)
	}
	return b, nil
}

// intParam reads a non-negative integer query parameter; def < 0 makes it required.
func intParam(r *http.Request, name string, def int64) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		if def < 0 {
			return 0, badRequest(name, "missing query parameter")
		}
		return def, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, badRequest(name, fmt.Sprintf("%q is not a non-negative integer", s))
	}
	return v, nil
}

// decodeError names the field of a JSON decoding error.
func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return &httpError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("body over %d bytes", mbe.Limit)}
	case errors.As(err, &te):
		return badRequest(te.Field, fmt.Sprintf("wrong type: want %s", te.Type))
	case errors.As(err, &se):
		return badRequest("", fmt.Sprintf("malformed JSON at offset %d: %v", se.Offset, se))
	case errors.Is(err, io.EOF):
		return badRequest("", "empty body: want a JSON entry")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("", "malformed JSON: the body ends inside a value")
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return badRequest(strings.Trim(f, `"`), "unknown field")
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return badRequest("submitted", fmt.Sprintf("%q is not an RFC 3339 time", pe.Value))
	}
	return badRequest("", msg)
}

// submitterKey scopes a client's idempotency key to its submitter: the log's keys are global,
// and one identity must not be able to claim (or probe) another's keys.
func submitterKey(submitter, key string) string {
	if key == "" {
		return ""
	}
	return submitter + "/" + key
}
