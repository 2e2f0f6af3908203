package zonecheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/truce-mission/truce/geo"
)

// LoadLayer reads a GeoJSON FeatureCollection (RFC 7946) whose Polygon and MultiPolygon features
// become zones, each named by its `id` property (or, failing that, the feature's own id). Other
// geometry types have no area and are refused, as are features without an id. name is used in
// error messages; every error names the feature by its position in the collection.
func LoadLayer(name string, data []byte) ([]Zone, error) {
	var fc struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(data, &fc); err != nil {
		return nil, jsonError(name, data, err)
	}
	if fc.Type != "FeatureCollection" {
		return nil, fmt.Errorf("%s: type is %q, want \"FeatureCollection\"", name, fc.Type)
	}
	var errs []error
	var zones []Zone
	seen := map[string]int{}
	for i, raw := range fc.Features {
		z, err := layerFeature(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: features[%d]: %w", name, i, err))
			continue
		}
		if j, dup := seen[z.ID]; dup {
			errs = append(errs, fmt.Errorf("%s: features[%d]: id %q already names features[%d]", name, i, z.ID, j))
			continue
		}
		seen[z.ID] = i
		zones = append(zones, z)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(zones) == 0 {
		return nil, fmt.Errorf("%s: no features", name)
	}
	return zones, nil
}

func layerFeature(raw json.RawMessage) (Zone, error) {
	var f struct {
		Type       string          `json:"type"`
		ID         json.RawMessage `json:"id"`
		Properties map[string]any  `json:"properties"`
		Geometry   *struct {
			Type        string          `json:"type"`
			Coordinates json.RawMessage `json:"coordinates"`
		} `json:"geometry"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return Zone{}, err
	}
	if f.Type != "Feature" {
		return Zone{}, fmt.Errorf("type is %q, want \"Feature\"", f.Type)
	}
	id := ""
	switch v := f.Properties["id"].(type) {
	case string:
		id = v
	case float64:
		id = strconv.FormatFloat(v, 'f', -1, 64)
	}
	if id == "" && len(f.ID) > 0 {
		var s string
		if json.Unmarshal(f.ID, &s) == nil {
			id = s
		} else {
			id = string(bytes.TrimSpace(f.ID))
		}
	}
	if id == "" {
		return Zone{}, errors.New(`no "id" property and no feature id`)
	}
	if f.Geometry == nil {
		return Zone{}, fmt.Errorf("feature %q: no geometry", id)
	}
	var polys [][][][2]float64
	switch f.Geometry.Type {
	case "Polygon":
		var p [][][2]float64
		if err := json.Unmarshal(f.Geometry.Coordinates, &p); err != nil {
			return Zone{}, fmt.Errorf("feature %q: coordinates: %w", id, err)
		}
		polys = [][][][2]float64{p}
	case "MultiPolygon":
		if err := json.Unmarshal(f.Geometry.Coordinates, &polys); err != nil {
			return Zone{}, fmt.Errorf("feature %q: coordinates: %w", id, err)
		}
	default:
		return Zone{}, fmt.Errorf("feature %q: geometry type %q has no area; want Polygon or MultiPolygon", id, f.Geometry.Type)
	}
	shape, err := polygonsToGeo(polys)
	if err != nil {
		return Zone{}, fmt.Errorf("feature %q: %w", id, err)
	}
	return Zone{ID: id, Shape: shape}, nil
}

// polygonsToGeo converts GeoJSON polygon coordinates, checking each ring is closed, long
// enough and within range (the agreement loader checks more, with positions).
func polygonsToGeo(polys [][][][2]float64) (geo.Zone, error) {
	if len(polys) == 0 {
		return geo.Zone{}, errors.New("empty geometry")
	}
	var z geo.Zone
	for pi, poly := range polys {
		if len(poly) == 0 {
			return geo.Zone{}, fmt.Errorf("polygon %d has no rings", pi)
		}
		rings := make([][]geo.Point, len(poly))
		for ri, ring := range poly {
			if len(ring) < 4 {
				return geo.Zone{}, fmt.Errorf("polygon %d ring %d: %d positions, a ring needs at least 4", pi, ri, len(ring))
			}
			if ring[0] != ring[len(ring)-1] {
				return geo.Zone{}, fmt.Errorf("polygon %d ring %d: not closed (first position %v, last %v)", pi, ri, ring[0], ring[len(ring)-1])
			}
			pts := make([]geo.Point, len(ring))
			for k, c := range ring {
				if math.Abs(c[0]) > 180 || math.Abs(c[1]) > 90 || math.IsNaN(c[0]) || math.IsNaN(c[1]) {
					return geo.Zone{}, fmt.Errorf("polygon %d ring %d position %d: [%g, %g] is not a [lon, lat] in range", pi, ri, k, c[0], c[1])
				}
				pts[k] = geo.Point{Lon: c[0], Lat: c[1]}
			}
			rings[ri] = pts
		}
		z.Polygons = append(z.Polygons, rings)
	}
	return z, nil
}

// jsonError prefixes a JSON syntax or type error with name:line:col.
func jsonError(name string, data []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 {
		return fmt.Errorf("%s: %w", name, err)
	}
	line, col := 1, 1
	for _, b := range data[:min(int(off), len(data))] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Errorf("%s:%d:%d: %w", name, line, col, err)
}
