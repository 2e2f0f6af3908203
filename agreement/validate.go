package agreement

import (
	"crypto/ed25519"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

var (
	idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	// Phase ids are named after their offset, as "D+14", so they allow
	// capitals and plus signs.
	phasePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.+_-]*$`)
	// datePattern tells a mistyped timestamp from an undefined phase.
	datePattern = regexp.MustCompile(`^[0-9]{4}-`)
)

const (
	idHint      = "ids match [a-z0-9][a-z0-9._-]*"
	phaseHint   = "phase ids match [A-Za-z0-9][A-Za-z0-9.+_-]*, e.g. D+14"
	notAreaHint = "a zone of kind line contains nothing; measure from it with a stand-off rule or a corridor zone"
)

// Validate resolves the agreement and checks it, returning nil or an
// [ErrorList] of every problem found, sorted by position. Resolving builds
// the lookups, sets each phase's Start, each rule's From, Until and
// defaults (Class, Party), and each corridor's Coords; call Validate after
// building or changing an Agreement in code. [Load] calls it, after the
// checks only decoding can make (unknown keys, types, missing keys).
func (a *Agreement) Validate() error {
	if l := a.validate(); len(l) > 0 {
		return sortErrors(l, a.File)
	}
	return nil
}

type checker struct {
	a *Agreement
	errs
}

func (v *checker) errorf(p Pos, hint, format string, args ...any) {
	v.add(v.a.File, p, hint, format, args...)
}

func (a *Agreement) validate() ErrorList {
	v := &checker{a: a}
	a.idx = index{}
	a.idx.phases = register(v, "phase", a.Phases, func(p *Phase) (string, Pos) { return p.ID, p.fields.at("id", p.Pos) }, phasePattern, phaseHint)
	a.idx.parties = register(v, "party", a.Parties, func(p *Party) (string, Pos) { return p.ID, p.fields.at("id", p.Pos) }, idPattern, idHint)
	a.idx.identities = register(v, "identity", a.Identities, func(p *Identity) (string, Pos) { return p.ID, p.fields.at("id", p.Pos) }, idPattern, idHint)
	a.idx.categories = register(v, "category", a.Categories, func(p *Category) (string, Pos) { return p.ID, p.fields.at("id", p.Pos) }, idPattern, idHint)
	a.idx.zones = register(v, "zone", a.Zones, func(p *Zone) (string, Pos) { return p.ID, p.fields.at("id", p.Pos) }, idPattern, idHint)
	a.idx.rules = register(v, "rule", a.Rules, func(p *Rule) (string, Pos) { return p.ID, p.fields.at("id", p.Pos) }, idPattern, idHint)
	register(v, "prior notice", a.Obligations.PriorNotice, func(p *Notice) (string, Pos) { return p.ID, p.fields.at("id", p.Pos) }, idPattern, idHint)
	if a.ID != "" && !idPattern.MatchString(a.ID) {
		v.errorf(a.fields.at("id", a.Pos), idHint, "agreement: malformed id %q", a.ID)
	}
	for _, p := range a.Phases {
		p.Start = a.DDay.AddDate(0, 0, p.Day)
	}
	v.parties()
	v.transponders()
	v.identities()
	v.categories()
	for _, z := range a.Zones {
		v.zone(z)
	}
	v.rules()
	v.obligations()
	v.sanctions()
	return v.list
}

// register indexes items by id, reporting malformed and duplicate ids.
func register[T any](v *checker, what string, items []*T, id func(*T) (string, Pos), pattern *regexp.Regexp, hint string) map[string]*T {
	m := make(map[string]*T, len(items))
	first := make(map[string]Pos, len(items))
	for _, it := range items {
		s, p := id(it)
		if s == "" {
			continue // reported as missing by the decoder
		}
		if !pattern.MatchString(s) {
			v.errorf(p, hint, "%s %q: malformed id", what, s)
		}
		if f, dup := first[s]; dup {
			v.errorf(p, "", "%s %q: duplicate id; first defined at %s", what, s, f)
			continue
		}
		first[s], m[s] = p, it
	}
	return m
}

// ref reports an undefined reference and suggests a near id.
func (v *checker) ref(p Pos, ctx, what, id string, ok bool, ids func() []string) bool {
	if id == "" || ok {
		return ok
	}
	v.errorf(p, suggest(id, ids()), "%s: undefined %s %q", ctx, what, id)
	return false
}

func keys[T any](m map[string]T) func() []string {
	return func() []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
}

func (v *checker) parties() {
	for _, p := range v.a.Parties {
		if p.ID == AnyParty {
			v.errorf(p.fields.at("id", p.Pos), "", "party %q: the id is reserved for every party", p.ID)
		}
	}
}

// partyRef checks a rule's or notice's party: any, or a party bound by the
// rules.
func (v *checker) partyRef(p Pos, ctx, id string) {
	if id == AnyParty || id == "" {
		return
	}
	pa, ok := v.a.idx.parties[id]
	if v.ref(p, ctx, "party", id, ok, keys(v.a.idx.parties)) && pa.Kind != PartyKindParty {
		v.errorf(p, "only parties of kind party are bound by the rules", "%s: party %q is a %s", ctx, id, pa.Kind)
	}
}

func (v *checker) identities() {
	byKey := map[string]*Identity{}
	for _, id := range v.a.Identities {
		ctx := fmt.Sprintf("identity %q", id.ID)
		if id.Role == RolePartyLiaison && id.Party == "" && id.bad.ok("role", "party") {
			v.errorf(id.Pos, "", "%s: a party-liaison needs a party", ctx)
		}
		_, ok := v.a.idx.parties[id.Party]
		v.ref(id.fields.at("party", id.Pos), ctx, "party", id.Party, ok, keys(v.a.idx.parties))
		switch {
		case !id.bad.ok("key"):
		case len(id.Key) != ed25519.PublicKeySize:
			v.errorf(id.fields.at("key", id.Pos), "", "%s: public key has %d bytes, want %d", ctx, len(id.Key), ed25519.PublicKeySize)
		case byKey[string(id.Key)] != nil:
			o := byKey[string(id.Key)]
			v.errorf(id.fields.at("key", id.Pos), "each identity signs with its own key", "%s: key already used by identity %q (%s)", ctx, o.ID, o.Pos)
		default:
			byKey[string(id.Key)] = id
		}
	}
}

func (v *checker) categories() {
	a := v.a
	a.idx.ancestors = map[string][]string{}
	reported := map[string]bool{}
	for _, c := range a.Categories {
		ctx := fmt.Sprintf("category %q", c.ID)
		if c.Parent != "" {
			_, ok := a.idx.categories[c.Parent]
			v.ref(c.fields.at("parent", c.Pos), ctx, "parent category", c.Parent, ok, keys(a.idx.categories))
		}
		if c.Class != "" && !slices.Contains(classes, c.Class) {
			hint := suggest(c.Class, classes)
			if hint == "" {
				hint = "one of " + strings.Join(classes, ", ")
			}
			v.errorf(c.fields.at("class", c.Pos), hint, "%s: unknown class %q", ctx, c.Class)
		}
		if b := c.Calibre; b != nil && c.bad.ok("calibre_mm") {
			p := c.fields.at("calibre_mm", c.Pos)
			if c.Class != "artillery" && c.bad.ok("class") {
				v.errorf(p, "", "%s: calibre_mm applies to class artillery only", ctx)
			}
			if b.Min > b.Max {
				v.errorf(p, "", "%s: calibre_mm: min %s is above max %s", ctx, num(b.Min), num(b.Max))
			}
			if b.Min < 0 {
				v.errorf(p, "", "%s: calibre_mm: min %s is negative", ctx, num(b.Min))
			}
		}
		// Walk up the parents; a walk that comes back to c is a cycle.
		chain := []string{c.ID}
		seen := map[string]bool{c.ID: true}
		for cur := c; cur.Parent != ""; {
			if seen[cur.Parent] {
				if cur.Parent == c.ID && !reported[c.ID] {
					for _, id := range chain {
						reported[id] = true
					}
					v.errorf(c.fields.at("parent", c.Pos), "", "%s: parent cycle %s -> %s", ctx, strings.Join(chain, " -> "), c.ID)
				}
				break
			}
			next, ok := a.idx.categories[cur.Parent]
			if !ok {
				break
			}
			chain = append(chain, next.ID)
			seen[next.ID] = true
			cur = next
		}
		if c.ID != "" && a.idx.categories[c.ID] == c {
			a.idx.ancestors[c.ID] = chain
		}
	}
}

// num formats a number as written.
func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func (v *checker) zone(z *Zone) {
	a := v.a
	ctx := fmt.Sprintf("zone %q", z.ID)
	s := &z.Shape
	if c := s.Corridor; c != nil && c.Line != "" {
		c.Coords = nil
		lz, ok := a.idx.zones[c.Line]
		p := z.fields.at("corridor.line", z.Pos)
		if v.ref(p, ctx+": corridor", "line zone", c.Line, ok, keys(a.idx.zones)) {
			if lz.Kind != ZoneLine {
				v.errorf(p, "", "%s: corridor: zone %q is a %s zone, not a line", ctx, c.Line, lz.Kind)
			} else {
				c.Coords = lz.Shape.Line
			}
		}
	}
	shapeKeys := []string{"shape", "geometry", "geometry_file", "corridor", "circle"}
	n := 0
	for _, set := range []bool{s.Polygons != nil, s.Line != nil, s.Corridor != nil, s.Circle != nil} {
		if set {
			n++
		}
	}
	switch {
	case !z.bad.ok(shapeKeys...):
	case n == 0:
		v.errorf(z.Pos, "", "%s: needs a shape: geometry, geometry_file, corridor or circle", ctx)
	case n > 1:
		v.errorf(z.Pos, "a zone has exactly one shape", "%s: has more than one shape", ctx)
	case !z.bad.ok("kind"):
	case z.Kind == ZoneLine && s.Line == nil:
		v.errorf(z.fields.at("kind", z.Pos), "", "%s: a zone of kind line needs a LineString geometry", ctx)
	case z.Kind != ZoneLine && s.Line != nil:
		v.errorf(z.geom.at, "set kind: line, or give an area", "%s: a LineString makes a line, not a %s zone", ctx, z.Kind)
	}
	if b := s.Altitude; b != nil && z.bad.ok("altitude_m") {
		p := z.fields.at("altitude_m", z.Pos)
		if z.Kind == ZoneLine && z.bad.ok("kind") {
			v.errorf(p, "", "%s: altitude_m does not apply to a line", ctx)
		}
		if b.Min >= b.Max {
			v.errorf(p, "", "%s: altitude_m: min %s is not below max %s", ctx, num(b.Min), num(b.Max))
		}
	}
	if z.bad.ok("geometry", "geometry_file") {
		v.geometry(z, ctx)
	}
	if c := s.Circle; c != nil {
		if z.bad.ok("circle.center") {
			v.lonLat(c.Center, z.fields.at("circle.center", z.Pos), func(p Pos, hint, format string, args ...any) {
				v.errorf(p, hint, "%s: circle: center: "+format, append([]any{ctx}, args...)...)
			})
		}
		if c.RadiusM <= 0 && z.bad.ok("circle.radius_m") {
			v.errorf(z.fields.at("circle.radius_m", z.Pos), "", "%s: circle: radius_m must be positive, got %s", ctx, num(c.RadiusM))
		}
	}
	if c := s.Corridor; c != nil && c.HalfWidthM <= 0 && z.bad.ok("corridor.half_width_m") {
		v.errorf(z.fields.at("corridor.half_width_m", z.Pos), "", "%s: corridor: half_width_m must be positive, got %s", ctx, num(c.HalfWidthM))
	}
}

// geometry checks a zone's lines and polygons, reporting in the file the
// geometry was read from.
func (v *checker) geometry(z *Zone, ctx string) {
	a, s := v.a, &z.Shape
	file := z.geom.file
	if file == "" {
		file = a.File
	}
	gerr := func(p Pos, hint, format string, args ...any) {
		f := file
		if p == (Pos{}) {
			p = z.geom.at
		}
		if p == (Pos{}) {
			f, p = a.File, z.Pos
		}
		v.add(f, p, hint, "%s: "+format, append([]any{ctx}, args...)...)
	}
	if s.Line != nil {
		for i, pt := range s.Line {
			v.lonLat(pt, at(z.geom.line, i), gerr)
		}
		if len(s.Line) < 2 {
			gerr(z.geom.lineAt, "", "line has %d position(s), needs at least 2", len(s.Line))
		}
	}
	if s.Polygons != nil && len(s.Polygons) == 0 {
		gerr(z.geom.at, "", "multipolygon has no polygons")
	}
	for pi, poly := range s.Polygons {
		v.polygon(z, pi, poly, gerr)
	}
}

func at(ps []Pos, i int) Pos {
	if i < len(ps) {
		return ps[i]
	}
	return Pos{}
}

type reportFunc func(p Pos, hint, format string, args ...any)

// lonLat checks a position's ranges.
func (v *checker) lonLat(pt [2]float64, p Pos, report reportFunc) bool {
	lon, lat := pt[0], pt[1]
	ok := true
	if !(lat >= -90 && lat <= 90) {
		hint := ""
		if math.Abs(lon) <= 90 {
			hint = "coordinates are [lon, lat]; did you swap them?"
		}
		report(p, hint, "latitude %s out of range [-90, 90]", num(lat))
		ok = false
	}
	if !(lon >= -180 && lon <= 180) {
		report(p, "", "longitude %s out of range [-180, 180]", num(lon))
		ok = false
	}
	return ok
}

func (v *checker) polygon(z *Zone, pi int, poly [][][2]float64, report reportFunc) {
	where := ""
	if len(z.Shape.Polygons) > 1 {
		where = fmt.Sprintf("polygon %d: ", pi+1)
	}
	ringAt := func(ri int) Pos {
		if pi < len(z.geom.rings) {
			return at(z.geom.rings[pi], ri)
		}
		return Pos{}
	}
	vertAt := func(ri, k int) Pos {
		if pi < len(z.geom.verts) && ri < len(z.geom.verts[pi]) {
			return at(z.geom.verts[pi][ri], k)
		}
		return Pos{}
	}
	if len(poly) == 0 {
		report(ringAt(0), "", "%spolygon has no rings", where)
		return
	}
	geodesic := v.a.Edges == EdgesGeodesic
	var outer [][2]float64 // the outer ring, unwrapped; nil when unusable
	for ri, ring := range poly {
		name := "ring"
		if ri > 0 {
			name = fmt.Sprintf("hole %d", ri)
		}
		ok := true
		for k, pt := range ring {
			ok = v.lonLat(pt, vertAt(ri, k), report) && ok
		}
		if len(ring) < 4 {
			report(ringAt(ri), "a ring is closed and has at least 4 positions", "%s%s has %d position(s), needs at least 4", where, name, len(ring))
			continue
		}
		if ring[0] != ring[len(ring)-1] {
			f := ring[0]
			report(vertAt(ri, len(ring)-1), fmt.Sprintf("repeat the first position [%s, %s] at the end", num(f[0]), num(f[1])), "%s%s not closed", where, name)
			continue
		}
		if !ok {
			continue
		}
		pts := ring
		if geodesic {
			pts = unwrap(ring)
		}
		if e, p, found := selfIntersection(pts); found {
			if geodesic {
				p[0] = shiftNear(p[0], 0)
			}
			report(vertAt(ri, e), "", "%s%s self-intersects near [%s, %s]", where, name, num(round(p[0])), num(round(p[1])))
			continue
		}
		if ri == 0 {
			if pts[0] == pts[len(pts)-1] { // not around a pole
				outer = pts
			}
			continue
		}
		if outer == nil {
			continue
		}
		minX, maxX := outer[0][0], outer[0][0]
		for _, q := range outer {
			minX, maxX = min(minX, q[0]), max(maxX, q[0])
		}
		for _, q := range ring {
			if geodesic {
				q[0] = shiftNear(q[0], (minX+maxX)/2)
			}
			if !inRing(outer, q) {
				report(ringAt(ri), "", "%s%s is not inside its outer ring", where, name)
				break
			}
		}
	}
}

func round(f float64) float64 { return math.Round(f*1e6) / 1e6 }

func (v *checker) rules() {
	a := v.a
	window := map[*Rule]bool{} // rules with a usable window
	for _, r := range a.Rules {
		ctx := fmt.Sprintf("rule %q", r.ID)
		if r.Class == "" {
			r.Class = r.ID
		}
		if r.Party == "" {
			r.Party = AnyParty
		}
		if r.Class != "" && !idPattern.MatchString(r.Class) {
			v.errorf(r.fields.at("class", r.Pos), idHint, "%s: malformed class %q", ctx, r.Class)
		}
		if r.bad.ok("kind") {
			switch r.Kind {
			case RuleProhibit, RuleCeiling, RuleConfine:
				if r.Zone == "" && r.bad.ok("zone") {
					v.errorf(r.Pos, "", "%s: a %s rule needs a zone", ctx, r.Kind)
				}
				if r.Kind == RuleCeiling && r.Max < 0 && r.bad.ok("max") {
					v.errorf(r.fields.at("max", r.Pos), "", "%s: max must be at least 0, got %d", ctx, r.Max)
				}
			case RuleStandOff:
				if r.Line == "" && r.bad.ok("line") {
					v.errorf(r.Pos, "", "%s: a stand-off rule needs a line", ctx)
				}
				if !(r.DistanceM > 0) && r.bad.ok("distance_m") {
					v.errorf(r.fields.at("distance_m", r.Pos), "", "%s: distance_m must be positive, got %s", ctx, num(r.DistanceM))
				}
			}
		}
		if z, ok := a.idx.zones[r.Zone]; v.ref(r.fields.at("zone", r.Pos), ctx, "zone", r.Zone, ok, keys(a.idx.zones)) && z.Kind == ZoneLine {
			v.errorf(r.fields.at("zone", r.Pos), notAreaHint, "%s: zone %q is a line, not an area", ctx, r.Zone)
		}
		if z, ok := a.idx.zones[r.Line]; v.ref(r.fields.at("line", r.Pos), ctx, "line zone", r.Line, ok, keys(a.idx.zones)) && z.Kind != ZoneLine {
			v.errorf(r.fields.at("line", r.Pos), "", "%s: line: zone %q is a %s zone, not a line", ctx, r.Line, z.Kind)
		}
		_, ok := a.idx.categories[r.Category]
		v.ref(r.fields.at("category", r.Pos), ctx, "category", r.Category, ok, keys(a.idx.categories))
		v.partyRef(r.fields.at("party", r.Pos), ctx, r.Party)
		fromOK := v.when(r.fields.at("from", r.Pos), ctx+": from", r.FromPhase, &r.From)
		untilOK := v.when(r.fields.at("until", r.Pos), ctx+": until", r.UntilPhase, &r.Until)
		switch {
		case !fromOK || !untilOK || !r.bad.ok("from", "until"):
		case !r.Until.IsZero() && !r.Until.After(r.From):
			v.errorf(r.fields.at("until", r.Pos), "", "%s: until %s is not after from %s", ctx, written(r.UntilPhase, r.Until), written(r.FromPhase, r.From))
		default:
			window[r] = true
		}
	}
	// Overlapping windows of rules on the same thing.
	type key struct {
		kind              RuleKind
		place, cat, party string
	}
	groups := map[key][]*Rule{}
	for _, r := range a.Rules {
		if r.ID == "" || !window[r] || !r.bad.ok("kind", "zone", "line", "category", "party") {
			continue
		}
		place := r.Zone
		if r.Kind == RuleStandOff {
			place = r.Line
		}
		k := key{r.Kind, place, r.Category, r.Party}
		for _, o := range groups[k] {
			if overlaps(o, r) {
				v.errorf(r.Pos, "rules of the same kind, place, category and party may not be in force at once", "rule %q: overlaps rule %q (%s)", r.ID, o.ID, o.Pos)
				break
			}
		}
		groups[k] = append(groups[k], r)
	}
}

func overlaps(a, b *Rule) bool {
	before := func(from, until time.Time) bool { return until.IsZero() || from.Before(until) }
	return before(a.From, b.Until) && before(b.From, a.Until)
}

// written returns how a rule time was written.
func written(phase string, t time.Time) string {
	if phase != "" {
		return strconv.Quote(phase)
	}
	return t.Format(time.RFC3339)
}

// when resolves a phase reference into *t; it reports false when the time
// is unusable.
func (v *checker) when(p Pos, ctx, phase string, t *time.Time) bool {
	if phase == "" {
		return true
	}
	ph, ok := v.a.idx.phases[phase]
	if ok {
		*t = ph.Start
		return true
	}
	if datePattern.MatchString(phase) {
		v.errorf(p, `use RFC 3339, e.g. "2026-12-01T00:00:00Z", or a phase id`, "%s: invalid timestamp %q", ctx, phase)
	} else {
		v.ref(p, ctx, "phase", phase, false, keys(v.a.idx.phases))
	}
	return false
}

func (v *checker) duration(p Pos, ctx string, d time.Duration) {
	if d < 0 {
		v.errorf(p, "", "%s: duration %s is negative", ctx, d)
	}
}

func (v *checker) obligations() {
	a := v.a
	ob := &a.Obligations
	for _, n := range ob.PriorNotice {
		ctx := fmt.Sprintf("prior notice %q", n.ID)
		if n.Party == "" {
			n.Party = AnyParty
		}
		_, ok := a.idx.categories[n.Category]
		v.ref(n.fields.at("category", n.Pos), ctx, "category", n.Category, ok, keys(a.idx.categories))
		for i, zid := range n.Zones {
			p := n.fields.at(fmt.Sprintf("zones[%d]", i), n.fields.at("zones", n.Pos))
			if z, ok := a.idx.zones[zid]; v.ref(p, ctx, "zone", zid, ok, keys(a.idx.zones)) && z.Kind == ZoneLine {
				v.errorf(p, notAreaHint, "%s: zone %q is a line, not an area", ctx, zid)
			}
		}
		v.partyRef(n.fields.at("party", n.Pos), ctx, n.Party)
		if n.MinCount < 1 && n.bad.ok("min_count") {
			v.errorf(n.fields.at("min_count", n.Pos), "", "%s: min_count must be at least 1, got %d", ctx, n.MinCount)
		}
		if n.bad.ok("lead_time") {
			v.duration(n.fields.at("lead_time", n.Pos), ctx+": lead_time", n.LeadTime)
		}
	}
	v.duration(ob.fields.at("acknowledgement.alert", ob.Pos), "obligations: acknowledgement: alert", ob.Acknowledgement.Alert)
	v.duration(ob.fields.at("acknowledgement.hotline", ob.Pos), "obligations: acknowledgement: hotline", ob.Acknowledgement.Hotline)
	v.duration(ob.fields.at("review", ob.Pos), "obligations: review", ob.Review)
	v.duration(ob.fields.at("reporting.cadence", ob.Pos), "obligations: reporting: cadence", ob.Reporting.Cadence)
}

func (v *checker) sanctions() {
	a := v.a
	s := &a.Sanctions
	if s.Council != nil {
		v.ballot(s.Council, "council")
	}
	declared := map[string]bool{}
	var classList []string
	for _, r := range a.Rules {
		if !declared[r.Class] {
			declared[r.Class] = true
			classList = append(classList, r.Class)
		}
	}
	rows := map[string]*MatrixRow{}
	for _, row := range s.Matrix {
		ctx := fmt.Sprintf("class %q", row.Class)
		cp := row.fields.at("class", row.Pos)
		if row.Class != "" {
			if o, dup := rows[row.Class]; dup {
				v.errorf(cp, "", "%s: duplicate matrix row; first at %s", ctx, o.Pos)
			} else {
				rows[row.Class] = row
			}
			if !declared[row.Class] {
				v.errorf(cp, suggest(row.Class, classList), "%s: no rule declares this class", ctx)
			}
		}
		repeats := map[int]*Measure{}
		for _, m := range row.Measures {
			mctx := fmt.Sprintf("%s: repeat %d", ctx, m.Repeat)
			if m.Name != "" && !idPattern.MatchString(m.Name) {
				v.errorf(m.fields.at("measure", m.Pos), idHint, "%s: malformed measure %q", mctx, m.Name)
			}
			rp := m.fields.at("repeat", m.Pos)
			switch {
			case !m.bad.ok("repeat"):
			case m.Repeat < 1:
				v.errorf(rp, "", "%s: repeat must be at least 1", mctx)
			case repeats[m.Repeat] != nil:
				v.errorf(rp, "", "%s: repeat count listed twice; first at %s", mctx, repeats[m.Repeat].Pos)
			default:
				repeats[m.Repeat] = m
			}
			switch {
			case !m.bad.ok("automatic", "vote"):
			case m.Automatic != nil && m.Vote != nil:
				v.errorf(m.Pos, "a measure is either automatic or voted", "%s: has both automatic and vote", mctx)
			case m.Automatic == nil && m.Vote == nil:
				v.errorf(m.Pos, "add automatic: {min_certainty: ...} or vote: {}", "%s: needs automatic or vote", mctx)
			}
			if m.Vote != nil {
				v.ballot(m.Vote, mctx+": vote")
			}
		}
	}
}

// ballot checks a council or a vote. A vote completed from the council is
// checked only where it differs, so a fault of the council is reported
// once.
func (v *checker) ballot(b *Ballot, ctx string) {
	// own reports whether a check on keys belongs to this ballot: none of
	// them failed to decode, and one at least was written here (a vote
	// repeats none of its council's faults).
	own := func(keys ...string) bool {
		for _, k := range keys {
			if b.bad[k] {
				return false
			}
		}
		if !b.inherited {
			return true
		}
		for _, k := range keys {
			if _, ok := b.fields[k]; ok {
				return true
			}
		}
		return false
	}
	pos := func(key string) Pos { return b.fields.at(key, b.Pos) }
	members := map[string]bool{}
	if own("members") {
		for i, m := range b.Members {
			id, ok := v.a.idx.identities[m]
			p := b.fields.at(fmt.Sprintf("members[%d]", i), pos("members"))
			switch {
			case members[m]:
				v.errorf(p, "", "%s: member %q listed twice", ctx, m)
			case !v.ref(p, ctx, "identity", m, ok, keys(v.a.idx.identities)):
			case id.Role != RoleCouncilMember:
				v.errorf(p, "", "%s: member %q is a %s, not a council-member", ctx, m, id.Role)
			}
			members[m] = true
		}
		if len(b.Members) == 0 {
			v.errorf(pos("members"), "list members, or define sanctions.council", "%s: no members", ctx)
		}
	}
	for _, m := range b.Members {
		members[m] = true
	}
	if own("quorum") && b.Quorum < 1 {
		v.errorf(pos("quorum"), "", "%s: quorum %d must be at least 1", ctx, b.Quorum)
	}
	if own("quorum", "members") && len(b.Members) > 0 && b.Quorum > len(members) {
		p := pos("quorum")
		if _, ok := b.fields["quorum"]; !ok {
			p = pos("members")
		}
		v.errorf(p, "", "%s: quorum %d exceeds the %d members", ctx, b.Quorum, len(members))
	}
	if b.Veto != nil && own("veto", "members") {
		for i, h := range b.Veto.Holders {
			if !members[h] {
				v.errorf(b.fields.at(fmt.Sprintf("veto.holders[%d]", i), pos("veto.holders")), "", "%s: veto holder %q is not a member", ctx, h)
			}
		}
		if len(b.Veto.Holders) == 0 {
			v.errorf(pos("veto.holders"), "", "%s: veto has no holders", ctx)
		}
		v.duration(pos("veto.window"), ctx+": veto: window", b.Veto.Window)
	}
	if own("deadline") {
		v.duration(pos("deadline"), ctx+": deadline", b.Deadline)
	}
}
