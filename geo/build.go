package geo

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/golang/geo/r3"
	"github.com/golang/geo/s2"
)

// Refinement parameters. A boundary cell is split until it is at least at
// the target level (chosen from the total boundary length, see
// targetLevel) and holds at most maxEdges edges of any polygon; corridor
// cells split for the same reason at most lineExtra levels past the
// target, and not at all when more than maxLineEdges segments matter (far
// from a densely sampled line every small cell still sees many segments,
// so splitting would not pay; those cells ask the line's hierarchy).
const (
	maxEdges     = 8
	lineExtra    = 2
	maxLineEdges = 24
	cellBudget   = 150_000 // boundary cells wanted at the target level
	maxTarget    = 15      // about 300 m cells
	minTarget    = 6
	maxCellLevel = 30
)

// shape is one polygon (outer ring and holes) of an area zone.
type shape struct {
	zone   int32
	planar bool
	e0, e1 int        // its edges in sarcs or pedges
	loops  []*s2.Loop // geodesic: normalized rings, to seed containment at the root
	bands  *planarBands
}

// circle is a circle zone.
type circle struct {
	zone int32
	c    r3.Vector
	r    float64 // radians
}

// Per-cell build state: what is still undecided inside the cell.
type shapeRef struct {
	id     int32
	inside bool    // geodesic: whether the cell's cap centre is inside
	edges  []int32 // edges that may meet the cell
}

type lineRef struct {
	id    int32
	many  bool      // more than maxLineEdges segments may matter: edges unused
	edges []int32   // segments that may matter inside the cell
	ds    []float64 // their angles from the cell's cap centre
	corr  []int32   // corridor zones on this line still undecided
}

type state struct {
	full    []int32 // zones containing the whole cell, ascending
	shapes  []shapeRef
	lines   []lineRef
	circles []int32
}

type builder struct {
	ix       *Index
	shapes   []shape
	circles  []circle
	lineCorr [][]int32 // per line: its corridor zones with a width > 0
	target   int
	fullKey  map[string]uint32
	lastEnd  uint64
	keyBuf   []byte
	dsBuf    []float64
	estCells int // boundary cells expected at the target level
}

// NewIndex compiles zones into an Index. edges says how polygon edges run;
// corridors and circles are geodesic either way. Zone i of the result is
// zones[i].
func NewIndex(zones []Zone, edges Edges) (*Index, error) {
	if edges != Geodesic && edges != Planar {
		return nil, fmt.Errorf("geo: unknown edges convention %d", int(edges))
	}
	ix := &Index{zones: make([]zoneInfo, len(zones))}
	b := &builder{ix: ix, fullKey: map[string]uint32{}}
	lineOf := map[string]int32{}
	for i := range zones {
		z := &zones[i]
		k, err := z.validate()
		if err != nil {
			return nil, fmt.Errorf("geo: zone %d: %w", i, err)
		}
		zi := zoneInfo{kind: k, line: -1}
		if z.Altitude != nil {
			zi.band, zi.min, zi.max = true, z.Altitude.Min, z.Altitude.Max
		}
		switch k {
		case kindArea:
			for _, poly := range z.Polygons {
				if edges == Planar {
					b.addPlanar(int32(i), poly)
				} else if err := b.addGeodesic(int32(i), poly); err != nil {
					return nil, fmt.Errorf("geo: zone %d: %w", i, err)
				}
			}
		case kindCorridor:
			// Corridors on the same line share its segments, its distance
			// hierarchy and, in a cell, one distance computation.
			key := lineKey(z.Line)
			l, ok := lineOf[key]
			if !ok {
				l = int32(len(ix.lines))
				lineOf[key] = l
				ix.lines = append(ix.lines, newPolyline(z.Line))
				b.lineCorr = append(b.lineCorr, nil)
			}
			zi.line, zi.width = l, z.HalfWidth/EarthRadius
			if zi.width > 0 {
				b.lineCorr[l] = append(b.lineCorr[l], int32(i))
			}
		case kindCircle:
			b.circles = append(b.circles, circle{zone: int32(i), c: toXYZ(z.Center), r: min(z.Radius/EarthRadius, math.Pi)})
		}
		ix.zones[i] = zi
	}
	b.target = b.targetLevel()
	ix.level = b.target
	// Size the flat arrays from the expected number of boundary cells
	// (ratios measured on the example set) to spare repeated regrowth.
	ix.entries = make([]entry, 1, b.estCells)
	ix.starts = make([]uint64, 0, 3*b.estCells)
	ix.ent = make([]uint32, 0, 3*b.estCells)
	ix.tests = make([]test, 0, b.estCells)
	ix.eidx = make([]int32, 0, 4*b.estCells)
	ix.elb = make([]float64, 0, 4*b.estCells)

	// The root state: everything undecided, every edge a candidate.
	root := &state{}
	for i, sh := range b.shapes {
		all := make([]int32, 0, sh.e1-sh.e0)
		for e := sh.e0; e < sh.e1; e++ {
			all = append(all, int32(e))
		}
		root.shapes = append(root.shapes, shapeRef{id: int32(i), edges: all})
	}
	for l, corr := range b.lineCorr {
		if len(corr) == 0 {
			continue
		}
		lr := lineRef{id: int32(l), corr: corr, many: len(ix.lines[l].arcs) > maxLineEdges}
		if !lr.many {
			for e := range ix.lines[l].arcs {
				lr.edges = append(lr.edges, int32(e))
			}
		}
		root.lines = append(root.lines, lr)
	}
	for i := range b.circles {
		root.circles = append(root.circles, int32(i))
	}
	for f := range 6 {
		b.visit(s2.CellFromCellID(s2.CellIDFromFace(f)), root, r3.Vector{}, true)
	}
	if len(ix.starts) == 0 {
		b.push(0, 0)
	}
	for i := 1; i < len(ix.starts); i++ {
		if ix.starts[i] <= ix.starts[i-1] {
			return nil, fmt.Errorf("geo: internal error: cell ranges out of order at %d", i)
		}
	}
	ix.buildBuckets()
	// Drop spare capacity: the index lives long.
	ix.starts, ix.ent = trim(ix.starts), trim(ix.ent)
	ix.entries, ix.zlist, ix.tests = trim(ix.entries), trim(ix.zlist), trim(ix.tests)
	ix.eidx, ix.elb = trim(ix.eidx), trim(ix.elb)
	return ix, nil
}

// trim returns s with little spare capacity, copying it if need be.
func trim[T any](s []T) []T {
	if cap(s) > len(s)+len(s)/8+16 {
		return slices.Clone(s)
	}
	return s
}

// lineKey identifies a polyline by its exact coordinates.
func lineKey(pts []Point) string {
	buf := make([]byte, 0, 16*len(pts))
	for _, p := range pts {
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(p.Lon))
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(p.Lat))
	}
	return string(buf)
}

// ringPoints converts a ring to distinct unit vectors (two positions can map
// to one point, e.g. different longitudes at a pole).
func ringPoints(ring []Point) []s2.Point {
	var vs []s2.Point
	for _, p := range openRing(ring) {
		v := toS2(p)
		if len(vs) > 0 && v.Sub(vs[len(vs)-1].Vector).Norm2() < 1e-30 {
			continue
		}
		vs = append(vs, v)
	}
	for len(vs) > 1 && vs[0].Sub(vs[len(vs)-1].Vector).Norm2() < 1e-30 {
		vs = vs[:len(vs)-1]
	}
	return vs
}

func (b *builder) addGeodesic(zone int32, poly [][]Point) error {
	sh := shape{zone: zone, e0: len(b.ix.sarcs)}
	for j, ring := range poly {
		vs := ringPoints(ring)
		if len(vs) < 3 {
			return fmt.Errorf("ring %d has fewer than 3 distinct vertices", j)
		}
		l := s2.LoopFromPoints(vs)
		// Of the two regions the ring bounds, take the smaller; holes too.
		// The polygon is then the even-odd combination of its rings.
		l.Normalize()
		sh.loops = append(sh.loops, l)
		lv := l.Vertices()
		for k := range lv {
			b.ix.sarcs = append(b.ix.sarcs, newArc(lv[k], lv[(k+1)%len(lv)]))
		}
	}
	sh.e1 = len(b.ix.sarcs)
	b.shapes = append(b.shapes, sh)
	return nil
}

func (b *builder) addPlanar(zone int32, poly [][]Point) {
	sh := shape{zone: zone, planar: true, e0: len(b.ix.pedges)}
	for _, ring := range poly {
		r := openRing(ring)
		for k := range r {
			p, q := r[k], r[(k+1)%len(r)]
			b.ix.pedges = append(b.ix.pedges, pedge{p.Lon, p.Lat, q.Lon, q.Lat})
		}
	}
	sh.e1 = len(b.ix.pedges)
	sh.bands = newPlanarBands(b.ix.pedges, sh.e0, sh.e1)
	b.shapes = append(b.shapes, sh)
}

// containsRoot reports whether geodesic shape sh contains p, the slow way.
func (sh *shape) containsRoot(p s2.Point) bool {
	in := false
	for _, l := range sh.loops {
		if l.ContainsPoint(p) {
			in = !in
		}
	}
	return in
}

// targetLevel picks the finest level (up to maxTarget) at which the
// boundaries, laid end to end, cross about cellBudget cells: it bounds the
// index's memory whatever the zones' size, while small zone sets get cells
// so fine that few lookups ever need an exact test.
func (b *builder) targetLevel() int {
	var length float64 // radians on the unit sphere
	for _, e := range b.ix.sarcs {
		length += angle(e.a.Vector, e.b.Vector)
	}
	for _, e := range b.ix.pedges {
		length += math.Hypot(e.bx-e.ax, e.by-e.ay) * degree
	}
	for l, corr := range b.lineCorr {
		ws := map[float64]bool{}
		for _, z := range corr {
			ws[b.ix.zones[z].width] = true
		}
		for w := range ws {
			length += 2*b.ix.lines[l].length + 2*math.Pi*math.Sin(min(w, math.Pi/2))
		}
	}
	for _, c := range b.circles {
		length += 2 * math.Pi * math.Sin(min(c.r, math.Pi/2))
	}
	l := maxTarget
	for l > minTarget && length/s2.AvgEdgeMetric.Value(l) > cellBudget {
		l--
	}
	b.estCells = int(length/s2.AvgEdgeMetric.Value(l)) + 64
	return l
}

// visit classifies cell c given its parent's state (whose cap centre is
// pcc) and either emits it or recurses into its children.
func (b *builder) visit(c s2.Cell, par *state, pcc r3.Vector, root bool) {
	capb := c.CapBound()
	cc := capb.Center().Vector
	rad := capb.Radius().Radians()*(1+1e-9) + 1e-15
	ix := b.ix
	var nf []int32 // zones found to contain the whole cell here
	st := &state{
		shapes:  make([]shapeRef, 0, len(par.shapes)),
		lines:   make([]lineRef, 0, len(par.lines)),
		circles: make([]int32, 0, len(par.circles)),
	}

	var rect *[2][4]float64 // planar pieces of the cell's lat/lng bound, computed on demand
	var npieces int
	for _, sr := range par.shapes {
		sh := &b.shapes[sr.id]
		if sh.planar {
			if rect == nil {
				rect = new([2][4]float64)
				npieces = rectPieces(c.RectBound(), rect)
			}
			edges := make([]int32, 0, len(sr.edges))
			for _, e := range sr.edges {
				pe := &ix.pedges[e]
				for k := range npieces {
					r := &rect[k]
					if pe.hitsRect(r[0], r[1], r[2], r[3]) {
						edges = append(edges, e)
						break
					}
				}
			}
			if len(edges) == 0 {
				// No edge meets the cell: it is all in or all out.
				ll := fromXYZ(cc)
				if sh.bands.contains(ix.pedges, ll.Lon, ll.Lat) {
					nf = append(nf, sh.zone)
				}
				continue
			}
			st.shapes = append(st.shapes, shapeRef{id: sr.id, edges: edges})
			continue
		}
		var inside bool
		if root {
			inside = sh.containsRoot(s2.Point{Vector: cc})
		} else {
			// Walk from the parent's centre: only the parent's candidate
			// edges can cross that path, which lies inside the parent's cap.
			inside = sr.inside
			a, z := s2.Point{Vector: pcc}, s2.Point{Vector: cc}
			for _, e := range sr.edges {
				if edgeOrVertexCrossing(a, z, ix.sarcs[e].a, ix.sarcs[e].b) {
					inside = !inside
				}
			}
		}
		edges := make([]int32, 0, len(sr.edges))
		for _, e := range sr.edges {
			if ix.sarcs[e].dist(cc) <= rad {
				edges = append(edges, e)
			}
		}
		if len(edges) == 0 {
			if inside {
				nf = append(nf, sh.zone)
			}
			continue
		}
		st.shapes = append(st.shapes, shapeRef{id: sr.id, inside: inside, edges: edges})
	}

	for _, lr := range par.lines {
		pl := ix.lines[lr.id]
		ds := b.dsBuf[:0]
		dcc := math.Inf(1)
		if lr.many {
			dcc = pl.dist(cc)
		}
		for _, e := range lr.edges {
			d := pl.arcs[e].dist(cc)
			ds = append(ds, d)
			dcc = min(dcc, d)
		}
		b.dsBuf = ds
		// The distance to the line is 1-Lipschitz, so over the cell it stays
		// within rad of its value at the centre.
		var corr []int32
		maxW := 0.0
		for _, z := range lr.corr {
			w := ix.zones[z].width
			switch {
			case dcc+rad <= w:
				nf = append(nf, z)
			case dcc-rad > w:
			default:
				corr = append(corr, z)
				maxW = max(maxW, w)
			}
		}
		if len(corr) == 0 {
			continue
		}
		// A segment can matter in the cell only if it may be the nearest to
		// some point of it (d <= dcc + 2 rad) and may come within maxW of it.
		lim := min(dcc+2*rad, maxW+rad)*(1+1e-12) + 1e-15
		nr := lineRef{id: lr.id, corr: corr}
		if lr.many {
			var ok bool
			nr.edges, nr.ds, ok = pl.within(cc, lim, maxLineEdges, nil, nil)
			if !ok {
				nr.many, nr.edges, nr.ds = true, nil, nil
			}
		} else {
			nr.edges, nr.ds = make([]int32, 0, len(lr.edges)), make([]float64, 0, len(lr.edges))
			for k, e := range lr.edges {
				if ds[k] <= lim {
					nr.edges = append(nr.edges, e)
					nr.ds = append(nr.ds, ds[k])
				}
			}
		}
		st.lines = append(st.lines, nr)
	}

	for _, ci := range par.circles {
		cr := &b.circles[ci]
		d := angle(cc, cr.c)
		switch {
		case d+rad <= cr.r:
			nf = append(nf, cr.zone)
		case d-rad > cr.r:
		default:
			st.circles = append(st.circles, ci)
		}
	}

	st.full = par.full
	if len(nf) > 0 {
		st.full = append(slices.Clone(par.full), nf...)
		slices.Sort(st.full)
		st.full = slices.Compact(st.full)
		// A zone that contains the cell needs no test from its other parts.
		st.shapes = slices.DeleteFunc(st.shapes, func(r shapeRef) bool { return slices.Contains(nf, b.shapes[r.id].zone) })
		for i := range st.lines {
			st.lines[i].corr = slices.DeleteFunc(st.lines[i].corr, func(z int32) bool { return slices.Contains(nf, z) })
		}
		st.lines = slices.DeleteFunc(st.lines, func(r lineRef) bool { return len(r.corr) == 0 })
		st.circles = slices.DeleteFunc(st.circles, func(ci int32) bool { return slices.Contains(nf, b.circles[ci].zone) })
	}

	if len(st.shapes) == 0 && len(st.lines) == 0 && len(st.circles) == 0 {
		if len(st.full) > 0 {
			b.emit(c, b.fullEntry(st.full))
		}
		return
	}
	if b.stop(c.Level(), st) {
		b.emit(c, b.testEntry(c, st, cc))
		return
	}
	children, _ := c.Children()
	for i := range children {
		b.visit(children[i], st, cc, false)
	}
}

func (b *builder) stop(level int, st *state) bool {
	if level >= maxCellLevel {
		return true
	}
	if level < b.target {
		return false
	}
	for _, r := range st.shapes {
		if len(r.edges) > maxEdges {
			return false
		}
	}
	if level >= b.target+lineExtra {
		return true
	}
	for _, r := range st.lines {
		if !r.many && len(r.edges) > maxEdges {
			return false
		}
	}
	return true
}

// rectPieces writes the cell's lat/lng bound in degrees as one or two
// planar rectangles (x0, y0, x1, y1): two when it straddles the
// antimeridian, where planar edges see two separate places.
func rectPieces(r s2.Rect, out *[2][4]float64) int {
	const pad = 1e-9 // degrees, on top of s2's own padding
	y0 := max(r.Lat.Lo/degree-pad, -90)
	y1 := min(r.Lat.Hi/degree+pad, 90)
	lng := r.Lng
	switch {
	case lng.IsFull():
		out[0] = [4]float64{-180, y0, 180, y1}
		return 1
	case lng.IsInverted():
		out[0] = [4]float64{lng.Lo/degree - pad, y0, 180, y1}
		out[1] = [4]float64{-180, y0, lng.Hi/degree + pad, y1}
		return 2
	}
	out[0] = [4]float64{lng.Lo/degree - pad, y0, lng.Hi/degree + pad, y1}
	return 1
}

// emit maps cell c to entry e.
func (b *builder) emit(c s2.Cell, e uint32) {
	lo, hi := uint64(c.ID().RangeMin()), uint64(c.ID().RangeMax())+1
	if lo != b.lastEnd {
		b.push(b.lastEnd, 0)
	}
	b.push(lo, e)
	b.lastEnd = hi
}

// push appends a range, merging it into the previous one when both have
// the same entry (ranges are pushed in order and without gaps).
func (b *builder) push(start uint64, e uint32) {
	ix := b.ix
	if n := len(ix.ent); n > 0 && ix.ent[n-1] == e {
		return
	}
	ix.starts = append(ix.starts, start)
	ix.ent = append(ix.ent, e)
}

// fullEntry returns the shared entry for cells wholly inside exactly the
// zones full.
func (b *builder) fullEntry(full []int32) uint32 {
	key := b.keyBuf[:0]
	for _, z := range full {
		key = binary.LittleEndian.AppendUint32(key, uint32(z))
	}
	b.keyBuf = key
	if e, ok := b.fullKey[string(key)]; ok {
		return e
	}
	ix := b.ix
	e := uint32(len(ix.entries))
	z0 := uint32(len(ix.zlist))
	ix.zlist = append(ix.zlist, full...)
	ix.entries = append(ix.entries, entry{z0: z0, z1: uint32(len(ix.zlist))})
	b.fullKey[string(key)] = e
	return e
}

// testEntry returns a new entry for a boundary cell with its exact tests.
func (b *builder) testEntry(c s2.Cell, st *state, cc r3.Vector) uint32 {
	ix := b.ix
	en := entry{z0: uint32(len(ix.zlist))}
	ix.zlist = append(ix.zlist, st.full...)
	en.z1 = uint32(len(ix.zlist))
	en.t0 = uint32(len(ix.tests))
	addEdges := func(edges []int32, lbs []float64) (uint32, uint32) {
		e0 := uint32(len(ix.eidx))
		ix.eidx = append(ix.eidx, edges...)
		if lbs != nil {
			ix.elb = append(ix.elb, lbs...)
		} else {
			for range edges {
				ix.elb = append(ix.elb, 0)
			}
		}
		return e0, uint32(len(ix.eidx))
	}
	var rect [2][4]float64
	npieces := -1
	for _, sr := range st.shapes {
		sh := &b.shapes[sr.id]
		if !sh.planar {
			t := test{kind: testPoly, c: cc, zone: sh.zone, inside: sr.inside}
			t.e0, t.e1 = addEdges(sr.edges, nil)
			ix.tests = append(ix.tests, t)
			continue
		}
		if npieces < 0 {
			npieces = rectPieces(c.RectBound(), &rect)
		}
		for k := range npieces {
			r := rect[k]
			var edges []int32
			for _, e := range sr.edges {
				if ix.pedges[e].hitsRect(r[0], r[1], r[2], r[3]) {
					edges = append(edges, e)
				}
			}
			x, y := planarReference(ix.pedges, edges, r)
			t := test{kind: testPlanar, c: r3.Vector{X: x, Y: y}, a: r[0], b: r[2], zone: sh.zone,
				inside: sh.bands.contains(ix.pedges, x, y)}
			t.e0, t.e1 = addEdges(edges, nil)
			ix.tests = append(ix.tests, t)
		}
	}
	for _, lr := range st.lines {
		if lr.many {
			for _, z := range lr.corr {
				w := ix.zones[z].width
				ix.tests = append(ix.tests, test{kind: testLineAll, a: w, b: chord2Of(w), zone: z, obj: lr.id})
			}
			continue
		}
		// Sort segments by their angle from the centre so that a lookup can
		// stop at the first one too far to matter.
		ord := make([]int, len(lr.edges))
		for i := range ord {
			ord[i] = i
		}
		slices.SortFunc(ord, func(i, j int) int {
			switch {
			case lr.ds[i] < lr.ds[j]:
				return -1
			case lr.ds[i] > lr.ds[j]:
				return 1
			}
			return 0
		})
		edges := make([]int32, len(ord))
		lbs := make([]float64, len(ord))
		for i, o := range ord {
			edges[i], lbs[i] = lr.edges[o], lr.ds[o]
		}
		e0, e1 := addEdges(edges, lbs)
		for _, z := range lr.corr {
			w := ix.zones[z].width
			ix.tests = append(ix.tests, test{kind: testLine, c: cc, a: w, b: chord2Of(w), zone: z, obj: lr.id, e0: e0, e1: e1})
		}
	}
	for _, ci := range st.circles {
		cr := &b.circles[ci]
		ix.tests = append(ix.tests, test{kind: testCircle, c: cr.c, a: chord2Of(cr.r), zone: cr.zone})
	}
	en.t1 = uint32(len(ix.tests))
	e := uint32(len(ix.entries))
	ix.entries = append(ix.entries, en)
	return e
}

// chord2Of returns the squared chord length of an angle in radians.
func chord2Of(a float64) float64 {
	if a >= math.Pi {
		return 4
	}
	s := 2 * math.Sin(a/2)
	return s * s
}

// planarReference picks a point in rectangle r that is clearly off every
// edge, so that its containment is unambiguous.
func planarReference(pe []pedge, edges []int32, r [4]float64) (float64, float64) {
	w, h := r[2]-r[0], r[3]-r[1]
	tol := 1e-9 * max(w, h, 1e-9)
	// Centre first, then points spread by irrational-ish fractions.
	fx := [...]float64{0.5, 0.3819, 0.6180, 0.2360, 0.7639, 0.1458, 0.8541, 0.0901}
	fy := [...]float64{0.5, 0.7071, 0.2928, 0.5857, 0.4142, 0.8284, 0.1715, 0.6464}
	for k := range fx {
		x, y := r[0]+w*fx[k], r[1]+h*fy[k]
		clear := true
		for _, e := range edges {
			if pe[e].dist2(x, y) <= tol*tol {
				clear = false
				break
			}
		}
		if clear {
			return x, y
		}
	}
	return r[0] + w*fx[0], r[1] + h*fy[0]
}
