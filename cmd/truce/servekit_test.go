package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/truce-mission/truce/client"
	"github.com/truce-mission/truce/keys"
	"github.com/truce-mission/truce/store"
	"github.com/truce-mission/truce/store/sqlite"
)

// errorRecorder keeps the messages logged at error level once stopping is set.
type errorRecorder struct {
	stopping *atomic.Bool
	mu       *sync.Mutex
	errs     *[]string
	attrs    []slog.Attr
}

func (r errorRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r errorRecorder) WithAttrs(as []slog.Attr) slog.Handler {
	r.attrs = append(r.attrs[:len(r.attrs):len(r.attrs)], as...)
	return r
}
func (r errorRecorder) WithGroup(string) slog.Handler { return r }
func (r errorRecorder) Handle(_ context.Context, rec slog.Record) error {
	if rec.Level < slog.LevelError || !r.stopping.Load() {
		return nil
	}
	msg := rec.Message
	rec.Attrs(func(a slog.Attr) bool { msg += " " + a.String(); return true })
	r.mu.Lock()
	*r.errs = append(*r.errs, msg)
	r.mu.Unlock()
	return nil
}

// TestNodeStopsQuietly: a node that took observations, delivered their alerts to a webhook
// and stopped logs no error on the way out: its followers and webhook workers end before
// the store closes.
func TestNodeStopsQuietly(t *testing.T) {
	a, err := loadAgreement("../../examples/line-of-contact.yaml")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var hooked atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hooked.Add(1) }))
	defer hook.Close()
	if err := st.PutSubscription(t.Context(), store.Subscription{
		ID: "sub-1", Identity: "monitor-1", URL: hook.URL, Created: time.Now().UTC(),
	}); err != nil {
		t.Fatal(err)
	}
	var (
		stopping atomic.Bool
		mu       sync.Mutex
		errs     []string
	)
	logger := slog.New(errorRecorder{stopping: &stopping, mu: &mu, errs: &errs})
	_, priv, _ := ed25519.GenerateKey(nil)
	n, err := startNode(t.Context(), a, st, "truce/test", priv, logger, nodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(n.handler)
	monitor, err := keys.LoadPrivateKey("../../examples/keys/monitor-1.key")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := client.New(srv.URL, client.WithIdentity("monitor-1", monitor))
	if err != nil {
		t.Fatal(err)
	}
	// Tanks along the line of contact, in the DMZ: each opens an incident, so an alert.
	var recs []json.RawMessage
	for i := range 20 {
		recs = append(recs, json.RawMessage(fmt.Sprintf(`{"assessed_party":"east","category":"tank","count":2,"credibility":2,"id":"o%d","observed":"2026-12-05T08:00:00Z","position":{"lat":47.01571,"lon":%v},"reliability":"B","source":"ground-monitor"}`,
			i, 36.40572-0.2*float64(i))))
	}
	resp, err := cl.SubmitObservations(t.Context(), recs, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if resp.Accepted != len(recs) {
		t.Fatalf("accepted %d of %d: %+v", resp.Accepted, len(recs), resp.Results)
	}
	if err := n.alerts.outbox.Wait(t.Context(), n.log.Size()); err != nil {
		t.Fatal(err)
	}
	if n.alerts.outbox.Last() == 0 {
		t.Error("no alerts")
	}
	// Stop while a second batch may still be on its way through the followers.
	for i := range recs {
		recs[i] = json.RawMessage(fmt.Sprintf(`{"assessed_party":"west","category":"tank","count":2,"credibility":2,"id":"p%d","observed":"2026-12-05T08:00:00Z","position":{"lat":47.01571,"lon":%v},"reliability":"B","source":"ground-monitor"}`,
			i, 36.40572-0.2*float64(i)))
	}
	if _, err := cl.SubmitObservations(t.Context(), recs, time.Now()); err != nil {
		t.Fatal(err)
	}

	stopping.Store(true)
	srv.Close()
	if err := n.close(); err != nil {
		t.Error(err)
	}
	if err := <-n.followErr; err != nil {
		t.Error(err)
	}
	if err := st.Close(); err != nil {
		t.Error(err)
	}
	time.Sleep(50 * time.Millisecond) // anything left running would log now, or race
	mu.Lock()
	defer mu.Unlock()
	for _, e := range errs {
		t.Errorf("logged after stop began: %s", e)
	}
	t.Logf("%d alerts, %d webhook deliveries", n.alerts.outbox.Last(), hooked.Load())
}
