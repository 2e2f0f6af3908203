package geo

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/truce-mission/truce/agreement"
)

// The oracle test checks Locate and Distance against PostGIS, an
// independent implementation of both conventions: geography (great-circle
// edges on a sphere) for Geodesic, geometry for Planar.
//
// CI sets TRUCE_REQUIRE_DB=1 (or -require-postgis) so that a missing database
// fails the run instead of skipping the test.

var requirePostGIS = flag.Bool("require-postgis", false, "fail, not skip, when PostgreSQL/PostGIS is not reachable at 127.0.0.1:5432")

const postgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable&connect_timeout=5"

// postgisRadius is the sphere radius PostGIS geography uses with
// use_spheroid=false: the WGS84 mean radius (2a+b)/3. Its distances are
// scaled by EarthRadius/postgisRadius (1 + 4.5e-9) before comparing.
const postgisRadius = 6371008.771415

func connectPostGIS(t *testing.T) *pgx.Conn {
	t.Helper()
	unreachable := func(err error) {
		t.Helper()
		msg := fmt.Sprintf("PostgreSQL/PostGIS not reachable at 127.0.0.1:5432: %v", err)
		if *requirePostGIS || os.Getenv("TRUCE_REQUIRE_DB") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, postgresURL)
	if err != nil {
		unreachable(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS postgis"); err != nil {
		unreachable(err)
	}
	var r float64
	if err := conn.QueryRow(ctx, "SELECT ST_Distance('POINT(0 0)'::geography, 'POINT(0 1)'::geography, false) / radians(1)").Scan(&r); err != nil {
		unreachable(err)
	}
	if math.Abs(r-postgisRadius) > 1e-3 {
		t.Fatalf("PostGIS sphere radius is %v m, the test assumes %v m", r, postgisRadius)
	}
	return conn
}

// oracleZones is the synthetic example-like set, then every area zone and stand-off band of
// the example agreement (examples/line-of-contact.yaml, loaded as a user's would be), then zones
// only a geodesic reading gets right: a polygon across the antimeridian and a cap around the
// north pole. The first nEnvelope zones are local enough for the envelope shortcut below.
func oracleZones(t *testing.T, line []Point, edges Edges) (zones []Zone, nEnvelope int) {
	zs := append(exampleZones(line), agreementZones(t)...)
	nEnvelope = len(zs)
	zs = append(zs, Zone{Polygons: [][][]Point{{{{175, -20}, {-175, -20}, {-175, -10}, {175, -10}, {175, -20}}}}})
	if edges == Geodesic {
		var ring []Point
		for lon := -180.0; lon < 180; lon += 10 {
			ring = append(ring, Point{lon, 75})
		}
		zs = append(zs, Zone{Polygons: [][][]Point{{append(ring, ring[0])}}})
	}
	return zs, nEnvelope
}

// agreementZones loads the example agreement and returns its area zones and a corridor for
// each stand-off rule, as zonecheck builds them (zonecheck imports geo, so it cannot be used
// here).
func agreementZones(t *testing.T) []Zone {
	t.Helper()
	a, err := agreement.LoadFile("../examples/line-of-contact.yaml")
	if err != nil {
		t.Fatalf("loading the example agreement: %v", err)
	}
	pts := func(cs [][2]float64) []Point {
		out := make([]Point, len(cs))
		for i, c := range cs {
			out[i] = Point{c[0], c[1]}
		}
		return out
	}
	var zs []Zone
	for _, z := range a.Zones {
		s := z.Shape
		var gz Zone
		switch {
		case z.Kind == agreement.ZoneLine:
			continue
		case s.Corridor != nil:
			gz = Zone{Line: pts(s.Corridor.Coords), HalfWidth: s.Corridor.HalfWidthM}
		case s.Circle != nil:
			gz = Zone{Center: Point{s.Circle.Center[0], s.Circle.Center[1]}, Radius: s.Circle.RadiusM}
		default:
			for _, poly := range s.Polygons {
				var rings [][]Point
				for _, r := range poly {
					rings = append(rings, pts(r))
				}
				gz.Polygons = append(gz.Polygons, rings)
			}
		}
		if s.Altitude != nil {
			gz.Altitude = &Band{s.Altitude.Min, s.Altitude.Max}
		}
		zs = append(zs, gz)
	}
	for _, r := range a.Rules {
		if r.Kind == agreement.RuleStandOff {
			l, _ := a.Zone(r.Line)
			zs = append(zs, Zone{Line: pts(l.Shape.Line), HalfWidth: r.DistanceM})
		}
	}
	if len(zs) < 10 {
		t.Fatalf("the example agreement gave only %d zones", len(zs))
	}
	return zs
}

// geoJSON renders a zone's shape as a GeoJSON geometry for PostGIS.
func geoJSON(z Zone) string {
	coords := func(ps []Point) [][2]float64 {
		out := make([][2]float64, len(ps))
		for i, p := range ps {
			out[i] = [2]float64{p.Lon, p.Lat}
		}
		return out
	}
	var g any
	switch {
	case len(z.Polygons) > 0:
		var mp [][][][2]float64
		for _, poly := range z.Polygons {
			var rings [][][2]float64
			for _, r := range poly {
				rings = append(rings, coords(r))
			}
			mp = append(mp, rings)
		}
		g = map[string]any{"type": "MultiPolygon", "coordinates": mp}
	case len(z.Line) > 0:
		g = map[string]any{"type": "LineString", "coordinates": coords(z.Line)}
	default:
		g = map[string]any{"type": "Point", "coordinates": [2]float64{z.Center.Lon, z.Center.Lat}}
	}
	b, _ := json.Marshal(g)
	return string(b)
}

func TestLocateMatchesPostGIS(t *testing.T) {
	conn := connectPostGIS(t)
	ctx := t.Context()
	line := loadLine(t)

	// 100,000 points around the example set, plus points around the
	// antimeridian polygon and the polar cap.
	pts := randomPoints(line, 100000, 77)
	rng := rand.New(rand.NewPCG(9, 9))
	// The example agreement reaches further west and south than the synthetic set: its rear
	// area and its Black Sea corridor.
	for range 20000 {
		pts = append(pts, Point{27 + 18*rng.Float64(), 40.5 + 12.5*rng.Float64()})
	}
	for range 5000 {
		lon := 170 + 20*rng.Float64()
		if lon > 180 {
			lon -= 360
		}
		pts = append(pts, Point{lon, -25 + 20*rng.Float64()})
		pts = append(pts, Point{360*rng.Float64() - 180, 65 + 25*rng.Float64()})
	}
	lons, lats := make([]float64, len(pts)), make([]float64, len(pts))
	for i, p := range pts {
		lons[i], lats[i] = p.Lon, p.Lat
	}
	ratio := EarthRadius / postgisRadius

	// query runs one PostGIS query over all points, $1 and $2 being their
	// longitudes and latitudes and $3 a zone's GeoJSON, and scans one row
	// per point (in order) into the given columns.
	query := func(t *testing.T, q, geom string, cols ...any) func(yield func(i int) bool) {
		return func(yield func(i int) bool) {
			start := time.Now()
			rows, err := conn.Query(ctx, q, lons, lats, geom)
			if err != nil {
				t.Fatal(err)
			}
			i := 0
			_, err = pgx.ForEachRow(rows, cols, func() error {
				if !yield(i) {
					return errStop
				}
				i++
				return nil
			})
			if err != nil && err != errStop {
				t.Fatal(err)
			}
			if i != len(pts) {
				t.Fatalf("PostGIS returned %d rows for %d points", i, len(pts))
			}
			t.Logf("PostGIS answered %d points in %v", i, time.Since(start).Round(time.Millisecond))
		}
	}
	const points = `(SELECT i, ST_SetSRID(ST_MakePoint(x, y), 4326) AS p
		FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS u(x, y, i)) q`

	// Corridors and circles are geodesic under both conventions: ask once.
	// pgIn[z][i] is PostGIS's containment, pgNear[z][i] whether point i is
	// within 1 m of zone z's boundary by PostGIS's own measure. The
	// corridors on the line share one query: the distance to the line and
	// ST_DWithin for each width.
	zones0, _ := oracleZones(t, line, Geodesic)
	pgIn := map[int][]bool{}
	pgNear := map[int][]bool{}
	lineDist := make([]float64, len(pts)) // metres from each point to the line, on our sphere
	var corr []int
	var cols []string
	for zi, z := range zones0 {
		if len(z.Line) > 0 {
			corr = append(corr, zi)
			cols = append(cols, fmt.Sprintf("ST_DWithin(g, p::geography, %v, false)", z.HalfWidth))
		}
	}
	{
		dest := []any{new(float64)}
		for range corr {
			dest = append(dest, new(bool))
		}
		for _, zi := range corr {
			pgIn[zi], pgNear[zi] = make([]bool, len(pts)), make([]bool, len(pts))
		}
		q := fmt.Sprintf(`SELECT ST_Distance(g, p::geography, false), %s
			FROM (SELECT ST_SetSRID(ST_GeomFromGeoJSON($3), 4326)::geography AS g) z, %s ORDER BY i`,
			strings.Join(cols, ", "), points)
		for i := range query(t, q, geoJSON(zones0[corr[0]]), dest...) {
			d := *dest[0].(*float64) * ratio
			lineDist[i] = d
			for k, zi := range corr {
				pgIn[zi][i] = *dest[k+1].(*bool)
				pgNear[zi][i] = math.Abs(d-zones0[zi].HalfWidth) < margin
			}
		}
	}
	for zi, z := range zones0 {
		if z.Radius == 0 {
			continue
		}
		in, near := make([]bool, len(pts)), make([]bool, len(pts))
		var b bool
		var d float64
		for i := range query(t, fmt.Sprintf(`SELECT ST_DWithin(g, p::geography, %v, false), ST_Distance(g, p::geography, false)
			FROM (SELECT ST_SetSRID(ST_GeomFromGeoJSON($3), 4326)::geography AS g) z, %s ORDER BY i`, z.Radius, points),
			geoJSON(z), &b, &d) {
			in[i], near[i] = b, math.Abs(d*ratio-z.Radius) < margin
		}
		pgIn[zi], pgNear[zi] = in, near
	}

	for _, edges := range []Edges{Geodesic, Planar} {
		t.Run(edges.String(), func(t *testing.T) {
			zones, nEnvelope := oracleZones(t, line, edges)
			ix, err := NewIndex(zones, edges)
			if err != nil {
				t.Fatal(err)
			}
			for zi, z := range zones {
				if len(z.Polygons) == 0 {
					continue
				}
				// PostGIS geography tests cost ~30 us a point; the example's
				// polygons have km-short edges that bulge from the straight
				// lon/lat edge by far less than 0.01 degree, so points
				// outside that envelope can skip them. The extra zones (across
				// the antimeridian, around the pole) get no such shortcut.
				env := "true"
				if zi < nEnvelope {
					env = "ST_Expand(ST_Envelope(g), 0.01) && p"
				}
				var q string
				if edges == Planar {
					// Within margin metres, conservatively: a degree of
					// longitude is the shortest.
					q = fmt.Sprintf(`SELECT ST_Covers(g, p), ST_DWithin(b, p, %v / cos(radians(ST_Y(p))))
						FROM (SELECT g, ST_Boundary(g) AS b FROM ST_SetSRID(ST_GeomFromGeoJSON($3), 4326) AS g) z, %s
						ORDER BY i`, margin/(EarthRadius*degree), points)
				} else {
					q = fmt.Sprintf(`SELECT %[3]s AND ST_Covers(gg, p::geography), %[3]s AND ST_DWithin(b, p::geography, %[1]v, false)
						FROM (SELECT g, g::geography AS gg, ST_Boundary(g)::geography AS b FROM ST_SetSRID(ST_GeomFromGeoJSON($3), 4326) AS g) z, %[2]s
						ORDER BY i`, margin/ratio, points, env)
				}
				in, near := make([]bool, len(pts)), make([]bool, len(pts))
				var b, n bool
				for i := range query(t, q, geoJSON(z), &b, &n) {
					in[i], near[i] = b, n
				}
				pgIn[zi], pgNear[zi] = in, near
			}

			var compared, excluded, hits, wrong int
			var got []int
		points:
			for i, p := range pts {
				for zi := range zones {
					if pgNear[zi][i] {
						excluded++
						continue points
					}
				}
				var want []int
				for zi := range zones {
					if pgIn[zi][i] {
						want = append(want, zi)
					}
				}
				got = ix.Locate(p, 0, false, got[:0])
				compared++
				hits += len(want)
				if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
					if wrong++; wrong <= 10 {
						t.Errorf("Locate(%v) = %v, PostGIS says %v", p, got, want)
					}
				}
			}
			t.Logf("%d points: %d compared with PostGIS (%d zone hits), %d excluded within %v m of a boundary, %d disagree",
				len(pts), compared, hits, excluded, margin, wrong)
			if compared < 100000 {
				t.Errorf("only %d points compared, want >= 100000", compared)
			}

			worst := 0.0
			for i, p := range pts {
				d := ix.Distance(zStandoff140, p)
				rel := math.Abs(d-lineDist[i]) / max(lineDist[i], 1)
				worst = max(worst, rel)
				if rel > 1e-6 {
					t.Fatalf("Distance(%v) = %.6f m, PostGIS %.6f m", p, d, lineDist[i])
				}
			}
			t.Logf("Distance to the line: %d points agree with PostGIS's ST_Distance, worst relative difference %.3g", len(pts), worst)
		})
	}
}

var errStop = errors.New("stop")
