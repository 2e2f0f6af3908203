package ledger

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// MaxPayload is the largest payload, in bytes, that an entry may carry. Observations,
// notices and votes are small; photos and documents are committed by their hash.
const MaxPayload = 64 << 10

// MaxLeafSize bounds the encoding of one entry: [MaxPayload], the fixed fields and a batch
// proof of at most 12 hashes (see [MaxBatchSize]).
const MaxLeafSize = MaxPayload + 1024

// maxSubmitterLen bounds an identity id.
const maxSubmitterLen = 128

// SignedMessagePrefix starts the message a submitter signs; the version in it changes with
// any change to what is signed, so that an old signature can never be read as a new one.
const SignedMessagePrefix = "truce/entry/v1\n"

// Entry is one signed input to the ledger: what kind of input it is, who submitted it and
// when, the payload (canonical JSON, see [Canonicalize]), the submitter's ed25519 signature
// (of the entry alone, or of a batch of entries with the entry's proof in it), and, once
// the log has accepted it, the time of receipt.
//
// An Entry is built by [NewEntry] (then signed with [Sign] or [SignBatch], or given a
// signature with [Entry.SetSignature] or [Entry.SetBatchSignature]) or by [ParseLeaf]; its
// fields are read through methods, so that a value cannot drift from its leaf encoding. An
// entry with a receipt time is immutable.
//
// # Leaf encoding
//
// The leaf, hashed into the Merkle tree as an RFC 6962 leaf, is the entry as one line of
// JSON with a fixed field order and no whitespace:
//
//	{"v":1,"kind":"observation","submitter":"monitor-1","submitted":"2026-03-01T10:00:00Z",
//	 "payload":{...},"sig":"<base64>","received":"2026-03-01T10:00:00.5Z"}
//
// (shown on two lines here). "v" is the format version; times are RFC 3339 in UTC with 'Z'
// and only the fractional digits needed (Go's time.RFC3339Nano); "sig" is the standard
// padded base64 of the 64-byte signature; "payload" is the canonical JSON object itself.
//
// An entry signed as part of a batch has one more field, "batch", between "payload" and
// "sig", and its "sig" is the batch's signature (see [BatchSignedMessage]):
//
//	..."payload":{...},"batch":{"n":3,"i":2,"path":["<base64>"]},"sig":"<base64>",...
//
// "n" is the number of entries in the batch (1 to [MaxBatchSize]) and "i" this entry's
// index in it, both decimal integers; "path" is the RFC 6962 audit path from the entry's
// digest ([Entry.Digest]) to the batch root, each hash in standard padded base64, as many
// as the tree's shape gives for i and n ("path":[] when n is 1). An entry signed alone has
// no "batch" field.
//
// A batch of two or more entries logged whole, its entries at consecutive indexes in order,
// is in run form: "batch":{"n":N,"i":I} without "path", the batch's entries being the proof
// (see [BatchProof] and [VerifyRun]).
//
// Everything before "received" is what the submitter is responsible for: what it signed
// ([Entry.SignedMessage]) and, for a batch entry, the proof that ties it to the signature;
// "received" is the log's. [ParseLeaf] accepts exactly these bytes and nothing else: a leaf
// that would not re-encode to itself is malformed.
type Entry struct {
	kind      Kind
	submitter string
	submitted time.Time
	received  time.Time // zero until received
	payload   []byte
	sig       []byte      // nil until signed
	batch     *BatchProof // nil unless signed as part of a batch; never changed in place
	runRoot   *tlog.Hash  // for the log's copies of a whole batch: its root, from all its entries' digests

	leaf []byte    // nil until received
	hash tlog.Hash // tlog.RecordHash(leaf)
	ok   bool      // built by a constructor

	// digest is Digest, computed by NewEntry and NewEntryJSON (none of its parts changes
	// afterwards): a signer, the handler and the log each want it, and it hashes the payload.
	digest    tlog.Hash
	hasDigest bool
}

// NewEntry returns an unsigned entry of kind k, by the identity submitter, made at time
// submitted. The payload must be a JSON object in canonical form ([Canonicalize]) of at most
// [MaxPayload] bytes; it is copied. Errors are *[FieldError] wrapping [ErrMalformed] or
// [ErrTooLarge].
func NewEntry(k Kind, submitter string, submitted time.Time, payload []byte) (*Entry, error) {
	if err := checkParts(k, submitter, submitted); err != nil {
		return nil, err
	}
	if err := checkPayload(payload); err != nil {
		return nil, err
	}
	return newEntry(k, submitter, submitted, bytes.Clone(payload)), nil
}

// NewEntryJSON is [NewEntry] of raw canonicalized ([Canonicalize]): raw may be any JSON
// object. It checks and copies the payload in one pass where Canonicalize and NewEntry take
// two each. Errors are *[FieldError] of field "payload" wrapping [ErrMalformed] (raw is
// not JSON, or not an object) or [ErrTooLarge], or of the other parts as NewEntry's.
func NewEntryJSON(k Kind, submitter string, submitted time.Time, raw []byte) (*Entry, error) {
	if err := checkParts(k, submitter, submitted); err != nil {
		return nil, err
	}
	payload, err := canonicalize(raw)
	if err != nil {
		return nil, fieldErr("payload", ErrMalformed, "not valid JSON: "+err.Error())
	}
	if err := checkPayloadObject(payload); err != nil {
		return nil, err
	}
	return newEntry(k, submitter, submitted, payload), nil
}

// checkParts checks what NewEntry and NewEntryJSON take besides the payload.
func checkParts(k Kind, submitter string, submitted time.Time) error {
	if !k.Valid() {
		return fieldErr("kind", ErrMalformed, fmt.Sprintf("invalid kind %d", int(k)))
	}
	if err := checkSubmitter(submitter); err != nil {
		return err
	}
	return checkTime("submitted", submitted)
}

// checkPayloadObject checks a payload's size and that it is an object; its canonical form is
// checked apart (checkPayload) or made (NewEntryJSON).
func checkPayloadObject(p []byte) error {
	if len(p) > MaxPayload {
		return fieldErr("payload", ErrTooLarge, fmt.Sprintf("%d bytes, at most %d", len(p), MaxPayload))
	}
	if len(p) == 0 || p[0] != '{' {
		return fieldErr("payload", ErrMalformed, "not a JSON object")
	}
	return nil
}

// newEntry makes an unsigned entry of checked parts; it keeps payload.
func newEntry(k Kind, submitter string, submitted time.Time, payload []byte) *Entry {
	e := &Entry{
		kind:      k,
		submitter: submitter,
		submitted: submitted.UTC().Round(0),
		payload:   payload,
		ok:        true,
	}
	e.digest, e.hasDigest = itemDigest(e.kind, e.submitter, e.submitted, e.payload), true
	return e
}

// Sign signs e alone as its submitter with priv, replacing any signature (and batch proof).
// It fails for an entry already received.
func Sign(e *Entry, priv ed25519.PrivateKey) error {
	if err := e.mutable(); err != nil {
		return err
	}
	if len(priv) != ed25519.PrivateKeySize {
		return fieldErr("signature", ErrMalformed, fmt.Sprintf("private key has %d bytes, want %d", len(priv), ed25519.PrivateKeySize))
	}
	e.sig = ed25519.Sign(priv, e.SignedMessage())
	e.batch = nil
	return nil
}

// SetSignature sets e's signature, made elsewhere over [Entry.SignedMessage], replacing any
// signature and batch proof. It checks the length only; [Verify] checks the signature.
func (e *Entry) SetSignature(sig []byte) error {
	if err := e.mutable(); err != nil {
		return err
	}
	if len(sig) != ed25519.SignatureSize {
		return fieldErr("signature", ErrMalformed, fmt.Sprintf("%d bytes, want %d", len(sig), ed25519.SignatureSize))
	}
	e.sig = bytes.Clone(sig)
	e.batch = nil
	return nil
}

func (e *Entry) mutable() error {
	if e == nil || !e.ok {
		return fieldErr("entry", ErrMalformed, "not built by NewEntry or ParseLeaf")
	}
	if e.leaf != nil {
		return fieldErr("entry", ErrMalformed, "already received; a received entry cannot change")
	}
	return nil
}

// Verify checks e's signature against the submitter's public key pub. A failure is a
// *[FieldError] wrapping [ErrBadSignature], e.g.
// `signature: does not verify for identity "east-liaison"`.
//
// For an entry signed as part of a batch, Verify recomputes the batch root from
// [Entry.Digest] and the audit path and checks the batch signature over
// [BatchSignedMessage]. It remembers the batch signatures it verified (a few thousand, in
// memory shared by all callers), so the other entries of a batch cost hashing only, not an
// ed25519 verification each. An entry parsed from a leaf in run form carries no path: Verify
// fails for it with [ErrRunOnly], and [VerifyRun] checks it with the rest of its batch.
func Verify(e *Entry, pub ed25519.PublicKey) error { return verifyEntry(e, pub, &batchSigs) }

// verifyEntry is Verify with the batch signature cache c.
func verifyEntry(e *Entry, pub ed25519.PublicKey, c *batchCache) error {
	if e == nil || !e.ok {
		return fieldErr("entry", ErrMalformed, "not built by NewEntry or ParseLeaf")
	}
	if len(pub) != ed25519.PublicKeySize {
		return fieldErr("signature", ErrBadSignature, fmt.Sprintf("public key of identity %q has %d bytes, want %d", e.submitter, len(pub), ed25519.PublicKeySize))
	}
	if e.sig == nil {
		return fieldErr("signature", ErrBadSignature, fmt.Sprintf("missing for identity %q", e.submitter))
	}
	if e.batch == nil {
		if !ed25519.Verify(pub, e.SignedMessage(), e.sig) {
			return fieldErr("signature", ErrBadSignature, fmt.Sprintf("does not verify for identity %q", e.submitter))
		}
		return nil
	}
	var root tlog.Hash
	if e.runRoot != nil {
		root = *e.runRoot
	} else {
		var err error
		if root, err = e.batchRoot(); err != nil {
			return err
		}
	}
	if !c.verify(pub, BatchSignedMessage(e.submitter, e.batch.Size, root), e.sig) {
		return fieldErr("signature", ErrBadSignature, fmt.Sprintf("does not verify for identity %q (entry %d of a batch of %d)", e.submitter, e.batch.Index, e.batch.Size))
	}
	return nil
}

// SignedMessage returns the bytes the submitter signs:
//
//	"truce/entry/v1\n" + kind + "\n" + submitter + "\n" + submitted + "\n" + payload
//
// with submitted in RFC 3339 UTC as in the leaf. The receipt time is not signed. An entry
// signed as part of a batch is not signed directly: its signed message is a leaf of the
// tree whose root the batch signature covers (see [BatchDigest]).
func (e *Entry) SignedMessage() []byte {
	return signedMessage(e.kind, e.submitter, e.submitted, e.payload)
}

// signedMessage returns the signed message of an entry's parts; submitted must be in UTC.
func signedMessage(k Kind, submitter string, submitted time.Time, payload []byte) []byte {
	b := make([]byte, 0, len(SignedMessagePrefix)+len(submitter)+len(payload)+64)
	return appendSignedMessage(b, k, submitter, submitted, payload)
}

func appendSignedMessage(b []byte, k Kind, submitter string, submitted time.Time, payload []byte) []byte {
	b = append(b, SignedMessagePrefix...)
	b = append(b, k.String()...)
	b = append(b, '\n')
	b = append(b, submitter...)
	b = append(b, '\n')
	b = submitted.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '\n')
	return append(b, payload...)
}

// Receive returns a copy of e received at t, with its leaf bytes and leaf hash. The log
// calls it when it sequences an entry; tools that build leaves themselves (tests, importers)
// may too. e must be signed.
func (e *Entry) Receive(t time.Time) (*Entry, error) {
	if err := e.mutable(); err != nil {
		return nil, err
	}
	if e.sig == nil {
		return nil, fieldErr("signature", ErrMalformed, "missing")
	}
	if err := checkTime("received", t); err != nil {
		return nil, err
	}
	r := *e
	r.received = t.UTC().Round(0)
	r.leaf = r.appendReceived(r.appendPrefix(make([]byte, 0, r.leafSizeHint())))
	r.hash = tlog.RecordHash(r.leaf)
	return &r, nil
}

// Kind returns the entry's kind.
func (e *Entry) Kind() Kind { return e.kind }

// Submitter returns the id of the identity that submitted the entry.
func (e *Entry) Submitter() string { return e.submitter }

// Submitted returns the submitter's timestamp, in UTC.
func (e *Entry) Submitted() time.Time { return e.submitted }

// Received returns the log's timestamp of receipt, in UTC; zero before the entry is received.
func (e *Entry) Received() time.Time { return e.received }

// Payload returns the canonical JSON payload. The caller must not modify it.
func (e *Entry) Payload() []byte { return e.payload }

// Signature returns the submitter's signature, or nil: for an entry signed as part of a
// batch, the batch's signature (see [Entry.Batch]). The caller must not modify it.
func (e *Entry) Signature() []byte { return e.sig }

// Leaf returns the leaf bytes, or nil before the entry is received. The caller must not
// modify them.
func (e *Entry) Leaf() []byte { return e.leaf }

// LeafHash returns the RFC 6962 leaf hash of [Entry.Leaf], or the zero hash before the entry
// is received.
func (e *Entry) LeafHash() tlog.Hash { return e.hash }

func (e *Entry) leafSizeHint() int {
	return len(e.payload) + len(e.submitter) + e.batchLeafSize() + 256
}

// appendPrefix appends the leaf up to and including `"received":"`: everything the
// submitter is responsible for.
func (e *Entry) appendPrefix(b []byte) []byte {
	b = append(b, `{"v":1,"kind":"`...)
	b = append(b, e.kind.String()...)
	b = append(b, `","submitter":"`...)
	b = append(b, e.submitter...)
	b = append(b, `","submitted":"`...)
	b = e.submitted.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","payload":`...)
	b = append(b, e.payload...)
	b = e.appendBatch(b)
	b = append(b, `,"sig":"`...)
	b = base64.StdEncoding.AppendEncode(b, e.sig)
	return append(b, `","received":"`...)
}

func (e *Entry) appendReceived(b []byte) []byte {
	b = e.received.AppendFormat(b, time.RFC3339Nano)
	return append(b, `"}`...)
}

// submissionDigest identifies what was submitted (kind, submitter and payload), to tell a
// genuine resubmission under an idempotency key from a different entry. The submission time,
// signature and batch proof are left out on purpose: a client that resends a record in a new
// batch after a lost response signs it again at another time, and that is still the same
// record, so it must get the original receipt, not a conflict.
func (e *Entry) submissionDigest() [sha256.Size]byte {
	h := sha256.New()
	var n [4]byte
	for _, part := range [][]byte{[]byte(e.kind.String()), []byte(e.submitter), e.payload} {
		binary.BigEndian.PutUint32(n[:], uint32(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	var d [sha256.Size]byte
	h.Sum(d[:0])
	return d
}

// ParseLeaf decodes leaf bytes into a received entry. It accepts only the exact encoding
// described on [Entry]: ParseLeaf(b).Leaf() is always b. Errors are *[ParseError] naming the
// field at fault and wrapping [ErrMalformed] or [ErrTooLarge].
func ParseLeaf(b []byte) (*Entry, error) {
	e, err := parseLeaf(b)
	if err != nil {
		return nil, &ParseError{err}
	}
	return e, nil
}

func parseLeaf(b []byte) (*Entry, error) {
	if len(b) > MaxLeafSize {
		return nil, fieldErr("entry", ErrTooLarge, fmt.Sprintf("%d bytes, at most %d", len(b), MaxLeafSize))
	}
	var raw struct {
		V         *int            `json:"v"`
		Kind      *string         `json:"kind"`
		Submitter *string         `json:"submitter"`
		Submitted *string         `json:"submitted"`
		Payload   json.RawMessage `json:"payload"`
		Batch     *rawBatch       `json:"batch"`
		Sig       *string         `json:"sig"`
		Received  *string         `json:"received"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&raw); err != nil {
		return nil, fieldErr("entry", ErrMalformed, "not a JSON object of the leaf fields: "+err.Error())
	}
	if d.More() {
		return nil, fieldErr("entry", ErrMalformed, "data after the leaf object")
	}
	missing := func(f string) error { return fieldErr(f, ErrMalformed, "missing") }
	switch {
	case raw.V == nil:
		return nil, missing("v")
	case raw.Kind == nil:
		return nil, missing("kind")
	case raw.Submitter == nil:
		return nil, missing("submitter")
	case raw.Submitted == nil:
		return nil, missing("submitted")
	case raw.Payload == nil:
		return nil, missing("payload")
	case raw.Sig == nil:
		return nil, missing("sig")
	case raw.Received == nil:
		return nil, missing("received")
	}
	if *raw.V != 1 {
		return nil, fieldErr("v", ErrMalformed, fmt.Sprintf("unknown leaf version %d", *raw.V))
	}
	k, err := ParseKind(*raw.Kind)
	if err != nil {
		return nil, err
	}
	if err := checkSubmitter(*raw.Submitter); err != nil {
		return nil, err
	}
	submitted, err := parseTime("submitted", *raw.Submitted)
	if err != nil {
		return nil, err
	}
	received, err := parseTime("received", *raw.Received)
	if err != nil {
		return nil, err
	}
	if err := checkPayload(raw.Payload); err != nil {
		return nil, err
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(*raw.Sig)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, fieldErr("sig", ErrMalformed, fmt.Sprintf("not the padded base64 of %d bytes", ed25519.SignatureSize))
	}
	var batch *BatchProof
	if raw.Batch != nil {
		if batch, err = raw.Batch.parse(); err != nil {
			return nil, err
		}
	}
	e := &Entry{
		kind:      k,
		submitter: *raw.Submitter,
		submitted: submitted,
		received:  received,
		payload:   []byte(raw.Payload),
		sig:       sig,
		batch:     batch,
		ok:        true,
	}
	e.leaf = e.appendReceived(e.appendPrefix(make([]byte, 0, len(b))))
	if !bytes.Equal(e.leaf, b) {
		return nil, fieldErr("entry", ErrMalformed, "not in canonical leaf form (field order, escapes or spacing)")
	}
	e.hash = tlog.RecordHash(e.leaf)
	return e, nil
}

// checkSubmitter checks an identity id as the agreement writes them.
func checkSubmitter(s string) error {
	if s == "" {
		return fieldErr("submitter", ErrMalformed, "missing")
	}
	if len(s) > maxSubmitterLen {
		return fieldErr("submitter", ErrMalformed, fmt.Sprintf("%d bytes, at most %d", len(s), maxSubmitterLen))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '.' || c == '_' || c == '-') {
			continue
		}
		return fieldErr("submitter", ErrMalformed, fmt.Sprintf("malformed identity id %q: want lower-case letters, digits, '.', '_' or '-', starting with a letter or digit", s))
	}
	return nil
}

func checkTime(field string, t time.Time) error {
	if t.IsZero() {
		return fieldErr(field, ErrMalformed, "missing")
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return fieldErr(field, ErrMalformed, fmt.Sprintf("year %d outside 1 to 9999", y))
	}
	return nil
}

func parseTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fieldErr(field, ErrMalformed, fmt.Sprintf("%q is not an RFC 3339 time", s))
	}
	t = t.UTC()
	if err := checkTime(field, t); err != nil {
		return time.Time{}, err
	}
	if t.Format(time.RFC3339Nano) != s {
		return time.Time{}, fieldErr(field, ErrMalformed, fmt.Sprintf("%q is not in canonical form (UTC with 'Z', no trailing zeros)", s))
	}
	return t, nil
}

func checkPayload(p []byte) error {
	if err := checkPayloadObject(p); err != nil {
		return err
	}
	if err := isCanonical(p); err != nil {
		if errors.Is(err, errNotCanonical) {
			return fieldErr("payload", ErrMalformed, "not in canonical form (see ledger.Canonicalize)")
		}
		return fieldErr("payload", ErrMalformed, "not valid JSON: "+err.Error())
	}
	return nil
}

// String describes the entry for logs and errors, without its payload.
func (e *Entry) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s by %q at %s", e.kind, e.submitter, e.submitted.Format(time.RFC3339Nano))
	if e.batch != nil {
		fmt.Fprintf(&b, ", entry %d of a signed batch of %d", e.batch.Index, e.batch.Size)
		if e.batch.Run {
			b.WriteString(" logged as a run")
		}
	}
	if e.leaf != nil {
		fmt.Fprintf(&b, ", received %s, leaf hash %s", e.received.Format(time.RFC3339Nano), e.hash)
	}
	return b.String()
}
