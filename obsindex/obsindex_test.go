package obsindex_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/ingest"
	"github.com/truce-mission/truce/ingest/feeds"
	"github.com/truce-mission/truce/keys"
	"github.com/truce-mission/truce/ledger"
	"github.com/truce-mission/truce/obsindex"
)

var received = time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)

// fakeLog holds leaves in memory and counts the entries read back.
type fakeLog struct {
	mu     sync.Mutex
	leaves [][]byte
	read   int
}

func (l *fakeLog) Size() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(len(l.leaves))
}

func (l *fakeLog) Entries(_ context.Context, start, end int64) ([][]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.read += int(end - start)
	return l.leaves[start:end], nil
}

func (l *fakeLog) add(leaf []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.leaves = append(l.leaves, leaf)
}

func (l *fakeLog) entriesRead() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.read
}

type fixture struct {
	a   *agreement.Agreement
	tag *obsindex.Tagger
	lg  *fakeLog
	x   *obsindex.Index
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	a, err := agreement.LoadFile("../examples/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tag, err := obsindex.NewTagger(a)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{a: a, tag: tag, lg: &fakeLog{}, x: obsindex.New(a, tag)}
}

// observation appends observation i (in the buffer zone when i is even) as monitor-1 and
// returns the record an intake would offer for it.
func (f *fixture) observation(t *testing.T, i int) *obsindex.Record {
	t.Helper()
	o := ingest.Observation{
		ID: fmt.Sprint("o-", i), Observed: received.Add(-time.Minute), Category: "tank", Count: 1,
		Position: ingest.Position{Lon: 36 + float64(i%2), Lat: 47}, Source: ingest.SourceGroundMonitor,
	}
	raw, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := ledger.Canonicalize(raw)
	if err != nil {
		t.Fatal(err)
	}
	e, err := ledger.NewEntry(ledger.KindObservation, "monitor-1", received.Add(-time.Second), payload)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := keys.LoadPrivateKey("../examples/keys/monitor-1.key")
	if err != nil {
		t.Fatal(err)
	}
	if err := ledger.Sign(e, priv); err != nil {
		t.Fatal(err)
	}
	got, err := e.Receive(received)
	if err != nil {
		t.Fatal(err)
	}
	index := f.lg.Size()
	f.lg.add(got.Leaf())
	dec, rerr := feeds.DecodeRecord(payload)
	if rerr != nil {
		t.Fatal(rerr)
	}
	zones, rules := f.tag.Tag(&dec)
	return f.x.Record(index, "monitor-1", received, dec, zones, rules)
}

func ids(recs []*obsindex.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, fmt.Sprintf("%d:%s:%v", r.Index, r.Obs.ID, r.Zones))
	}
	return out
}

// Offered records enter the index in log order, whatever the order of the offers, and give
// the index the same records as reading the log back.
func TestOffer(t *testing.T) {
	f := newFixture(t)
	var recs []*obsindex.Record
	for i := range 5 {
		recs = append(recs, f.observation(t, i))
	}
	f.x.Offer(recs[2:4])
	if f.x.Size() != 0 {
		t.Fatalf("size %d after offering entries 2 and 3 only, want 0", f.x.Size())
	}
	f.x.Offer(recs[:2])
	if f.x.Size() != 4 {
		t.Fatalf("size %d after offering entries 0 to 3, want 4", f.x.Size())
	}
	f.x.Offer(recs[4:])
	f.x.Offer(recs[:1]) // again: ignored
	got, _ := f.x.Query(obsindex.Filter{}, nil, -1, 100)

	ref := obsindex.New(f.a, f.tag)
	leaves, _ := f.lg.Entries(t.Context(), 0, f.lg.Size())
	if err := ref.Apply(0, leaves, nil); err != nil {
		t.Fatal(err)
	}
	want, _ := ref.Query(obsindex.Filter{}, nil, -1, 100)
	if fmt.Sprint(ids(got)) != fmt.Sprint(ids(want)) || len(got) != 5 {
		t.Errorf("offered: %v\nread back: %v", ids(got), ids(want))
	}
	if got[0].Party != "mission" || len(got[0].Zones) != 1 {
		t.Errorf("record 0: party %q, zones %v", got[0].Party, got[0].Zones)
	}
}

// Apply skips the entries offered meanwhile and takes in the offers that follow.
func TestApplyAfterOffer(t *testing.T) {
	f := newFixture(t)
	var recs []*obsindex.Record
	for i := range 4 {
		recs = append(recs, f.observation(t, i))
	}
	leaves, _ := f.lg.Entries(t.Context(), 0, 2)
	f.x.Offer(recs[:1])
	f.x.Offer(recs[3:])
	if err := f.x.Apply(0, leaves, nil); err != nil { // entry 0 is in already
		t.Fatal(err)
	}
	if f.x.Size() != 2 || f.x.Len() != 2 {
		t.Fatalf("size %d, %d records, want 2 and 2", f.x.Size(), f.x.Len())
	}
	f.x.Offer(recs[2:3])
	if f.x.Size() != 4 || f.x.Len() != 4 {
		t.Fatalf("size %d, %d records, want 4 and 4", f.x.Size(), f.x.Len())
	}
	if err := f.x.Apply(5, nil, nil); err == nil {
		t.Error("Apply beyond the index: no error")
	}
}

// Follow reads back only what was not offered: the entries there when it starts at once, an
// entry appended later after OfferGrace.
func TestFollowReadsWhatIsNotOffered(t *testing.T) {
	f := newFixture(t)
	f.observation(t, 0)
	f.observation(t, 1)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	poke := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() { done <- obsindex.Follow(ctx, f.lg, f.x, poke, 10*time.Millisecond, nil) }()
	wait := func(size int64) {
		t.Helper()
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		defer wcancel()
		if err := f.x.Wait(wctx, size); err != nil {
			t.Fatalf("index size %d, want %d: %v", f.x.Size(), size, err)
		}
	}
	wait(2)
	if n := f.lg.entriesRead(); n != 2 {
		t.Errorf("%d entries read at start, want 2", n)
	}
	// Offered: never read.
	r2, r3 := f.observation(t, 2), f.observation(t, 3)
	f.x.Offer([]*obsindex.Record{r3, r2})
	poke <- struct{}{}
	wait(4)
	// Not offered: read after the grace.
	f.observation(t, 4)
	poke <- struct{}{}
	wait(5)
	if n := f.lg.entriesRead(); n != 3 {
		t.Errorf("%d entries read, want 3 (the two at start and the one not offered)", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
