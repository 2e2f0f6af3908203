package engine

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/ingest"
)

// Verdict is what an incident amounts to.
type Verdict int

// The verdicts. Only [VerdictInfraction] is a finding.
const (
	VerdictInfraction  Verdict = iota // breaks a rule: a finding
	VerdictWithinLimit                // only ceilings, none exceeded
	VerdictNotified                   // explained by a covering prior notification
	VerdictDismissed                  // dismissed by an analyst's review
	VerdictMerged                     // merged into another incident by an analyst's review
)

var verdictNames = []string{"infraction", "within-limit", "notified", "dismissed", "merged"}

func (v Verdict) String() string {
	if v >= 0 && int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// MarshalText writes the verdict's name.
func (v Verdict) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText reads a verdict's name, so that clients can decode the API's incidents.
func (v *Verdict) UnmarshalText(b []byte) error {
	p, err := ParseVerdict(string(b))
	if err != nil {
		return err
	}
	*v = p
	return nil
}

// ParseVerdict parses a verdict's name.
func ParseVerdict(s string) (Verdict, error) {
	if i := slices.Index(verdictNames, s); i >= 0 {
		return Verdict(i), nil
	}
	return 0, fmt.Errorf("unknown verdict %q (want one of %s)", s, strings.Join(verdictNames, ", "))
}

// Incident is the read-only view of one incident.
type Incident struct {
	ID        int64               `json:"id"`
	Version   int                 `json:"version"` // the number of changes reported for it
	Verdict   Verdict             `json:"verdict"`
	Certainty agreement.Certainty `json:"certainty"`
	Category  string              `json:"category"`
	Party     string              `json:"party"`
	Track     string              `json:"track,omitempty"`
	// Position is the [lon, lat] of the first supporting observation.
	Position [2]float64  `json:"position"`
	Zones    []string    `json:"zones"` // the zones of the supporting observations, sorted
	Count    int         `json:"count"` // the largest one-source total
	Rules    []RuleMatch `json:"rules"`
	Evidence []Evidence  `json:"evidence"`
	// Explanation is the verdict in sentences: the rules, the certainty and why.
	Explanation []string  `json:"explanation"`
	First       time.Time `json:"first"` // the earliest observed time of its supporting observations
	Last        time.Time `json:"last"`
	Opened      time.Time `json:"opened"` // the log's time when it was opened
	ReviewDue   time.Time `json:"review_due"`
	Review      *Review   `json:"review,omitempty"`
	MergedInto  int64     `json:"merged_into,omitempty"`
}

// RuleMatch is one rule an incident's observations touch.
type RuleMatch struct {
	Rule      string  `json:"rule"`
	Kind      string  `json:"kind"`
	Class     string  `json:"class"`
	Zone      string  `json:"zone,omitempty"` // prohibit, ceiling, confine
	Line      string  `json:"line,omitempty"` // stand-off
	DistanceM float64 `json:"distance_m,omitempty"`
	Count     int     `json:"count,omitempty"`
	Max       int     `json:"max,omitempty"`
	Breached  bool    `json:"breached"`
	// CoveredBy is the ledger index of the notification that explains it, or -1.
	CoveredBy int64 `json:"covered_by"`
}

// Counted says how a piece of evidence weighed.
type Counted string

// The ways evidence counts.
const (
	CountedFor     Counted = "for"
	CountedAgainst Counted = "against"
	CountedExplain Counted = "explains"
	CountedNone    Counted = "none"
)

// Evidence is one entry behind a verdict and why it counted.
type Evidence struct {
	Index     int64   `json:"index"`
	Kind      string  `json:"kind"` // observation, notification, review, track
	ID        string  `json:"id,omitempty"`
	Submitter string  `json:"submitter"`
	Counted   Counted `json:"counted"`
	Why       string  `json:"why"`
}

// Review is the analyst review that completed an incident's review.
type Review struct {
	Index   int64  `json:"index"`
	Analyst string `json:"analyst"`
	Action  string `json:"action"`
	Note    string `json:"note,omitempty"`
}

// incident is the engine's own record of an incident.
type incident struct {
	id         int64
	obs        []*obsRec // in ledger order
	opened     time.Time
	reviewDue  time.Time
	review     *Review
	setCert    *agreement.Certainty // set by a confirm review
	setCertAt  int64
	mergedInto int64
	dismissed  bool
	merges     []Evidence // merge and split reviews, for the record

	dayLo, dayHi int64 // the days under which it is filed (relevance.go)
	daysSet      bool
	// trackEvents are the dwell and dark events of its tracks in its zones.
	trackEvents []TrackEvent

	version int
	alerted bool   // a change has been reported
	live    bool   // the last change reported it as a finding
	sig     string // what the last change reported

	verdict   Verdict
	certainty agreement.Certainty
	view      Incident
}

// signature is what a change reports: a new one means an update.
func (inc *incident) signature() string {
	b := make([]byte, 0, 64+16*len(inc.view.Evidence)+32*len(inc.view.Rules)+16*len(inc.trackEvents))
	b = append(b, inc.verdict.String()...)
	b = append(b, '|')
	b = append(b, inc.certainty.String()...)
	b = append(b, '|')
	b = strconv.AppendInt(b, int64(inc.view.Count), 10)
	for _, x := range inc.view.Evidence {
		if x.Counted == CountedNone {
			continue // a late notice or a review: the finding itself is unchanged
		}
		b = append(b, '|')
		b = strconv.AppendInt(b, x.Index, 10)
		b = append(b, ':')
		b = append(b, x.Counted...)
	}
	for _, r := range inc.view.Rules {
		b = append(b, '|')
		b = append(b, r.Rule...)
		b = append(b, ':')
		b = strconv.AppendBool(b, r.Breached)
		b = append(b, ':')
		b = strconv.AppendInt(b, r.CoveredBy, 10)
	}
	for _, te := range inc.trackEvents {
		b = append(b, "|track:"...)
		b = strconv.AppendInt(b, int64(te.Seq), 10) // a dwell or a going dark aggravates a finding
	}
	return string(b)
}

// evaluate recomputes the incident's rules, verdict, certainty and explanation.
func (e *Engine) evaluate(inc *incident) {
	v := Incident{ID: inc.id, Opened: inc.opened, ReviewDue: inc.reviewDue, Review: inc.review, MergedInto: inc.mergedInto}
	var support []*obsRec
	for _, r := range inc.obs {
		if !r.absent {
			support = append(support, r)
		}
	}
	for i, r := range support {
		if i == 0 {
			v.Category, v.Position, v.Track = r.o.Category, [2]float64{r.pt.Lon, r.pt.Lat}, r.track
			v.First, v.Last = r.o.Observed, r.o.Observed
		}
		if v.Party == "" {
			v.Party = r.party
		}
		if r.o.Observed.Before(v.First) {
			v.First = r.o.Observed
		}
		if r.o.Observed.After(v.Last) {
			v.Last = r.o.Observed
		}
		for _, z := range r.zones {
			if !slices.Contains(v.Zones, z) { // a few zones at most: a slice beats a map
				v.Zones = append(v.Zones, z)
			}
		}
	}
	slices.Sort(v.Zones)
	v.Count = sourceTotal(support)

	// Rules, in agreement order. The matches are gathered by rule in one pass over the
	// observations, in the order of the observations.
	if e.ruleAt == nil {
		e.ruleAt = make(map[*agreement.Rule]int, len(e.a.Rules))
		for i, ar := range e.a.Rules {
			if _, ok := e.ruleAt[ar]; !ok {
				e.ruleAt[ar] = i
			}
		}
		e.byRule = make([][]*obsRec, len(e.a.Rules))
		e.ruleDist = make([]float64, len(e.a.Rules))
	}
	for i := range e.byRule {
		clear(e.byRule[i])
		e.byRule[i] = e.byRule[i][:0]
		e.ruleDist[i] = -1
	}
	for _, r := range support {
		for _, m := range r.matches {
			if i, ok := e.ruleAt[m.rule]; ok {
				e.byRule[i] = append(e.byRule[i], r)
				if d := e.ruleDist[i]; d < 0 || m.distanceM < d {
					e.ruleDist[i] = m.distanceM
				}
			}
		}
	}
	for i, ar := range e.a.Rules {
		ms := e.byRule[i]
		if j := e.ruleAt[ar]; j != i {
			ms = e.byRule[j] // the same rule listed twice
		}
		dist := -1.0
		if ar.Kind == agreement.RuleStandOff {
			dist = e.ruleDist[e.ruleAt[ar]]
		}
		if len(ms) == 0 {
			continue
		}
		rm := RuleMatch{Rule: ar.ID, Kind: ar.Kind.String(), Class: ar.Class, Zone: ar.Zone, Line: ar.Line, CoveredBy: -1, Count: sourceTotal(ms)}
		if rm.Class == "" {
			rm.Class = ar.ID
		}
		switch ar.Kind {
		case agreement.RuleCeiling:
			rm.Max = ar.Max
			rm.Breached = rm.Count > ar.Max
		case agreement.RuleStandOff:
			rm.DistanceM = dist
			rm.Breached = true
		default:
			rm.Breached = true
		}
		v.Rules = append(v.Rules, rm)
	}

	// Notifications.
	var notes []Evidence
	if len(support) > 0 {
		e.span(inc, v.First, v.Last)
	}
	var near []*notification
	if v.Party != "" && len(support) > 0 {
		near = e.notes.near(nil, v.Party, v.First, v.Last, e.opts.FuseWindow)
	}
	for _, n := range near {
		ok, why := e.covers(n, v.Party, support, &v)
		if why == "" {
			continue
		}
		c := CountedNone
		if ok {
			c = CountedExplain
		}
		notes = append(notes, Evidence{Index: n.index, Kind: "notification", ID: n.p.ID, Submitter: n.submitter, Counted: c, Why: why})
	}

	// Verdict.
	breached, covered := 0, 0
	for _, rm := range v.Rules {
		if rm.Breached {
			breached++
			if rm.CoveredBy >= 0 {
				covered++
			}
		}
	}
	switch {
	case inc.mergedInto != 0:
		v.Verdict = VerdictMerged
	case inc.dismissed:
		v.Verdict = VerdictDismissed
	case breached == 0:
		v.Verdict = VerdictWithinLimit
	case covered == breached:
		v.Verdict = VerdictNotified
	default:
		v.Verdict = VerdictInfraction
	}

	// Certainty and the evidence's weight.
	cert, why, ev := e.certainty(inc, support)
	v.Certainty = cert
	v.Evidence = append(ev, notes...)
	v.Evidence = append(v.Evidence, inc.merges...)
	for _, te := range inc.trackEvents {
		v.Evidence = append(v.Evidence, Evidence{Index: te.Index, Kind: "track", ID: te.Track, Counted: CountedNone, Why: te.Kind.String() + ": " + te.Detail})
	}
	if inc.review != nil {
		v.Evidence = append(v.Evidence, Evidence{Index: inc.review.Index, Kind: "review", Submitter: inc.review.Analyst, Counted: CountedNone, Why: "review: " + inc.review.Action + noteSuffix(inc.review.Note)})
	}
	v.Evidence = sortEvidence(v.Evidence, &e.evBuf)

	// Explanation.
	for _, rm := range v.Rules {
		v.Explanation = append(v.Explanation, e.explainRule(rm, v.Party, v.Category))
	}
	v.Explanation = append(v.Explanation, fmt.Sprintf("verdict %s, certainty %s: %s", v.Verdict, cert, why))
	// The evidence's lines follow, written when the incident is read (cloneIncident): an
	// evaluation per added observation need not format every line again.
	inc.verdict, inc.certainty, inc.view = v.Verdict, cert, v
}

func noteSuffix(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func quoteOr(s string) string {
	if s == "" {
		return "-"
	}
	return fmt.Sprintf("%q", s)
}

// sourceTotal is the largest, over submitters, of one submitter's counts summed.
func sourceTotal(rs []*obsRec) int {
	// A few submitters at most: a slice beats a map, and the sum is linear in rs.
	type total struct {
		submitter string
		sum       int
	}
	var buf [8]total
	ts := buf[:0]
	for _, r := range rs {
		i := slices.IndexFunc(ts, func(t total) bool { return t.submitter == r.submitter })
		if i < 0 {
			ts = append(ts, total{submitter: r.submitter})
			i = len(ts) - 1
		}
		ts[i].sum += r.count()
	}
	best := 0
	for _, t := range ts {
		best = max(best, t.sum)
	}
	return best
}

func (e *Engine) explainRule(rm RuleMatch, party, category string) string {
	who := category
	if party != "" {
		who = category + " of " + party
	}
	state := "breached"
	if !rm.Breached {
		state = "not breached"
	}
	if rm.CoveredBy >= 0 {
		state += ", explained by the notification at #" + fmt.Sprint(rm.CoveredBy)
	}
	switch rm.Kind {
	case "ceiling":
		return fmt.Sprintf("rule %s (ceiling, class %s): %d %s in zone %s, at most %d allowed: %s", rm.Rule, rm.Class, rm.Count, who, rm.Zone, rm.Max, state)
	case "stand-off":
		return fmt.Sprintf("rule %s (stand-off, class %s): %s %.0f m from line %s: %s", rm.Rule, rm.Class, who, rm.DistanceM, rm.Line, state)
	case "confine":
		return fmt.Sprintf("rule %s (confine, class %s): %s outside zone %s: %s", rm.Rule, rm.Class, who, rm.Zone, state)
	}
	return fmt.Sprintf("rule %s (%s, class %s): %s in zone %s: %s", rm.Rule, rm.Kind, rm.Class, who, rm.Zone, state)
}

// certainty weighs the observations of an incident.
func (e *Engine) certainty(inc *incident, support []*obsRec) (agreement.Certainty, string, []Evidence) {
	ev := make([]Evidence, 0, len(inc.obs)+len(inc.merges)+2) // room for the other evidence too
	own := false
	score, interestedScore := 0.0, 0.0
	var indepSubs []string
	var kinds []ingest.SourceKind
	var latestIndep time.Time
	for _, r := range inc.obs {
		if r.absent {
			continue
		}
		if r.role == agreement.RoleMonitor && r.o.Source == ingest.SourceGroundMonitor {
			own = true
		}
		k := whyAlone
		if !r.interested {
			if r.o.Observed.After(latestIndep) {
				latestIndep = r.o.Observed
			}
			if !slices.Contains(indepSubs, r.submitter) {
				indepSubs = append(indepSubs, r.submitter)
				if slices.Contains(kinds, r.o.Source) {
					score += 0.5
					k = whySameKind
				} else {
					score++
					kinds = append(kinds, r.o.Source)
				}
			} else {
				k = whySameSubmitter
			}
		} else {
			interestedScore = 0.5
		}
		why := r.supportWhy(k)
		ev = append(ev, Evidence{Index: r.index, Kind: "observation", ID: r.o.ID, Submitter: r.submitter, Counted: CountedFor, Why: why})
	}
	score += interestedScore

	var cert agreement.Certainty
	var why string
	switch {
	case own:
		cert, why = agreement.CertaintyObserved, "seen by a mission monitor on the ground"
	case score >= 1.5:
		cert, why = agreement.CertaintyLikely, fmt.Sprintf("corroborated by %d independent submitter(s) (%s)", len(indepSubs), strings.Join(indepSubs, ", "))
	case len(support) > 0:
		cert, why = agreement.CertaintyPossible, "a single or interested source, not independently corroborated"
	default:
		cert, why = agreement.CertaintyUnknown, "no supporting observation"
	}
	disputed := false
	for _, r := range inc.obs {
		if !r.absent {
			continue
		}
		var k int
		switch {
		case r.interested:
			k = 0
		case cert == agreement.CertaintyObserved:
			k = 1
		case r.o.Observed.Before(latestIndep):
			k = 2
		default:
			k = 3
			disputed = true
		}
		w := r.againstWhy(k)
		ev = append(ev, Evidence{Index: r.index, Kind: "observation", ID: r.o.ID, Submitter: r.submitter, Counted: CountedAgainst, Why: w})
	}
	if disputed {
		cert, why = agreement.CertaintyUnlikely, "disputed by counter-evidence from a source that is not interested"
	}
	if inc.setCert != nil {
		cert, why = *inc.setCert, fmt.Sprintf("set by the analyst review at #%d (evidence alone: %s)", inc.setCertAt, why)
	}
	return cert, why, ev
}

func partyOr(p string) string {
	if p == "" {
		return "no party"
	}
	return p
}

// The cases of a supporting observation's reason in certainty.
const (
	whyAlone         = iota // a new submitter and sensor kind, or an interested source
	whySameKind             // a new independent submitter of a sensor kind seen already
	whySameSubmitter        // an independent submitter seen already
)

// supportWhy is why a supporting observation counts, in case k; made once per case.
func (r *obsRec) supportWhy(k int) string {
	if w := r.whys[k]; w != "" {
		return w
	}
	desc := r.describe()
	var why string
	switch {
	case r.role == agreement.RoleMonitor && r.o.Source == ingest.SourceGroundMonitor:
		why = "the mission's own ground observation: " + desc
	case r.interested:
		why = "interested source: " + desc + "; alone it cannot raise certainty above possible"
	default:
		why = "independent source: " + desc
	}
	switch k {
	case whySameKind:
		why += "; same sensor kind as an earlier independent source"
	case whySameSubmitter:
		why += "; same submitter as an earlier observation"
	}
	if len(r.matches) == 0 {
		why += "; corroborates, breaks no rule itself"
	}
	r.whys[k] = why
	return why
}

// againstWhy is how counter-evidence weighs, in case k: 0 interested, 1 against the
// mission's own sighting, 2 older than the latest independent sighting, 3 disputing.
func (r *obsRec) againstWhy(k int) string {
	if w := r.whys[k]; w != "" {
		return w
	}
	desc := r.describe()
	var w string
	switch k {
	case 0:
		w = desc + "; interested source: recorded, disputes nothing"
	case 1:
		w = desc + "; the mission's own sighting stands"
	case 2:
		w = desc + "; older than the latest independent sighting"
	default:
		w = desc + "; disputes the incident"
	}
	r.whys[k] = w
	return w
}

// sortEvidence sorts ev by ledger index, stably, in place, and returns it; scratch is
// reused between calls. The evidence comes in a few runs already sorted (the supporting
// observations, the counter-evidence, the notifications, ...): merging the runs costs less
// than a general stable sort moving the pieces about.
func sortEvidence(ev []Evidence, scratch *[]Evidence) []Evidence {
	// The runs' ends.
	var buf [8]int
	ends := buf[:0]
	for i := 1; i < len(ev); i++ {
		if ev[i].Index < ev[i-1].Index {
			ends = append(ends, i)
		}
	}
	if len(ends) == 0 {
		return ev
	}
	ends = append(ends, len(ev))
	if cap(*scratch) < len(ev) {
		*scratch = make([]Evidence, len(ev)+len(ev)/2)
	}
	src, dst := ev, (*scratch)[:len(ev)]
	for len(ends) > 1 {
		// Merge the runs two by two; on a tie the earlier run's piece goes first.
		lo, k := 0, 0
		for i := 0; i < len(ends); i += 2 {
			if i+1 == len(ends) {
				copy(dst[lo:ends[i]], src[lo:ends[i]])
				ends[k] = ends[i]
				k++
				break
			}
			mid, hi := ends[i], ends[i+1]
			a, b, o := lo, mid, lo
			for a < mid && b < hi {
				if src[b].Index < src[a].Index {
					dst[o] = src[b]
					b++
				} else {
					dst[o] = src[a]
					a++
				}
				o++
			}
			o += copy(dst[o:], src[a:mid])
			copy(dst[o:], src[b:hi])
			ends[k] = hi
			k++
			lo = hi
		}
		ends = ends[:k]
		src, dst = dst, src
	}
	if &src[0] != &ev[0] {
		copy(ev, src)
	}
	clear((*scratch)[:len(ev)]) // hold no strings for the collector
	return ev
}
