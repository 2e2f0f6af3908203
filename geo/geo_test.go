package geo

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/golang/geo/s2"
)

func TestLeafCellIDMatchesS2(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		p := Point{Lon: rng.Float64()*360 - 180, Lat: rng.Float64()*180 - 90}
		want := uint64(s2.CellIDFromLatLng(s2.LatLngFromDegrees(p.Lat, p.Lon)))
		got := leafCellID(toXYZ(p))
		if got != want {
			// Sincos may differ from Sin/Cos in the last bit; the leaf
			// cell must then at least contain our vector.
			if !s2.CellFromCellID(s2.CellID(got)).ContainsPoint(s2.Point{Vector: toXYZ(p)}) {
				t.Fatalf("%v: leaf %x does not contain the point (s2 says %x)", p, got, want)
			}
		}
	}
}

// destination returns the point dist metres from c at bearing deg
// (clockwise from north), exactly on the sphere.
func destination(c Point, bearing, dist float64) Point {
	v := toXYZ(c)
	east := s2.Point{Vector: v}.Ortho()
	if c.Lat < 89.999 && c.Lat > -89.999 {
		east = s2.Point{Vector: v}.Cross(s2.PointFromCoords(0, 0, 1).Vector).Mul(-1).Normalize()
	}
	north := v.Cross(east)
	th := dist / EarthRadius
	sb, cb := math.Sincos(bearing * degree)
	dir := north.Mul(cb).Add(east.Mul(sb))
	return fromXYZ(v.Mul(math.Cos(th)).Add(dir.Mul(math.Sin(th))))
}

func box(lon0, lat0, lon1, lat1 float64) []Point {
	return []Point{{lon0, lat0}, {lon1, lat0}, {lon1, lat1}, {lon0, lat1}, {lon0, lat0}}
}

type probe struct {
	p      Point
	alt    float64
	hasAlt bool
	want   []int
}

func TestLocateTable(t *testing.T) {
	line := []Point{{0, 0}, {1, 0}, {1, 1}}
	tests := []struct {
		name   string
		zones  []Zone
		edges  Edges
		probes []probe
	}{
		{
			name:  "polygon with hole",
			zones: []Zone{{Polygons: [][][]Point{{box(0, 0, 10, 10), box(4, 4, 6, 6)}}}},
			probes: []probe{
				{p: Point{2, 2}, want: []int{0}},
				{p: Point{5, 5}},  // in the hole
				{p: Point{12, 5}}, // outside
				{p: Point{6.5, 5}, want: []int{0}},
			},
		},
		{
			name: "multipolygon",
			zones: []Zone{
				{Polygons: [][][]Point{{box(0, 0, 1, 1)}, {box(3, 0, 4, 1)}}},
				{Polygons: [][][]Point{{box(0.5, 0.5, 3.5, 0.8)}}},
			},
			probes: []probe{
				{p: Point{0.2, 0.2}, want: []int{0}},
				{p: Point{3.2, 0.2}, want: []int{0}},
				{p: Point{2, 0.2}},
				{p: Point{2, 0.6}, want: []int{1}},
				{p: Point{0.7, 0.6}, want: []int{0, 1}},
			},
		},
		{
			name: "antimeridian polygon",
			// 179 -> -179 is a 2 degree edge, not a 358 degree one.
			zones: []Zone{{Polygons: [][][]Point{{{{170, -10}, {-170, -10}, {-170, 10}, {170, 10}, {170, -10}}}}}},
			probes: []probe{
				{p: Point{180, 0}, want: []int{0}},
				{p: Point{-180, 5}, want: []int{0}},
				{p: Point{179, 5}, want: []int{0}},
				{p: Point{-175, -5}, want: []int{0}},
				{p: Point{0, 0}},
				{p: Point{160, 0}},
				{p: Point{-160, 0}},
			},
		},
		{
			name: "polar cap",
			// Four vertices at 80N; the great-circle edges bulge poleward to
			// about 82.9N midway between vertices.
			zones: []Zone{{Polygons: [][][]Point{{{{0, 80}, {90, 80}, {180, 80}, {-90, 80}, {0, 80}}}}}},
			probes: []probe{
				{p: Point{0, 90}, want: []int{0}},
				{p: Point{123, 89}, want: []int{0}},
				{p: Point{0, 81}, want: []int{0}},
				{p: Point{45, 83.5}, want: []int{0}},
				{p: Point{45, 82}}, // south of the bulging edge
				{p: Point{0, 70}},
				{p: Point{0, -90}},
			},
		},
		{
			name:  "circle",
			zones: []Zone{{Center: Point{30, 50}, Radius: 10000}},
			probes: []probe{
				{p: Point{30, 50}, want: []int{0}},
				{p: destination(Point{30, 50}, 0, 9990), want: []int{0}},
				{p: destination(Point{30, 50}, 0, 10010)},
				{p: destination(Point{30, 50}, 123, 9990), want: []int{0}},
				{p: destination(Point{30, 50}, 123, 10010)},
			},
		},
		{
			name:  "corridor",
			zones: []Zone{{Line: line, HalfWidth: 20000}},
			probes: []probe{
				{p: Point{0.5, 0.1}, want: []int{0}}, // 11.1 km
				{p: Point{0.5, 0.2}},                 // 22.2 km
				{p: Point{-0.15, 0}, want: []int{0}}, // round cap at the start, 16.7 km
				{p: Point{-0.2, 0}},                  // 22.2 km beyond the start
				{p: Point{1, 1.15}, want: []int{0}},  // round cap at the end
				{p: Point{1.1, 0.5}, want: []int{0}},
				{p: Point{0.9, 0.9}, want: []int{0}},
				{p: Point{0.7, 0.7}},
			},
		},
		{
			name: "airspace band",
			zones: []Zone{
				{Line: line, HalfWidth: 20000, Altitude: &Band{1000, 5000}},
				{Line: line, HalfWidth: 20000},
			},
			probes: []probe{
				{p: Point{0.5, 0.1}, want: []int{0, 1}}, // altitude unknown: inside the band
				{p: Point{0.5, 0.1}, alt: 3000, hasAlt: true, want: []int{0, 1}},
				{p: Point{0.5, 0.1}, alt: 6000, hasAlt: true, want: []int{1}},
				{p: Point{0.5, 0.1}, alt: 500, hasAlt: true, want: []int{1}},
				{p: Point{0.5, 0.1}, alt: 1000, hasAlt: true, want: []int{0, 1}}, // band is closed
				{p: Point{0.5, 0.3}, alt: 3000, hasAlt: true},
			},
		},
		{
			// A 40-degree-long edge along 60N: as a great circle it bulges
			// north to about 61.5N; straight in lon/lat it stays at 60N.
			name:  "long edge geodesic",
			zones: []Zone{{Polygons: [][][]Point{{box(-20, 50, 20, 60)}}}},
			probes: []probe{
				{p: Point{0, 61}, want: []int{0}},
				{p: Point{0, 51}}, // the southern edge bulges north too, to 51.7N
				{p: Point{0, 55}, want: []int{0}},
			},
		},
		{
			name:  "long edge planar",
			zones: []Zone{{Polygons: [][][]Point{{box(-20, 50, 20, 60)}}}},
			edges: Planar,
			probes: []probe{
				{p: Point{0, 61}},
				{p: Point{0, 51}, want: []int{0}},
				{p: Point{0, 55}, want: []int{0}},
			},
		},
		{
			name:  "planar polygon with hole",
			zones: []Zone{{Polygons: [][][]Point{{box(0, 0, 10, 10), box(4, 4, 6, 6)}}}},
			edges: Planar,
			probes: []probe{
				{p: Point{2, 2}, want: []int{0}},
				{p: Point{5, 5}},
				{p: Point{12, 5}},
			},
		},
		{
			name: "planar at the antimeridian",
			// Planar reads no antimeridian magic: this ring spans 340 degrees.
			zones: []Zone{{Polygons: [][][]Point{{{{170, -10}, {-170, -10}, {-170, 10}, {170, 10}, {170, -10}}}}}},
			edges: Planar,
			probes: []probe{
				{p: Point{0, 0}, want: []int{0}},
				{p: Point{179.5, 0}},
				{p: Point{-179.5, 0}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ix, err := NewIndex(tc.zones, tc.edges)
			if err != nil {
				t.Fatal(err)
			}
			for _, pr := range tc.probes {
				got := ix.Locate(pr.p, pr.alt, pr.hasAlt, nil)
				if !slices.Equal(got, pr.want) && !(len(got) == 0 && len(pr.want) == 0) {
					t.Errorf("Locate(%v, alt %v/%v) = %v, want %v", pr.p, pr.alt, pr.hasAlt, got, pr.want)
				}
			}
		})
	}
}

func TestCorridorDistance(t *testing.T) {
	line := []Point{{0, 0}, {1, 0}, {1, 1}}
	ix, err := NewIndex([]Zone{{Line: line, HalfWidth: 20000}, {Center: Point{5, 5}, Radius: 1}}, Geodesic)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		p, nearest Point
	}{
		{Point{0.5, 0.1}, Point{0.5, 0}}, // perpendicular to the equator is a meridian
		{Point{0.5, -0.3}, Point{0.5, 0}},
		{Point{-0.15, 0}, Point{0, 0}}, // round cap at the start
		{Point{-1, -1}, Point{0, 0}},
		{Point{1, 1.15}, Point{1, 1}},  // round cap at the end
		{Point{1.1, 0}, Point{1, 0}},   // at the corner
		{Point{0.3, 0}, Point{0.3, 0}}, // on the line
		{Point{1, 0.5}, Point{1, 0.5}},
	}
	for _, tc := range tests {
		want := DistanceMeters(tc.p, tc.nearest)
		got := ix.Distance(0, tc.p)
		if math.Abs(got-want) > 1e-6*want+1e-6 {
			t.Errorf("Distance(%v) = %.6f m, want %.6f m (to %v)", tc.p, got, want, tc.nearest)
		}
	}
	if d := ix.Distance(1, Point{0, 0}); !math.IsNaN(d) {
		t.Errorf("Distance to a circle zone = %v, want NaN", d)
	}
	if d := ix.Distance(7, Point{0, 0}); !math.IsNaN(d) {
		t.Errorf("Distance to a missing zone = %v, want NaN", d)
	}
}

func TestDistanceMeters(t *testing.T) {
	// A quarter of a great circle.
	if got, want := DistanceMeters(Point{0, 0}, Point{90, 0}), EarthRadius*math.Pi/2; math.Abs(got-want) > 1e-6 {
		t.Errorf("quarter circle: got %v, want %v", got, want)
	}
	// One degree of latitude is 111.195 km on this sphere.
	if got, want := DistanceMeters(Point{10, 45}, Point{10, 46}), EarthRadius*degree; math.Abs(got-want) > 1e-6 {
		t.Errorf("one degree: got %v, want %v", got, want)
	}
	if got := DistanceMeters(Point{179.5, 0}, Point{-179.5, 0}); math.Abs(got-EarthRadius*degree) > 1e-6 {
		t.Errorf("across the antimeridian: got %v", got)
	}
}

func TestNewIndexErrors(t *testing.T) {
	tests := []struct {
		name string
		z    Zone
	}{
		{"empty", Zone{}},
		{"two shapes", Zone{Line: []Point{{0, 0}, {1, 1}}, Radius: 5}},
		{"latitude", Zone{Center: Point{0, 91}, Radius: 5}},
		{"short ring", Zone{Polygons: [][][]Point{{{{0, 0}, {1, 1}, {0, 0}}}}}},
		{"negative width", Zone{Line: []Point{{0, 0}, {1, 1}}, HalfWidth: -1}},
		{"empty band", Zone{Center: Point{0, 0}, Radius: 5, Altitude: &Band{10, 5}}},
		{"NaN", Zone{Line: []Point{{math.NaN(), 0}, {1, 1}}}},
	}
	for _, tc := range tests {
		if _, err := NewIndex([]Zone{{Center: Point{0, 0}, Radius: 1}, tc.z}, Geodesic); err == nil {
			t.Errorf("%s: NewIndex accepted %+v", tc.name, tc.z)
		}
	}
}

func TestLocateAllocs(t *testing.T) {
	line := loadLine(t)
	ix, err := NewIndex(exampleZones(line), Geodesic)
	if err != nil {
		t.Fatal(err)
	}
	pts := randomPoints(line, 1000, 3)
	dst := make([]int, 0, nExample)
	allocs := testing.AllocsPerRun(10, func() {
		for _, p := range pts {
			dst = ix.Locate(p, 0, false, dst[:0])
			_ = ix.Distance(zDMZ, p)
		}
	})
	if allocs != 0 {
		t.Errorf("Locate and Distance allocate %v times per 1000 calls, want 0", allocs)
	}
}

// signedArea is the shoelace area of a ring in lon/lat: > 0 counterclockwise.
func signedArea(r []Point) float64 {
	a := 0.0
	for k := 1; k < len(r); k++ {
		a += r[k-1].Lon*r[k].Lat - r[k].Lon*r[k-1].Lat
	}
	return a / 2
}

func TestOutline(t *testing.T) {
	line := loadLine(t)
	ix, err := NewIndex(exampleZones(line), Geodesic)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("circle", func(t *testing.T) {
		z := Zone{Center: Point{37.55, 47.1}, Radius: 5000}
		out := Outline(z, Geodesic)
		if len(out) != 1 || len(out[0]) != 1 || len(out[0][0]) != circleVertices+1 {
			t.Fatalf("want one ring of %d positions, got %v", circleVertices+1, out)
		}
		ring := out[0][0]
		if ring[0] != ring[len(ring)-1] || signedArea(ring) <= 0 {
			t.Errorf("ring not closed or not counterclockwise")
		}
		for _, p := range ring {
			if d := DistanceMeters(z.Center, p); math.Abs(d-z.Radius) > 1e-6 {
				t.Fatalf("vertex %v is %.9f m from the centre, want %v", p, d, z.Radius)
			}
		}
	})
	for _, zi := range []int{zDMZ, zStandoff140} {
		z := exampleZones(line)[zi]
		out := Outline(z, Geodesic)
		if len(out) != 1 {
			t.Fatalf("corridor %d: want one polygon, got %d", zi, len(out))
		}
		outer := out[0][0]
		if outer[0] != outer[len(outer)-1] || signedArea(outer) <= 0 {
			t.Errorf("corridor %d: outer ring not closed or not counterclockwise", zi)
		}
		worst := 0.0
		for _, p := range outer {
			d := ix.Distance(zi, p)
			worst = max(worst, math.Abs(d-z.HalfWidth)/z.HalfWidth)
		}
		// The projection's scale error, 500 km from the line's middle.
		if worst > 0.005 {
			t.Errorf("corridor %d: outline vertices off the %v m boundary by up to %.2f%%", zi, z.HalfWidth, 100*worst)
		}
		if !planarContains(out[0], line[250]) {
			t.Errorf("corridor %d: outline does not contain the line", zi)
		}
		t.Logf("corridor %d: %d vertices, at most %.3f%% off the boundary", zi, len(outer), 100*worst)
	}
	t.Run("polygons as given", func(t *testing.T) {
		z := exampleZones(line)[zRearWest]
		out := Outline(z, Planar)
		if len(out) != 1 || len(out[0]) != 2 || !slices.Equal(out[0][1], z.Polygons[0][1]) {
			t.Errorf("polygon changed")
		}
	})
	if out := Outline(Zone{Line: line}, Geodesic); out != nil {
		t.Errorf("zero-width corridor: want nil, got %d polygons", len(out))
	}
}
