package sbs_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/truce-mission/truce/ingest"
	"github.com/truce-mission/truce/ingest/ingesttest"
	"github.com/truce-mission/truce/ingest/readsb"
	"github.com/truce-mission/truce/ingest/sbs"
)

var clock = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func options() ingest.Options {
	return ingest.Options{Name: "feed.sbs", Now: func() time.Time { return clock }}
}

// summary is one line per observation, to compare against.
func summary(o ingest.Observation) string {
	f := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%g", math.Round(*p*100)/100)
	}
	return fmt.Sprintf("%s %s %s %s %.5f,%.5f alt=%s gs=%s trk=%s %s mil=%v %s",
		o.ID, o.Observed.Format(time.RFC3339Nano), o.Track.ICAO, o.Track.Callsign, o.Position.Lat, o.Position.Lon,
		f(o.Position.AltM), f(o.Position.SpeedK), f(o.Position.Course), o.Category, o.Military, o.Source)
}

func TestParse(t *testing.T) {
	const (
		d1 = "2024/03/01,12:00:00.000,2024/03/01,12:00:00.050"
		d2 = "2024/03/01,12:00:30.500,2024/03/01,12:00:30.550"
		d3 = "2024/03/01,12:01:31.000,2024/03/01,12:01:31.050"
	)
	mil := options()
	mil.MilitaryICAO = []ingest.ICAORange{{Lo: 0x43C6F1, Hi: 0x43C6F1}}
	milRange := options()
	milRange.MilitaryICAO = []ingest.ICAORange{{Lo: 0x3B0000, Hi: 0x3BFFFF}}
	tests := []struct {
		name string
		opts ingest.Options
		in   string
		want []string
	}{{
		name: "callsign then airborne position",
		in: "MSG,1,1,1,4CA2D6,1," + d1 + ",RYR12AB ,,,,,,,,,,0,0\n" +
			"MSG,3,1,1,4CA2D6,1," + d2 + ",,35000,,,51.47000,-0.46000,,,0,0,0,0\n",
		want: []string{"adsb:4CA2D6:1709294430500 2024-03-01T12:00:30.5Z 4CA2D6 RYR12AB 51.47000,-0.46000 alt=10668 gs=- trk=- civilian-traffic mil=false ads-b"},
	}, {
		name: "velocity of MSG,4 attached within a minute",
		in: "MSG,4,1,1,4CA2D6,1," + d1 + ",,,452,93,,,-64,,,,,0\n" +
			"MSG,3,1,1,4CA2D6,1," + d2 + ",,35000,,,51.47000,-0.46000,,,0,0,0,0\n",
		want: []string{"adsb:4CA2D6:1709294430500 2024-03-01T12:00:30.5Z 4CA2D6  51.47000,-0.46000 alt=10668 gs=452 trk=93 civilian-traffic mil=false ads-b"},
	}, {
		name: "velocity older than a minute not attached",
		in: "MSG,4,1,1,4CA2D6,1," + d1 + ",,,452,93,,,-64,,,,,0\n" +
			"MSG,3,1,1,4CA2D6,1," + d3 + ",,35000,,,51.47000,-0.46000,,,0,0,0,0\n",
		want: []string{"adsb:4CA2D6:1709294491000 2024-03-01T12:01:31Z 4CA2D6  51.47000,-0.46000 alt=10668 gs=- trk=- civilian-traffic mil=false ads-b"},
	}, {
		name: "velocity of another aircraft not attached",
		in: "MSG,4,1,1,4CA2D7,1," + d1 + ",,,452,93,,,-64,,,,,0\n" +
			"MSG,3,1,1,4CA2D6,1," + d2 + ",,35000,,,51.47000,-0.46000,,,0,0,0,0\n",
		want: []string{"adsb:4CA2D6:1709294430500 2024-03-01T12:00:30.5Z 4CA2D6  51.47000,-0.46000 alt=10668 gs=- trk=- civilian-traffic mil=false ads-b"},
	}, {
		name: "surface position carries its own velocity",
		in:   "MSG,2,1,1,4CA2D6,1," + d1 + ",,,12,270,51.47001,-0.46002,,,,,,-1\n",
		want: []string{"adsb:4CA2D6:1709294400000 2024-03-01T12:00:00Z 4CA2D6  51.47001,-0.46002 alt=- gs=12 trk=270 civilian-traffic mil=false ads-b"},
	}, {
		name: "empty dates take the clock",
		in:   "MSG,3,1,1,4CA2D6,1,,,,,,1000,,,51.5,-0.5,,,0,0,0,0\n",
		want: []string{"adsb:4CA2D6:1767323045000 2026-01-02T03:04:05Z 4CA2D6  51.50000,-0.50000 alt=304.8 gs=- trk=- civilian-traffic mil=false ads-b"},
	}, {
		name: "logged time when generated is empty",
		in:   "MSG,3,1,1,4CA2D6,1,,,2024/03/01,12:00:00.050,,1000,,,51.5,-0.5,,,0,0,0,0\n",
		want: []string{"adsb:4CA2D6:1709294400050 2024-03-01T12:00:00.05Z 4CA2D6  51.50000,-0.50000 alt=304.8 gs=- trk=- civilian-traffic mil=false ads-b"},
	}, {
		name: "time without fraction",
		in:   "MSG,3,1,1,4CA2D6,1,2024/03/01,12:00:00,2024/03/01,12:00:00,,1000,,,51.5,-0.5,,,0,0,0,0\n",
		want: []string{"adsb:4CA2D6:1709294400000 2024-03-01T12:00:00Z 4CA2D6  51.50000,-0.50000 alt=304.8 gs=- trk=- civilian-traffic mil=false ads-b"},
	}, {
		name: "military by the agreement's list",
		opts: mil,
		in:   "MSG,3,1,1,43c6f1,1," + d1 + ",,24000,,,50.1,8.6,,,0,0,0,0\n",
		want: []string{"adsb:43C6F1:1709294400000 2024-03-01T12:00:00Z 43C6F1  50.10000,8.60000 alt=7315.2 gs=- trk=- military-aircraft mil=true ads-b"},
	}, {
		name: "military by the agreement's range",
		opts: milRange,
		in:   "MSG,3,1,1,3B7777,1," + d1 + ",,2550,,,43.60355,4.87193,,,0,0,0,0\n",
		want: []string{"adsb:3B7777:1709294400000 2024-03-01T12:00:00Z 3B7777  43.60355,4.87193 alt=777.24 gs=- trk=- military-aircraft mil=true ads-b"},
	}, {
		name: "ID line sets the callsign",
		in: "ID,,1,1,4CA2D6,1," + d1 + ",EZY12,,,,,,,,,,,\n" +
			"MSG,3,1,1,4CA2D6,1," + d2 + ",,35000,,,51.47,-0.46,,,0,0,0,0\n",
		want: []string{"adsb:4CA2D6:1709294430500 2024-03-01T12:00:30.5Z 4CA2D6 EZY12 51.47000,-0.46000 alt=10668 gs=- trk=- civilian-traffic mil=false ads-b"},
	}, {
		name: "callsigns kept per aircraft",
		in: "MSG,1,1,1,4CA2D6,1," + d1 + ",RYR1,,,,,,,,,,0,0\n" +
			"MSG,1,1,1,400F01,1," + d1 + ",BAW2,,,,,,,,,,0,0\n" +
			"MSG,3,1,1,400F01,1," + d2 + ",,1000,,,51.1,-0.1,,,0,0,0,0\n" +
			"MSG,3,1,1,4CA2D6,1," + d2 + ",,2000,,,51.2,-0.2,,,0,0,0,0\n",
		want: []string{
			"adsb:400F01:1709294430500 2024-03-01T12:00:30.5Z 400F01 BAW2 51.10000,-0.10000 alt=304.8 gs=- trk=- civilian-traffic mil=false ads-b",
			"adsb:4CA2D6:1709294430500 2024-03-01T12:00:30.5Z 4CA2D6 RYR1 51.20000,-0.20000 alt=609.6 gs=- trk=- civilian-traffic mil=false ads-b",
		},
	}, {
		name: "position without coordinates yet is skipped",
		in:   "MSG,3,1,1,4CA2D6,1," + d1 + ",,35000,,,,,,,0,0,0,0\n",
	}, {
		name: "other message types are skipped",
		in: "MSG,5,1,1,4CA2D6,1," + d1 + ",,35000,,,,,,,0,,0,0\n" +
			"MSG,6,1,1,4CA2D6,1," + d1 + ",,35000,,,,,,7435,0,0,0,0\n" +
			"MSG,7,1,1,4CA2D6,1," + d1 + ",,35000,,,,,,,,,,0\n" +
			"MSG,8,1,1,4CA2D6,1," + d1 + ",,,,,,,,,,,,0\n" +
			"STA,,1,1,4CA2D6,1," + d1 + ",RM,,,,,,,,,,,\n" +
			"AIR,,1,1,4CA2D6,1," + d1 + ",,,,,,,,,,,,\n" +
			"SEL,,1,1,4CA2D6,1," + d1 + ",,,,,,,,,,,,\n" +
			"CLK,,,,,," + d1 + ",,,,,,,,,,,,\n" +
			"\n   \n",
	}, {
		name: "CR LF and no final newline",
		in:   "MSG,3,1,1,4CA2D6,1," + d1 + ",,35000,,,51.47,-0.46,,,0,0,0,0\r\nMSG,3,1,1,4CA2D6,1," + d2 + ",,35000,,,51.48,-0.46,,,0,0,0,0",
		want: []string{
			"adsb:4CA2D6:1709294400000 2024-03-01T12:00:00Z 4CA2D6  51.47000,-0.46000 alt=10668 gs=- trk=- civilian-traffic mil=false ads-b",
			"adsb:4CA2D6:1709294430500 2024-03-01T12:00:30.5Z 4CA2D6  51.48000,-0.46000 alt=10668 gs=- trk=- civilian-traffic mil=false ads-b",
		},
	}, {
		name: "short line padded: position without the trailing flags",
		in:   "MSG,3,1,1,4CA2D6,1," + d1 + ",,35000,,,51.47,-0.46\n",
		want: []string{"adsb:4CA2D6:1709294400000 2024-03-01T12:00:00Z 4CA2D6  51.47000,-0.46000 alt=10668 gs=- trk=- civilian-traffic mil=false ads-b"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			if opts.Name == "" {
				opts = options()
			}
			var c ingesttest.Collector
			if err := sbs.Parse(strings.NewReader(tc.in), opts, &c); err != nil {
				t.Fatal(err)
			}
			if len(c.Rej) > 0 {
				t.Errorf("rejections: %q", c.Rejected())
			}
			var got []string
			for _, o := range c.Obs {
				got = append(got, summary(o))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestReject(t *testing.T) {
	const d = "2024/03/01,12:00:00.000,2024/03/01,12:00:00.050"
	good := "MSG,3,1,1,4CA2D6,1," + d + ",,35000,,,51.47,-0.46,,,0,0,0,0"
	tests := []struct {
		name, line, want string
	}{
		{"unknown message type", "FOO,3,1,1,4CA2D6,1," + d + ",,35000,,,51.47,-0.46,,,0,0,0,0",
			`feed.sbs:1: message type: not an SBS-1 line: unknown message type "FOO" (want MSG, ID, STA, AIR, SEL or CLK)`},
		{"binary garbage", "\x1a\x33\x00\xff",
			"feed.sbs:1: message type: not an SBS-1 line: unknown message type \"\\x1a3\\x00\\xff\" (want MSG, ID, STA, AIR, SEL or CLK)"},
		{"too few fields", "MSG,3,1,1,4CA2D6", "feed.sbs:1: not an SBS-1 line: MSG line has 5 fields, want 22"},
		{"transmission type out of range", "MSG,9,1,1,4CA2D6,1," + d + ",,,,,,,,,,,,",
			`feed.sbs:1: transmission type: not an SBS-1 line: transmission type "9" is not 1–8`},
		{"hex ident not hex", "MSG,3,1,1,XYZ123,1," + d + ",,35000,,,51.47,-0.46,,,0,0,0,0",
			`feed.sbs:1: hex ident: ICAO address "XYZ123" is not 6 hex digits`},
		{"hex ident short", "MSG,3,1,1,4CA2D,1," + d + ",,35000,,,51.47,-0.46,,,0,0,0,0",
			`feed.sbs:1: hex ident: ICAO address "4CA2D" is not 6 hex digits`},
		{"non-ICAO address", "MSG,3,1,1,~4CA2D,1," + d + ",,35000,,,51.47,-0.46,,,0,0,0,0",
			`feed.sbs:1: hex ident: address "~4CA2D" is not an ICAO address (readsb marks TIS-B and other non-ICAO addresses with ~)`},
		{"bad date", "MSG,3,1,1,4CA2D6,1,2024-03-01,12:00:00.000,,,,35000,,,51.47,-0.46,,,0,0,0,0",
			`feed.sbs:1: date generated: "2024-03-01" "12:00:00.000" is not a date and time like 2024/03/01 12:00:00.123`},
		{"date without time", "MSG,3,1,1,4CA2D6,1,2024/03/01,,,,,35000,,,51.47,-0.46,,,0,0,0,0",
			`feed.sbs:1: time generated: time generated is empty but date generated is not`},
		{"time without date", "MSG,3,1,1,4CA2D6,1,,,,12:00:00.000,,35000,,,51.47,-0.46,,,0,0,0,0",
			`feed.sbs:1: date logged: date logged is empty but time logged is not`},
		{"bad logged time", "MSG,3,1,1,4CA2D6,1,,,2024/03/01,25:00:00,,35000,,,51.47,-0.46,,,0,0,0,0",
			`feed.sbs:1: date logged: "2024/03/01" "25:00:00" is not a date and time like 2024/03/01 12:00:00.123`},
		{"lat not a number", "MSG,3,1,1,4CA2D6,1," + d + ",,35000,,,abc,-0.46,,,0,0,0,0",
			`feed.sbs:1: lat: "abc" is not a number`},
		{"lat NaN", "MSG,3,1,1,4CA2D6,1," + d + ",,35000,,,NaN,-0.46,,,0,0,0,0",
			`feed.sbs:1: lat: "NaN" is not a number`},
		{"lon infinite", "MSG,3,1,1,4CA2D6,1," + d + ",,35000,,,51.47,-Inf,,,0,0,0,0",
			`feed.sbs:1: lon: "-Inf" is not a number`},
		{"lon without lat", "MSG,3,1,1,4CA2D6,1," + d + ",,35000,,,,-0.46,,,0,0,0,0",
			`feed.sbs:1: lat: longitude without latitude`},
		{"lat without lon", "MSG,3,1,1,4CA2D6,1," + d + ",,35000,,,51.47,,,,0,0,0,0",
			`feed.sbs:1: lon: latitude without longitude`},
		{"lat out of range", "MSG,3,1,1,4CA2D6,1," + d + ",,35000,,,95.1,-100.46,,,0,0,0,0",
			`feed.sbs:1: lat: latitude 95.1 out of range [-90, 90]`},
		{"lat and lon swapped", "MSG,3,1,1,4CA2D6,1," + d + ",,35000,,,120.5,45.2,,,0,0,0,0",
			`feed.sbs:1: lat: latitude 120.5 out of range [-90, 90]; hint: lat and lon swapped?`},
		{"lon out of range", "MSG,3,1,1,4CA2D6,1," + d + ",,35000,,,51.47,-200,,,0,0,0,0",
			`feed.sbs:1: lon: longitude -200 out of range [-180, 180]`},
		{"altitude not a number", "MSG,3,1,1,4CA2D6,1," + d + ",,FL350,,,51.47,-0.46,,,0,0,0,0",
			`feed.sbs:1: altitude: "FL350" is not a number`},
		{"negative ground speed", "MSG,2,1,1,4CA2D6,1," + d + ",,,-12,270,51.47,-0.46,,,,,,-1",
			`feed.sbs:1: speed_kn: speed -12 is not a number of knots ≥ 0`},
		{"track out of range", "MSG,2,1,1,4CA2D6,1," + d + ",,,12,361,51.47,-0.46,,,,,,-1",
			`feed.sbs:1: course_deg: course 361 out of range [0, 360]`},
		{"velocity not a number", "MSG,4,1,1,4CA2D6,1," + d + ",,,fast,93,,,-64,,,,,0",
			`feed.sbs:1: ground speed: "fast" is not a number`},
		{"line too long", "MSG,3," + strings.Repeat("x", sbs.MaxLineBytes+10),
			`feed.sbs:1: not an SBS-1 line: line longer than 4096 bytes`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The bad line, then a good one: the good one must still be read, as line 2.
			var c ingesttest.Collector
			if err := sbs.Parse(strings.NewReader(tc.line+"\n"+good+"\n"), options(), &c); err != nil {
				t.Fatal(err)
			}
			if got := c.Rejected(); len(got) != 1 || got[0] != tc.want {
				t.Errorf("rejections %q\nwant [%q]", got, tc.want)
			}
			if len(c.Obs) != 1 || c.Obs[0].Position.Lat != 51.47 {
				t.Errorf("the good line after the bad one: got %d observations", len(c.Obs))
			}
			if len(c.Rej) == 1 && c.Rej[0].Line != 1 {
				t.Errorf("line %d, want 1", c.Rej[0].Line)
			}
		})
	}
}

func TestSentinels(t *testing.T) {
	var c ingesttest.Collector
	sbs.Parse(strings.NewReader("BOGUS\nMSG,3,1,1,4CA2D6,1,,,,,,,,,95,0\n"), options(), &c)
	if len(c.Rej) != 2 {
		t.Fatalf("rejections %q", c.Rejected())
	}
	if !errors.Is(c.Rej[0], sbs.ErrSyntax) {
		t.Errorf("%v does not match ErrSyntax", c.Rej[0])
	}
	if !errors.Is(c.Rej[1], ingest.ErrInvalid) {
		t.Errorf("%v does not match ingest.ErrInvalid", c.Rej[1])
	}
}

// errReader fails after its data.
type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestReadError(t *testing.T) {
	boom := errors.New("connection reset")
	var c ingesttest.Collector
	err := sbs.Parse(&errReader{data: []byte("MSG,3,1,1,4CA2D6,1,,,,,,,,,51,0\nMSG,3,1,1,4CA2D6,1,,,,,,,,,51,1"), err: boom}, options(), &c)
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the reader's", err)
	}
	if len(c.Obs) != 2 { // the partial last line is still read
		t.Errorf("%d observations, want 2", len(c.Obs))
	}
}

// TestRealistic reads testdata/realistic.sbs, written by testdata/gen from the real ADS-B data,
// and checks each AC671B position against what package readsb reads from the trace it came
// from.
func TestRealistic(t *testing.T) {
	in, err := os.ReadFile("testdata/realistic.sbs")
	if err != nil {
		t.Fatal(err)
	}
	opts := options()
	opts.MilitaryICAO = []ingest.ICAORange{{Lo: 0x3B7777, Hi: 0x3B7777}}
	var c ingesttest.Collector
	if err := sbs.Parse(bytes.NewReader(in), opts, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Rej) > 0 {
		t.Fatalf("rejections: %q", c.Rejected()[:min(5, len(c.Rej))])
	}
	lines := strings.Count(string(in), "\n")
	positions := 0
	for _, l := range strings.Split(string(in), "\n") {
		if strings.HasPrefix(l, "MSG,3,") || strings.HasPrefix(l, "MSG,2,") {
			positions++
		}
	}
	byICAO := map[string]int{}
	withSpeed := 0
	for _, o := range c.Obs {
		byICAO[o.Track.ICAO]++
		if o.Position.SpeedK != nil {
			withSpeed++
		}
		if o.Track.ICAO == "3B7777" && (!o.Military || o.Category != ingest.CategoryMilitaryAircraft || o.Track.Callsign != "FAF4011") {
			t.Errorf("tanker: %s", summary(o))
		}
	}
	t.Logf("%d lines, %d observations (AC671B %d, 3B7777 %d), %d with a velocity", lines, len(c.Obs), byICAO["AC671B"], byICAO["3B7777"], withSpeed)
	if len(c.Obs) != positions || len(c.Obs) != 600 || byICAO["AC671B"] != 300 {
		t.Errorf("%d observations, %d AC671B; want %d = 600, 300", len(c.Obs), byICAO["AC671B"], positions)
	}

	// The same points as readsb reads them from the trace.
	f, err := os.Open(ingesttest.SharedData(t, "adsb/readsb_trace_full_ac671b.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var trace ingesttest.Collector
	if err := readsb.Parse(f, opts, &trace); err != nil {
		t.Fatal(err)
	}
	want := map[string]ingest.Observation{}
	for _, o := range trace.Obs {
		want[o.ID] = o
	}
	checked := 0
	for _, o := range c.Obs {
		if o.Track.ICAO != "AC671B" {
			continue
		}
		w, ok := want[o.ID]
		if !ok {
			t.Errorf("%s: no trace point at that time", o.ID)
			continue
		}
		checked++
		near := func(a, b *float64, tol float64) bool {
			if a == nil || b == nil {
				return a == nil && b == nil
			}
			return math.Abs(*a-*b) <= tol
		}
		if math.Abs(o.Position.Lat-w.Position.Lat) > 6e-6 || math.Abs(o.Position.Lon-w.Position.Lon) > 6e-6 ||
			!near(o.Position.AltM, w.Position.AltM, 1e-9) || !near(o.Position.SpeedK, w.Position.SpeedK, 0.5) ||
			!near(o.Position.Course, w.Position.Course, 0.5) || o.Track.Callsign != w.Track.Callsign {
			t.Errorf("sbs    %s\nreadsb %s", summary(o), summary(w))
		}
	}
	if checked != 300 {
		t.Errorf("checked %d AC671B points against the trace, want 300", checked)
	}
}

func FuzzParse(f *testing.F) {
	const d = "2024/03/01,12:00:00.000,2024/03/01,12:00:00.050"
	f.Add([]byte("MSG,1,1,1,4CA2D6,1," + d + ",RYR12AB ,,,,,,,,,,0,0\nMSG,4,1,1,4CA2D6,1," + d + ",,,452,93,,,-64,,,,,0\nMSG,3,1,1,4CA2D6,1," + d + ",,35000,,,51.47,-0.46,,,0,0,0,0\n"))
	f.Add([]byte("MSG,2,1,1,4CA2D6,1," + d + ",,,12,270,51.47001,-0.46002,,,,,,-1\r\nID,,1,1,4CA2D6,1," + d + ",EZY12\nCLK,,,,,,,,,"))
	f.Add([]byte("MSG,3,1,1,4CA2D6,1,,,,,,1000,,,51.5,-0.5,,,0,0,0,0"))
	if in, err := os.ReadFile("testdata/realistic.sbs"); err == nil {
		f.Add(in[:4096])
	}
	opts := options()
	opts.MilitaryICAO = []ingest.ICAORange{{Lo: 0x3B0000, Hi: 0x3BFFFF}}
	f.Fuzz(func(t *testing.T, in []byte) {
		var c ingesttest.Collector
		if err := sbs.Parse(bytes.NewReader(in), opts, &c); err != nil {
			t.Fatalf("error from a bytes.Reader: %v", err)
		}
		lines := bytes.Count(in, []byte("\n")) + 1
		for _, o := range c.Obs {
			if e := ingest.Validate(&o); e != nil {
				t.Fatalf("emitted an invalid observation: %v", e)
			}
			if !strings.HasPrefix(o.ID, "adsb:"+o.Track.ICAO+":") || o.Source != ingest.SourceADSB {
				t.Fatalf("bad id or source: %s", summary(o))
			}
		}
		for _, e := range c.Rej {
			if e.Source != "feed.sbs" || e.Line < 1 || e.Line > lines || e.Err == nil {
				t.Fatalf("bad rejection %#v", e)
			}
		}
	})
}

// BenchmarkParse reads the realistic sample, repeated to about 80,000 lines.
func BenchmarkParse(b *testing.B) {
	in, err := os.ReadFile("testdata/realistic.sbs")
	if err != nil {
		b.Fatal(err)
	}
	in = bytes.Repeat(in, 100)
	lines := bytes.Count(in, []byte("\n"))
	var obs int
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		var c ingesttest.Counter
		sbs.Parse(bytes.NewReader(in), options(), &c)
		obs = c.Obs
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(lines)/sec, "lines/s")
	b.ReportMetric(float64(obs)/sec, "obs/s")
}
