// Package zonecheck answers, for one position at one time, which zones contain it and which
// rules it breaks: the question every observation is asked on its way into the ledger.
//
// A [Checker] is built once from an agreement (or from any GeoJSON layer) and is then read-only
// and safe for concurrent use. Geometry is answered by [geo.Index]; this package adds the rules:
// categories, parties, time windows, ceilings, stand-off distances and confinement.
package zonecheck

import (
	"fmt"
	"time"

	"github.com/truce-mission/truce/geo"
)

// RuleKind is what a rule forbids.
type RuleKind int

// The rule kinds, as in the agreement format.
const (
	Prohibit RuleKind = iota // category inside the zone
	Ceiling                  // more than Max of the category inside the zone
	StandOff                 // category closer than DistanceM to the line
	Confine                  // category outside the zone
)

func (k RuleKind) String() string {
	switch k {
	case Prohibit:
		return "prohibit"
	case Ceiling:
		return "ceiling"
	case StandOff:
		return "stand-off"
	case Confine:
		return "confine"
	}
	return fmt.Sprintf("RuleKind(%d)", int(k))
}

// Zone is an area the checker reports on.
type Zone struct {
	ID    string
	Shape geo.Zone
}

// Rule is one rule, its references already resolved against the zones.
type Rule struct {
	ID       string
	Kind     RuleKind
	Zone     string // the zone of prohibit, ceiling and confine rules
	Line     []geo.Point
	LineID   string  // the line zone of stand-off rules, for explanations
	DistM    float64 // stand-off distance in metres
	Max      int     // ceiling
	Category string
	Party    string // empty: any party
	From     time.Time
	Until    time.Time // zero: no sunset
}

// Query is one position to check.
type Query struct {
	Point    geo.Point
	Alt      float64
	HasAlt   bool
	Time     time.Time
	Category string // empty: report zones only
	Party    string // empty: unknown, so every party's rules apply
	Count    int    // how many were seen, for ceilings
}

// Breach is one rule a query breaks.
type Breach struct {
	Rule int // index into the checker's rules, in declaration order
	// DistanceM is the distance to the stand-off line, in metres; 0 for other kinds.
	DistanceM float64
}

// Result is the answer to a [Query]. Its slices are reused by [Checker.Check].
type Result struct {
	Zones    []int // indices into the checker's zones, in declaration order
	Breaches []Breach
	hits     []int
}

// Checker answers queries against a fixed set of zones and rules.
type Checker struct {
	zones   []Zone
	rules   []Rule
	index   *geo.Index
	zoneOf  map[string]int // zone id -> index
	bandOf  []int          // rule index -> index in geo of its stand-off band, or -1
	inZone  []int          // rule index -> zone index, or -1
	byCat   map[string][]int
	covers  func(ruleCat, obsCat string) bool
	nZones  int
	known   map[string]bool // declared parties; nil accepts any
	catsSet bool            // false for a layer without categories: a query's category is then ignored
}

// Options configure [New].
type Options struct {
	Edges geo.Edges
	// Categories lists every declared category; a query naming another is refused. Nil accepts
	// none (a layer without rules).
	Categories []string
	// Covers reports whether a rule on ruleCat applies to an observation of obsCat
	// (ancestor-or-self). Nil means equality.
	Covers func(ruleCat, obsCat string) bool
	// Parties lists the declared parties; a query naming another is refused. Nil accepts any.
	Parties []string
}

// New builds a checker. Zone ids must be unique and every rule's zone must be one of them;
// stand-off lines are given by their coordinates.
func New(zones []Zone, rules []Rule, opts Options) (*Checker, error) {
	c := &Checker{
		zones:  zones,
		rules:  rules,
		zoneOf: make(map[string]int, len(zones)),
		bandOf: make([]int, len(rules)),
		inZone: make([]int, len(rules)),
		byCat:  map[string][]int{},
		covers: opts.Covers,
		nZones: len(zones),
	}
	if c.covers == nil {
		c.covers = func(a, b string) bool { return a == b }
	}
	shapes := make([]geo.Zone, 0, len(zones)+len(rules))
	for i, z := range zones {
		if _, dup := c.zoneOf[z.ID]; dup {
			return nil, fmt.Errorf("zone %q declared twice", z.ID)
		}
		c.zoneOf[z.ID] = i
		shapes = append(shapes, z.Shape)
	}
	// Each stand-off rule becomes a band (a corridor of its distance around its line) in the
	// same index, so a position far from every line costs no distance computation.
	for i, r := range rules {
		c.bandOf[i], c.inZone[i] = -1, -1
		switch r.Kind {
		case StandOff:
			if len(r.Line) < 2 || r.DistM <= 0 {
				return nil, fmt.Errorf("rule %q: stand-off needs a line and a distance", r.ID)
			}
			c.bandOf[i] = len(shapes)
			shapes = append(shapes, geo.Zone{Line: r.Line, HalfWidth: r.DistM})
		default:
			zi, ok := c.zoneOf[r.Zone]
			if !ok {
				return nil, fmt.Errorf("rule %q: unknown zone %q", r.ID, r.Zone)
			}
			c.inZone[i] = zi
		}
	}
	ix, err := geo.NewIndex(shapes, opts.Edges)
	if err != nil {
		return nil, err
	}
	c.index = ix
	for _, cat := range opts.Categories {
		for ri, r := range rules {
			if c.covers(r.Category, cat) {
				c.byCat[cat] = append(c.byCat[cat], ri)
			}
		}
		if _, ok := c.byCat[cat]; !ok {
			c.byCat[cat] = nil
		}
	}
	c.catsSet = opts.Categories != nil
	if opts.Parties != nil {
		c.known = map[string]bool{}
		for _, p := range opts.Parties {
			c.known[p] = true
		}
	}
	return c, nil
}

// Zones returns the checker's zones in declaration order.
func (c *Checker) Zones() []Zone { return c.zones }

// Rules returns the checker's rules in declaration order.
func (c *Checker) Rules() []Rule { return c.rules }

// UnknownCategoryError and UnknownPartyError refuse a query naming something undeclared.
type (
	UnknownCategoryError struct{ Category string }
	UnknownPartyError    struct{ Party string }
)

func (e *UnknownCategoryError) Error() string {
	return fmt.Sprintf("unknown category %q: not declared in the agreement", e.Category)
}

func (e *UnknownPartyError) Error() string {
	return fmt.Sprintf("unknown party %q: not declared in the agreement", e.Party)
}

// Check answers q into r, reusing r's slices.
func (c *Checker) Check(q *Query, r *Result) error {
	r.Zones, r.Breaches = r.Zones[:0], r.Breaches[:0]
	var rules []int
	if q.Category != "" && c.catsSet {
		var ok bool
		rules, ok = c.byCat[q.Category]
		if !ok {
			return &UnknownCategoryError{q.Category}
		}
	}
	if q.Party != "" && c.known != nil && !c.known[q.Party] {
		return &UnknownPartyError{q.Party}
	}
	r.hits = c.index.Locate(q.Point, q.Alt, q.HasAlt, r.hits[:0])
	for _, h := range r.hits {
		if h < c.nZones {
			r.Zones = append(r.Zones, h)
		}
	}
	for _, ri := range rules {
		rule := &c.rules[ri]
		if q.Time.Before(rule.From) || (!rule.Until.IsZero() && !q.Time.Before(rule.Until)) {
			continue
		}
		if rule.Party != "" && q.Party != "" && rule.Party != q.Party {
			continue
		}
		switch rule.Kind {
		case Prohibit:
			if contains(r.hits, c.inZone[ri]) {
				r.Breaches = append(r.Breaches, Breach{Rule: ri})
			}
		case Ceiling:
			if q.Count > rule.Max && contains(r.hits, c.inZone[ri]) {
				r.Breaches = append(r.Breaches, Breach{Rule: ri})
			}
		case Confine:
			if !contains(r.hits, c.inZone[ri]) {
				r.Breaches = append(r.Breaches, Breach{Rule: ri})
			}
		case StandOff:
			if b := c.bandOf[ri]; contains(r.hits, b) {
				r.Breaches = append(r.Breaches, Breach{Rule: ri, DistanceM: c.index.Distance(b, q.Point)})
			}
		}
	}
	return nil
}

// contains reports whether the ascending hits hold i.
func contains(hits []int, i int) bool {
	for _, h := range hits {
		if h == i {
			return true
		}
		if h > i {
			return false
		}
	}
	return false
}
