package geo

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/golang/geo/r3"
	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
)

// margin is how close to a boundary (metres) a point may be and still be
// compared: nearer points may go either way.
const margin = 1.0

// refEdge is a great-circle edge with a bounding cap, for brute force that
// visits every edge but skips the exact distance where the cap rules it out.
type refEdge struct {
	a, b       s2.Point
	mid        r3.Vector
	cosH, sinH float64 // half length
}

func newRefEdge(a, b s2.Point) refEdge {
	mid := a.Add(b.Vector)
	if mid.Norm() < 1e-12 {
		mid = a.Vector
	}
	h := angle(a.Vector, b.Vector)/2*(1+1e-9) + 1e-12
	e := refEdge{a: a, b: b, mid: mid.Normalize()}
	e.sinH, e.cosH = math.Sincos(h)
	return e
}

// refDist is the angle from p to the nearest edge by s2.DistanceFromSegment,
// over every edge; lim stops early once some edge is nearer than lim.
func refDist(edges []refEdge, p s2.Point, lim float64) float64 {
	// Seed with the edge whose middle is nearest, so that the scan below
	// rarely improves on it and mostly skips.
	seed, bestDot := 0, math.Inf(-1)
	for i := range edges {
		if d := p.Dot(edges[i].mid); d > bestDot {
			seed, bestDot = i, d
		}
	}
	best := s2.DistanceFromSegment(p, edges[seed].a, edges[seed].b).Radians()
	if best < lim {
		return best
	}
	sinB, cosB := math.Sincos(best)
	for i := range edges {
		e := &edges[i]
		// angle(p, mid) - h >= best  <=>  p·mid <= cos(best + h)
		if best < math.Pi/2 && p.Dot(e.mid) <= cosB*e.cosH-sinB*e.sinH {
			continue
		}
		if d := s2.DistanceFromSegment(p, e.a, e.b).Radians(); d < best {
			best = d
			sinB, cosB = math.Sincos(d)
			if best < lim {
				return best
			}
		}
	}
	return best
}

// reference answers containment with independent code: s2.Polygon for
// geodesic areas, crossing number for planar ones, s2 segment distances for
// corridors. near reports points within margin of a boundary.
type reference struct {
	zones  []Zone
	edges  Edges
	polys  [][]*s2.Polygon // per zone
	pedges [][]refEdge     // per zone: polygon edges (geodesic)
	plines [][]refEdge     // per zone: corridor segments

	lastKey *Point // memo of the last corridor distance
	lastP   Point
	lastD   float64
}

func newReference(zones []Zone, edges Edges) *reference {
	r := &reference{zones: zones, edges: edges, polys: make([][]*s2.Polygon, len(zones)),
		pedges: make([][]refEdge, len(zones)), plines: make([][]refEdge, len(zones))}
	for i, z := range zones {
		for _, poly := range z.Polygons {
			var loops []*s2.Loop
			for _, ring := range poly {
				vs := ringPoints(ring)
				l := s2.LoopFromPoints(vs)
				l.Normalize()
				loops = append(loops, l)
				for k := range vs {
					r.pedges[i] = append(r.pedges[i], newRefEdge(vs[k], vs[(k+1)%len(vs)]))
				}
			}
			r.polys[i] = append(r.polys[i], s2.PolygonFromLoops(loops))
		}
		for k := 1; k < len(z.Line); k++ {
			r.plines[i] = append(r.plines[i], newRefEdge(toS2(z.Line[k-1]), toS2(z.Line[k])))
		}
	}
	return r
}

// planarContains is the plain crossing-number test over every edge.
func planarContains(poly [][]Point, p Point) bool {
	in := false
	for _, ring := range poly {
		for k := 1; k < len(ring); k++ {
			a, b := ring[k-1], ring[k]
			if (a.Lat > p.Lat) != (b.Lat > p.Lat) && p.Lon < a.Lon+(p.Lat-a.Lat)*(b.Lon-a.Lon)/(b.Lat-a.Lat) {
				in = !in
			}
		}
	}
	return in
}

// planarNear reports whether p is within about margin metres of a planar
// edge, measuring in a local equirectangular frame around p.
func planarNear(poly [][]Point, p Point) bool {
	kx := math.Cos(p.Lat*degree) * EarthRadius * degree
	ky := EarthRadius * degree
	for _, ring := range poly {
		for k := 1; k < len(ring); k++ {
			a, b := ring[k-1], ring[k]
			e := pedge{(a.Lon - p.Lon) * kx, (a.Lat - p.Lat) * ky, (b.Lon - p.Lon) * kx, (b.Lat - p.Lat) * ky}
			if e.dist2(0, 0) <= 4*margin*margin { // 2 m: the local frame is approximate
				return true
			}
		}
	}
	return false
}

// contains returns whether zone i contains p, and whether p is too near its
// boundary to tell.
func (r *reference) contains(i int, p Point, alt float64, hasAlt bool) (in, near bool) {
	z := &r.zones[i]
	if hasAlt && z.Altitude != nil && (alt < z.Altitude.Min || alt > z.Altitude.Max) {
		return false, false
	}
	v := toS2(p)
	m := margin / EarthRadius
	switch {
	case len(z.Polygons) > 0 && r.edges == Planar:
		for _, poly := range z.Polygons {
			in = in || planarContains(poly, p)
			near = near || planarNear(poly, p)
		}
	case len(z.Polygons) > 0:
		for _, poly := range r.polys[i] {
			in = in || poly.ContainsPoint(v)
		}
		near = refDist(r.pedges[i], v, m) < m
	case len(z.Line) > 0:
		// Corridors on one line share the brute-force distance.
		key := &z.Line[0]
		if r.lastKey != key || r.lastP != p {
			r.lastKey, r.lastP, r.lastD = key, p, refDist(r.plines[i], v, 0)
		}
		d := r.lastD
		w := z.HalfWidth / EarthRadius
		in, near = d <= w, math.Abs(d-w) < m
	default:
		d := s2.DistanceFromSegment(v, toS2(z.Center), toS2(z.Center)).Radians()
		w := z.Radius / EarthRadius
		in, near = d <= w, math.Abs(d-w) < m
	}
	return in, near
}

func propertyPoints(t *testing.T) int {
	switch {
	case testing.Short():
		return 20000
	case raceEnabled:
		return 40000 // the race detector slows the brute force tenfold
	}
	return 200000
}

func TestLocateMatchesBruteForce(t *testing.T) {
	line := loadLine(t)
	n := propertyPoints(t)
	pts := randomPoints(line, n, 42)
	for _, tc := range []struct {
		name  string
		zones []Zone
		edges Edges
		n     int
	}{
		{"geodesic", exampleZones(line), Geodesic, n},
		{"planar", exampleZones(line), Planar, n},
		// Twenty times the vertices: cells far from the line then see too
		// many segments to list and use the line's hierarchy.
		{"geodesic-dense-x20", denseZones(line, 20), Geodesic, n / 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			zones, edges := tc.zones, tc.edges
			ix, err := NewIndex(zones, edges)
			if err != nil {
				t.Fatal(err)
			}
			all := 0
			for _, tt := range ix.tests {
				if tt.kind == testLineAll {
					all++
				}
			}
			ref := newReference(zones, edges)
			rng := rand.New(rand.NewPCG(5, 6))
			var compared, excluded, inside, bad int
			var got []int
			for _, p := range pts[:tc.n] {
				hasAlt := rng.IntN(3) == 0
				alt := rng.Float64()*30000 - 5000
				got = ix.Locate(p, alt, hasAlt, got[:0])
				var want []int
				skip := false
				for i := range zones {
					in, near := ref.contains(i, p, alt, hasAlt)
					if near {
						skip = true
						break
					}
					if in {
						want = append(want, i)
					}
				}
				if skip {
					excluded++
					continue
				}
				compared++
				inside += len(want)
				if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
					if bad++; bad <= 10 {
						t.Errorf("Locate(%v, alt %v/%v) = %v, want %v", p, alt, hasAlt, got, want)
					}
				}
			}
			t.Logf("%d points: %d compared (%d zone hits), %d excluded within %v m of a boundary, %d wrong; %d of %d tests use the line hierarchy",
				tc.n, compared, inside, excluded, margin, bad, all, len(ix.tests))
			if compared < tc.n*9/10 {
				t.Errorf("only %d of %d points compared", compared, tc.n)
			}
			if inside < compared/2 {
				t.Errorf("only %d zone hits in %d points: the test points miss the zones", inside, compared)
			}
		})
	}
}

func TestDistanceMatchesBruteForce(t *testing.T) {
	line := loadLine(t)
	zones := exampleZones(line)
	ix, err := NewIndex(zones, Geodesic)
	if err != nil {
		t.Fatal(err)
	}
	ref := newReference(zones, Geodesic)
	n := propertyPoints(t)
	pts := randomPoints(line, n, 43)
	// Also far away, where the hierarchy prunes little.
	rng := rand.New(rand.NewPCG(8, 9))
	for i := 0; i < n/20; i++ {
		pts = append(pts, Point{rng.Float64()*360 - 180, math.Asin(2*rng.Float64()-1) / degree})
	}
	worst := 0.0
	for _, p := range pts {
		want := refDist(ref.plines[zStandoff140], toS2(p), 0) * EarthRadius
		got := ix.Distance(zStandoff140, p)
		rel := math.Abs(got-want) / max(want, 1)
		worst = max(worst, rel)
		if rel > 1e-6 {
			t.Fatalf("Distance(%v) = %.9f m, brute force %.9f m", p, got, want)
		}
	}
	t.Logf("%d points, worst relative difference %.3g", len(pts), worst)
}

func TestEdgeOrVertexCrossingMatchesS2(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	rp := func() s2.Point {
		return s2.PointFromLatLng(s2.LatLngFromDegrees(rng.Float64()*180-90, rng.Float64()*360-180))
	}
	for i := range 200000 {
		a, b, c, d := rp(), rp(), rp(), rp()
		switch i % 4 {
		case 1: // nearly collinear: d on ab
			d = s2.Interpolate(rng.Float64(), a, b)
		case 2: // shared vertex
			c = a
		case 3: // short edges near each other
			ll := s2.LatLngFromPoint(a)
			b = s2.PointFromLatLng(s2.LatLng{Lat: ll.Lat + s1.Angle(1e-9), Lng: ll.Lng + s1.Angle(1e-9)})
			c = s2.Interpolate(0.5, a, b)
		}
		if got, want := edgeOrVertexCrossing(a, b, c, d), s2.EdgeOrVertexCrossing(a, b, c, d); got != want {
			t.Fatalf("edgeOrVertexCrossing(%v, %v, %v, %v) = %v, s2 says %v", a, b, c, d, got, want)
		}
	}
}
