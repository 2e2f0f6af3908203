package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/truce-mission/truce/api"
	"github.com/truce-mission/truce/ledger"
)

// ErrNoIdentity is returned by calls that must sign as a submitter when the client was made
// without [WithIdentity].
var ErrNoIdentity = errors.New("client has no identity: use WithIdentity")

// ObservationBatch is a batch of observation records signed for POST /v1/observations: the
// records as canonicalized, one submission time and one batch signature over them all.
// Sending the same batch again is idempotent on the server (an observation's id makes a
// resubmission answer the original receipt), so a caller that retries must resend this
// batch, not sign the records anew with another time.
type ObservationBatch struct {
	Submitter string
	Submitted time.Time // UTC
	Records   [][]byte  // canonical JSON, in body order
	Signature []byte    // ed25519 over ledger.BatchSignedMessage

	body []byte // the NDJSON body
}

// Len is the number of records in the batch.
func (b *ObservationBatch) Len() int { return len(b.Records) }

// SignObservations canonicalizes records (observation objects or GeoJSON Features) with
// ledger.Canonicalize and signs them as one batch submitted at submitted, as the client's
// identity. It needs [WithIdentity] and 1 to api.MaxObservationsPerRequest records.
func (c *Client) SignObservations(records []json.RawMessage, submitted time.Time) (*ObservationBatch, error) {
	if c.priv == nil {
		return nil, ErrNoIdentity
	}
	switch {
	case len(records) == 0:
		return nil, errors.New("signing observations: no record")
	case len(records) > api.MaxObservationsPerRequest:
		return nil, fmt.Errorf("signing observations: %d records in one batch, at most %d", len(records), api.MaxObservationsPerRequest)
	}
	b := &ObservationBatch{Submitter: c.identity, Submitted: submitted.UTC().Round(0), Records: make([][]byte, len(records))}
	digests := make([]tlog.Hash, len(records))
	size := 0
	for i, r := range records {
		canon, err := ledger.Canonicalize(r)
		if err != nil {
			return nil, fmt.Errorf("signing observations: record %d: %w", i, err)
		}
		// Canonical JSON escapes every newline within strings; one here would split the
		// record in two on the server's side of the NDJSON body.
		if bytes.IndexByte(canon, '\n') >= 0 {
			return nil, fmt.Errorf("signing observations: record %d: canonical form holds a newline", i)
		}
		b.Records[i] = canon
		digests[i] = ledger.BatchDigest(ledger.KindObservation, b.Submitter, b.Submitted, canon)
		size += len(canon) + 1
	}
	root, _ := ledger.BatchRoot(digests)
	b.Signature = ed25519.Sign(c.priv, ledger.BatchSignedMessage(b.Submitter, int64(len(records)), root))
	b.body = make([]byte, 0, size)
	for _, r := range b.Records {
		b.body = append(b.body, r...)
		b.body = append(b.body, '\n')
	}
	return b, nil
}

// SendObservations sends a signed batch as NDJSON and returns the server's answer, one
// result per record in order. A refused request (4xx but 429), an overloaded server (429,
// with [APIError.RetryAfter] set) and a server error (5xx) come back as *[APIError]; see
// [IsRefused]. A batch whose every record the server refused (its 422) is an answer, not an
// error. The request itself is signed afresh on each call, so b may be sent again.
func (c *Client) SendObservations(ctx context.Context, b *ObservationBatch) (api.IntakeResponse, error) {
	if c.priv == nil {
		return api.IntakeResponse{}, ErrNoIdentity
	}
	if b.Submitter != c.identity {
		return api.IntakeResponse{}, fmt.Errorf("sending observations: batch signed by %q, client is %q", b.Submitter, c.identity)
	}
	h := http.Header{}
	h.Set(api.HeaderBatchSubmitted, b.Submitted.Format(time.RFC3339Nano))
	h.Set(api.HeaderBatchSignature, base64.StdEncoding.EncodeToString(b.Signature))
	var resp api.IntakeResponse
	err := c.doType(ctx, http.MethodPost, "/v1/observations", api.ContentNDJSON, h, bytes.NewReader(b.body), &resp)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusUnprocessableEntity {
		// The server answers 422 when it refused every record; the body is still the
		// per-record answer, which doType keeps as the message.
		var all api.IntakeResponse
		if json.Unmarshal([]byte(ae.Msg), &all) == nil && len(all.Results) == len(b.Records) {
			return all, nil
		}
	}
	if err != nil {
		return api.IntakeResponse{}, err
	}
	if len(resp.Results) != len(b.Records) {
		return resp, fmt.Errorf("POST /v1/observations: %d results for %d records", len(resp.Results), len(b.Records))
	}
	return resp, nil
}

// SubmitObservations signs records as one batch submitted at submitted (see
// [Client.SignObservations]) and sends it (see [Client.SendObservations]). On a 429 it
// returns the *[APIError] so the caller can back off; a caller that retries should keep the
// signed batch from SignObservations and resend it, which makes the retry idempotent.
func (c *Client) SubmitObservations(ctx context.Context, records []json.RawMessage, submitted time.Time) (api.IntakeResponse, error) {
	b, err := c.SignObservations(records, submitted)
	if err != nil {
		return api.IntakeResponse{}, err
	}
	return c.SendObservations(ctx, b)
}

// Observations returns one page of GET /v1/observations; query holds its filters (since,
// until, zone, party, category, source, submitter), limit and cursor. It needs
// [WithIdentity] with a role that may read observations.
func (c *Client) Observations(ctx context.Context, query url.Values) (api.ObservationPage, error) {
	var page api.ObservationPage
	path := "/v1/observations"
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	err := c.do(ctx, http.MethodGet, path, nil, &page)
	return page, err
}
