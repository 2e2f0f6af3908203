package readsb_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/truce-mission/truce/ingest"
	"github.com/truce-mission/truce/ingest/ingesttest"
	"github.com/truce-mission/truce/ingest/readsb"
)

var clock = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func options() ingest.Options {
	return ingest.Options{Name: "in.json", Now: func() time.Time { return clock }}
}

func summary(o ingest.Observation) string {
	f := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%g", math.Round(*p*1000)/1000)
	}
	return fmt.Sprintf("%s %s %s %s %.6f,%.6f alt=%s gs=%s trk=%s %s mil=%v %s",
		o.ID, o.Observed.Format(time.RFC3339Nano), o.Track.ICAO, o.Track.Callsign, o.Position.Lat, o.Position.Lon,
		f(o.Position.AltM), f(o.Position.SpeedK), f(o.Position.Course), o.Category, o.Military, o.Source)
}

func parseFile(t *testing.T, rel string, opts ingest.Options) *ingesttest.Collector {
	t.Helper()
	b, err := os.ReadFile(ingesttest.SharedData(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return parseBytes(t, b, opts)
}

func parseBytes(t *testing.T, b []byte, opts ingest.Options) *ingesttest.Collector {
	t.Helper()
	var c ingesttest.Collector
	if err := readsb.Parse(bytes.NewReader(b), opts, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

// TestTrace reads the real readsb trace: 2500 points of N899DN (B739), Belize to Denver via
// Minneapolis and two more legs, 2025-02-04/05.
func TestTrace(t *testing.T) {
	c := parseFile(t, "adsb/readsb_trace_full_ac671b.json", options())
	if len(c.Rej) > 0 {
		t.Fatalf("rejections: %q", c.Rejected())
	}
	if len(c.Obs) != 2500 {
		t.Fatalf("%d points, want 2500", len(c.Obs))
	}
	for i, want := range map[int]string{
		// [0.00,16.777359,-88.036868,32000,478.6,327.8,1,0,null,...] at timestamp 1738703622.619
		0: "adsb:AC671B:1738703622619 2025-02-04T21:13:42.619Z AC671B  16.777359,-88.036868 alt=9753.6 gs=478.6 trk=327.8 civilian-traffic mil=false ads-b",
		// the first details object, with "flight":"DAL1812 "
		3: "adsb:AC671B:1738703649509 2025-02-04T21:14:09.509Z AC671B DAL1812 16.833336,-88.059981 alt=9753.6 gs=483.3 trk=340.7 civilian-traffic mil=false ads-b",
		// [65.21,16.914383,-88.090145,32000,null,null,...]
		7: "adsb:AC671B:1738703687829 2025-02-04T21:14:47.829Z AC671B DAL1812 16.914383,-88.090145 alt=9753.6 gs=- trk=- civilian-traffic mil=false ads-b",
		// [23687.3,44.961967,-93.25068,10975,319.9,286.3,0,1600,null,...]
		1000: "adsb:AC671B:1738727309919 2025-02-05T03:48:29.919Z AC671B DAL2418 44.961967,-93.250680 alt=3345.18 gs=319.9 trk=286.3 civilian-traffic mil=false ads-b",
		// the last: [81655.47,39.877403,-104.63974,"ground",58.5,270.0,...,"flight":"DAL2927 "...]
		2499: "adsb:AC671B:1738785278089 2025-02-05T19:54:38.089Z AC671B DAL2927 39.877403,-104.639740 alt=- gs=58.5 trk=270 civilian-traffic mil=false ads-b",
	} {
		if got := summary(c.Obs[i]); got != want {
			t.Errorf("point %d:\n got %s\nwant %s", i, got, want)
		}
	}
	ground, byCallsign := 0, map[string]int{}
	for _, o := range c.Obs {
		if o.Position.AltM == nil {
			ground++
		}
		byCallsign[o.Track.Callsign]++
	}
	if ground != 394 {
		t.Errorf("%d points without altitude, want the 394 on the ground", ground)
	}
	want := map[string]int{"": 3, "DAL1812": 768, "DAL2418": 564, "DAL1615": 472, "DAL2927": 693}
	if fmt.Sprint(byCallsign) != fmt.Sprint(want) {
		t.Errorf("points per callsign %v, want %v", byCallsign, want)
	}
	t.Logf("trace: %d points, %d on the ground, legs %v", len(c.Obs), ground, byCallsign)
}

func TestTraceMilitary(t *testing.T) {
	b, err := os.ReadFile(ingesttest.SharedData(t, "adsb/readsb_trace_full_ac671b.json"))
	if err != nil {
		t.Fatal(err)
	}
	list := options()
	list.MilitaryICAO = []ingest.ICAORange{{Lo: 0xAC671B, Hi: 0xAC671B}}
	flagged := bytes.Replace(b, []byte(`"dbFlags":0`), []byte(`"dbFlags":1`), 1)
	for name, c := range map[string]*ingesttest.Collector{
		"agreement list": parseBytes(t, b, list),
		"dbFlags":        parseBytes(t, flagged, options()),
	} {
		for _, o := range c.Obs {
			if !o.Military || o.Category != ingest.CategoryMilitaryAircraft {
				t.Fatalf("%s: %s", name, summary(o))
			}
		}
		if len(c.Obs) != 2500 {
			t.Errorf("%s: %d points", name, len(c.Obs))
		}
	}
}

func TestGzip(t *testing.T) {
	b, err := os.ReadFile(ingesttest.SharedData(t, "adsb/readsb_trace_full_ac671b.json"))
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(b)
	zw.Close()
	plain, zipped := parseBytes(t, b, options()), parseBytes(t, z.Bytes(), options())
	if len(zipped.Obs) != 2500 || summary(zipped.Obs[2499]) != summary(plain.Obs[2499]) {
		t.Errorf("gzip: %d points", len(zipped.Obs))
	}
	// Corrupt gzip is a rejection, not a panic or a stream error.
	bad := append([]byte(nil), z.Bytes()[:z.Len()/2]...)
	c := parseBytes(t, bad, options())
	if len(c.Rej) != 1 || !errors.Is(c.Rej[0], readsb.ErrSyntax) || len(c.Obs) != 0 {
		t.Errorf("truncated gzip: %d observations, rejections %q", len(c.Obs), c.Rejected())
	}
}

// TestOpenSky reads the OpenSky-derived in-flight refuelling track (FAF4011, 3B7777, S France,
// 2020-06-30): 10,397 state vectors, one without a position.
func TestOpenSky(t *testing.T) {
	opts := options()
	opts.MilitaryICAO = []ingest.ICAORange{{Lo: 0x3B7777, Hi: 0x3B7777}}
	c := parseFile(t, "adsb/military_inflight_refuelling.json.gz", opts)
	if len(c.Rej) > 0 {
		t.Fatalf("rejections: %q", c.Rejected()[:min(5, len(c.Rej))])
	}
	if len(c.Obs) != 10396 {
		t.Fatalf("%d positions, want 10396", len(c.Obs))
	}
	for i, want := range map[int]string{
		// {"timestamp":1593547586000,"icao24":"3b7777","callsign":"FAF4011","altitude":2550.0,
		// "groundspeed":null,...,"latitude":43.6035461426,"longitude":4.8719255314}
		0: "adsb:3B7777:1593547586000 2020-06-30T20:06:26Z 3B7777 FAF4011 43.603546,4.871926 alt=777.24 gs=- trk=- military-aircraft mil=true ads-b",
		// {"timestamp":1593557981000,...,"altitude":700.0,"groundspeed":536.0,...,"track":280.547,
		// "latitude":43.5572064933,"longitude":4.8628234863}
		10395: "adsb:3B7777:1593557981000 2020-06-30T22:59:41Z 3B7777 FAF4011 43.557206,4.862823 alt=213.36 gs=536 trk=280.547 military-aircraft mil=true ads-b",
	} {
		if got := summary(c.Obs[i]); got != want {
			t.Errorf("row %d:\n got %s\nwant %s", i, got, want)
		}
	}
	t.Logf("OpenSky: %d positions", len(c.Obs))
}

// aircraftJSON is an aircraft.json written from readsb's README-json.md.
const aircraftJSON = `{ "now" : 1709294400.0,
  "messages" : 123456,
  "aircraft" : [
    {"hex":"4ca2d6","type":"adsb_icao","flight":"RYR12AB ","r":"EI-ABC","t":"B738","alt_baro":35000,"alt_geom":35450,"gs":452.1,"track":93.4,"baro_rate":-64,"squawk":"2301","emergency":"none","category":"A3","lat":51.470000,"lon":-0.460000,"nic":8,"rc":186,"seen_pos":1.5,"version":2,"messages":1234,"seen":0.2,"rssi":-20.1},
    {"hex":"400f01","type":"adsb_icao","alt_baro":"ground","gs":12.0,"track":270.0,"lat":51.4775,"lon":-0.4614,"seen_pos":0.3,"seen":0.1},
    {"hex":"43c6f1","type":"adsb_icao","flight":"RRR7201 ","dbFlags":1,"alt_baro":null,"alt_geom":24000,"lat":50.1,"lon":8.6,"seen":0.1},
    {"hex":"3c6444","type":"mode_s","alt_baro":12000,"seen":0.4},
    {"hex":"~2a1b3c","type":"tisb_other","alt_baro":3000,"lat":51.0,"lon":0.1,"seen_pos":2.0},
    {"hex":"4ca2d7","lat":"51.5","lon":-0.5}
  ]
}
{"now":1709294401.0,"aircraft":[{"hex":"4ca2d6","flight":"RYR12AB ","alt_baro":35000,"lat":51.471,"lon":-0.455,"seen_pos":0.5}]}
`

func TestAircraftJSON(t *testing.T) {
	c := parseBytes(t, []byte(aircraftJSON), options())
	var got []string
	for _, o := range c.Obs {
		got = append(got, summary(o))
	}
	want := []string{
		"adsb:4CA2D6:1709294398500 2024-03-01T11:59:58.5Z 4CA2D6 RYR12AB 51.470000,-0.460000 alt=10668 gs=452.1 trk=93.4 civilian-traffic mil=false ads-b",
		"adsb:400F01:1709294399700 2024-03-01T11:59:59.7Z 400F01  51.477500,-0.461400 alt=- gs=12 trk=270 civilian-traffic mil=false ads-b",
		"adsb:43C6F1:1709294400000 2024-03-01T12:00:00Z 43C6F1 RRR7201 50.100000,8.600000 alt=7315.2 gs=- trk=- military-aircraft mil=true ads-b",
		"adsb:4CA2D6:1709294400500 2024-03-01T12:00:00.5Z 4CA2D6 RYR12AB 51.471000,-0.455000 alt=10668 gs=- trk=- civilian-traffic mil=false ads-b",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	wantRej := []string{
		`in.json:8: aircraft[4]: hex: address "~2a1b3c" is not an ICAO address (readsb marks TIS-B and other non-ICAO addresses with ~)`,
		`in.json:9: aircraft[5]: lat: lat is a JSON string, want a number`,
	}
	if strings.Join(c.Rejected(), "\n") != strings.Join(wantRej, "\n") {
		t.Errorf("rejections\n%s\nwant\n%s", strings.Join(c.Rejected(), "\n"), strings.Join(wantRej, "\n"))
	}
}

func TestReject(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
		obs      int
	}{
		{"malformed JSON", "{\"icao\":\"ac671b\",\n \"timestamp\": 1738703622.619,\n \"trace\":[[0.0,16.7,-88.0,32000,478.6,327.8,1]\n  [1.0,16.8,-88.1,32000,478.6,327.8,0]]}",
			[]string{"in.json:4: malformed input: column 3: expected comma after array element"}, 0},
		{"truncated", "{\"now\":1709294400,\"aircraft\":[{\"hex\":\"4ca2d6\",\"lat\":51,\"lon\":0},\n{\"hex\":\"4ca2",
			[]string{"in.json:2: malformed input: column 13: unexpected end of input"}, 0},
		{"not JSON", "MSG,3,1,1,4CA2D6",
			[]string{`in.json:1: malformed input: column 1: want an object or an array, found 'M'`}, 0},
		{"empty object", "{}",
			[]string{`in.json:1: unrecognised JSON: an object with neither "aircraft" (aircraft.json) nor "trace" (a trace file)`}, 0},
		{"aircraft not an array", `{"now":1,"aircraft":{"hex":"4ca2d6"}}`,
			[]string{`in.json:1: aircraft: unrecognised JSON: "aircraft" is not an array`}, 0},
		{"now not a number", `{"now":"soon","aircraft":[]}`,
			[]string{`in.json:1: now: unrecognised JSON: "now" is a string, want a number`}, 0},
		{"now out of range", `{"now":-5,"aircraft":[{"hex":"4ca2d6","lat":51,"lon":0}]}`,
			[]string{`in.json:1: now: -5 is not a unix time`}, 0},
		{"aircraft element not an object", `{"now":1709294400,"aircraft":[5,{"hex":"4ca2d6","lat":51,"lon":0}]}`,
			[]string{`in.json:1: aircraft[0]: unrecognised JSON: record is a number, want an object`}, 1},
		{"lat without lon", `{"now":1709294400,"aircraft":[{"hex":"4ca2d6","lat":51}]}`,
			[]string{`in.json:1: aircraft[0]: lat: one of lat and lon without the other`}, 0},
		{"lat out of range", `{"now":1709294400,"aircraft":[{"hex":"4ca2d6","lat":91,"lon":0}]}`,
			[]string{`in.json:1: aircraft[0]: lat: latitude 91 out of range [-90, 90]; hint: lat and lon swapped?`}, 0},
		{"negative seen_pos", `{"now":1709294400,"aircraft":[{"hex":"4ca2d6","lat":51,"lon":0,"seen_pos":-1}]}`,
			[]string{`in.json:1: aircraft[0]: seen_pos: seen_pos -1 is not an age in seconds`}, 0},
		{"altitude neither feet nor ground", `{"now":1709294400,"aircraft":[{"hex":"4ca2d6","lat":51,"lon":0,"alt_baro":"high"}]}`,
			[]string{`in.json:1: aircraft[0]: alt_baro: altitude "high" is neither feet nor "ground"`}, 0},
		{"trace without icao", `{"timestamp":1738703622.619,"trace":[[0,16.7,-88.0,32000,478.6,327.8,0]]}`,
			[]string{`in.json:1: icao: unrecognised JSON: trace file without "icao"`}, 0},
		{"trace without timestamp", `{"icao":"ac671b","trace":[[0,16.7,-88.0,32000,478.6,327.8,0]]}`,
			[]string{`in.json:1: timestamp: unrecognised JSON: trace file without "timestamp"`}, 0},
		{"trace timestamp in milliseconds", `{"icao":"ac671b","timestamp":1738703622619,"trace":[[0,16.7,-88.0,32000,478.6,327.8,0]]}`,
			[]string{`in.json:1: timestamp: 1738703622619 is not a unix time in seconds`}, 0},
		{"trace icao not hex", `{"icao":"zz671b","timestamp":1738703622.619,"trace":[]}`,
			[]string{`in.json:1: icao: ICAO address "zz671b" is not 6 hex digits`}, 0},
		{"trace dbFlags not an integer", `{"icao":"ac671b","timestamp":1738703622.619,"dbFlags":1.5,"trace":[]}`,
			[]string{`in.json:1: dbFlags: 1.5 is not an integer`}, 0},
		{"bad points, then a good one", "{\"icao\":\"ac671b\",\"timestamp\":1738703622.619,\"trace\":[\n" +
			"{\"lat\":16.7},\n" +
			"[0,16.7,-88.0],\n" +
			"[0,\"16.7\",-88.0,32000,478.6,327.8,0],\n" +
			"[0,16.7,-88.0,\"FL320\",478.6,327.8,0],\n" +
			"[null,16.7,-88.0,32000,478.6,327.8,0],\n" +
			"[0,16.7,-88.0,32000,478.6,327.8,0,0,\"details\"],\n" +
			"[0,16.7,-88.0,32000,-4,327.8,0],\n" +
			"[1e12,16.7,-88.0,32000,478.6,327.8,0],\n" +
			"[0,16.7,-88.0,null,478.6,327.8,0,0,null,\"adsb_icao\",\"x\"],\n" +
			"[1,16.7,-88.0,32000,478.6,327.8,0]]}",
			[]string{
				"in.json:2: trace[0]: trace point is not an array",
				"in.json:3: trace[1]: trace point has 3 fields, want at least 6",
				`in.json:4: trace[2]: lat: "16.7" is not a number`,
				`in.json:5: trace[3]: alt: altitude "FL320" is neither feet nor "ground"`,
				"in.json:6: trace[4]: trace point without time offset, lat or lon",
				"in.json:7: trace[5]: details: details is not an object",
				"in.json:8: trace[6]: speed_kn: speed -4 is not a number of knots ≥ 0",
				"in.json:9: trace[7]: seconds: timestamp + 1e+12: 1.001738703622619e+12 is not a unix time",
				`in.json:10: trace[8]: alt_geom: "x" is not a number`,
			}, 1},
		{"OpenSky rows", "[{\"timestamp\":1593547586000,\"icao24\":\"3b7777\",\"latitude\":43.6,\"longitude\":4.87},\n" +
			"{\"timestamp\":null,\"icao24\":\"3b7777\",\"latitude\":43.6,\"longitude\":4.87},\n" +
			"{\"timestamp\":\"yesterday\",\"icao24\":\"3b7777\",\"latitude\":43.6,\"longitude\":4.87},\n" +
			"{\"timestamp\":\"2020-06-30T20:06:26Z\",\"icao24\":\"3b777\",\"latitude\":43.6,\"longitude\":4.87},\n" +
			"{\"timestamp\":\"2020-06-30T20:06:26Z\",\"icao24\":\"3b7777\",\"latitude\":43.6},\n" +
			"{\"timestamp\":1593547586,\"icao24\":\"3b7777\",\"latitude\":43.6,\"longitude\":4.87,\"track\":400},\n" +
			"{\"timestamp\":1593547586,\"icao24\":\"3b7777\",\"latitude\":43.6,\"longitude\":4.87,\"altitude\":\"2550\"},\n" +
			"{\"timestamp\":\"2020-06-30T20:06:27Z\",\"icao24\":\"3b7777\",\"latitude\":43.6,\"longitude\":4.87},\n" +
			"{\"timestamp\":1593547588,\"icao24\":\"3b7777\",\"latitude\":null,\"longitude\":null}]",
			[]string{
				"in.json:2: [1]: timestamp: no timestamp",
				`in.json:3: [2]: timestamp: timestamp "yesterday" is not RFC 3339`,
				`in.json:4: [3]: icao24: ICAO address "3b777" is not 6 hex digits`,
				"in.json:5: [4]: latitude: one of latitude and longitude without the other",
				"in.json:6: [5]: course_deg: course 400 out of range [0, 360]",
				"in.json:7: [6]: altitude: altitude is a JSON string, want a number",
			}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := parseBytes(t, []byte(tc.in), options())
			if got := c.Rejected(); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("rejections\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if len(c.Obs) != tc.obs {
				t.Errorf("%d observations, want %d", len(c.Obs), tc.obs)
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	defer readsb.SetMaxBytes(1 << 20)()
	var c ingesttest.Collector
	r := io.MultiReader(strings.NewReader("["), &spaces{n: 1 << 20})
	if err := readsb.Parse(r, options(), &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Rej) != 1 || !errors.Is(c.Rej[0], readsb.ErrTooLarge) {
		t.Errorf("rejections %q", c.Rejected())
	}
}

// spaces reads n spaces.
type spaces struct{ n int }

func (s *spaces) Read(p []byte) (int, error) {
	if s.n == 0 {
		return 0, io.EOF
	}
	n := min(len(p), s.n)
	for i := range p[:n] {
		p[i] = ' '
	}
	s.n -= n
	return n, nil
}

func TestReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	var c ingesttest.Collector
	r := io.MultiReader(strings.NewReader(`{"now":1,`), &failing{boom})
	if err := readsb.Parse(r, options(), &c); !errors.Is(err, boom) {
		t.Errorf("err = %v, want the reader's", err)
	}
}

type failing struct{ err error }

func (f *failing) Read([]byte) (int, error) { return 0, f.err }

func FuzzParse(f *testing.F) {
	f.Add([]byte(aircraftJSON))
	f.Add([]byte(`{"icao":"ac671b","timestamp":1738703622.619,"dbFlags":1,"trace":[[0.00,16.777359,-88.036868,32000,478.6,327.8,1,0,null,"adsb_icao",33825,32,280,0.0],[26.89,16.833336,-88.059981,"ground",483.3,340.7,0,0,{"type":"adsb_icao","flight":"DAL1812 "},"adsb_icao",33825,32,279,-0.9]]}`))
	f.Add([]byte(`[{"timestamp":1593547585000,"icao24":"3b7777","callsign":"FAF4011","altitude":2550.0,"groundspeed":null,"track":null,"latitude":null,"longitude":null},{"timestamp":1593547586000,"icao24":"3b7777","callsign":"FAF4011","altitude":2550.0,"latitude":43.6035461426,"longitude":4.8719255314}]`))
	if b, err := os.ReadFile(ingesttest.SharedData(f, "adsb/readsb_trace_full_ac671b.json")); err == nil {
		f.Add(b[:2000])
	}
	if b, err := os.ReadFile(ingesttest.SharedData(f, "adsb/military_inflight_refuelling.json.gz")); err == nil {
		f.Add(b[:1000]) // truncated gzip
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var c ingesttest.Collector
		if err := readsb.Parse(bytes.NewReader(in), options(), &c); err != nil {
			t.Fatalf("error from a bytes.Reader: %v", err)
		}
		for _, o := range c.Obs {
			if e := ingest.Validate(&o); e != nil {
				t.Fatalf("emitted an invalid observation: %v", e)
			}
		}
		for _, e := range c.Rej {
			if e.Source != "in.json" || e.Err == nil || e.Line < 0 {
				t.Fatalf("bad rejection %#v", e)
			}
		}
	})
}

// BenchmarkTrace reads the real trace file (2500 points).
func BenchmarkTrace(b *testing.B) {
	in, err := os.ReadFile(ingesttest.SharedData(b, "adsb/readsb_trace_full_ac671b.json"))
	if err != nil {
		b.Fatal(err)
	}
	bench(b, in)
}

// BenchmarkOpenSky reads the real gzip-compressed OpenSky file (10,397 rows).
func BenchmarkOpenSky(b *testing.B) {
	in, err := os.ReadFile(ingesttest.SharedData(b, "adsb/military_inflight_refuelling.json.gz"))
	if err != nil {
		b.Fatal(err)
	}
	bench(b, in)
}

func bench(b *testing.B, in []byte) {
	var obs int
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		var c ingesttest.Counter
		readsb.Parse(bytes.NewReader(in), options(), &c)
		obs = c.Obs
	}
	b.ReportMetric(float64(obs)/(b.Elapsed().Seconds()/float64(b.N)), "obs/s")
}
