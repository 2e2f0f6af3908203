package cap

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/truce-mission/truce/ingest"
)

// errNoShape is the reason an area with only geocodes (or nothing) is refused.
var errNoShape = errors.New("no polygon or circle")

// point is a CAP coordinate pair.
type point struct{ lat, lon float64 }

// locate gives an area's position: the centroid of its polygons, else the centre of its
// circles. It also returns the shapes as text, or the field at fault and why.
func locate(ar *area) (pos ingest.Position, shape, field string, err error) {
	name := func(kind string, i, n int) string {
		if n == 1 {
			return kind
		}
		return fmt.Sprintf("%s[%d]", kind, i)
	}
	var lines []string
	var c point
	switch {
	case len(ar.Polygons) > 0:
		var cs []point
		var ws []float64
		for i, raw := range ar.Polygons {
			ring, err := parsePolygon(raw)
			if err != nil {
				return pos, "", name("polygon", i, len(ar.Polygons)), err
			}
			p, a := centroid(ring)
			cs, ws = append(cs, p), append(ws, a)
			lines = append(lines, "polygon: "+strings.Join(strings.Fields(raw), " "))
		}
		c = weightedMean(cs, ws)
	case len(ar.Circles) > 0:
		var cs []point
		var ws []float64
		for i, raw := range ar.Circles {
			p, r, err := parseCircle(raw)
			if err != nil {
				return pos, "", name("circle", i, len(ar.Circles)), err
			}
			cs, ws = append(cs, p), append(ws, r*r)
			lines = append(lines, "circle: "+strings.Join(strings.Fields(raw), " "))
		}
		c = weightedMean(cs, ws)
	default:
		return pos, "", "area", errNoShape
	}
	pos = ingest.Position{Lat: c.lat, Lon: c.lon}
	if s := strings.TrimSpace(ar.Altitude); s != "" {
		ft, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(ft) || math.IsInf(ft, 0) {
			return pos, "", "altitude", fmt.Errorf("altitude %q is not a number of feet", ingest.Clip(s))
		}
		m := ingest.FeetToMetres(ft)
		pos.AltM = &m
	}
	return pos, strings.Join(lines, "\n"), "", nil
}

// parsePolygon reads "lat,lon lat,lon …": at least four pairs, the first and last the same.
func parsePolygon(s string) ([]point, error) {
	pairs := strings.Fields(s)
	if len(pairs) == 0 {
		return nil, errors.New("empty polygon")
	}
	ring := make([]point, 0, len(pairs))
	for i, pr := range pairs {
		p, err := parsePoint(pr)
		if err != nil {
			return nil, fmt.Errorf("point %d: %w", i+1, err)
		}
		ring = append(ring, p)
	}
	if len(ring) < 4 {
		return nil, fmt.Errorf("polygon has %d points; CAP wants at least 4, the first repeated last", len(ring))
	}
	if ring[0] != ring[len(ring)-1] {
		return nil, fmt.Errorf("polygon not closed: first point %s, last %s", pairs[0], pairs[len(pairs)-1])
	}
	return ring, nil
}

// parseCircle reads "lat,lon radius" (radius in kilometres).
func parseCircle(s string) (point, float64, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return point{}, 0, fmt.Errorf("circle %q is not \"lat,lon radius\"", ingest.Clip(s))
	}
	p, err := parsePoint(f[0])
	if err != nil {
		return point{}, 0, err
	}
	r, err := strconv.ParseFloat(f[1], 64)
	if err != nil || math.IsNaN(r) || math.IsInf(r, 0) || r < 0 {
		return point{}, 0, fmt.Errorf("radius %q is not a number of kilometres ≥ 0", ingest.Clip(f[1]))
	}
	return p, r, nil
}

// parsePoint reads "lat,lon" (WGS 84 degrees).
func parsePoint(s string) (point, error) {
	la, lo, ok := strings.Cut(s, ",")
	if !ok {
		return point{}, fmt.Errorf("%q is not \"lat,lon\"", ingest.Clip(s))
	}
	lat, err1 := strconv.ParseFloat(la, 64)
	lon, err2 := strconv.ParseFloat(lo, 64)
	if err1 != nil || err2 != nil || math.IsNaN(lat) || math.IsNaN(lon) {
		return point{}, fmt.Errorf("%q is not \"lat,lon\" in degrees", ingest.Clip(s))
	}
	if lat < -90 || lat > 90 || lon < -180 || lon > 180 {
		if math.Abs(lon) <= 90 && math.Abs(lat) <= 180 {
			return point{}, fmt.Errorf("%q is out of range; hint: CAP writes lat,lon: are they swapped?", ingest.Clip(s))
		}
		return point{}, fmt.Errorf("%q is out of range", ingest.Clip(s))
	}
	return point{lat, lon}, nil
}

// centroid returns the planar (lon/lat) area centroid of a closed ring and its area in square
// degrees; a ring of zero area gives the mean of its vertices and weight 0. A ring spanning
// more than 180° of longitude is taken to cross the antimeridian.
func centroid(ring []point) (point, float64) {
	pts := ring[:len(ring)-1] // the last repeats the first
	minLon, maxLon := pts[0].lon, pts[0].lon
	for _, p := range pts {
		minLon, maxLon = min(minLon, p.lon), max(maxLon, p.lon)
	}
	shift := maxLon-minLon > 180
	xy := make([]point, len(pts))
	for i, p := range pts {
		if shift && p.lon < 0 {
			p.lon += 360
		}
		xy[i] = p
	}
	// Relative to the first vertex, for precision.
	o := xy[0]
	var a2, cx, cy float64
	for i := range xy {
		x0, y0 := xy[i].lon-o.lon, xy[i].lat-o.lat
		j := (i + 1) % len(xy)
		x1, y1 := xy[j].lon-o.lon, xy[j].lat-o.lat
		cr := x0*y1 - x1*y0
		a2 += cr
		cx += (x0 + x1) * cr
		cy += (y0 + y1) * cr
	}
	area := math.Abs(a2) / 2
	c := point{lat: o.lat + cy/(3*a2), lon: o.lon + cx/(3*a2)}
	// A ring of (almost) no area, or a self-intersecting one whose centroid falls outside it,
	// is placed at the mean of its vertices.
	minLat, maxLat, minX, maxX := xy[0].lat, xy[0].lat, xy[0].lon, xy[0].lon
	for _, p := range xy {
		minLat, maxLat = min(minLat, p.lat), max(maxLat, p.lat)
		minX, maxX = min(minX, p.lon), max(maxX, p.lon)
	}
	if area < 1e-12 || !(c.lat >= minLat && c.lat <= maxLat && c.lon >= minX && c.lon <= maxX) {
		c = point{}
		for _, p := range xy {
			c.lat += p.lat / float64(len(xy))
			c.lon += p.lon / float64(len(xy))
		}
		area = 0
	}
	c.lon = wrapLon(c.lon)
	return c, area
}

// weightedMean combines centres by weight (equal weights when all are 0), unwrapping
// longitudes around the first so that centres either side of the antimeridian average right.
func weightedMean(cs []point, ws []float64) point {
	total := 0.0
	for _, w := range ws {
		total += w
	}
	if total == 0 || math.IsInf(total, 0) || math.IsNaN(total) {
		for i := range ws {
			ws[i] = 1
		}
		total = float64(len(ws))
	}
	ref := cs[0].lon
	var c point
	for i, p := range cs {
		lon := p.lon
		if lon-ref > 180 {
			lon -= 360
		} else if lon-ref < -180 {
			lon += 360
		}
		c.lat += p.lat * ws[i] / total
		c.lon += lon * ws[i] / total
	}
	c.lon = wrapLon(c.lon)
	return c
}

// wrapLon brings a longitude into [-180, 180].
func wrapLon(lon float64) float64 {
	if lon >= -180 && lon <= 180 {
		return lon
	}
	lon = math.Mod(lon+180, 360)
	if lon < 0 {
		lon += 360
	}
	return lon - 180
}
