package engine

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/ingest"
)

// This file evaluates incidents incrementally. Each incident keeps a tally of its
// observations: the running sums its verdict and certainty depend on (per-submitter
// counts, per rule and overall; the independent submitters and sensor kinds; first and
// last times; zones) and, per nearby notification, how far its observations were checked
// and the first that keeps it from covering. An evaluation adds only the observations
// added since the last one, so that its cost does not grow with the incident (before, every
// added observation re-evaluated its whole incident: see BENCHMARKS.md, "Verification
// engine (issue 5)"). The evidence and explanation are written when the incident is read
// (Engine.view). A merge or split, which removes or reorders observations, starts the
// incident's tally again.

// tally is an incident's running evaluation, over inc.obs[:n]. It changes only in
// evaluate, so between entries it always matches the incident's view.
type tally struct {
	n   int
	gen int64 // bumped whenever the observations counted change: see signature

	support       int     // supporting observations (counter-evidence aside)
	first         *obsRec // the first supporting observation
	party         string  // the first party of a supporting observation
	firstT, lastT time.Time
	zones         []string           // sorted
	cats          []int32            // the agreement's categories among them (categoryOf)
	subs          sums               // counts per submitter
	tracked       map[trackCount]int // the largest count of each source's track, overall (rule -1) and per rule
	count         int                // the largest one-source total
	rules         []ruleTally

	// Certainty.
	own           bool    // a mission monitor's own ground observation
	score         float64 // of the independent submitters
	interested    bool    // an interested source supports it
	indepSubs     []string
	kinds         []ingest.SourceKind
	latestIndep   time.Time // of the independent supporting observations
	against       bool      // counter-evidence from a source that is not interested
	latestAgainst time.Time // its latest observed time

	// Notifications (weighNotes): every one near the observations as last weighed, over
	// (wLo, wHi), among the first seen of the party's: notes are those related to the
	// categories (of which there were nCats), open those of them that may yet cover (by
	// index in notes); unrelated the others, kept for a new category.
	notes     []noteTally
	open      []int32
	unrelated []*notification
	nCats     int
	weighed   bool
	wLo, wHi  time.Time
	seen      int
}

// trackCount names one source's reports of one track (a ship or an aircraft), overall
// (rule -1) or for one rule.
type trackCount struct {
	rule             int
	submitter, track string
}

// countOf is what r adds to its source's total (overall, rule -1, or for a rule): its count;
// but the reports of one track are the same vessel or aircraft seen again, so a track adds
// its largest count once, not each report's.
func (t *tally) countOf(rule int, r *obsRec) int {
	c := r.count()
	if r.track == "" {
		return c
	}
	k := trackCount{rule, r.submitter, r.track}
	prev, seen := t.tracked[k]
	if seen && prev >= c {
		return 0
	}
	if t.tracked == nil {
		t.tracked = map[trackCount]int{}
	}
	t.tracked[k] = c
	return c - prev
}

// reset starts the tally again, for observations removed or reordered.
func (t *tally) reset() { *t = tally{gen: t.gen + 1} }

// forgetNotes drops the notifications weighed, for another party.
func (t *tally) forgetNotes() { t.notes, t.open, t.unrelated, t.weighed = nil, nil, nil, false }

// sums are counts summed per submitter; a few submitters at most, so a slice.
type sums []subSum

type subSum struct {
	submitter string
	sum       int
}

// add adds c to submitter's sum and returns the new sum.
func (s *sums) add(submitter string, c int) int {
	for i := range *s {
		if (*s)[i].submitter == submitter {
			(*s)[i].sum += c
			return (*s)[i].sum
		}
	}
	*s = append(*s, subSum{submitter, c})
	return c
}

// ruleTally is what the supporting observations matching one rule add up to.
type ruleTally struct {
	rule  int // in the agreement's rules
	subs  sums
	count int     // the largest one-source total
	dist  float64 // the least stand-off distance, -1 before any match
}

// add counts r, the next observation of inc.
func (t *tally) add(e *Engine, r *obsRec) {
	t.n++
	t.gen++
	if r.absent {
		if !r.interested && (!t.against || r.o.Observed.After(t.latestAgainst)) {
			t.against, t.latestAgainst = true, r.o.Observed
		}
		return
	}
	at := r.o.Observed
	if t.support == 0 {
		t.first, t.firstT, t.lastT = r, at, at
	}
	t.support++
	if t.party == "" && r.party != "" {
		t.party = r.party
		t.forgetNotes() // weighed for no party: none, but stay safe
	}
	if at.Before(t.firstT) {
		t.firstT = at
	}
	if at.After(t.lastT) {
		t.lastT = at
	}
	for _, z := range r.zones {
		if i, found := slices.BinarySearch(t.zones, z); !found {
			t.zones = slices.Insert(t.zones, i, z)
		}
	}
	if r.cat >= 0 && !slices.Contains(t.cats, r.cat) {
		t.cats = append(t.cats, r.cat)
	}
	t.count = max(t.count, t.subs.add(r.submitter, t.countOf(-1, r)))
	for _, m := range r.matches {
		i, ok := e.ruleAt[m.rule]
		if !ok {
			continue
		}
		j := slices.IndexFunc(t.rules, func(rt ruleTally) bool { return rt.rule == i })
		if j < 0 {
			j = len(t.rules)
			t.rules = append(t.rules, ruleTally{rule: i, dist: -1})
		}
		rt := &t.rules[j]
		rt.count = max(rt.count, rt.subs.add(r.submitter, t.countOf(i, r)))
		if rt.dist < 0 || m.distanceM < rt.dist {
			rt.dist = m.distanceM
		}
	}

	// Certainty: how r weighs depends only on the observations before it.
	if r.role == agreement.RoleMonitor && r.o.Source == ingest.SourceGroundMonitor {
		t.own = true
	}
	r.why = whyAlone
	switch {
	case r.interested:
		t.interested = true
	case slices.Contains(t.indepSubs, r.submitter):
		r.why = whySameSubmitter
	case slices.Contains(t.kinds, r.o.Source):
		t.indepSubs = append(t.indepSubs, r.submitter)
		t.score += 0.5
		r.why = whySameKind
	default:
		t.indepSubs = append(t.indepSubs, r.submitter)
		t.kinds = append(t.kinds, r.o.Source)
		t.score++
	}
	r.whyText = r.supportWhy(r.why)
	if !r.interested && at.After(t.latestIndep) {
		t.latestIndep = at
	}
}

// numberRules numbers the agreement's rules by position, a rule listed twice by its
// first, for the tallies: ruleAt by rule, ruleFirst by position.
func (e *Engine) numberRules() {
	e.ruleAt = make(map[*agreement.Rule]int, len(e.a.Rules))
	e.ruleFirst = make([]int, len(e.a.Rules))
	for i, ar := range e.a.Rules {
		if _, ok := e.ruleAt[ar]; !ok {
			e.ruleAt[ar] = i
		}
		e.ruleFirst[i] = e.ruleAt[ar]
	}
}

// numberCategories numbers the agreement's categories and tabulates CategoryCovers
// between them: weighing notifications asks it for every pair of notification and
// observation.
func (e *Engine) numberCategories() {
	cats := e.a.Categories
	e.catAt = make(map[string]int32, len(cats))
	e.catCovers = make([]bool, len(cats)*len(cats))
	for i, a := range cats {
		e.catAt[a.ID] = int32(i)
		for j, b := range cats {
			e.catCovers[i*len(cats)+j] = e.a.CategoryCovers(a.ID, b.ID)
		}
	}
}

// categoryOf is the number of a category of the agreement, else -1.
func (e *Engine) categoryOf(id string) int32 {
	if i, ok := e.catAt[id]; ok {
		return i
	}
	return -1
}

// categoryCovers is CategoryCovers of two categories of the agreement, by number. A
// category the agreement does not declare (-1) covers and is covered by itself alone,
// which no declared category is.
func (e *Engine) categoryCovers(rule, obs int32) bool {
	return rule >= 0 && obs >= 0 && e.catCovers[int(rule)*len(e.a.Categories)+int(obs)]
}

// certainty weighs the tallied observations; why is written only when asked for.
func (inc *incident) certaintyOf(withWhy bool) (cert agreement.Certainty, why string) {
	t := &inc.tally
	score := t.score
	if t.interested {
		score += 0.5 // interested submitters together
	}
	switch {
	case t.own:
		cert, why = agreement.CertaintyObserved, "seen by a mission monitor on the ground"
	case score >= 1.5:
		cert = agreement.CertaintyLikely
		if withWhy {
			why = fmt.Sprintf("corroborated by %d independent submitter(s) (%s)", len(t.indepSubs), strings.Join(t.indepSubs, ", "))
		}
	case t.support > 0:
		cert, why = agreement.CertaintyPossible, "a single or interested source, not independently corroborated"
	default:
		cert, why = agreement.CertaintyUnknown, "no supporting observation"
	}
	// Counter-evidence from a source that is not interested, no older than the latest
	// independent sighting, disputes all but the mission's own sighting.
	if !t.own && t.against && !t.latestAgainst.Before(t.latestIndep) {
		cert, why = agreement.CertaintyUnlikely, "disputed by counter-evidence from a source that is not interested"
	}
	if inc.setCert != nil {
		if withWhy {
			why = fmt.Sprintf("set by the analyst review at #%d (evidence alone: %s)", inc.setCertAt, why)
		}
		cert = *inc.setCert
	}
	return cert, why
}

// againstCase is how counter-evidence r weighs in inc (see againstWhy).
func (inc *incident) againstCase(r *obsRec) int {
	switch {
	case r.interested:
		return 0
	case inc.tally.own:
		return 1
	case r.o.Observed.Before(inc.tally.latestIndep):
		return 2
	}
	return 3
}

// noteFail is why a notification does not cover an incident.
type noteFail uint8

const (
	noteCovers   noteFail = iota // nothing found against it yet
	noteCategory                 // an observation of a category it does not cover
	noteWindow                   // an observation outside its window
	noteArea                     // an observation outside its area
	noteLate                     // received later than the lead time before its window
	noteCount                    // the incident's count exceeds the notified count
	noteExplains                 // it explains the incident's breached rules
)

// noteTally is how a related notification weighs against an incident's observations (a
// supporting observation's category covers or is covered by its category: only then is it
// listed). An incident may keep hundreds: it is kept small.
type noteTally struct {
	n       *notification
	obs     *obsRec       // the first observation that keeps it from covering
	lead    time.Duration // noteLate: the lead time asked
	scanned int32         // inc.obs[:scanned] were checked
	fail    noteFail
}

// relates reports whether one of the incident's categories is related to the
// notification's (always one of the agreement's).
func (e *Engine) relates(t *tally, n *notification) bool {
	for _, c := range t.cats {
		if e.categoryCovers(n.cat, c) || e.categoryCovers(c, n.cat) {
			return true
		}
	}
	return false
}

// check checks the observations not checked yet, for an incident of party, until one
// keeps the notification from covering: the first such observation, and its first
// failing check, is the reason given.
func (nt *noteTally) check(e *Engine, obs []*obsRec, party string) {
	n := nt.n
	for nt.fail == noteCovers && int(nt.scanned) < len(obs) {
		r := obs[nt.scanned]
		nt.scanned++
		if r.absent {
			continue
		}
		lead := e.leadTimeOf(party, r.o.Category)
		switch {
		case !e.categoryCovers(n.cat, r.cat):
			nt.fail = noteCategory
		case r.o.Observed.Before(n.p.From) || !r.o.Observed.Before(n.p.Until):
			nt.fail = noteWindow
		case !n.inArea(r):
			nt.fail = noteArea
		case n.received.Add(lead).After(n.p.From):
			nt.fail, nt.lead = noteLate, lead
		default:
			continue
		}
		nt.obs = r
	}
}

// relate weighs n against the incident from now on.
func (t *tally) relate(n *notification) {
	t.open = append(t.open, int32(len(t.notes)))
	t.notes = append(t.notes, noteTally{n: n})
}

// minArrivals is how many notifications of the party accepted since an incident was last
// weighed are always looked at one by one; beyond, and beyond as many as were near it
// (an incident of many days, weighed again after a while), all those near it are looked
// at again.
const minArrivals = 128

// weighNotes weighs the notifications near inc's observations against it: it adds those
// not weighed yet (accepted since, or near the observations' wider span), checks the
// observations added since against those that may yet cover, and marks in v the rules
// the first that covers (in ledger order) explains. The first covers every breached rule,
// leaving nothing to the others: they are not listed (see noteEvidence).
func (e *Engine) weighNotes(inc *incident, v *Incident) {
	t := &inc.tally
	pn := e.notes[t.party]
	if pn == nil {
		return
	}
	w := e.opts.FuseWindow
	lo, hi := t.firstT.Add(-w), t.lastT.Add(w)
	// The span only grows: those weighed before stay near.
	fresh := func(n *notification) bool {
		return n.overlaps(lo, hi) && !(t.weighed && n.seq < t.seen && n.overlaps(t.wLo, t.wHi))
	}
	buf := e.nearBuf[:0]
	if arrived := len(pn.arrivals) - t.seen; !t.weighed || arrived > max(minArrivals, len(t.notes)+len(t.unrelated)) {
		buf = pn.scan(buf, lo.Add(-pn.longest), hi, fresh)
	} else {
		// A notification known before that is near now but was not then ends before the
		// old span or starts after it; one accepted since is among the arrivals.
		known := func(n *notification) bool { return n.seq < t.seen && fresh(n) }
		if lo.Before(t.wLo) {
			buf = pn.scan(buf, lo.Add(-pn.longest), t.wLo, known)
		}
		if hi.After(t.wHi) {
			buf = pn.scan(buf, t.wHi, hi, known)
		}
		for _, n := range pn.arrivals[t.seen:] {
			if fresh(n) {
				buf = append(buf, n)
			}
		}
	}
	t.weighed, t.wLo, t.wHi, t.seen = true, lo, hi, len(pn.arrivals)

	// New categories may relate notifications that were not.
	if len(t.cats) != t.nCats {
		t.nCats = len(t.cats)
		k := 0
		for _, n := range t.unrelated {
			if e.relates(t, n) {
				t.relate(n)
				continue
			}
			t.unrelated[k] = n
			k++
		}
		clear(t.unrelated[k:])
		t.unrelated = t.unrelated[:k]
	}
	for _, n := range buf {
		if e.relates(t, n) {
			t.relate(n)
		} else {
			t.unrelated = append(t.unrelated, n)
		}
	}
	clear(buf) // hold no notifications for the collector
	e.nearBuf = buf[:0]

	var covering *notification
	k := 0
	for _, i := range t.open {
		nt := &t.notes[i]
		nt.check(e, inc.obs, t.party)
		if nt.fail != noteCovers {
			continue // settled: listed, covers nothing
		}
		t.open[k] = i
		k++
		if v.Count <= nt.n.p.Count && (covering == nil || nt.n.index < covering.index) {
			covering = nt.n
		}
	}
	t.open = t.open[:k]
	if covering != nil {
		coverRules(v.Rules, covering.index)
	}
}

// noteEvidence appends the notifications v lists, as weighed: those related to its
// observations that do not cover it, with why, and the one that explains it.
func (inc *incident) noteEvidence(ev []Evidence, v *Incident) []Evidence {
	explains := int64(-1)
	for _, rm := range v.Rules {
		if rm.CoveredBy >= 0 {
			explains = rm.CoveredBy
			break
		}
	}
	for i := range inc.tally.notes {
		nt := &inc.tally.notes[i]
		fail := nt.fail
		switch {
		case fail != noteCovers:
		case v.Count > nt.n.p.Count:
			fail = noteCount
		case nt.n.index == explains:
			fail = noteExplains
		default:
			continue
		}
		c := CountedNone
		if fail == noteExplains {
			c = CountedExplain
		}
		ev = append(ev, Evidence{Index: nt.n.index, Kind: "notification", ID: nt.n.p.ID, Submitter: nt.n.submitter, Counted: c, Why: nt.why(fail, v.Count)})
	}
	return ev
}

// coverRules marks the breached rules not covered yet as covered by the notification at
// index, and reports whether there was any.
func coverRules(rules []RuleMatch, index int64) bool {
	marked := false
	for i := range rules {
		if rules[i].Breached && rules[i].CoveredBy < 0 {
			rules[i].CoveredBy = index
			marked = true
		}
	}
	return marked
}

// why says why the notification counts as it does (fail), for an incident of the given
// count.
func (nt *noteTally) why(fail noteFail, count int) string {
	desc, n, r := nt.n.desc(), nt.n, nt.obs
	switch fail {
	case noteCategory:
		return fmt.Sprintf("notified %s; does not cover observation %q of category %s", desc, r.o.ID, r.o.Category)
	case noteWindow:
		return fmt.Sprintf("notified %s; observation %q at %s is outside the window", desc, r.o.ID, r.o.Observed.Format(time.RFC3339))
	case noteArea:
		return fmt.Sprintf("notified %s; observation %q is outside the notified area", desc, r.o.ID)
	case noteLate:
		return fmt.Sprintf("notified %s; late: received %s, %s before the window, lead time %s", desc, n.received.Format(time.RFC3339), n.p.From.Sub(n.received), nt.lead)
	case noteCount:
		return fmt.Sprintf("notified %s; %d observed exceed the %d notified", desc, count, n.p.Count)
	}
	return "notified " + desc + " in time: explains the activity"
}
