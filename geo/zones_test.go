package geo

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// The example-like zone set the property test, the oracle test and the
// benchmarks share: the illustrative line of contact and twelve zones
// around it, shaped like a real disengagement agreement.

const lineFile = "../examples/zones/line-of-contact.geojson"

// loadLine reads the line of contact (a GeoJSON Feature LineString).
func loadLine(tb testing.TB) []Point {
	tb.Helper()
	raw, err := os.ReadFile(lineFile)
	if err != nil {
		tb.Fatalf("reading the example line: %v", err)
	}
	var f struct {
		Geometry struct {
			Type        string       `json:"type"`
			Coordinates [][2]float64 `json:"coordinates"`
		} `json:"geometry"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		tb.Fatalf("decoding %s: %v", lineFile, err)
	}
	if f.Geometry.Type != "LineString" || len(f.Geometry.Coordinates) < 2 {
		tb.Fatalf("%s: want a LineString, got %q with %d positions", lineFile, f.Geometry.Type, len(f.Geometry.Coordinates))
	}
	pts := make([]Point, len(f.Geometry.Coordinates))
	for i, c := range f.Geometry.Coordinates {
		pts[i] = Point{c[0], c[1]}
	}
	return pts
}

// blob returns a closed, simple, star-shaped ring of n vertices around c
// with a mean radius of rkm kilometres and a wobbly outline.
func blob(c Point, rkm float64, n int, seed uint64) []Point {
	rng := rand.New(rand.NewPCG(seed, 7))
	p1, p2 := rng.Float64()*2*math.Pi, rng.Float64()*2*math.Pi
	ring := make([]Point, 0, n+1)
	for i := range n {
		th := 2 * math.Pi * float64(i) / float64(n)
		r := rkm * (1 + 0.2*math.Sin(3*th+p1) + 0.1*math.Sin(7*th+p2) + 0.03*(rng.Float64()-0.5))
		// Counterclockwise, as RFC 7946 asks of outer rings.
		ring = append(ring, offset(c, r*math.Sin(th), r*math.Cos(th)))
	}
	return append(ring, ring[0])
}

// offset moves c by east/north kilometres on a local flat approximation.
func offset(c Point, eastKm, northKm float64) Point {
	const kmPerDeg = EarthRadius * degree / 1000
	return Point{
		Lon: c.Lon + eastKm/(kmPerDeg*math.Cos(c.Lat*degree)),
		Lat: c.Lat + northKm/kmPerDeg,
	}
}

func reversed(r []Point) []Point {
	out := make([]Point, len(r))
	for i, p := range r {
		out[len(r)-1-i] = p
	}
	return out
}

// Indices into exampleZones.
const (
	zDMZ = iota
	zDMZAir
	zStandoff50
	zStandoff70
	zStandoff140
	zRearEast
	zRearWest // with a hole
	zCity
	zIslands // multipolygon
	zMaritime
	zPort
	zAirbase
	nExample
)

func exampleZones(line []Point) []Zone {
	zs := make([]Zone, nExample)
	zs[zDMZ] = Zone{Line: line, HalfWidth: 15000}
	zs[zDMZAir] = Zone{Line: line, HalfWidth: 15000, Altitude: &Band{0, 20000}}
	zs[zStandoff50] = Zone{Line: line, HalfWidth: 50000}
	zs[zStandoff70] = Zone{Line: line, HalfWidth: 70000}
	zs[zStandoff140] = Zone{Line: line, HalfWidth: 140000}
	zs[zRearEast] = Zone{Polygons: [][][]Point{{blob(Point{39.5, 47.6}, 80, 300, 1)}}}
	zs[zRearWest] = Zone{Polygons: [][][]Point{{
		blob(Point{36.0, 49.9}, 90, 250, 2),
		reversed(blob(Point{36.1, 49.95}, 25, 60, 3)),
	}}}
	zs[zCity] = Zone{Polygons: [][][]Point{{blob(Point{37.8, 48.0}, 20, 200, 4)}}}
	zs[zIslands] = Zone{Polygons: [][][]Point{
		{blob(Point{34.5, 46.2}, 15, 120, 5)},
		{blob(Point{35.3, 45.8}, 12, 100, 6)},
	}}
	zs[zMaritime] = Zone{Polygons: [][][]Point{{blob(Point{36.8, 46.1}, 100, 150, 8)}}}
	zs[zPort] = Zone{Center: Point{37.55, 47.1}, Radius: 5000}
	zs[zAirbase] = Zone{Center: Point{40.0, 50.2}, Radius: 25000}
	return zs
}

// exampleBox bounds the example zones with some margin.
var exampleBox = struct{ lon0, lat0, lon1, lat1 float64 }{31.5, 44.5, 44.8, 53.0}

// randomPoints returns n deterministic positions: half uniform in the
// example box, half within 160 km of the line (where boundaries are dense).
func randomPoints(line []Point, n int, seed uint64) []Point {
	rng := rand.New(rand.NewPCG(seed, 11))
	pts := make([]Point, n)
	for i := range pts {
		if i%2 == 0 {
			pts[i] = Point{
				Lon: exampleBox.lon0 + rng.Float64()*(exampleBox.lon1-exampleBox.lon0),
				Lat: exampleBox.lat0 + rng.Float64()*(exampleBox.lat1-exampleBox.lat0),
			}
			continue
		}
		pts[i] = nearLine(rng, line, 160)
	}
	return pts
}

// nearLine returns a position within about km kilometres of the line.
func nearLine(rng *rand.Rand, line []Point, km float64) Point {
	k := rng.IntN(len(line) - 1)
	a, b := line[k], line[k+1]
	t := rng.Float64()
	c := Point{a.Lon + t*(b.Lon-a.Lon), a.Lat + t*(b.Lat-a.Lat)}
	return offset(c, (2*rng.Float64()-1)*km, (2*rng.Float64()-1)*km)
}

// densify returns the polyline or ring with k-1 extra vertices in every
// segment, nudged off the straight line so that none is redundant.
func densify(l []Point, k int) []Point {
	var out []Point
	for i := 1; i < len(l); i++ {
		a, b := l[i-1], l[i]
		for j := range k {
			t := float64(j) / float64(k)
			out = append(out, Point{a.Lon + t*(b.Lon-a.Lon), a.Lat + t*(b.Lat-a.Lat) + 1e-4*float64(j%3)})
		}
	}
	return append(out, l[len(l)-1])
}

// denseZones is the example set with k times the vertices everywhere.
func denseZones(line []Point, k int) []Zone {
	zs := exampleZones(densify(line, k))
	for i := range zs {
		for _, poly := range zs[i].Polygons {
			for r := range poly {
				poly[r] = densify(poly[r], k)
			}
		}
	}
	return zs
}
