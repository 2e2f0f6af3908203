package api_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/alert/outbox"
	"github.com/truce-mission/truce/api"
	"github.com/truce-mission/truce/internal/testlog"
	"github.com/truce-mission/truce/keys"
	"github.com/truce-mission/truce/ledger"
	"github.com/truce-mission/truce/obsindex"
	"github.com/truce-mission/truce/reqauth"
)

// allIdentities are the example agreement's identities, one or more per role.
var allIdentities = []string{
	"east-liaison", "west-liaison", "monitor-1", "monitor-2", "uav-gs-1", "ais-rx-1",
	"analyst-1", "guarantor-a-rep", "guarantor-b-rep", "mission-head", "public-reader",
}

type intake struct {
	t    *testing.T
	a    *agreement.Agreement
	log  *ledger.Log
	url  string
	keys map[string]ed25519.PrivateKey
	ob   *outbox.Outbox
}

func newIntake(t *testing.T, maxInFlight int) *intake {
	t.Helper()
	a, err := agreement.LoadFile("../examples/line-of-contact.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l := testlog.Open(t, a)
	lg, st, vkey := l.Log, l.Store, l.VerifierKey
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
	ob, hooks, pokeOutbox := startOutbox(t, a, lg, st) // alerts_test.go
	srv := httptest.NewServer(api.New(api.Config{
		Log: lg, VerifierKey: vkey, Agreement: a, Observations: index, Tagger: tagger, MaxInFlight: maxInFlight,
		Poke: func() {
			pokeOutbox()
			select {
			case poke <- struct{}{}:
			default:
			}
		},
		Alerts: ob, Webhooks: hooks,
	}))
	t.Cleanup(srv.Close)
	in := &intake{t: t, a: a, log: lg, url: srv.URL, keys: map[string]ed25519.PrivateKey{}, ob: ob}
	for _, id := range allIdentities {
		k, err := keys.LoadPrivateKey("../examples/keys/" + id + ".key")
		if err != nil {
			t.Fatal(err)
		}
		in.keys[id] = k
	}
	return in
}

// batch is a signed intake request, built independently of package client so that the test
// checks the wire contract itself.
type batch struct {
	contentType string
	body        []byte
	submitted   string
	signature   string
}

// signBatch signs records (raw JSON objects) as id and wraps them in a body of the given type.
func (in *intake) signBatch(id, contentType string, records ...string) batch {
	in.t.Helper()
	submitted := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	digests := make([]tlog.Hash, len(records))
	for i, r := range records {
		canon, err := ledger.Canonicalize([]byte(r))
		if err != nil {
			in.t.Fatalf("record %d: %v", i, err)
		}
		digests[i] = ledger.BatchDigest(ledger.KindObservation, id, submitted, canon)
	}
	root, _ := ledger.BatchRoot(digests)
	sig := ed25519.Sign(in.keys[id], ledger.BatchSignedMessage(id, int64(len(records)), root))
	var body string
	switch contentType {
	case api.ContentJSON:
		body = `{"observations":[` + strings.Join(records, ",") + `]}`
	case api.ContentNDJSON:
		body = strings.Join(records, "\n") + "\n"
	case api.ContentGeoJSON:
		body = `{"type":"FeatureCollection","features":[` + strings.Join(records, ",") + `]}`
	}
	return batch{contentType, []byte(body), submitted.Format(time.RFC3339Nano), base64.StdEncoding.EncodeToString(sig)}
}

// request builds a request signed as id ("" for unsigned).
func (in *intake) request(method, path, id string, b *batch) *http.Request {
	in.t.Helper()
	var body []byte
	if b != nil {
		body = b.body
	}
	req, err := http.NewRequest(method, in.url+path, bytes.NewReader(body))
	if err != nil {
		in.t.Fatal(err)
	}
	if b != nil {
		req.Header.Set("Content-Type", b.contentType)
		req.Header.Set(api.HeaderBatchSubmitted, b.submitted)
		req.Header.Set(api.HeaderBatchSignature, b.signature)
	}
	if id != "" {
		reqauth.Sign(req, body, id, in.keys[id], time.Now())
	}
	return req
}

// metrics returns the server's Prometheus exposition.
func (in *intake) metrics(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(in.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (in *intake) do(req *http.Request, out any) (int, string) {
	in.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		in.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 || resp.StatusCode == http.StatusUnprocessableEntity {
		if out != nil {
			if err := json.Unmarshal(data, out); err != nil {
				in.t.Fatalf("%s %s: decoding %s: %v", req.Method, req.URL.Path, data, err)
			}
		}
	}
	return resp.StatusCode, string(data)
}

func obsJSON(id string, lon, lat float64, category, party string) string {
	return fmt.Sprintf(`{"id":%q,"observed":"2026-12-05T08:00:00Z","position":{"lon":%v,"lat":%v},"category":%q,"count":2,"assessed_party":%q,"source":"ground-monitor","reliability":"B","credibility":2}`,
		id, lon, lat, category, party)
}

func feature(id string, lon, lat float64, category string) string {
	return fmt.Sprintf(`{"type":"Feature","id":%q,"geometry":{"type":"Point","coordinates":[%v,%v]},"properties":{"observed":"2026-12-05T08:00:00Z","category":%q,"source":"uav"}}`,
		id, lon, lat, category)
}

const dmzLon, dmzLat = 36.40572, 47.01571 // inside the example's demilitarized zone

// TestIntakeFormats submits JSON, NDJSON and GeoJSON batches with good and bad records,
// and reads them back with filters and pages.
func TestIntakeFormats(t *testing.T) {
	in := newIntake(t, 0)

	b := in.signBatch("monitor-1", api.ContentJSON,
		obsJSON("m1-1", dmzLon, dmzLat, "tank", "east"),
		obsJSON("m1-2", 47.0, 136.4, "tank", "east"), // lon/lat swapped: lat out of range
		obsJSON("m1-3", dmzLon, dmzLat, "spaceship", "east"),
		obsJSON("m1-4", dmzLon, dmzLat, "tank", "north"),
	)
	var resp api.IntakeResponse
	if code, body := in.do(in.request("POST", "/v1/observations", "monitor-1", &b), &resp); code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	if resp.Accepted != 1 || resp.Refused != 3 {
		t.Fatalf("accepted %d refused %d, want 1 and 3: %+v", resp.Accepted, resp.Refused, resp)
	}
	r0 := resp.Results[0]
	if r0.Index == nil || *r0.Index != 0 || !slices.Contains(r0.Zones, "dmz") || !slices.Contains(r0.Rules, "dmz-heavy") {
		t.Errorf("record 0: %+v, want index 0 in zone dmz breaching dmz-heavy", r0)
	}
	for i, want := range []struct{ field, reason string }{
		{}, {"observations[1].position.lat", "invalid"}, {"observations[2].category", "unknown-category"}, {"observations[3].assessed_party", "unknown-party"},
	} {
		if i == 0 {
			continue
		}
		e := resp.Results[i].Error
		if e == nil || e.Field != want.field || e.Reason != want.reason {
			t.Errorf("record %d: error %+v, want field %q reason %q", i, e, want.field, want.reason)
		}
	}
	if !strings.Contains(resp.Results[1].Error.Message, "swapped") {
		t.Errorf("a swapped lon/lat gets no hint: %q", resp.Results[1].Error.Message)
	}

	nd := in.signBatch("uav-gs-1", api.ContentNDJSON,
		obsJSON("u-1", 37.26277, 46.90036, "artillery-100mm", "west"),
		obsJSON("u-2", 38.08456, 47.73608, "mlrs", "east"))
	if code, body := in.do(in.request("POST", "/v1/observations", "uav-gs-1", &nd), &resp); code != http.StatusOK || resp.Accepted != 2 {
		t.Fatalf("NDJSON: status %d: %s", code, body)
	}
	gj := in.signBatch("east-liaison", api.ContentGeoJSON,
		feature("e-1", dmzLon, dmzLat, "fortification"),
		feature("e-2", 10, 10, "tank"))
	if code, body := in.do(in.request("POST", "/v1/observations", "east-liaison", &gj), &resp); code != http.StatusOK || resp.Accepted != 2 {
		t.Fatalf("GeoJSON: status %d: %s", code, body)
	}
	bad := in.signBatch("east-liaison", api.ContentGeoJSON, `{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"observed":"2026-12-05T08:00:00Z","source":"uav","count":-1}}`)
	if code, body := in.do(in.request("POST", "/v1/observations", "east-liaison", &bad), &resp); code != http.StatusUnprocessableEntity || resp.Results[0].Error == nil ||
		!strings.HasPrefix(resp.Results[0].Error.Field, "features[0]") {
		t.Fatalf("bad GeoJSON feature: status %d: %s", code, body)
	}

	// Reads: filters, pages and the analyst's full view.
	list := func(id, query string) api.ObservationPage {
		t.Helper()
		var page api.ObservationPage
		if code, body := in.do(in.request("GET", "/v1/observations"+query, id, nil), &page); code != http.StatusOK {
			t.Fatalf("GET %s as %s: %d %s", query, id, code, body)
		}
		return page
	}
	ids := func(p api.ObservationPage) []string {
		var out []string
		for _, o := range p.Observations {
			out = append(out, o.Obs.ID)
		}
		return out
	}
	if got := ids(list("analyst-1", "")); !slices.Equal(got, []string{"m1-1", "u-1", "u-2", "e-1", "e-2"}) {
		t.Errorf("all: %v", got)
	}
	if got := ids(list("analyst-1", "?zone=dmz")); !slices.Equal(got, []string{"m1-1", "e-1"}) {
		t.Errorf("zone=dmz: %v", got)
	}
	if got := ids(list("analyst-1", "?category=heavy-weapons")); !slices.Equal(got, []string{"m1-1", "u-1", "u-2", "e-2"}) {
		t.Errorf("category=heavy-weapons covers its sub-categories: %v", got)
	}
	if got := ids(list("analyst-1", "?source=uav&party=east")); !slices.Equal(got, []string{"e-1", "e-2"}) {
		t.Errorf("source=uav&party=east: %v", got)
	}
	// East sees its own reports and what is alleged against it; not the mission's view of west.
	if got := ids(list("east-liaison", "")); !slices.Equal(got, []string{"m1-1", "u-2", "e-1", "e-2"}) {
		t.Errorf("east-liaison sees %v", got)
	}
	var got []string
	q := "?limit=2"
	for pages := 0; ; pages++ {
		p := list("guarantor-a-rep", q)
		got = append(got, ids(p)...)
		if p.Next == "" {
			if pages != 2 {
				t.Errorf("%d pages of 2 for 5 observations", pages+1)
			}
			break
		}
		q = "?limit=2&cursor=" + p.Next
	}
	if len(got) != 5 {
		t.Errorf("paging: %v", got)
	}
	for _, bad := range []string{"?zone=atlantis", "?since=yesterday", "?limit=0", "?cursor=xyz", "?colour=red"} {
		code, body := in.do(in.request("GET", "/v1/observations"+bad, "analyst-1", nil), nil)
		if code != http.StatusBadRequest || !strings.Contains(body, `"field"`) {
			t.Errorf("GET %s: %d %s, want 400 naming the parameter", bad, code, body)
		}
	}
}

// TestIntakeIdempotent resubmits the same signed batch (a retry after a lost answer): the
// original receipts come back and nothing is appended twice.
func TestIntakeIdempotent(t *testing.T) {
	in := newIntake(t, 0)
	b := in.signBatch("monitor-2", api.ContentNDJSON, obsJSON("a", 36, 47, "tank", "east"), obsJSON("b", 36.1, 47, "tank", "east"))
	var first, second api.IntakeResponse
	in.do(in.request("POST", "/v1/observations", "monitor-2", &b), &first)
	in.do(in.request("POST", "/v1/observations", "monitor-2", &b), &second)
	if first.Accepted != 2 || second.Duplicates != 2 || second.Accepted != 0 {
		t.Fatalf("first %+v, second %+v", first, second)
	}
	for i := range first.Results {
		if *first.Results[i].Index != *second.Results[i].Index || first.Results[i].LeafHash != second.Results[i].LeafHash {
			t.Errorf("record %d: receipts differ: %+v vs %+v", i, first.Results[i], second.Results[i])
		}
	}
	if n := in.log.Size(); n != 2 {
		t.Fatalf("log size %d, want 2", n)
	}
}

// TestIntakeLeafForms checks how a request's records are logged: a request whose every
// record is accepted as a run (checked with its batch's entries), one with a refused record
// in path form, and one whose append fails as a whole (a conflicting resubmission) record by
// record in path form; each entry in path form verifies alone.
func TestIntakeLeafForms(t *testing.T) {
	in := newIntake(t, 0)
	pub := in.keys["monitor-2"].Public().(ed25519.PublicKey)
	post := func(b batch) api.IntakeResponse {
		t.Helper()
		var resp api.IntakeResponse
		if code, body := in.do(in.request("POST", "/v1/observations", "monitor-2", &b), &resp); code != http.StatusOK {
			t.Fatalf("%d %s", code, body)
		}
		return resp
	}
	logged := func(from int64) []*ledger.Entry {
		t.Helper()
		leaves, err := in.log.Entries(t.Context(), from, in.log.Size())
		if err != nil {
			t.Fatal(err)
		}
		es := make([]*ledger.Entry, len(leaves))
		for i, leaf := range leaves {
			if es[i], err = ledger.ParseLeaf(leaf); err != nil {
				t.Fatal(err)
			}
		}
		return es
	}
	alone := func(es []*ledger.Entry) {
		t.Helper()
		for i, e := range es {
			if e.IsRun() {
				t.Errorf("entry %d is in run form", i)
			} else if err := ledger.Verify(e, pub); err != nil {
				t.Errorf("entry %d: %v", i, err)
			}
		}
	}

	whole := post(in.signBatch("monitor-2", api.ContentNDJSON, obsJSON("r1", 36, 47, "tank", "east"), obsJSON("r2", 36.1, 47, "tank", "east"), obsJSON("r3", 36.2, 47, "tank", "east")))
	run := logged(0)
	if whole.Accepted != 3 || len(run) != 3 || !run[0].IsRun() {
		t.Fatalf("a whole request: %+v, %d entries, run form %v", whole, len(run), len(run) > 0 && run[0].IsRun())
	}
	if err := ledger.VerifyRun(run, pub); err != nil {
		t.Error(err)
	}

	partial := post(in.signBatch("monitor-2", api.ContentNDJSON, obsJSON("p1", 36, 47, "tank", "east"), obsJSON("p2", 36, 47, "spaceship", "east"), obsJSON("p3", 36.2, 47, "tank", "east")))
	if partial.Accepted != 2 || partial.Refused != 1 {
		t.Fatalf("a request with a refused record: %+v", partial)
	}
	alone(logged(3))

	// r2 again, the same: it gets its receipt, and the others, no longer the whole batch,
	// their paths.
	resent := post(in.signBatch("monitor-2", api.ContentNDJSON, obsJSON("d1", 36, 47, "tank", "east"), obsJSON("r2", 36.1, 47, "tank", "east"), obsJSON("d3", 36.2, 47, "tank", "east")))
	if resent.Accepted != 2 || resent.Duplicates != 1 || !resent.Results[1].Duplicate {
		t.Fatalf("a request with a record sent before: %+v", resent)
	}
	alone(logged(5))

	// r2 again with another count: its key conflicts, so the request is appended record by
	// record, each record with its path.
	conflicting := post(in.signBatch("monitor-2", api.ContentNDJSON, obsJSON("c1", 36, 47, "tank", "east"), strings.Replace(obsJSON("r2", 36.1, 47, "tank", "east"), `"count":2`, `"count":3`, 1), obsJSON("c3", 36.2, 47, "tank", "east")))
	if conflicting.Accepted != 2 || conflicting.Refused != 1 || conflicting.Results[1].Error == nil || conflicting.Results[1].Error.Reason != "conflict" {
		t.Fatalf("a request with a conflicting record: %+v", conflicting)
	}
	alone(logged(7))
	if n := in.log.Size(); n != 9 {
		t.Errorf("log size %d, want 9", n)
	}
}

// TestIntakeRefusesForgedReplayedUnknown: a forged request signature, a forged batch
// signature, a replayed request, a stale date and an unknown key are each refused with 401
// naming the header, and nothing is appended.
func TestIntakeRefusesForgedReplayedUnknown(t *testing.T) {
	in := newIntake(t, 0)
	b := in.signBatch("monitor-1", api.ContentNDJSON, obsJSON("x", 36, 47, "tank", "east"))

	check := func(name string, req *http.Request, field string) {
		t.Helper()
		code, body := in.do(req, nil)
		if code != http.StatusUnauthorized || !strings.Contains(body, `"field":"`+field+`"`) {
			t.Errorf("%s: %d %s, want 401 naming %s", name, code, body, field)
		}
	}
	forged := in.request("POST", "/v1/observations", "monitor-1", &b)
	forged.Header.Set(reqauth.HeaderIdentity, "monitor-2") // monitor-1's signature, claimed as monitor-2
	check("forged request signature", forged, reqauth.HeaderSignature)

	other := in.signBatch("monitor-2", api.ContentNDJSON, obsJSON("x", 36, 47, "tank", "east"))
	forgedBatch := in.request("POST", "/v1/observations", "monitor-1", &batch{b.contentType, b.body, b.submitted, other.signature})
	check("batch signed by another identity", forgedBatch, api.HeaderBatchSignature)

	unknown := in.request("POST", "/v1/observations", "monitor-1", &b)
	_, stranger, _ := ed25519.GenerateKey(nil)
	reqauth.Sign(unknown, b.body, "intruder", stranger, time.Now())
	check("unknown identity", unknown, reqauth.HeaderIdentity)

	stale := in.request("POST", "/v1/observations", "", &b)
	reqauth.Sign(stale, b.body, "monitor-1", in.keys["monitor-1"], time.Now().Add(-time.Hour))
	check("stale date", stale, reqauth.HeaderDate)

	if n := in.log.Size(); n != 0 {
		t.Fatalf("refused requests appended %d entries", n)
	}
	ok := in.request("POST", "/v1/observations", "monitor-1", &b)
	replay := ok.Clone(context.Background())
	replay.Body = io.NopCloser(bytes.NewReader(b.body))
	if code, body := in.do(ok, nil); code != http.StatusOK {
		t.Fatalf("genuine request: %d %s", code, body)
	}
	check("replayed request", replay, reqauth.HeaderNonce)
}

// TestAuthorizationMatrix walks every endpoint with every role (and unsigned) and checks who
// may do what.
func TestAuthorizationMatrix(t *testing.T) {
	in := newIntake(t, 0)
	first := in.signBatch("monitor-1", api.ContentNDJSON, obsJSON("first", 36, 47, "tank", "east"))
	if code, body := in.do(in.request("POST", "/v1/observations", "monitor-1", &first), nil); code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}
	alertID, incidentPath := matrixAlert(t, in) // alerts_test.go: an alert to east
	roleOf := func(id string) string {
		if id == "" {
			return "unsigned"
		}
		i, _ := in.a.Identity(id)
		return i.Role.String()
	}
	// Allowed statuses per endpoint and role; anything else fails.
	type want map[string]int
	open := want{"unsigned": 200, "party-liaison": 200, "monitor": 200, "sensor": 200, "analyst": 200, "council-member": 200, "public": 200}
	endpoints := []struct {
		name   string
		method string
		path   string
		body   func(id string) *batch
		want   want
	}{
		{"healthz", "GET", "/healthz", nil, open},
		{"metrics", "GET", "/metrics", nil, open},
		{"openapi", "GET", "/openapi.json", nil, open},
		{"checkpoint", "GET", "/v1/log/checkpoint", nil, open},
		{"verifier", "GET", "/v1/log/verifier", nil, open},
		{"consistency", "GET", "/v1/log/proofs/consistency?first=1&second=1", nil, open},
		{"inclusion", "GET", "/v1/log/proofs/inclusion?index=0&size=1", nil, open},
		{"entries", "GET", "/v1/log/entries?start=0&end=0", nil,
			want{"unsigned": 401, "party-liaison": 200, "monitor": 200, "sensor": 200, "analyst": 200, "council-member": 200, "public": 403}},
		{"list observations", "GET", "/v1/observations", nil,
			want{"unsigned": 401, "party-liaison": 200, "monitor": 200, "sensor": 403, "analyst": 200, "council-member": 200, "public": 403}},
		{"submit observations", "POST", "/v1/observations", func(id string) *batch {
			signer := id
			if signer == "" {
				signer = "monitor-1"
			}
			b := in.signBatch(signer, api.ContentNDJSON, obsJSON("auth-"+signer, 36, 47, "tank", "east"))
			return &b
		}, want{"unsigned": 401, "party-liaison": 200, "monitor": 200, "sensor": 200, "analyst": 200, "council-member": 403, "public": 403}},
		// Early warning; an identity's own entry overrides its role's (alerts are addressed).
		{"list incidents", "GET", "/v1/incidents", nil,
			want{"unsigned": 401, "party-liaison": 200, "monitor": 200, "sensor": 403, "analyst": 200, "council-member": 200, "public": 403}},
		{"get incident", "GET", incidentPath, nil,
			want{"unsigned": 401, "party-liaison": 200, "west-liaison": 404, "monitor": 200, "sensor": 403, "analyst": 200, "council-member": 200, "public": 403}},
		{"get alert", "GET", "/v1/alerts/" + alertID, nil,
			want{"unsigned": 401, "party-liaison": 200, "west-liaison": 404, "monitor": 200, "sensor": 403, "analyst": 200, "council-member": 200, "public": 404}},
		{"get alert XML", "GET", "/v1/alerts/" + alertID + ".cap", nil,
			want{"unsigned": 401, "party-liaison": 200, "west-liaison": 404, "monitor": 200, "sensor": 403, "analyst": 200, "council-member": 200, "public": 404}},
		{"alert stream", "GET", "/v1/alerts/stream?after=0", nil,
			want{"unsigned": 401, "party-liaison": 200, "monitor": 200, "sensor": 403, "analyst": 200, "council-member": 200, "public": 200}},
		{"subscribe", "POST", "/v1/subscriptions", func(string) *batch {
			return &batch{contentType: "application/json", body: []byte(`{"url":"http://127.0.0.1:9/hook"}`)}
		}, want{"unsigned": 401, "party-liaison": 201, "monitor": 201, "sensor": 403, "analyst": 201, "council-member": 201, "public": 201}},
		{"list subscriptions", "GET", "/v1/subscriptions", nil,
			want{"unsigned": 401, "party-liaison": 200, "monitor": 200, "sensor": 403, "analyst": 200, "council-member": 200, "public": 200}},
		{"unsubscribe", "DELETE", "/v1/subscriptions/sub-none", nil,
			want{"unsigned": 401, "party-liaison": 404, "monitor": 404, "sensor": 403, "analyst": 404, "council-member": 404, "public": 404}},
	}
	for _, ep := range endpoints {
		for _, id := range append([]string{""}, allIdentities...) {
			var b *batch
			if ep.body != nil {
				b = ep.body(id)
			}
			req := in.request(ep.method, ep.path, id, b)
			var code int
			var body string
			if strings.HasPrefix(ep.path, "/v1/alerts/stream") {
				code, body = doStream(t, req) // alerts_test.go: endless, so the status only
			} else {
				code, body = in.do(req, nil)
			}
			role := roleOf(id)
			want, ok := ep.want[id]
			if !ok {
				want = ep.want[role]
			}
			if code != want {
				t.Errorf("%s %s as %q (%s): %d, want %d: %s", ep.method, ep.path, id, role, code, want, body)
			}
		}
	}

	// The raw append endpoint authorizes by the entry's signer and kind.
	for _, c := range []struct {
		id   string
		kind ledger.Kind
		want int
	}{
		{"monitor-1", ledger.KindObservation, 201}, {"public-reader", ledger.KindNote, 403},
		{"east-liaison", ledger.KindVote, 403}, {"guarantor-a-rep", ledger.KindVote, 201},
		{"east-liaison", ledger.KindNotification, 201}, {"monitor-1", ledger.KindNotification, 403},
		{"analyst-1", ledger.KindReview, 201}, {"monitor-2", ledger.KindReview, 403},
	} {
		e, err := ledger.NewEntry(c.kind, c.id, time.Now().UTC(), []byte(fmt.Sprintf(`{"n":%q}`, c.id+c.kind.String())))
		if err != nil {
			t.Fatal(err)
		}
		if err := ledger.Sign(e, in.keys[c.id]); err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal(map[string]any{"kind": c.kind.String(), "submitter": c.id, "submitted": e.Submitted(),
			"payload": json.RawMessage(e.Payload()), "signature": base64.StdEncoding.EncodeToString(e.Signature())})
		resp, err := http.Post(in.url+"/v1/log/entries", "application/json", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("POST /v1/log/entries kind %s as %s: %d, want %d: %s", c.kind, c.id, resp.StatusCode, c.want, body)
		}
	}
}

// TestIntakeOverload holds the only intake slot with a request whose body is still
// arriving: the next request is answered 429 with Retry-After, at once.
func TestIntakeOverload(t *testing.T) {
	in := newIntake(t, 1)
	b := in.signBatch("monitor-1", api.ContentNDJSON, obsJSON("slow", 36, 47, "tank", "east"))
	pr, pw := io.Pipe()
	// Registered after newIntake's cleanups, so it runs before the server closes: a server
	// cannot finish while a request body it reads is still open.
	t.Cleanup(func() { pw.Close() })
	slow := in.request("POST", "/v1/observations", "monitor-1", &b)
	slow.Body, slow.GetBody, slow.ContentLength = pr, nil, -1
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.DefaultClient.Do(slow)
		if err == nil {
			resp.Body.Close()
		}
	}()
	if _, err := pw.Write(b.body[:5]); err != nil {
		t.Fatal(err)
	}
	// Wait until the slow request holds the only slot (the queue-depth gauge says 1), so
	// that the next request must be shed, however the machine schedules the two.
	for start := time.Now(); !strings.Contains(in.metrics(t), "truce_intake_queue_depth 1"); time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > time.Minute { // a guard against hanging, not a timing check
			t.Fatal("the slow request never reached the handler")
		}
	}
	resp, err := http.DefaultClient.Do(in.request("POST", "/v1/observations", "monitor-1", &b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("second request: %d (Retry-After %q), want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// The slow request, once its body is complete, is taken.
	if _, err := pw.Write(b.body[5:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	<-done
}
