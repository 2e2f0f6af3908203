//go:build ignore

// Command gen writes the synthetic example geometry of examples/line-of-contact.yaml and checks
// it against the Natural Earth base map (run `npm ci` first):
//
//	go run examples/zones/gen/main.go           # from the repository root; rewrites the files
//	go run examples/zones/gen/main.go -check    # only checks the files on disk
//
// It writes zones/black-sea-corridor.geojson (a maritime corridor from off Odesa to the
// Bosphorus approaches, every vertex at least 2 km from any coast) and zones/rear-area.geojson
// (a polygon on the west side, on land, every vertex at least 140 km from the line of contact).
// All of it is ILLUSTRATIVE: it draws no real line and reflects no agreement.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/truce-mission/truce/basemap"
)

const earthRadius = 6371008.8 // metres, the mean Earth radius used by the agreement format

type pos = [2]float64 // [lon, lat] degrees

var (
	// corridorPath runs from off Odesa, east of Zmiinyi (Snake) Island, down the Romanian and
	// Bulgarian offshore waters to the northern approaches of the Bosphorus.
	corridorPath = []pos{
		{30.90, 46.40}, // off Odesa
		{30.80, 45.90},
		{30.30, 44.90}, // 20+ km east of Zmiinyi Island
		{29.45, 44.00}, // off Constanta
		{28.75, 43.10}, // off Cape Kaliakra and Varna
		{28.45, 42.20}, // off Burgas
		{29.12, 41.36}, // Bosphorus approaches, about 15 km off the strait's mouth
	}
	corridorHalfWidth = 5000.0 // metres: a corridor about 10 km wide
	corridorStep      = 5000.0 // metres between vertices along each side
	minOffshore       = 2000.0 // metres from any coast, checked on 1:50m boundaries

	// rearCenter is the centre of the rear area, in the west, far behind the line.
	rearCenter   = pos{28.6, 49.4}
	rearVertices = 300
	minStandOff  = 140000.0 // metres from the line of contact, checked
)

func main() {
	check := flag.Bool("check", false, "only check the files on disk, do not write")
	dir := flag.String("dir", "examples/zones", "directory of the zone files")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("gen: ")

	path, err := basemap.Find()
	if err != nil {
		log.Fatal(err)
	}
	m, err := basemap.Load(path)
	if err != nil {
		log.Fatal(err)
	}
	loc, err := readLine(filepath.Join(*dir, "line-of-contact.geojson"))
	if err != nil {
		log.Fatal(err)
	}

	files := []struct {
		name, id, title string
		ring            []pos
		verify          func([]pos) error
	}{
		{"black-sea-corridor.geojson", "black-sea-corridor",
			"Black Sea shipping corridor, Odesa to the Bosphorus approaches (ILLUSTRATIVE: synthetic geometry)",
			corridor(corridorPath, corridorHalfWidth, corridorStep),
			func(r []pos) error { return atSea(m, r, minOffshore) }},
		{"rear-area.geojson", "rear-area-west",
			"Western rear area (ILLUSTRATIVE: synthetic geometry)",
			blob(rearCenter, rearVertices),
			func(r []pos) error {
				if err := onLand(m, r, "Ukraine"); err != nil {
					return err
				}
				return farFrom(loc, r, minStandOff)
			}},
	}
	failed := false
	for _, f := range files {
		p := filepath.Join(*dir, f.name)
		ring := f.ring
		if *check {
			if ring, err = readRing(p); err != nil {
				log.Print(err)
				failed = true
				continue
			}
		}
		if err := simple(ring); err != nil {
			log.Printf("%s: %v", p, err)
			failed = true
			continue
		}
		if err := f.verify(ring); err != nil {
			log.Printf("%s: %v", p, err)
			failed = true
			continue
		}
		if !*check {
			if err := os.WriteFile(p, encode(f.id, f.title, ring), 0o644); err != nil {
				log.Fatal(err)
			}
		}
		fmt.Printf("%s: %d vertices, ok\n", p, len(ring))
	}
	if failed {
		os.Exit(1)
	}
}

// corridor returns the closed ring, counter-clockwise, of the band within halfWidth metres
// either side of path (flat ends), with vertices about step metres apart.
func corridor(path []pos, halfWidth, step float64) []pos {
	var line []pos
	for i := 0; i+1 < len(path); i++ {
		a, b := path[i], path[i+1]
		n := int(math.Ceil(distance(a, b) / step))
		for k := 0; k < n; k++ {
			line = append(line, interpolate(a, b, float64(k)/float64(n)))
		}
	}
	line = append(line, path[len(path)-1])

	left := make([]pos, len(line))
	right := make([]pos, len(line))
	for i, p := range line {
		prev, next := line[max(i-1, 0)], line[min(i+1, len(line)-1)]
		brg := bearing(prev, next)
		left[i] = destination(p, brg-90, halfWidth)
		right[i] = destination(p, brg+90, halfWidth)
	}
	ring := append([]pos{}, right...)
	for i := len(left) - 1; i >= 0; i-- {
		ring = append(ring, left[i])
	}
	return closeCCW(ring)
}

// blob returns an irregular closed ring of n vertices around c, 70 to 105 km from it.
func blob(c pos, n int) []pos {
	ring := make([]pos, 0, n+1)
	for i := 0; i < n; i++ {
		t := 2 * math.Pi * float64(i) / float64(n)
		r := 85000 + 12000*math.Sin(3*t) + 6000*math.Cos(5*t+1) + 1500*math.Sin(17*t)
		ring = append(ring, destination(c, t*180/math.Pi, r))
	}
	return closeCCW(ring)
}

// closeCCW rounds to 5 decimals (about a metre), closes the ring and orients it
// counter-clockwise as RFC 7946 asks of exterior rings.
func closeCCW(ring []pos) []pos {
	for i, p := range ring {
		ring[i] = pos{math.Round(p[0]*1e5) / 1e5, math.Round(p[1]*1e5) / 1e5}
	}
	ring = append(ring, ring[0])
	area := 0.0
	for i := 0; i+1 < len(ring); i++ {
		area += ring[i][0]*ring[i+1][1] - ring[i+1][0]*ring[i][1]
	}
	if area < 0 {
		for a, b := 0, len(ring)-1; a < b; a, b = a+1, b-1 {
			ring[a], ring[b] = ring[b], ring[a]
		}
	}
	return ring
}

// simple checks that the closed ring has no repeated vertex and no two edges that cross.
func simple(ring []pos) error {
	n := len(ring) - 1
	seen := map[pos]int{}
	for i, p := range ring[:n] {
		if j, ok := seen[p]; ok {
			return fmt.Errorf("vertices %d and %d are equal", j, i)
		}
		seen[p] = i
	}
	side := func(o, a, b pos) float64 { return (a[0]-o[0])*(b[1]-o[1]) - (a[1]-o[1])*(b[0]-o[0]) }
	for i := 0; i < n; i++ {
		for j := i + 2; j < n; j++ {
			if i == 0 && j == n-1 {
				continue // adjacent through the closing vertex
			}
			a, b, c, d := ring[i], ring[i+1], ring[j], ring[j+1]
			if side(c, d, a)*side(c, d, b) < 0 && side(a, b, c)*side(a, b, d) < 0 {
				return fmt.Errorf("edges %d and %d cross", i, j)
			}
		}
	}
	return nil
}

func atSea(m *basemap.Map, ring []pos, margin float64) error {
	for i, p := range ring {
		if c := m.At(p[0], p[1]); c != nil {
			return fmt.Errorf("vertex %d %v is on land (%s)", i, p, c.Name)
		}
		if d := coastDistance(m, p); d < margin {
			return fmt.Errorf("vertex %d %v is %.0f m from a coast, want at least %.0f", i, p, d, margin)
		}
	}
	return nil
}

func onLand(m *basemap.Map, ring []pos, country string) error {
	for i, p := range ring {
		if c := m.At(p[0], p[1]); c == nil || c.Name != country {
			return fmt.Errorf("vertex %d %v is not in %s", i, p, country)
		}
	}
	return nil
}

func farFrom(line, ring []pos, dmin float64) error {
	nearest := math.Inf(1)
	for i, p := range ring {
		d := lineDistance(line, p)
		if d < dmin {
			return fmt.Errorf("vertex %d %v is %.0f m from the line of contact, want at least %.0f", i, p, d, dmin)
		}
		nearest = min(nearest, d)
	}
	fmt.Printf("rear area: nearest vertex %.0f km from the line of contact\n", nearest/1000)
	return nil
}

// coastDistance is the distance in metres from p to the nearest country boundary edge, in a
// local equirectangular projection (good to well under 1% at these distances).
func coastDistance(m *basemap.Map, p pos) float64 {
	best := math.Inf(1)
	for _, c := range m.Countries {
		b := c.BBox
		if p[0] < b[0]-1 || p[0] > b[2]+1 || p[1] < b[1]-1 || p[1] > b[3]+1 {
			continue
		}
		for _, poly := range c.Polygons {
			for _, r := range poly {
				for i := 0; i+1 < len(r); i++ {
					best = min(best, segmentDistance(p, r[i], r[i+1]))
				}
			}
		}
	}
	return best
}

func lineDistance(line []pos, p pos) float64 {
	best := math.Inf(1)
	for i := 0; i+1 < len(line); i++ {
		best = min(best, segmentDistance(p, line[i], line[i+1]))
	}
	return best
}

func segmentDistance(p, a, b pos) float64 {
	k := math.Cos(p[1] * math.Pi / 180)
	xy := func(q pos) (float64, float64) {
		return (q[0] - p[0]) * k * math.Pi / 180 * earthRadius, (q[1] - p[1]) * math.Pi / 180 * earthRadius
	}
	ax, ay := xy(a)
	bx, by := xy(b)
	dx, dy := bx-ax, by-ay
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = math.Max(0, math.Min(1, -(ax*dx+ay*dy)/l))
	}
	return math.Hypot(ax+t*dx, ay+t*dy)
}

func rad(d float64) float64 { return d * math.Pi / 180 }
func deg(r float64) float64 { return r * 180 / math.Pi }

func distance(a, b pos) float64 {
	dlat, dlon := rad(b[1]-a[1]), rad(b[0]-a[0])
	h := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(rad(a[1]))*math.Cos(rad(b[1]))*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * earthRadius * math.Asin(math.Sqrt(h))
}

func bearing(a, b pos) float64 {
	φ1, φ2, dλ := rad(a[1]), rad(b[1]), rad(b[0]-a[0])
	y := math.Sin(dλ) * math.Cos(φ2)
	x := math.Cos(φ1)*math.Sin(φ2) - math.Sin(φ1)*math.Cos(φ2)*math.Cos(dλ)
	return deg(math.Atan2(y, x))
}

func destination(p pos, brg, d float64) pos {
	φ1, λ1, θ, δ := rad(p[1]), rad(p[0]), rad(brg), d/earthRadius
	φ2 := math.Asin(math.Sin(φ1)*math.Cos(δ) + math.Cos(φ1)*math.Sin(δ)*math.Cos(θ))
	λ2 := λ1 + math.Atan2(math.Sin(θ)*math.Sin(δ)*math.Cos(φ1), math.Cos(δ)-math.Sin(φ1)*math.Sin(φ2))
	return pos{deg(λ2), deg(φ2)}
}

// interpolate is linear in lon/lat: the steps are a few kilometres, where it does not matter.
func interpolate(a, b pos, t float64) pos {
	return pos{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}
}

type feature struct {
	Type       string            `json:"type"`
	Properties map[string]string `json:"properties"`
	Geometry   struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	} `json:"geometry"`
}

// encode writes a GeoJSON Feature with one position per line, for readable diffs.
func encode(id, title string, ring []pos) []byte {
	var b bytes.Buffer
	props, _ := json.Marshal(map[string]string{"id": id, "name": title})
	fmt.Fprintf(&b, "{\"type\":\"Feature\",\"properties\":%s,\n\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[\n", props)
	for i, p := range ring {
		sep := ","
		if i == len(ring)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "[%s,%s]%s\n", num(p[0]), num(p[1]), sep)
	}
	b.WriteString("]]}}\n")
	return b.Bytes()
}

func num(f float64) string {
	s := fmt.Sprintf("%.5f", f)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

func readFeature(path string) (feature, error) {
	var f feature
	data, err := os.ReadFile(path)
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return f, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

func readLine(path string) ([]pos, error) {
	f, err := readFeature(path)
	if err != nil {
		return nil, err
	}
	var line []pos
	if err := json.Unmarshal(f.Geometry.Coordinates, &line); err != nil || f.Geometry.Type != "LineString" {
		return nil, fmt.Errorf("%s: want a LineString Feature", path)
	}
	return line, nil
}

func readRing(path string) ([]pos, error) {
	f, err := readFeature(path)
	if err != nil {
		return nil, err
	}
	var rings [][]pos
	if err := json.Unmarshal(f.Geometry.Coordinates, &rings); err != nil || f.Geometry.Type != "Polygon" || len(rings) != 1 {
		return nil, fmt.Errorf("%s: want a Polygon Feature with one ring", path)
	}
	return rings[0], nil
}
