package zonecheck

import (
	"fmt"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/geo"
)

// FromAgreement builds a checker for a validated agreement. Line zones contain nothing and are
// left out of the zones; stand-off rules measure from them. edges, when not nil, overrides the
// agreement's own setting.
func FromAgreement(a *agreement.Agreement, edges *geo.Edges) (*Checker, error) {
	opts := Options{Edges: geo.Geodesic, Covers: a.CategoryCovers}
	if a.Edges == agreement.EdgesPlanar {
		opts.Edges = geo.Planar
	}
	if edges != nil {
		opts.Edges = *edges
	}
	for _, c := range a.Categories {
		opts.Categories = append(opts.Categories, c.ID)
	}
	for _, p := range a.Parties {
		opts.Parties = append(opts.Parties, p.ID)
	}
	var zones []Zone
	for _, z := range a.Zones {
		if z.Kind == agreement.ZoneLine {
			continue
		}
		zones = append(zones, Zone{ID: z.ID, Shape: ShapeOf(z.Shape)})
	}
	rules := make([]Rule, 0, len(a.Rules))
	for _, r := range a.Rules {
		rule := Rule{
			ID: r.ID, Zone: r.Zone, LineID: r.Line, DistM: r.DistanceM, Max: r.Max,
			Category: r.Category, From: r.From, Until: r.Until,
		}
		if r.Party != agreement.AnyParty {
			rule.Party = r.Party
		}
		switch r.Kind {
		case agreement.RuleProhibit:
			rule.Kind = Prohibit
		case agreement.RuleCeiling:
			rule.Kind = Ceiling
		case agreement.RuleConfine:
			rule.Kind = Confine
		case agreement.RuleStandOff:
			rule.Kind = StandOff
			line, ok := a.Zone(r.Line)
			if !ok {
				return nil, fmt.Errorf("rule %q: unknown line %q", r.ID, r.Line)
			}
			rule.Line = points(line.Shape.Line)
		}
		rules = append(rules, rule)
	}
	return New(zones, rules, opts)
}

// ShapeOf converts an agreement zone's resolved shape to the geometry engine's.
func ShapeOf(s agreement.Shape) geo.Zone {
	var z geo.Zone
	for _, poly := range s.Polygons {
		rings := make([][]geo.Point, len(poly))
		for i, ring := range poly {
			rings[i] = points(ring)
		}
		z.Polygons = append(z.Polygons, rings)
	}
	if s.Line != nil {
		z.Line = points(s.Line)
	}
	if s.Corridor != nil {
		z.Line, z.HalfWidth = points(s.Corridor.Coords), s.Corridor.HalfWidthM
	}
	if s.Circle != nil {
		z.Center = geo.Point{Lon: s.Circle.Center[0], Lat: s.Circle.Center[1]}
		z.Radius = s.Circle.RadiusM
	}
	if s.Altitude != nil {
		z.Altitude = &geo.Band{Min: s.Altitude.Min, Max: s.Altitude.Max}
	}
	return z
}

func points(cs [][2]float64) []geo.Point {
	pts := make([]geo.Point, len(cs))
	for i, c := range cs {
		pts[i] = geo.Point{Lon: c[0], Lat: c[1]}
	}
	return pts
}
