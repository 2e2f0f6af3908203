package basemap

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// worldAtlas loads a world-atlas file from node_modules, failing (not skipping) with the path and
// the `npm ci` hint when it is missing: these tests guard the example geometry and must run.
func worldAtlas(t testing.TB, name string) *Map {
	t.Helper()
	p, err := FindFile(name)
	if err != nil {
		t.Fatalf("%v", err)
	}
	m, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestWorldAtlas(t *testing.T) {
	tests := []struct {
		file      string
		countries int
	}{
		{"countries-50m.json", 241},
		{"countries-110m.json", 177},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			m := worldAtlas(t, tc.file)
			if got := len(m.Countries); got != tc.countries {
				t.Errorf("%d countries, want %d", got, tc.countries)
			}
			checkRings(t, m)
			checkKnown(t, m)
		})
	}
}

// TestSample decodes the Black Sea cut of the 110m data in testdata, which needs no node_modules.
func TestSample(t *testing.T) {
	data, err := os.ReadFile("testdata/black-sea-110m.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Countries) != 6 {
		t.Fatalf("%d countries, want 6", len(m.Countries))
	}
	checkRings(t, m)
	checkKnown(t, m)
}

func checkRings(t *testing.T, m *Map) {
	t.Helper()
	for _, c := range m.Countries {
		if c.Name == "" {
			t.Errorf("country %q has no name", c.ID)
		}
		if len(c.Polygons) == 0 {
			t.Errorf("%s: no polygons", c.Name)
		}
		for _, poly := range c.Polygons {
			for _, r := range poly {
				if len(r) < 4 || r[0] != r[len(r)-1] {
					t.Errorf("%s: ring of %d positions not closed", c.Name, len(r))
				}
				for _, p := range r {
					if p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90 {
						t.Fatalf("%s: position %v out of range", c.Name, p)
					}
				}
			}
		}
	}
}

func checkKnown(t *testing.T, m *Map) {
	t.Helper()
	tests := []struct {
		name, id string
		inner    [2]float64 // a city inside
		outer    [4]float64 // the bbox must lie inside this box
		span     float64    // and be at least this wide and tall, degrees
	}{
		{"Ukraine", "804", [2]float64{30.52, 50.45}, [4]float64{21, 44, 41, 53}, 5},    // Kyiv
		{"Turkey", "792", [2]float64{32.85, 39.93}, [4]float64{25, 35, 45.5, 42.5}, 5}, // Ankara
	}
	for _, tc := range tests {
		c := m.Country(tc.name)
		if c == nil {
			t.Errorf("no country named %q", tc.name)
			continue
		}
		if c.ID != tc.id {
			t.Errorf("%s: id %q, want %q", tc.name, c.ID, tc.id)
		}
		b := c.BBox
		if b[0] < tc.outer[0] || b[1] < tc.outer[1] || b[2] > tc.outer[2] || b[3] > tc.outer[3] ||
			b[2]-b[0] < tc.span || b[3]-b[1] < tc.span {
			t.Errorf("%s: implausible bbox %v", tc.name, b)
		}
		if got := m.At(tc.inner[0], tc.inner[1]); got != c {
			t.Errorf("%s: At(%v) = %v", tc.name, tc.inner, got)
		}
	}
	if c := m.At(33.0, 43.5); c != nil { // the middle of the Black Sea
		t.Errorf("At(33.0, 43.5) = %s, want nil (at sea)", c.Name)
	}
}

func TestFindMissing(t *testing.T) {
	dir := t.TempDir()
	_, err := findFrom(dir, DefaultFile)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	for _, want := range []string{filepath.Join("node_modules", "world-atlas", "countries-50m.json"), dir, "run `npm ci`"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}

	sub := filepath.Join(dir, "a", "b")
	file := filepath.Join(dir, "node_modules", "world-atlas", DefaultFile)
	for _, d := range []string{sub, filepath.Dir(file)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(file, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := findFrom(sub, DefaultFile); err != nil || got != file {
		t.Errorf("findFrom(%s) = %q, %v; want %q", sub, got, err, file)
	}
}

// TestDecode checks delta decoding, the transform, arc stitching and reversed arcs on a square
// with a square hole, and even-odd containment.
func TestDecode(t *testing.T) {
	// Arc 0 runs (0,0) -> (4,0) -> (4,4); arc 1 runs (0,0) -> (0,4) -> (4,4), used reversed.
	// Arc 2 is the hole (1,1) (1,3) (3,3) (3,1) (1,1). Scale 0.5, translate (10, 20).
	const src = `{"type":"Topology",
		"transform":{"scale":[0.5,0.5],"translate":[10,20]},
		"objects":{"countries":{"type":"GeometryCollection","geometries":[
			{"type":"Polygon","id":"001","properties":{"name":"Squareland"},"arcs":[[0,-2],[2]]},
			{"type":"MultiPolygon","id":2,"properties":{"name":"Multi"},"arcs":[[[0,-2]],[[2]]]},
			{"type":null,"properties":{"name":"Nowhere"}},
			{"type":"Point","coordinates":[1,1],"properties":{"name":"Dot"}}]}},
		"arcs":[[[0,0],[8,0],[0,8]],[[0,0],[0,8],[8,0]],[[2,2],[0,4],[4,0],[0,-4],[-4,0]]]}`
	m, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Countries) != 4 {
		t.Fatalf("%d countries, want 4", len(m.Countries))
	}
	sq := m.Countries[0]
	want := [][][2]float64{
		{{10, 20}, {14, 20}, {14, 24}, {10, 24}, {10, 20}},
		{{11, 21}, {11, 23}, {13, 23}, {13, 21}, {11, 21}},
	}
	if sq.ID != "001" || sq.Name != "Squareland" || len(sq.Polygons) != 1 || !equalRings(sq.Polygons[0], want) {
		t.Fatalf("Squareland = %+v, want rings %v", sq, want)
	}
	if sq.BBox != [4]float64{10, 20, 14, 24} {
		t.Errorf("BBox = %v", sq.BBox)
	}
	if multi := m.Countries[1]; multi.ID != "2" || len(multi.Polygons) != 2 {
		t.Errorf("Multi = %+v, want id 2 and 2 polygons", multi)
	}
	for _, c := range m.Countries[2:] {
		if len(c.Polygons) != 0 || c.BBox != [4]float64{} {
			t.Errorf("%s = %+v, want no polygons", c.Name, c)
		}
	}

	tests := []struct {
		lon, lat float64
		in       bool
	}{
		{10.5, 20.5, true},
		{13.5, 23.5, true},
		{12, 22, false}, // in the hole
		{9, 22, false},
		{15, 22, false},
	}
	for _, tc := range tests {
		if got := sq.Contains(tc.lon, tc.lat); got != tc.in {
			t.Errorf("Contains(%v, %v) = %v, want %v", tc.lon, tc.lat, got, tc.in)
		}
		if got := m.Countries[1].Contains(tc.lon, tc.lat); got != (tc.in || (tc.lon == 12 && tc.lat == 22)) {
			// Multi holds the square and, as a separate polygon, the hole's square.
			t.Errorf("Multi.Contains(%v, %v) = %v", tc.lon, tc.lat, got)
		}
	}
}

func TestDecodeUnquantized(t *testing.T) {
	const src = `{"type":"Topology","objects":{"countries":{"type":"Polygon","properties":{"name":"Tri"},"arcs":[[0]]}},
		"arcs":[[[1.5,1.5],[3.5,1.5],[2.5,3.5],[1.5,1.5]]]}`
	m, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Countries) != 1 || !m.Countries[0].Contains(2.5, 2) || m.Countries[0].Contains(1, 1) {
		t.Errorf("got %+v", m.Countries)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"not json", `{`, "unexpected end"},
		{"not a topology", `{"type":"FeatureCollection"}`, `type is "FeatureCollection"`},
		{"no object", `{"type":"Topology","objects":{"land":{}},"arcs":[]}`, `no object "countries"`},
		{"bad transform", `{"type":"Topology","transform":{"scale":[1]},"objects":{"countries":{}},"arcs":[]}`, "transform"},
		{"short arc", `{"type":"Topology","objects":{"countries":{}},"arcs":[[[0,0]]]}`, "arc 0: 1 positions"},
		{"short position", `{"type":"Topology","objects":{"countries":{}},"arcs":[[[0,0],[1]]]}`, "arc 0 position 1"},
		{"arc index", `{"type":"Topology","objects":{"countries":{"type":"Polygon","arcs":[[0,-3]]}},"arcs":[[[0,0],[1,1]]]}`, "arc index -3 out of range"},
		{"no arcs", `{"type":"Topology","objects":{"countries":{"type":"Polygon"}},"arcs":[]}`, "no arcs"},
		{"empty ring", `{"type":"Topology","objects":{"countries":{"type":"Polygon","arcs":[[]]}},"arcs":[]}`, "ring without arcs"},
		{"overflow", `{"type":"Topology","transform":{"scale":[1e308,1],"translate":[0,0]},"objects":{"countries":{}},"arcs":[[[1e308,0],[1e308,0]]]}`, "out of range"},
		{"fractional index", `{"type":"Topology","objects":{"countries":{"type":"Polygon","arcs":[[0.5]]}},"arcs":[[[0,0],[1,1]]]}`, "arcs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *ParseError", err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "parsing TopoJSON: ") {
				t.Errorf("err = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "none.json")
	if _, err := Load(p); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), p) {
		t.Errorf("err = %v, want a not-exist error naming %s", err, p)
	}
}

func equalRings(a, b [][][2]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

// The example geometry of examples/line-of-contact.yaml, checked against the 1:50m boundaries.

func TestExampleShippingCorridorAtSea(t *testing.T) {
	m := worldAtlas(t, DefaultFile)
	ring := readPolygon(t, "../examples/zones/black-sea-corridor.geojson")
	for i, p := range ring {
		if c := m.At(p[0], p[1]); c != nil {
			t.Errorf("vertex %d %v is on land (%s), want at sea", i, p, c.Name)
		}
	}
}

// TestExampleLineOfContactOnLand wants every vertex of the illustrative line on land.
func TestExampleLineOfContactOnLand(t *testing.T) {
	m := worldAtlas(t, DefaultFile)
	line := readLine(t, "../examples/zones/line-of-contact.geojson")
	for i, p := range line {
		if m.At(p[0], p[1]) == nil {
			t.Errorf("vertex %d %v is at sea, want on land", i, p)
		}
	}
	t.Logf("%d vertices checked on land", len(line))
}

func TestExampleRearAreaOnLand(t *testing.T) {
	m := worldAtlas(t, DefaultFile)
	for i, p := range readPolygon(t, "../examples/zones/rear-area.geojson") {
		if c := m.At(p[0], p[1]); c == nil || c.Name != "Ukraine" {
			t.Errorf("vertex %d %v is not in Ukraine (%v)", i, p, c)
		}
	}
}

type feature struct {
	Geometry struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	} `json:"geometry"`
}

func readFeature(t *testing.T, path, typ string) json.RawMessage {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f feature
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if f.Geometry.Type != typ {
		t.Fatalf("%s: geometry type %q, want %q", path, f.Geometry.Type, typ)
	}
	return f.Geometry.Coordinates
}

func readLine(t *testing.T, path string) [][2]float64 {
	var line [][2]float64
	if err := json.Unmarshal(readFeature(t, path, "LineString"), &line); err != nil || len(line) < 2 {
		t.Fatalf("%s: bad LineString: %v", path, err)
	}
	return line
}

func readPolygon(t *testing.T, path string) [][2]float64 {
	var rings [][][2]float64
	if err := json.Unmarshal(readFeature(t, path, "Polygon"), &rings); err != nil || len(rings) == 0 || len(rings[0]) < 4 {
		t.Fatalf("%s: bad Polygon: %v", path, err)
	}
	return rings[0]
}
