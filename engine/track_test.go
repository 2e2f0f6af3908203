package engine_test

import (
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	"github.com/truce-mission/truce/engine"
	"github.com/truce-mission/truce/ingest"
	"github.com/truce-mission/truce/ledger"
)

// TestTrackDark: a ship silent in a zone goes dark once the log's time passes the gap,
// counted from its latest position, or from its receipt when a backlog arrives late.
func TestTrackDark(t *testing.T) {
	a := loadAgreement(t)
	ks := map[string]ed25519.PrivateKey{}
	t0 := a.DDay.AddDate(0, 0, 3)
	pos := func(id string, observed, received time.Time, lon, lat float64) []byte {
		o := ingest.Observation{ID: id, Observed: observed, Category: "civilian-traffic", Source: ingest.SourceAIS, Track: &ingest.Track{MMSI: 271000001}}
		o.Position.Lon, o.Position.Lat = lon, lat
		return leaf(t, ks, ledger.KindObservation, "ais-rx-1", received, o)
	}
	tick := func(at time.Time) []byte {
		return leaf(t, ks, ledger.KindTick, "monitor-1", at, engine.TickPayload{Time: at})
	}
	gap := engine.DefaultDarkGap
	for _, tc := range []struct {
		name   string
		leaves [][]byte
		dark   int64
	}{
		{"live, silent", [][]byte{pos("p1", t0, t0, 30.64376, 45.58749), tick(t0.Add(gap)), tick(t0.Add(gap + time.Second))}, 1},
		{"live, reporting", [][]byte{pos("p1", t0, t0, 30.64376, 45.58749), pos("p2", t0.Add(gap), t0.Add(gap), 30.62, 45.50), tick(t0.Add(gap + time.Minute))}, 0},
		{"left the zone", [][]byte{pos("p1", t0, t0, 30.64376, 45.58749), pos("p2", t0.Add(time.Minute), t0.Add(time.Minute), 30.80, 45.40), tick(t0.Add(3 * gap))}, 0},
		{"backlog", [][]byte{
			pos("p1", t0, t0.Add(48*time.Hour), 30.64376, 45.58749),
			pos("p2", t0.Add(2*gap), t0.Add(48*time.Hour+time.Second), 30.62, 45.50),
			tick(t0.Add(48*time.Hour + gap)),
		}, 0},
		{"backlog, then silent", [][]byte{
			pos("p1", t0, t0.Add(48*time.Hour), 30.64376, 45.58749),
			tick(t0.Add(48*time.Hour + gap + time.Second)),
			tick(t0.Add(50 * time.Hour)),
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := engine.New(a)
			apply(t, e, tc.leaves)
			s := e.State()
			if s.TrackCounts.Dark != tc.dark {
				t.Fatalf("%d dark events, want %d: %+v", s.TrackCounts.Dark, tc.dark, s.TrackEvents)
			}
			if len(s.Tracks) != 1 || s.Tracks[0].Dark != (tc.dark > 0) {
				t.Fatalf("tracks %+v", s.Tracks)
			}
		})
	}
}

// TestTrackCountsOnce: the reports of one ship are the same ship seen again, so an incident of
// ten reports of one track counts one vessel; a second ship makes two.
func TestTrackCountsOnce(t *testing.T) {
	a := loadAgreement(t)
	ks := map[string]ed25519.PrivateKey{}
	t0 := a.DDay.AddDate(0, 0, 3)
	pos := func(id string, mmsi uint32, at time.Time, lon, lat float64) []byte {
		o := ingest.Observation{ID: id, Observed: at, Category: "naval-vessel", ClaimedParty: "east", Military: true,
			Source: ingest.SourceAIS, Track: &ingest.Track{MMSI: mmsi}}
		o.Position.Lon, o.Position.Lat = lon, lat
		return leaf(t, ks, ledger.KindObservation, "ais-rx-1", at, o)
	}
	var leaves [][]byte
	for i := range 10 {
		at := t0.Add(time.Duration(i) * 5 * time.Minute)
		leaves = append(leaves, pos(fmt.Sprintf("a%d", i), 273310150, at, 30.64376, 45.58749-0.002*float64(i)))
	}
	e, _ := engine.New(a)
	apply(t, e, leaves)
	s := e.State()
	if len(s.Incidents) != 1 || s.Incidents[0].Count != 1 || s.Incidents[0].Verdict != engine.VerdictInfraction {
		t.Fatalf("one ship, ten reports: %+v", s.Incidents)
	}
	apply2 := pos("b0", 273310170, t0.Add(50*time.Minute), 30.64, 45.57)
	applyFrom(t, e, len(leaves), [][]byte{apply2})
	if inc, _ := e.Incident(1); inc.Count != 2 || len(inc.Evidence) != 11 {
		t.Fatalf("a second ship: count %d, %d evidence", inc.Count, len(inc.Evidence))
	}
}
