package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/geo"
	"github.com/truce-mission/truce/ledger"
)

// NotificationPayload is the payload of a prior notification entry (see the package doc).
type NotificationPayload struct {
	ID       string    `json:"id"`
	Party    string    `json:"party,omitempty"`
	Category string    `json:"category"`
	Count    int       `json:"count"`
	From     time.Time `json:"from"`
	Until    time.Time `json:"until"`
	Zones    []string  `json:"zones,omitempty"`
	Area     *Area     `json:"area,omitempty"`
}

// Area is a circle: every point within RadiusM metres of Center, a [lon, lat].
type Area struct {
	Center  [2]float64 `json:"center"`
	RadiusM float64    `json:"radius_m"`
}

// ReviewPayload is the payload of an analyst's review entry (see the package doc).
type ReviewPayload struct {
	Action    string  `json:"action"` // confirm, dismiss, merge, split
	Incident  int64   `json:"incident,omitempty"`
	Incidents []int64 `json:"incidents,omitempty"`
	Entries   []int64 `json:"entries,omitempty"`
	Certainty string  `json:"certainty,omitempty"`
	Note      string  `json:"note,omitempty"`
	Reason    string  `json:"reason,omitempty"`
}

// TickPayload is the payload of a tick entry.
type TickPayload struct {
	Time time.Time `json:"time"`
}

func decodeStrict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

// notification is an accepted prior notification.
type notification struct {
	index     int64
	submitter string
	received  time.Time
	p         NotificationPayload
	cat       int32  // p.Category's number (categoryOf)
	seq       int    // its place among its party's, in the order accepted (noteIndex.add)
	text      string // its description, for the evidence it is listed in
}

// Notification is the read-only view of an accepted prior notification.
type Notification struct {
	Index     int64               `json:"index"`
	Submitter string              `json:"submitter"`
	Received  time.Time           `json:"received"`
	Payload   NotificationPayload `json:"payload"`
}

func (e *Engine) notify(index int64, en *ledger.Entry) string {
	var p NotificationPayload
	if err := decodeStrict(en.Payload(), &p); err != nil {
		return "notification: " + err.Error()
	}
	id, ok := e.a.Identity(en.Submitter())
	if !ok || id.Role != agreement.RolePartyLiaison {
		return fmt.Sprintf("notification %q: submitter %q is not a party liaison", p.ID, en.Submitter())
	}
	if p.Party == "" {
		p.Party = id.Party
	}
	switch {
	case p.Party != id.Party:
		return fmt.Sprintf("notification %q: liaison of %q cannot notify for party %q", p.ID, id.Party, p.Party)
	case p.From.IsZero() || !p.Until.After(p.From):
		return fmt.Sprintf("notification %q: want from before until", p.ID)
	case p.Category == "":
		return fmt.Sprintf("notification %q: no category", p.ID)
	case p.Area != nil && p.Area.RadiusM <= 0:
		return fmt.Sprintf("notification %q: area radius must be positive", p.ID)
	}
	if _, ok := e.a.Category(p.Category); !ok {
		return fmt.Sprintf("notification %q: unknown category %q", p.ID, p.Category)
	}
	for _, z := range p.Zones {
		if _, ok := e.a.Zone(z); !ok {
			return fmt.Sprintf("notification %q: unknown zone %q", p.ID, z)
		}
	}
	p.From, p.Until = p.From.UTC(), p.Until.UTC()
	n := &notification{index: index, submitter: en.Submitter(), received: en.Received(), p: p, cat: e.categoryOf(p.Category),
		text: fmt.Sprintf("%d %s of %s from %s until %s", p.Count, p.Category, p.Party, p.From.Format(time.RFC3339), p.Until.Format(time.RFC3339))}
	e.notifications = append(e.notifications, n)
	if e.notes == nil {
		e.notes = noteIndex{}
	}
	e.notes.add(n)
	// It may explain incidents of its party near its window.
	e.touchNear(n)
	return ""
}

// leadTime is the longest prior-notice lead time on a category of a party.
func (e *Engine) leadTime(party, category string) time.Duration {
	var d time.Duration
	for _, n := range e.a.Obligations.PriorNotice {
		if (n.Party == agreement.AnyParty || n.Party == "" || n.Party == party) && e.a.CategoryCovers(n.Category, category) {
			d = max(d, n.LeadTime)
		}
	}
	return d
}

func (n *notification) inArea(r *obsRec) bool {
	if len(n.p.Zones) == 0 && n.p.Area == nil {
		return true
	}
	for _, z := range n.p.Zones {
		if slices.Contains(r.zones, z) {
			return true
		}
	}
	if a := n.p.Area; a != nil {
		return geo.DistanceMeters(geo.Point{Lon: a.Center[0], Lat: a.Center[1]}, r.pt) <= a.RadiusM
	}
	return false
}

func (e *Engine) review(index int64, en *ledger.Entry) string {
	var p ReviewPayload
	if err := decodeStrict(en.Payload(), &p); err != nil {
		return "review: " + err.Error()
	}
	id, ok := e.a.Identity(en.Submitter())
	if !ok || id.Role != agreement.RoleAnalyst {
		return fmt.Sprintf("review: submitter %q is not an analyst", en.Submitter())
	}
	get := func(n int64) (*incident, string) {
		if n < 1 || n > int64(len(e.incidents)) {
			return nil, fmt.Sprintf("review %s: no incident %d", p.Action, n)
		}
		inc := e.incidents[n-1]
		if inc.mergedInto != 0 {
			return nil, fmt.Sprintf("review %s: incident %d was merged into %d", p.Action, n, inc.mergedInto)
		}
		return inc, ""
	}
	rec := &Review{Index: index, Analyst: en.Submitter(), Action: p.Action, Note: p.Note}
	switch p.Action {
	case "confirm", "dismiss":
		inc, bad := get(p.Incident)
		if bad != "" {
			return bad
		}
		if p.Action == "dismiss" {
			inc.dismissed = true
			rec.Note = p.Reason
		} else {
			inc.dismissed = false
			if p.Certainty != "" {
				var c agreement.Certainty
				if err := c.UnmarshalText([]byte(p.Certainty)); err != nil {
					return "review confirm: " + err.Error()
				}
				inc.setCert, inc.setCertAt = &c, index
			}
		}
		inc.review = rec
		e.touch(inc.id)
	case "merge":
		ids := slices.Clone(p.Incidents)
		slices.Sort(ids)
		ids = slices.Compact(ids)
		if len(ids) < 2 {
			return "review merge: want at least two incidents"
		}
		var incs []*incident
		for _, n := range ids {
			inc, bad := get(n)
			if bad != "" {
				return bad
			}
			incs = append(incs, inc)
		}
		into := incs[0]
		for _, inc := range incs[1:] {
			into.obs = append(into.obs, inc.obs...)
			into.trackEvents = append(into.trackEvents, inc.trackEvents...)
			inc.setObs(nil)
			inc.trackEvents = nil
			inc.mergedInto = into.id
			inc.merges = append(inc.merges, Evidence{Index: index, Kind: "review", Submitter: rec.Analyst, Counted: CountedNone, Why: fmt.Sprintf("merged into incident %d", into.id)})
			for _, r := range into.obs {
				e.index(into.id, r)
			}
			e.touch(inc.id)
		}
		slices.SortFunc(into.obs, func(a, b *obsRec) int { return int(a.index - b.index) })
		into.setObs(into.obs)
		slices.SortFunc(into.trackEvents, func(a, b TrackEvent) int { return int(a.Seq - b.Seq) })
		into.merges = append(into.merges, Evidence{Index: index, Kind: "review", Submitter: rec.Analyst, Counted: CountedNone, Why: fmt.Sprintf("merged incidents %v", ids)})
		e.touch(into.id)
	case "split":
		inc, bad := get(p.Incident)
		if bad != "" {
			return bad
		}
		var keep, move []*obsRec
		for _, r := range inc.obs {
			if slices.Contains(p.Entries, r.index) {
				move = append(move, r)
			} else {
				keep = append(keep, r)
			}
		}
		switch {
		case len(move) != len(slices.Compact(slices.Sorted(slices.Values(p.Entries)))):
			return fmt.Sprintf("review split: not every entry of %v is an observation of incident %d", p.Entries, inc.id)
		case len(keep) == 0 || len(move) == 0:
			return "review split: both parts need an observation"
		}
		inc.setObs(keep)
		n := &incident{id: int64(len(e.incidents)) + 1, opened: e.now}
		n.setObs(move)
		n.reviewDue = n.opened.Add(e.opts.ReviewDeadline)
		e.incidents = append(e.incidents, n)
		for _, r := range move {
			e.index(n.id, r)
		}
		why := fmt.Sprintf("split: entries %v moved from incident %d to %d", p.Entries, inc.id, n.id)
		inc.merges = append(inc.merges, Evidence{Index: index, Kind: "review", Submitter: rec.Analyst, Counted: CountedNone, Why: why})
		n.merges = append(n.merges, Evidence{Index: index, Kind: "review", Submitter: rec.Analyst, Counted: CountedNone, Why: why})
		e.touch(inc.id)
		e.touch(n.id)
	default:
		return fmt.Sprintf("review: unknown action %q (want confirm, dismiss, merge or split)", p.Action)
	}
	return ""
}

// desc describes the notification.
func (n *notification) desc() string { return n.text }
