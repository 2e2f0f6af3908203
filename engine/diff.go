package engine

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// DiffKind is how a finding differs between two runs over the same log.
type DiffKind int

// The diff kinds.
const (
	DiffNew     DiffKind = iota // a finding only in the second run
	DiffGone                    // a finding only in the first run
	DiffChanged                 // a finding in both, with another certainty, rules or evidence
)

var diffKindNames = []string{"new", "gone", "changed"}

func (k DiffKind) String() string {
	if k >= 0 && int(k) < len(diffKindNames) {
		return diffKindNames[k]
	}
	return fmt.Sprintf("DiffKind(%d)", int(k))
}

// MarshalText writes the kind's name.
func (k DiffKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// FindingDiff is one difference between the findings of two runs of the engine over the same
// log, typically under two texts of an agreement ("what would this text have caught?").
type FindingDiff struct {
	Kind DiffKind `json:"kind"`
	// Evidence are the ledger indexes of the supporting observations, of both sides, sorted.
	Evidence []int64 `json:"evidence"`
	// Before is the first run's incident and After the second's: the finding, and the
	// incident of the same observations on the other side when there is one (not a finding
	// there, for new and gone).
	Before *Incident `json:"before,omitempty"`
	After  *Incident `json:"after,omitempty"`
	// Changes say what differs, one phrase each, e.g. "certainty likely -> possible",
	// "verdict infraction -> notified", "rule dmz-heavy no longer breached".
	Changes []string `json:"changes,omitempty"`
}

// Diff compares the findings (incidents with the verdict infraction) of two states reached
// over the same log, before and after. Incident ids may differ between the runs, so
// incidents are matched by their evidence: the ledger indexes of their supporting
// observations. Each incident is matched with at most one of the other run, the one sharing
// the most observations (ties: the lower ids); a finding matched with a finding that differs
// is changed, a finding with no match or matched with a non-finding is new or gone. Merged
// incidents take no part. The result is in the order of each diff's first evidence index.
func Diff(before, after State) []FindingDiff {
	bs, as := diffable(before.Incidents), diffable(after.Incidents)
	pairs := matchIncidents(bs, as)

	var out []FindingDiff
	matchedA := make(map[int]bool, len(pairs))
	matchedB := make(map[int]bool, len(pairs))
	for _, p := range pairs {
		matchedB[p.b], matchedA[p.a] = true, true
		b, a := &bs[p.b], &as[p.a]
		fb, fa := b.Verdict == VerdictInfraction, a.Verdict == VerdictInfraction
		changes := incidentChanges(b, a)
		d := FindingDiff{Before: b, After: a, Evidence: diffUnion(supportIndexes(b), supportIndexes(a)), Changes: changes}
		switch {
		case fb && fa:
			if len(changes) == 0 {
				continue
			}
			d.Kind = DiffChanged
		case fb:
			d.Kind = DiffGone
		case fa:
			d.Kind = DiffNew
		default:
			continue
		}
		out = append(out, d)
	}
	for i := range bs {
		if !matchedB[i] && bs[i].Verdict == VerdictInfraction {
			out = append(out, FindingDiff{Kind: DiffGone, Before: &bs[i], Evidence: supportIndexes(&bs[i]), Changes: []string{"no incident"}})
		}
	}
	for i := range as {
		if !matchedA[i] && as[i].Verdict == VerdictInfraction {
			out = append(out, FindingDiff{Kind: DiffNew, After: &as[i], Evidence: supportIndexes(&as[i]), Changes: []string{"no incident before"}})
		}
	}
	slices.SortStableFunc(out, func(x, y FindingDiff) int {
		return cmp.Or(cmp.Compare(diffFirst(x.Evidence), diffFirst(y.Evidence)), cmp.Compare(x.Kind, y.Kind))
	})
	return out
}

func diffFirst(xs []int64) int64 {
	if len(xs) == 0 {
		return -1
	}
	return xs[0]
}

// diffable returns the incidents that take part in a diff: all but the merged ones.
func diffable(incs []Incident) []Incident {
	out := make([]Incident, 0, len(incs))
	for _, inc := range incs {
		if inc.Verdict != VerdictMerged {
			out = append(out, inc)
		}
	}
	return out
}

// support returns the ledger indexes of the observations that count for an incident,
// sorted.
func supportIndexes(inc *Incident) []int64 {
	var out []int64
	for _, x := range inc.Evidence {
		if x.Kind == "observation" && x.Counted == CountedFor {
			out = append(out, x.Index)
		}
	}
	slices.Sort(out)
	return out
}

type diffPair struct{ b, a, shared int }

// matchIncidents pairs incidents of the two runs that share supporting observations,
// greedily by the number shared, each at most once.
func matchIncidents(bs, as []Incident) []diffPair {
	owner := map[int64]int{} // observation index -> position in as
	for i := range as {
		for _, x := range supportIndexes(&as[i]) {
			owner[x] = i
		}
	}
	var cands []diffPair
	for i := range bs {
		shared := map[int]int{}
		for _, x := range supportIndexes(&bs[i]) {
			if j, ok := owner[x]; ok {
				shared[j]++
			}
		}
		for j, n := range shared {
			cands = append(cands, diffPair{i, j, n})
		}
	}
	slices.SortFunc(cands, func(x, y diffPair) int {
		return cmp.Or(cmp.Compare(y.shared, x.shared), cmp.Compare(bs[x.b].ID, bs[y.b].ID), cmp.Compare(as[x.a].ID, as[y.a].ID))
	})
	usedB, usedA := map[int]bool{}, map[int]bool{}
	var out []diffPair
	for _, p := range cands {
		if usedB[p.b] || usedA[p.a] {
			continue
		}
		usedB[p.b], usedA[p.a] = true, true
		out = append(out, p)
	}
	return out
}

// incidentChanges says what differs between two incidents of the same observations.
func incidentChanges(b, a *Incident) []string {
	var out []string
	if b.Verdict != a.Verdict {
		out = append(out, fmt.Sprintf("verdict %s -> %s", b.Verdict, a.Verdict))
	}
	if b.Certainty != a.Certainty {
		out = append(out, fmt.Sprintf("certainty %s -> %s", b.Certainty, a.Certainty))
	}
	rb, ra := ruleStates(b), ruleStates(a)
	for _, id := range diffUnionStrings(diffKeys(rb), diffKeys(ra)) {
		sb, okb := rb[id]
		sa, oka := ra[id]
		switch {
		case !okb:
			out = append(out, fmt.Sprintf("rule %s %s", id, sa))
		case !oka:
			out = append(out, fmt.Sprintf("rule %s no longer matched (was %s)", id, sb))
		case sb != sa:
			out = append(out, fmt.Sprintf("rule %s %s (was %s)", id, sa, sb))
		}
	}
	if b.Count != a.Count {
		out = append(out, fmt.Sprintf("count %d -> %d", b.Count, a.Count))
	}
	sb, sa := supportIndexes(b), supportIndexes(a)
	if add, del := diffMinus(sa, sb), diffMinus(sb, sa); len(add)+len(del) > 0 {
		var parts []string
		for _, x := range add {
			parts = append(parts, fmt.Sprintf("+#%d", x))
		}
		for _, x := range del {
			parts = append(parts, fmt.Sprintf("-#%d", x))
		}
		out = append(out, "evidence "+strings.Join(parts, " "))
	}
	return out
}

// ruleStates describes each rule an incident matches: breached, not breached, or explained.
func ruleStates(inc *Incident) map[string]string {
	m := map[string]string{}
	for _, r := range inc.Rules {
		s := "breached"
		switch {
		case !r.Breached:
			s = "not breached"
		case r.CoveredBy >= 0:
			s = fmt.Sprintf("breached, explained by #%d", r.CoveredBy)
		}
		m[r.Rule] = s
	}
	return m
}

func diffKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func diffUnion(x, y []int64) []int64 {
	out := slices.Concat(x, y)
	slices.Sort(out)
	return slices.Compact(out)
}

func diffUnionStrings(x, y []string) []string {
	out := slices.Concat(x, y)
	slices.Sort(out)
	return slices.Compact(out)
}

// minus returns the elements of sorted x not in sorted y.
func diffMinus(x, y []int64) []int64 {
	var out []int64
	for _, v := range x {
		if _, ok := slices.BinarySearch(y, v); !ok {
			out = append(out, v)
		}
	}
	return out
}
