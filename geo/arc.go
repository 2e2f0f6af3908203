package geo

import (
	"math"

	"github.com/golang/geo/r3"
	"github.com/golang/geo/s2"
)

// arc is a great-circle segment with what a distance query needs
// precomputed, so that one distance costs a few dot products and one asin.
type arc struct {
	a, b s2.Point
	// n is the unit normal of the arc's great circle; zero when the arc is
	// too short for a stable normal, and then only its ends count.
	n r3.Vector
	// A point projects into the arc's interior iff p·na >= 0 and p·nb >= 0.
	na, nb r3.Vector
}

func newArc(a, b s2.Point) arc {
	e := arc{a: a, b: b}
	// (a+b)×(b-a) = 2 a×b, computed without the cancellation of a×b when
	// a and b are close (the trick of s2.Point.PointCross).
	n := a.Add(b.Vector).Cross(b.Sub(a.Vector))
	if nn := n.Norm(); nn > 1e-300 && a.Sub(b.Vector).Norm() > 1e-14 {
		e.n = n.Mul(1 / nn)
		e.na = e.n.Cross(a.Vector)
		e.nb = b.Cross(e.n)
	}
	return e
}

// dist returns the angle in radians from unit vector p to the arc.
func (e *arc) dist(p r3.Vector) float64 {
	if e.n != (r3.Vector{}) && p.Dot(e.na) >= 0 && p.Dot(e.nb) >= 0 {
		return math.Asin(min(math.Abs(p.Dot(e.n)), 1))
	}
	return chordAngle(min(p.Sub(e.a.Vector).Norm2(), p.Sub(e.b.Vector).Norm2()))
}

// chord2 returns the squared chord length of the angle from unit vector p
// to the arc: monotonic in the angle and free of inverse trig.
func (e *arc) chord2(p r3.Vector) float64 {
	if e.n != (r3.Vector{}) && p.Dot(e.na) >= 0 && p.Dot(e.nb) >= 0 {
		// s = sin(angle); chord² = 2 - 2cos = 2s²/(1 + sqrt(1 - s²)), stable.
		s2 := min(p.Dot(e.n)*p.Dot(e.n), 1)
		return 2 * s2 / (1 + math.Sqrt(1-s2))
	}
	return min(p.Sub(e.a.Vector).Norm2(), p.Sub(e.b.Vector).Norm2())
}

// polyline is a corridor's line with a bounding-cap hierarchy over its arcs,
// for exact distance queries in O(log n) arcs instead of all of them.
type polyline struct {
	arcs  []arc
	nodes []bvhNode
	// length in radians, for sizing the containment index.
	length float64
}

// bvhNode bounds arcs[lo:hi] by a cap. Arcs of a polyline are consecutive
// along it, so halving the index range gives spatially tight caps.
type bvhNode struct {
	c          r3.Vector
	cosR, sinR float64 // cap radius; cosR = -2 when too large to prune with
	lo, hi     int32
	left       int32 // child nodes are left and left+1; -1 for a leaf
}

const bvhLeaf = 4

func newPolyline(pts []Point) *polyline {
	var vs []s2.Point
	for _, p := range pts {
		v := toS2(p)
		if len(vs) > 0 && vs[len(vs)-1] == v {
			continue
		}
		vs = append(vs, v)
	}
	pl := &polyline{}
	if len(vs) == 1 {
		// A single position: a degenerate arc, measured from its ends.
		pl.arcs = []arc{newArc(vs[0], vs[0])}
	}
	for i := 1; i < len(vs); i++ {
		pl.arcs = append(pl.arcs, newArc(vs[i-1], vs[i]))
		pl.length += angle(vs[i-1].Vector, vs[i].Vector)
	}
	pl.nodes = make([]bvhNode, 1, 2*len(pl.arcs)/bvhLeaf+2)
	pl.fill(0, 0, int32(len(pl.arcs)))
	return pl
}

// fill sets node idx to bound arcs[lo:hi] and builds its subtree.
func (pl *polyline) fill(idx, lo, hi int32) {
	nd := bvhNode{lo: lo, hi: hi, left: -1, cosR: -2}
	var sum r3.Vector
	for _, e := range pl.arcs[lo:hi] {
		sum = sum.Add(e.a.Vector).Add(e.b.Vector)
	}
	if sum.Norm() > 1e-9 {
		nd.c = sum.Normalize()
		var r float64
		for _, e := range pl.arcs[lo:hi] {
			r = max(r, angle(nd.c, e.a.Vector), angle(nd.c, e.b.Vector))
		}
		// An arc lies in any cap holding its ends if the cap is convex
		// (radius < 90 degrees); pad for rounding.
		r = r*(1+1e-12) + 1e-15
		if r < math.Pi/2 {
			nd.sinR, nd.cosR = math.Sincos(r)
		}
	}
	if hi-lo > bvhLeaf {
		nd.left = int32(len(pl.nodes))
		pl.nodes = append(pl.nodes, bvhNode{}, bvhNode{})
		mid := (lo + hi) / 2
		pl.fill(nd.left, lo, mid)
		pl.fill(nd.left+1, mid, hi)
	}
	pl.nodes[idx] = nd
}

// dist returns the angle in radians from unit vector p to the polyline:
// a branch-and-bound descent that skips caps farther than the best arc so far.
func (pl *polyline) dist(p r3.Vector) float64 {
	// best is the nearest arc's angle, kept as a squared chord c; cosB and
	// sinB are its cosine and sine: 1 - c/2 and sqrt(c (1 - c/4)).
	bestC := 4.0
	cosB, sinB := -1.0, 0.0
	var stack [64]int32
	sp := 0
	stack[sp] = 0
	sp++
	for sp > 0 {
		sp--
		nd := &pl.nodes[stack[sp]]
		// dist(p, cap) >= angle(p, c) - r >= best  <=>  p·c <= cos(best + r),
		// valid while best + r < pi: r < pi/2 always, and best < pi/2 here.
		if bestC < 2 && nd.cosR > -1.5 && p.Dot(nd.c) <= cosB*nd.cosR-sinB*nd.sinR {
			continue
		}
		if nd.left < 0 {
			improved := false
			for i := nd.lo; i < nd.hi; i++ {
				if c := pl.arcs[i].chord2(p); c < bestC {
					bestC, improved = c, true
				}
			}
			if improved {
				cosB, sinB = 1-bestC/2, math.Sqrt(bestC*(1-bestC/4))
			}
			continue
		}
		l, r := nd.left, nd.left+1
		// Visit the nearer child first so that best shrinks early.
		if p.Dot(pl.nodes[l].c) < p.Dot(pl.nodes[r].c) {
			l, r = r, l
		}
		stack[sp] = r
		stack[sp+1] = l
		sp += 2
	}
	return chordAngle(bestC)
}

// within appends to edges and ds the arcs within angle lim of p and their
// angles, and reports false (with partial results) as soon as there are more
// than limit of them.
func (pl *polyline) within(p r3.Vector, lim float64, limit int, edges []int32, ds []float64) ([]int32, []float64, bool) {
	var stack [64]int32
	sp := 1
	for sp > 0 {
		sp--
		nd := &pl.nodes[stack[sp]]
		// Skip caps entirely beyond lim: angle(p, c) - r > lim.
		if nd.cosR > -1.5 && lim < math.Pi/2 {
			sl, cl := math.Sincos(lim)
			if p.Dot(nd.c) < cl*nd.cosR-sl*nd.sinR {
				continue
			}
		}
		if nd.left < 0 {
			for i := nd.lo; i < nd.hi; i++ {
				if d := pl.arcs[i].dist(p); d <= lim {
					if len(edges) == limit {
						return edges, ds, false
					}
					edges, ds = append(edges, i), append(ds, d)
				}
			}
			continue
		}
		stack[sp], stack[sp+1] = nd.left, nd.left+1
		sp += 2
	}
	return edges, ds, true
}

// maxDetError bounds the rounding error of (a×b)·c for unit vectors, as in
// s2's triageSign.
const maxDetError = 1.8274 * 0x1p-52

// edgeOrVertexCrossing is s2.EdgeOrVertexCrossing(a, b, c, d) without its
// allocation in the common case: when all four orientations are clear from
// floating point it decides alone, and it defers every other case
// (shared vertices, near-collinear points) to s2.
func edgeOrVertexCrossing(a, b, c, d s2.Point) bool {
	if a == c || a == d || b == c || b == d || a == b || c == d {
		return s2.EdgeOrVertexCrossing(a, b, c, d)
	}
	ab := a.Cross(b.Vector)
	acb, bda := -ab.Dot(c.Vector), ab.Dot(d.Vector)
	if math.Abs(acb) <= maxDetError || math.Abs(bda) <= maxDetError {
		return s2.EdgeOrVertexCrossing(a, b, c, d)
	}
	if (acb > 0) != (bda > 0) {
		return false
	}
	cd := c.Cross(d.Vector)
	cbd, dac := -cd.Dot(b.Vector), cd.Dot(a.Vector)
	if math.Abs(cbd) <= maxDetError || math.Abs(dac) <= maxDetError {
		return s2.EdgeOrVertexCrossing(a, b, c, d)
	}
	return (cbd > 0) == (acb > 0) && (dac > 0) == (acb > 0)
}
