package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/truce-mission/truce/agreement"
)

// State is a read-only snapshot of the engine's state. Every slice is in a fixed order, so
// that its JSON encoding is canonical and [Engine.StateHash] is a function of the entries
// applied.
type State struct {
	Size          int64          `json:"size"` // entries applied
	Time          time.Time      `json:"time"` // the log's time
	Incidents     []Incident     `json:"incidents"`
	Notifications []Notification `json:"notifications"`
	// OverdueReviews are the findings whose analyst review is overdue, by incident.
	OverdueReviews []OverdueReview `json:"overdue_reviews"`
	// OverdueWithdrawals are the breached phased and stand-off rules, by party, zone and rule.
	OverdueWithdrawals []Withdrawal `json:"overdue_withdrawals"`
	// Tracks are every track, in order of first position.
	Tracks []Track `json:"tracks"`
	// TrackEvents are the newest track events (at most [Options.TrackEventsKept]), oldest
	// first; TrackCounts counts them all.
	TrackEvents []TrackEvent `json:"track_events"`
	TrackCounts TrackCounts  `json:"track_counts"`
	// Warnings are the unusual-activity warnings, by id.
	Warnings []Warning `json:"warnings"`
	// Hotline are the hotline messages, in log order.
	Hotline []HotlineMessage `json:"hotline"`
	// Acknowledgements are the parties' duties to acknowledge, in order of creation;
	// Escalations those whose deadline passed unacknowledged; Parties the counts per party.
	Acknowledgements []AckDuty     `json:"acknowledgements"`
	Escalations      []Escalation  `json:"escalations"`
	Parties          []PartyRecord `json:"parties"`
	Ignored          []Ignored     `json:"ignored"`
}

// OverdueReview is a finding not reviewed by its deadline.
type OverdueReview struct {
	Incident int64     `json:"incident"`
	Due      time.Time `json:"due"`
}

// Withdrawal is a party's forces still where a withdrawal rule (a stand-off, or a rule that
// takes effect after D-day) no longer allows them.
type Withdrawal struct {
	Party     string    `json:"party"`
	Zone      string    `json:"zone"` // the zone, or the line of a stand-off
	Rule      string    `json:"rule"`
	Deadline  time.Time `json:"deadline"` // when the rule took effect
	Incidents []int64   `json:"incidents"`
}

// Incident returns the view of one incident.
func (e *Engine) Incident(id int64) (Incident, bool) {
	if id < 1 || id > int64(len(e.incidents)) {
		return Incident{}, false
	}
	v, _ := e.view(e.incidents[id-1], 0)
	return v, true
}

// IncidentLatest is Incident with only the latest k pieces of its evidence (by ledger index),
// in Evidence and in the explanation's evidence lines, and the number of pieces in all: what
// an alert carries, at a cost that does not grow with the incident's evidence as much as the
// whole view's (which writes a line for every piece). k <= 0 means all of it.
func (e *Engine) IncidentLatest(id int64, k int) (inc Incident, total int, ok bool) {
	if id < 1 || id > int64(len(e.incidents)) {
		return Incident{}, 0, false
	}
	inc, total = e.view(e.incidents[id-1], k)
	return inc, total, true
}

// State returns a snapshot of the state.
func (e *Engine) State() State {
	s := e.state()
	s.Incidents = make([]Incident, 0, len(e.incidents))
	for _, inc := range e.incidents {
		v, _ := e.view(inc, 0)
		s.Incidents = append(s.Incidents, v)
	}
	return s
}

// state is the snapshot but for the incidents' views (Incidents is empty), which hold
// most of it: StateHash encodes them one at a time.
func (e *Engine) state() State {
	s := State{Size: e.next, Time: e.now, Incidents: []Incident{}, Notifications: []Notification{},
		OverdueReviews: []OverdueReview{}, OverdueWithdrawals: []Withdrawal{}, Ignored: slices.Clone(e.ignored),
		Tracks: []Track{}, TrackEvents: []TrackEvent{}, Warnings: []Warning{}, Hotline: []HotlineMessage{},
		Acknowledgements: []AckDuty{}, Escalations: []Escalation{}, Parties: []PartyRecord{}}
	if s.Ignored == nil {
		s.Ignored = []Ignored{}
	}
	for _, inc := range e.incidents {
		v := &inc.view
		if v.Verdict != VerdictInfraction {
			continue
		}
		if v.Review == nil && e.now.After(v.ReviewDue) {
			s.OverdueReviews = append(s.OverdueReviews, OverdueReview{Incident: v.ID, Due: v.ReviewDue})
		}
		for _, rm := range v.Rules {
			ar, ok := e.a.Rule(rm.Rule)
			if !ok || !rm.Breached || rm.CoveredBy >= 0 || !(ar.Kind == agreement.RuleStandOff || ar.From.After(e.a.DDay)) {
				continue
			}
			zone := rm.Zone
			if zone == "" {
				zone = rm.Line
			}
			w := Withdrawal{Party: v.Party, Zone: zone, Rule: rm.Rule, Deadline: ar.From}
			i := slices.IndexFunc(s.OverdueWithdrawals, func(x Withdrawal) bool {
				return x.Party == w.Party && x.Zone == w.Zone && x.Rule == w.Rule
			})
			if i < 0 {
				s.OverdueWithdrawals = append(s.OverdueWithdrawals, w)
				i = len(s.OverdueWithdrawals) - 1
			}
			s.OverdueWithdrawals[i].Incidents = append(s.OverdueWithdrawals[i].Incidents, v.ID)
		}
	}
	slices.SortStableFunc(s.OverdueWithdrawals, func(a, b Withdrawal) int {
		if c := strings.Compare(a.Party, b.Party); c != 0 {
			return c
		}
		if c := strings.Compare(a.Zone, b.Zone); c != 0 {
			return c
		}
		return strings.Compare(a.Rule, b.Rule)
	})
	for _, k := range e.trackKeys {
		t := e.tracks[k]
		s.Tracks = append(s.Tracks, Track{Track: k, Last: t.last, Position: [2]float64{t.pt.Lon, t.pt.Lat}, Index: t.index,
			Zones: append([]string{}, t.zones...), Dark: t.dark, Incident: t.incident})
	}
	s.TrackEvents = append(s.TrackEvents, e.keptTrackEvents()...)
	s.TrackCounts = e.trackCounts
	for _, w := range e.warnings {
		v := *w
		v.Evidence = slices.Clone(w.Evidence)
		v.Explanation = slices.Clone(w.Explanation)
		v.Parties = slices.Clone(w.Parties)
		s.Warnings = append(s.Warnings, v)
	}
	e.ackState(&s)
	for _, n := range e.notifications {
		p := n.p
		p.Zones = slices.Clone(p.Zones)
		s.Notifications = append(s.Notifications, Notification{Index: n.index, Submitter: n.submitter, Received: n.received, Payload: p})
	}
	return s
}

// StateHash returns the SHA-256 of the canonical encoding of [Engine.State]: the JSON
// encoding of its fields in declaration order, every slice in its fixed order and no map.
// Equal hashes prove two replays agree.
func (e *Engine) StateHash() [32]byte {
	// The same bytes, written piece by piece: the incidents' views, with all their evidence
	// and explanations, one at a time rather than the whole log's at once.
	b := mustMarshal(e.state())
	const field = `"incidents":[`
	i := bytes.Index(b, []byte(field+"]")) + len(field) // after size and time: the first
	h := sha256.New()
	h.Write(b[:i])
	for k, inc := range e.incidents {
		if k > 0 {
			h.Write([]byte{','})
		}
		v, _ := e.view(inc, 0)
		h.Write(mustMarshal(v))
	}
	h.Write(b[i:])
	return [32]byte(h.Sum(nil))
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// State holds only strings, numbers, times and slices of them: it always encodes.
		panic("engine: encoding state: " + err.Error())
	}
	return b
}
