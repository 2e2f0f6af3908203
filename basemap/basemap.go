// Package basemap reads country boundaries for maps and geometry sanity checks.
//
// The source is the npm package world-atlas (Natural Earth admin-0 countries, public domain),
// installed into node_modules by `npm ci` at the repository root. Its files are TopoJSON:
// shared arcs, quantized and delta-encoded, referenced by index from Polygon and MultiPolygon
// geometries. [Parse] resolves them into plain polygons of WGS84 [lon, lat] positions, [Load]
// reads a file and [Find] locates the default 1:50m file.
//
// # Limits
//
// The boundaries are small-scale cartography (1:50m or 1:110m), good for a base map and for
// checking that an example's geometry is roughly where it should be (at sea, on land). They are
// not survey data and carry no legal meaning. [Country.Contains] is planar point-in-polygon in
// lon/lat, which is how Natural Earth draws its polygons (they are cut at the antimeridian).
package basemap

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DefaultFile is the world-atlas file [Find] looks for: Natural Earth countries at 1:50m.
const DefaultFile = "countries-50m.json"

// ErrNotFound is returned (wrapped) by [Find] and [FindFile] when the world-atlas package is not
// installed in any node_modules above the working directory.
var ErrNotFound = errors.New("world-atlas data not found")

// Map is a decoded set of countries.
type Map struct {
	Countries []Country
}

// Country is one country (a TopoJSON geometry with a name) of a [Map].
type Country struct {
	// ID is the ISO 3166-1 numeric code as world-atlas gives it ("804"), empty for the few
	// territories that have none (Kosovo, N. Cyprus, Somaliland).
	ID string
	// Name is the Natural Earth short name ("Ukraine", "Turkey").
	Name string
	// Polygons holds the country's polygons; each is a list of rings, the exterior first and
	// then its holes; each ring is closed (its first and last positions are equal) and each
	// position is [lon, lat] in degrees.
	Polygons [][][][2]float64
	// BBox is the bounding box [minLon, minLat, maxLon, maxLat] of every position; zero when the
	// country has no positions.
	BBox [4]float64
}

// Load reads and decodes the "countries" object of the TopoJSON file at path.
func Load(path string) (*Map, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading basemap: %w", err)
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("loading basemap %s: %w", path, err)
	}
	return m, nil
}

// Find returns the path of node_modules/world-atlas/countries-50m.json in the working directory
// or the nearest parent directory that has it. When there is none, the error wraps
// [ErrNotFound], names the path it looked for and says to run `npm ci`.
func Find() (string, error) {
	return FindFile(DefaultFile)
}

// FindFile is [Find] for another world-atlas file, such as "countries-110m.json".
func FindFile(name string) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding basemap: %w", err)
	}
	return findFrom(wd, name)
}

func findFrom(dir, name string) (string, error) {
	rel := filepath.Join("node_modules", "world-atlas", name)
	start := dir
	for {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("finding basemap: %w", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", fmt.Errorf("%w: no %s in %s or any parent directory: run `npm ci` in the repository root",
		ErrNotFound, rel, start)
}

// Country returns the country named name, or nil.
func (m *Map) Country(name string) *Country {
	for i := range m.Countries {
		if m.Countries[i].Name == name {
			return &m.Countries[i]
		}
	}
	return nil
}

// At returns the first country containing the position (lon, lat), or nil when the position is
// in none (at sea, or in a lake that Natural Earth leaves out of every country).
func (m *Map) At(lon, lat float64) *Country {
	for i := range m.Countries {
		if m.Countries[i].Contains(lon, lat) {
			return &m.Countries[i]
		}
	}
	return nil
}

// Contains reports whether (lon, lat) lies inside one of the country's polygons, by the even-odd
// rule over each polygon's rings (so holes are outside), with straight edges in lon/lat.
// A position exactly on an edge may go either way.
func (c *Country) Contains(lon, lat float64) bool {
	b := c.BBox
	if lon < b[0] || lon > b[2] || lat < b[1] || lat > b[3] {
		return false
	}
	for _, poly := range c.Polygons {
		in := false
		for _, ring := range poly {
			if ringCrossings(ring, lon, lat) {
				in = !in
			}
		}
		if in {
			return true
		}
	}
	return false
}

// ringCrossings reports whether a ray from (x, y) towards +x crosses the ring an odd number of
// times.
func ringCrossings(ring [][2]float64, x, y float64) bool {
	in := false
	n := len(ring)
	if n == 0 {
		return false
	}
	for i, j := 0, n-1; i < n; j, i = i, i+1 {
		xi, yi := ring[i][0], ring[i][1]
		xj, yj := ring[j][0], ring[j][1]
		if (yi > y) != (yj > y) && x < (xj-xi)*(y-yi)/(yj-yi)+xi {
			in = !in
		}
	}
	return in
}
