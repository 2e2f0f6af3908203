package outbox_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/truce-mission/truce/alert/outbox"
	"github.com/truce-mission/truce/internal/testlog"
	"github.com/truce-mission/truce/ledger"
)

// openLog returns a log over a new SQLite store, stamping receipts with the real clock (so
// with nanoseconds, as in production).
func openLog(t *testing.T, w *world) *ledger.Log {
	t.Helper()
	return testlog.Open(t, w.a).Log
}

// signedObs returns a signed observation entry, not yet received.
func (w *world) signedObs(submitter, id, cat, party string, p [2]float64) *ledger.Entry {
	w.t.Helper()
	src := "ground-monitor"
	if submitter == "uav-gs-1" {
		src = "uav"
	}
	payload := fmt.Sprintf(`{"assessed_party":%q,"category":%q,"count":2,"credibility":2,"id":%q,"observed":"2026-12-05T08:00:00Z","position":{"lat":%v,"lon":%v},"reliability":"B","source":%q}`,
		party, cat, id, p[1], p[0], src)
	canon, err := ledger.Canonicalize([]byte(payload))
	if err != nil {
		w.t.Fatal(err)
	}
	e, err := ledger.NewEntry(ledger.KindObservation, submitter, w.at, canon)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := ledger.Sign(e, w.keys[submitter]); err != nil {
		w.t.Fatal(err)
	}
	w.at = w.at.Add(time.Second)
	return e
}

// offerScript is a log of batches that open, update and fuse incidents on both sides.
func (w *world) offerScript() [][]*ledger.Entry {
	points := [][2]float64{dmzA, dmzB, {39.71855, 47.52078}, {41.97499, 49.61889}}
	var batches [][]*ledger.Entry
	n := 0
	for round := range 4 {
		var b []*ledger.Entry
		for i, p := range points {
			n++
			sub, party, cat := "monitor-1", "east", "tank"
			if (i+round)%2 == 1 {
				sub, party = "uav-gs-1", "west"
			}
			if round == 3 {
				cat = "military-personnel"
			}
			b = append(b, w.signedObs(sub, fmt.Sprintf("o%d", n), cat, party, [2]float64{p[0] + 0.001*float64(round), p[1]}))
		}
		batches = append(batches, b)
	}
	return batches
}

func appended(rs []ledger.Receipt) []outbox.Appended {
	as := make([]outbox.Appended, len(rs))
	for i := range rs {
		as[i] = outbox.Appended{Receipt: rs[i]}
	}
	return as
}

func sameEvents(t *testing.T, got, want *outbox.Outbox) {
	t.Helper()
	a, b := got.Events(0, 1000), want.Events(0, 1000)
	if len(a) != len(b) || len(a) == 0 {
		t.Fatalf("%d and %d events", len(a), len(b))
	}
	for i := range a {
		if a[i].Seq != b[i].Seq || a[i].Index != b[i].Index || !bytes.Equal(a[i].JSON, b[i].JSON) {
			t.Errorf("event %d differs:\n%s\n%s", i, a[i].JSON, b[i].JSON)
		}
	}
}

// replayed returns an outbox that read lg's entries back, as on restart.
func replayed(t *testing.T, w *world, lg *ledger.Log) *outbox.Outbox {
	t.Helper()
	leaves, err := lg.Entries(t.Context(), 0, lg.Size())
	if err != nil {
		t.Fatal(err)
	}
	ob := newOutbox(t, w.a)
	if err := ob.Apply(0, leaves); err != nil {
		t.Fatal(err)
	}
	return ob
}

// TestOfferedIsReplayed: entries offered as appended give, alert for alert and byte for byte,
// the sequence a replay of the log gives; offers out of order wait for the entries before
// them, duplicates' receipts and entries already held are ignored.
func TestOfferedIsReplayed(t *testing.T) {
	w := newWorld(t)
	lg := openLog(t, w)
	ob := newOutbox(t, w.a)
	var offers [][]outbox.Appended
	for i, b := range w.offerScript() {
		keys := make([]string, len(b))
		for j := range b {
			keys[j] = fmt.Sprintf("k%d-%d", i, j)
		}
		rs, err := lg.AppendBatch(t.Context(), b, keys)
		if err != nil {
			t.Fatal(err)
		}
		offers = append(offers, appended(rs))
		if i == 1 { // resubmitted: duplicates' receipts, nothing appended
			rs, err := lg.AppendBatch(t.Context(), b, keys)
			if err != nil || !rs[0].Duplicate {
				t.Fatalf("resubmitting: %v, %+v", err, rs)
			}
			offers = append(offers, appended(rs))
		}
	}
	// Batch 2 (after the duplicates) comes before batch 1.
	offers[1], offers[3] = offers[3], offers[1]
	for i, as := range offers {
		ob.Offer(as)
		for {
			took, err := ob.Take(3)
			if err != nil {
				t.Fatal(err)
			}
			if !took {
				break
			}
		}
		if i == 1 && ob.Size() != 4 {
			t.Errorf("after an offer beyond a gap: size %d, want 4", ob.Size())
		}
	}
	ob.Offer(offers[0]) // held already
	if took, _ := ob.Take(100); took || ob.Size() != lg.Size() {
		t.Fatalf("size %d, took %v; want %d", ob.Size(), took, lg.Size())
	}
	sameEvents(t, ob, replayed(t, w, lg))
}

// countingLog counts the entries read.
type countingLog struct {
	*ledger.Log
	read chan int64
}

func (l countingLog) Entries(ctx context.Context, start, end int64) ([][]byte, error) {
	l.read <- end - start
	return l.Log.Entries(ctx, start, end)
}

// TestFollowOffered: Follow takes offered entries, reads back the log those nobody offered
// (after the grace), and the alerts are those of a replay.
func TestFollowOffered(t *testing.T) {
	w := newWorld(t)
	lg := openLog(t, w)
	ob := newOutbox(t, w.a)
	cl := countingLog{Log: lg, read: make(chan int64, 100)}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- outbox.Follow(ctx, cl, ob, nil, 10*time.Millisecond) }()
	for i, b := range w.offerScript() {
		rs, err := lg.AppendBatch(t.Context(), b, nil)
		if err != nil {
			t.Fatal(err)
		}
		if i != 2 { // batch 2's offer never comes: read from the log
			ob.Offer(appended(rs))
		}
	}
	if err := ob.Wait(t.Context(), lg.Size()); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	close(cl.read)
	var read int64
	for n := range cl.read {
		read += n
	}
	// Which entries were read depends on timing (an offer may come after the grace); that
	// batch 2 was read, and everything arrived once, does not.
	if read < 4 {
		t.Errorf("%d entries read from the log, want at least batch 2's 4", read)
	}
	t.Logf("%d of %d entries read from the log", read, lg.Size())
	sameEvents(t, ob, replayed(t, w, lg))
}
