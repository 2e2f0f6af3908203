package agreement

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// The keys of each mapping of the format.
var (
	topKeys         = []string{"truce", "id", "title", "d_day", "edges", "phases", "parties", "identities", "categories", "zones", "rules", "obligations", "sanctions"}
	phaseKeys       = []string{"id", "day", "name"}
	partyKeys       = []string{"id", "name", "kind", "transponders"}
	transponderKeys = []string{"mmsi", "icao"}
	identityKeys    = []string{"id", "name", "role", "party", "key"}
	categoryKeys    = []string{"id", "name", "parent", "class", "calibre_mm"}
	bandKeys        = []string{"min", "max"}
	zoneKeys        = []string{"id", "name", "kind", "geometry", "geometry_file", "corridor", "circle", "altitude_m"}
	shapeKeys       = []string{"geometry", "geometry_file", "corridor", "circle"}
	geometryKeys    = []string{"type", "coordinates", "bbox"}
	corridorKeys    = []string{"line", "half_width_m"}
	circleKeys      = []string{"center", "radius_m"}
	ruleKeys        = []string{"id", "kind", "zone", "line", "category", "party", "max", "distance_m", "from", "until", "class"}
	obligationKeys  = []string{"prior_notice", "acknowledgement", "review", "reporting"}
	noticeKeys      = []string{"id", "category", "min_count", "lead_time", "zones", "party"}
	ackKeys         = []string{"alert", "hotline"}
	reportingKeys   = []string{"cadence", "public"}
	sanctionKeys    = []string{"council", "matrix"}
	ballotKeys      = []string{"members", "quorum", "majority", "veto", "deadline"}
	vetoKeys        = []string{"holders", "window"}
	matrixKeys      = []string{"class", "measures"}
	measureKeys     = []string{"repeat", "measure", "automatic", "vote"}
	automaticKeys   = []string{"min_certainty"}
	ruleKindKeys    = map[RuleKind][]string{RuleProhibit: {"zone"}, RuleCeiling: {"zone", "max"}, RuleStandOff: {"line", "distance_m"}, RuleConfine: {"zone"}}
	ruleKindOptKeys = []string{"zone", "line", "max", "distance_m"}
)

func (d *decoder) agreement(root ast.Node) *Agreement {
	a := &Agreement{File: d.file}
	o := d.object(root, "", topKeys)
	if o == nil {
		return a
	}
	a.Pos, a.fields = o.pos, o.fields
	o.require("truce", "id", "d_day")
	if v, ok := o.int("truce"); ok {
		a.Truce = v
		if v != 1 {
			o.errorf("truce", "this truce reads version 1", "unsupported format version %d", v)
		}
	}
	a.ID = o.str("id")
	a.Title = o.str("title")
	a.DDay = o.timestamp("d_day")
	a.Edges = Edges(o.enum("edges", edgesNames, "edges"))
	for i, n := range o.list("phases") {
		if e := d.element(n, "phases", i, "phase", phaseKeys); e != nil {
			p := &Phase{Pos: e.pos, fields: e.fields, bad: e.bad}
			e.require("id", "day")
			p.ID = e.str("id")
			p.Day, _ = e.int("day")
			p.Name = e.str("name")
			a.Phases = append(a.Phases, p)
		}
	}
	for i, n := range o.list("parties") {
		if e := d.element(n, "parties", i, "party", partyKeys); e != nil {
			e.require("id", "kind")
			p := &Party{
				ID: e.str("id"), Name: e.str("name"),
				Kind: PartyKind(e.enum("kind", partyKindNames, "party kind")),
				Pos:  e.pos, fields: e.fields, bad: e.bad,
			}
			if t := e.obj("transponders", transponderKeys); t != nil {
				p.Transponders = Transponders{MMSI: t.strs("mmsi"), ICAO: t.strs("icao")}
			}
			a.Parties = append(a.Parties, p)
		}
	}
	for i, n := range o.list("identities") {
		if e := d.element(n, "identities", i, "identity", identityKeys); e != nil {
			e.require("id", "role", "key")
			id := &Identity{
				ID: e.str("id"), Name: e.str("name"),
				Role:  Role(e.enum("role", roleNames, "role")),
				Party: e.str("party"),
				Pos:   e.pos, fields: e.fields, bad: e.bad,
			}
			if s, ok := e.strOK("key"); ok {
				k, err := ParsePublicKey(s)
				if err != nil {
					e.errorf("key", `write "ed25519:" and the standard base64 of the 32-byte public key`, "%v", err)
					e.markBad("key")
				}
				id.Key = k
			}
			a.Identities = append(a.Identities, id)
		}
	}
	for i, n := range o.list("categories") {
		if e := d.element(n, "categories", i, "category", categoryKeys); e != nil {
			e.require("id")
			c := &Category{
				ID: e.str("id"), Name: e.str("name"), Parent: e.str("parent"), Class: e.str("class"),
				Pos: e.pos, fields: e.fields, bad: e.bad,
			}
			if e.has("calibre_mm") {
				c.Calibre = d.band(e, "calibre_mm", 0)
			}
			a.Categories = append(a.Categories, c)
		}
	}
	for i, n := range o.list("zones") {
		if z := d.zone(n, i); z != nil {
			a.Zones = append(a.Zones, z)
		}
	}
	for i, n := range o.list("rules") {
		if r := d.rule(n, i); r != nil {
			a.Rules = append(a.Rules, r)
		}
	}
	if ob := o.obj("obligations", obligationKeys); ob != nil {
		d.obligations(ob, &a.Obligations)
	}
	if so := o.obj("sanctions", sanctionKeys); so != nil {
		d.sanctions(so, &a.Sanctions)
	}
	return a
}

// band decodes a {min, max} band; an omitted end is lo or +Inf.
func (d *decoder) band(o *object, key string, lo float64) *Band {
	bo := o.obj(key, bandKeys)
	if bo == nil {
		return nil
	}
	if !bo.has("min") && !bo.has("max") {
		d.errorAt(bo.pos, "", "%s: needs min, max or both", o.at(key))
	}
	b := &Band{Min: lo, Max: math.Inf(1)}
	if v, ok := bo.float("min"); ok {
		b.Min = v
	}
	if v, ok := bo.float("max"); ok {
		b.Max = v
	}
	return b
}

func (d *decoder) zone(n ast.Node, i int) *Zone {
	e := d.element(n, "zones", i, "zone", zoneKeys)
	if e == nil {
		return nil
	}
	e.require("id", "kind")
	z := &Zone{
		ID: e.str("id"), Name: e.str("name"),
		Kind: ZoneKind(e.enum("kind", zoneKindNames, "zone kind")),
		Pos:  e.pos, fields: e.fields, bad: e.bad,
	}
	var shapes []string
	for _, k := range shapeKeys {
		if e.has(k) {
			shapes = append(shapes, k)
		}
	}
	switch {
	case len(shapes) == 0:
		d.errorAt(e.pos, "", "%s: needs a shape: geometry, geometry_file, corridor or circle", e.ctx)
		e.markBad("shape")
	case len(shapes) > 1:
		d.errorf(e.vals[shapes[1]], "a zone has exactly one shape", "%s: has both %s and %s", e.ctx, shapes[0], shapes[1])
		e.markBad("shape")
	}
	if e.has("geometry") {
		done := e.track("geometry")
		d.geometry(e.get("geometry"), e.ctx, z, geometryKeys)
		done()
	}
	if ref, ok := e.strOK("geometry_file"); ok {
		z.GeometryFile = ref
		done := e.track("geometry_file")
		d.geometryFile(e, ref, z)
		done()
	}
	if co := e.obj("corridor", corridorKeys); co != nil {
		co.require("line", "half_width_m")
		c := &Corridor{Line: co.str("line")}
		c.HalfWidthM, _ = co.float("half_width_m")
		z.Shape.Corridor = c
	}
	if ci := e.obj("circle", circleKeys); ci != nil {
		ci.require("center", "radius_m")
		c := &Circle{}
		if n := ci.get("center"); n != nil {
			done := ci.track("center")
			c.Center, _, _ = d.position(n, ci.at("center"))
			done()
		}
		c.RadiusM, _ = ci.float("radius_m")
		z.Shape.Circle = c
	}
	if e.has("altitude_m") {
		z.Shape.Altitude = d.band(e, "altitude_m", math.Inf(-1))
	}
	return z
}

// geometryFile reads and decodes a referenced GeoJSON file; its errors are
// reported in that file.
func (d *decoder) geometryFile(e *object, ref string, z *Zone) {
	if ref == "" || path.IsAbs(ref) || strings.HasPrefix(ref, `\`) || strings.Contains(ref, ":") {
		e.errorf("geometry_file", "", "%q is not a relative path", ref)
		return
	}
	if d.readFile == nil {
		e.errorf("geometry_file", "", "cannot read %q: no file reader", ref)
		return
	}
	name := geometryPath(d.file, ref)
	data, err := d.readFile(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			e.errorf("geometry_file", "the path is relative to the agreement file", "file %q not found", ref)
		} else {
			e.errorf("geometry_file", "", "cannot read %q: %v", ref, err)
		}
		return
	}
	gd := &decoder{file: name, c: d.c}
	z.geom.file = name
	if root := gd.parse(data); root != nil {
		gd.geojson(root, e.ctx, z)
	}
}

// geojson decodes a GeoJSON Geometry, Feature, or FeatureCollection of one
// feature. Foreign members are ignored, as RFC 7946 allows.
func (d *decoder) geojson(n ast.Node, ctx string, z *Zone) {
	o := d.object(n, ctx, nil)
	if o == nil {
		return
	}
	switch o.str("type") {
	case "FeatureCollection":
		o.require("features")
		fs := o.list("features")
		if len(fs) != 1 && o.has("features") {
			d.errorf(o.vals["features"], "put one feature in the file", "%s: want a FeatureCollection of one feature, got %d", ctx, len(fs))
		}
		if len(fs) > 0 {
			d.geojson(fs[0], ctx, z)
		}
	case "Feature":
		o.require("geometry")
		if g := o.get("geometry"); g != nil {
			d.geometry(g, ctx, z, nil)
		}
	default:
		d.geometry(n, ctx, z, nil)
	}
}

// geometry decodes a GeoJSON geometry object into z.Shape, keeping the
// positions of its rings and vertices.
func (d *decoder) geometry(n ast.Node, ctx string, z *Zone, known []string) {
	o := d.object(n, join(ctx, "geometry"), known)
	if o == nil {
		return
	}
	o.ctx = ctx
	z.geom.at = o.pos
	o.require("type", "coordinates")
	typ, ok := o.strOK("type")
	if !ok {
		return
	}
	coords := o.get("coordinates")
	switch typ {
	case "LineString":
		if coords != nil {
			z.Shape.Line, z.geom.line, z.geom.lineAt = d.positions(coords, ctx)
		}
	case "Polygon":
		if coords != nil {
			rings, rp, vp := d.polygon(coords, ctx)
			z.Shape.Polygons = [][][][2]float64{rings}
			z.geom.rings, z.geom.verts = [][]Pos{rp}, [][][]Pos{vp}
		}
	case "MultiPolygon":
		if coords != nil {
			for _, p := range d.seq(coords, ctx) {
				rings, rp, vp := d.polygon(p, ctx)
				z.Shape.Polygons = append(z.Shape.Polygons, rings)
				z.geom.rings, z.geom.verts = append(z.geom.rings, rp), append(z.geom.verts, vp)
			}
			if z.Shape.Polygons == nil {
				z.Shape.Polygons = [][][][2]float64{}
			}
		}
	default:
		o.errorf("type", "use Polygon, MultiPolygon or LineString", "geometry type %q not supported", typ)
	}
}

// seq returns the items of a sequence, reporting anything else.
func (d *decoder) seq(n ast.Node, ctx string) []ast.Node {
	n = d.value(n, ctx)
	if n == nil {
		return nil
	}
	s, ok := n.(*ast.SequenceNode)
	if !ok {
		d.errorf(n, "", "%s: want a sequence, got %s", ctx, describe(n))
		return nil
	}
	return s.Values
}

func (d *decoder) polygon(n ast.Node, ctx string) ([][][2]float64, []Pos, [][]Pos) {
	var rings [][][2]float64
	var rp []Pos
	var vp [][]Pos
	for _, r := range d.seq(n, ctx) {
		ring, pos, at := d.positions(r, ctx)
		rings, rp, vp = append(rings, ring), append(rp, at), append(vp, pos)
	}
	if rings == nil {
		rings = [][][2]float64{}
	}
	return rings, rp, vp
}

// positions decodes a list of positions.
func (d *decoder) positions(n ast.Node, ctx string) ([][2]float64, []Pos, Pos) {
	out := [][2]float64{}
	var ps []Pos
	for _, p := range d.seq(n, ctx) {
		if c, at, ok := d.position(p, ctx); ok {
			out, ps = append(out, c), append(ps, at)
		}
	}
	return out, ps, posOf(n)
}

// position decodes a [lon, lat] or [lon, lat, alt] position.
func (d *decoder) position(n ast.Node, ctx string) ([2]float64, Pos, bool) {
	items := d.seq(n, ctx)
	if items == nil {
		return [2]float64{}, Pos{}, false
	}
	if len(items) < 2 || len(items) > 3 {
		d.errorf(n, "", "%s: a position has 2 or 3 numbers [lon, lat, alt], got %d", ctx, len(items))
		return [2]float64{}, Pos{}, false
	}
	var c [2]float64
	ok := true
	for i := range 2 {
		v, good := d.number(d.value(items[i], ctx), ctx)
		c[i], ok = v, ok && good
	}
	if len(items) == 3 {
		_, good := d.number(d.value(items[2], ctx), ctx)
		ok = ok && good
	}
	return c, posOf(n), ok
}

func (d *decoder) rule(n ast.Node, i int) *Rule {
	e := d.element(n, "rules", i, "rule", ruleKeys)
	if e == nil {
		return nil
	}
	e.require("id", "kind", "category", "from")
	r := &Rule{
		ID:   e.str("id"),
		Kind: RuleKind(e.enum("kind", ruleKindNames, "rule kind")),
		Zone: e.str("zone"), Line: e.str("line"), Category: e.str("category"),
		Party: AnyParty, Class: e.str("class"),
		Pos: e.pos, fields: e.fields, bad: e.bad,
	}
	if p, ok := e.strOK("party"); ok {
		r.Party = p
	}
	r.Max, _ = e.int("max")
	r.DistanceM, _ = e.float("distance_m")
	r.From, r.FromPhase = e.when("from")
	r.Until, r.UntilPhase = e.when("until")
	if e.has("kind") && e.bad.ok("kind") {
		for _, k := range ruleKindOptKeys {
			if e.has(k) && !slices.Contains(ruleKindKeys[r.Kind], k) {
				e.errorf(k, "", "does not apply to a %s rule", r.Kind)
			}
		}
		if r.Kind == RuleCeiling && !e.has("max") {
			d.errorAt(e.pos, "", "%s: a ceiling rule needs max", e.ctx)
			e.markBad("max")
		}
	}
	return r
}

func (d *decoder) obligations(o *object, ob *Obligations) {
	ob.Pos = o.pos
	defer func() { ob.fields, ob.bad = o.own(), o.ownBad() }()
	for i, n := range o.list("prior_notice") {
		e := d.element(n, "prior_notice", i, "prior notice", noticeKeys)
		if e == nil {
			continue
		}
		e.require("id", "category", "lead_time")
		no := &Notice{
			ID: e.str("id"), Category: e.str("category"), MinCount: 1,
			LeadTime: e.duration("lead_time"), Zones: e.strs("zones"), Party: AnyParty,
			Pos: e.pos, fields: e.fields, bad: e.bad,
		}
		if v, ok := e.int("min_count"); ok {
			no.MinCount = v
		}
		if p, ok := e.strOK("party"); ok {
			no.Party = p
		}
		ob.PriorNotice = append(ob.PriorNotice, no)
	}
	if ao := o.obj("acknowledgement", ackKeys); ao != nil {
		ob.Acknowledgement = Acknowledgement{Alert: ao.duration("alert"), Hotline: ao.duration("hotline")}
	}
	ob.Review = o.duration("review")
	if ro := o.obj("reporting", reportingKeys); ro != nil {
		ob.Reporting = Reporting{Cadence: ro.duration("cadence"), Public: ro.bool("public")}
	}
}

func (d *decoder) sanctions(o *object, s *Sanctions) {
	s.Pos = o.pos
	if n := o.raw("council"); n != nil {
		s.Council = d.ballot(d.object(n, "council", ballotKeys), nil, false)
	}
	for i, n := range o.list("matrix") {
		e := d.object(n, fmt.Sprintf("matrix[%d]", i), matrixKeys)
		if e == nil {
			continue
		}
		e.require("class", "measures")
		row := &MatrixRow{Class: e.str("class"), Pos: e.pos, fields: e.fields, bad: e.bad}
		if row.Class != "" {
			e.ctx = fmt.Sprintf("class %q", row.Class)
		}
		for j, mn := range e.list("measures") {
			mo := d.object(mn, fmt.Sprintf("%s: measures[%d]", e.ctx, j), measureKeys)
			if mo == nil {
				continue
			}
			mo.require("repeat", "measure")
			m := &Measure{Name: mo.str("measure"), Pos: mo.pos, fields: mo.fields, bad: mo.bad}
			if v, ok := mo.int("repeat"); ok {
				m.Repeat = v
				mo.ctx = fmt.Sprintf("%s: repeat %d", e.ctx, v)
			}
			if ao := mo.obj("automatic", automaticKeys); ao != nil {
				ao.require("min_certainty")
				m.Automatic = &Automatic{MinCertainty: Certainty(ao.enum("min_certainty", certaintyNames, "certainty"))}
			}
			if mo.has("vote") {
				m.Vote = d.ballot(mo.obj("vote", ballotKeys), s.Council, true)
			}
			row.Measures = append(row.Measures, m)
		}
		s.Matrix = append(s.Matrix, row)
	}
}

// ballot decodes a council, or a measure's vote completed with the
// council's defaults.
func (d *decoder) ballot(o *object, council *Ballot, vote bool) *Ballot {
	if o == nil {
		return nil
	}
	b := &Ballot{}
	if vote && council != nil {
		*b = *council
		b.Members = slices.Clone(council.Members)
		if council.Veto != nil {
			v := *council.Veto
			v.Holders = slices.Clone(v.Holders)
			b.Veto = &v
		}
		b.inherited = true
	}
	if !vote {
		o.require("members", "quorum")
	}
	b.Pos = o.pos
	if o.has("members") {
		b.Members = o.strs("members")
	}
	if v, ok := o.int("quorum"); ok {
		b.Quorum = v
	}
	if o.has("majority") {
		b.Majority = Majority(o.enum("majority", majorityNames, "majority"))
	}
	if vo := o.obj("veto", vetoKeys); vo != nil {
		vo.require("holders", "window")
		b.Veto = &Veto{Holders: vo.strs("holders"), Window: vo.duration("window")}
	}
	if o.has("deadline") {
		b.Deadline = o.duration("deadline")
	}
	b.fields, b.bad = o.own(), o.ownBad()
	return b
}
