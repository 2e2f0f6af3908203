package geo

import (
	"math"

	"github.com/golang/geo/r3"
	"github.com/peterstace/simplefeatures/geom"
)

// circleVertices is how many vertices Outline gives a circle.
const circleVertices = 128

// Outline returns zone z's area as polygons for display and GeoJSON: rings
// closed, outer rings counterclockwise and holes clockwise (RFC 7946).
// Polygons come back as given, whatever edges says. A circle becomes a
// 128-gon with its vertices on the circle. A corridor is buffered with round
// caps and joins in an azimuthal equidistant projection centred on its line:
// exact along the line's middle and off by the projection's scale error
// elsewhere (about 0.1% of the half-width 500 km from the centre, 1.7% at
// 2,000 km), so it is a picture, not the containment rule. A corridor with
// no width has no area and gives nil. Rings near a pole or across the
// antimeridian are not split for flat maps.
func Outline(z Zone, edges Edges) [][][]Point {
	_ = edges // polygons are returned as given either way
	switch {
	case len(z.Polygons) > 0:
		out := make([][][]Point, len(z.Polygons))
		for i, poly := range z.Polygons {
			out[i] = make([][]Point, len(poly))
			for j, ring := range poly {
				out[i][j] = closeRing(append([]Point(nil), ring...))
			}
		}
		return out
	case z.Radius > 0:
		return [][][]Point{{circleRing(z.Center, z.Radius)}}
	case len(z.Line) > 0 && z.HalfWidth > 0:
		return corridorOutline(z.Line, z.HalfWidth)
	}
	return nil
}

func closeRing(r []Point) []Point {
	if len(r) > 0 && r[0] != r[len(r)-1] {
		r = append(r, r[0])
	}
	return r
}

// tangentFrame returns unit vectors pointing east and north at c.
func tangentFrame(c r3.Vector) (east, north r3.Vector) {
	east = r3.Vector{X: -c.Y, Y: c.X}
	if east.Norm() < 1e-12 { // at a pole any direction will do
		east = r3.Vector{Y: 1}
	}
	east = east.Normalize()
	return east, c.Cross(east)
}

// circleRing returns the closed counterclockwise ring of circleVertices
// points at great-circle distance r metres from c.
func circleRing(c Point, r float64) []Point {
	cv := toXYZ(c)
	east, north := tangentFrame(cv)
	sinT, cosT := math.Sincos(min(r/EarthRadius, math.Pi))
	ring := make([]Point, 0, circleVertices+1)
	for k := range circleVertices {
		// Counterclockwise from east.
		sb, cb := math.Sincos(2 * math.Pi * float64(k) / circleVertices)
		dir := east.Mul(cb).Add(north.Mul(sb))
		ring = append(ring, fromXYZ(cv.Mul(cosT).Add(dir.Mul(sinT))))
	}
	return append(ring, ring[0])
}

// aeqd is an azimuthal equidistant projection in metres around c:
// distances and directions from c are true.
type aeqd struct{ c, east, north r3.Vector }

func (a *aeqd) forward(p Point) (x, y float64) {
	v := toXYZ(p)
	ex, ny := v.Dot(a.east), v.Dot(a.north)
	s := math.Hypot(ex, ny)
	if s == 0 {
		return 0, 0
	}
	th := math.Atan2(s, v.Dot(a.c)) * EarthRadius
	return th * ex / s, th * ny / s
}

func (a *aeqd) inverse(x, y float64) Point {
	th := math.Hypot(x, y)
	if th == 0 {
		return fromXYZ(a.c)
	}
	dir := a.east.Mul(x / th).Add(a.north.Mul(y / th))
	s, c := math.Sincos(th / EarthRadius)
	return fromXYZ(a.c.Mul(c).Add(dir.Mul(s)))
}

func corridorOutline(line []Point, w float64) [][][]Point {
	var sum r3.Vector
	for _, p := range line {
		sum = sum.Add(toXYZ(p))
	}
	c := toXYZ(line[0])
	if sum.Norm() > 1e-9 {
		c = sum.Normalize()
	}
	pr := aeqd{c: c}
	pr.east, pr.north = tangentFrame(c)
	xy := make([]float64, 0, 2*len(line))
	for i, p := range line {
		x, y := pr.forward(p)
		if i > 0 && x == xy[len(xy)-2] && y == xy[len(xy)-1] {
			continue
		}
		xy = append(xy, x, y)
	}
	if len(xy) == 2 {
		return [][][]Point{{circleRing(line[0], w)}}
	}
	ls := geom.NewLineString(geom.NewSequence(xy, geom.DimXY))
	// 32 segments a quadrant: 128 a full circle, as for circles.
	g, err := geom.Buffer(ls.AsGeometry(), w, geom.BufferQuadSegments(32))
	if err != nil {
		return nil
	}
	g = g.ForceCCW()
	var polys []geom.Polygon
	if p, ok := g.AsPolygon(); ok {
		polys = []geom.Polygon{p}
	} else if mp, ok := g.AsMultiPolygon(); ok {
		polys = mp.Dump()
	}
	var out [][][]Point
	for _, p := range polys {
		var rings [][]Point
		for _, r := range p.DumpRings() {
			seq := r.Coordinates()
			ring := make([]Point, seq.Length())
			for i := range ring {
				q := seq.GetXY(i)
				ring[i] = pr.inverse(q.X, q.Y)
			}
			rings = append(rings, ring)
		}
		out = append(out, rings)
	}
	return out
}
