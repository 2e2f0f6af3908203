package engine_test

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"go/parser"
	"go/token"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/engine"
	"github.com/truce-mission/truce/ingest"
	"github.com/truce-mission/truce/ingest/feeds"
	"github.com/truce-mission/truce/keys"
	"github.com/truce-mission/truce/ledger"
)

func loadAgreement(t testing.TB) *agreement.Agreement {
	t.Helper()
	a, err := agreement.LoadFile("../examples/line-of-contact.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// leaf signs and receives one entry and returns its leaf bytes.
func leaf(t testing.TB, ks map[string]ed25519.PrivateKey, kind ledger.Kind, who string, at time.Time, payload any) []byte {
	t.Helper()
	raw, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	canon, err := ledger.Canonicalize(raw)
	if err != nil {
		t.Fatal(err)
	}
	e, err := ledger.NewEntry(kind, who, at, canon)
	if err != nil {
		t.Fatal(err)
	}
	k, ok := ks[who]
	if !ok {
		if k, err = keys.LoadPrivateKey(filepath.Join("../examples/keys", who+".key")); err != nil {
			t.Fatal(err)
		}
		ks[who] = k
	}
	if err := ledger.Sign(e, k); err != nil {
		t.Fatal(err)
	}
	r, err := e.Receive(at)
	if err != nil {
		t.Fatal(err)
	}
	return r.Leaf()
}

// generate returns n leaves of a random but seeded mix of observations near the line of
// contact, notifications, reviews and ticks over the first 40 days.
func generate(t testing.TB, a *agreement.Agreement, n int, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	ks := map[string]ed25519.PrivateKey{}
	observers := []string{"monitor-1", "monitor-2", "uav-gs-1", "ais-rx-1", "east-liaison", "west-liaison"}
	cats := []string{"tank", "artillery-100mm", "mlrs", "military-personnel", "uav", "armoured-vehicle", "heavy-weapons"}
	parties := []string{"east", "west", ""}
	// Points along the synthetic line, pushed off it by up to 60 km.
	base := [][2]float64{{33.9, 46.71}, {34.68, 46.71}, {35.97, 46.82}, {36.4, 47.0}, {37.16, 47.16}}
	var out [][]byte
	at := a.DDay
	incidents := 0
	for i := 0; i < n; i++ {
		at = at.Add(time.Duration(rng.IntN(20)) * time.Minute)
		switch x := rng.IntN(100); {
		case x < 85:
			b := base[rng.IntN(len(base))]
			who := observers[rng.IntN(len(observers))]
			o := ingest.Observation{
				ID:       "g" + strconv.Itoa(i),
				Observed: at.Add(-time.Duration(rng.IntN(90)) * time.Minute),
				Category: cats[rng.IntN(len(cats))], Count: rng.IntN(40),
				AssessedParty: parties[rng.IntN(len(parties))],
				Source:        ingest.SourceKind(1 + rng.IntN(7)),
			}
			o.Position.Lon = b[0] + (rng.Float64()-0.5)*0.1
			o.Position.Lat = b[1] + (rng.Float64()-0.5)*1.0
			if o.Category == "uav" {
				alt := rng.Float64() * 30000
				o.Position.AltM = &alt
			}
			if rng.IntN(20) == 0 {
				o.Text = "absent: nothing there"
			}
			out = append(out, leaf(t, ks, ledger.KindObservation, who, at, o))
			incidents++
		case x < 90:
			who, party := "east-liaison", "east"
			if rng.IntN(2) == 0 {
				who, party = "west-liaison", "west"
			}
			from := at.Add(time.Duration(rng.IntN(100)) * time.Hour)
			p := engine.NotificationPayload{ID: "n" + strconv.Itoa(i), Party: party, Category: "heavy-weapons", Count: rng.IntN(50),
				From: from, Until: from.Add(12 * time.Hour), Zones: []string{"dmz"}}
			out = append(out, leaf(t, ks, ledger.KindNotification, who, at, p))
		case x < 97:
			m := int64(max(1, incidents/3))
			p := engine.ReviewPayload{Action: "confirm", Incident: 1 + rng.Int64N(m)}
			switch rng.IntN(4) {
			case 0:
				p = engine.ReviewPayload{Action: "merge", Incidents: []int64{1 + rng.Int64N(m), 1 + rng.Int64N(m)}}
			case 1:
				p = engine.ReviewPayload{Action: "dismiss", Incident: 1 + rng.Int64N(m), Reason: "test"}
			case 2:
				p = engine.ReviewPayload{Action: "split", Incident: 1 + rng.Int64N(m), Entries: []int64{rng.Int64N(int64(len(out) + 1))}}
			}
			out = append(out, leaf(t, ks, ledger.KindReview, "analyst-1", at, p))
		default:
			out = append(out, leaf(t, ks, ledger.KindTick, "monitor-1", at, engine.TickPayload{Time: at}))
		}
	}
	return out
}

func apply(t testing.TB, e *engine.Engine, leaves [][]byte) []engine.Change {
	t.Helper()
	return applyFrom(t, e, 0, leaves)
}

// applyFrom applies leaves as the entries from index start on.
func applyFrom(t testing.TB, e *engine.Engine, start int, leaves [][]byte) []engine.Change {
	t.Helper()
	var all []engine.Change
	for j, l := range leaves {
		i := start + j
		en, err := ledger.ParseLeaf(l)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := e.Apply(int64(i), en)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, cs...)
	}
	return all
}

// TestReplayDeterminism: replaying the leaves of a generated run into a fresh engine gives
// the live run's state hash, and so does a run with the state hash taken along the way.
func TestReplayDeterminism(t *testing.T) {
	a := loadAgreement(t)
	leaves := generate(t, a, 2000, 42)

	live, err := engine.New(a)
	if err != nil {
		t.Fatal(err)
	}
	var mid [32]byte
	for i, l := range leaves {
		en, _ := ledger.ParseLeaf(l)
		if _, err := live.Apply(int64(i), en); err != nil {
			t.Fatal(err)
		}
		if i == len(leaves)/2 {
			mid = live.StateHash()
		}
	}
	want := live.StateHash()

	replay, _ := engine.New(a)
	apply(t, replay, leaves[:len(leaves)/2+1])
	if got := replay.StateHash(); got != mid {
		t.Errorf("replay of the first half: state hash %x, live %x", got, mid)
	}
	applyFrom(t, replay, len(leaves)/2+1, leaves[len(leaves)/2+1:])
	if got := replay.StateHash(); got != want {
		t.Fatalf("replay: state hash %x, live %x", got, want)
	}
	s := live.State()
	findings := 0
	for _, inc := range s.Incidents {
		if inc.Verdict == engine.VerdictInfraction {
			findings++
		}
	}
	if len(s.Incidents) < 50 || findings == 0 {
		t.Errorf("generated run too thin to test anything: %d incidents, %d findings", len(s.Incidents), findings)
	}
	t.Logf("%d entries: %d incidents, %d findings, %d overdue reviews, %d ignored", len(leaves), len(s.Incidents), findings, len(s.OverdueReviews), len(s.Ignored))
}

// ApplyDecoded with the intake's decoding of each observation gives what Apply gives.
func TestApplyDecoded(t *testing.T) {
	a := loadAgreement(t)
	leaves := generate(t, a, 3000, 7)
	plain, _ := engine.New(a)
	decoded, _ := engine.New(a)
	for i, l := range leaves {
		en, err := ledger.ParseLeaf(l)
		if err != nil {
			t.Fatal(err)
		}
		var o *ingest.Observation
		if en.Kind() == ledger.KindObservation {
			if d, rerr := feeds.DecodeRecord(en.Payload()); rerr == nil {
				o = &d
			}
		}
		want, err1 := plain.Apply(int64(i), en)
		got, err2 := decoded.ApplyDecoded(int64(i), en, o)
		if err1 != nil || err2 != nil || !slices.Equal(got, want) {
			t.Fatalf("entry %d: ApplyDecoded %v, %v; Apply %v, %v", i, got, err2, want, err1)
		}
	}
	if plain.StateHash() != decoded.StateHash() {
		t.Error("state hashes differ")
	}
}

func TestApplyOutOfOrder(t *testing.T) {
	a := loadAgreement(t)
	e, _ := engine.New(a)
	l := leaf(t, map[string]ed25519.PrivateKey{}, ledger.KindTick, "monitor-1", a.DDay, engine.TickPayload{Time: a.DDay})
	en, _ := ledger.ParseLeaf(l)
	if _, err := e.Apply(1, en); err == nil {
		t.Fatal("index 1 before 0 accepted")
	}
}

// TestChanges: a finding is created, updated, then cancelled by a covering notification
// arriving later; versions count the changes.
func TestChanges(t *testing.T) {
	a := loadAgreement(t)
	ks := map[string]ed25519.PrivateKey{}
	t0 := a.DDay.AddDate(0, 0, 5)
	obs := func(id, who string, src ingest.SourceKind, at time.Time) ingest.Observation {
		o := ingest.Observation{ID: id, Observed: at, Category: "tank", Count: 2, AssessedParty: "east", Source: src}
		o.Position.Lon, o.Position.Lat = 36.40572, 47.01571
		return o
	}
	leaves := [][]byte{
		leaf(t, ks, ledger.KindObservation, "uav-gs-1", t0, obs("u1", "uav-gs-1", ingest.SourceUAV, t0)),
		leaf(t, ks, ledger.KindObservation, "monitor-1", t0.Add(time.Hour), obs("m1", "monitor-1", ingest.SourceGroundMonitor, t0.Add(time.Hour))),
		leaf(t, ks, ledger.KindNotification, "east-liaison", t0.Add(2*time.Hour), engine.NotificationPayload{
			ID: "n1", Category: "heavy-weapons", Count: 5, From: t0.Add(-time.Hour), Until: t0.Add(3 * time.Hour), Zones: []string{"dmz"}}),
	}
	e, _ := engine.New(a)
	got := apply(t, e, leaves)
	want := []engine.Change{
		{Kind: engine.ChangeCreated, Incident: 1, Version: 1, Index: 0},
		{Kind: engine.ChangeUpdated, Incident: 1, Version: 2, Index: 1},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("changes %v, want %v", got, want)
	}
	// The notification came after the window started: late, so still an infraction.
	inc, _ := e.Incident(1)
	if inc.Verdict != engine.VerdictInfraction || !strings.Contains(strings.Join(inc.Explanation, "\n"), "late") {
		t.Fatalf("verdict %s, explanation:\n%s", inc.Verdict, strings.Join(inc.Explanation, "\n"))
	}

	// In time (72 h ahead), the same notice cancels the finding.
	leaves[2] = leaf(t, ks, ledger.KindNotification, "east-liaison", t0.Add(-96*time.Hour), engine.NotificationPayload{
		ID: "n1", Category: "heavy-weapons", Count: 5, From: t0.Add(-time.Hour), Until: t0.Add(3 * time.Hour), Zones: []string{"dmz"}})
	leaves = append(leaves[2:], leaves[:2]...)
	e, _ = engine.New(a)
	got = apply(t, e, leaves)
	if len(got) != 0 {
		t.Fatalf("a notified activity reported changes %v", got)
	}
	if inc, _ := e.Incident(1); inc.Verdict != engine.VerdictNotified || inc.Certainty != agreement.CertaintyObserved {
		t.Fatalf("verdict %s certainty %s, want notified observed", inc.Verdict, inc.Certainty)
	}
}

// TestNoWallClockOrIO keeps the engine free of I/O and of the wall clock.
func TestNoWallClockOrIO(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	banned := []string{`"net/http"`, `"database/sql"`, `"os"`, `"io"`, `"log/slog"`, `"math/rand"`, `"math/rand/v2"`}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(src), "time.Now") || strings.Contains(string(src), "time.Since") {
			t.Errorf("%s reads the wall clock", f)
		}
		pf, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range pf.Imports {
			for _, b := range banned {
				if im.Path.Value == b {
					t.Errorf("%s imports %s", f, b)
				}
			}
		}
	}
}
