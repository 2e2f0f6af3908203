package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/alert"
	"github.com/truce-mission/truce/api"
	"github.com/truce-mission/truce/client"
	"github.com/truce-mission/truce/engine"
	"github.com/truce-mission/truce/ingest"
	"github.com/truce-mission/truce/keys"
	"github.com/truce-mission/truce/reqauth"
)

type benchAlertsCmd struct {
	Server      string        `help:"Server URL, e.g. http://127.0.0.1:8080; default: a server in this process on a new SQLite store." env:"TRUCE_SERVER"`
	Agreement   string        `required:"" help:"The server's agreement file (for its zones, categories and parties)."`
	Key         string        `required:"" help:"Private key file of the submitting identity (a monitor: its sightings are findings at once)."`
	As          string        `help:"Identity id to submit as. Default: the name in the key file's comment, else the file name without .key."`
	ReaderKey   string        `name:"reader-key" help:"Private key file of the identity that reads GET /v1/alerts/stream (one that sees every alert: monitor, analyst, council member). Default: --key."`
	ReaderAs    string        `name:"reader-as" help:"Identity id of --reader-key."`
	Zone        string        `default:"dmz" help:"Zone to place the observations in: a corridor (points along its line) or a line zone."`
	Categories  []string      `default:"tank,armoured-vehicle,artillery-100mm,mlrs,heavy-mlrs,tactical-missile,air-defence" help:"Categories the zone prohibits, no one covering another, so that observations do not fuse."`
	Rate        string        `default:"5000/s" placeholder:"N/s" help:"Observations per second, open loop."`
	Duration    time.Duration `default:"20s" help:"How long to send."`
	Batch       int           `default:"50" help:"Observations per request."`
	Concurrency int           `default:"16" help:"Requests in flight at most."`
	Grace       time.Duration `default:"30s" help:"After --duration, how long to wait for answers and alerts."`
	JSON        bool          `name:"json" help:"Print the report as JSON."`
	CPUProfile  string        `name:"cpuprofile" placeholder:"FILE" help:"Write a CPU profile of this process to FILE (of the server too when it runs in-process)."`
	MemProfile  string        `name:"memprofile" placeholder:"FILE" help:"Write a heap profile of this process to FILE at the end of the run, before an in-process server stops (what the server holds)."`
}

func (c *benchAlertsCmd) Help() string {
	return `Measures observation to alert, end to end: signed batches of observations that each break a
rule (heavy weapons in --zone) go to POST /v1/observations at a fixed open-loop rate, while one
connection to GET /v1/alerts/stream reads the alerts; each alert is matched, through the ledger
index of its newest evidence entry, to the observation that caused it, and the latency is from
the observation's intended send time (start + k × batch/rate for request k) to the arrival of the
alert's data line. Requests that wait for a free sender, or a server that stalls, therefore show
in the figures (no coordinated omission).

Each observation is made to open an incident of its own: positions along the zone's line at
least 11 km apart (twice the engine's fusion distance, plus margin), the --categories, every
party, and observed times 2 h 10 min apart (more than the fusion window) from D-day on. When
those run out they repeat, and later observations join earlier incidents (Update alerts, matched
the same way).

Examples:
  truce serve --agreement examples/line-of-contact.yaml --data /tmp/d --addr 127.0.0.1:8080 &
  truce bench alerts --server http://127.0.0.1:8080 --agreement examples/line-of-contact.yaml \
      --key examples/keys/monitor-1.key --rate 5000/s --duration 20s`
}

// alertBenchReport is what a run of truce bench alerts measured.
type alertBenchReport struct {
	OfferedRate float64 `json:"offered_rate"` // observations/s
	Batch       int     `json:"batch"`
	Concurrency int     `json:"concurrency"`
	Duration    float64 `json:"duration_s"`
	Distinct    int     `json:"distinct_placements"` // observations before placements repeat

	Requests   int      `json:"requests"`
	Errors     int      `json:"errors"`
	Unanswered int      `json:"unanswered"`
	Accepted   int      `json:"accepted"`
	Alerts     int      `json:"alerts"`  // alert events read from the stream
	Matched    int      `json:"matched"` // accepted observations whose alert arrived
	Missing    int      `json:"missing"` // accepted observations without an alert by the end
	Samples    []string `json:"error_samples,omitempty"`

	Intake  latencySummary `json:"intake_ms"`            // request latency, from the intended send time
	Latency latencySummary `json:"observation_alert_ms"` // observation's intended send time to alert arrival
}

func (c *benchAlertsCmd) Run(s streams) error {
	rate, err := parseRate(c.Rate)
	switch {
	case err != nil:
		return err
	case rate <= 0:
		return fmt.Errorf("--rate %q: want a positive rate: the load is open loop", c.Rate)
	case c.Batch < 1 || c.Batch > api.MaxObservationsPerRequest:
		return fmt.Errorf("--batch %d: want 1 to %d", c.Batch, api.MaxObservationsPerRequest)
	case c.Concurrency < 1:
		return fmt.Errorf("--concurrency %d: want at least 1", c.Concurrency)
	case c.Duration <= 0:
		return fmt.Errorf("--duration %s: want a positive duration", c.Duration)
	}
	a, err := loadAgreement(c.Agreement)
	if err != nil {
		return err
	}
	priv, err := keys.LoadPrivateKey(c.Key)
	if err != nil {
		return err
	}
	who := c.As
	if who == "" {
		who = identityOfKeyFile(c.Key)
	}
	readerPriv, reader := priv, who
	if c.ReaderKey != "" {
		if readerPriv, err = keys.LoadPrivateKey(c.ReaderKey); err != nil {
			return err
		}
		reader = c.ReaderAs
		if reader == "" {
			reader = identityOfKeyFile(c.ReaderKey)
		}
	}
	gen, err := newAlertBenchGen(a, c.Zone, c.Categories)
	if err != nil {
		return err
	}

	server, stop, err := benchServer(c.Server, a, s.err)
	if err != nil {
		return err
	}
	defer stop()
	hc, closeIdle := benchHTTPClient(c.Concurrency, c.Grace+c.Duration)
	defer closeIdle()
	cl, err := client.New(server, client.WithIdentity(who, priv), client.WithHTTPClient(hc))
	if err != nil {
		return err
	}

	// Build and sign every batch before the clock starts, so that the run measures the server.
	interval := time.Duration(float64(c.Batch) / rate * float64(time.Second))
	requests := max(1, int(c.Duration/max(interval, 1)))
	var id [4]byte
	_, _ = rand.Read(id[:])
	prefix := "alerts-" + hex.EncodeToString(id[:])
	batches := make([]*client.ObservationBatch, requests)
	for k := range batches {
		recs := make([]json.RawMessage, c.Batch)
		for i := range recs {
			recs[i] = gen.observation(prefix, k*c.Batch+i)
		}
		if batches[k], err = cl.SignObservations(recs, time.Now()); err != nil {
			return err
		}
	}
	fmt.Fprintf(s.err, "truce: %d requests of %d observations prepared (%d placements before they repeat); open loop at %.0f/s for %s as %s, alerts read as %s\n",
		requests, c.Batch, gen.distinct(), rate, c.Duration, who, reader)

	if c.CPUProfile != "" {
		f, err := os.Create(c.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := openAlertStream(ctx, server, reader, readerPriv)
	if err != nil {
		return err
	}
	go st.read()

	rep := alertBenchReport{OfferedRate: rate, Batch: c.Batch, Concurrency: c.Concurrency, Duration: c.Duration.Seconds(), Distinct: gen.distinct()}
	var (
		mu        sync.Mutex
		intended  = map[int64]time.Time{} // ledger index -> intended send time
		intakeLat []time.Duration
	)
	type job struct {
		k        int
		intended time.Time
	}
	jobs := make(chan job)
	sendCtx, cancelSend := context.WithTimeout(ctx, c.Duration+c.Grace)
	defer cancelSend()
	var senders sync.WaitGroup
	for range c.Concurrency {
		senders.Go(func() {
			for j := range jobs {
				resp, err := cl.SendObservations(sendCtx, batches[j.k])
				lat := time.Since(j.intended)
				mu.Lock()
				rep.Requests++
				if err != nil {
					if sendCtx.Err() != nil {
						rep.Unanswered++
					} else {
						rep.Errors++
						if msg := err.Error(); len(rep.Samples) < 5 && !slices.Contains(rep.Samples, msg) {
							rep.Samples = append(rep.Samples, msg)
						}
					}
				} else {
					intakeLat = append(intakeLat, lat)
					rep.Accepted += resp.Accepted
					for _, r := range resp.Results {
						if r.Index != nil {
							intended[*r.Index] = j.intended
						}
					}
				}
				mu.Unlock()
			}
		})
	}
	start := time.Now()
	for k := range requests {
		due := start.Add(time.Duration(k) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		select {
		case jobs <- job{k, due}:
		case <-sendCtx.Done():
		}
	}
	close(jobs)
	senders.Wait()

	// Wait for the alerts of every accepted observation, or the end of --grace.
	deadline := start.Add(c.Duration + c.Grace)
	for {
		mu.Lock()
		n := len(intended)
		mu.Unlock()
		if st.covered(n) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	arrivals, alerts := st.result()
	var lat []time.Duration
	for idx, t0 := range intended {
		if t1, ok := arrivals[idx]; ok {
			lat = append(lat, t1.Sub(t0))
		}
	}
	rep.Alerts, rep.Matched, rep.Missing = alerts, len(lat), len(intended)-len(lat)
	rep.Intake, rep.Latency = summarizeLatencies(intakeLat), summarizeLatencies(lat)
	if c.MemProfile != "" {
		if err := writeHeapProfile(c.MemProfile); err != nil {
			return err
		}
	}
	if err := st.failure(); err != nil && rep.Matched == 0 {
		return fmt.Errorf("reading the alert stream: %w", err)
	}
	c.print(s.out, rep)
	if rep.Matched == 0 {
		return errors.New("no alert arrived for any observation")
	}
	return nil
}

func (c *benchAlertsCmd) print(w io.Writer, r alertBenchReport) {
	if c.JSON {
		b, _ := json.MarshalIndent(r, "", "  ")
		fmt.Fprintf(w, "%s\n", b)
		return
	}
	fmt.Fprintf(w, "offered %.0f observations/s for %.0f s in requests of %d, %d senders\n", r.OfferedRate, r.Duration, r.Batch, r.Concurrency)
	fmt.Fprintf(w, "requests %d (errors %d, unanswered %d), observations accepted %d\n", r.Requests, r.Errors, r.Unanswered, r.Accepted)
	fmt.Fprintf(w, "alerts on the stream %d; observations matched to their alert %d, without one %d\n", r.Alerts, r.Matched, r.Missing)
	fmt.Fprintf(w, "intake request latency ms:  p50 %s  p90 %s  p99 %s  max %s\n", fmtMs(r.Intake.P50), fmtMs(r.Intake.P90), fmtMs(r.Intake.P99), fmtMs(r.Intake.Max))
	fmt.Fprintf(w, "observation -> alert ms:    p50 %s  p90 %s  p99 %s  max %s  (n=%d)\n", fmtMs(r.Latency.P50), fmtMs(r.Latency.P90), fmtMs(r.Latency.P99), fmtMs(r.Latency.Max), r.Latency.N)
	for _, e := range r.Samples {
		fmt.Fprintf(w, "error: %s\n", e)
	}
}

// alertBenchGen places observations so that each opens an incident of its own.
type alertBenchGen struct {
	points     [][2]float64
	categories []string
	parties    []string
	slots      []time.Time
}

// minSpacingM keeps two positions from fusing: more than twice the fusion distance.
const minSpacingM = 2*engine.DefaultFuseDistanceM + 1000

func newAlertBenchGen(a *agreement.Agreement, zone string, categories []string) (*alertBenchGen, error) {
	z, ok := a.Zone(zone)
	if !ok {
		return nil, fmt.Errorf("--zone %q: not a zone of the agreement", zone)
	}
	line := z.Shape.Line
	if z.Shape.Corridor != nil {
		line = z.Shape.Corridor.Coords
	}
	if len(line) == 0 {
		return nil, fmt.Errorf("--zone %q: not a line or a corridor", zone)
	}
	g := &alertBenchGen{}
	for _, p := range line {
		if len(g.points) == 0 || haversineM(g.points[len(g.points)-1], p) >= minSpacingM {
			g.points = append(g.points, p)
		}
	}
	for _, cat := range categories {
		if _, ok := a.Category(cat); !ok {
			return nil, fmt.Errorf("--categories: %q is not a category of the agreement", cat)
		}
		g.categories = append(g.categories, cat)
	}
	for _, p := range a.Parties {
		if p.Kind == agreement.PartyKindParty {
			g.parties = append(g.parties, p.ID)
		}
	}
	if len(g.parties) == 0 {
		g.parties = []string{""}
	}
	now := time.Now().Add(-time.Hour)
	for t := a.DDay.Add(time.Hour); t.Before(now); t = t.Add(engine.DefaultFuseWindow + 10*time.Minute) {
		g.slots = append(g.slots, t)
	}
	if len(g.slots) == 0 {
		return nil, fmt.Errorf("the agreement's D-day %s is not in the past", a.DDay.Format(time.RFC3339))
	}
	return g, nil
}

func (g *alertBenchGen) distinct() int {
	return len(g.points) * len(g.categories) * len(g.parties) * len(g.slots)
}

// observation n: the position changes fastest, then the category, the party and the time.
func (g *alertBenchGen) observation(prefix string, n int) json.RawMessage {
	i := n
	p := g.points[i%len(g.points)]
	i /= len(g.points)
	cat := g.categories[i%len(g.categories)]
	i /= len(g.categories)
	party := g.parties[i%len(g.parties)]
	i /= len(g.parties)
	t := g.slots[i%len(g.slots)]
	o := ingest.Observation{
		ID: prefix + "-" + strconv.Itoa(n), Observed: t,
		Position: ingest.Position{Lon: p[0], Lat: p[1]},
		Category: cat, Count: 1, AssessedParty: party,
		Source: ingest.SourceGroundMonitor, Reliability: "B", Credibility: 2,
	}
	b, _ := json.Marshal(o)
	return b
}

// haversineM is the great-circle distance in metres, close enough for spacing.
func haversineM(a, b [2]float64) float64 {
	const r = 6371008.8
	rad := math.Pi / 180
	dLat, dLon := (b[1]-a[1])*rad, (b[0]-a[0])*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a[1]*rad)*math.Cos(b[1]*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Asin(math.Sqrt(h))
}

// alertStream reads GET /v1/alerts/stream and notes, per ledger index, when the first alert
// whose newest evidence entry it is arrived.
type alertStream struct {
	resp *http.Response
	mu   sync.Mutex
	at   map[int64]time.Time
	n    int
	err  error
}

func openAlertStream(ctx context.Context, server, id string, priv ed25519.PrivateKey) (*alertStream, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(server, "/")+"/v1/alerts/stream", nil)
	if err != nil {
		return nil, err
	}
	reqauth.Sign(req, nil, id, priv, time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("opening the alert stream: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return nil, fmt.Errorf("opening the alert stream: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	return &alertStream{resp: resp, at: map[int64]time.Time{}}, nil
}

func (s *alertStream) read() {
	defer s.resp.Body.Close()
	r := bufio.NewReaderSize(s.resp.Body, 64<<10)
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			rest, err2 := r.ReadBytes('\n')
			line, err = append(slices.Clone(line), rest...), err2
		}
		if err != nil {
			s.mu.Lock()
			s.err = err
			s.mu.Unlock()
			return
		}
		data, ok := strings.CutPrefix(string(line), "data: ")
		if !ok {
			continue
		}
		now := time.Now()
		newest := newestEvidence([]byte(data))
		s.mu.Lock()
		s.n++
		if _, seen := s.at[newest]; newest >= 0 && !seen {
			s.at[newest] = now
		}
		s.mu.Unlock()
	}
}

// evidenceMarker starts the truce:evidence parameter's value in an alert's JSON rendering.
var evidenceMarker = []byte(`{"valueName":"` + alert.ParamEvidence + `","value":"`)

// newestEvidence returns the newest ledger index of an alert's evidence parameter, or -1. The
// load tool shares the machine with the server, so it finds the parameter in the JSON text
// rather than decoding the whole alert, and decodes only when the text is not as expected.
func newestEvidence(data []byte) int64 {
	newest := int64(-1)
	value := ""
	if i := bytes.Index(data, evidenceMarker); i >= 0 {
		rest := data[i+len(evidenceMarker):]
		if j := bytes.IndexByte(rest, '"'); j >= 0 {
			value = string(rest[:j])
		}
	} else {
		var al struct {
			Info []struct {
				Parameter []alert.NamedValue `json:"parameter"`
			} `json:"info"`
		}
		if json.Unmarshal(data, &al) != nil || len(al.Info) == 0 {
			return -1
		}
		for _, p := range al.Info[0].Parameter {
			if p.ValueName == alert.ParamEvidence {
				value = p.Value
			}
		}
	}
	for f := range strings.FieldsSeq(value) {
		if v, err := strconv.ParseInt(f, 10, 64); err == nil {
			newest = max(newest, v)
		}
	}
	return newest
}

// covered reports whether at least n indexes have their alert.
func (s *alertStream) covered(n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.at) >= n
}

func (s *alertStream) result() (map[int64]time.Time, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.at), s.n
}

func (s *alertStream) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if errors.Is(s.err, context.Canceled) {
		return nil
	}
	return s.err
}

// writeHeapProfile writes the live heap, after a collection, to file.
func writeHeapProfile(file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("--memprofile: %w", err)
	}
	return f.Close()
}
