// Package client talks to a truce server's HTTP API: it signs and appends entries and fetches
// what a party needs to verify the log for itself (checkpoints, the verifier key, entries,
// proofs). It trusts nothing it fetches: verification is ledger's job.
package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	gojson "github.com/goccy/go-json"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/truce-mission/truce/api"
	"github.com/truce-mission/truce/ledger"
	"github.com/truce-mission/truce/reqauth"
)

// Client is a truce API client. The zero value is not usable; use [New].
type Client struct {
	base     string
	http     *http.Client
	identity string
	priv     ed25519.PrivateKey
}

// Option configures a [Client].
type Option func(*Client)

// WithIdentity signs every request as identity with priv (see package reqauth), as the
// endpoints that say who may read or write require.
func WithIdentity(identity string, priv ed25519.PrivateKey) Option {
	return func(c *Client) { c.identity, c.priv = identity, priv }
}

// WithHTTPClient replaces the default HTTP client (60 s timeout).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// New returns a client for the server at base (e.g. "http://127.0.0.1:8080").
func New(base string, opts ...Option) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server %q: want an http:// or https:// URL", base)
	}
	c := &Client{base: strings.TrimRight(base, "/"), http: &http.Client{Timeout: 60 * time.Second}}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Identity is the identity requests are signed as, "" for none.
func (c *Client) Identity() string { return c.identity }

// APIError is an error answer from the server.
type APIError struct {
	Status int
	Field  string
	Msg    string
	// RetryAfter is how long the server asked to wait before retrying (429), else 0.
	RetryAfter time.Duration
}

// retryAfter reads a Retry-After header given in seconds; 1 s when absent or unreadable.
func retryAfter(h string) time.Duration {
	if n, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	return time.Second
}

func (e *APIError) Error() string {
	if e.Field != "" && !strings.HasPrefix(e.Msg, e.Field+":") {
		return fmt.Sprintf("server refused (%d): %s: %s", e.Status, e.Field, e.Msg)
	}
	return fmt.Sprintf("server refused (%d): %s", e.Status, e.Msg)
}

// SignedEntry builds and signs an entry: the payload is canonicalized first, as the log
// requires.
func SignedEntry(kind ledger.Kind, submitter string, submitted time.Time, payload []byte, priv ed25519.PrivateKey) (*ledger.Entry, error) {
	e, err := ledger.NewEntryJSON(kind, submitter, submitted, payload)
	if err != nil {
		return nil, err
	}
	if err := ledger.Sign(e, priv); err != nil {
		return nil, err
	}
	return e, nil
}

// Append sends a signed entry and returns its receipt. key, when not empty, is the
// idempotency key: resending with it returns the original receipt.
func (c *Client) Append(ctx context.Context, e *ledger.Entry, key string) (api.ReceiptResponse, error) {
	req := api.AppendRequest{
		Kind: e.Kind().String(), Submitter: e.Submitter(), Submitted: e.Submitted(),
		Payload: e.Payload(), Signature: base64.StdEncoding.EncodeToString(e.Signature()),
		IdempotencyKey: key,
	}
	body, err := json.Marshal(req)
	if err != nil {
		return api.ReceiptResponse{}, err
	}
	var rec api.ReceiptResponse
	err = c.do(ctx, http.MethodPost, "/v1/log/entries", bytes.NewReader(body), &rec)
	return rec, err
}

// Checkpoint returns the latest signed checkpoint note.
func (c *Client) Checkpoint(ctx context.Context) ([]byte, error) {
	return c.text(ctx, "/v1/log/checkpoint")
}

// VerifierKey returns the server's checkpoint verifier key. A party should pin it out of band
// rather than trust what the server says; this is for convenience and comparison.
func (c *Client) VerifierKey(ctx context.Context) (string, error) {
	b, err := c.text(ctx, "/v1/log/verifier")
	return strings.TrimSpace(string(b)), err
}

// Entries returns the leaf bytes of entries [start, end), paging as the server requires.
func (c *Client) Entries(ctx context.Context, start, end int64) ([][]byte, error) {
	var out [][]byte
	for start < end {
		var resp api.EntriesResponse
		if err := c.do(ctx, http.MethodGet, fmt.Sprintf("/v1/log/entries?start=%d&end=%d", start, end), nil, &resp); err != nil {
			return nil, err
		}
		if len(resp.Entries) == 0 {
			return nil, fmt.Errorf("server returned no entries from %d", start)
		}
		for _, e := range resp.Entries {
			if e.Index != start {
				return nil, fmt.Errorf("server returned entry %d where %d was due", e.Index, start)
			}
			b, err := base64.StdEncoding.DecodeString(e.LeafInput)
			if err != nil {
				return nil, fmt.Errorf("entry %d: leaf_input: %w", e.Index, err)
			}
			out = append(out, b)
			start++
		}
	}
	return out, nil
}

// InclusionProof returns the audit path of entry index in the tree of the given size.
func (c *Client) InclusionProof(ctx context.Context, index, size int64) (tlog.RecordProof, error) {
	var resp api.InclusionResponse
	if err := c.do(ctx, http.MethodGet, fmt.Sprintf("/v1/log/proofs/inclusion?index=%d&size=%d", index, size), nil, &resp); err != nil {
		return nil, err
	}
	return decodeHashes(resp.AuditPath)
}

// ConsistencyProof returns the proof that the tree of size second extends that of size first.
func (c *Client) ConsistencyProof(ctx context.Context, first, second int64) (tlog.TreeProof, error) {
	var resp api.ConsistencyResponse
	if err := c.do(ctx, http.MethodGet, fmt.Sprintf("/v1/log/proofs/consistency?first=%d&second=%d", first, second), nil, &resp); err != nil {
		return nil, err
	}
	return decodeHashes(resp.Consistency)
}

func decodeHashes(ss []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(ss))
	for i, s := range ss {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != len(tlog.Hash{}) {
			return nil, fmt.Errorf("proof hash %d: %q is not a base64 32-byte hash", i, s)
		}
		copy(out[i][:], b)
	}
	return out, nil
}

func (c *Client) text(ctx context.Context, path string) ([]byte, error) {
	var b bytes.Buffer
	err := c.do(ctx, http.MethodGet, path, nil, &b)
	return b.Bytes(), err
}

// do sends a request and decodes a JSON answer into out (or copies it into a *bytes.Buffer).
func (c *Client) do(ctx context.Context, method, path string, body io.Reader, out any) error {
	return c.doType(ctx, method, path, "application/json", nil, body, out)
}

// doType is do with a content type and extra headers; it signs the request when the client
// has an identity.
func (c *Client) doType(ctx context.Context, method, path, contentType string, header http.Header, body io.Reader, out any) error {
	var data []byte
	if body != nil {
		var err error
		hint := int64(0)
		if l, ok := body.(interface{ Len() int }); ok { // bytes.Reader, bytes.Buffer, strings.Reader
			hint = int64(l.Len())
		}
		if data, err = readAll(body, hint, 1<<62); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(data))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	} else {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if c.priv != nil {
		reqauth.Sign(req, data, c.identity, c.priv, time.Now())
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err = readAll(resp.Body, resp.ContentLength, 64<<20)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return &APIError{Status: resp.StatusCode, Msg: "server overloaded", RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	}
	if resp.StatusCode >= 300 {
		var eb struct {
			Error string `json:"error"`
			Field string `json:"field"`
		}
		if json.Unmarshal(data, &eb) != nil || eb.Error == "" {
			eb.Error = strings.TrimSpace(string(data))
		}
		return &APIError{Status: resp.StatusCode, Field: eb.Field, Msg: eb.Error}
	}
	if buf, ok := out.(*bytes.Buffer); ok {
		buf.Write(data)
		return nil
	}
	// goccy/go-json: an intake answer holds a receipt per record, and decoding a thousand
	// with encoding/json cost a sender about as much as signing them.
	if err := gojson.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

// readAll reads r to its end, at most max bytes, into a buffer sized for hint bytes (a
// Content-Length, or -1 when unknown), so that a large body is not copied as it grows.
func readAll(r io.Reader, hint, max int64) ([]byte, error) {
	if hint < 0 || hint > max {
		hint = 0
	}
	buf := bytes.NewBuffer(make([]byte, 0, hint+bytes.MinRead))
	_, err := buf.ReadFrom(io.LimitReader(r, max))
	return buf.Bytes(), err
}

// IsRefused reports whether err is the server refusing the request (4xx), as opposed to a
// transport failure or a server error worth retrying.
func IsRefused(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 && ae.Status != http.StatusTooManyRequests
}
