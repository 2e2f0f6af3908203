package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/api"
	"github.com/truce-mission/truce/client"
	"github.com/truce-mission/truce/ingest"
	"github.com/truce-mission/truce/ingest/ais"
	"github.com/truce-mission/truce/ingest/cap"
	"github.com/truce-mission/truce/ingest/csv"
	"github.com/truce-mission/truce/ingest/feeds"
	"github.com/truce-mission/truce/ingest/geojson"
	"github.com/truce-mission/truce/ingest/readsb"
)

// maxRefusalLines is how many refused records are printed one by one; the rest are counted.
const maxRefusalLines = 20

type ingestCmd struct {
	Server       string        `required:"" help:"Server URL, e.g. http://127.0.0.1:8080." env:"TRUCE_SERVER"`
	Key          string        `required:"" help:"Private key file of the submitting identity (a sensor, monitor, analyst or party liaison)."`
	As           string        `help:"Identity id to submit as. Default: the name in the key file's comment, else the file name without .key."`
	Format       string        `required:"" enum:"ais,sbs,readsb,geojson,csv,cap" help:"Feed format: ais, sbs, readsb, geojson, csv or cap."`
	Batch        int           `default:"500" help:"Records per request, 1 to 4096."`
	Linger       time.Duration `default:"200ms" help:"Send a partial batch once its first record has waited this long."`
	InFlight     int           `name:"in-flight" default:"4" help:"Requests in flight at once."`
	RetryFor     time.Duration `name:"retry-for" default:"5m" help:"Retry a batch (429, 5xx, network errors) for this long before giving up."`
	Agreement    string        `help:"The server's agreement file: its parties' military transponders (transponders: mmsi, icao) mark ships and aircraft as military and name their party."`
	MilitaryMMSI []string      `name:"military-mmsi" placeholder:"LIST" help:"MMSIs of naval or military ships, comma-separated; repeatable. Adds to --agreement's."`
	MilitaryICAO []string      `name:"military-icao" placeholder:"LIST" help:"ICAO addresses (6 hex digits) or ranges LO-HI of military aircraft, comma-separated; repeatable. Adds to --agreement's."`
	Progress     string        `help:"Progress bar on stderr: auto (when stderr is a terminal and the feed a file over 1 MB), always, never." enum:"auto,always,never" default:"auto"`
	JSON         bool          `name:"json" help:"Print the summary as JSON."`
	Feed         string        `arg:"" help:"The feed: a file, - for standard input, or tcp://HOST:PORT for a live feed."`
}

func (c *ingestCmd) Help() string {
	return `Reads a feed with the adapter of its format, signs its records in batches and submits them
to the server's POST /v1/observations. Batches are cut at --batch records or when the first
record has waited --linger, whichever comes first; --in-flight of them are sent at once. An
overloaded server (429) is waited on as its Retry-After says; server errors and network errors
are retried with exponential backoff. A retry resends the very batch (same submission time,
same signature), so the server answers records it already holds with their original receipts
("duplicates").

A record the adapter refuses is printed on stderr as file:line: reason, and so is one the
server refuses (the first 20 in all; the rest are counted), and the feed goes on. The summary
on stdout counts records read, accepted, duplicates, refused by reason (local and server),
unsent, elapsed time and rate; every record read is in exactly one of those counts.

The exit status is 0 when the feed was read to its end (or, for tcp://, until it closed or
until SIGINT), even with refused records; 1 when a batch could not be delivered within
--retry-for, the server refused a request as a whole (a bad key, say), or the feed could not be
read. A tcp:// feed is read until the peer closes it or SIGINT; a second SIGINT stops at once.

Examples:
  truce ingest --server http://127.0.0.1:8080 --key examples/keys/ais-rx-1.key --format ais \
      ais-2026-12-05.nmea
  truce ingest --server http://127.0.0.1:8080 --key examples/keys/ais-rx-1.key --format ais \
      --agreement examples/line-of-contact.yaml tcp://192.168.1.20:10110
  cat positions.csv | truce ingest --server http://127.0.0.1:8080 --key examples/keys/monitor-1.key \
      --format csv --json -`
}

func (c *ingestCmd) Run(s streams) error {
	if c.Batch < 1 || c.Batch > api.MaxObservationsPerRequest {
		return fmt.Errorf("--batch %d: want 1 to %d", c.Batch, api.MaxObservationsPerRequest)
	}
	if c.InFlight < 1 {
		return fmt.Errorf("--in-flight %d: want at least 1", c.InFlight)
	}
	if c.Linger <= 0 {
		return fmt.Errorf("--linger %s: want a positive duration", c.Linger)
	}
	opts, err := c.adapterOptions()
	if err != nil {
		return err
	}
	cl, err := signedClient(c.Server, c.Key, c.As)
	if err != nil {
		return err
	}
	in, size, live, err := c.openFeed(s.in)
	if err != nil {
		return err
	}
	defer in.Close()
	opts.Name = c.feedName()

	// The first SIGINT or SIGTERM stops reading and sends what was read; the default
	// handling is restored then, so that a second one stops at once.
	stop := make(chan struct{})
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-sigs:
			signal.Reset(os.Interrupt, syscall.SIGTERM)
			close(stop)
			_ = in.Close() // unblocks a read of a tcp feed
		case <-finished:
			signal.Stop(sigs)
		}
	}()

	items, parsed, parseErr := readFeed(c.Format, in, opts)
	p := &ingester{
		size: c.Batch, linger: c.Linger, inFlight: c.InFlight, retryFor: c.RetryFor,
		sign: cl.SignObservations, send: cl.SendObservations, source: opts.Name, messages: s.err,
	}
	if size > 0 {
		p.bar = (&locateCmd{Progress: c.Progress}).progressBar(s.err, size)
		if p.bar != nil {
			p.bar.Describe("ingesting")
		}
	}
	sum, err := p.run(context.Background(), items.ch, stop)
	items.close()
	sum.Source = opts.Name
	if sum.Complete {
		<-parsed
		if *parseErr != nil && err == nil {
			err = fmt.Errorf("reading %s: %w", opts.Name, *parseErr)
		}
	}
	if err != nil {
		sum.Failed = err.Error()
	}
	c.printSummary(s.out, sum)
	switch {
	case err != nil:
		return err
	case sum.Interrupted && !live:
		return fmt.Errorf("interrupted: %s was not read to its end", opts.Name)
	}
	return nil
}

// feedName is the feed's name in messages.
func (c *ingestCmd) feedName() string {
	if c.Feed == "-" {
		return "stdin"
	}
	return c.Feed
}

// openFeed opens the feed; size is the size of a regular file, else -1; live is a tcp feed.
func (c *ingestCmd) openFeed(stdin io.Reader) (r io.ReadCloser, size int64, live bool, err error) {
	switch {
	case c.Feed == "-":
		return io.NopCloser(stdin), -1, false, nil
	case strings.HasPrefix(c.Feed, "tcp://"):
		addr := strings.TrimPrefix(c.Feed, "tcp://")
		conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			return nil, 0, false, fmt.Errorf("feed %s: %w", c.Feed, err)
		}
		return conn, -1, true, nil
	}
	f, err := os.Open(c.Feed)
	if err != nil {
		return nil, 0, false, err
	}
	size = -1
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	return f, size, false, nil
}

// adapterOptions reads the military lists: the agreement's and the flags'.
func (c *ingestCmd) adapterOptions() (ingest.Options, error) {
	var o ingest.Options
	if c.Agreement != "" {
		a, err := agreement.LoadFile(c.Agreement)
		if err != nil {
			return o, err
		}
		o = o.WithAgreement(a)
	}
	for _, list := range c.MilitaryMMSI {
		for s := range strings.SplitSeq(list, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			m, err := agreement.ParseMMSI(s)
			if err != nil {
				return o, fmt.Errorf("--military-mmsi: %w", err)
			}
			if o.MilitaryMMSI == nil {
				o.MilitaryMMSI = map[uint32]bool{}
			}
			o.MilitaryMMSI[m] = true
		}
	}
	for _, list := range c.MilitaryICAO {
		for s := range strings.SplitSeq(list, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			r, err := agreement.ParseICAORange(s)
			if err != nil {
				return o, fmt.Errorf("--military-icao: %w", err)
			}
			o.MilitaryICAO = append(o.MilitaryICAO, r)
		}
	}
	return o, nil
}

// feedItem is one record the adapter read: an observation as JSON, or a refusal. off is
// how many bytes of the feed had been read when it was emitted, for the progress bar.
type feedItem struct {
	rec json.RawMessage
	id  string
	rej *ingest.RecordError
	off int64
}

// feedItems is the channel an adapter emits to; close makes the adapter's further records
// go nowhere, so that it never blocks once the reader has stopped.
type feedItems struct {
	ch   chan feedItem
	done chan struct{}
	once sync.Once
}

func (f *feedItems) close() { f.once.Do(func() { close(f.done) }) }

// chanSink is the adapter's sink: it marshals each observation and sends it on.
type chanSink struct {
	items *feedItems
	r     *countingReader // read by the adapter's goroutine only
	name  string
}

func (s *chanSink) Observe(o ingest.Observation) {
	raw, err := json.Marshal(o)
	if err != nil {
		s.Reject(&ingest.RecordError{Source: s.name, Record: o.ID, Err: fmt.Errorf("%w: %v", ingest.ErrInvalid, err)})
		return
	}
	s.send(feedItem{rec: raw, id: o.ID, off: s.r.n})
}

func (s *chanSink) Reject(e *ingest.RecordError) { s.send(feedItem{rej: e, off: s.r.n}) }

func (s *chanSink) send(it feedItem) {
	select {
	case s.items.ch <- it:
	case <-s.items.done:
	}
}

// readFeed runs the adapter of format over r in a goroutine. The channel closes when the
// adapter returns; parsed is closed then too, after *err is set to the adapter's error.
func readFeed(format string, r io.Reader, opts ingest.Options) (items *feedItems, parsed <-chan struct{}, err *error) {
	items = &feedItems{ch: make(chan feedItem, 1024), done: make(chan struct{})}
	done := make(chan struct{})
	err = new(error)
	go func() {
		defer close(done)
		defer close(items.ch)
		cr := &countingReader{r: r}
		*err = feeds.Parse(format, cr, opts, &chanSink{items: items, r: cr, name: opts.Name})
	}()
	return items, done, err
}

// ingestSummary is what a run of truce ingest did. Every record read is counted once in
// Accepted, Duplicates, RefusedLocal, RefusedServer or Unsent.
type ingestSummary struct {
	Source     string `json:"source"`
	Records    int    `json:"records"` // read from the feed: observations and local refusals
	Accepted   int    `json:"accepted"`
	Duplicates int    `json:"duplicates"` // already in the log: the server answered the original receipt
	// RetriedDuplicates are those of Duplicates answered to a retry of a batch whose first
	// attempt had an unknown outcome (a 5xx or a network error): most likely appended by
	// that first attempt.
	RetriedDuplicates int            `json:"retried_duplicates"`
	RefusedLocal      map[string]int `json:"refused_local"`  // by reason: invalid, unreadable
	RefusedServer     map[string]int `json:"refused_server"` // by the server's reason
	Unsent            int            `json:"unsent"`         // read but not delivered: the run failed or was stopped
	Requests          int            `json:"requests"`       // HTTP requests, retries included
	Retries           int            `json:"retries"`
	Overloaded        int            `json:"overloaded"` // 429 answers
	Complete          bool           `json:"complete"`   // the feed was read to its end
	Interrupted       bool           `json:"interrupted"`
	Failed            string         `json:"failed,omitempty"` // why the run stopped before the end
	Elapsed           time.Duration  `json:"-"`
	ElapsedSeconds    float64        `json:"elapsed_s"`
	Rate              float64        `json:"records_per_s"`
}

// Refused is the number of records refused, locally and by the server.
func (s *ingestSummary) Refused() int {
	n := 0
	for _, v := range s.RefusedLocal {
		n += v
	}
	for _, v := range s.RefusedServer {
		n += v
	}
	return n
}

// ingester batches a feed's records and submits them. The zero value is not usable; set
// every field but bar and messages.
type ingester struct {
	size     int
	linger   time.Duration
	inFlight int
	retryFor time.Duration
	// backoff is the first wait after a server or network error; it doubles up to
	// maxBackoff. Defaults: 250 ms, 30 s.
	backoff, maxBackoff time.Duration

	sign func([]json.RawMessage, time.Time) (*client.ObservationBatch, error)
	send func(context.Context, *client.ObservationBatch) (api.IntakeResponse, error)

	source   string                   // the feed's name in messages
	messages io.Writer                // refusals and retry notices; nil for none
	bar      *progressbar.ProgressBar // may be nil

	printed, unprinted int // refusal lines
}

// ingestJob is one batch and the ids of its records, for messages.
type ingestJob struct {
	recs []json.RawMessage
	ids  []string
}

type ingestResult struct {
	job        *ingestJob
	resp       api.IntakeResponse
	err        error
	attempts   int
	overloaded int
	uncertain  bool // an attempt had an unknown outcome
}

// run reads items until the channel closes or stop is closed, submits them in batches and
// returns the summary. Its error is the first batch that could not be delivered; the run then
// stops reading, counts what it holds as unsent and waits for the requests in flight. All
// output (messages, the progress bar) is written from run's goroutine.
func (p *ingester) run(ctx context.Context, items <-chan feedItem, stop <-chan struct{}) (ingestSummary, error) {
	sum := ingestSummary{RefusedLocal: map[string]int{}, RefusedServer: map[string]int{}}
	start := time.Now()
	work := make(chan *ingestJob)
	results := make(chan ingestResult)
	notes := make(chan string, 16)
	var wg sync.WaitGroup
	for range p.inFlight {
		wg.Go(func() {
			for j := range work {
				results <- p.submit(ctx, j, notes)
			}
		})
	}
	defer func() {
		close(work)
		wg.Wait()
	}()

	linger := time.NewTimer(time.Hour)
	linger.Stop()
	var (
		cur        *ingestJob // the batch being filled
		next       *ingestJob // a full batch waiting for a free sender
		lingerOver bool
		inputDone  bool
		inFlight   int
		failed     error
	)
	for {
		if failed != nil {
			// Deliver nothing more; what is held is unsent.
			for _, j := range []*ingestJob{cur, next} {
				if j != nil {
					sum.Unsent += len(j.recs)
				}
			}
			cur, next, inputDone = nil, nil, true
		}
		if next == nil && cur != nil && (len(cur.recs) >= p.size || lingerOver || inputDone) {
			next, cur, lingerOver = cur, nil, false
			linger.Stop()
		}
		if inputDone && cur == nil && next == nil && inFlight == 0 {
			break
		}
		var in <-chan feedItem
		if !inputDone && (cur == nil || len(cur.recs) < p.size) {
			in = items
		}
		var out chan<- *ingestJob
		if next != nil {
			out = work
		}
		var lingerC <-chan time.Time
		if cur != nil && next == nil && !lingerOver {
			lingerC = linger.C
		}
		select {
		case it, ok := <-in:
			if !ok {
				inputDone, sum.Complete = true, true
				continue
			}
			sum.Records++
			if p.bar != nil {
				_ = p.bar.Set64(it.off)
			}
			if it.rej != nil {
				sum.RefusedLocal[localReason(it.rej)]++
				p.refusal(it.rej.Error())
				continue
			}
			if cur == nil {
				cur = &ingestJob{}
				linger.Reset(p.linger)
			}
			cur.recs = append(cur.recs, it.rec)
			cur.ids = append(cur.ids, it.id)
		case out <- next:
			next = nil
			inFlight++
		case <-lingerC:
			lingerOver = true
		case r := <-results:
			inFlight--
			if err := p.account(&sum, r); err != nil && failed == nil {
				failed = err
			}
		case n := <-notes:
			p.message("truce: hint: " + n)
		case <-stop:
			stop = nil
			inputDone, sum.Interrupted = true, true
			p.message("truce: interrupted: sending what was read")
		}
	}
	for {
		select {
		case n := <-notes:
			p.message("truce: hint: " + n)
			continue
		default:
		}
		break
	}
	if p.bar != nil && sum.Complete {
		_ = p.bar.Finish()
	}
	if p.unprinted > 0 {
		p.message(fmt.Sprintf("truce: %d more refused records not shown", p.unprinted))
	}
	sum.Elapsed = time.Since(start)
	sum.ElapsedSeconds = sum.Elapsed.Seconds()
	if sum.Elapsed > 0 {
		sum.Rate = float64(sum.Records) / sum.Elapsed.Seconds()
	}
	return sum, failed
}

// account adds a batch's outcome to the summary and returns its error, if any.
func (p *ingester) account(sum *ingestSummary, r ingestResult) error {
	sum.Requests += r.attempts
	if r.attempts > 1 {
		sum.Retries += r.attempts - 1
	}
	sum.Overloaded += r.overloaded
	if r.err != nil {
		sum.Unsent += len(r.job.recs)
		return r.err
	}
	for i, res := range r.resp.Results {
		switch {
		case res.Error != nil:
			sum.RefusedServer[res.Error.Reason]++
			id := ""
			if k := res.Record; k >= 0 && k < len(r.job.ids) {
				id = r.job.ids[k]
			} else if i < len(r.job.ids) {
				id = r.job.ids[i]
			}
			p.refusal(serverRefusal(p.source, id, res.Error))
		case res.Duplicate:
			sum.Duplicates++
			if r.uncertain {
				sum.RetriedDuplicates++
			}
		default:
			sum.Accepted++
		}
	}
	return nil
}

// submit signs a batch once and sends it until it is answered, retrying what is worth it.
func (p *ingester) submit(ctx context.Context, j *ingestJob, notes chan<- string) ingestResult {
	res := ingestResult{job: j}
	b, err := p.sign(j.recs, time.Now())
	if err != nil {
		res.err = err
		return res
	}
	backoff, maxBackoff := p.backoff, p.maxBackoff
	if backoff <= 0 {
		backoff = 250 * time.Millisecond
	}
	if maxBackoff <= 0 {
		maxBackoff = 30 * time.Second
	}
	deadline := time.Now().Add(p.retryFor)
	for {
		res.attempts++
		resp, err := p.send(ctx, b)
		if err == nil {
			res.resp = resp
			return res
		}
		var wait time.Duration
		var ae *client.APIError
		switch {
		case ctx.Err() != nil:
			res.err = err
			return res
		case errors.As(err, &ae) && ae.Status == 429:
			// Refused before the server read the body: nothing was appended.
			res.overloaded++
			wait = ae.RetryAfter
			if wait <= 0 {
				wait = backoff
			}
		case errors.As(err, &ae) && ae.Status < 500:
			res.err = fmt.Errorf("batch of %d records refused: %w", len(j.recs), err)
			return res
		default:
			// A server or network error: the batch may have been appended; the retry
			// will tell (its records come back as duplicates).
			res.uncertain = true
			wait = backoff
			backoff = min(2*backoff, maxBackoff)
		}
		wait += rand.N(wait/4 + 1) // spread the retries of several senders
		if time.Now().Add(wait).After(deadline) {
			res.err = fmt.Errorf("giving up on a batch of %d records after %d attempts in %s: %w",
				len(j.recs), res.attempts, p.retryFor, err)
			return res
		}
		if ae == nil || ae.Status >= 500 { // a 429 is expected under load: no notice
			select {
			case notes <- fmt.Sprintf("%v; retrying in %s", err, wait.Round(time.Millisecond)):
			default:
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			res.err = ctx.Err()
			return res
		case <-t.C:
		}
	}
}

// refusal prints one refused record, or counts it once maxRefusalLines are out.
func (p *ingester) refusal(line string) {
	if p.printed >= maxRefusalLines {
		p.unprinted++
		return
	}
	p.printed++
	p.message(line)
}

func (p *ingester) message(line string) {
	if p.messages == nil {
		return
	}
	if p.bar != nil {
		_ = p.bar.Clear()
	}
	fmt.Fprintln(p.messages, line)
}

// localReasons name the adapters' refusals, most specific first; any other is "invalid".
var localReasons = []struct {
	err    error
	reason string
}{
	{ais.ErrNoPosition, "no-position"},
	{ais.ErrChecksum, "bad-checksum"},
	{ais.ErrFragment, "bad-fragment"},
	{ais.ErrDecode, "undecodable"},
	{ais.ErrRange, "out-of-range"},
	{ais.ErrSyntax, "malformed"},
	{geojson.ErrSyntax, "malformed"},
	{readsb.ErrSyntax, "malformed"},
	{cap.ErrMalformed, "malformed"},
	{cap.ErrDTD, "dtd-refused"},
	{cap.ErrNotAlert, "not-cap"},
	{geojson.ErrNotGeoJSON, "not-geojson"},
	{csv.ErrHeader, "bad-header"},
	{cap.ErrTooLarge, "too-large"},
	{geojson.ErrTooLarge, "too-large"},
	{readsb.ErrTooLarge, "too-large"},
}

// localReason names why an adapter refused a record.
func localReason(e *ingest.RecordError) string {
	for _, r := range localReasons {
		if errors.Is(e.Err, r.err) {
			return r.reason
		}
	}
	return "invalid"
}

// serverRefusal formats a record the server refused: source: id "x": field: reason: message.
// The server's field starts with the record's place in the request body ("line 3."), which
// says nothing to the reader of the feed; the id does.
func serverRefusal(source, id string, e *api.RecordError) string {
	field := e.Field
	if strings.HasPrefix(field, "line ") {
		_, field, _ = strings.Cut(field, ".")
	}
	var b strings.Builder
	b.WriteString(source)
	if id != "" {
		fmt.Fprintf(&b, ": id %q", id)
	}
	if field != "" {
		b.WriteString(": " + field)
	}
	fmt.Fprintf(&b, ": refused by the server (%s): %s", e.Reason, e.Message)
	return b.String()
}

func (c *ingestCmd) printSummary(w io.Writer, s ingestSummary) {
	if c.JSON {
		b, _ := json.MarshalIndent(s, "", "  ")
		fmt.Fprintf(w, "%s\n", b)
		return
	}
	state := "read to its end"
	switch {
	case s.Failed != "":
		state = "failed"
	case s.Interrupted:
		state = "interrupted"
	case !s.Complete:
		state = "stopped"
	}
	type line struct {
		name string
		n    int
		note string
	}
	lines := []line{{"records", s.Records, ""}, {"accepted", s.Accepted, ""}}
	dup := line{"duplicates", s.Duplicates, ""}
	if s.RetriedDuplicates > 0 {
		dup.note = fmt.Sprintf("%d after a retry: most likely accepted by the first attempt", s.RetriedDuplicates)
	}
	lines = append(lines, dup, line{"refused", s.Refused(), ""})
	for _, k := range slices.Sorted(maps.Keys(s.RefusedLocal)) {
		lines = append(lines, line{"  " + k + " (local)", s.RefusedLocal[k], ""})
	}
	for _, k := range slices.Sorted(maps.Keys(s.RefusedServer)) {
		lines = append(lines, line{"  " + k + " (server)", s.RefusedServer[k], ""})
	}
	lines = append(lines, line{"unsent", s.Unsent, ""},
		line{"requests", s.Requests, fmt.Sprintf("%d retries, %d overloaded (429)", s.Retries, s.Overloaded)})
	width := 0
	for _, l := range lines {
		width = max(width, len(l.name))
	}
	fmt.Fprintf(w, "%s: %s\n", s.Source, state)
	for _, l := range lines {
		fmt.Fprintf(w, "%-*s %8d", width, l.name, l.n)
		if l.note != "" {
			fmt.Fprintf(w, "  %s", l.note)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "elapsed %s, %.0f records/s\n", s.Elapsed.Round(time.Millisecond), s.Rate)
}
