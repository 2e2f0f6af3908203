package main

import (
	"encoding/json"
	"math"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/geo"
	"github.com/truce-mission/truce/zonecheck"
)

type zonesCmd struct {
	Agreement string `arg:"" help:"Agreement file."`
}

func (c *zonesCmd) Help() string {
	return `Prints a GeoJSON FeatureCollection (RFC 7946) with one feature per zone: lines as
LineStrings, areas as Polygons or MultiPolygons, corridors and circles rendered as polygons; and
one feature per stand-off rule, its band (every point closer to the line than the rule allows)
rendered as a polygon with id "stand-off:RULE". Properties carry the id, name, kind, altitude band
and the rules that apply, so any GIS tool can style and label them.

Example:
  truce zones examples/line-of-contact.yaml > zones.geojson`
}

type feature struct {
	Type       string         `json:"type"`
	ID         string         `json:"id"`
	Properties map[string]any `json:"properties"`
	Geometry   geometry       `json:"geometry"`
}

type geometry struct {
	Type        string `json:"type"`
	Coordinates any    `json:"coordinates"`
}

func (c *zonesCmd) Run(s streams) error {
	a, err := loadAgreement(c.Agreement)
	if err != nil {
		return err
	}
	edges := geo.Geodesic
	if a.Edges == agreement.EdgesPlanar {
		edges = geo.Planar
	}
	rulesOf := map[string][]string{}
	for _, r := range a.Rules {
		if r.Zone != "" {
			rulesOf[r.Zone] = append(rulesOf[r.Zone], r.ID)
		}
	}
	features := []feature{}
	for _, z := range a.Zones {
		props := map[string]any{"id": z.ID, "kind": z.Kind.String()}
		if z.Name != "" {
			props["name"] = z.Name
		}
		if rs := rulesOf[z.ID]; len(rs) > 0 {
			props["rules"] = rs
		}
		if alt := z.Shape.Altitude; alt != nil {
			// An open end of the band is infinite, which JSON cannot carry: leave it out.
			if !math.IsInf(alt.Min, 0) {
				props["altitude_min_m"] = alt.Min
			}
			if !math.IsInf(alt.Max, 0) {
				props["altitude_max_m"] = alt.Max
			}
		}
		if z.Shape.Corridor != nil {
			props["line"], props["half_width_m"] = z.Shape.Corridor.Line, z.Shape.Corridor.HalfWidthM
		}
		if z.Shape.Circle != nil {
			props["radius_m"] = z.Shape.Circle.RadiusM
		}
		var g geometry
		if z.Kind == agreement.ZoneLine {
			g = geometry{"LineString", z.Shape.Line}
		} else {
			g = areaGeometry(geo.Outline(zonecheck.ShapeOf(z.Shape), edges))
		}
		features = append(features, feature{"Feature", z.ID, props, g})
	}
	for _, r := range a.Rules {
		if r.Kind != agreement.RuleStandOff {
			continue
		}
		line, _ := a.Zone(r.Line)
		band := zonecheck.ShapeOf(line.Shape)
		band.HalfWidth = r.DistanceM
		props := map[string]any{
			"id": "stand-off:" + r.ID, "kind": "stand-off", "rule": r.ID, "line": r.Line,
			"distance_m": r.DistanceM, "category": r.Category, "from": r.From,
		}
		if r.FromPhase != "" {
			props["from_phase"] = r.FromPhase
		}
		if !r.Until.IsZero() {
			props["until"] = r.Until
		}
		features = append(features, feature{"Feature", "stand-off:" + r.ID, props, areaGeometry(geo.Outline(band, edges))})
	}
	enc := json.NewEncoder(s.out)
	return enc.Encode(struct {
		Type     string    `json:"type"`
		Features []feature `json:"features"`
	}{"FeatureCollection", features})
}

// areaGeometry renders polygons as a GeoJSON Polygon, or MultiPolygon when there are several.
func areaGeometry(polys [][][]geo.Point) geometry {
	coords := make([][][][2]float64, len(polys))
	for i, poly := range polys {
		coords[i] = make([][][2]float64, len(poly))
		for j, ring := range poly {
			coords[i][j] = make([][2]float64, len(ring))
			for k, p := range ring {
				coords[i][j][k] = [2]float64{round7(p.Lon), round7(p.Lat)}
			}
		}
	}
	if len(coords) == 1 {
		return geometry{"Polygon", coords[0]}
	}
	return geometry{"MultiPolygon", coords}
}

// round7 rounds degrees to 1e-7 (about 1 cm): finer digits of a rendered outline are noise.
func round7(v float64) float64 { return math.Round(v*1e7) / 1e7 }
