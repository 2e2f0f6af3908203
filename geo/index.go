package geo

import (
	"fmt"
	"math"

	"github.com/golang/geo/r3"
	"github.com/golang/geo/s2"
)

// Index answers containment and distance queries for a fixed set of zones.
// It is immutable and safe for concurrent use.
//
// The sphere is cut into S2 cells, finer near zone boundaries. Every cell
// maps to an entry: the zones containing the whole cell, plus, for zones whose
// boundary passes near it, a small exact test (the few polygon edges, corridor
// segments or circle that matter inside the cell). The cells are flattened
// into one sorted array of disjoint S2 cell-ID ranges, so a lookup is one
// leaf cell ID, one binary search and, for the rare cells on a boundary, a
// few edge tests: its cost does not grow with the number of vertices.
type Index struct {
	zones []zoneInfo

	// starts[i] is the first leaf cell ID of range i, which runs up to
	// starts[i+1]; ent[i] is its entry. starts[0] == 0.
	starts []uint64
	ent    []uint32
	// bucket accelerates the search in starts (see search).
	bucket      []uint32
	bucketShift uint
	base, top   uint64 // IDs below base lie in range 0, from top on in the last

	entries []entry // entries[0] is the empty entry
	zlist   []int32 // zone lists of entries
	tests   []test
	eidx    []int32   // edge lists of tests
	elb     []float64 // per eidx element: for corridor tests, the angle from the cell centre to the segment

	sarcs  []arc   // geodesic polygon edges
	pedges []pedge // planar polygon edges
	lines  []*polyline

	level int // the cell level boundaries are refined to
}

type zoneInfo struct {
	kind     zoneKind
	band     bool
	min, max float64
	line     int32   // corridor: index in lines, else -1
	width    float64 // corridor half-width in radians
}

type entry struct{ z0, z1, t0, t1 uint32 }

const (
	testPoly    uint8 = iota // geodesic polygon: crossings from c to p
	testPlanar               // planar polygon: crossings from (c.X, c.Y) to p, for lon in [a, b]
	testLine                 // corridor: some segment within a radians (b as a squared chord) of p
	testCircle               // circle around c, squared chord limit a
	testLineAll              // corridor with too many segments near: the line's hierarchy
)

type test struct {
	c      r3.Vector
	a, b   float64
	zone   int32
	obj    int32 // testLine: the polyline
	e0, e1 uint32
	kind   uint8
	inside bool // polygon tests: whether the reference point c is inside
}

// Locate appends to dst the indices, in ascending order, of the zones that
// contain p, and returns the extended slice. alt is the position's altitude in
// metres when hasAlt is true; zones with an altitude band then contain p only
// if alt is inside the band. p must lie in lon [-180, 180], lat [-90, 90].
// Locate allocates nothing when dst has room.
func (ix *Index) Locate(p Point, alt float64, hasAlt bool, dst []int) []int {
	v := toXYZ(p)
	e := &ix.entries[ix.ent[ix.search(leafCellID(v))]]
	n0 := len(dst)
	for _, z := range ix.zlist[e.z0:e.z1] {
		if hasAlt && ix.outOfBand(z, alt) {
			continue
		}
		dst = append(dst, int(z))
	}
	if e.t0 == e.t1 {
		return dst
	}
	for i := e.t0; i < e.t1; i++ {
		t := &ix.tests[i]
		if hasAlt && ix.outOfBand(t.zone, alt) {
			continue
		}
		if ix.hit(t, v, p) {
			dst = append(dst, int(t.zone))
		}
	}
	return sortUnique(dst, n0)
}

func (ix *Index) outOfBand(z int32, alt float64) bool {
	zi := &ix.zones[z]
	return zi.band && !(alt >= zi.min && alt <= zi.max)
}

// search returns the index of the range holding leaf cell id.
func (ix *Index) search(id uint64) int {
	if id < ix.base {
		return 0
	}
	if id >= ix.top {
		return len(ix.starts) - 1
	}
	b := (id - ix.base) >> ix.bucketShift
	lo, hi := int(ix.bucket[b]), int(ix.bucket[b+1])+1
	for hi-lo > 1 {
		m := int(uint(lo+hi) >> 1)
		if ix.starts[m] <= id {
			lo = m
		} else {
			hi = m
		}
	}
	return lo
}

// hit runs one exact test for unit vector v (p in degrees).
func (ix *Index) hit(t *test, v r3.Vector, p Point) bool {
	switch t.kind {
	case testCircle:
		return v.Sub(t.c).Norm2() <= t.a
	case testLine:
		// Segments are sorted by their angle from the cell centre c; since
		// dist(v, e) >= elb - angle(c, v), the scan stops early.
		pl := ix.lines[t.obj]
		rv := chordAngle(v.Sub(t.c).Norm2())
		for k := t.e0; k < t.e1; k++ {
			if ix.elb[k]-rv > t.a {
				return false
			}
			if pl.arcs[ix.eidx[k]].chord2(v) <= t.b {
				return true
			}
		}
		return false
	case testLineAll:
		return ix.lines[t.obj].dist(v) <= t.a
	case testPoly:
		in := t.inside
		c, pv := s2.Point{Vector: t.c}, s2.Point{Vector: v}
		for _, ei := range ix.eidx[t.e0:t.e1] {
			e := &ix.sarcs[ei]
			if edgeOrVertexCrossing(c, pv, e.a, e.b) {
				in = !in
			}
		}
		return in
	case testPlanar:
		x := p.Lon
		if x < t.a || x > t.b {
			return false // the other half of a cell split by the antimeridian
		}
		in := t.inside
		for _, ei := range ix.eidx[t.e0:t.e1] {
			if ix.pedges[ei].crosses(t.c.X, t.c.Y, x, p.Lat) {
				in = !in
			}
		}
		return in
	}
	panic(fmt.Sprintf("geo: unknown test kind %d", t.kind))
}

// sortUnique sorts dst[n0:] (a handful of zone indices) and drops
// duplicates, which arise when several parts of a multipolygon test true.
func sortUnique(dst []int, n0 int) []int {
	s := dst[n0:]
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	n := n0
	for i, z := range s {
		if i == 0 || z != s[i-1] {
			dst[n] = z
			n++
		}
	}
	return dst[:n]
}

// Distance returns the great-circle distance in metres from p to the line
// of corridor zone, or NaN if zone is not a corridor. It is exact and costs
// O(log n) segment tests for a line of n segments.
func (ix *Index) Distance(zone int, p Point) float64 {
	if zone < 0 || zone >= len(ix.zones) || ix.zones[zone].line < 0 {
		return math.NaN()
	}
	return ix.lines[ix.zones[zone].line].dist(toXYZ(p)) * EarthRadius
}

// Len returns the number of zones in the index.
func (ix *Index) Len() int { return len(ix.zones) }

// Stats describes an index's size, for logs and benchmarks.
type Stats struct {
	Ranges  int // cell-ID ranges in the lookup array
	Entries int // distinct cell entries
	Tests   int // exact tests held by entries
	Level   int // S2 level boundaries are refined to (at least)
}

// Stats returns the index's size figures.
func (ix *Index) Stats() Stats {
	return Stats{Ranges: len(ix.starts), Entries: len(ix.entries), Tests: len(ix.tests), Level: ix.level}
}

// buildBuckets makes a table from a leaf cell ID to the ranges that may
// hold it, over the span of IDs the zones occupy, so that the binary search
// runs over a few ranges and touches little memory.
func (ix *Index) buildBuckets() {
	n := len(ix.starts)
	ix.base, ix.top = 0, 0
	if n > 1 {
		ix.base, ix.top = ix.starts[1], ix.starts[n-1]
	}
	// About one range per bucket, at most 2^20 buckets (4 MiB).
	nb := uint64(1)
	for nb < 1<<20 && nb < uint64(n) {
		nb <<= 1
	}
	span := ix.top - ix.base
	ix.bucketShift = 0
	for span>>ix.bucketShift >= nb {
		ix.bucketShift++
	}
	ix.bucket = make([]uint32, nb+1)
	r := 0
	for b := range nb + 1 {
		start := ix.top
		if b <= span>>ix.bucketShift {
			start = ix.base + b<<ix.bucketShift
		}
		for r+1 < n && ix.starts[r+1] <= start {
			r++
		}
		ix.bucket[b] = uint32(r)
	}
}
