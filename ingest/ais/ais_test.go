package ais

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	goais "github.com/BertoldVdb/go-ais"

	"github.com/truce-mission/truce/ingest"
)

func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

// A few messages, encoded once.
var (
	posA = position(211000001, 54.5, 13.25)
	posB = position(211000002, 43.1, 28.0)
)

func TestTimes(t *testing.T) {
	tp := func(t *testing.T) string { return nmeaOf(t, posA) }
	cases := []struct {
		name      string
		line      func(t *testing.T) string
		want      time.Time
		wantField string // a refusal instead, on this field
		wantErr   error
	}{
		{"reception clock", func(t *testing.T) string { return tp(t) }, fixedTime, "", nil},
		{"tag block seconds", func(t *testing.T) string { return tagBlock("c:1577836800,s:station1") + tp(t) }, time.Unix(1577836800, 0), "", nil},
		{"tag block milliseconds", func(t *testing.T) string { return tagBlock("s:x,c:1577836800123") + tp(t) }, time.UnixMilli(1577836800123), "", nil},
		{"tag block without checksum", func(t *testing.T) string { return `\c:1577836800\` + tp(t) }, time.Unix(1577836800, 0), "", nil},
		{"tag block beats prefix", func(t *testing.T) string { return "1550303566167726840 " + tagBlock("c:1577836800") + tp(t) }, time.Unix(1577836800, 0), "", nil},
		{"prefix nanoseconds", func(t *testing.T) string { return "1550303566167726840 " + tp(t) }, time.Unix(0, 1550303566167726840), "", nil},
		{"prefix microseconds", func(t *testing.T) string { return "1550303566167726 " + tp(t) }, time.UnixMicro(1550303566167726), "", nil},
		{"prefix milliseconds", func(t *testing.T) string { return "1550303566167\t" + tp(t) }, time.UnixMilli(1550303566167), "", nil},
		{"prefix seconds with fraction", func(t *testing.T) string { return "1550303566.25 " + tp(t) }, time.Unix(1550303566, 250e6), "", nil},
		{"prefix RFC 3339", func(t *testing.T) string { return "2023-05-07T10:11:12.5+02:00 " + tp(t) }, time.Date(2023, 5, 7, 8, 11, 12, 500e6, time.UTC), "", nil},
		{"prefix date and time, UTC", func(t *testing.T) string { return "2023-05-07 10:11:12 " + tp(t) }, time.Date(2023, 5, 7, 10, 11, 12, 0, time.UTC), "", nil},
		{"NAIS trailer", func(t *testing.T) string { return tp(t) + ",s28089,d-103,T39.44353985,x147521,r08TPHI1,1242958962" }, time.Unix(1242958962, 0), "", nil},
		{"NAIS trailer without time", func(t *testing.T) string { return tp(t) + ",s36310,d-081,T59.01777335" }, fixedTime, "", nil},
		{"prefix beats trailer", func(t *testing.T) string { return "1550303566 " + tp(t) + ",r08TPHI1,1242958962" }, time.Unix(1550303566, 0), "", nil},
		{"tag block bad checksum", func(t *testing.T) string { return `\c:1577836800*00\` + tp(t) }, time.Time{}, "tagblock", ErrChecksum},
		{"tag block bad time", func(t *testing.T) string { return tagBlock("c:yesterday") + tp(t) }, time.Time{}, "tagblock", ErrSyntax},
		{"tag block not key:value", func(t *testing.T) string { return tagBlock("c1577836800") + tp(t) }, time.Time{}, "tagblock", ErrSyntax},
		{"tag block unterminated", func(t *testing.T) string { return `\c:1577836800` + tp(t) }, time.Time{}, "tagblock", ErrSyntax},
		{"unknown prefix", func(t *testing.T) string { return "yesterday " + tp(t) }, time.Time{}, "timestamp", ErrSyntax},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.line(t)
			c, _ := decode(t, lines(in, nmeaOf(t, posB)), testOpts())
			if tc.wantErr != nil {
				if len(c.rejs) != 1 || c.rejs[0].Line != 1 || c.rejs[0].Field != tc.wantField || !errors.Is(c.rejs[0], tc.wantErr) {
					t.Fatalf("refusals %v, want one at line 1 on %q (%v)", c.rejs, tc.wantField, tc.wantErr)
				}
				if len(c.obs) != 1 || c.obs[0].Track.MMSI != 211000002 {
					t.Errorf("the line after a refusal was not read: %+v", c.obs)
				}
				return
			}
			if len(c.rejs) != 0 || len(c.obs) != 2 {
				t.Fatalf("%d observations, refusals %v", len(c.obs), c.rejs)
			}
			o := c.obs[0]
			if !o.Observed.Equal(tc.want) || o.Observed.Location() != time.UTC {
				t.Errorf("observed %v, want %v", o.Observed, tc.want.UTC())
			}
			if want := "ais:211000001:" + strconv.FormatInt(tc.want.UnixMilli(), 10) + ":1"; o.ID != want {
				t.Errorf("id %q, want %q", o.ID, want)
			}
		})
	}
}

func TestMultiSentence(t *testing.T) {
	s1 := sentences(t, shipStatic(211000001, "FIRST", "DA0001", 70), "1", "A", 40)
	s2 := sentences(t, shipStatic(211000002, "SECOND", "DA0002", 80), "1", "B", 40)
	s3 := sentences(t, shipStatic(211000003, "THIRD", "DA0003", 35), "1", "A", 40)
	if len(s1) != 2 || len(s3) != 2 {
		t.Fatalf("type 5 in %d sentences, want 2", len(s1))
	}
	// Same message id, channels A and B interleaved, and a third message from another talker
	// (AB) with the same id and channel as the first.
	s3[0] = strings.Replace(s3[0], "!AIVDM", "!ABVDM", 1)
	s3[1] = strings.Replace(s3[1], "!AIVDM", "!ABVDM", 1)
	s3[0] = fixChecksum(s3[0])
	s3[1] = fixChecksum(s3[1])
	in := lines(s1[0], s2[0], s3[0], s1[1], s3[1], s2[1],
		nmeaOf(t, position(211000001, 1, 1)),
		nmeaOf(t, position(211000002, 2, 2)),
		nmeaOf(t, position(211000003, 3, 3)))
	c, st := decode(t, in, testOpts())
	if len(c.rejs) != 0 {
		t.Fatalf("refusals: %v", c.rejs)
	}
	if st.Reassembled != 3 || st.Static != 3 || st.Observations != 3 {
		t.Errorf("stats %+v, want 3 reassembled static messages and 3 observations", st)
	}
	want := []ingest.Track{
		{MMSI: 211000001, Name: "FIRST", Callsign: "DA0001", ShipType: 70},
		{MMSI: 211000002, Name: "SECOND", Callsign: "DA0002", ShipType: 80},
		{MMSI: 211000003, Name: "THIRD", Callsign: "DA0003", ShipType: 35},
	}
	for i, o := range c.obs {
		if *o.Track != want[i] {
			t.Errorf("track %+v, want %+v", *o.Track, want[i])
		}
	}

	// A position report in two sentences, the tag block (with the time) only on the first; the
	// observation is on the line of the first sentence.
	pl, fill := armor(t, posA)
	in = lines(
		tagBlock("g:1-2-42,c:1577836800")+nmea("AI", 2, 1, "7", "B", pl[:10], 0),
		tagBlock("g:2-2-42")+nmea("AI", 2, 2, "7", "B", pl[10:], fill))
	c, _ = decode(t, in, testOpts())
	if len(c.obs) != 1 || len(c.rejs) != 0 {
		t.Fatalf("observations %+v, refusals %v", c.obs, c.rejs)
	}
	if o := c.obs[0]; o.ID != "ais:211000001:1577836800000:1" || o.Position.Lat != 54.5 || o.Position.Lon != 13.25 {
		t.Errorf("observation %+v", o)
	}
}

// fixChecksum recomputes a sentence's checksum after an edit.
func fixChecksum(s string) string {
	star := strings.IndexByte(s, '*')
	return nmeaChecksum(s[1:star])
}

func nmeaChecksum(body string) string {
	const hex = "0123456789ABCDEF"
	x := xor(body)
	return "!" + body + "*" + string(hex[x>>4]) + string(hex[x&15])
}

func TestFragmentErrors(t *testing.T) {
	f := sentences(t, shipStatic(211000001, "FIRST", "DA0001", 70), "3", "A", 40)  // 2 sentences
	g := sentences(t, shipStatic(211000002, "SECOND", "DA0002", 70), "3", "A", 30) // 3 sentences
	h := sentences(t, shipStatic(211000003, "THIRD", "DA0003", 70), "3", "A", 30)  // 3 sentences
	filler := make([]string, GroupWindow+1)
	for i := range filler {
		filler[i] = nmeaOf(t, posB)
	}
	type rej struct {
		line int
		text string
	}
	cases := []struct {
		name       string
		in         []string
		want       []rej
		wantStatic int
	}{
		{"truncated at the end", []string{f[0]}, []rej{{1, "1 of 2 fragments (message id 3, channel A): fragment 2 missing at the end of the input"}}, 0},
		{"orphan fragment", []string{f[1]}, []rej{{1, "fragment 2 of 2 (message id 3, channel A) without the fragments before it"}}, 0},
		{"fragment skipped", []string{g[0], g[2]}, []rej{{1, "1 of 3 fragments"}, {2, "fragment 3 of 3 (message id 3, channel A) out of order: expected fragment 2 of 3 begun at line 1"}}, 0},
		{"fragment repeated", []string{g[0], g[1], g[1], g[2]}, []rej{{1, "2 of 3 fragments"}, {3, "out of order"}, {4, "without the fragments before it"}}, 0},
		{"fragment count changes", []string{f[0], g[1]}, []rej{{1, "1 of 2 fragments"}, {2, "fragment 2 of 3"}}, 0},
		{"superseded", []string{g[0], h[0], h[1], h[2]}, []rej{{1, "superseded by a new first fragment at line 2"}}, 1},
		{"timed out", append(append([]string{f[0]}, filler...), f[1]), []rej{{1, "fragment 2 did not come within 32 sentences"}, {GroupWindow + 3, "without the fragments before it"}}, 0},
		{"in time", append(append([]string{f[0]}, filler[1:]...), f[1]), nil, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, st := decode(t, lines(tc.in...), testOpts())
			if len(c.rejs) != len(tc.want) {
				t.Fatalf("refusals %v, want %d", c.rejs, len(tc.want))
			}
			for i, w := range tc.want {
				r := c.rejs[i]
				if r.Line != w.line || r.Field != "fragment" || r.Source != "test.nmea" || !errors.Is(r, ErrFragment) || !strings.Contains(r.Error(), w.text) {
					t.Errorf("refusal %d: %v, want line %d and %q", i, r, w.line, w.text)
				}
			}
			if st.Static != tc.wantStatic {
				t.Errorf("%d static messages, want %d", st.Static, tc.wantStatic)
			}
		})
	}
}

func TestMalformedLines(t *testing.T) {
	good := nmeaOf(t, posA)
	body := good[1:strings.IndexByte(good, '*')]
	withField := func(i int, v string) string {
		f := strings.Split(body, ",")
		f[i] = v
		return nmeaChecksum(strings.Join(f, ","))
	}
	flipped := good[:20] + string(good[20]^1) + good[21:]
	cases := []struct {
		name      string
		line      string
		wantField string
		wantErr   error // nil: not refused
		ignored   bool
	}{
		{"blank", "   ", "", nil, true},
		{"comment", "# !AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A", "", nil, true},
		{"GPS sentence", "$GPRMC,213950.00,A,5250.53669,N,00542.34920,E,0.020,,070420,,,A*7D", "", nil, true},
		{"other encapsulated sentence", "!AIABM,1,1,0,211000001,0,6,0Hwp,0*00", "", nil, true},
		{"lower-case checksum", good[:len(good)-2] + strings.ToLower(good[len(good)-2:]), "", nil, false},
		{"CRLF and spaces", "  " + good + " \r", "", nil, false},
		{"checksum wrong", flipped, "checksum", ErrChecksum, false},
		{"checksum missing", good[:strings.IndexByte(good, '*')], "checksum", ErrChecksum, false},
		{"checksum truncated", good[:len(good)-1], "checksum", ErrChecksum, false},
		{"not NMEA", "hello world", "", ErrSyntax, false},
		{"no bang", good[1:], "", ErrSyntax, false},
		{"talker", nmeaChecksum(strings.Replace(body, "AIVDM", "aiVDM", 1)), "talker", ErrSyntax, false},
		{"too few fields", nmeaChecksum("AIVDM,1,1,,A,15RTgt0PAso"), "", ErrSyntax, false},
		{"fragment count", withField(1, "0"), "fragments", ErrSyntax, false},
		{"fragment number", withField(2, "2"), "fragment", ErrSyntax, false},
		{"message id", withField(3, "12"), "sequence", ErrSyntax, false},
		{"channel", withField(4, "AB"), "channel", ErrSyntax, false},
		{"payload empty", withField(5, ""), "payload", ErrSyntax, false},
		{"payload armoring", withField(5, "15RTgt0PAso;90TKcjM8h6g208C~"), "payload", ErrSyntax, false},
		{"fill bits", withField(6, "7"), "fill", ErrSyntax, false},
		{"too short for a header", withField(5, "15RT"), "payload", ErrDecode, false},
		{"too short for type 1", withField(5, "15RTgt0PAso;90TKcjM8h6g2"), "payload", ErrDecode, false},
		{"longer than any AIS message", withField(5, "1"+strings.Repeat("0", 169)), "payload", ErrDecode, false},
		{"overlong line", good + strings.Repeat(" x", MaxLine), "", ErrSyntax, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, st := decode(t, lines(tc.line, nmeaOf(t, posB)), testOpts())
			last := c.obs[len(c.obs)-1]
			if last.Track.MMSI != 211000002 || st.Lines != 2 {
				t.Fatalf("the next line was not read: %d lines, observations %+v", st.Lines, c.obs)
			}
			switch {
			case tc.wantErr != nil:
				if len(c.rejs) != 1 || c.rejs[0].Line != 1 || c.rejs[0].Field != tc.wantField || !errors.Is(c.rejs[0], tc.wantErr) {
					t.Errorf("refusals %v, want one at line 1 on %q (%v)", c.rejs, tc.wantField, tc.wantErr)
				}
			case tc.ignored:
				if len(c.rejs) != 0 || len(c.obs) != 1 || st.Ignored != 1 {
					t.Errorf("not ignored: refusals %v, %d observations, %d ignored", c.rejs, len(c.obs), st.Ignored)
				}
			default:
				if len(c.rejs) != 0 || len(c.obs) != 2 {
					t.Errorf("refusals %v, %d observations", c.rejs, len(c.obs))
				}
			}
		})
	}
}

func TestPositionValues(t *testing.T) {
	naClassA := position(211000001, 91, 181)
	naSpeed := position(211000001, 10, 20)
	naSpeed.Sog, naSpeed.Cog = 102.3, 360
	lr := goais.LongRangeAisBroadcastMessage{Header: goais.Header{MessageID: 27, UserID: 211000001}, Valid: true, Latitude: 45.5, Longitude: -12.25, Sog: 14, Cog: 271}
	lrNA := lr
	lrNA.Latitude, lrNA.Sog, lrNA.Cog = 91, 63, 511
	classB := goais.StandardClassBPositionReport{Header: goais.Header{MessageID: 18, UserID: 211000001}, Valid: true, Sog: 5.1, Latitude: -33.9, Longitude: 151.2, Cog: 1.5}
	cases := []struct {
		name          string
		p             goais.Packet
		wantField     string
		wantErr       error
		lat, lon      float64
		speed, course *float64
	}{
		{"class A", posA, "", nil, 54.5, 13.25, ptr(12.3), ptr(224)},
		{"not available", naClassA, "lat", ErrNoPosition, 0, 0, nil, nil},
		{"latitude not available", position(211000001, 91, 20), "lat", ErrNoPosition, 0, 0, nil, nil},
		{"longitude not available", position(211000001, 10, 181), "lon", ErrNoPosition, 0, 0, nil, nil},
		{"latitude out of range", position(211000001, -95, 20), "lat", ErrRange, 0, 0, nil, nil},
		{"longitude out of range", position(211000001, 10, 200), "lon", ErrRange, 0, 0, nil, nil},
		{"speed and course not available", naSpeed, "", nil, 10, 20, nil, nil},
		{"class B", classB, "", nil, -33.9, 151.2, ptr(5.1), ptr(1.5)},
		{"long range", lr, "", nil, 45.5, -12.25, ptr(14), ptr(271)},
		{"long range not available", lrNA, "lat", ErrNoPosition, 0, 0, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := decode(t, lines(nmeaOf(t, tc.p)), testOpts())
			if tc.wantErr != nil {
				if len(c.obs) != 0 || len(c.rejs) != 1 || c.rejs[0].Field != tc.wantField || !errors.Is(c.rejs[0], tc.wantErr) || c.rejs[0].Line != 1 {
					t.Fatalf("observations %+v, refusals %v; want a refusal on %q", c.obs, c.rejs, tc.wantField)
				}
				return
			}
			if len(c.obs) != 1 {
				t.Fatalf("refusals %v", c.rejs)
			}
			p := c.obs[0].Position
			if !near(p.Lat, tc.lat) || !near(p.Lon, tc.lon) || !sameFloat(p.SpeedK, tc.speed) || !sameFloat(p.Course, tc.course) {
				t.Errorf("position %v,%v speed %s course %s", p.Lat, p.Lon, fmtPtr(p.SpeedK), fmtPtr(p.Course))
			}
		})
	}
}

func near(a, b float64) bool { return a-b < 1e-6 && b-a < 1e-6 }

func TestMilitary(t *testing.T) {
	const m = 211000001
	static24B := goais.StaticDataReport{Header: goais.Header{MessageID: 24, UserID: m}, Valid: true, PartNumber: true,
		ReportB: goais.StaticDataReportB{Valid: true, ShipType: 35, CallSign: "NAVY1"}}
	static24A := goais.StaticDataReport{Header: goais.Header{MessageID: 24, UserID: m}, Valid: true,
		ReportA: goais.StaticDataReportA{Valid: true, Name: "PATROL"}}
	ext19 := goais.ExtendedClassBPositionReport{Header: goais.Header{MessageID: 19, UserID: m}, Valid: true, Latitude: 1, Longitude: 2, Cog: 360, Sog: 102.3, Name: "GUNBOAT", Type: 35}
	cases := []struct {
		name     string
		before   []goais.Packet
		p        goais.Packet
		list     map[uint32]bool
		military bool
		track    ingest.Track
	}{
		{"unknown vessel", nil, posA, nil, false, ingest.Track{MMSI: m}},
		{"ship type 35 from type 5", []goais.Packet{shipStatic(m, "WARSHIP", "NAVY", 35)}, posA, nil, true, ingest.Track{MMSI: m, Name: "WARSHIP", Callsign: "NAVY", ShipType: 35}},
		{"ship type 55 is not military", []goais.Packet{shipStatic(m, "POLICE", "POL", 55)}, posA, nil, false, ingest.Track{MMSI: m, Name: "POLICE", Callsign: "POL", ShipType: 55}},
		{"ship type 35 from type 24", []goais.Packet{static24A, static24B}, posA, nil, true, ingest.Track{MMSI: m, Name: "PATROL", Callsign: "NAVY1", ShipType: 35}},
		{"ship type 35 in type 19 itself", nil, ext19, nil, true, ingest.Track{MMSI: m, Name: "GUNBOAT", ShipType: 35}},
		{"MMSI in the list", nil, posA, map[uint32]bool{m: true}, true, ingest.Track{MMSI: m}},
		{"another MMSI in the list", nil, posA, map[uint32]bool{m + 1: true}, false, ingest.Track{MMSI: m}},
		{"static data of another MMSI", []goais.Packet{shipStatic(m+1, "WARSHIP", "NAVY", 35)}, posA, nil, false, ingest.Track{MMSI: m}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var in []string
			for _, p := range tc.before {
				in = append(in, sentences(t, p, "1", "A", 60)...)
			}
			in = append(in, nmeaOf(t, tc.p))
			opts := testOpts()
			opts.MilitaryMMSI = tc.list
			c, st := decode(t, lines(in...), opts)
			if len(c.rejs) != 0 || len(c.obs) != 1 || st.Static != len(tc.before) {
				t.Fatalf("observations %+v, refusals %v, stats %+v", c.obs, c.rejs, st)
			}
			o := c.obs[0]
			wantCat := CategoryCivilian
			if tc.military {
				wantCat = CategoryNaval
			}
			if o.Military != tc.military || o.Category != wantCat || *o.Track != tc.track || o.Source != ingest.SourceAIS {
				t.Errorf("military %v category %q track %+v source %v; want %v %q %+v", o.Military, o.Category, *o.Track, o.Source, tc.military, wantCat, tc.track)
			}
		})
	}
}

func TestStaticCacheAcrossStreams(t *testing.T) {
	d := NewDecoder(testOpts())
	c := &collector{}
	if err := d.Decode(strings.NewReader(lines(sentences(t, shipStatic(211000001, "KEEPER", "KP01", 35), "1", "A", 40)...)), c); err != nil {
		t.Fatal(err)
	}
	if len(c.obs) != 0 || len(c.rejs) != 0 || d.Stats().Static != 1 {
		t.Fatalf("a static message emitted %+v %v", c.obs, c.rejs)
	}
	if err := d.Decode(strings.NewReader(lines(nmeaOf(t, posA))), c); err != nil {
		t.Fatal(err)
	}
	if len(c.obs) != 1 || c.obs[0].Track.Name != "KEEPER" || !c.obs[0].Military || c.obs[0].ID != "ais:211000001:"+strconv.FormatInt(fixedTime.UnixMilli(), 10)+":1" {
		t.Errorf("second stream: %+v", c.obs)
	}
	if st := d.Stats(); st.Lines != 3 || st.Observations != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestSkippedTypes(t *testing.T) {
	base := goais.BaseStationReport{Header: goais.Header{MessageID: 4, UserID: 2111000}, Valid: true, UtcYear: 2026, UtcMonth: 1, UtcDay: 2, Latitude: 54, Longitude: 12}
	safety := goais.SafetyBroadcastMessage{Header: goais.Header{MessageID: 14, UserID: 211000001}, Valid: true, Text: "HELLO"}
	c, st := decode(t, lines(nmeaOf(t, base), nmeaOf(t, safety)), testOpts())
	if len(c.obs) != 0 || len(c.rejs) != 0 || st.Skipped != 2 || st.ByType[4] != 1 || st.ByType[14] != 1 || st.Messages != 2 {
		t.Errorf("observations %+v refusals %v stats %+v", c.obs, c.rejs, st)
	}
}

func TestIDsRepeat(t *testing.T) {
	in := lines(tagBlock("c:1577836800")+nmeaOf(t, posA), "1550303566167 "+nmeaOf(t, posB))
	ids := func(now time.Time) []string {
		opts := testOpts()
		opts.Now = func() time.Time { return now }
		c, _ := decode(t, in, opts)
		var out []string
		for _, o := range c.obs {
			out = append(out, o.ID)
		}
		return out
	}
	a, b := ids(fixedTime), ids(fixedTime.Add(time.Hour))
	want := []string{"ais:211000001:1577836800000:1", "ais:211000002:1550303566167:2"}
	if strings.Join(a, " ") != strings.Join(want, " ") || strings.Join(b, " ") != strings.Join(want, " ") {
		t.Errorf("ids %v and %v, want %v", a, b, want)
	}
}

// failingReader returns its data, then an error.
type failingReader struct {
	data string
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestReadError(t *testing.T) {
	f := sentences(t, shipStatic(211000001, "FIRST", "DA0001", 70), "3", "A", 40)
	boom := errors.New("connection reset")
	c := &collector{}
	err := Parse(&failingReader{data: lines(nmeaOf(t, posA), f[0]), err: boom}, testOpts(), c)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "test.nmea") {
		t.Errorf("error %v", err)
	}
	if len(c.obs) != 1 || len(c.rejs) != 1 || c.rejs[0].Line != 2 || !errors.Is(c.rejs[0], ErrFragment) {
		t.Errorf("observations %+v refusals %v", c.obs, c.rejs)
	}
	// A reader that ends without a newline still gives its last line.
	c = &collector{}
	if err := Parse(strings.NewReader(nmeaOf(t, posA)), testOpts(), c); err != nil || len(c.obs) != 1 {
		t.Errorf("last line without newline: %v %+v", err, c.obs)
	}
	if err := Parse(io.LimitReader(strings.NewReader(""), 0), testOpts(), c); err != nil {
		t.Errorf("empty input: %v", err)
	}
}
