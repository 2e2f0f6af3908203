package geojson_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/truce-mission/truce/ingest"
	"github.com/truce-mission/truce/ingest/geojson"
	"github.com/truce-mission/truce/ingest/ingesttest"
)

const digest = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

const collection = `{
  "type": "FeatureCollection",
  "name": "monitor team 4, 5 December",
  "features": [
    {
      "type": "Feature",
      "geometry": {"type": "Point", "coordinates": [36.40572, 47.01571]},
      "properties": {
        "id": "mt4-0001",
        "observed": "2026-12-05T10:00:00+02:00",
        "category": "tank",
        "count": 3,
        "claimed_party": "east",
        "assessed_party": "east",
        "source": "ground-monitor",
        "reliability": "B",
        "credibility": 2,
        "text": "three tanks moving west",
        "attachments": ["` + digest + `"],
        "marker-color": "#f00"
      }
    },
    {"type": "Feature", "id": 42,
     "geometry": {"type": "Point", "coordinates": [37.26277, 46.90036, 120.5]},
     "properties": {"observed": "2026-12-05T08:30:00Z", "text": null, "source": "uav", "attachments": "` + digest + ` ` + digest + `"}}
  ]
}`

func summary(o ingest.Observation) string {
	alt := "-"
	if o.Position.AltM != nil {
		alt = fmt.Sprint(*o.Position.AltM)
	}
	return fmt.Sprintf("%s %s %v,%v alt=%s %s n=%d %s/%s %s %s%d %q att=%d",
		o.ID, o.Observed.Format(time.RFC3339), o.Position.Lon, o.Position.Lat, alt, o.Category, o.Count,
		o.ClaimedParty, o.AssessedParty, o.Source, o.Reliability, o.Credibility, o.Text, len(o.Attachments))
}

func parse(t testing.TB, in string) *ingesttest.Collector {
	t.Helper()
	var c ingesttest.Collector
	if err := geojson.Parse(strings.NewReader(in), ingest.Options{Name: "obs.geojson"}, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

func TestCollection(t *testing.T) {
	c := parse(t, collection)
	if len(c.Rej) > 0 {
		t.Fatalf("rejections %q", c.Rejected())
	}
	var got []string
	for _, o := range c.Obs {
		got = append(got, summary(o))
	}
	want := []string{
		`mt4-0001 2026-12-05T08:00:00Z 36.40572,47.01571 alt=- tank n=3 east/east ground-monitor B2 "three tanks moving west" att=1`,
		`42 2026-12-05T08:30:00Z 37.26277,46.90036 alt=120.5  n=0 / uav 0 "" att=2`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSingleFeature(t *testing.T) {
	c := parse(t, `{"type":"Feature","geometry":{"type":"Point","coordinates":[36.4,47.0]},"properties":{"id":"a","observed":"2026-12-05T08:00:00Z","alt_m":15}}`)
	if len(c.Obs) != 1 || summary(c.Obs[0]) != `a 2026-12-05T08:00:00Z 36.4,47 alt=15  n=0 / unknown 0 "" att=0` {
		t.Errorf("got %v, rejections %q", c.Obs, c.Rejected())
	}
}

// feature wraps one feature's geometry and properties in a collection, the feature on line 3.
func feature(geometry, properties string) string {
	return "{\"type\":\"FeatureCollection\",\"features\":[\n" +
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[36.4,47.0]},"properties":{"id":"ok","observed":"2026-12-05T08:00:00Z"}},` + "\n" +
		`{"type":"Feature","geometry":` + geometry + `,"properties":` + properties + "}\n]}"
}

const point = `{"type":"Point","coordinates":[36.4,47.0]}`

func props(extra string) string {
	if extra != "" {
		extra = "," + extra
	}
	return `{"id":"x","observed":"2026-12-05T08:00:00Z"` + extra + `}`
}

func TestReject(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		// Validation, one case per rule.
		{"empty id", feature(point, `{"id":"","observed":"2026-12-05T08:00:00Z"}`), "obs.geojson:3: features[1].properties.id: empty id"},
		{"no id at all", feature(point, `{"observed":"2026-12-05T08:00:00Z"}`), "obs.geojson:3: features[1].id: empty id"},
		{"id not a string", feature(point, `{"id":{"a":1},"observed":"2026-12-05T08:00:00Z"}`), "obs.geojson:3: features[1].properties.id: id is an object, want a string"},
		{"observed missing", feature(point, `{"id":"x"}`), "obs.geojson:3: features[1].properties.observed: no observed time; want RFC 3339 such as 2026-12-05T08:00:00Z"},
		{"observed not RFC 3339", feature(point, `{"id":"x","observed":"5 Dec 2026 08:00"}`), `obs.geojson:3: features[1].properties.observed: "5 Dec 2026 08:00" is not an RFC 3339 time such as 2026-12-05T08:00:00Z`},
		{"observed without zone", feature(point, `{"id":"x","observed":"2026-12-05T08:00:00"}`), `obs.geojson:3: features[1].properties.observed: "2026-12-05T08:00:00" is not an RFC 3339 time such as 2026-12-05T08:00:00Z`},
		{"observed a number", feature(point, `{"id":"x","observed":1764921600}`), "obs.geojson:3: features[1].properties.observed: observed is the number 1764921600, want a string"},
		{"lat out of range", feature(`{"type":"Point","coordinates":[36.4,97.0]}`, props("")), "obs.geojson:3: features[1].geometry.coordinates[1]: latitude 97 out of range [-90, 90]; hint: lat and lon swapped?"},
		{"lon out of range", feature(`{"type":"Point","coordinates":[200,47.0]}`, props("")), "obs.geojson:3: features[1].geometry.coordinates[0]: longitude 200 out of range [-180, 180]"},
		{"reliability", feature(point, props(`"reliability":"G"`)), `obs.geojson:3: features[1].properties.reliability: reliability "G" is not one of A–F`},
		{"reliability lower case", feature(point, props(`"reliability":"b"`)), `obs.geojson:3: features[1].properties.reliability: reliability "b" is not one of A–F`},
		{"credibility", feature(point, props(`"credibility":7`)), "obs.geojson:3: features[1].properties.credibility: credibility 7 is not one of 1–6"},
		{"credibility not whole", feature(point, props(`"credibility":2.5`)), "obs.geojson:3: features[1].properties.credibility: credibility is the number 2.5, want a whole number"},
		{"count negative", feature(point, props(`"count":-1`)), "obs.geojson:3: features[1].properties.count: count -1 is negative"},
		{"count a string", feature(point, props(`"count":"3"`)), `obs.geojson:3: features[1].properties.count: count is the string "3", want a whole number`},
		{"attachment upper-case hex", feature(point, props(`"attachments":["`+strings.ToUpper(digest)+`"]`)), `obs.geojson:3: features[1].properties.attachments[0]: attachment "SHA256:9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08" is not sha256: and 64 lower-case hex digits`},
		{"attachment short", feature(point, props(`"attachments":["`+digest+`","sha256:abc"]`)), `obs.geojson:3: features[1].properties.attachments[1]: attachment "sha256:abc" is not sha256: and 64 lower-case hex digits`},
		{"attachment md5", feature(point, props(`"attachments":"md5:d41d8cd98f00b204e9800998ecf8427e"`)), `obs.geojson:3: features[1].properties.attachments[0]: attachment "md5:d41d8cd98f00b204e9800998ecf8427e" is not sha256: and 64 lower-case hex digits`},
		{"attachments not strings", feature(point, props(`"attachments":[1]`)), "obs.geojson:3: features[1].properties.attachments: attachments are an array, want an array of strings"},
		{"source unknown", feature(point, props(`"source":"rumour"`)), `obs.geojson:3: features[1].properties.source: unknown source kind "rumour"`},
		{"text not a string", feature(point, props(`"text":["a"]`)), "obs.geojson:3: features[1].properties.text: text is an array, want a string"},
		{"alt_m not a number", feature(point, props(`"alt_m":"high"`)), `obs.geojson:3: features[1].properties.alt_m: alt_m is the string "high", want a number of metres`},
		{"alt_m disagrees", feature(`{"type":"Point","coordinates":[36.4,47.0,100]}`, props(`"alt_m":120`)), "obs.geojson:3: features[1].properties.alt_m: alt_m 120 disagrees with the third coordinate 100"},
		// Geometry.
		{"no geometry", feature("null", props("")), "obs.geojson:3: features[1].geometry: no geometry; want a Point"},
		{"line string", feature(`{"type":"LineString","coordinates":[[36.4,47.0],[36.5,47.1]]}`, props("")), `obs.geojson:3: features[1].geometry.type: geometry type is the string "LineString"; only Point is read`},
		{"one coordinate", feature(`{"type":"Point","coordinates":[36.4]}`, props("")), "obs.geojson:3: features[1].geometry.coordinates: a Point has 1 coordinates, want [lon, lat] or [lon, lat, alt]"},
		{"coordinate a string", feature(`{"type":"Point","coordinates":[36.4,"47.0"]}`, props("")), `obs.geojson:3: features[1].geometry.coordinates[1]: coordinate is the string "47.0", want a number`},
		{"coordinates an object", feature(`{"type":"Point","coordinates":{"lon":36.4}}`, props("")), "obs.geojson:3: features[1].geometry.coordinates: coordinates are not an array"},
		{"geometry an array", feature(`[36.4,47.0]`, props("")), "obs.geojson:3: features[1].geometry: geometry is an array, want an object"},
		// Features.
		{"properties an array", feature(point, `[1]`), "obs.geojson:3: features[1].properties: properties are an array, want an object"},
		{"feature a number", "{\"type\":\"FeatureCollection\",\"features\":[\n5]}", "obs.geojson:2: features[0]: feature is the number 5, want an object"},
		{"feature type", "{\"type\":\"FeatureCollection\",\"features\":[\n{\"type\":\"Point\",\"coordinates\":[1,2]}]}", `obs.geojson:2: features[0].type: type is the string "Point", want "Feature"`},
		{"duplicate id", feature(point, `{"id":"ok","observed":"2026-12-05T09:00:00Z"}`), `obs.geojson:3: features[1].properties.id: id "ok" already used by the feature on line 2`},
		// Documents.
		{"malformed: missing comma", "{\n  \"type\": \"FeatureCollection\",\n  \"features\": [\n    {\"type\": \"Feature\" \"geometry\": null}\n  ]\n}",
			"obs.geojson:4: malformed JSON: column 24: invalid character '\"' after object key:value pair"},
		{"malformed: truncated", "{\"type\":\"FeatureCollection\",\n\"features\":[",
			"obs.geojson:2: malformed JSON: column 13: unexpected end of input"},
		{"malformed: trailing data", "{\"type\":\"Feature\"}\n{}", "obs.geojson:2: malformed JSON: column 1: data after the top-level value"},
		{"malformed: empty", "", "obs.geojson:1: malformed JSON: column 1: empty input"},
		{"not an object", "[1,2]", "obs.geojson:1: not a GeoJSON FeatureCollection or Feature: the top-level value is not an object"},
		{"wrong type", `{"type":"GeometryCollection","geometries":[]}`, `obs.geojson:1: type: not a GeoJSON FeatureCollection or Feature: type "GeometryCollection"`},
		{"no type", `{"features":[]}`, `obs.geojson:1: type: not a GeoJSON FeatureCollection or Feature: "type" is missing`},
		{"features not an array", "{\"type\":\"FeatureCollection\",\n\"features\":{}}", `obs.geojson:2: features: not a GeoJSON FeatureCollection or Feature: "features" is an object, want an array`},
		{"no features", `{"type":"FeatureCollection"}`, `obs.geojson:1: features: not a GeoJSON FeatureCollection or Feature: FeatureCollection without "features"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := parse(t, tc.in)
			if got := strings.Join(c.Rejected(), "\n"); got != tc.want {
				t.Errorf("rejections\n%s\nwant\n%s", got, tc.want)
			}
			// In a collection built by feature(), the good first feature is still read.
			if strings.Contains(tc.in, `"id":"ok"`) && (len(c.Obs) != 1 || c.Obs[0].ID != "ok") {
				t.Errorf("the good feature was not read: %d observations", len(c.Obs))
			}
		})
	}
}

func TestSentinels(t *testing.T) {
	for in, want := range map[string]error{
		"{":                                 geojson.ErrSyntax,
		"[]":                                geojson.ErrNotGeoJSON,
		feature(point, props(`"count":-1`)): ingest.ErrInvalid,
	} {
		c := parse(t, in)
		if len(c.Rej) != 1 || !errors.Is(c.Rej[0], want) {
			t.Errorf("%.30q: rejections %q, want %v", in, c.Rejected(), want)
		}
	}
}

func TestReadError(t *testing.T) {
	boom := errors.New("broken pipe")
	var c ingesttest.Collector
	err := geojson.Parse(io.MultiReader(strings.NewReader("{"), &failing{boom}), ingest.Options{Name: "x"}, &c)
	if !errors.Is(err, boom) {
		t.Errorf("err = %v", err)
	}
}

type failing struct{ err error }

func (f *failing) Read([]byte) (int, error) { return 0, f.err }

func FuzzParse(f *testing.F) {
	f.Add([]byte(collection))
	f.Add([]byte(feature(`{"type":"Point","coordinates":[36.4,47.0,100]}`, props(`"alt_m":100,"count":2,"credibility":3,"reliability":"C"`))))
	f.Add([]byte(`{"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[1,2]},"properties":{"observed":"2026-12-05T08:00:00Z"}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var c ingesttest.Collector
		if err := geojson.Parse(bytes.NewReader(in), ingest.Options{Name: "f.geojson"}, &c); err != nil {
			t.Fatalf("error from a bytes.Reader: %v", err)
		}
		ids := map[string]bool{}
		for _, o := range c.Obs {
			if e := ingest.Validate(&o); e != nil {
				t.Fatalf("emitted an invalid observation: %v", e)
			}
			if ids[o.ID] {
				t.Fatalf("duplicate id %q emitted", o.ID)
			}
			ids[o.ID] = true
		}
		lines := bytes.Count(in, []byte("\n")) + 1
		for _, e := range c.Rej {
			if e.Source != "f.geojson" || e.Err == nil || e.Line < 0 || e.Line > lines {
				t.Fatalf("bad rejection %#v", e)
			}
		}
	})
}

func TestTooLarge(t *testing.T) {
	defer geojson.SetMaxBytes(len(collection) - 1)()
	c := parse(t, collection)
	if len(c.Obs) != 0 || len(c.Rej) != 1 || !errors.Is(c.Rej[0], geojson.ErrTooLarge) {
		t.Errorf("%d observations, rejections %q", len(c.Obs), c.Rejected())
	}
}
