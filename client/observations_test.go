package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"slices"
	"testing"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/api"
	"github.com/truce-mission/truce/client"
	"github.com/truce-mission/truce/internal/testlog"
	"github.com/truce-mission/truce/keys"
	"github.com/truce-mission/truce/obsindex"
)

// intakeServer serves the real API over a log in a temporary SQLite store.
func intakeServer(t *testing.T) string {
	t.Helper()
	a, err := agreement.LoadFile("../examples/line-of-contact.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lg := testlog.Open(t, a).Log
	tagger, err := obsindex.NewTagger(a)
	if err != nil {
		t.Fatal(err)
	}
	index := obsindex.New(a, tagger)
	poke := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := obsindex.Follow(ctx, lg, index, poke, 20*time.Millisecond, nil); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	srv := httptest.NewServer(api.New(api.Config{
		Log: lg, Agreement: a, Observations: index, Tagger: tagger,
		Poke: func() {
			select {
			case poke <- struct{}{}:
			default:
			}
		},
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func monitor(t *testing.T, url string) *client.Client { return as(t, url, "monitor-1") }

func as(t *testing.T, url, id string) *client.Client {
	t.Helper()
	k, err := keys.LoadPrivateKey("../examples/keys/" + id + ".key")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := client.New(url, client.WithIdentity(id, k))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func obs(id string, lat float64, category string) json.RawMessage {
	// Keys out of canonical order and spaces: the client must canonicalize before signing.
	return json.RawMessage(fmt.Sprintf(`{ "source": "ground-monitor", "position": {"lat": %v, "lon": 34.1}, "observed": "2026-12-05T08:00:00Z", "id": %q, "category": %q }`, lat, id, category))
}

func TestSubmitObservations(t *testing.T) {
	url := intakeServer(t)
	cl := monitor(t, url)
	ctx := t.Context()
	submitted := time.Date(2026, 12, 5, 9, 0, 0, 123456789, time.FixedZone("x", 3600))
	records := []json.RawMessage{
		obs("o-1", 47.5, "tank"),
		obs("o-2", 47.6, "no-such-category"),
		obs("o-3", 97, "tank"),
		obs("o-4", 47.7, ""),
	}
	b, err := cl.SignObservations(records, submitted)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := cl.SendObservations(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Accepted != 2 || resp.Refused != 2 || resp.Duplicates != 0 || len(resp.Results) != 4 {
		t.Fatalf("first send: %+v", resp)
	}
	for i, want := range []string{"", "unknown-category", "invalid", ""} {
		res := resp.Results[i]
		switch {
		case want == "" && (res.Error != nil || res.Index == nil):
			t.Errorf("record %d: want a receipt, got %+v", i, res)
		case want != "" && (res.Error == nil || res.Error.Reason != want):
			t.Errorf("record %d: want refusal %q, got %+v", i, want, res)
		}
	}

	// Resending the very batch, and signing the same records again at the same time, both
	// answer the original receipts.
	again, err := cl.SendObservations(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	resigned, err := cl.SubmitObservations(ctx, records, submitted)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []api.IntakeResponse{again, resigned} {
		if r.Accepted != 0 || r.Duplicates != 2 || r.Refused != 2 {
			t.Fatalf("resend: %+v", r)
		}
		for _, i := range []int{0, 3} {
			if !r.Results[i].Duplicate || *r.Results[i].Index != *resp.Results[i].Index || r.Results[i].LeafHash != resp.Results[i].LeafHash {
				t.Errorf("resend record %d: %+v, first receipt %+v", i, r.Results[i], resp.Results[i])
			}
		}
	}

	// A batch whose every record is refused is an answer (the server's 422), not an error.
	all, err := cl.SubmitObservations(ctx, []json.RawMessage{obs("o-5", 200, "")}, submitted)
	if err != nil {
		t.Fatalf("all refused: %v", err)
	}
	if all.Refused != 1 || all.Results[0].Error == nil {
		t.Fatalf("all refused: %+v", all)
	}

	// What was accepted, once, is what the analyst reads back.
	page, err := as(t, url, "analyst-1").Observations(ctx, neturl.Values{"limit": {"10"}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range page.Observations {
		ids = append(ids, o.Obs.ID)
	}
	if !slices.Equal(ids, []string{"o-1", "o-4"}) {
		t.Errorf("observations read back: %q, want [o-1 o-4]", ids)
	}
}

func TestSubmitObservationsNeedsIdentity(t *testing.T) {
	cl, _ := client.New("http://127.0.0.1:1")
	_, err := cl.SubmitObservations(t.Context(), []json.RawMessage{obs("o-1", 47, "")}, time.Now())
	if !errors.Is(err, client.ErrNoIdentity) {
		t.Fatalf("err = %v, want ErrNoIdentity", err)
	}
}

func TestSignObservationsRefuses(t *testing.T) {
	cl := monitor(t, "http://127.0.0.1:1")
	tests := []struct {
		name    string
		records []json.RawMessage
	}{
		{"none", nil},
		{"not JSON", []json.RawMessage{json.RawMessage(`{"id":`)}},
		{"too many", make([]json.RawMessage, api.MaxObservationsPerRequest+1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := cl.SignObservations(tc.records, time.Now()); err == nil {
				t.Fatal("signed")
			}
		})
	}
}

func TestSubmitObservationsOverloaded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	cl := monitor(t, srv.URL)
	_, err := cl.SubmitObservations(context.Background(), []json.RawMessage{obs("o-1", 47, "")}, time.Now())
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusTooManyRequests || ae.RetryAfter != 3*time.Second {
		t.Fatalf("err = %#v, want a 429 APIError with RetryAfter 3s", err)
	}
	if client.IsRefused(err) {
		t.Error("IsRefused(429) = true; an overloaded server is worth retrying")
	}
}
