package api_test

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/alert"
	"github.com/truce-mission/truce/alert/outbox"
	"github.com/truce-mission/truce/api"
	"github.com/truce-mission/truce/internal/testlog"
	"github.com/truce-mission/truce/keys"
	"github.com/truce-mission/truce/ledger"
	"github.com/truce-mission/truce/reqauth"
	"github.com/truce-mission/truce/store/sqlite"
)

// Positions on the line of contact of examples/line-of-contact.yaml, in its DMZ, far apart.
var dmzPoints = [][2]float64{{36.40572, 47.01571}, {33.4, 46.62}, {39.71855, 47.52078}, {41.97499, 49.61889}}

// warning is a server with an alert outbox following its log.
type warning struct {
	t    *testing.T
	a    *agreement.Agreement
	log  *ledger.Log
	ob   *outbox.Outbox
	url  string
	keys map[string]ed25519.PrivateKey
	poke chan struct{}
	// closing is the server's Config.Closing: closing it ends the open streams.
	closing chan struct{}
}

func newWarning(t *testing.T) *warning {
	t.Helper()
	a, err := agreement.LoadFile("../examples/line-of-contact.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l := testlog.Open(t, a)
	lg, st, mission := l.Log, l.Store, l.Mission
	ob, err := outbox.New(a, outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hooks := outbox.NewWebhooks(ob, st, outbox.WebhookOptions{Key: mission, AllowPrivate: true, Logger: slog.New(slog.DiscardHandler)})
	w := &warning{t: t, a: a, log: lg, ob: ob, keys: map[string]ed25519.PrivateKey{}, poke: make(chan struct{}, 1), closing: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() {
		if err := outbox.Follow(ctx, lg, ob, w.poke, 20*time.Millisecond); err != nil {
			t.Error(err)
		}
		done <- struct{}{}
	}()
	go func() { _ = hooks.Run(ctx); done <- struct{}{} }()
	srv := httptest.NewServer(api.New(api.Config{Log: lg, Agreement: a, Alerts: ob, Webhooks: hooks, Heartbeat: 50 * time.Millisecond, Closing: w.closing}))
	t.Cleanup(func() { srv.Close(); cancel(); <-done; <-done })
	w.url = srv.URL
	for _, id := range allIdentities {
		k, err := keys.LoadPrivateKey("../examples/keys/" + id + ".key")
		if err != nil {
			t.Fatal(err)
		}
		w.keys[id] = k
	}
	return w
}

// observe appends a monitor's observation of a tank of party at p and returns its index.
func (w *warning) observe(id, party string, p [2]float64) int64 {
	w.t.Helper()
	payload := fmt.Sprintf(`{"assessed_party":%q,"category":"tank","count":2,"credibility":2,"id":%q,"observed":"2026-12-05T08:00:00Z","position":{"lat":%v,"lon":%v},"reliability":"B","source":"ground-monitor"}`,
		party, id, p[1], p[0])
	e, err := ledger.NewEntry(ledger.KindObservation, "monitor-1", time.Now().UTC(), []byte(payload))
	if err != nil {
		w.t.Fatal(err)
	}
	if err := ledger.Sign(e, w.keys["monitor-1"]); err != nil {
		w.t.Fatal(err)
	}
	r, err := w.log.Append(w.t.Context(), e)
	if err != nil {
		w.t.Fatal(err)
	}
	select {
	case w.poke <- struct{}{}:
	default:
	}
	return r.Index
}

func (w *warning) request(ctx context.Context, method, path, id string, body []byte) *http.Request {
	w.t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, w.url+path, strings.NewReader(string(body)))
	if err != nil {
		w.t.Fatal(err)
	}
	if id != "" {
		reqauth.Sign(req, body, id, w.keys[id], time.Now())
	}
	return req
}

func (w *warning) get(path, id string, out any) (int, string) {
	w.t.Helper()
	resp, err := http.DefaultClient.Do(w.request(w.t.Context(), "GET", path, id, nil))
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, out); err != nil {
			w.t.Fatalf("GET %s: %v: %s", path, err, b)
		}
	}
	return resp.StatusCode, string(b)
}

// sse is a client of GET /v1/alerts/stream.
type sse struct {
	t      *testing.T
	resp   *http.Response
	r      *bufio.Reader
	cancel context.CancelFunc
}

type sseEvent struct {
	id    int64
	event string
	data  string
}

func (w *warning) stream(id, query, lastEventID string) *sse {
	w.t.Helper()
	ctx, cancel := context.WithCancel(w.t.Context())
	req := w.request(ctx, "GET", "/v1/alerts/stream"+query, id, nil)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		w.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(resp.Body)
		cancel()
		w.t.Fatalf("stream: %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	s := &sse{t: w.t, resp: resp, r: bufio.NewReader(resp.Body), cancel: cancel}
	w.t.Cleanup(s.close)
	return s
}

func (s *sse) close() { s.cancel(); s.resp.Body.Close() }

// next reads the next event, counting the heartbeat comments on the way.
func (s *sse) next() sseEvent {
	s.t.Helper()
	var ev sseEvent
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			s.t.Fatalf("reading the stream: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev.event != "" {
				return ev
			}
		case strings.HasPrefix(line, ":"): // a comment: the preamble, or a heartbeat
		case strings.HasPrefix(line, "id: "):
			ev.id, _ = strconv.ParseInt(line[4:], 10, 64)
		case strings.HasPrefix(line, "event: "):
			ev.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.data += line[6:]
		}
	}
}

func (s *sse) expect(seq int64) alert.Alert {
	s.t.Helper()
	ev := s.next()
	var al alert.Alert
	if ev.event != "alert" || ev.id != seq {
		s.t.Fatalf("event %q id %d, want alert %d", ev.event, ev.id, seq)
	}
	if err := json.Unmarshal([]byte(ev.data), &al); err != nil || al.Identifier == "" {
		s.t.Fatalf("event %d data: %v: %s", seq, err, ev.data)
	}
	return al
}

// TestAlertStream: SSE over a real server, resumed with Last-Event-ID and ?after=, each
// identity seeing only what it may.
func TestAlertStream(t *testing.T) {
	w := newWarning(t)
	mon := w.stream("monitor-1", "", "") // from now: everything to come
	east := w.stream("east-liaison", "?after=0", "")
	w.observe("o1", "east", dmzPoints[0]) // seq 1, to east
	w.observe("o2", "west", dmzPoints[1]) // seq 2, to west
	first := mon.expect(1)
	mon.expect(2)
	if got := east.expect(1); got.Identifier != first.Identifier {
		t.Errorf("east got %s, the monitor %s", got.Identifier, first.Identifier)
	}
	w.observe("o3", "east", dmzPoints[2]) // seq 3, to east
	east.expect(3)                        // not 2: west's
	mon.expect(3)
	mon.close()

	// Resume: a reconnect with Last-Event-ID gets what came after, including what it missed.
	w.observe("o4", "west", dmzPoints[3]) // seq 4
	again := w.stream("monitor-1", "", "2")
	again.expect(3)
	again.expect(4)
	if ev := w.stream("west-liaison", "?after=1", "").next(); ev.id != 2 {
		t.Errorf("west-liaison from after=1: first event %d, want 2", ev.id)
	}
	// Idle: heartbeats.
	for {
		line, err := again.r.ReadString('\n')
		if err != nil {
			t.Fatalf("waiting for a heartbeat: %v", err)
		}
		if line == ": heartbeat\n" {
			break
		}
	}

	for _, c := range []struct{ id, query, last string }{
		{"monitor-1", "?after=x", ""}, {"monitor-1", "", "-1"}, {"monitor-1", "?from=1", ""},
	} {
		resp, err := http.DefaultClient.Do(func() *http.Request {
			req := w.request(t.Context(), "GET", "/v1/alerts/stream"+c.query, c.id, nil)
			if c.last != "" {
				req.Header.Set("Last-Event-ID", c.last)
			}
			return req
		}())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("stream %q Last-Event-ID %q: %d, want 400", c.query, c.last, resp.StatusCode)
		}
	}
}

func TestAlertsAndIncidents(t *testing.T) {
	w := newWarning(t)
	i1 := w.observe("o1", "east", dmzPoints[0])
	w.observe("o2", "west", dmzPoints[1])
	// The engine's enums encode as text but do not decode; a client reads its own shape.
	type incident struct {
		ID         int64    `json:"id"`
		Party      string   `json:"party"`
		Verdict    string   `json:"verdict"`
		Addressees []string `json:"addressees"`
		Alerts     []string `json:"alerts"`
		Evidence   []struct {
			Index int64 `json:"index"`
		} `json:"evidence"`
		Explanation []string `json:"explanation"`
	}
	var page struct {
		Incidents []incident `json:"incidents"`
		Next      string     `json:"next"`
	}
	if code, body := w.get("/v1/incidents", "analyst-1", &page); code != 200 || len(page.Incidents) != 2 {
		t.Fatalf("incidents as analyst: %d %s", code, body)
	}
	inc := page.Incidents[0]
	if inc.ID != 1 || inc.Party != "east" || len(inc.Alerts) != 1 || len(inc.Explanation) == 0 ||
		len(inc.Evidence) != 1 || inc.Evidence[0].Index != i1 || fmt.Sprint(inc.Addressees) != "[east]" {
		t.Errorf("incident 1: %+v", inc)
	}
	if code, body := w.get("/v1/incidents", "east-liaison", &page); code != 200 || len(page.Incidents) != 1 || page.Incidents[0].ID != 1 {
		t.Errorf("incidents as east-liaison: %d %s", code, body)
	}
	if code, _ := w.get("/v1/incidents?limit=1", "monitor-1", &page); code != 200 || len(page.Incidents) != 1 || page.Next == "" {
		t.Errorf("first page: %d %+v", code, page)
	} else {
		cursor := page.Next
		page.Next = ""
		if code, _ := w.get("/v1/incidents?limit=1&cursor="+cursor, "monitor-1", &page); code != 200 || len(page.Incidents) != 1 || page.Incidents[0].ID != 2 || page.Next != "" {
			t.Errorf("second page: %d %+v", code, page)
		}
	}
	for q, want := range map[string]int{"?party=west": 1, "?verdict=infraction": 2, "?verdict=dismissed": 0, "?zone=dmz": 2, "?category=heavy-weapons": 2} {
		page.Incidents = nil
		if code, body := w.get("/v1/incidents"+q, "monitor-1", &page); code != 200 || len(page.Incidents) != want {
			t.Errorf("incidents%s: %d, %d incidents, want %d: %s", q, code, len(page.Incidents), want, body)
		}
	}
	for _, q := range []string{"?verdict=bad", "?party=nobody", "?limit=0", "?cursor=zz", "?colour=red", "?since=yesterday"} {
		if code, _ := w.get("/v1/incidents"+q, "monitor-1", nil); code != 400 {
			t.Errorf("incidents%s: %d, want 400", q, code)
		}
	}

	var one struct {
		ID       int64 `json:"id"`
		Evidence []struct {
			Index   int64  `json:"index"`
			Counted string `json:"counted"`
			Why     string `json:"why"`
		} `json:"evidence"`
		Explanation []string `json:"explanation"`
		Alerts      []string `json:"alerts"`
	}
	if code, body := w.get("/v1/incidents/1", "east-liaison", &one); code != 200 || one.ID != 1 || len(one.Evidence) != 1 || one.Evidence[0].Why == "" {
		t.Fatalf("incident 1 as east-liaison: %d %s", code, body)
	}
	for path, want := range map[string]int{"/v1/incidents/1": 404, "/v1/incidents/2": 200, "/v1/incidents/9": 404, "/v1/incidents/x": 400} {
		if code, body := w.get(path, "west-liaison", nil); code != want {
			t.Errorf("%s as west-liaison: %d, want %d: %s", path, code, want, body)
		}
	}

	id := one.Alerts[0]
	var js map[string]any
	if code, body := w.get("/v1/alerts/"+id, "east-liaison", &js); code != 200 || js["identifier"] != id || js["scope"] != "Restricted" {
		t.Errorf("alert JSON: %d %s", code, body)
	}
	code, xml := w.get("/v1/alerts/"+id+".cap", "east-liaison", nil)
	if code != 200 {
		t.Fatalf("alert XML: %d %s", code, xml)
	}
	al, err := alert.Parse([]byte(xml))
	if err != nil || al.Identifier != id {
		t.Errorf("alert XML: %v: %s", err, xml)
	}
	req := w.request(t.Context(), "GET", "/v1/alerts/"+id, "monitor-1", nil)
	req.Header.Set("Accept", api.ContentCAP)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != api.ContentCAP {
		t.Errorf("Accept: %s: %d %s", api.ContentCAP, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for who, want := range map[string]int{"west-liaison": 404, "public-reader": 404, "guarantor-a-rep": 200, "uav-gs-1": 403, "": 401} {
		if code, body := w.get("/v1/alerts/"+id, who, nil); code != want {
			t.Errorf("alert as %q: %d, want %d: %s", who, code, want, body)
		}
	}
}

func TestSubscriptionEndpoints(t *testing.T) {
	w := newWarning(t)
	do := func(method, path, id, body string, out any) (int, string) {
		t.Helper()
		resp, err := http.DefaultClient.Do(w.request(t.Context(), method, path, id, []byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if out != nil && resp.StatusCode < 300 {
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatalf("%s %s: %v: %s", method, path, err, b)
			}
		}
		return resp.StatusCode, string(b)
	}
	var sub api.Subscription
	if code, body := do("POST", "/v1/subscriptions", "east-liaison", `{"url":"http://127.0.0.1:9/hook","after":0}`, &sub); code != 201 || sub.ID == "" || sub.Identity != "east-liaison" {
		t.Fatalf("subscribe: %d %s", code, body)
	}
	for body, want := range map[string]int{`{"url":"file:///etc/passwd"}`: 400, `{"url":"http://x/","after":-2}`: 400, `not json`: 400} {
		if code, resp := do("POST", "/v1/subscriptions", "east-liaison", body, nil); code != want {
			t.Errorf("subscribe %s: %d, want %d: %s", body, code, want, resp)
		}
	}
	var list struct {
		Subscriptions []api.Subscription `json:"subscriptions"`
	}
	if code, body := do("GET", "/v1/subscriptions", "east-liaison", "", &list); code != 200 || len(list.Subscriptions) != 1 || list.Subscriptions[0].ID != sub.ID {
		t.Errorf("list: %d %s", code, body)
	}
	if code, body := do("GET", "/v1/subscriptions", "west-liaison", "", &list); code != 200 || len(list.Subscriptions) != 0 {
		t.Errorf("list as west: %d %s", code, body)
	}
	if code, _ := do("DELETE", "/v1/subscriptions/"+sub.ID, "west-liaison", "", nil); code != 404 {
		t.Errorf("delete as west: %d, want 404", code)
	}
	if code, body := do("DELETE", "/v1/subscriptions/"+sub.ID, "east-liaison", "", nil); code != 204 {
		t.Errorf("delete: %d %s", code, body)
	}
	if code, _ := do("POST", "/v1/subscriptions", "uav-gs-1", `{"url":"http://127.0.0.1:9/hook"}`, nil); code != 403 {
		t.Errorf("subscribe as a sensor: %d, want 403", code)
	}
}

// startOutbox runs an alert outbox following lg, and webhook delivery over st, until the test
// ends; poke wakes the outbox after an append.
func startOutbox(t *testing.T, a *agreement.Agreement, lg *ledger.Log, st *sqlite.Store) (ob *outbox.Outbox, hooks *outbox.Webhooks, poke func()) {
	t.Helper()
	ob, err := outbox.New(a, outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(nil)
	hooks = outbox.NewWebhooks(ob, st, outbox.WebhookOptions{Key: key, AllowPrivate: true, Logger: slog.New(slog.DiscardHandler)})
	ch := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() {
		if err := outbox.Follow(ctx, lg, ob, ch, 20*time.Millisecond); err != nil {
			t.Error(err)
		}
		done <- struct{}{}
	}()
	go func() { _ = hooks.Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() { cancel(); <-done; <-done })
	return ob, hooks, func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// matrixAlert submits a monitor's sighting of an east tank in the DMZ through the intake and
// returns the identifier of its alert and the path of its incident.
func matrixAlert(t *testing.T, in *intake) (alertID, incidentPath string) {
	t.Helper()
	p := dmzPoints[0]
	b := in.signBatch("monitor-1", api.ContentNDJSON, obsJSON("matrix-dmz", p[0], p[1], "tank", "east"))
	if code, body := in.do(in.request("POST", "/v1/observations", "monitor-1", &b), nil); code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := in.ob.Wait(ctx, in.log.Size()); err != nil {
		t.Fatal(err)
	}
	for _, ev := range in.ob.Events(0, 100) {
		if slices.Equal(ev.Parties, []string{"east"}) {
			return ev.Identifier, fmt.Sprintf("/v1/incidents/%d", ev.Incident)
		}
	}
	t.Fatal("no alert to east")
	return "", ""
}

// doStream sends a request to an endless endpoint and returns its status (and the body of an
// error), without reading on.
func doStream(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	return resp.StatusCode, ""
}

// TestStreamEndsOnShutdown: closing Config.Closing (as http.Server.RegisterOnShutdown does)
// ends an open stream, so that a graceful shutdown does not wait for its client.
func TestStreamEndsOnShutdown(t *testing.T) {
	w := newWarning(t)
	s := w.stream("analyst-1", "", "")
	close(w.closing)
	if _, err := io.ReadAll(s.r); err != nil {
		t.Fatalf("the stream did not end cleanly: %v", err)
	}
}
