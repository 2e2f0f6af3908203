package engine

import (
	"fmt"
	"slices"
	"sort"
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
	id  int64
	obs []*obsRec // in ledger order: see addObs and setObs
	// byTime are the same by observed time (then ledger order), so that joins looks only
	// at those within the fusion window: an incident of a site reported on for days
	// holds thousands.
	byTime     []*obsRec
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
	alerted bool      // a change has been reported
	live    bool      // the last change reported it as a finding
	sig     signature // as last evaluated

	verdict   Verdict
	certainty agreement.Certainty
	// view is the incident as last evaluated, but for its evidence and explanation, which
	// Engine.view writes when it is read, from the tally.
	view  Incident
	tally tally
}

// addObs adds r, the latest entry of the log, to the incident.
func (inc *incident) addObs(r *obsRec) {
	inc.obs = append(inc.obs, r)
	i := sort.Search(len(inc.byTime), func(i int) bool { return inc.byTime[i].o.Observed.After(r.o.Observed) })
	inc.byTime = slices.Insert(inc.byTime, i, r)
}

// setObs sets the incident's observations, in ledger order: a merge or split removed or
// reordered some, so the tally starts again.
func (inc *incident) setObs(obs []*obsRec) {
	inc.obs = obs
	inc.byTime = slices.Clone(obs)
	slices.SortStableFunc(inc.byTime, func(a, b *obsRec) int { return a.o.Observed.Compare(b.o.Observed) })
	inc.tally.reset()
}

// signature is what a change reports: a new one means an update. It stands for the
// verdict, certainty and count, the evidence that counts (the observations, for or
// against, and the notifications that explain: those the rules' CoveredBy name), the
// rules, and the dwell and dark events (they aggravate a finding). Late notices and reviews
// count for nothing: the finding itself is unchanged.
type signature struct {
	verdict   Verdict
	certainty agreement.Certainty
	count     int
	// obsGen is the tally's generation: observations are only ever added, or removed or
	// reordered by a merge or split (which reset the tally), each a change of the set.
	obsGen int64
	// tracks is how many track events: an incident's only grow, but for a merge, which
	// empties the merged ones.
	tracks int
	rules  []RuleMatch // the view's, not modified after its evaluation
}

func (inc *incident) signature() signature {
	return signature{verdict: inc.verdict, certainty: inc.certainty, count: inc.view.Count, obsGen: inc.tally.gen,
		tracks: len(inc.trackEvents), rules: inc.view.Rules}
}

func (s signature) equal(o signature) bool {
	return s.verdict == o.verdict && s.certainty == o.certainty && s.count == o.count && s.obsGen == o.obsGen &&
		s.tracks == o.tracks && slices.EqualFunc(s.rules, o.rules, func(a, b RuleMatch) bool {
		return a.Rule == b.Rule && a.Breached == b.Breached && a.CoveredBy == b.CoveredBy
	})
}

// evaluate brings the incident's tally up to date and recomputes its rules, verdict and
// certainty; its evidence and explanation are written when it is read (Engine.view).
func (e *Engine) evaluate(inc *incident) {
	t := &inc.tally
	if t.n > len(inc.obs) {
		t.reset() // cannot happen: merges and splits reset the tally themselves
	}
	for _, r := range inc.obs[t.n:] {
		t.add(e, r)
	}
	v := Incident{ID: inc.id, Opened: inc.opened, ReviewDue: inc.reviewDue, Review: inc.review, MergedInto: inc.mergedInto,
		Party: t.party, Zones: t.zones, Count: t.count}
	if r := t.first; r != nil {
		v.Category, v.Position, v.Track = r.o.Category, [2]float64{r.pt.Lon, r.pt.Lat}, r.track
		v.First, v.Last = t.firstT, t.lastT
	}

	// Rules, in agreement order (a rule listed twice, twice).
	for i, ar := range e.a.Rules {
		j := e.ruleFirst[i]
		k := slices.IndexFunc(t.rules, func(rt ruleTally) bool { return rt.rule == j })
		if k < 0 {
			continue
		}
		rt := &t.rules[k]
		rm := RuleMatch{Rule: ar.ID, Kind: ar.Kind.String(), Class: ar.Class, Zone: ar.Zone, Line: ar.Line, CoveredBy: -1, Count: rt.count}
		if rm.Class == "" {
			rm.Class = ar.ID
		}
		switch ar.Kind {
		case agreement.RuleCeiling:
			rm.Max = ar.Max
			rm.Breached = rm.Count > ar.Max
		case agreement.RuleStandOff:
			rm.DistanceM = rt.dist
			rm.Breached = true
		default:
			rm.Breached = true
		}
		v.Rules = append(v.Rules, rm)
	}

	// Notifications.
	if t.support > 0 {
		e.span(inc, v.First, v.Last)
		if v.Party != "" {
			e.weighNotes(inc, &v)
		}
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
	v.Certainty, _ = inc.certaintyOf(false)
	inc.verdict, inc.certainty, inc.view = v.Verdict, v.Certainty, v
}

// view is the read-only view of inc as last evaluated, its evidence and explanation
// written now. It changes nothing: readers may share the engine (under a read lock).
// view is the incident as read, with the latest k pieces of evidence (all when k <= 0), and
// the number of pieces in all.
func (e *Engine) view(inc *incident, k int) (Incident, int) {
	v := inc.view
	v.Version = inc.version
	v.Zones = slices.Clone(v.Zones)
	v.Rules = slices.Clone(v.Rules)
	if v.Review != nil {
		r := *v.Review
		v.Review = &r
	}

	ev := make([]Evidence, 0, len(inc.obs)+len(inc.tally.notes)+len(inc.merges)+len(inc.trackEvents)+1)
	for _, r := range inc.obs {
		if !r.absent {
			ev = append(ev, Evidence{Index: r.index, Kind: "observation", ID: r.o.ID, Submitter: r.submitter, Counted: CountedFor, Why: r.whyText})
		}
	}
	for _, r := range inc.obs {
		if r.absent {
			ev = append(ev, Evidence{Index: r.index, Kind: "observation", ID: r.o.ID, Submitter: r.submitter, Counted: CountedAgainst, Why: r.againstWhy(inc.againstCase(r))})
		}
	}
	ev = inc.noteEvidence(ev, &v)
	ev = append(ev, inc.merges...)
	for _, te := range inc.trackEvents {
		ev = append(ev, Evidence{Index: te.Index, Kind: "track", ID: te.Track, Counted: CountedNone, Why: te.Kind.String() + ": " + te.Detail})
	}
	if inc.review != nil {
		ev = append(ev, Evidence{Index: inc.review.Index, Kind: "review", Submitter: inc.review.Analyst, Counted: CountedNone, Why: "review: " + inc.review.Action + noteSuffix(inc.review.Note)})
	}
	var scratch []Evidence
	v.Evidence = sortEvidence(ev, &scratch)
	total := len(v.Evidence)
	if k > 0 && len(v.Evidence) > k {
		v.Evidence = v.Evidence[len(v.Evidence)-k:]
	}

	_, why := inc.certaintyOf(true)
	lines := make([]string, 0, len(v.Rules)+1+len(v.Evidence))
	for _, rm := range v.Rules {
		lines = append(lines, e.explainRule(rm, v.Party, v.Category))
	}
	lines = append(lines, fmt.Sprintf("verdict %s, certainty %s: %s", v.Verdict, v.Certainty, why))
	v.Explanation = explainEvidence(lines, v.Evidence)
	return v, total
}

func noteSuffix(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
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

func partyOr(p string) string {
	if p == "" {
		return "no party"
	}
	return p
}

// The cases of a supporting observation's reason (tally.add).
const (
	whyAlone         = iota // a new submitter and sensor kind, or an interested source
	whySameKind             // a new independent submitter of a sensor kind seen already
	whySameSubmitter        // an independent submitter seen already
)

// supportWhy is why a supporting observation counts, in case k.
func (r *obsRec) supportWhy(k int) string {
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
	return why
}

// againstWhy is how counter-evidence weighs, in case k: 0 interested, 1 against the
// mission's own sighting, 2 older than the latest independent sighting, 3 disputing.
func (r *obsRec) againstWhy(k int) string {
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
