package main

import (
	"bytes"
	"context"
	"encoding/json"
	mrand "math/rand/v2"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/truce-mission/truce/alert"
	"github.com/truce-mission/truce/api"
	"github.com/truce-mission/truce/client"
)

// summaryRE is the one line truce bench ingest ends with.
var summaryRE = regexp.MustCompile(`^(\d+) observations in \d+\.\d\d s: \d+ obs/s; receipt latency p50 \d+\.\d ms, p99 \d+\.\d ms\n$`)

// Without --server, the tool starts its own server on SQLite in a temporary directory, sends
// --count observations, and prints the one summary line on stdout.
func TestBenchIngestInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and appends 1,200 observations")
	}
	var out, errs bytes.Buffer
	code := run([]string{"bench", "ingest", "--count", "1100", "--batch", "200", "--concurrency", "3"}, streams{strings.NewReader(""), &out, &errs})
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, errs.String())
	}
	m := summaryRE.FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("stdout %q, want one summary line\nstderr:\n%s", out.String(), errs.String())
	}
	if m[1] != "1200" { // 1,100 rounded up to whole batches of 200
		t.Errorf("%s observations accepted, want 1200", m[1])
	}
	for _, want := range []string{"in-process server at http://127.0.0.1:", "1200 accepted, 0 duplicates, 0 refused", "µs a record accepted"} {
		if !strings.Contains(errs.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs.String())
		}
	}
}

func TestBenchIngestFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--server", "http://127.0.0.1:1"}, "--key is required with --server"},
		{[]string{"--agreement", "../../examples/minimal.yaml"}, "--key is required with --agreement"},
		{[]string{"--count=-5"}, "--count -5"},
	}
	for _, tc := range tests {
		var out, errs bytes.Buffer
		code := run(append([]string{"bench", "ingest"}, tc.args...), streams{strings.NewReader(""), &out, &errs})
		if code == 0 || !strings.Contains(errs.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want an error with %q", tc.args, code, errs.String(), tc.want)
		}
	}
}

// With a count, the closed loop sends exactly that many requests.
func TestBenchCount(t *testing.T) {
	var calls atomic.Int64
	b := &bench{
		batch: 10, concurrency: 4, duration: time.Hour, requests: 7,
		prepare: func(*mrand.Rand) (*client.ObservationBatch, error) { return &client.ObservationBatch{}, nil },
		send: func(context.Context, *client.ObservationBatch) (api.IntakeResponse, error) {
			calls.Add(1)
			return api.IntakeResponse{Accepted: 10}, nil
		},
	}
	rep, err := b.run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 7 || rep.Answered != 7 || rep.Accepted != 70 || rep.Latency.N != 7 {
		t.Errorf("%d sends, report %+v; want 7 requests of 10", calls.Load(), rep)
	}
	if line := summaryLine(rep); !summaryRE.MatchString(line + "\n") {
		t.Errorf("summary %q", line)
	}
}

// The alert bench finds an alert's newest evidence index in its JSON text, and by decoding
// when the text is laid out otherwise.
func TestNewestEvidence(t *testing.T) {
	f := alert.Finding{
		ID: "inc-1", Version: 1, Sent: time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC), Sender: "truce@mission.example",
		Parties: []string{"east"}, Event: "Infraction", Urgency: "Immediate", Severity: "Severe", Certainty: "Observed",
		Evidence: []int64{3, 17, 9},
		Area:     alert.Area{Desc: "near the line", Circles: []alert.Circle{{Center: alert.Point{Lon: 36.4, Lat: 47}, RadiusM: 5000}}},
	}
	a, err := alert.FromFinding(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	compact, err := a.JSON()
	if err != nil {
		t.Fatal(err)
	}
	indented, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	for _, data := range [][]byte{compact, indented} {
		if got := newestEvidence(data); got != 17 {
			t.Errorf("newestEvidence = %d, want 17 in %s", got, data)
		}
	}
	if got := newestEvidence([]byte(`{"info":[]}`)); got != -1 {
		t.Errorf("no evidence: %d, want -1", got)
	}
}
