package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/api"
	"github.com/truce-mission/truce/client"
	"github.com/truce-mission/truce/ingest"
	"github.com/truce-mission/truce/keys"
	"github.com/truce-mission/truce/store/sqlite"
)

type benchCmd struct {
	Ingest benchIngestCmd `cmd:"" help:"Load POST /v1/observations with synthetic observations; report throughput and latency."`
	Alerts benchAlertsCmd `cmd:"" help:"Measure observation to alert on the SSE stream, end to end, at a fixed rate (benchalerts.go)."`
}

type benchIngestCmd struct {
	Server      string        `help:"Server URL, e.g. http://127.0.0.1:8080. Default: start a server in this process on the embedded store in a temporary directory." env:"TRUCE_SERVER"`
	Key         string        `help:"Private key file of the submitting identity (a sensor, monitor, analyst or party liaison). Required with --server or --agreement; without either, a key is made for a built-in synthetic agreement."`
	As          string        `help:"Identity id to submit as. Default: the name in the key file's comment, else the file name without .key."`
	Rate        string        `default:"0" placeholder:"N/s" help:"Target records per second, open loop (e.g. 20000 or 20000/s); 0 for closed loop, as fast as answers come."`
	Duration    time.Duration `default:"30s" help:"How long to send, unless --count is given."`
	Count       int           `placeholder:"N" help:"Send N observations (rounded up to whole batches), then stop; replaces --duration."`
	Batch       int           `default:"500" help:"Records per request, 1 to 4096."`
	Concurrency int           `default:"8" help:"Requests in flight at most."`
	RandomIDs   bool          `name:"random-ids" help:"Give observations random ids (as UUIDs would be) instead of prefix-0, prefix-1, ...: their idempotency keys then land all over the store's key index instead of at its end."`
	Agreement   string        `help:"Agreement file: spread positions over its zones and use its categories and parties. Default: lon 30 to 40, lat 45 to 50, no category or party."`
	Grace       time.Duration `default:"30s" help:"After --duration, how long requests already due may still be sent and answered."`
	JSON        bool          `name:"json" help:"Print the report as JSON."`
	CPUProfile  string        `name:"cpuprofile" placeholder:"FILE" help:"Write a CPU profile of this process to FILE (go tool pprof): of the client, and of the server too when it runs in-process."`
	MemProfile  string        `name:"memprofile" placeholder:"FILE" help:"Write a heap profile of this process to FILE at the end of the run (go tool pprof): what is live then (inuse_space) and everything allocated (alloc_space), of the client and of an in-process server."`
}

func (c *benchIngestCmd) Help() string {
	return `Sends synthetic, valid observations (unique ids, positions spread over the area, times in
the last ten minutes), signed in batches as the identity of --key, for --duration or until
--count observations are sent, and reports observations accepted per second, receipt latency
(p50, p90, p99, max), 429 answers, errors, and the CPU time this process used per observation
(on a shared machine it varies less than the rate). The details go to stderr; stdout gets one
line:

  N observations in T s: X obs/s; receipt latency p50 A ms, p99 B ms

Without --server, the tool starts a server in this process (the same handler, log and
observation index as truce serve) on the embedded SQLite store in a temporary directory,
removed at the end, and posts to it over loopback HTTP. It uses --agreement with --key, or
else a built-in synthetic agreement (four zones, two parties, one category) and a new key.
Client and server then share this machine's CPUs; --cpuprofile profiles both.

With --rate N (records per second) the load is open loop: request k is due at start +
k × batch/N, whether or not earlier ones have been answered, and its latency is measured from
that intended send time, not from when a sender got to it. A server that stalls therefore
shows its stall in every request due meanwhile (no coordinated omission); when --concurrency
senders are all busy, the wait for a free one counts too. Requests due but not answered
--grace after the last one was due are reported as unanswered: the offered rate was more than
the server could take. With --rate 0 the load is closed loop: each sender sends its next
request when the last is answered, latency is measured from the actual send, and the
throughput is the server's maximum at that concurrency.

Latency percentiles are over answered requests (429s and errors excluded), computed exactly
from every sample; a request's receipt latency is the time until its records' receipts (each
durable in the log) come back. Batches are built and signed ahead of time so that the
measurement is of the server: with --count (up to 2,000,000 records) all of them before the
clock starts, otherwise by separate goroutines during the run. Each request's own signature
(date, nonce, body digest) is made as it is sent. Run the tool on another machine to keep it
entirely off the server's CPUs.

Examples:
  truce bench ingest --count 600000 --batch 1000
  truce bench ingest --agreement examples/line-of-contact.yaml --key examples/keys/monitor-1.key \
      --rate 10000/s --count 300000 --batch 100
  truce bench ingest --server http://127.0.0.1:8080 --key examples/keys/monitor-1.key \
      --agreement examples/line-of-contact.yaml --rate 20000/s --duration 30s
  truce bench ingest --server http://127.0.0.1:8080 --key examples/keys/monitor-1.key \
      --rate 0 --batch 1000 --concurrency 16`
}

// benchReport is what a run of truce bench ingest measured.
type benchReport struct {
	Mode        string  `json:"mode"`         // "open" or "closed"
	OfferedRate float64 `json:"offered_rate"` // records/s, open loop
	Batch       int     `json:"batch"`
	Concurrency int     `json:"concurrency"`
	Duration    float64 `json:"duration_s"` // 0 with --count
	Elapsed     float64 `json:"elapsed_s"`  // from the start to the last answer

	Answered   int `json:"answered"`
	Overloaded int `json:"overloaded"` // 429
	Errors     int `json:"errors"`
	Unanswered int `json:"unanswered"` // open loop: due but not answered by the end of --grace

	Accepted   int     `json:"accepted"`
	Duplicates int     `json:"duplicates"`
	Refused    int     `json:"refused"`
	Throughput float64 `json:"accepted_per_s"`

	Latency latencySummary `json:"latency_ms"`
	// CPU is the CPU time (user and system) this process used from the start to the last
	// answer: the load tool's, and an in-process server's too. Zero where not measured. On a
	// shared machine it varies less than the rate, so it is what to compare between builds.
	CPU          float64 `json:"cpu_s"`
	CPUPerRecord float64 `json:"cpu_us_per_record"`
	// ErrorSamples are the first few distinct error messages.
	ErrorSamples []string `json:"error_samples,omitempty"`
}

// latencySummary holds latency percentiles in milliseconds.
type latencySummary struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// summarizeLatencies sorts ds and returns its nearest-rank percentiles.
func summarizeLatencies(ds []time.Duration) latencySummary {
	s := latencySummary{N: len(ds)}
	if len(ds) == 0 {
		return s
	}
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	rank := func(q float64) time.Duration {
		i := int(math.Ceil(q*float64(len(ds)))) - 1
		return ds[max(0, min(i, len(ds)-1))]
	}
	s.P50, s.P90, s.P99, s.Max = ms(rank(0.50)), ms(rank(0.90)), ms(rank(0.99)), ms(ds[len(ds)-1])
	return s
}

// parseRate reads "20000", "20000/s" or "0".
func parseRate(s string) (float64, error) {
	v := strings.TrimSuffix(strings.TrimSpace(s), "/s")
	r, err := strconv.ParseFloat(v, 64)
	if err != nil || r < 0 || math.IsInf(r, 0) || math.IsNaN(r) {
		return 0, fmt.Errorf("--rate %q: want records per second, e.g. 20000/s, or 0", s)
	}
	return r, nil
}

// benchArea is where and what the synthetic observations are.
type benchArea struct {
	minLon, minLat, maxLon, maxLat float64
	categories, parties            []string
}

var defaultBenchArea = benchArea{minLon: 30, minLat: 45, maxLon: 40, maxLat: 50}

// areaOf spans an agreement's zones and lists its categories and its parties proper.
func areaOf(a *agreement.Agreement) benchArea {
	ar := benchArea{minLon: math.Inf(1), minLat: math.Inf(1), maxLon: math.Inf(-1), maxLat: math.Inf(-1)}
	add := func(p [2]float64) {
		ar.minLon, ar.maxLon = min(ar.minLon, p[0]), max(ar.maxLon, p[0])
		ar.minLat, ar.maxLat = min(ar.minLat, p[1]), max(ar.maxLat, p[1])
	}
	for _, z := range a.Zones {
		for _, poly := range z.Shape.Polygons {
			for _, ring := range poly {
				for _, p := range ring {
					add(p)
				}
			}
		}
		for _, p := range z.Shape.Line {
			add(p)
		}
		if z.Shape.Corridor != nil {
			for _, p := range z.Shape.Corridor.Coords {
				add(p)
			}
		}
		if z.Shape.Circle != nil {
			add(z.Shape.Circle.Center)
		}
	}
	if ar.minLon > ar.maxLon {
		ar = defaultBenchArea
	}
	for _, c := range a.Categories {
		ar.categories = append(ar.categories, c.ID)
	}
	for _, p := range a.Parties {
		if p.Kind == agreement.PartyKindParty {
			ar.parties = append(ar.parties, p.ID)
		}
	}
	return ar
}

// benchRecords makes synthetic observations with ids prefix-0, prefix-1, ..., or random
// ones.
type benchRecords struct {
	area   benchArea
	prefix string
	random bool
	seq    atomic.Int64
}

func (g *benchRecords) batch(n int, rng *mrand.Rand, now time.Time) []json.RawMessage {
	out := make([]json.RawMessage, n)
	first := g.seq.Add(int64(n)) - int64(n)
	for i := range out {
		id := g.prefix + "-" + strconv.FormatInt(first+int64(i), 10)
		if g.random {
			id = fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
		}
		o := ingest.Observation{
			ID:       id,
			Observed: now.Add(-time.Duration(rng.Int64N(int64(10 * time.Minute)))).UTC().Truncate(time.Millisecond),
			Position: ingest.Position{
				Lon: round6(g.area.minLon + rng.Float64()*(g.area.maxLon-g.area.minLon)),
				Lat: round6(g.area.minLat + rng.Float64()*(g.area.maxLat-g.area.minLat)),
			},
			Count:       1 + rng.IntN(5),
			Source:      ingest.SourceGroundMonitor,
			Reliability: "B",
			Credibility: 2,
		}
		if len(g.area.categories) > 0 {
			o.Category = g.area.categories[rng.IntN(len(g.area.categories))]
		}
		if len(g.area.parties) > 0 {
			o.AssessedParty = g.area.parties[rng.IntN(len(g.area.parties))]
		}
		out[i], _ = json.Marshal(o)
	}
	return out
}

func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }

func (c *benchIngestCmd) Run(s streams) error {
	rate, err := parseRate(c.Rate)
	if err != nil {
		return err
	}
	switch {
	case c.Batch < 1 || c.Batch > api.MaxObservationsPerRequest:
		return fmt.Errorf("--batch %d: want 1 to %d", c.Batch, api.MaxObservationsPerRequest)
	case c.Concurrency < 1:
		return fmt.Errorf("--concurrency %d: want at least 1", c.Concurrency)
	case c.Duration <= 0:
		return fmt.Errorf("--duration %s: want a positive duration", c.Duration)
	case c.Count < 0:
		return fmt.Errorf("--count %d: want a positive number of observations", c.Count)
	case c.Key == "" && c.Server != "":
		return errors.New("--key is required with --server")
	case c.Key == "" && c.Agreement != "":
		return errors.New("--key is required with --agreement: the key of one of its identities")
	}
	var (
		a    *agreement.Agreement
		priv ed25519.PrivateKey
		who  = c.As
	)
	if c.Agreement != "" {
		if a, err = loadAgreement(c.Agreement); err != nil {
			return err
		}
	}
	if c.Key != "" {
		if priv, err = keys.LoadPrivateKey(c.Key); err != nil {
			return err
		}
		if who == "" {
			who = identityOfKeyFile(c.Key)
		}
	} else {
		// In-process with no agreement: a synthetic one, whose one monitor gets a new key.
		if a, priv, err = syntheticBenchAgreement(); err != nil {
			return err
		}
		who = syntheticBenchIdentity
	}
	if c.Server == "" {
		if _, ok := a.Identity(who); !ok {
			return fmt.Errorf("identity %q is not in the agreement %s", who, c.Agreement)
		}
	}
	server, stop, err := benchServer(c.Server, a, s.err)
	if err != nil {
		return err
	}
	defer stop()
	hc, closeIdle := benchHTTPClient(c.Concurrency, 60*time.Second)
	defer closeIdle()
	cl, err := client.New(server, client.WithIdentity(who, priv), client.WithHTTPClient(hc))
	if err != nil {
		return err
	}
	area := defaultBenchArea
	if a != nil {
		area = areaOf(a)
	}
	var id [4]byte
	_, _ = rand.Read(id[:])
	gen := &benchRecords{area: area, prefix: "bench-" + hex.EncodeToString(id[:]), random: c.RandomIDs}
	b := &bench{
		rate: rate, batch: c.Batch, concurrency: c.Concurrency, duration: c.Duration, grace: c.Grace,
		prepare: func(rng *mrand.Rand) (*client.ObservationBatch, error) {
			now := time.Now()
			return cl.SignObservations(gen.batch(c.Batch, rng, now), now)
		},
		send: cl.SendObservations,
	}
	span := c.Duration.String()
	if c.Count > 0 {
		b.requests = int64((c.Count + c.Batch - 1) / c.Batch)
		span = fmt.Sprintf("%d records", b.requests*int64(c.Batch))
	}
	if rate > 0 {
		fmt.Fprintf(s.err, "truce: open loop: %.0f records/s (%.1f requests/s of %d) for %s, %d senders, as %s\n",
			rate, rate/float64(c.Batch), c.Batch, span, c.Concurrency, who)
	} else {
		fmt.Fprintf(s.err, "truce: closed loop: %d senders, requests of %d, for %s, as %s\n", c.Concurrency, c.Batch, span, who)
	}
	if c.CPUProfile != "" {
		f, err := os.Create(c.CPUProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
	}
	rep, err := b.run(context.Background())
	if c.CPUProfile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return err
	}
	if c.MemProfile != "" {
		if err := writeHeapProfile(c.MemProfile); err != nil {
			return err
		}
	}
	c.print(s.out, s.err, rep)
	if rep.Answered == 0 {
		return errors.New("no request was answered")
	}
	return nil
}

// syntheticBenchIdentity is the submitter of the built-in bench agreement.
const syntheticBenchIdentity = "bench-monitor"

// syntheticBenchYAML is the built-in agreement of truce bench ingest without --agreement:
// zones of each shape over part of the default area (lon 30 to 40, lat 45 to 50), so that
// zone tagging has work to do, and one rule. %s is the monitor's public key.
const syntheticBenchYAML = `truce: 1
id: bench-synthetic
title: Synthetic agreement of truce bench ingest
d_day: 2026-01-01T00:00:00Z
parties:
  - {id: east, name: Eastern Party, kind: party}
  - {id: west, name: Western Party, kind: party}
  - {id: mission, name: Monitoring Mission, kind: mission}
identities:
  - {id: bench-monitor, name: Bench monitor, role: monitor, party: mission, key: "%s"}
categories:
  - {id: tank, name: Tanks, class: tank}
zones:
  - id: buffer
    name: Buffer zone
    kind: buffer
    geometry: {type: Polygon, coordinates: [[[34, 45], [36, 45], [36, 50], [34, 50], [34, 45]]]}
  - id: east-rear
    name: Eastern rear area
    kind: rear-area
    geometry: {type: Polygon, coordinates: [[[36, 45], [40, 45], [40, 50], [36, 50], [36, 45]]]}
  - id: crossing
    name: Crossing point
    kind: buffer
    circle: {center: [35, 47.5], radius_m: 20000}
  - id: inner
    name: Inner buffer
    kind: buffer
    geometry: {type: Polygon, coordinates: [[[34.5, 46], [35.5, 46], [35.5, 49], [34.5, 49], [34.5, 46]]]}
rules:
  - {id: no-tanks-in-buffer, kind: prohibit, zone: buffer, category: tank, from: 2026-01-01T00:00:00Z}
`

// syntheticBenchAgreement returns the built-in bench agreement and the private key of its
// monitor, made anew.
func syntheticBenchAgreement() (*agreement.Agreement, ed25519.PrivateKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	a, err := agreement.Load("bench-synthetic.yaml", fmt.Appendf(nil, syntheticBenchYAML, agreement.FormatPublicKey(pub)), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("the built-in bench agreement: %w", err)
	}
	return a, priv, nil
}

// localServer is the in-process server of truce bench ingest without --server.
type localServer struct {
	url, dir string
	stop     func() error
}

// benchServer returns the server a load tool measures: server itself, or with none an
// in-process node on a temporary SQLite store, and the function that stops it.
func benchServer(server string, a *agreement.Agreement, errw io.Writer) (string, func(), error) {
	if server != "" {
		return server, func() {}, nil
	}
	local, err := startLocalServer(a, errw)
	if err != nil {
		return "", nil, fmt.Errorf("starting the in-process server: %w", err)
	}
	fmt.Fprintf(errw, "truce: in-process server at %s, SQLite store in %s\n", local.url, local.dir)
	return local.url, func() {
		if err := local.stop(); err != nil {
			fmt.Fprintf(errw, "truce: error: stopping the in-process server: %v\n", err)
		}
	}, nil
}

// benchHTTPClient keeps one connection alive per sender: http.DefaultTransport keeps two per
// host, so the other senders would dial (and the server accept) a connection per request.
func benchHTTPClient(senders int, timeout time.Duration) (*http.Client, func()) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = senders
	return &http.Client{Transport: tr, Timeout: timeout}, tr.CloseIdleConnections
}

// startLocalServer serves a over loopback HTTP, on a new SQLite store in a temporary
// directory, with a new checkpoint key; stop shuts it down and removes the directory.
func startLocalServer(a *agreement.Agreement, logw io.Writer) (*localServer, error) {
	dir, err := os.MkdirTemp("", "truce-bench-")
	if err != nil {
		return nil, err
	}
	st, err := sqlite.Open(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	fail := func(err error) (*localServer, error) {
		st.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logger := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelWarn}))
	n, err := startNode(ctx, a, st, "truce/"+a.ID, priv, logger, nodeOptions{})
	if err != nil {
		cancel()
		return fail(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		n.close()
		return fail(err)
	}
	srv := &http.Server{Handler: n.handler, ReadHeaderTimeout: 10 * time.Second}
	srv.RegisterOnShutdown(n.endStreams)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	return &localServer{
		url: "http://" + ln.Addr().String(),
		dir: dir,
		stop: func() error {
			shutCtx, cancelShut := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancelShut()
			errs := []error{srv.Shutdown(shutCtx)}
			if err := <-served; !errors.Is(err, http.ErrServerClosed) {
				errs = append(errs, err)
			}
			cancel()
			errs = append(errs, <-n.followErr, n.close(), st.Close(), os.RemoveAll(dir))
			return errors.Join(errs...)
		},
	}, nil
}

// bench runs one load test. prepare builds and signs a batch; send sends it.
type bench struct {
	rate        float64 // records/s; 0 for closed loop
	batch       int
	concurrency int
	duration    time.Duration
	grace       time.Duration
	// requests, when positive, is how many requests to send (--count); duration is then
	// ignored.
	requests int64
	prepare  func(*mrand.Rand) (*client.ObservationBatch, error)
	send     func(context.Context, *client.ObservationBatch) (api.IntakeResponse, error)
}

// benchStats collects the senders' outcomes.
type benchStats struct {
	mu        sync.Mutex
	rep       benchReport
	latencies []time.Duration
	lastDone  time.Time
}

func (st *benchStats) record(latency time.Duration, resp api.IntakeResponse, err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.lastDone = time.Now()
	var ae *client.APIError
	switch {
	case err == nil:
		st.rep.Answered++
		st.rep.Accepted += resp.Accepted
		st.rep.Duplicates += resp.Duplicates
		st.rep.Refused += resp.Refused
		st.latencies = append(st.latencies, latency)
	case errors.As(err, &ae) && ae.Status == 429:
		st.rep.Overloaded++
	default:
		st.rep.Errors++
		if msg := err.Error(); len(st.rep.ErrorSamples) < 5 && !slices.Contains(st.rep.ErrorSamples, msg) {
			st.rep.ErrorSamples = append(st.rep.ErrorSamples, msg)
		}
	}
}

func (b *bench) run(ctx context.Context) (benchReport, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	take, stopPreparing, err := b.batches(ctx, cancel)
	if err != nil {
		return benchReport{}, err
	}
	defer stopPreparing()

	st := &benchStats{}
	cpu0, cpuOK := processCPU()
	start := time.Now()
	var interval time.Duration
	var due int64 // open loop, or closed loop with a count: requests to send
	end := start.Add(b.duration)
	if b.rate > 0 {
		interval = time.Duration(float64(b.batch) / b.rate * float64(time.Second))
		due = max(1, int64(b.duration/max(interval, 1)))
		if b.requests > 0 {
			due = b.requests
			end = start.Add(time.Duration(due) * interval)
		}
	} else if b.requests > 0 {
		due = b.requests
		end = start.Add(100 * 365 * 24 * time.Hour) // the count ends the run
	}
	stopSending := end.Add(b.grace)
	sendCtx, cancelSend := context.WithDeadline(ctx, stopSending)
	defer cancelSend()
	var next atomic.Int64 // open loop, or closed loop with a count: the next request to send
	var senders sync.WaitGroup
	for range b.concurrency {
		senders.Go(func() {
			for {
				var intended time.Time
				if b.rate > 0 {
					k := next.Add(1) - 1
					if k >= due {
						return
					}
					intended = start.Add(time.Duration(k) * interval)
					if time.Now().After(stopSending) {
						return
					}
				} else if b.requests > 0 {
					if next.Add(1) > due {
						return
					}
				} else if time.Now().After(end) {
					return
				}
				bt := take()
				if bt == nil {
					return
				}
				if b.rate > 0 {
					if d := time.Until(intended); d > 0 {
						time.Sleep(d)
					}
				} else {
					intended = time.Now()
				}
				resp, err := b.send(sendCtx, bt)
				if sendCtx.Err() != nil && err != nil {
					return // cut off by --grace: counted as unanswered
				}
				st.record(time.Since(intended), resp, err)
			}
		})
	}
	senders.Wait()
	cpu1, _ := processCPU()
	cancel()
	if err := stopPreparing(); err != nil {
		return benchReport{}, err
	}

	rep := st.rep
	rep.Batch, rep.Concurrency, rep.Duration = b.batch, b.concurrency, b.duration.Seconds()
	if b.requests > 0 {
		rep.Duration = 0
	}
	rep.Mode = "closed"
	if b.rate > 0 {
		rep.Mode, rep.OfferedRate = "open", b.rate
		rep.Unanswered = int(due) - rep.Answered - rep.Overloaded - rep.Errors
	}
	last := st.lastDone
	if last.IsZero() {
		last = time.Now()
	}
	rep.Elapsed = last.Sub(start).Seconds()
	if rep.Elapsed > 0 {
		rep.Throughput = float64(rep.Accepted) / rep.Elapsed
	}
	rep.Latency = summarizeLatencies(st.latencies)
	if cpuOK {
		rep.CPU = (cpu1 - cpu0).Seconds()
		if rep.Accepted > 0 {
			rep.CPUPerRecord = rep.CPU / float64(rep.Accepted) * 1e6
		}
	}
	return rep, nil
}

// maxPreparedRecords bounds the records built before the clock starts (about 400 bytes each).
const maxPreparedRecords = 2_000_000

// batches returns the senders' source of signed batches. With a count of at most
// maxPreparedRecords, every batch is built and signed before it returns, so that the run's
// two shared cores go to the server, as they would with the sensors elsewhere; otherwise
// goroutines build them alongside the run. The request signature is made at send time
// either way (it carries the date and a nonce). stop ends the preparation and returns its
// error, if any.
func (b *bench) batches(ctx context.Context, cancel context.CancelFunc) (take func() *client.ObservationBatch, stop func() error, err error) {
	workers := max(1, runtime.GOMAXPROCS(0)/2)
	if n := b.requests; n > 0 && n*int64(b.batch) <= maxPreparedRecords {
		all := make([]*client.ObservationBatch, n)
		procs := runtime.GOMAXPROCS(0)
		errs := make([]error, procs)
		var wg sync.WaitGroup
		for w := range procs {
			wg.Go(func() {
				rng := mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), uint64(w)))
				for i := w; i < len(all) && errs[w] == nil; i += procs {
					all[i], errs[w] = b.prepare(rng)
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return nil, nil, err
		}
		var next atomic.Int64
		return func() *client.ObservationBatch {
			if i := next.Add(1) - 1; i < int64(len(all)) {
				return all[i]
			}
			return nil
		}, func() error { return nil }, nil
	}

	prepared := make(chan *client.ObservationBatch, 2*b.concurrency)
	prepErr := make(chan error, 1)
	var prep sync.WaitGroup
	for i := range min(b.concurrency, workers) {
		prep.Go(func() {
			rng := mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))
			for {
				bt, err := b.prepare(rng)
				if err != nil {
					select {
					case prepErr <- err:
					default:
					}
					cancel()
					return
				}
				select {
				case prepared <- bt:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	stop = func() error {
		cancel()
		prep.Wait()
		select {
		case err := <-prepErr:
			return err
		default:
			return nil
		}
	}
	// Wait for the first batch before the clock starts.
	var first *client.ObservationBatch
	select {
	case first = <-prepared:
	case err := <-prepErr:
		stop()
		return nil, nil, err
	}
	var firstUsed atomic.Bool
	return func() *client.ObservationBatch {
		if firstUsed.CompareAndSwap(false, true) {
			return first
		}
		select {
		case bt := <-prepared:
			return bt
		case <-ctx.Done():
			return nil
		}
	}, stop, nil
}

// print writes the report: as JSON to out with --json; else the details to detail and the
// one summary line to out.
func (c *benchIngestCmd) print(out, detail io.Writer, r benchReport) {
	if c.JSON {
		b, _ := json.MarshalIndent(r, "", "  ")
		fmt.Fprintf(out, "%s\n", b)
		return
	}
	w := detail
	fmt.Fprintf(w, "requests    %d answered, %d overloaded (429), %d errors", r.Answered, r.Overloaded, r.Errors)
	if r.Mode == "open" {
		fmt.Fprintf(w, ", %d unanswered by the end of --grace", r.Unanswered)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "records     %d accepted, %d duplicates, %d refused\n", r.Accepted, r.Duplicates, r.Refused)
	fmt.Fprintf(w, "throughput  %.0f records/s accepted over %.2fs", r.Throughput, r.Elapsed)
	if r.Mode == "open" {
		fmt.Fprintf(w, " (offered %.0f/s)", r.OfferedRate)
	}
	fmt.Fprintln(w)
	l := r.Latency
	fmt.Fprintf(w, "latency     p50 %s  p90 %s  p99 %s  max %s  (%d requests)\n", fmtMs(l.P50), fmtMs(l.P90), fmtMs(l.P99), fmtMs(l.Max), l.N)
	if r.Mode == "open" {
		fmt.Fprintln(w, "            measured from each request's intended send time")
	} else {
		fmt.Fprintln(w, "            measured from each request's send (closed loop)")
	}
	if r.CPU > 0 {
		fmt.Fprintf(w, "cpu         %.2fs (%.1f µs a record accepted; %.2f cores), this process: the load tool, and the server when in-process\n",
			r.CPU, r.CPUPerRecord, r.CPU/max(r.Elapsed, 1e-9))
	}
	for _, e := range r.ErrorSamples {
		fmt.Fprintf(w, "error       %s\n", e)
	}
	fmt.Fprintln(out, summaryLine(r))
}

// summaryLine is the report in one line, the last thing truce bench ingest prints.
func summaryLine(r benchReport) string {
	return fmt.Sprintf("%d observations in %.2f s: %.0f obs/s; receipt latency p50 %.1f ms, p99 %.1f ms",
		r.Accepted, r.Elapsed, r.Throughput, r.Latency.P50, r.Latency.P99)
}

func fmtMs(ms float64) string {
	if ms < 10 {
		return strconv.FormatFloat(ms, 'f', 2, 64) + "ms"
	}
	return strconv.FormatFloat(ms, 'f', 1, 64) + "ms"
}
