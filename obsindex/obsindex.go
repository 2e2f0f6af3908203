// Package obsindex is the queryable view of the observations in the evidence log: a
// projection, rebuilt from the log at start and kept current by following it, never written
// to directly. The log stays the one record; this index only answers "which observations
// match these filters" fast.
package obsindex

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/geo"
	"github.com/truce-mission/truce/ingest"
	"github.com/truce-mission/truce/ingest/feeds"
	"github.com/truce-mission/truce/internal/follow"
	"github.com/truce-mission/truce/ledger"
	"github.com/truce-mission/truce/zonecheck"
)

// Record is one observation entry of the log with what the agreement says about it.
type Record struct {
	Index     int64
	Submitter string
	Party     string // the submitter's party, "" when it has none
	Received  time.Time
	Zones     []string // zone ids the position is in, in declaration order
	Rules     []string // rule ids the observation may breach at its time
	Obs       ingest.Observation
}

// Filter selects observations; zero fields match everything.
type Filter struct {
	Since, Until time.Time // observed in [Since, Until)
	Zone         string    // in this zone
	Party        string    // claimed or assessed party, or submitted by this party
	Category     string    // this category or one below it
	Source       ingest.SourceKind
	Submitter    string
}

// Tagger says which zones an observation is in and which rules it may breach.
type Tagger struct {
	a  *agreement.Agreement
	zc *zonecheck.Checker
	rp sync.Pool
}

// NewTagger returns a tagger for an agreement.
func NewTagger(a *agreement.Agreement) (*Tagger, error) {
	zc, err := zonecheck.FromAgreement(a, nil)
	if err != nil {
		return nil, err
	}
	t := &Tagger{a: a, zc: zc}
	t.rp.New = func() any { return new(zonecheck.Result) }
	return t, nil
}

// Tag returns the zone and rule ids of o. The party used for party rules is the assessed
// party, else the claimed one.
func (t *Tagger) Tag(o *ingest.Observation) (zones, rules []string) {
	q := zonecheck.Query{
		Point: geo.Point{Lon: o.Position.Lon, Lat: o.Position.Lat},
		Time:  o.Observed, Category: o.Category, Count: o.Count,
		Party: o.AssessedParty,
	}
	if q.Party == "" {
		q.Party = o.ClaimedParty
	}
	if o.Position.AltM != nil {
		q.Alt, q.HasAlt = *o.Position.AltM, true
	}
	if _, ok := t.a.Category(q.Category); !ok {
		q.Category = "" // unknown to the agreement: zones only
	}
	r := t.rp.Get().(*zonecheck.Result)
	defer t.rp.Put(r)
	if err := t.zc.Check(&q, r); err != nil {
		return nil, nil
	}
	zs, rs := t.zc.Zones(), t.zc.Rules()
	for _, z := range r.Zones {
		zones = append(zones, zs[z].ID)
	}
	for _, b := range r.Breaches {
		rules = append(rules, rs[b.Rule].ID)
	}
	return zones, rules
}

// Index holds the observations of a log in log order.
//
// It is fed two ways. [Follow] reads entries back from the log and decodes them ([Index.Apply]).
// The intake that appended an observation has already decoded and tagged it, so it hands the
// index its records with their log indexes ([Index.Offer]) instead, and Follow reads from the
// log only the entries nobody offered: other kinds, other nodes' appends, and intake whose
// offer never came. Either way the index consumes the log strictly in order.
type Index struct {
	a   *agreement.Agreement
	tag *Tagger

	mu      sync.RWMutex
	recs    []*Record
	size    int64                  // log entries consumed
	changed chan struct{}          // closed and replaced whenever size grows
	offered follow.Offers[*Record] // records offered beyond size, by log index
}

// New returns an empty index for an agreement.
func New(a *agreement.Agreement, tag *Tagger) *Index {
	return &Index{a: a, tag: tag, changed: make(chan struct{})}
}

// Record returns the record of observation o, entry index of the log, submitted by
// submitter and received at received, with its zones and rules: what Apply makes of that
// entry. zones and rules must be what the index's Tagger gives for o.
func (x *Index) Record(index int64, submitter string, received time.Time, o ingest.Observation, zones, rules []string) *Record {
	rec := &Record{Index: index, Submitter: submitter, Received: received, Zones: zones, Rules: rules, Obs: o}
	if id, ok := x.a.Identity(submitter); ok {
		rec.Party = id.Party
	}
	return rec
}

// Offer hands the index records of observation entries that are durable in the log, each
// exactly what [Index.Apply] would make of its entry (see [Index.Record]: the observation
// decoded from the entry's payload). The index takes them in log order: at once when they
// follow what it holds, else once the entries before them are offered or applied. Records
// of entries the index already holds are ignored.
func (x *Index) Offer(recs []*Record) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, r := range recs {
		if r.Index >= x.size {
			x.offered.Add(r.Index, r)
		}
	}
	x.drainLocked(x.size)
}

// drainLocked consumes the offered records that follow the index, and signals waiters if the
// index grew past was.
func (x *Index) drainLocked(was int64) {
	for {
		r, ok := x.offered.Take(x.size)
		if !ok {
			break
		}
		x.recs = append(x.recs, r)
		x.size++
	}
	if x.size != was {
		close(x.changed)
		x.changed = make(chan struct{})
	}
}

// nextOffered returns the lowest log index at or after from whose record was offered, or
// end when none is below end.
func (x *Index) nextOffered(from, end int64) int64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.offered.Next(from, end)
}

// Size returns how many log entries the index has consumed.
func (x *Index) Size() int64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.size
}

// Len returns how many observations the index holds.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.recs)
}

// Wait blocks until the index has consumed at least size entries, or ctx ends.
func (x *Index) Wait(ctx context.Context, size int64) error {
	return follow.WaitFor(ctx, size, func() (int64, <-chan struct{}) {
		x.mu.RLock()
		defer x.mu.RUnlock()
		return x.size, x.changed
	})
}

// Apply consumes the leaves of entries [start, start+len(leaves)); start must be Size(), or
// below it when offered records ([Index.Offer]) brought some of those entries in meanwhile:
// those are skipped. Entries of other kinds are skipped too; an observation entry whose
// payload does not decode (one appended through the raw log API) is kept out of the index
// and logged.
func (x *Index) Apply(start int64, leaves [][]byte, logger *slog.Logger) error {
	if got := x.Size(); got < start {
		return fmt.Errorf("obsindex: applying entries from %d, the index has %d", start, got)
	}
	recs := make([]*Record, len(leaves)) // nil for entries that are not indexed
	for i, leaf := range leaves {
		e, err := ledger.ParseLeaf(leaf)
		if err != nil {
			return fmt.Errorf("obsindex: entry %d: %w", start+int64(i), err)
		}
		if e.Kind() != ledger.KindObservation {
			continue
		}
		o, rerr := feeds.DecodeRecord(e.Payload())
		if rerr != nil {
			if logger != nil {
				logger.Warn("observation entry not indexed", slog.Int64("index", start+int64(i)), slog.String("error", rerr.Error()))
			}
			continue
		}
		zones, rules := x.tag.Tag(&o)
		recs[i] = x.Record(start+int64(i), e.Submitter(), e.Received(), o, zones, rules)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	was := x.size
	if was < start {
		return fmt.Errorf("obsindex: applying entries from %d, the index has %d", start, was)
	}
	for i, rec := range recs {
		idx := start + int64(i)
		if idx < x.size {
			continue // offered and consumed meanwhile
		}
		if rec != nil {
			x.recs = append(x.recs, rec)
		}
		x.offered.Drop(idx)
		x.size = idx + 1
	}
	x.drainLocked(was)
	return nil
}

// Matches reports whether r passes f.
func (x *Index) Matches(r *Record, f *Filter) bool {
	o := &r.Obs
	switch {
	case !f.Since.IsZero() && o.Observed.Before(f.Since),
		!f.Until.IsZero() && !o.Observed.Before(f.Until),
		f.Zone != "" && !slices.Contains(r.Zones, f.Zone),
		f.Party != "" && o.ClaimedParty != f.Party && o.AssessedParty != f.Party && r.Party != f.Party,
		f.Category != "" && !x.a.CategoryCovers(f.Category, o.Category),
		f.Source != ingest.SourceUnknown && o.Source != f.Source,
		f.Submitter != "" && r.Submitter != f.Submitter:
		return false
	}
	return true
}

// Query returns up to limit records after log index after (-1 for the start) that pass f
// and visible, in log order, and whether more may follow.
func (x *Index) Query(f Filter, visible func(*Record) bool, after int64, limit int) (out []*Record, more bool) {
	x.mu.RLock()
	recs := x.recs
	x.mu.RUnlock()
	i, _ := slices.BinarySearchFunc(recs, after+1, func(r *Record, idx int64) int {
		switch {
		case r.Index < idx:
			return -1
		case r.Index > idx:
			return 1
		}
		return 0
	})
	for ; i < len(recs); i++ {
		r := recs[i]
		if !x.Matches(r, &f) || (visible != nil && !visible(r)) {
			continue
		}
		if len(out) == limit {
			return out, true
		}
		out = append(out, r)
	}
	return out, false
}

// Log is what Follow reads.
type Log = follow.Log

// OfferGrace is how long [Follow] leaves the first entry the index lacks to be offered
// ([Index.Offer]) before it reads that entry back from the log: the intake that appended it
// offers its record right after the commit, unless it failed on the way.
const OfferGrace = follow.Grace

// Follow keeps x current with lg until ctx ends: it applies new entries whenever poke fires,
// and at least every interval (for entries appended by other nodes sharing the store). It
// reads from the log only entries not offered within [OfferGrace].
func Follow(ctx context.Context, lg Log, x *Index, poke <-chan struct{}, interval time.Duration, logger *slog.Logger) error {
	return follow.Run(ctx, lg, follow.Projection{
		Size:  x.Size,
		Next:  x.nextOffered,
		Apply: func(start int64, leaves [][]byte) error { return x.Apply(start, leaves, logger) },
		Chunk: 4096,
	}, poke, nil, interval)
}
