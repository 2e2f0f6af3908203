package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/truce-mission/truce/api"
	"github.com/truce-mission/truce/client"
	"github.com/truce-mission/truce/ingest"
	"github.com/truce-mission/truce/ingest/feeds"
	"github.com/truce-mission/truce/internal/refdata"
)

// fakeIntake stands in for the server: it answers each record {"id":..., "refuse":reason}
// with a receipt or a refusal, and can fail the first attempts of a batch.
type fakeIntake struct {
	mu      sync.Mutex
	batches []*client.ObservationBatch // every send, in order
	fail    func(attempt int) error    // the error of a batch's attempt (1-based), nil to answer
	seen    map[*client.ObservationBatch]int
	held    map[string]bool // ids appended
}

func (f *fakeIntake) sign(recs []json.RawMessage, t time.Time) (*client.ObservationBatch, error) {
	b := &client.ObservationBatch{Submitted: t}
	for _, r := range recs {
		b.Records = append(b.Records, r)
	}
	return b, nil
}

func (f *fakeIntake) send(_ context.Context, b *client.ObservationBatch) (api.IntakeResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen == nil {
		f.seen, f.held = map[*client.ObservationBatch]int{}, map[string]bool{}
	}
	f.batches = append(f.batches, b)
	f.seen[b]++
	var failure error
	if f.fail != nil {
		failure = f.fail(f.seen[b])
	}
	var ae *client.APIError
	if failure != nil && errors.As(failure, &ae) && ae.Status < 500 {
		return api.IntakeResponse{}, failure // refused before anything was appended
	}
	var resp api.IntakeResponse
	for i, raw := range b.Records {
		var r struct{ ID, Refuse string }
		_ = json.Unmarshal(raw, &r)
		res := api.IntakeResult{Record: i, ID: r.ID}
		switch {
		case r.Refuse != "":
			res.Error = &api.RecordError{Field: fmt.Sprintf("line %d.category", i+1), Reason: r.Refuse, Message: "no"}
			resp.Refused++
		case f.held[r.ID]:
			res.Duplicate = true
			resp.Duplicates++
		default:
			f.held[r.ID] = true
			resp.Accepted++
		}
		resp.Results = append(resp.Results, res)
	}
	if failure != nil {
		return api.IntakeResponse{}, failure // a 5xx or a lost answer after the append
	}
	return resp, nil
}

func (f *fakeIntake) sizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int
	for _, b := range f.batches {
		out = append(out, b.Len())
	}
	return out
}

func newIngester(f *fakeIntake, size, inFlight int, messages io.Writer) *ingester {
	return &ingester{
		size: size, linger: 20 * time.Millisecond, inFlight: inFlight, retryFor: 5 * time.Second,
		backoff: time.Millisecond, maxBackoff: 5 * time.Millisecond,
		sign: f.sign, send: f.send, source: "feed.nmea", messages: messages,
	}
}

// feedOf makes the items of n records; refuse maps a record number to the reason the server
// refuses it with, local to the reason the adapter does ("" for none).
func feedOf(n int, local map[int]bool, refuse map[int]string) []feedItem {
	var items []feedItem
	for i := range n {
		if local[i] {
			items = append(items, feedItem{rej: &ingest.RecordError{Source: "feed.nmea", Line: i + 1, Field: "lat", Err: fmt.Errorf("%w: latitude 91", ingest.ErrInvalid)}})
			continue
		}
		id := fmt.Sprintf("r%d", i)
		raw, _ := json.Marshal(map[string]string{"id": id, "refuse": refuse[i]})
		items = append(items, feedItem{rec: raw, id: id})
	}
	return items
}

func closedFeed(items []feedItem) <-chan feedItem {
	ch := make(chan feedItem, len(items))
	for _, it := range items {
		ch <- it
	}
	close(ch)
	return ch
}

// checkBalance checks that every record read is counted exactly once.
func checkBalance(t *testing.T, s ingestSummary) {
	t.Helper()
	if got := s.Accepted + s.Duplicates + s.Refused() + s.Unsent; got != s.Records {
		t.Errorf("accepted %d + duplicates %d + refused %d + unsent %d = %d, want the %d records read",
			s.Accepted, s.Duplicates, s.Refused(), s.Unsent, got, s.Records)
	}
}

func TestIngesterBatches(t *testing.T) {
	tests := []struct {
		name      string
		n, size   int
		wantSizes []int
	}{
		{"full batches and a tail", 1200, 500, []int{500, 500, 200}},
		{"exact", 1000, 500, []int{500, 500}},
		{"one short batch", 3, 500, []int{3}},
		{"batch of one", 3, 1, []int{1, 1, 1}},
		{"empty feed", 0, 500, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeIntake{}
			sum, err := newIngester(f, tc.size, 1, nil).run(t.Context(), closedFeed(feedOf(tc.n, nil, nil)), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.sizes(); !slices.Equal(got, tc.wantSizes) {
				t.Errorf("batch sizes %v, want %v", got, tc.wantSizes)
			}
			if sum.Records != tc.n || sum.Accepted != tc.n || !sum.Complete || sum.Requests != len(tc.wantSizes) {
				t.Errorf("summary %+v", sum)
			}
			checkBalance(t, sum)
		})
	}
}

// A partial batch goes when its first record has waited the linger time, while the feed is
// still open (a live feed that pauses).
func TestIngesterLinger(t *testing.T) {
	f := &fakeIntake{}
	ch := make(chan feedItem)
	p := newIngester(f, 500, 2, nil)
	done := make(chan ingestSummary)
	go func() {
		sum, err := p.run(context.Background(), ch, nil)
		if err != nil {
			t.Error(err)
		}
		done <- sum
	}()
	for _, it := range feedOf(3, nil, nil) {
		ch <- it
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(f.sizes()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the partial batch was not sent while the feed stayed open")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(ch)
	sum := <-done
	if got := f.sizes(); !slices.Equal(got, []int{3}) {
		t.Errorf("batch sizes %v, want [3]", got)
	}
	checkBalance(t, sum)
}

func TestIngesterRetries(t *testing.T) {
	overloaded := &client.APIError{Status: 429, Msg: "server overloaded", RetryAfter: 5 * time.Millisecond}
	tests := []struct {
		name                string
		fail                func(attempt int) error
		wantAccepted        int
		wantDup, wantRetDup int
		wantRequests        int
		wantOverloaded      int
	}{
		{"429 twice", func(a int) error {
			if a <= 2 {
				return overloaded
			}
			return nil
		}, 10, 0, 0, 3, 2},
		// The first attempt was appended but its answer was lost: the retry gets duplicates.
		{"answer lost", func(a int) error {
			if a == 1 {
				return &client.APIError{Status: 503, Msg: "unavailable"}
			}
			return nil
		}, 0, 10, 10, 2, 0},
		{"network error", func(a int) error {
			if a == 1 {
				return errors.New("connection reset by peer")
			}
			return nil
		}, 0, 10, 10, 2, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeIntake{fail: tc.fail}
			var msgs bytes.Buffer
			sum, err := newIngester(f, 10, 1, &msgs).run(t.Context(), closedFeed(feedOf(10, nil, nil)), nil)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Accepted != tc.wantAccepted || sum.Duplicates != tc.wantDup || sum.RetriedDuplicates != tc.wantRetDup ||
				sum.Requests != tc.wantRequests || sum.Retries != tc.wantRequests-1 || sum.Overloaded != tc.wantOverloaded {
				t.Errorf("summary %+v", sum)
			}
			// Every attempt resends the very batch: same submission time, same signature.
			for _, b := range f.batches {
				if b != f.batches[0] {
					t.Fatal("a retry sent a batch signed anew")
				}
			}
			checkBalance(t, sum)
		})
	}
}

func TestIngesterFails(t *testing.T) {
	tests := []struct {
		name string
		fail func(attempt int) error
		want string
	}{
		{"refused request", func(int) error { return &client.APIError{Status: 401, Msg: "bad signature"} }, "refused"},
		{"server down", func(int) error { return errors.New("connection refused") }, "giving up"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeIntake{fail: tc.fail}
			p := newIngester(f, 10, 2, nil)
			p.retryFor = 50 * time.Millisecond
			items := feedOf(95, nil, nil)
			sum, err := p.run(t.Context(), closedFeed(items), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if sum.Accepted != 0 || sum.Unsent != sum.Records || sum.Unsent == 0 {
				t.Errorf("summary %+v", sum)
			}
			checkBalance(t, sum)
		})
	}
}

func TestIngesterRefusals(t *testing.T) {
	local := map[int]bool{}
	refuse := map[int]string{}
	for i := range 30 {
		local[i*3] = true
		refuse[i*3+1] = "unknown-category"
	}
	f := &fakeIntake{}
	var msgs bytes.Buffer
	sum, err := newIngester(f, 7, 3, &msgs).run(t.Context(), closedFeed(feedOf(100, local, refuse)), nil)
	if err != nil {
		t.Fatal(err)
	}
	wantLocal := map[string]int{"invalid": 30}
	wantServer := map[string]int{"unknown-category": 30}
	if sum.Records != 100 || sum.Accepted != 40 || !equalMaps(sum.RefusedLocal, wantLocal) || !equalMaps(sum.RefusedServer, wantServer) {
		t.Errorf("summary %+v", sum)
	}
	checkBalance(t, sum)
	lines := strings.Split(strings.TrimSpace(msgs.String()), "\n")
	if len(lines) != maxRefusalLines+1 || lines[maxRefusalLines] != "truce: 40 more refused records not shown" {
		t.Errorf("messages:\n%s", msgs.String())
	}
	if lines[0] != "feed.nmea:1: lat: invalid observation: latitude 91" {
		t.Errorf("local refusal printed as %q", lines[0])
	}
	for _, l := range lines {
		if strings.Contains(l, "unknown-category") && !strings.HasPrefix(l, `feed.nmea: id "r`) {
			t.Errorf("server refusal printed as %q", l)
		}
		if strings.Contains(l, "line ") {
			t.Errorf("server refusal names the request body's line: %q", l)
		}
	}
}

func equalMaps(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Stopping (SIGINT) sends what was read and reports the feed as interrupted.
func TestIngesterStop(t *testing.T) {
	f := &fakeIntake{}
	ch := make(chan feedItem)
	stop := make(chan struct{})
	done := make(chan ingestSummary)
	go func() {
		sum, _ := newIngester(f, 500, 2, nil).run(context.Background(), ch, stop)
		done <- sum
	}()
	for _, it := range feedOf(42, nil, nil) {
		ch <- it
	}
	close(stop)
	sum := <-done
	if !sum.Interrupted || sum.Complete || sum.Accepted != 42 || sum.Records != 42 {
		t.Errorf("summary %+v", sum)
	}
	checkBalance(t, sum)
}

func TestSummarizeLatencies(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	got := summarizeLatencies(ds)
	want := latencySummary{N: 100, P50: 50, P90: 90, P99: 99, Max: 100}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got := summarizeLatencies(nil); got != (latencySummary{}) {
		t.Errorf("empty: %+v", got)
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		bad  bool
	}{
		{"0", 0, false}, {"20000", 20000, false}, {"20000/s", 20000, false}, {" 1.5/s", 1.5, false},
		{"-1", 0, true}, {"fast", 0, true}, {"Inf", 0, true},
	}
	for _, tc := range tests {
		got, err := parseRate(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("parseRate(%q) = %v, %v", tc.in, got, err)
		}
	}
}

// The open loop sends the requests due over the duration, and measures each from its
// intended time: a server that stalls shows in the latency of every request due meanwhile.
func TestBenchOpenLoop(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	b := &bench{
		rate: 1000, batch: 10, concurrency: 1, duration: 500 * time.Millisecond, grace: 5 * time.Second,
		prepare: func(*mrand.Rand) (*client.ObservationBatch, error) { return &client.ObservationBatch{}, nil },
		send: func(context.Context, *client.ObservationBatch) (api.IntakeResponse, error) {
			mu.Lock()
			calls++
			n := calls
			mu.Unlock()
			if n == 10 {
				time.Sleep(200 * time.Millisecond) // one stall
			}
			return api.IntakeResponse{Accepted: 10}, nil
		},
	}
	rep, err := b.run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// 100 requests/s for 0.5 s.
	if rep.Answered != 50 || rep.Accepted != 500 || rep.Unanswered != 0 {
		t.Fatalf("report %+v", rep)
	}
	// The stall delays the 20 requests due during it: at least 10% of them wait >= 100 ms.
	// A closed-loop measurement would see one slow request and 49 fast ones.
	if rep.Latency.P90 < 50 {
		t.Errorf("p90 %.1fms: the stall's effect on the requests due during it is missing", rep.Latency.P90)
	}
}

func TestBenchClosedLoop(t *testing.T) {
	b := &bench{
		batch: 10, concurrency: 4, duration: 200 * time.Millisecond,
		prepare: func(*mrand.Rand) (*client.ObservationBatch, error) { return &client.ObservationBatch{}, nil },
		send: func(context.Context, *client.ObservationBatch) (api.IntakeResponse, error) {
			time.Sleep(time.Millisecond)
			return api.IntakeResponse{}, &client.APIError{Status: 429, RetryAfter: time.Second}
		},
	}
	rep, err := b.run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Mode != "closed" || rep.Overloaded == 0 || rep.Answered != 0 || rep.Latency.N != 0 {
		t.Fatalf("report %+v", rep)
	}
}

// gpsdSamples are real AIS logs in the reference data (see package refdata).
var gpsdSamples = []string{"ais-nmea.log", "ais-nmea-type6-fid55.log", "ais-18-27.log", "sample.aivdm"}

// countFeed reads a feed with its adapter directly: observations and refusals.
func countFeed(t *testing.T, format, path string) (obs, refused int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("reference data missing: %v", err)
	}
	defer f.Close()
	var c countSink
	if err := feeds.Parse(format, f, ingest.Options{Name: path}, &c); err != nil {
		t.Fatal(err)
	}
	return c.obs, c.refused
}

type countSink struct{ obs, refused int }

func (c *countSink) Observe(ingest.Observation) { c.obs++ }
func (c *countSink) Reject(*ingest.RecordError) { c.refused++ }

// intakeServed starts `truce serve` on a fresh data directory and skips when the server
// has no observation intake.
func intakeServed(t *testing.T) *server {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end ingest test skipped in -short mode")
	}
	s := startServer(t, "--data", t.TempDir())
	t.Cleanup(s.kill)
	resp, err := http.Post(s.url+"/v1/observations", api.ContentNDJSON, strings.NewReader("{}\n"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
		t.Skipf("truce serve has no POST /v1/observations (%s)", resp.Status)
	}
	return s
}

// ingestRun runs `truce ingest ... --json` and returns its summary, stderr and exit status.
func ingestRun(t *testing.T, cmd *exec.Cmd) (ingestSummary, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	var sum ingestSummary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("summary: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	return sum, stderr.String(), code
}

func ingestCommand(t *testing.T, s *server, feed string, extra ...string) *exec.Cmd {
	t.Helper()
	bin, err := buildTruce()
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"ingest", "--server", s.url, "--key", "../../examples/keys/ais-rx-1.key",
		"--format", "ais", "--json"}, extra...)
	return exec.Command(bin, append(args, feed)...)
}

// TestIngestEndToEnd submits real AIS logs to a real `truce serve` with `truce ingest` and
// checks the summary against the adapter's own count and against what the server then holds.
func TestIngestEndToEnd(t *testing.T) {
	s := intakeServed(t)
	total := 0
	for _, name := range gpsdSamples {
		path := refdata.Path(t, "ais/gpsd/"+name)
		obs, refused := countFeed(t, "ais", path)
		// Small batches, so that a file takes several requests in flight.
		sum, stderr, code := ingestRun(t, ingestCommand(t, s, path, "--batch", "50"))
		if code != 0 {
			t.Fatalf("%s: exit status %d\n%s", name, code, stderr)
		}
		localRefused := 0
		for _, n := range sum.RefusedLocal {
			localRefused += n
		}
		if sum.Records != obs+refused || localRefused != refused || !sum.Complete || sum.Unsent != 0 {
			t.Errorf("%s: summary %+v; the adapter reads %d observations and refuses %d", name, sum, obs, refused)
		}
		if got := sum.Accepted + sum.Duplicates + sum.Refused(); got != obs+refused {
			t.Errorf("%s: accepted %d + duplicates %d + refused %d = %d, want the %d records parsed",
				name, sum.Accepted, sum.Duplicates, sum.Refused(), got, obs+refused)
		}
		if sum.Accepted == 0 {
			t.Errorf("%s: nothing accepted: %+v\n%s", name, sum, stderr)
		}
		t.Logf("%s: %d records, %d accepted, %d refused locally %v, by the server %v, %d requests",
			name, sum.Records, sum.Accepted, localRefused, sum.RefusedLocal, sum.RefusedServer, sum.Requests)
		total += sum.Accepted
	}
	if got := countStored(t, s); got != total {
		t.Errorf("the server holds %d observations; ingest reported %d accepted", got, total)
	}
}

// countStored pages through GET /v1/observations as the mission's analyst.
func countStored(t *testing.T, s *server) int {
	t.Helper()
	cl, err := client.New(s.url, readerIdentity(t))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	q := url.Values{"limit": {"1000"}}
	for {
		page, err := cl.Observations(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Observations)
		if page.Next == "" {
			return n
		}
		q.Set("cursor", page.Next)
	}
}

// TestIngestTCP reads a live feed from a TCP receiver: to the end when it closes, and until
// SIGINT when it does not, sending the partial batch it holds either way.
func TestIngestTCP(t *testing.T) {
	s := intakeServed(t)
	data, err := os.ReadFile(refdata.Path(t, "ais/gpsd/ais-nmea.log"))
	if err != nil {
		t.Fatalf("reference data missing: %v", err)
	}
	obs, refused := countFeed(t, "ais", refdata.Path(t, "ais/gpsd/ais-nmea.log"))

	t.Run("peer closes", func(t *testing.T) {
		addr := serveFeed(t, data, false)
		sum, stderr, code := ingestRun(t, ingestCommand(t, s, "tcp://"+addr))
		if code != 0 || !sum.Complete || sum.Records != obs+refused || sum.Unsent != 0 {
			t.Fatalf("exit status %d, summary %+v\n%s", code, sum, stderr)
		}
	})
	t.Run("SIGINT", func(t *testing.T) {
		addr := serveFeed(t, data, true)
		cmd := ingestCommand(t, s, "tcp://"+addr)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// The whole feed is read well within a second; the batch is partial (500 > its
		// records) and the linger time sends it; SIGINT then ends the read.
		time.Sleep(time.Second)
		_ = cmd.Process.Signal(syscall.SIGINT)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		var sum ingestSummary
		if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
			t.Fatalf("%v\n%s", err, stdout.String())
		}
		if !sum.Interrupted || sum.Records != obs+refused || sum.Accepted+sum.Duplicates+sum.Refused() != sum.Records {
			t.Fatalf("summary %+v\n%s", sum, stderr.String())
		}
	})
}

// serveFeed serves data to one TCP client, then closes the connection or, with hold, keeps
// it open until the test ends.
func serveFeed(t *testing.T, data []byte, hold bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close() })
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = conn.Write(data)
		if hold {
			<-done
		}
	}()
	return ln.Addr().String()
}
