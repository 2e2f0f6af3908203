package basemap

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// MaxPositions bounds the positions one decode may produce. Rings repeat shared arcs, so a small
// file can ask for a huge output; world-atlas countries-10m.json needs about 550,000.
const MaxPositions = 1 << 22

// ParseError is the error of [Parse] and [ParseObject] for input that is not a usable TopoJSON
// topology.
type ParseError struct{ err error }

func (e *ParseError) Error() string { return "parsing TopoJSON: " + e.err.Error() }

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.err }

func parseErrorf(format string, args ...any) error {
	return &ParseError{fmt.Errorf(format, args...)}
}

// Parse decodes the "countries" object of a TopoJSON topology in the world-atlas format: each
// geometry of the object's GeometryCollection becomes one [Country], named by its "name"
// property. Polygon and MultiPolygon geometries (and those nested in GeometryCollections) are
// kept; other geometry types and null geometries contribute no polygons.
func Parse(data []byte) (*Map, error) {
	return ParseObject(data, "countries")
}

// ParseObject is [Parse] for the object called name, such as "land".
func ParseObject(data []byte, name string) (*Map, error) {
	var topo struct {
		Type      string `json:"type"`
		Transform *struct {
			Scale     []float64 `json:"scale"`
			Translate []float64 `json:"translate"`
		} `json:"transform"`
		Arcs    [][][]float64              `json:"arcs"`
		Objects map[string]json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(data, &topo); err != nil {
		return nil, &ParseError{err}
	}
	if topo.Type != "Topology" {
		return nil, parseErrorf("type is %q, want \"Topology\"", topo.Type)
	}
	raw, ok := topo.Objects[name]
	if !ok {
		return nil, parseErrorf("no object %q", name)
	}
	var obj geometry
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, parseErrorf("object %q: %w", name, err)
	}

	d := decoder{arcs: make([][][2]float64, len(topo.Arcs))}
	scale, translate := [2]float64{1, 1}, [2]float64{0, 0}
	quantized := topo.Transform != nil
	if quantized {
		t := topo.Transform
		if len(t.Scale) != 2 || len(t.Translate) != 2 {
			return nil, parseErrorf("transform: scale and translate must have 2 numbers each, have %d and %d",
				len(t.Scale), len(t.Translate))
		}
		scale = [2]float64{t.Scale[0], t.Scale[1]}
		translate = [2]float64{t.Translate[0], t.Translate[1]}
	}
	for i, arc := range topo.Arcs {
		if len(arc) < 2 {
			return nil, parseErrorf("arc %d: %d positions, want at least 2", i, len(arc))
		}
		out := make([][2]float64, len(arc))
		var x, y float64
		for k, p := range arc {
			if len(p) < 2 {
				return nil, parseErrorf("arc %d position %d: %d numbers, want at least 2", i, k, len(p))
			}
			if quantized { // delta-encoded integers
				x += p[0]
				y += p[1]
				out[k] = [2]float64{x*scale[0] + translate[0], y*scale[1] + translate[1]}
			} else {
				out[k] = [2]float64{p[0], p[1]}
			}
			if !finite(out[k][0]) || !finite(out[k][1]) {
				return nil, parseErrorf("arc %d position %d: coordinate out of range", i, k)
			}
		}
		d.arcs[i] = out
	}

	m := &Map{}
	members := []geometry{obj}
	if obj.Type != nil && *obj.Type == "GeometryCollection" {
		members = obj.Geometries
	}
	for i := range members {
		g := &members[i]
		c := Country{ID: g.id(), Name: g.name()}
		if err := d.collect(g, &c.Polygons); err != nil {
			return nil, parseErrorf("object %q geometry %d (%q): %w", name, i, c.Name, err)
		}
		c.BBox = bbox(c.Polygons)
		m.Countries = append(m.Countries, c)
	}
	return m, nil
}

// geometry is a TopoJSON geometry object; Arcs is decoded once Type is known.
type geometry struct {
	Type       *string         `json:"type"`
	ID         json.RawMessage `json:"id"`
	Properties json.RawMessage `json:"properties"`
	Arcs       json.RawMessage `json:"arcs"`
	Geometries []geometry      `json:"geometries"`
}

func (g *geometry) id() string {
	var s string
	if json.Unmarshal(g.ID, &s) == nil {
		return s
	}
	var n json.Number
	if err := json.Unmarshal(g.ID, &n); err == nil {
		return n.String()
	}
	return ""
}

func (g *geometry) name() string {
	var p struct {
		Name any `json:"name"`
	}
	if json.Unmarshal(g.Properties, &p) == nil {
		if s, ok := p.Name.(string); ok {
			return s
		}
	}
	return ""
}

type decoder struct {
	arcs      [][][2]float64
	positions int // produced so far, bounded by MaxPositions
}

func (d *decoder) collect(g *geometry, out *[][][][2]float64) error {
	if g.Type == nil {
		return nil // a null geometry: present in TopoJSON for features without a shape
	}
	switch *g.Type {
	case "GeometryCollection":
		for i := range g.Geometries {
			if err := d.collect(&g.Geometries[i], out); err != nil {
				return fmt.Errorf("member %d: %w", i, err)
			}
		}
	case "Polygon":
		var rings [][]int
		if err := unmarshalArcs(g.Arcs, &rings); err != nil {
			return err
		}
		p, err := d.polygon(rings)
		if err != nil {
			return err
		}
		*out = append(*out, p)
	case "MultiPolygon":
		var polys [][][]int
		if err := unmarshalArcs(g.Arcs, &polys); err != nil {
			return err
		}
		for i, rings := range polys {
			p, err := d.polygon(rings)
			if err != nil {
				return fmt.Errorf("polygon %d: %w", i, err)
			}
			*out = append(*out, p)
		}
	}
	return nil
}

func unmarshalArcs(raw json.RawMessage, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return errors.New("no arcs")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("arcs: %w", err)
	}
	return nil
}

func (d *decoder) polygon(rings [][]int) ([][][2]float64, error) {
	if len(rings) == 0 {
		return nil, errors.New("polygon without rings")
	}
	p := make([][][2]float64, 0, len(rings))
	for i, r := range rings {
		ring, err := d.ring(r)
		if err != nil {
			return nil, fmt.Errorf("ring %d: %w", i, err)
		}
		p = append(p, ring)
	}
	return p, nil
}

// ring stitches arcs into a ring the way topojson-client does: each arc after the first starts
// where the previous one ended, so that shared position is dropped once; a negative index ~i
// is arc i reversed. A degenerate ring is padded to 4 positions and an open one closed.
func (d *decoder) ring(indices []int) ([][2]float64, error) {
	if len(indices) == 0 {
		return nil, errors.New("ring without arcs")
	}
	var pts [][2]float64
	for _, idx := range indices {
		i, reversed := idx, false
		if idx < 0 {
			i, reversed = ^idx, true
		}
		if i >= len(d.arcs) {
			return nil, fmt.Errorf("arc index %d out of range (%d arcs)", idx, len(d.arcs))
		}
		arc := d.arcs[i]
		d.positions += len(arc)
		if d.positions > MaxPositions {
			return nil, fmt.Errorf("more than %d positions", MaxPositions)
		}
		if len(pts) > 0 {
			pts = pts[:len(pts)-1]
		}
		start := len(pts)
		pts = append(pts, arc...)
		if reversed {
			s := pts[start:]
			for a, b := 0, len(s)-1; a < b; a, b = a+1, b-1 {
				s[a], s[b] = s[b], s[a]
			}
		}
	}
	if pts[0] != pts[len(pts)-1] {
		pts = append(pts, pts[0])
	}
	for len(pts) < 4 {
		pts = append(pts, pts[0])
	}
	return pts, nil
}

func bbox(polys [][][][2]float64) [4]float64 {
	b := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	n := 0
	for _, poly := range polys {
		for _, ring := range poly {
			for _, p := range ring {
				b[0], b[1] = min(b[0], p[0]), min(b[1], p[1])
				b[2], b[3] = max(b[2], p[0]), max(b[3], p[1])
				n++
			}
		}
	}
	if n == 0 {
		return [4]float64{}
	}
	return b
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
