package engine

import (
	"slices"
	"sort"
	"strconv"
	"time"
)

// This file keeps the engine's work per entry from growing with the log's length: prior
// notifications are indexed by party and time, and incidents by the days their
// observations span, so that a notification is weighed only against the incidents near its
// window and an incident only against the notifications near its observations (before,
// every notification re-evaluated every incident of its party, and every evaluation weighed
// every notification ever received: quadratic in the log). The fusion grid and the track
// index are keyed by fusion window too (engine.go: cellSlots, trackSlot), an evaluation
// weighs only what changed since the last (tally.go), and the evidence is written only
// when read (explainEvidence). See BENCHMARKS.md, "Verification engine (issue 5)".

// day is a day bucket: days since the Unix epoch.
func day(t time.Time) int64 {
	s := t.Unix()
	if s < 0 {
		return (s+1)/86400 - 1
	}
	return s / 86400
}

// partyNotes are one party's notifications, sorted by the start of their window (then by
// ledger index), with the longest window, so that those overlapping a time span are found
// by binary search; and in the order accepted, so that an incident weighed before finds
// the notifications accepted since (weighNotes).
type partyNotes struct {
	byFrom   []*notification
	arrivals []*notification
	longest  time.Duration
}

// noteIndex holds the notifications by party.
type noteIndex map[string]*partyNotes

func (x noteIndex) add(n *notification) {
	pn := x[n.p.Party]
	if pn == nil {
		pn = &partyNotes{}
		x[n.p.Party] = pn
	}
	i := sort.Search(len(pn.byFrom), func(i int) bool { return n.before(pn.byFrom[i]) })
	pn.byFrom = slices.Insert(pn.byFrom, i, n)
	n.seq = len(pn.arrivals)
	pn.arrivals = append(pn.arrivals, n)
	pn.longest = max(pn.longest, n.p.Until.Sub(n.p.From))
}

// scan appends to dst the notifications whose window starts in [from, to) and that keep
// accepts, by the start of their window, then ledger order.
func (pn *partyNotes) scan(dst []*notification, from, to time.Time, keep func(*notification) bool) []*notification {
	i := sort.Search(len(pn.byFrom), func(i int) bool { return !pn.byFrom[i].p.From.Before(from) })
	for ; i < len(pn.byFrom) && pn.byFrom[i].p.From.Before(to); i++ {
		if n := pn.byFrom[i]; keep(n) {
			dst = append(dst, n)
		}
	}
	return dst
}

// before is the order of partyNotes.byFrom: by the start of the window, then ledger order.
func (n *notification) before(o *notification) bool {
	return n.p.From.Before(o.p.From) || (n.p.From.Equal(o.p.From) && n.index < o.index)
}

// overlaps reports whether the notification's window overlaps (lo, hi).
func (n *notification) overlaps(lo, hi time.Time) bool {
	return n.p.From.Before(hi) && n.p.Until.After(lo)
}

// nearNotification reports whether a notification's window overlaps (first-w, last+w):
// only then is it weighed against an incident observed from first to last.
func nearNotification(n *notification, first, last time.Time, w time.Duration) bool {
	return n.overlaps(first.Add(-w), last.Add(w))
}

// span records that inc's supporting observations run from first to last: the incident is
// filed under each day of (first-w, last+w) not yet filed.
func (e *Engine) span(inc *incident, first, last time.Time) {
	if e.days == nil {
		e.days = map[int64][]int64{}
	}
	w := e.opts.FuseWindow
	lo, hi := day(first.Add(-w)), day(last.Add(w))
	if !inc.daysSet {
		inc.dayLo, inc.dayHi, inc.daysSet = lo, lo-1, true
	}
	for d := lo; d < inc.dayLo; d++ {
		e.days[d] = append(e.days[d], inc.id)
	}
	for d := max(inc.dayHi+1, lo); d <= hi; d++ {
		e.days[d] = append(e.days[d], inc.id)
	}
	inc.dayLo, inc.dayHi = min(inc.dayLo, lo), max(inc.dayHi, hi)
}

// touchNear touches the open incidents of n's party that n may explain or be listed by.
func (e *Engine) touchNear(n *notification) {
	for d := day(n.p.From); d <= day(n.p.Until); d++ {
		for _, id := range e.days[d] {
			inc := e.incidents[id-1]
			if inc.mergedInto == 0 && inc.view.Party == n.p.Party && nearNotification(n, inc.view.First, inc.view.Last, e.opts.FuseWindow) {
				e.touch(id)
			}
		}
	}
}

// describe says who saw what and when, for the evidence of the incident r belongs to.
func (r *obsRec) describe() string {
	at := r.o.Observed.Format(time.RFC3339)
	who := r.role.String() + ", " + partyOr(r.subParty)
	if r.absent {
		return "reports none at " + at + " by " + r.o.Source.String() + " (" + who + ")"
	}
	return r.o.Source.String() + " (" + who + ") at " + at
}

// explainEvidence appends to the explanation a line for each piece of evidence:
// "#INDEX KIND "ID" by SUBMITTER: COUNTED: WHY", or "#INDEX track ID: WHY". (Appends, not
// fmt: an incident's view is made at each of its changes.)
func explainEvidence(lines []string, ev []Evidence) []string {
	var b []byte
	for _, x := range ev {
		b = append(b[:0], '#')
		b = strconv.AppendInt(b, x.Index, 10)
		b = append(b, ' ')
		if x.Kind == "track" {
			b = append(b, "track "...)
			b = append(b, x.ID...)
		} else {
			b = append(b, x.Kind...)
			b = append(b, ' ')
			if x.ID == "" {
				b = append(b, '-')
			} else {
				b = strconv.AppendQuote(b, x.ID)
			}
			b = append(b, " by "...)
			b = append(b, x.Submitter...)
			b = append(b, ": "...)
			b = append(b, x.Counted...)
		}
		b = append(b, ": "...)
		b = append(b, x.Why...)
		lines = append(lines, string(b))
	}
	return lines
}

// rootOf numbers the family of a category: two categories are related (one covers the
// other) only when they have the same root, so the fusion grid files each family apart.
// Numbers are given in order of first use; a category the agreement does not declare is its
// own family.
func (e *Engine) rootOf(category string) int32 {
	if n, ok := e.roots[category]; ok {
		return n
	}
	root := category
	for seen := 0; seen < 64; seen++ { // the agreement's validation forbids cycles; bound it anyway
		c, ok := e.a.Category(root)
		if !ok || c.Parent == "" {
			break
		}
		root = c.Parent
	}
	if e.roots == nil {
		e.roots = map[string]int32{}
	}
	n, ok := e.roots["\x00"+root]
	if !ok {
		n = int32(len(e.roots))
		e.roots["\x00"+root] = n
	}
	e.roots[category] = n
	return n
}

// trackSlot files incidents by track and fusion window, so that a report of a long-lived
// track looks only at the incidents of its track near its time, not at every voyage.
type trackSlot struct {
	track string
	t     int32
}

// leadTimeOf is leadTime, remembered: a function of the agreement alone, asked for every
// observation of an incident each time a notification is weighed against it.
func (e *Engine) leadTimeOf(party, category string) time.Duration {
	k := [2]string{party, category}
	if d, ok := e.leads[k]; ok {
		return d
	}
	if e.leads == nil {
		e.leads = map[[2]string]time.Duration{}
	}
	d := e.leadTime(party, category)
	e.leads[k] = d
	return d
}
