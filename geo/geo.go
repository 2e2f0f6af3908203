// Package geo is truce's zone engine: given a fixed set of zones it answers
// which zones contain a position and how far a position is from a corridor's
// line, fast enough to check millions of observations per second.
//
// It knows nothing about agreements. A [Zone] is an area (polygons with holes,
// possibly several), a corridor (every point within a half-width of a
// polyline) or a circle, optionally limited to an altitude band. [NewIndex]
// compiles a set of zones into an immutable [Index] that is safe for
// concurrent use.
//
// # Conventions
//
// Positions are WGS84 degrees on a sphere of radius [EarthRadius]. With
// [Geodesic] edges (the default) polygon edges are great-circle arcs; a ring
// may cross the antimeridian (179 to -179 is a 2 degree edge) and may enclose
// a pole, and of the two regions a ring bounds the smaller one is meant. With
// [Planar] edges polygon edges are straight in lon/lat, exactly as RFC 7946
// and PostGIS geometry read them, with no antimeridian handling. Corridors,
// circles and distances are always geodesic, a corridor's segments being
// great-circle arcs with round caps at its ends.
//
// Points within about a micrometre of a boundary may be reported either way;
// everything else is exact up to floating-point rounding.
//
// # Limits
//
// Rings are taken as given: a self-intersecting ring is read by the even-odd
// rule, and the parts of a multipolygon are united. A corridor with a zero
// half-width contains nothing but still answers [Index.Distance].
// [Outline] is for display only and approximates corridors (see its doc).
package geo

import (
	"errors"
	"fmt"
	"math"

	"github.com/golang/geo/r3"
	"github.com/golang/geo/s2"
)

// EarthRadius is the radius in metres of the sphere every geodesic
// computation uses: the mean Earth radius, as the agreement format fixes it.
const EarthRadius = 6371008.8

// Point is a position in WGS84 degrees.
type Point struct{ Lon, Lat float64 }

// Band is a closed altitude interval in metres.
type Band struct{ Min, Max float64 }

// Edges says how polygon edges run between their vertices.
type Edges int

const (
	// Geodesic edges are great-circle arcs on the sphere (the default).
	Geodesic Edges = iota
	// Planar edges are straight lines in lon/lat, as GeoJSON and PostGIS
	// geometry read them.
	Planar
)

// String returns "geodesic" or "planar".
func (e Edges) String() string {
	switch e {
	case Geodesic:
		return "geodesic"
	case Planar:
		return "planar"
	}
	return fmt.Sprintf("Edges(%d)", int(e))
}

// Zone is one area to test positions against. Exactly one of Polygons, Line
// or Radius > 0 must be set.
type Zone struct {
	// Polygons is an area: each polygon is a list of rings, the first its
	// outer boundary and the others holes. Several polygons form a
	// multipolygon. Rings may be closed (last point = first) or not.
	Polygons [][][]Point
	// Line and HalfWidth make a corridor: every point within HalfWidth
	// metres of the polyline Line.
	Line      []Point
	HalfWidth float64
	// Center and Radius (metres, > 0) make a circle.
	Center Point
	Radius float64
	// Altitude optionally limits the zone to an airspace band. A query
	// without altitude is inside the band.
	Altitude *Band
}

// kind of zone, derived from which fields are set.
type zoneKind uint8

const (
	kindArea zoneKind = iota
	kindCorridor
	kindCircle
)

func (z *Zone) kind() (zoneKind, error) {
	n := 0
	var k zoneKind
	if len(z.Polygons) > 0 {
		n++
		k = kindArea
	}
	if len(z.Line) > 0 {
		n++
		k = kindCorridor
	}
	if z.Radius > 0 {
		n++
		k = kindCircle
	}
	if n != 1 {
		return 0, errors.New("exactly one of polygons, line or radius > 0 must be set")
	}
	return k, nil
}

func checkPoint(p Point) error {
	if !(p.Lat >= -90 && p.Lat <= 90) || !(p.Lon >= -180 && p.Lon <= 180) {
		return fmt.Errorf("position [%v, %v] out of range (lon in [-180, 180], lat in [-90, 90])", p.Lon, p.Lat)
	}
	return nil
}

func finiteNonNeg(v float64) bool { return v >= 0 && !math.IsInf(v, 0) }

// validate checks a zone's fields; it does not check rings for
// self-intersection (the agreement layer does, and the engine reads
// such rings by the even-odd rule anyway).
func (z *Zone) validate() (zoneKind, error) {
	k, err := z.kind()
	if err != nil {
		return 0, err
	}
	if b := z.Altitude; b != nil && !(b.Min <= b.Max) {
		return 0, fmt.Errorf("altitude band [%v, %v] is empty", b.Min, b.Max)
	}
	switch k {
	case kindArea:
		for i, poly := range z.Polygons {
			if len(poly) == 0 {
				return 0, fmt.Errorf("polygon %d has no rings", i)
			}
			for j, ring := range poly {
				for _, p := range ring {
					if err := checkPoint(p); err != nil {
						return 0, fmt.Errorf("polygon %d ring %d: %w", i, j, err)
					}
				}
				if len(openRing(ring)) < 3 {
					return 0, fmt.Errorf("polygon %d ring %d has fewer than 3 distinct vertices", i, j)
				}
			}
		}
	case kindCorridor:
		for _, p := range z.Line {
			if err := checkPoint(p); err != nil {
				return 0, fmt.Errorf("line: %w", err)
			}
		}
		if !finiteNonNeg(z.HalfWidth) {
			return 0, fmt.Errorf("half-width %v must be finite and >= 0", z.HalfWidth)
		}
	case kindCircle:
		if err := checkPoint(z.Center); err != nil {
			return 0, fmt.Errorf("center: %w", err)
		}
		if math.IsInf(z.Radius, 0) {
			return 0, errors.New("radius must be finite")
		}
	}
	return k, nil
}

// openRing returns the ring without its closing point and without repeated
// consecutive vertices, which carry no edge.
func openRing(ring []Point) []Point {
	out := make([]Point, 0, len(ring))
	for _, p := range ring {
		if len(out) > 0 && out[len(out)-1] == p {
			continue
		}
		out = append(out, p)
	}
	for len(out) > 1 && out[len(out)-1] == out[0] {
		out = out[:len(out)-1]
	}
	return out
}

const degree = math.Pi / 180

// toXYZ converts degrees to a unit vector. It computes what
// s2.PointFromLatLng does, with two Sincos calls instead of four trig calls.
func toXYZ(p Point) r3.Vector {
	sinLat, cosLat := math.Sincos(p.Lat * degree)
	sinLon, cosLon := math.Sincos(p.Lon * degree)
	return r3.Vector{X: cosLon * cosLat, Y: sinLon * cosLat, Z: sinLat}
}

func toS2(p Point) s2.Point { return s2.Point{Vector: toXYZ(p)} }

// fromXYZ converts a unit vector back to degrees.
func fromXYZ(v r3.Vector) Point {
	return Point{
		Lon: math.Atan2(v.Y, v.X) / degree,
		Lat: math.Atan2(v.Z, math.Hypot(v.X, v.Y)) / degree,
	}
}

// angle returns the angle in radians between two unit vectors, accurate for
// small and large angles alike.
func angle(a, b r3.Vector) float64 {
	return math.Atan2(a.Cross(b).Norm(), a.Dot(b))
}

// chordAngle turns the squared chord length between two unit vectors into
// the angle between them.
func chordAngle(c2 float64) float64 {
	if c2 >= 4 {
		return math.Pi
	}
	return 2 * math.Asin(math.Sqrt(c2)/2)
}

// DistanceMeters returns the great-circle distance between a and b in
// metres on the sphere of radius EarthRadius.
func DistanceMeters(a, b Point) float64 {
	return angle(toXYZ(a), toXYZ(b)) * EarthRadius
}
