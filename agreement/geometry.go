package agreement

import (
	"cmp"
	"math"
	"slices"
)

// geomPos keeps where a zone's geometry was written, so that validation
// can point at a ring or a vertex.
type geomPos struct {
	file   string    // the .geojson file, "" for the agreement file
	at     Pos       // the geometry object
	rings  [][]Pos   // polygon -> ring
	verts  [][][]Pos // polygon -> ring -> vertex
	line   []Pos     // line vertices
	lineAt Pos       // the line's coordinates
}

// unwrap returns the ring's points with each longitude moved by a multiple
// of 360 to lie within 180 degrees of the previous one, so that an edge
// crossing the antimeridian stays short.
func unwrap(ring [][2]float64) [][2]float64 {
	out := make([][2]float64, len(ring))
	for i, p := range ring {
		if i > 0 {
			prev := out[i-1][0]
			p[0] -= 360 * math.Round((p[0]-prev)/360)
		}
		out[i] = p
	}
	return out
}

// shiftNear moves lon by a multiple of 360 to lie within 180 degrees of ref.
func shiftNear(lon, ref float64) float64 {
	return lon - 360*math.Round((lon-ref)/360)
}

// selfIntersection looks for two edges of a closed ring that touch or
// cross, other than neighbours at their shared vertex. It returns the
// index of the later edge of the first such pair (by that index) and a
// point of contact.
//
// Edges are found through a packed R-tree of their bounding boxes, so each
// edge is tested only against the few whose boxes it meets: about
// n log n for the rings met in practice, quadratic only when most boxes
// overlap.
func selfIntersection(pts [][2]float64) (edge int, at [2]float64, found bool) {
	n := len(pts) - 1 // edges; pts is closed
	if n < 3 {
		return 0, at, false
	}
	closed := pts[0] == pts[n]
	var segs []box
	for i := range n {
		a, b := pts[i], pts[i+1]
		if a == b {
			continue // a repeated position: no edge
		}
		segs = append(segs, box{i, min(a[0], b[0]), max(a[0], b[0]), min(a[1], b[1]), max(a[1], b[1])})
	}
	if len(segs) == 0 {
		return 0, at, false
	}
	// Spikes: an edge that doubles back over the previous one.
	for k := range segs {
		if k == 0 && !closed {
			continue
		}
		prev, s := segs[(k+len(segs)-1)%len(segs)], segs[k]
		p, q, r := pts[prev.i], pts[s.i], pts[s.i+1]
		if orient(p, q, r) == 0 && (q[0]-p[0])*(r[0]-q[0])+(q[1]-p[1])*(r[1]-q[1]) < 0 {
			return s.i, q, true
		}
	}
	// rank[i] is the position of edge i among the real edges, so that
	// neighbours along the ring differ by one (or wrap around).
	rank := make([]int, n)
	for k, s := range segs {
		rank[s.i] = k
	}
	adjacent := func(i, j int) bool {
		d := rank[i] - rank[j]
		return d == 1 || d == -1 || closed && (d == len(segs)-1 || d == 1-len(segs))
	}
	tree := newRTree(segs)
	best, bestAt := -1, [2]float64{}
	for _, s := range segs {
		if best >= 0 && s.i >= best {
			break // every later pair has a later edge
		}
		tree.search(s, func(o box) {
			if o.i <= s.i || adjacent(o.i, s.i) || best >= 0 && o.i >= best {
				return
			}
			if p, ok := intersect(pts[s.i], pts[s.i+1], pts[o.i], pts[o.i+1]); ok {
				best, bestAt = o.i, p
			}
		})
	}
	return best, bestAt, best >= 0
}

// box is the bounding box of edge i, or of a node of an rTree.
type box struct {
	i                      int
	minX, maxX, minY, maxY float64
}

func (b box) meets(o box) bool {
	return b.minX <= o.maxX && o.minX <= b.maxX && b.minY <= o.maxY && o.minY <= b.maxY
}

// rTree is a static R-tree packed by sort-tile-recursive: levels[0] holds
// the items, each higher level the boxes of nodeSize nodes below it.
type rTree struct {
	levels [][]box
}

const nodeSize = 16

func newRTree(items []box) *rTree {
	t := &rTree{}
	level := slices.Clone(items)
	for {
		level = strPack(level)
		t.levels = append(t.levels, level)
		if len(level) <= nodeSize {
			break
		}
		up := make([]box, 0, (len(level)+nodeSize-1)/nodeSize)
		for k := 0; k < len(level); k += nodeSize {
			b := level[k]
			for _, c := range level[k+1 : min(k+nodeSize, len(level))] {
				b.minX, b.maxX, b.minY, b.maxY = min(b.minX, c.minX), max(b.maxX, c.maxX), min(b.minY, c.minY), max(b.maxY, c.maxY)
			}
			b.i = k
			up = append(up, b)
		}
		level = up
	}
	return t
}

// strPack orders boxes so that each run of nodeSize is compact: in
// vertical slices by centre x, each sorted by centre y.
func strPack(bs []box) []box {
	if len(bs) <= nodeSize {
		return bs
	}
	cx := func(b box) float64 { return b.minX + b.maxX }
	cy := func(b box) float64 { return b.minY + b.maxY }
	// A node refers to its children by their first index in the level
	// below; a level is packed once, before the level above is built.
	slices.SortFunc(bs, func(a, b box) int { return cmp.Or(cmp.Compare(cx(a), cx(b)), cmp.Compare(a.i, b.i)) })
	nodes := (len(bs) + nodeSize - 1) / nodeSize
	slice := nodeSize * int(math.Ceil(math.Sqrt(float64(nodes))))
	for k := 0; k < len(bs); k += slice {
		s := bs[k:min(k+slice, len(bs))]
		slices.SortFunc(s, func(a, b box) int { return cmp.Or(cmp.Compare(cy(a), cy(b)), cmp.Compare(a.i, b.i)) })
	}
	return bs
}

// search calls fn for every item whose box meets q.
func (t *rTree) search(q box, fn func(box)) {
	top := len(t.levels) - 1
	var walk func(level, from, to int)
	walk = func(level, from, to int) {
		for k := from; k < to; k++ {
			b := t.levels[level][k]
			if !b.meets(q) {
				continue
			}
			if level == 0 {
				fn(b)
			} else {
				walk(level-1, b.i, min(b.i+nodeSize, len(t.levels[level-1])))
			}
		}
	}
	walk(top, 0, len(t.levels[top]))
}

// orient returns the sign of the turn a -> b -> c: >0 left, <0 right, 0
// collinear.
func orient(a, b, c [2]float64) float64 {
	v := (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func onSegment(a, b, p [2]float64) bool {
	return min(a[0], b[0]) <= p[0] && p[0] <= max(a[0], b[0]) && min(a[1], b[1]) <= p[1] && p[1] <= max(a[1], b[1])
}

// intersect reports whether segments ab and cd touch or cross, and a point
// they share.
func intersect(a, b, c, d [2]float64) ([2]float64, bool) {
	o1, o2, o3, o4 := orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b)
	if o1 != o2 && o3 != o4 {
		den := (b[0]-a[0])*(d[1]-c[1]) - (b[1]-a[1])*(d[0]-c[0])
		if den == 0 {
			return c, true
		}
		t := ((c[0]-a[0])*(d[1]-c[1]) - (c[1]-a[1])*(d[0]-c[0])) / den
		return [2]float64{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}, true
	}
	switch {
	case o1 == 0 && onSegment(a, b, c):
		return c, true
	case o2 == 0 && onSegment(a, b, d):
		return d, true
	case o3 == 0 && onSegment(c, d, a):
		return a, true
	case o4 == 0 && onSegment(c, d, b):
		return b, true
	}
	return [2]float64{}, false
}

// inRing reports whether p is inside the closed ring or on its boundary.
func inRing(ring [][2]float64, p [2]float64) bool {
	in := false
	for i := 0; i+1 < len(ring); i++ {
		a, b := ring[i], ring[i+1]
		if orient(a, b, p) == 0 && onSegment(a, b, p) {
			return true
		}
		if (a[1] > p[1]) != (b[1] > p[1]) {
			x := a[0] + (p[1]-a[1])*(b[0]-a[0])/(b[1]-a[1])
			if p[0] < x {
				in = !in
			}
		}
	}
	return in
}
