package engine_test

import (
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/truce-mission/truce/alert"
	"github.com/truce-mission/truce/engine"
	"github.com/truce-mission/truce/ingest"
	"github.com/truce-mission/truce/ledger"
)

// TestAcknowledgementDeadline: an alert not acknowledged by the deadline escalates once, at
// the first entry after it; one acknowledged in time does not; the state hash tells them
// apart.
func TestAcknowledgementDeadline(t *testing.T) {
	a := loadAgreement(t)
	ks := map[string]ed25519.PrivateKey{}
	t0 := a.DDay.AddDate(0, 0, 5)
	o := ingest.Observation{ID: "m1", Observed: t0, Category: "tank", Count: 2, AssessedParty: "east", Source: ingest.SourceGroundMonitor}
	o.Position.Lon, o.Position.Lat = 36.40572, 47.01571
	tick := func(at time.Time) []byte {
		return leaf(t, ks, ledger.KindTick, "monitor-1", at, engine.TickPayload{Time: at})
	}
	obs := leaf(t, ks, ledger.KindObservation, "monitor-1", t0, o)
	deadline := t0.Add(a.Obligations.Acknowledgement.Alert)

	for _, tc := range []struct {
		name      string
		ackAt     time.Duration // after t0; 0 for none
		escalated bool
	}{
		{"none", 0, true},
		{"in time", time.Hour, false},
		{"at the deadline", a.Obligations.Acknowledgement.Alert, false},
		{"late", 3 * time.Hour, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := engine.New(a)
			apply(t, e, [][]byte{obs})
			want := e.AlertID(e.IncidentFinding(1), 1)
			if want != alert.Identifier(e.Sender(), "incident-1", 1) {
				t.Fatalf("alert id %q, alert.Identifier differs", want)
			}
			var leaves [][]byte
			if tc.ackAt > 0 {
				leaves = append(leaves, leaf(t, ks, ledger.KindAcknowledgement, "east-liaison", t0.Add(tc.ackAt), engine.AckPayload{Alert: want}))
			}
			leaves = append(leaves, tick(deadline), tick(deadline.Add(time.Second)), tick(deadline.Add(time.Hour)))
			var esc []engine.Change
			for _, c := range applyFrom(t, e, 1, leaves) {
				if c.Kind == engine.ChangeEscalated {
					esc = append(esc, c)
				}
			}
			s := e.State()
			if len(s.Ignored) != 0 {
				t.Fatalf("ignored: %v", s.Ignored)
			}
			if !tc.escalated {
				if len(esc) != 0 || len(s.Escalations) != 0 {
					t.Fatalf("escalated: %v", esc)
				}
				return
			}
			if len(esc) != 1 || esc[0].Party != "east" || esc[0].Alert != want || esc[0].Incident != 1 || esc[0].Version != 1 {
				t.Fatalf("escalations %+v, want one of east for %s", esc, want)
			}
			if len(s.Escalations) != 1 || !s.Escalations[0].Deadline.Equal(deadline) || s.Escalations[0].Escalated.Before(deadline) {
				t.Fatalf("state escalations %+v", s.Escalations)
			}
			if late := !s.Escalations[0].Acknowledged.IsZero(); late != (tc.ackAt > 0) {
				t.Fatalf("acknowledged late %v, want %v", late, tc.ackAt > 0)
			}
		})
	}
}

// TestStateHashCoversNewState: a track, an acknowledgement and a hotline message each
// change the state hash.
func TestStateHashCoversNewState(t *testing.T) {
	a := loadAgreement(t)
	ks := map[string]ed25519.PrivateKey{}
	t0 := a.DDay.AddDate(0, 0, 3)
	ship := ingest.Observation{ID: "s1", Observed: t0, Category: "civilian-traffic", Source: ingest.SourceAIS, Track: &ingest.Track{MMSI: 271000001}}
	ship.Position.Lon, ship.Position.Lat = 30.64376, 45.58749
	base := [][]byte{leaf(t, ks, ledger.KindTick, "monitor-1", t0, engine.TickPayload{Time: t0})}
	hash := func(extra ...[]byte) [32]byte {
		e, _ := engine.New(a)
		apply(t, e, append(append([][]byte{}, base...), extra...))
		return e.StateHash()
	}
	h0 := hash()
	for name, l := range map[string][]byte{
		"track":   leaf(t, ks, ledger.KindObservation, "ais-rx-1", t0, ship),
		"hotline": leaf(t, ks, ledger.KindHotline, "analyst-1", t0, engine.HotlinePayload{ID: "h1", To: []string{"east"}, Text: "call us"}),
	} {
		if hash(l) == h0 {
			t.Errorf("%s: state hash unchanged", name)
		}
	}
	msg := leaf(t, ks, ledger.KindHotline, "analyst-1", t0, engine.HotlinePayload{ID: "h1", To: []string{"east"}, Text: "call us"})
	ack := leaf(t, ks, ledger.KindAcknowledgement, "east-liaison", t0.Add(time.Minute), engine.AckPayload{Message: "h1"})
	if hash(msg) == hash(msg, ack) {
		t.Error("acknowledgement: state hash unchanged")
	}
}
