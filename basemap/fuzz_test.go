package basemap

import (
	"os"
	"testing"
)

// FuzzDecode checks that the decoder never panics and that whatever it accepts keeps the
// documented shape: closed rings of at least 4 positions inside the bounding box.
func FuzzDecode(f *testing.F) {
	sample, err := os.ReadFile("testdata/black-sea-110m.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample)
	f.Add([]byte(`{"type":"Topology","transform":{"scale":[0.5,0.5],"translate":[10,20]},` +
		`"objects":{"countries":{"type":"GeometryCollection","geometries":[` +
		`{"type":"Polygon","id":"001","properties":{"name":"Squareland"},"arcs":[[0,-2],[2]]},` +
		`{"type":"MultiPolygon","id":2,"properties":{"name":"Multi"},"arcs":[[[0,-2]],[[2]]]},` +
		`{"type":"GeometryCollection","geometries":[{"type":"Polygon","arcs":[[-1]]}]},` +
		`{"type":null}]}},` +
		`"arcs":[[[0,0],[8,0],[0,8]],[[0,0],[0,8],[8,0]],[[2,2],[0,4],[4,0],[0,-4],[-4,0]]]}`))
	f.Add([]byte(`{"type":"Topology","objects":{"countries":{"type":"Polygon","arcs":[[0]]}},"arcs":[[[1.5,1.5],[3.5,1.5],[2.5,3.5]]]}`))
	f.Add([]byte(`{"type":"Topology","objects":{"countries":{"type":"Polygon","arcs":[[0,-1]]}},"arcs":[[[0,0],[1,1]]]}`))
	f.Add([]byte(`{}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		for _, c := range m.Countries {
			b := c.BBox
			for _, poly := range c.Polygons {
				for _, r := range poly {
					if len(r) < 4 || r[0] != r[len(r)-1] {
						t.Fatalf("%q: ring of %d positions not closed", c.Name, len(r))
					}
					for _, p := range r {
						if p[0] < b[0] || p[0] > b[2] || p[1] < b[1] || p[1] > b[3] {
							t.Fatalf("%q: position %v outside bbox %v", c.Name, p, b)
						}
					}
				}
			}
			c.Contains(r0(c), 0)
			m.At(0, 0)
		}
	})
}

func r0(c Country) float64 {
	if len(c.Polygons) > 0 {
		return c.Polygons[0][0][0][0]
	}
	return 0
}
