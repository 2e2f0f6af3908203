package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/alert"
	"github.com/truce-mission/truce/engine"
	"github.com/truce-mission/truce/ingest"
	"github.com/truce-mission/truce/internal/follow"
	"github.com/truce-mission/truce/ledger"
)

// Event is one alert in the outbox's sequence. Events are never changed once made.
type Event struct {
	Seq      int64 // from 1, in log order: the SSE event id and the webhook delivery mark
	Index    int64 // the ledger index of the entry that caused it
	Kind     engine.ChangeKind
	Incident int64 // the incident of a finding's alert, or of the alert an escalation is about
	Warning  int64 // the warning of a warning's alert, or of the alert an escalation is about
	Version  int   // the finding's version
	// The alert is kept only as its JSON rendering: a byte slice the garbage collector does
	// not scan, and a third of the memory of the decoded tree. CAP decodes it when needed.
	Identifier string
	MsgType    alert.MsgType
	JSON       []byte   // alert.Alert.JSON()
	Parties    []string // the addressed parties, sorted
	Public     bool     // scope Public: everyone may see it
}

// CAP returns the event's alert, decoded from its JSON rendering: the same tree the outbox
// made, so its XML is the same too.
func (ev *Event) CAP() (*alert.Alert, error) {
	var a alert.Alert
	if err := json.Unmarshal(ev.JSON, &a); err != nil {
		return nil, fmt.Errorf("decoding alert %s: %w", ev.Identifier, err)
	}
	return &a, nil
}

// VisibleTo reports whether an identity may see the event.
func (ev *Event) VisibleTo(id *agreement.Identity) bool { return Visible(id, ev.Parties, ev.Public) }

// Visible reports whether an identity may see what is addressed to parties (or public): mission
// roles (monitor, analyst, council member) see everything, a party liaison what is addressed to
// its party, and every identity what is public.
func Visible(id *agreement.Identity, parties []string, public bool) bool {
	if public {
		return true
	}
	switch id.Role {
	case agreement.RoleMonitor, agreement.RoleAnalyst, agreement.RoleCouncilMember:
		return true
	case agreement.RolePartyLiaison:
		return id.Party != "" && slices.Contains(parties, id.Party)
	}
	return false
}

// Options configure an outbox; zero fields take defaults.
type Options struct {
	// Engine tunes the engine the outbox runs; its FindingPrefix and Sender name the alerts.
	Engine engine.Options
	// Logger receives entries that could not be turned into alerts; slog.Default when nil.
	Logger *slog.Logger
}

// Outbox follows the evidence log through a verification engine and keeps the alerts the
// engine's changes give, in order. It is safe for concurrent use: one goroutine applies the log
// (Apply, usually through Follow), any number read.
type Outbox struct {
	a      *agreement.Agreement
	logger *slog.Logger

	engMu     sync.RWMutex // the engine is not safe for concurrent use
	eng       *engine.Engine
	alerter   *Alerter
	incAlerts map[int64][]string // alert identifiers per incident
	nInc      int64              // incidents the engine holds

	mu      sync.RWMutex
	events  []*Event
	byID    map[string]*Event
	size    int64         // log entries consumed
	changed chan struct{} // closed and replaced whenever size grows

	offerMu sync.Mutex
	offered follow.Offers[offer] // received entries offered beyond size, by log index
	offerCh chan struct{}        // signalled (buffer 1) when an entry is offered
}

// New returns an empty outbox for a validated agreement.
func New(a *agreement.Agreement, opts Options) (*Outbox, error) {
	eng, err := engine.NewWithOptions(a, opts.Engine)
	if err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Outbox{
		a: a, logger: opts.Logger, eng: eng,
		alerter: NewAlerter(a, eng), incAlerts: map[int64][]string{},
		byID: map[string]*Event{}, changed: make(chan struct{}), offerCh: make(chan struct{}, 1),
	}, nil
}

// Agreement returns the outbox's agreement.
func (o *Outbox) Agreement() *agreement.Agreement { return o.a }

// Size returns how many log entries the outbox has consumed.
func (o *Outbox) Size() int64 {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.size
}

// Last returns the sequence number of the latest event, 0 when there is none.
func (o *Outbox) Last() int64 {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return int64(len(o.events))
}

// Changed returns a channel closed when the outbox next consumes entries (and so may have new
// events). Take it before reading, then wait on it.
func (o *Outbox) Changed() <-chan struct{} {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.changed
}

// Wait blocks until the outbox has consumed at least size entries, or ctx ends.
func (o *Outbox) Wait(ctx context.Context, size int64) error {
	return follow.WaitFor(ctx, size, func() (int64, <-chan struct{}) {
		o.mu.RLock()
		defer o.mu.RUnlock()
		return o.size, o.changed
	})
}

// Events returns up to limit events after sequence number after, in order.
func (o *Outbox) Events(after int64, limit int) []*Event {
	o.mu.RLock()
	defer o.mu.RUnlock()
	after = max(after, 0)
	if after >= int64(len(o.events)) {
		return nil
	}
	end := min(int64(len(o.events)), after+int64(limit))
	return slices.Clone(o.events[after:end])
}

// Alert returns the event of a CAP identifier.
func (o *Outbox) Alert(identifier string) (*Event, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	ev, ok := o.byID[identifier]
	return ev, ok
}

// Apply consumes the leaves of entries [start, start+len(leaves)); start must be Size(). An
// entry the engine cannot use changes nothing (the engine records why); a change whose alert
// cannot be made is logged and left out of the sequence, so that one bad finding does not stop
// every later alert. Both are deterministic, so the sequence is the same on every replay.
func (o *Outbox) Apply(start int64, leaves [][]byte) error {
	if got := o.Size(); got != start {
		return fmt.Errorf("outbox: applying entries from %d, the outbox has %d", start, got)
	}
	entries, err := parseLeaves(start, leaves)
	if err != nil {
		return err
	}
	return o.apply(start, entries, nil)
}

// apply consumes the received entries [start, start+len(entries)); start is Size() and only
// one goroutine applies.
// decoded, when not nil, holds the intake's decoding of each observation entry (nil for
// others): see engine.ApplyDecoded.
func (o *Outbox) apply(start int64, entries []*ledger.Entry, decoded []*ingest.Observation) error {
	var evs []*Event
	o.engMu.Lock()
	for i, e := range entries {
		index := start + int64(i)
		var d *ingest.Observation
		if decoded != nil {
			d = decoded[i]
		}
		changes, err := o.eng.ApplyDecoded(index, e, d)
		if err != nil {
			o.engMu.Unlock()
			return fmt.Errorf("outbox: %w", err)
		}
		for {
			if _, ok := o.eng.Incident(o.nInc + 1); !ok {
				break
			}
			o.nInc++
		}
		for _, c := range changes {
			ev, err := o.event(c)
			if errors.Is(err, ErrNoAlert) {
				continue
			}
			if err != nil {
				o.logger.Error("no alert for a change", slog.Int64("index", index), slog.Int64("incident", c.Incident),
					slog.Int("version", c.Version), slog.Any("error", err))
				continue
			}
			evs = append(evs, ev)
		}
	}
	o.engMu.Unlock()

	o.mu.Lock()
	for _, ev := range evs {
		ev.Seq = int64(len(o.events)) + 1
		o.events = append(o.events, ev)
		o.byID[ev.Identifier] = ev
	}
	o.size = start + int64(len(entries))
	close(o.changed)
	o.changed = make(chan struct{})
	o.mu.Unlock()
	return nil
}

// Appended is the log's receipt for an entry the node appended, with the entry as logged in
// it (ledger.Receipt.Entry).
type Appended struct {
	Receipt ledger.Receipt
	// Observation, for an observation entry, is its payload as feeds.DecodeRecord decodes
	// it (the intake's decoding, which the engine then need not repeat); nil otherwise.
	Observation *ingest.Observation
}

// offer is an entry offered, received, with the intake's decoding of its observation.
type offer struct {
	entry *ledger.Entry
	obs   *ingest.Observation
}

// maxOffered bounds the entries held for an outbox that has fallen behind: beyond it offers
// are dropped, and Follow reads those entries back from the log instead.
const maxOffered = 1 << 16

// Offer hands the outbox entries the node has just appended, so that [Follow] need not read
// them back from the log and parse them: the entries as the log received them, which the
// receipts carry. A receipt without its entry is not taken, nor are duplicates' receipts
// (nothing was appended) and entries the outbox already holds. Follow applies the entries
// in log order, each once, whichever way it came: the alerts are the same as from reading
// the log. Offer does not wait for the engine.
func (o *Outbox) Offer(as []Appended) {
	if len(as) == 0 {
		return
	}
	received := make([]offer, len(as))
	for i, ap := range as {
		if ap.Receipt.Duplicate {
			continue
		}
		r := ap.Receipt.Entry
		if r == nil || r.LeafHash() != ap.Receipt.LeafHash {
			o.logger.Warn("offered receipt without the entry logged; reading it from the log",
				slog.Int64("index", ap.Receipt.Index))
			continue
		}
		received[i] = offer{r, ap.Observation}
	}
	o.offerMu.Lock()
	// Size is read under offerMu: an entry read back from the log meanwhile is then either
	// below it or dropped by applyRead after this.
	size := o.Size()
	for i, r := range received {
		if index := as[i].Receipt.Index; r.entry != nil && index >= size && o.offered.Len() < maxOffered {
			o.offered.Add(index, r)
		}
	}
	o.offerMu.Unlock()
	select {
	case o.offerCh <- struct{}{}:
	default:
	}
}

// take applies the offered entries that follow the outbox, at most chunk of them, and
// reports whether there were any.
func (o *Outbox) take(chunk int) (bool, error) {
	start := o.Size()
	var entries []*ledger.Entry
	var decoded []*ingest.Observation
	o.offerMu.Lock()
	for len(entries) < chunk {
		e, ok := o.offered.Take(start + int64(len(entries)))
		if !ok {
			break
		}
		entries, decoded = append(entries, e.entry), append(decoded, e.obs)
	}
	o.offerMu.Unlock()
	if len(entries) == 0 {
		return false, nil
	}
	return true, o.apply(start, entries, decoded)
}

// nextOffered returns the lowest log index in [from, end) with an offered entry, or end.
func (o *Outbox) nextOffered(from, end int64) int64 {
	o.offerMu.Lock()
	defer o.offerMu.Unlock()
	return o.offered.Next(from, end)
}

// applyRead applies entries read back from the log, and forgets any offer of them that came
// meanwhile.
func (o *Outbox) applyRead(start int64, leaves [][]byte) error {
	if err := o.Apply(start, leaves); err != nil {
		return err
	}
	o.offerMu.Lock()
	for i := range leaves {
		o.offered.Drop(start + int64(i))
	}
	o.offerMu.Unlock()
	return nil
}

// parseLeaves parses leaves, in parallel when there are many: parsing is pure, and costs
// about a third as much as applying.
func parseLeaves(start int64, leaves [][]byte) ([]*ledger.Entry, error) {
	entries := make([]*ledger.Entry, len(leaves))
	errs := make([]error, len(leaves))
	parse := func(from, to int) {
		for i := from; i < to; i++ {
			entries[i], errs[i] = ledger.ParseLeaf(leaves[i])
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(leaves)/64)
	if workers < 2 {
		parse(0, len(leaves))
	} else {
		var wg sync.WaitGroup
		per := (len(leaves) + workers - 1) / workers
		for from := 0; from < len(leaves); from += per {
			wg.Go(func() { parse(from, min(from+per, len(leaves))) })
		}
		wg.Wait()
	}
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("outbox: entry %d: %w", start+int64(i), err)
		}
	}
	return entries, nil
}

// event makes the event of one change; engMu is held.
func (o *Outbox) event(c engine.Change) (*Event, error) {
	al, f, err := o.alerter.Alert(c)
	if err != nil {
		return nil, err
	}
	js, err := al.JSON()
	if err != nil {
		return nil, err
	}
	if c.Kind != engine.ChangeEscalated && c.Incident > 0 {
		o.incAlerts[c.Incident] = append(o.incAlerts[c.Incident], al.Identifier)
	}
	return &Event{Index: c.Index, Kind: c.Kind, Incident: c.Incident, Warning: c.Warning, Version: f.Version,
		Identifier: al.Identifier, MsgType: al.MsgType, JSON: js, Parties: f.Parties, Public: f.Public}, nil
}

// Incident is an incident as the API serves it: the engine's view, whom its alerts address,
// and the identifiers of its alerts, oldest first.
type Incident struct {
	engine.Incident
	Addressees []string `json:"addressees"`
	Alerts     []string `json:"alerts"`
}

// IncidentFilter selects incidents; zero fields match everything.
type IncidentFilter struct {
	Verdict  *engine.Verdict
	Party    string // attributed to this party
	Zone     string // a supporting observation in this zone
	Category string // this category or one below it
	Since    time.Time
	Until    time.Time // opened in [Since, Until)
}

func (o *Outbox) view(inc engine.Incident) Incident {
	return Incident{Incident: inc, Addressees: o.eng.Addressees(inc), Alerts: slices.Clone(o.incAlerts[inc.ID])}
}

// Incident returns one incident.
func (o *Outbox) Incident(id int64) (Incident, bool) {
	o.engMu.RLock()
	defer o.engMu.RUnlock()
	inc, ok := o.eng.Incident(id)
	if !ok {
		return Incident{}, false
	}
	return o.view(inc), true
}

// Incidents returns up to limit incidents with ids above after that pass f and visible (nil
// for all), by id, and whether more may follow.
func (o *Outbox) Incidents(f IncidentFilter, visible func(addressees []string) bool, after int64, limit int) (out []Incident, more bool) {
	o.engMu.RLock()
	defer o.engMu.RUnlock()
	for id := max(after, 0) + 1; id <= o.nInc; id++ {
		inc, ok := o.eng.Incident(id)
		if !ok {
			break
		}
		switch {
		case f.Verdict != nil && inc.Verdict != *f.Verdict,
			f.Party != "" && inc.Party != f.Party,
			f.Zone != "" && !slices.Contains(inc.Zones, f.Zone),
			f.Category != "" && !o.a.CategoryCovers(f.Category, inc.Category),
			!f.Since.IsZero() && inc.Opened.Before(f.Since),
			!f.Until.IsZero() && !inc.Opened.Before(f.Until):
			continue
		}
		v := o.view(inc)
		if visible != nil && !visible(v.Addressees) {
			continue
		}
		if len(out) == limit {
			return out, true
		}
		out = append(out, v)
	}
	return out, false
}

// Log is what Follow reads.
type Log = follow.Log

// Follow keeps o current with lg until ctx ends, from o's size (0 for a new outbox: restart is
// replay). It applies the entries offered to o ([Outbox.Offer]) as they come, reads from the
// log the entries not offered within [follow.Grace] (and at once those the log held when
// Follow started), and looks for new entries whenever poke fires and at least every interval.
func Follow(ctx context.Context, lg Log, o *Outbox, poke <-chan struct{}, interval time.Duration) error {
	// Alerts are published after each chunk: small enough that a reader behind by many
	// entries still sees them come, large enough that a store read is not one per entry.
	const chunk = 512
	return follow.Run(ctx, lg, follow.Projection{
		Size:  o.Size,
		Next:  o.nextOffered,
		Take:  func() (bool, error) { return o.take(chunk) },
		Apply: o.applyRead,
		Chunk: chunk,
	}, poke, o.offerCh, interval)
}
