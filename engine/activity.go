package engine

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Defaults of the unusual-activity options of [Options].
const (
	// DefaultActivityBucket is the width of a counting bucket, aligned on D-day midnight: a
	// quarter of a day, long enough to hold a UAV sortie or a satellite pass, short enough
	// that a build-up over one night stands out from the day's rhythm.
	DefaultActivityBucket = 6 * time.Hour
	// DefaultActivityBuckets is how many earlier buckets make the baseline: 28, a week, so
	// that weekly rotations are part of the normal.
	DefaultActivityBuckets = 28
	// DefaultActivityMinHistory is how many earlier buckets the log must cover before a
	// zone's baseline counts: one day. Before that every first gathering would look unusual.
	DefaultActivityMinHistory = 4
	// DefaultActivityFactor is how many times the baseline mean a bucket must reach.
	DefaultActivityFactor = 3.0
	// DefaultActivitySigmas is how many standard deviations above the mean it must reach:
	// three, the usual bound for "not chance" on a steady count.
	DefaultActivitySigmas = 3.0
	// DefaultActivityMinCount is the fewest military observations in a bucket that can
	// raise a warning: below ten, a "concentration" is a handful of patrols.
	DefaultActivityMinCount = 10
)

// Warning is an unusual concentration of military observations in a zone: a warning before
// any breach. It is raised once per zone and bucket.
type Warning struct {
	ID        int64     `json:"id"`
	Zone      string    `json:"zone"`
	From      time.Time `json:"from"` // the bucket
	Until     time.Time `json:"until"`
	Count     int       `json:"count"`     // military observations in the bucket when raised
	Mean      float64   `json:"mean"`      // per bucket, over the baseline's buckets
	SD        float64   `json:"sd"`        // population standard deviation
	Buckets   int       `json:"buckets"`   // how many earlier buckets the baseline holds
	Threshold float64   `json:"threshold"` // max(min count, factor×mean, mean+sigmas×sd)
	Raised    time.Time `json:"raised"`    // the log's time
	Index     int64     `json:"index"`     // the observation that crossed the threshold
	Evidence  []int64   `json:"evidence"`  // the observations of the bucket, by ledger index
	// Parties are the addressees of its alert: the bound parties the bucket's observations
	// are attributed to, else every bound party.
	Parties     []string `json:"parties"`
	Explanation []string `json:"explanation"`
}

// activity counts a zone's military observations per bucket.
type activity struct {
	buckets map[int64]*bucket
	latest  int64
	raised  map[int64]bool
}

type bucket struct {
	obs     []int64  // ledger indexes
	parties []string // per observation
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (e *Engine) bucketOf(t time.Time) int64 {
	return floorDiv(int64(t.Sub(e.a.DDay)), int64(e.opts.ActivityBucket))
}

// military reports whether an observation's category is a military one: any agreement
// category but civilian traffic, or an observation the adapter marked military.
func (e *Engine) military(r *obsRec) bool {
	if r.o.Military {
		return true
	}
	c, ok := e.a.Category(r.o.Category)
	for ok {
		if c.Class == "civilian-traffic" {
			return false
		}
		if c.Parent == "" {
			return true
		}
		c, ok = e.a.Category(c.Parent)
	}
	return false
}

// countActivity counts r in the buckets of its zones and raises the warnings it causes.
func (e *Engine) countActivity(index int64, r *obsRec) {
	if r.absent {
		return
	}
	b := e.bucketOf(r.o.Observed)
	if !e.histSet || b < e.histStart {
		e.histStart, e.histSet = b, true
	}
	if !e.military(r) {
		return
	}
	n := int64(e.opts.ActivityBuckets)
	for _, z := range e.areaZones(r.zones) {
		act := e.activity[z]
		if act == nil {
			act = &activity{buckets: map[int64]*bucket{}, raised: map[int64]bool{}, latest: b}
			e.activity[z] = act
		}
		if b < act.latest-n {
			continue // older than any baseline still kept
		}
		if b > act.latest {
			act.latest = b
			for k := range act.buckets {
				if k < b-n {
					delete(act.buckets, k)
					delete(act.raised, k)
				}
			}
		}
		bk := act.buckets[b]
		if bk == nil {
			bk = &bucket{}
			act.buckets[b] = bk
		}
		bk.obs = append(bk.obs, index)
		bk.parties = append(bk.parties, r.party)
		if act.raised[b] {
			continue
		}
		from := max(b-n, e.histStart)
		h := int(b - from)
		if h < e.opts.ActivityMinHistory {
			continue
		}
		sum, sq := 0.0, 0.0
		for k := from; k < b; k++ {
			c := 0.0
			if x := act.buckets[k]; x != nil {
				c = float64(len(x.obs))
			}
			sum += c
			sq += c * c
		}
		mean := sum / float64(h)
		sd := math.Sqrt(max(0, sq/float64(h)-mean*mean))
		thr := max(float64(e.opts.ActivityMinCount), e.opts.ActivityFactor*mean, mean+e.opts.ActivitySigmas*sd)
		if float64(len(bk.obs)) < thr {
			continue
		}
		act.raised[b] = true
		e.raiseWarning(index, z, b, bk, h, mean, sd, thr)
	}
}

func (e *Engine) raiseWarning(index int64, zone string, b int64, bk *bucket, h int, mean, sd, thr float64) {
	from := e.a.DDay.Add(time.Duration(b) * e.opts.ActivityBucket)
	w := &Warning{ID: int64(len(e.warnings)) + 1, Zone: zone, From: from, Until: from.Add(e.opts.ActivityBucket), Count: len(bk.obs),
		Mean: math.Round(mean*1000) / 1000, SD: math.Round(sd*1000) / 1000, Buckets: h, Threshold: math.Round(thr*1000) / 1000,
		Raised: e.now, Index: index, Evidence: slices.Clone(bk.obs)}
	byParty := map[string]int{}
	for _, p := range bk.parties {
		byParty[partyOr(p)]++
	}
	var ps []string
	for p, n := range byParty {
		ps = append(ps, fmt.Sprintf("%s %d", p, n))
	}
	slices.Sort(ps)
	for _, p := range e.boundParties() {
		if byParty[p] > 0 {
			w.Parties = append(w.Parties, p)
		}
	}
	if len(w.Parties) == 0 {
		w.Parties = e.boundParties()
	}
	w.Explanation = []string{
		fmt.Sprintf("%d military observations in zone %s between %s and %s (%s)", w.Count, zone, w.From.Format(time.RFC3339), w.Until.Format(time.RFC3339), strings.Join(ps, ", ")),
		fmt.Sprintf("baseline over the previous %d buckets of %s: mean %.2f, standard deviation %.2f per bucket", h, e.opts.ActivityBucket, mean, sd),
		fmt.Sprintf("threshold max(%d, %g × %.2f, %.2f + %g × %.2f) = %.2f: %d reaches it, before any breach is needed",
			e.opts.ActivityMinCount, e.opts.ActivityFactor, mean, mean, e.opts.ActivitySigmas, sd, thr, w.Count),
	}
	e.warnings = append(e.warnings, w)
	e.warned = append(e.warned, Change{Kind: ChangeWarning, Warning: w.ID, Version: 1, Index: index})
}

// Warning returns the view of one warning.
func (e *Engine) Warning(id int64) (Warning, bool) {
	if id < 1 || id > int64(len(e.warnings)) {
		return Warning{}, false
	}
	w := *e.warnings[id-1]
	w.Evidence, w.Explanation, w.Parties = slices.Clone(w.Evidence), slices.Clone(w.Explanation), slices.Clone(w.Parties)
	return w, true
}
