// Package reqauth signs and checks HTTP requests with an identity's ed25519 key, so that the
// API knows who reads and writes without passwords or sessions, and a captured request
// cannot be replayed.
//
// A signed request carries four headers:
//
//	Truce-Identity:  monitor-1
//	Truce-Date:      2026-11-22T08:00:00Z            (RFC 3339, UTC)
//	Truce-Nonce:     22 base64url characters         (16 random bytes)
//	Truce-Signature: standard base64 of the ed25519 signature over Message(...)
//
// The signature covers the method, the request target (path and query), the date, the nonce
// and the SHA-256 of the body, so no part of the request can be changed. The server refuses a
// date outside its skew window and a nonce it has already seen within that window.
package reqauth

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// The headers of a signed request.
const (
	HeaderIdentity  = "Truce-Identity"
	HeaderDate      = "Truce-Date"
	HeaderNonce     = "Truce-Nonce"
	HeaderSignature = "Truce-Signature"
)

// MessagePrefix starts every signed request message; its version changes with what is signed.
const MessagePrefix = "truce/request/v1\n"

// DefaultSkew is how far a request's date may be from the server's clock.
const DefaultSkew = 5 * time.Minute

// Errors a check returns; each is wrapped with detail naming the header at fault.
var (
	ErrUnsigned        = errors.New("request is not signed")
	ErrUnknownIdentity = errors.New("unknown identity")
	ErrBadSignature    = errors.New("request signature does not verify")
	ErrStale           = errors.New("request date outside the accepted window")
	ErrReplayed        = errors.New("request replayed")
	ErrMalformed       = errors.New("malformed request signature header")
)

// Message is what the identity signs.
func Message(method, target, date, nonce string, body []byte) []byte {
	sum := sha256.Sum256(body)
	return fmt.Appendf(nil, "%s%s\n%s\n%s\n%s\n%s", MessagePrefix, method, target, date, nonce, hex.EncodeToString(sum[:]))
}

// Sign sets the headers of a signed request on r, whose body is body (nil for none).
func Sign(r *http.Request, body []byte, identity string, priv ed25519.PrivateKey, now time.Time) {
	var n [16]byte
	_, _ = rand.Read(n[:])
	nonce := base64.RawURLEncoding.EncodeToString(n[:])
	date := now.UTC().Format(time.RFC3339)
	sig := ed25519.Sign(priv, Message(r.Method, r.URL.RequestURI(), date, nonce, body))
	r.Header.Set(HeaderIdentity, identity)
	r.Header.Set(HeaderDate, date)
	r.Header.Set(HeaderNonce, nonce)
	r.Header.Set(HeaderSignature, base64.StdEncoding.EncodeToString(sig))
}

// HeaderError is a refusal naming the header at fault.
type HeaderError struct {
	Header string
	Err    error
	Detail string
}

func (e *HeaderError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("%s: %v", e.Header, e.Err)
	}
	return fmt.Sprintf("%s: %v: %s", e.Header, e.Err, e.Detail)
}

func (e *HeaderError) Unwrap() error { return e.Err }

// Checker checks signed requests and remembers nonces for the skew window.
type Checker struct {
	Keys func(id string) (ed25519.PublicKey, bool)
	Skew time.Duration    // DefaultSkew when zero
	Now  func() time.Time // time.Now when nil

	mu    sync.Mutex
	seen  map[string]time.Time // identity + nonce -> request date
	sweep time.Time
}

// Signed reports whether r carries any of the signature headers.
func Signed(r *http.Request) bool {
	return r.Header.Get(HeaderIdentity) != "" || r.Header.Get(HeaderSignature) != ""
}

// Check verifies r (with its body already read into body) and returns the identity that
// signed it. It records the nonce only once everything else holds, so a forged request
// cannot burn a legitimate client's nonce.
func (c *Checker) Check(r *http.Request, body []byte) (string, error) {
	id := r.Header.Get(HeaderIdentity)
	date := r.Header.Get(HeaderDate)
	nonce := r.Header.Get(HeaderNonce)
	sigB64 := r.Header.Get(HeaderSignature)
	switch {
	case id == "" && sigB64 == "":
		return "", &HeaderError{Header: HeaderSignature, Err: ErrUnsigned}
	case id == "":
		return "", &HeaderError{Header: HeaderIdentity, Err: ErrMalformed, Detail: "missing"}
	case sigB64 == "":
		return "", &HeaderError{Header: HeaderSignature, Err: ErrMalformed, Detail: "missing"}
	case len(nonce) < 16 || len(nonce) > 64:
		return "", &HeaderError{Header: HeaderNonce, Err: ErrMalformed, Detail: "want 16 to 64 characters"}
	}
	pub, ok := c.Keys(id)
	if !ok {
		return "", &HeaderError{Header: HeaderIdentity, Err: ErrUnknownIdentity, Detail: fmt.Sprintf("%q is not an identity of the agreement", id)}
	}
	t, err := time.Parse(time.RFC3339, date)
	if err != nil {
		return "", &HeaderError{Header: HeaderDate, Err: ErrMalformed, Detail: "want RFC 3339, e.g. 2026-11-22T08:00:00Z"}
	}
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	skew := c.Skew
	if skew == 0 {
		skew = DefaultSkew
	}
	if d := now.Sub(t); d > skew || d < -skew {
		return "", &HeaderError{Header: HeaderDate, Err: ErrStale, Detail: fmt.Sprintf("%s is %s from the server's clock, at most %s", date, d.Round(time.Second), skew)}
	}
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return "", &HeaderError{Header: HeaderSignature, Err: ErrMalformed, Detail: "want the standard base64 of 64 bytes"}
	}
	if !ed25519.Verify(pub, Message(r.Method, r.URL.RequestURI(), date, nonce, body), sig) {
		return "", &HeaderError{Header: HeaderSignature, Err: ErrBadSignature, Detail: fmt.Sprintf("for identity %q", id)}
	}
	if !c.remember(id+"\n"+nonce, t, now, skew) {
		return "", &HeaderError{Header: HeaderNonce, Err: ErrReplayed, Detail: "this nonce was already used"}
	}
	return id, nil
}

// remember records a nonce; false when it was already seen. Entries older than the window
// are swept now and then: a request that old is refused as stale anyway.
func (c *Checker) remember(key string, date, now time.Time, skew time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[string]time.Time{}
	}
	if _, dup := c.seen[key]; dup {
		return false
	}
	c.seen[key] = date
	if now.Sub(c.sweep) > skew/4 {
		for k, d := range c.seen {
			if now.Sub(d) > skew {
				delete(c.seen, k)
			}
		}
		c.sweep = now
	}
	return true
}
