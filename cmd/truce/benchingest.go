package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"runtime"
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
)

type benchCmd struct {
	Ingest benchIngestCmd `cmd:"" help:"Load POST /v1/observations with synthetic observations; report throughput and latency."`
}

type benchIngestCmd struct {
	Server      string        `required:"" help:"Server URL, e.g. http://127.0.0.1:8080." env:"TRUCE_SERVER"`
	Key         string        `required:"" help:"Private key file of the submitting identity (a sensor, monitor, analyst or party liaison)."`
	As          string        `help:"Identity id to submit as. Default: the name in the key file's comment, else the file name without .key."`
	Rate        string        `default:"0" placeholder:"N/s" help:"Target records per second, open loop (e.g. 20000 or 20000/s); 0 for closed loop, as fast as answers come."`
	Duration    time.Duration `default:"30s" help:"How long to send."`
	Batch       int           `default:"500" help:"Records per request, 1 to 4096."`
	Concurrency int           `default:"8" help:"Requests in flight at most."`
	Agreement   string        `help:"Agreement file: spread positions over its zones and use its categories and parties. Default: lon 30 to 40, lat 45 to 50, no category or party."`
	Grace       time.Duration `default:"30s" help:"After --duration, how long requests already due may still be sent and answered."`
	JSON        bool          `name:"json" help:"Print the report as JSON."`
}

func (c *benchIngestCmd) Help() string {
	return `Sends synthetic, valid observations (unique ids, positions spread over the area, times in
the last ten minutes), signed in batches as the identity of --key, for --duration, and reports
records accepted per second, request latency (p50, p90, p99, max), 429 answers and errors.

With --rate N (records per second) the load is open loop: request k is due at start +
k × batch/N, whether or not earlier ones have been answered, and its latency is measured from
that intended send time, not from when a sender got to it. A server that stalls therefore
shows its stall in every request due meanwhile (no coordinated omission); when --concurrency
senders are all busy, the wait for a free one counts too. Requests due but not answered
--grace after --duration are reported as unanswered: the offered rate was more than the
server could take. With --rate 0 the load is closed loop: each sender
sends its next request when the last is answered, latency is measured from the actual send,
and the throughput is the server's maximum at that concurrency.

Latency percentiles are over answered requests (429s and errors excluded), computed exactly
from every sample. Batches are built and signed ahead of time by separate goroutines so the
measurement is of the server; run the tool on another machine to keep it off the server's
CPUs.

Examples:
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
	Duration    float64 `json:"duration_s"`
	Elapsed     float64 `json:"elapsed_s"` // from the start to the last answer

	Answered   int `json:"answered"`
	Overloaded int `json:"overloaded"` // 429
	Errors     int `json:"errors"`
	Unanswered int `json:"unanswered"` // open loop: due but not answered by the end of --grace

	Accepted   int     `json:"accepted"`
	Duplicates int     `json:"duplicates"`
	Refused    int     `json:"refused"`
	Throughput float64 `json:"accepted_per_s"`

	Latency latencySummary `json:"latency_ms"`
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

// benchRecords makes synthetic observations with ids prefix-0, prefix-1, ...
type benchRecords struct {
	area   benchArea
	prefix string
	seq    atomic.Int64
}

func (g *benchRecords) batch(n int, rng *mrand.Rand, now time.Time) []json.RawMessage {
	out := make([]json.RawMessage, n)
	first := g.seq.Add(int64(n)) - int64(n)
	for i := range out {
		o := ingest.Observation{
			ID:       g.prefix + "-" + strconv.FormatInt(first+int64(i), 10),
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
	}
	priv, err := keys.LoadPrivateKey(c.Key)
	if err != nil {
		return err
	}
	who := c.As
	if who == "" {
		who = identityOfKeyFile(c.Key)
	}
	cl, err := client.New(c.Server, client.WithIdentity(who, priv))
	if err != nil {
		return err
	}
	area := defaultBenchArea
	if c.Agreement != "" {
		a, err := loadAgreement(c.Agreement)
		if err != nil {
			return err
		}
		area = areaOf(a)
	}
	var id [4]byte
	_, _ = rand.Read(id[:])
	gen := &benchRecords{area: area, prefix: "bench-" + hex.EncodeToString(id[:])}
	b := &bench{
		rate: rate, batch: c.Batch, concurrency: c.Concurrency, duration: c.Duration, grace: c.Grace,
		prepare: func(rng *mrand.Rand) (*client.ObservationBatch, error) {
			now := time.Now()
			return cl.SignObservations(gen.batch(c.Batch, rng, now), now)
		},
		send: cl.SendObservations,
	}
	if rate > 0 {
		fmt.Fprintf(s.err, "truce: open loop: %.0f records/s (%.1f requests/s of %d) for %s, %d senders, as %s\n",
			rate, rate/float64(c.Batch), c.Batch, c.Duration, c.Concurrency, who)
	} else {
		fmt.Fprintf(s.err, "truce: closed loop: %d senders, requests of %d, for %s, as %s\n", c.Concurrency, c.Batch, c.Duration, who)
	}
	rep, err := b.run(context.Background())
	if err != nil {
		return err
	}
	c.print(s.out, rep)
	if rep.Answered == 0 {
		return errors.New("no request was answered")
	}
	return nil
}

// bench runs one load test. prepare builds and signs a batch; send sends it.
type bench struct {
	rate        float64 // records/s; 0 for closed loop
	batch       int
	concurrency int
	duration    time.Duration
	grace       time.Duration
	prepare     func(*mrand.Rand) (*client.ObservationBatch, error)
	send        func(context.Context, *client.ObservationBatch) (api.IntakeResponse, error)
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

	// Batches are built and signed ahead, so that the senders measure the server.
	prepared := make(chan *client.ObservationBatch, 2*b.concurrency)
	prepErr := make(chan error, 1)
	var prep sync.WaitGroup
	for i := range max(1, min(b.concurrency, runtime.GOMAXPROCS(0)/2)) {
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
	defer func() {
		cancel()
		prep.Wait()
	}()
	// Wait for the first batch before starting the clock.
	var first *client.ObservationBatch
	select {
	case first = <-prepared:
	case err := <-prepErr:
		return benchReport{}, err
	}
	firstUsed := atomic.Bool{}
	take := func() *client.ObservationBatch {
		if firstUsed.CompareAndSwap(false, true) {
			return first
		}
		select {
		case bt := <-prepared:
			return bt
		case <-ctx.Done():
			return nil
		}
	}

	st := &benchStats{}
	start := time.Now()
	end := start.Add(b.duration)
	stopSending := end.Add(b.grace)
	sendCtx, cancelSend := context.WithDeadline(ctx, stopSending)
	defer cancelSend()
	var interval time.Duration
	var due int64
	if b.rate > 0 {
		interval = time.Duration(float64(b.batch) / b.rate * float64(time.Second))
		due = max(1, int64(b.duration/max(interval, 1)))
	}
	var next atomic.Int64 // open loop: the next request to send
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
	cancel()
	select {
	case err := <-prepErr:
		return benchReport{}, err
	default:
	}

	rep := st.rep
	rep.Batch, rep.Concurrency, rep.Duration = b.batch, b.concurrency, b.duration.Seconds()
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
	return rep, nil
}

func (c *benchIngestCmd) print(w io.Writer, r benchReport) {
	if c.JSON {
		b, _ := json.MarshalIndent(r, "", "  ")
		fmt.Fprintf(w, "%s\n", b)
		return
	}
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
	for _, e := range r.ErrorSamples {
		fmt.Fprintf(w, "error       %s\n", e)
	}
}

func fmtMs(ms float64) string {
	if ms < 10 {
		return strconv.FormatFloat(ms, 'f', 2, 64) + "ms"
	}
	return strconv.FormatFloat(ms, 'f', 1, 64) + "ms"
}
