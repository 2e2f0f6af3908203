package outbox_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/truce-mission/truce/alert/outbox"
	"github.com/truce-mission/truce/store/sqlite"
)

// receiver is a webhook endpoint that fails the first failFirst requests with 503, checks
// every signature, and records the sequence numbers it took, per subscription.
type receiver struct {
	t         *testing.T
	pub       ed25519.PublicKey
	mu        sync.Mutex
	failFirst int
	requests  int
	got       map[string][]int64
	changed   chan struct{}
}

func newReceiver(t *testing.T, pub ed25519.PublicKey, failFirst int) (*receiver, *httptest.Server) {
	rc := &receiver{t: t, pub: pub, failFirst: failFirst, got: map[string][]int64{}, changed: make(chan struct{}, 100)}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return rc, srv
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := outbox.VerifyWebhook(rc.pub, body, r.Header.Get(outbox.HeaderSignature)); err != nil {
		rc.t.Errorf("delivery: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var d outbox.Delivery
	if err := json.Unmarshal(body, &d); err != nil {
		rc.t.Errorf("delivery body: %v", err)
	}
	if h := r.Header.Get(outbox.HeaderSeq); h != strconv.FormatInt(d.Seq, 10) {
		rc.t.Errorf("header %s %q, body seq %d", outbox.HeaderSeq, h, d.Seq)
	}
	var al struct {
		Identifier string `json:"identifier"`
	}
	if json.Unmarshal(d.Alert, &al) != nil || al.Identifier == "" {
		rc.t.Errorf("delivery without a CAP alert: %s", body)
	}
	rc.mu.Lock()
	rc.requests++
	fail := rc.requests <= rc.failFirst
	if !fail {
		rc.got[d.Subscription] = append(rc.got[d.Subscription], d.Seq)
	}
	rc.mu.Unlock()
	if fail {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
	rc.changed <- struct{}{}
}

// wait blocks until cond holds over what the receiver got (the test's deadline bounds it).
func (rc *receiver) wait(cond func(map[string][]int64) bool) {
	for {
		rc.mu.Lock()
		ok := cond(rc.got)
		rc.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-rc.changed:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (rc *receiver) snapshot() map[string][]int64 {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string][]int64{}
	for k, v := range rc.got {
		out[k] = slices.Clone(v)
	}
	return out
}

// running is an outbox with webhook delivery over a SQLite store, as truce serve runs them.
type running struct {
	st     *sqlite.Store
	ob     *outbox.Outbox
	hooks  *outbox.Webhooks
	cancel context.CancelFunc
	done   chan struct{}
}

func start(t *testing.T, w *world, dir string, key ed25519.PrivateKey, leaves [][]byte) *running {
	t.Helper()
	st, err := sqlite.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ob := newOutbox(t, w.a)
	if err := ob.Apply(0, leaves); err != nil {
		t.Fatal(err)
	}
	hooks := outbox.NewWebhooks(ob, st, outbox.WebhookOptions{Key: key, AllowPrivate: true, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{st: st, ob: ob, hooks: hooks, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		if err := hooks.Run(ctx); err != nil {
			t.Error(err)
		}
	}()
	return r
}

func (r *running) stop() {
	r.cancel()
	<-r.done
	r.st.Close()
}

func (r *running) delivered(t *testing.T, id string) int64 {
	t.Helper()
	subs, err := r.st.Subscriptions(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subs {
		if s.ID == id {
			return s.Delivered
		}
	}
	t.Fatalf("no subscription %s", id)
	return 0
}

// TestWebhookDelivery: a receiver that fails at first gets every alert its identity may see,
// in order, signed; the delivery marks survive a restart, after which only new alerts come.
func TestWebhookDelivery(t *testing.T) {
	w := newWorld(t)
	pub, key, _ := ed25519.GenerateKey(nil)
	rc, srv := newReceiver(t, pub, 3)
	dir := t.TempDir()
	leaves := w.script()

	r := start(t, w, dir, key, leaves)
	analyst, err := r.hooks.Subscribe(t.Context(), w.identity("analyst-1"), srv.URL+"/analyst", 0)
	if err != nil {
		t.Fatal(err)
	}
	east, err := r.hooks.Subscribe(t.Context(), w.identity("east-liaison"), srv.URL+"/east", 0)
	if err != nil {
		t.Fatal(err)
	}
	late, err := r.hooks.Subscribe(t.Context(), w.identity("monitor-1"), srv.URL+"/late", -1) // from now on
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.hooks.Subscribe(t.Context(), w.identity("monitor-1"), "ftp://example.org/", -1); err == nil {
		t.Error("an ftp URL was accepted")
	}
	rc.wait(func(got map[string][]int64) bool { return len(got[analyst.ID]) == 3 && len(got[east.ID]) == 2 })
	for r.delivered(t, analyst.ID) != 3 || r.delivered(t, east.ID) != 3 {
		time.Sleep(10 * time.Millisecond) // the mark is stored just after the answer
	}
	r.stop()

	// Restart: the log has one more alert (a new east incident, seq 4); replaying it gives the
	// same sequence, and delivery resumes after the stored marks.
	leaves = append(leaves, w.obs("monitor-1", "o4", "tank", "east", [2]float64{39.71855, 47.52078}))
	r = start(t, w, dir, key, leaves)
	defer r.stop()
	if n := r.ob.Last(); n != 4 {
		t.Fatalf("after replay, last seq %d, want 4", n)
	}
	rc.wait(func(got map[string][]int64) bool {
		return len(got[analyst.ID]) == 4 && len(got[east.ID]) == 3 && len(got[late.ID]) == 1
	})
	got := rc.snapshot()
	for id, want := range map[string][]int64{analyst.ID: {1, 2, 3, 4}, east.ID: {1, 3, 4}, late.ID: {4}} {
		if !slices.Equal(got[id], want) {
			t.Errorf("subscription %s got %v, want %v (each once, in order)", id, got[id], want)
		}
	}
	rc.mu.Lock()
	if rc.requests < 3+4+3+1 {
		t.Errorf("%d requests: the failed ones were not retried", rc.requests)
	}
	rc.mu.Unlock()

	// Unsubscribing stops delivery and is refused for another identity's subscription.
	if err := r.hooks.Unsubscribe(t.Context(), "west-liaison", east.ID); err == nil {
		t.Error("west-liaison deleted east-liaison's subscription")
	}
	if err := r.hooks.Unsubscribe(t.Context(), "east-liaison", east.ID); err != nil {
		t.Fatal(err)
	}
	subs, _ := r.hooks.List(t.Context(), "east-liaison")
	if len(subs) != 0 {
		t.Errorf("after unsubscribing: %v", subs)
	}
}

func TestSignature(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(nil)
	body := []byte(`{"subscription":"sub-1","seq":1,"alert":{}}`)
	sig := outbox.SignWebhook(key, body)
	if err := outbox.VerifyWebhook(pub, body, sig); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		body []byte
		sig  string
	}{
		"body changed": {[]byte(`{"subscription":"sub-1","seq":2,"alert":{}}`), sig},
		"no prefix":    {body, sig[len("ed25519="):]},
		"garbage":      {body, "ed25519=AAAA"},
		"other key":    {body, outbox.SignWebhook(ed25519.NewKeyFromSeed(make([]byte, 32)), body)},
	} {
		if err := outbox.VerifyWebhook(pub, c.body, c.sig); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}

func TestBackoff(t *testing.T) {
	for attempt := range 12 {
		for range 50 {
			d := outbox.Backoff(attempt, time.Second, time.Minute)
			ceil := min(time.Minute, time.Second<<attempt)
			if d < time.Second/2 || d > ceil {
				t.Fatalf("attempt %d: %s outside [0.5s, %s]", attempt, d, ceil)
			}
		}
	}
}

// By default a webhook receiver on the server's own side (loopback here) is refused at dial
// time; AllowPrivate lets it through.
func TestWebhookPrivateAddresses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	for _, allow := range []bool{false, true} {
		resp, err := outbox.WebhookClient(allow).Get(srv.URL)
		if allow {
			if err != nil {
				t.Fatalf("AllowPrivate: %v", err)
			}
			resp.Body.Close()
			continue
		}
		if !errors.Is(err, outbox.ErrPrivateAddress) {
			t.Fatalf("delivery to %s: %v, want ErrPrivateAddress", srv.URL, err)
		}
	}
	for addr, public := range map[string]bool{
		"127.0.0.1": false, "::1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "fe80::1": false, "fd00::1": false, "100.64.0.1": false, "0.0.0.0": false,
		"::ffff:127.0.0.1": false, "224.0.0.1": false,
		"8.8.8.8": true, "2001:4860:4860::8888": true, "::ffff:8.8.8.8": true,
	} {
		if got := outbox.PublicAddr(netip.MustParseAddr(addr)); got != public {
			t.Errorf("publicAddr(%s) = %v, want %v", addr, got, public)
		}
	}
}
