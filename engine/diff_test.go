package engine_test

import (
	"slices"
	"testing"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/engine"
)

// inc makes an incident breaking rule with the given supporting observations.
func inc(id int64, v engine.Verdict, c agreement.Certainty, rule string, obs ...int64) engine.Incident {
	i := engine.Incident{ID: id, Verdict: v, Certainty: c, Count: 1, Rules: []engine.RuleMatch{{Rule: rule, Breached: true, CoveredBy: -1}}}
	for _, x := range obs {
		i.Evidence = append(i.Evidence, engine.Evidence{Index: x, Kind: "observation", Counted: engine.CountedFor})
	}
	return i
}

func TestDiff(t *testing.T) {
	const (
		inf = engine.VerdictInfraction
		obs = agreement.CertaintyObserved
		lik = agreement.CertaintyLikely
		pos = agreement.CertaintyPossible
	)
	notified := inc(1, engine.VerdictNotified, obs, "dmz-heavy", 3, 5)
	notified.Rules[0].CoveredBy = 2
	// want is one line per diff: kind, first evidence index, changes.
	type want struct {
		kind    engine.DiffKind
		first   int64
		changes []string
	}
	tests := []struct {
		name          string
		before, after []engine.Incident
		want          []want
	}{
		{name: "same", before: []engine.Incident{inc(1, inf, obs, "dmz-heavy", 3, 5)}, after: []engine.Incident{inc(1, inf, obs, "dmz-heavy", 3, 5)}},
		{
			name:   "ids differ, evidence the same",
			before: []engine.Incident{inc(1, inf, pos, "npp-uav", 1), inc(2, inf, obs, "dmz-heavy", 3, 5)},
			after:  []engine.Incident{inc(1, inf, obs, "dmz-heavy", 3, 5), inc(2, inf, pos, "npp-uav", 1)},
		},
		{
			name:   "gone: no incident",
			before: []engine.Incident{inc(1, inf, obs, "dmz-heavy", 3, 5)},
			want:   []want{{engine.DiffGone, 3, []string{"no incident"}}},
		},
		{
			name:  "new",
			after: []engine.Incident{inc(1, inf, pos, "standoff-mlrs", 7)},
			want:  []want{{engine.DiffNew, 7, []string{"no incident before"}}},
		},
		{
			name:   "gone: explained",
			before: []engine.Incident{inc(4, inf, obs, "dmz-heavy", 3, 5)},
			after:  []engine.Incident{notified},
			want:   []want{{engine.DiffGone, 3, []string{"verdict infraction -> notified", "rule dmz-heavy breached, explained by #2 (was breached)"}}},
		},
		{
			name:   "changed certainty and evidence",
			before: []engine.Incident{inc(1, inf, lik, "dmz-heavy", 3, 5, 8)},
			after:  []engine.Incident{inc(1, inf, pos, "dmz-heavy", 3, 5, 9)},
			want:   []want{{engine.DiffChanged, 3, []string{"certainty likely -> possible", "evidence +#9 -#8"}}},
		},
		{
			name:   "changed rules",
			before: []engine.Incident{inc(1, inf, obs, "dmz-heavy", 3)},
			after:  []engine.Incident{inc(1, inf, obs, "dmz-heavy-draft", 3)},
			want:   []want{{engine.DiffChanged, 3, []string{"rule dmz-heavy no longer matched (was breached)", "rule dmz-heavy-draft breached"}}},
		},
		{
			name:   "split in two: the larger part matches",
			before: []engine.Incident{inc(1, inf, obs, "dmz-heavy", 3, 5, 6)},
			after:  []engine.Incident{inc(1, inf, obs, "dmz-heavy", 3), inc(2, inf, obs, "dmz-heavy", 5, 6)},
			want:   []want{{engine.DiffNew, 3, []string{"no incident before"}}, {engine.DiffChanged, 3, []string{"evidence -#3"}}},
		},
		{
			name:   "merged incidents take no part",
			before: []engine.Incident{inc(1, engine.VerdictMerged, obs, "dmz-heavy", 3)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := engine.Diff(engine.State{Incidents: tc.before}, engine.State{Incidents: tc.after})
			if len(got) != len(tc.want) {
				t.Fatalf("got %d diffs %+v, want %d", len(got), got, len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Kind != w.kind || g.Evidence[0] != w.first || !slices.Equal(g.Changes, w.changes) {
					t.Errorf("diff %d: got %s from #%d %q, want %s from #%d %q", i, g.Kind, g.Evidence[0], g.Changes, w.kind, w.first, w.changes)
				}
				if (g.Kind != engine.DiffNew) != (g.Before != nil && g.Before.Verdict == engine.VerdictInfraction) {
					t.Errorf("diff %d: %s with before %+v", i, g.Kind, g.Before)
				}
			}
		})
	}
}
