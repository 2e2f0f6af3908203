package api_test

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
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/api"
	"github.com/truce-mission/truce/client"
	"github.com/truce-mission/truce/internal/testlog"
	"github.com/truce-mission/truce/keys"
	"github.com/truce-mission/truce/ledger"
)

type fixture struct {
	srv  *httptest.Server
	log  *ledger.Log
	cl   *client.Client
	keys map[string]ed25519.PrivateKey
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	a, err := agreement.LoadFile("../examples/line-of-contact.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l := testlog.Open(t, a)
	lg, vkey := l.Log, l.VerifierKey
	srv := httptest.NewServer(api.New(api.Config{Log: lg, VerifierKey: vkey, Agreement: a}))
	t.Cleanup(srv.Close)
	reader, err := keys.LoadPrivateKey("../examples/keys/analyst-1.key")
	if err != nil {
		t.Fatal(err)
	}
	cl, _ := client.New(srv.URL, client.WithIdentity("analyst-1", reader))
	f := &fixture{srv: srv, log: lg, cl: cl, keys: map[string]ed25519.PrivateKey{}}
	for _, id := range []string{"monitor-1", "east-liaison"} {
		k, err := keys.LoadPrivateKey("../examples/keys/" + id + ".key")
		if err != nil {
			t.Fatal(err)
		}
		f.keys[id] = k
	}
	return f
}

func (f *fixture) signed(t *testing.T, id, payload string) *ledger.Entry {
	t.Helper()
	e, err := client.SignedEntry(ledger.KindObservation, id, time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC), []byte(payload), f.keys[id])
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func body(e *ledger.Entry) map[string]any {
	return map[string]any{
		"kind": e.Kind().String(), "submitter": e.Submitter(), "submitted": e.Submitted(),
		"payload": json.RawMessage(e.Payload()), "signature": base64.StdEncoding.EncodeToString(e.Signature()),
	}
}

func post(t *testing.T, url string, b []byte) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url+"/v1/log/entries", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return resp.StatusCode, m
}

// TestAppendRefusesBadEntries sends wrongly signed, unsigned, oversized, malformed and
// unknown-identity entries: each is refused with a 4xx naming the field, and the entries
// already accepted are unchanged.
func TestAppendRefusesBadEntries(t *testing.T) {
	f := newFixture(t)
	good := f.signed(t, "monitor-1", `{"text":"first"}`)
	rec, err := f.cl.Append(t.Context(), good, "")
	if err != nil {
		t.Fatal(err)
	}
	before, _ := f.cl.Checkpoint(t.Context())

	mutate := func(change func(m map[string]any)) []byte {
		m := body(f.signed(t, "monitor-1", `{"text":"second"}`))
		change(m)
		b, _ := json.Marshal(m)
		return b
	}
	other := f.signed(t, "east-liaison", `{"text":"second"}`)
	for _, tc := range []struct {
		name   string
		body   []byte
		status int
		field  string
		msg    string
	}{
		{"signed by another key", mutate(func(m map[string]any) { m["signature"] = base64.StdEncoding.EncodeToString(other.Signature()) }), 403, "signature", `does not verify for identity "monitor-1"`},
		{"payload changed after signing", mutate(func(m map[string]any) { m["payload"] = json.RawMessage(`{"text":"forged"}`) }), 403, "signature", "does not verify"},
		{"unsigned", mutate(func(m map[string]any) { delete(m, "signature") }), 400, "signature", "missing"},
		{"signature not base64", mutate(func(m map[string]any) { m["signature"] = "%%%" }), 400, "signature", "not standard base64"},
		{"unknown identity", mutate(func(m map[string]any) { m["submitter"] = "mallory" }), 403, "submitter", `"mallory"`},
		{"unknown kind", mutate(func(m map[string]any) { m["kind"] = "gossip" }), 400, "kind", `"gossip"`},
		{"missing time", mutate(func(m map[string]any) { delete(m, "submitted") }), 400, "submitted", "missing"},
		{"bad time", mutate(func(m map[string]any) { m["submitted"] = "yesterday" }), 400, "submitted", `"yesterday"`},
		// json.Marshal compacts a RawMessage, so the spaces go in after it.
		{"payload not canonical", bytes.Replace(mutate(func(map[string]any) {}), []byte(`{"text":"second"}`), []byte(`{"text": "second"}`), 1), 400, "payload", "canonical"},
		{"unknown field", mutate(func(m map[string]any) { m["colour"] = "red" }), 400, "colour", "unknown field"},
		{"wrong type", mutate(func(m map[string]any) { m["kind"] = 7 }), 400, "kind", "wrong type"},
		{"not JSON", []byte(`{"kind":`), 400, "", "malformed JSON"},
		{"empty body", nil, 400, "", "empty body"},
		{"oversized", mutate(func(m map[string]any) {
			m["payload"] = json.RawMessage(`{"text":"` + strings.Repeat("x", 200<<10) + `"}`)
		}), 413, "", "bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, m := post(t, f.srv.URL, tc.body)
			if status != tc.status {
				t.Errorf("status %d, want %d (%v)", status, tc.status, m)
			}
			if got, _ := m["field"].(string); got != tc.field {
				t.Errorf("field %q, want %q (%v)", got, tc.field, m)
			}
			if msg, _ := m["error"].(string); !strings.Contains(msg, tc.msg) {
				t.Errorf("error %q, want it to contain %q", msg, tc.msg)
			}
		})
	}
	after, _ := f.cl.Checkpoint(t.Context())
	if !bytes.Equal(before, after) || f.log.Size() != 1 {
		t.Errorf("the log changed: size %d\nbefore %s\nafter %s", f.log.Size(), before, after)
	}
	leaves, err := f.cl.Entries(t.Context(), 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if h := tlog.RecordHash(leaves[0]); base64.StdEncoding.EncodeToString(h[:]) != rec.LeafHash {
		t.Errorf("entry 0 changed: %s", leaves[0])
	}
}

// TestProofsVerifyIndependently checks the proofs served over HTTP with the transparency-dev
// verifier, which shares no code with the log.
func TestProofsVerifyIndependently(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const n = 37
	var sizes []uint64
	var roots [][]byte
	for i := range n {
		if _, err := f.cl.Append(ctx, f.signed(t, "monitor-1", fmt.Sprintf(`{"n":%d}`, i)), ""); err != nil {
			t.Fatal(err)
		}
		note, err := f.cl.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(note), "\n")
		root, _ := base64.StdEncoding.DecodeString(lines[2])
		sizes, roots = append(sizes, uint64(i+1)), append(roots, root)
	}
	leaves, err := f.cl.Entries(ctx, 0, n)
	if err != nil {
		t.Fatal(err)
	}
	h := rfc6962.DefaultHasher
	checked := 0
	for si, size := range sizes {
		for idx := uint64(0); idx < size; idx += 3 {
			p, err := f.cl.InclusionProof(ctx, int64(idx), int64(size))
			if err != nil {
				t.Fatal(err)
			}
			if err := proof.VerifyInclusion(h, idx, size, h.HashLeaf(leaves[idx]), flat(p), roots[si]); err != nil {
				t.Fatalf("inclusion of %d in %d: %v", idx, size, err)
			}
			checked++
		}
		for first := uint64(1); first < size; first += 5 {
			p, err := f.cl.ConsistencyProof(ctx, int64(first), int64(size))
			if err != nil {
				t.Fatal(err)
			}
			if err := proof.VerifyConsistency(h, first, size, flat(p), roots[first-1], roots[si]); err != nil {
				t.Fatalf("consistency %d -> %d: %v", first, size, err)
			}
			checked++
		}
	}
	t.Logf("%d proofs verified with transparency-dev/merkle", checked)
}

func flat[H ~[32]byte](hs []H) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = hs[i][:]
	}
	return out
}

// TestIdempotencyKeys checks that a resubmission returns the original receipt, that a key
// reused for other content is refused, and that keys are per submitter.
func TestIdempotencyKeys(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	e := f.signed(t, "monitor-1", `{"text":"first"}`)
	first, err := f.cl.Append(ctx, e, "k1")
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.cl.Append(ctx, e, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if again.Index != first.Index || again.LeafHash != first.LeafHash || !again.Duplicate {
		t.Fatalf("resubmission: got %+v, want the original receipt %+v marked duplicate", again, first)
	}
	_, err = f.cl.Append(ctx, f.signed(t, "monitor-1", `{"text":"other"}`), "k1")
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusConflict {
		t.Fatalf("key reused for other content: got %v, want 409", err)
	}
	other, err := f.cl.Append(ctx, f.signed(t, "east-liaison", `{"text":"first"}`), "k1")
	if err != nil {
		t.Fatalf("another submitter's key of the same name: %v", err)
	}
	if other.Index == first.Index || other.Duplicate {
		t.Fatalf("keys leak across submitters: %+v", other)
	}
	if n := f.log.Size(); n != 2 {
		t.Fatalf("log size %d, want 2", n)
	}
}
