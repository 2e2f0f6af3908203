package engine

import (
	"fmt"
	"slices"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/geo"
)

// Defaults of the track options of [Options].
const (
	// DefaultDwell is how long a track must stay in a zone, between two of its positions, to
	// be a dwell event: the fusion window. A ship or aircraft still in the zone after that is
	// no longer one passing event but a presence, and the fusion of its later positions no
	// longer spans its whole stay.
	DefaultDwell = DefaultFuseWindow
	// DefaultDarkGap is how long a track last seen inside a zone may stay silent before it
	// is flagged dark. AIS class A ships report every 2 to 10 s under way and every 3 min at
	// anchor, class B every 30 s to 3 min, ADS-B every second; 30 min is ten missed at-anchor
	// reports, long enough to ride out ordinary gaps in coastal reception, short enough that
	// a ship at 15 kn has not yet gone 14 km.
	DefaultDarkGap = 30 * time.Minute
	// DefaultTrackEventsKept is how many track events [State] keeps, the newest; the
	// counters count them all.
	DefaultTrackEventsKept = 1000
)

// TrackEventKind is what happened to a track.
type TrackEventKind int

// The track event kinds.
const (
	TrackEnter TrackEventKind = iota // a position inside a zone the previous one was not in
	TrackLeave                       // a position outside a zone the previous one was in
	TrackDwell                       // in a zone continuously for longer than the dwell time
	TrackDark                        // silent for longer than the dark gap, last seen inside a zone
)

var trackEventNames = []string{"enter", "leave", "dwell", "dark"}

func (k TrackEventKind) String() string {
	if k >= 0 && int(k) < len(trackEventNames) {
		return trackEventNames[k]
	}
	return fmt.Sprintf("TrackEventKind(%d)", int(k))
}

// MarshalText writes the kind's name.
func (k TrackEventKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// ParseTrackEventKind parses a track event kind's name.
func ParseTrackEventKind(s string) (TrackEventKind, error) {
	if i := slices.Index(trackEventNames, s); i >= 0 {
		return TrackEventKind(i), nil
	}
	return 0, fmt.Errorf("unknown track event %q (want enter, leave, dwell or dark)", s)
}

// TrackEvent is one event of a track.
type TrackEvent struct {
	Seq   int64          `json:"seq"`   // 1 for the first track event of the log
	Index int64          `json:"index"` // the entry that revealed it
	Track string         `json:"track"` // "mmsi:…" or "icao:…"
	Kind  TrackEventKind `json:"kind"`
	Zone  string         `json:"zone"`
	// At is the observed time of the position that shows it; for dark, the last position.
	At       time.Time  `json:"at"`
	Position [2]float64 `json:"position"` // [lon, lat] of that position
	// Incident is the incident the track's position belongs to, when the zone is one of
	// its zones; dwell and dark events are then part of its evidence.
	Incident int64  `json:"incident,omitempty"`
	Detail   string `json:"detail"`
}

// TrackCounts counts every track event of the log, by kind.
type TrackCounts struct {
	Enter int64 `json:"enter"`
	Leave int64 `json:"leave"`
	Dwell int64 `json:"dwell"`
	Dark  int64 `json:"dark"`
}

// Track is the read-only view of one track.
type Track struct {
	Track    string     `json:"track"`
	Last     time.Time  `json:"last"` // the observed time of its latest position
	Position [2]float64 `json:"position"`
	Index    int64      `json:"index"`              // the entry of its latest position
	Zones    []string   `json:"zones"`              // the zones of its latest position
	Dark     bool       `json:"dark"`               // flagged dark and not heard since
	Incident int64      `json:"incident,omitempty"` // the incident of its latest position
}

// trackState is a track as the engine keeps it.
type trackState struct {
	key      string
	last     time.Time // the observed time of the latest position
	heard    time.Time // the log's time when it was applied
	pt       geo.Point
	index    int64
	zones    []string    // the area zones of the latest position, in agreement order
	entered  []time.Time // per zone: the observed time of the first position of this stay
	dwelt    []bool      // per zone: a dwell event was given for this stay
	dark     bool
	queued   bool // a dark deadline is queued
	incident int64
}

// areaZones drops the line zones: a track is never inside a line.
func (e *Engine) areaZones(zs []string) []string {
	var out []string
	for _, z := range zs {
		if az, ok := e.a.Zone(z); ok && az.Kind != agreement.ZoneLine {
			out = append(out, z)
		}
	}
	return out
}

// trackPosition moves the track of r on and records its events. inc is the incident r
// joined or opened, or 0.
func (e *Engine) trackPosition(index int64, r *obsRec, inc int64) {
	if r.track == "" || r.absent {
		return
	}
	t := e.tracks[r.track]
	zones := e.areaZones(r.zones)
	first := t == nil
	if first {
		t = &trackState{key: r.track}
		e.tracks[r.track] = t
		e.trackKeys = append(e.trackKeys, r.track)
	} else if r.o.Observed.Before(t.last) {
		return // an older position: it counts for the rules, not for the track's course
	}
	pos := [2]float64{r.pt.Lon, r.pt.Lat}
	at := r.o.Observed
	ev := func(k TrackEventKind, zone, detail string) {
		te := TrackEvent{Index: index, Track: t.key, Kind: k, Zone: zone, At: at, Position: pos, Detail: detail}
		if inc != 0 && slices.Contains(r.zones, zone) {
			te.Incident = inc
		}
		e.trackEvent(te)
	}
	if t.dark {
		for _, z := range t.zones {
			if slices.Contains(zones, z) {
				ev(TrackEnter, z, fmt.Sprintf("heard again in zone %s after going dark, silent since %s", z, t.last.Format(time.RFC3339)))
			}
		}
	}
	var entered []time.Time
	var dwelt []bool
	for _, z := range t.zones {
		if !slices.Contains(zones, z) {
			ev(TrackLeave, z, fmt.Sprintf("left zone %s: previous position at %s was inside", z, t.last.Format(time.RFC3339)))
		}
	}
	for _, z := range zones {
		i := slices.Index(t.zones, z)
		if i < 0 || t.dark {
			// A stay starts here; a track heard again after going dark starts a new one.
			if i < 0 {
				why := fmt.Sprintf("entered zone %s: previous position at %s was outside", z, t.last.Format(time.RFC3339))
				if first {
					why = fmt.Sprintf("first position of the track, inside zone %s", z)
				}
				ev(TrackEnter, z, why)
			}
			entered, dwelt = append(entered, at), append(dwelt, false)
			continue
		}
		since, done := t.entered[i], t.dwelt[i]
		if !done && at.Sub(since) > e.opts.Dwell {
			done = true
			ev(TrackDwell, z, fmt.Sprintf("in zone %s continuously since %s: %s, more than the dwell time %s", z, since.Format(time.RFC3339), at.Sub(since), e.opts.Dwell))
		}
		entered, dwelt = append(entered, since), append(dwelt, done)
	}
	t.last, t.heard, t.pt, t.index, t.zones, t.entered, t.dwelt, t.dark, t.incident = at, e.now, r.pt, index, zones, entered, dwelt, false, inc
	if len(zones) > 0 && !t.queued {
		t.queued = true
		e.due.add(deadline{at: t.darkDue(e.opts.DarkGap), kind: dueDark, track: t, stamp: index})
	}
}

// darkDue is when t goes dark without a later position: the gap after its latest position,
// counted from when the log heard of it if later (a backlog of old positions, replayed in
// a burst, is not dark between two of its entries).
func (t *trackState) darkDue(gap time.Duration) time.Time {
	if t.heard.After(t.last) {
		return t.heard.Add(gap)
	}
	return t.last.Add(gap)
}

// darkTrack flags t dark when its position at stamp is still its latest; else it waits
// for the latest. A track has at most one deadline queued.
func (e *Engine) darkTrack(index int64, t *trackState, stamp int64) {
	t.queued = false
	if t.dark || len(t.zones) == 0 {
		return
	}
	// A later position came since stamp: wait for the latest, unless it is overdue too.
	if due := t.darkDue(e.opts.DarkGap); t.index != stamp && !e.now.After(due) {
		t.queued = true
		e.due.add(deadline{at: due, kind: dueDark, track: t, stamp: t.index})
		return
	}
	t.dark = true
	inc := e.liveIncident(t.incident)
	for _, z := range t.zones {
		te := TrackEvent{Index: index, Track: t.key, Kind: TrackDark, Zone: z, At: t.last, Position: [2]float64{t.pt.Lon, t.pt.Lat},
			Detail: fmt.Sprintf("transponder silent in zone %s: last position at %s (received %s), none for more than %s (log time %s)", z, t.last.Format(time.RFC3339), t.heard.Format(time.RFC3339), e.opts.DarkGap, e.now.Format(time.RFC3339))}
		if inc != nil && slices.Contains(inc.view.Zones, z) {
			te.Incident = inc.id
		}
		e.trackEvent(te)
	}
}

// liveIncident follows merges from incident id and returns it unless dismissed.
func (e *Engine) liveIncident(id int64) *incident {
	for id > 0 && id <= int64(len(e.incidents)) {
		inc := e.incidents[id-1]
		if inc.mergedInto == 0 {
			if inc.dismissed {
				return nil
			}
			return inc
		}
		id = inc.mergedInto
	}
	return nil
}

// keptTrackEvents are the newest [Options.TrackEventsKept] track events.
func (e *Engine) keptTrackEvents() []TrackEvent {
	return e.trackEvents[max(0, len(e.trackEvents)-e.opts.TrackEventsKept):]
}

// trackEvent records an event, and files dwell and dark events with their incident.
func (e *Engine) trackEvent(te TrackEvent) {
	e.trackSeq++
	te.Seq = e.trackSeq
	switch te.Kind {
	case TrackEnter:
		e.trackCounts.Enter++
	case TrackLeave:
		e.trackCounts.Leave++
	case TrackDwell:
		e.trackCounts.Dwell++
	case TrackDark:
		e.trackCounts.Dark++
	}
	// Up to twice as many as kept are held, then the older half dropped at once: dropping
	// the oldest at every event moved all the kept ones (see keptTrackEvents).
	if len(e.trackEvents) >= 2*e.opts.TrackEventsKept {
		n := copy(e.trackEvents, e.keptTrackEvents())
		clear(e.trackEvents[n:])
		e.trackEvents = e.trackEvents[:n]
	}
	e.trackEvents = append(e.trackEvents, te)
	if te.Incident != 0 && (te.Kind == TrackDwell || te.Kind == TrackDark) {
		if inc := e.liveIncident(te.Incident); inc != nil {
			inc.trackEvents = append(inc.trackEvents, te)
			e.touch(inc.id)
		}
	}
}
