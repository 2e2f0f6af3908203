package ais

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	goais "github.com/BertoldVdb/go-ais"

	"github.com/truce-mission/truce/ingest"
)

// lineOf is the 1-based line of text that contains s, failing when there is none.
func lineOf(t *testing.T, text, s string) int {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("no line contains %q", s)
	return 0
}

// TestSampleAivdm decodes gpsd's sample.aivdm: every message type 1–27 is there, multi-sentence
// messages included, and the annotated decodes are checked for the position and static messages.
func TestSampleAivdm(t *testing.T) {
	text := string(readData(t, "ais/gpsd/sample.aivdm"))
	// Position reports for the MMSIs of the annotated type 5 and type 24 messages, to see the
	// static data they carried.
	extra := []string{
		nmeaOf(t, position(351759000, 40.5, -73.9)),
		nmeaOf(t, position(271041815, 41.0, 29.0)),
	}
	all := text + strings.Join(extra, "\n") + "\n"
	nText := strings.Count(text, "\n")
	c, st := decode(t, all, testOpts())

	for typ := 1; typ <= 27; typ++ {
		if st.ByType[typ] == 0 {
			t.Errorf("no message of type %d decoded", typ)
		}
	}
	// Fourteen messages of two or three sentences, two of them interleaved on channels A and B.
	if st.Reassembled != 14 {
		t.Errorf("%d multi-sentence messages reassembled, want 14", st.Reassembled)
	}
	// The only refusal: a fragment without its leading '!' ("misses part 1, yields nothing").
	if len(c.rejs) != 1 || c.rejs[0].Line != lineOf(t, text, "AIVDM,2,2,1,B,00000000000,2*26") || !errors.Is(c.rejs[0], ErrSyntax) {
		t.Errorf("refusals %v, want one for the fragment without '!'", c.rejs)
	}
	t.Logf("sample.aivdm: %+v", st)

	obsAt := map[int]ingest.Observation{}
	for _, o := range c.obs {
		obsAt[idLine(t, o.ID)] = o
	}
	cases := []struct {
		name           string
		sentence       string // first sentence of the message
		typ            int
		mmsi           uint32
		lat, lon       float64
		speed, course  float64 // -1: not checked
		shipName       string
		shipType       int
		text           string // a substring of Text
		wantMultiLines int    // sentences in the message
	}{
		{"type 1", "15RTgt0PAso;90TKcjM8h6g208CQ", 1, 371798000, 48.38163333333, -123.395383333, 12.3, 224, "", 0, "class A", 1},
		{"type 1 b", "16SteH0P00Jt63hHaa6SagvJ087r", 1, 440348000, 43.08015, -70.7582, 0, 93.4, "", 0, "class A", 1},
		{"type 2", "25Cjtd0Oj;Jp7ilG7=UkKBoB0<06", 2, 356302000, 40.39235833333, -71.62614333333, 13.9, 87.7, "", 0, "class A", 1},
		{"type 3", "38Id705000rRVJhE7cl9n;160000", 3, 563808000, 36.91, -76.32753333333, 0, 252, "", 0, "class A", 1},
		{"type 18", "B52K>;h00Fc>jpUlNV@ikwpUoP06", 18, 338087471, 40.68454, -74.07213166666, 0.1, 79.6, "", 0, "class B", 1},
		{"type 18 b", "B52KB8h006fu`Q6:g1McCwb5oP06", 18, 338088483, 43.11555833, -70.8111966, 0, 171.6, "", 0, "class B", 1},
		{"type 18 c", "B5O6hr00<veEKmUaMFdEow`UWP06", 18, 368161000, 39.480925, -72.2338483333, -1, -1, "", 0, "class B", 1},
		{"type 19", "C5N3SRgPEnJGEBT>NhWAwwo862PaLELTBJ:V00000000S0D:R220", 19, 367059850, 29.543695, -88.8103916667, 8.7, 335.9, "CAPT.J.RIMES", 70, "class B extended", 1},
		{"type 21, two sentences", "E1mg=5J1T4W0h97aRh6ba84<h2d;W:Te=eLvH50```q", 21, 123456789, 47.9206183333, -122.698591667, -1, -1, "CHINA ROSE MURPHY EXPRESS ALERT", 0, `"CHINA ROSE MURPHY EXPRESS ALERT", cardinal mark N`, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			line := lineOf(t, text, tc.sentence)
			o, ok := obsAt[line]
			if !ok {
				t.Fatalf("no observation at line %d", line)
			}
			if o.Track.MMSI != tc.mmsi || !strings.Contains(o.Text, tc.text) || !strings.HasPrefix(o.Text, "AIS "+strconv.Itoa(tc.typ)+":") {
				t.Errorf("mmsi %d text %q, want %d, type %d, %q", o.Track.MMSI, o.Text, tc.mmsi, tc.typ, tc.text)
			}
			if math.Abs(o.Position.Lat-tc.lat) > 1e-6 || math.Abs(o.Position.Lon-tc.lon) > 1e-6 {
				t.Errorf("position %.8f,%.8f, want %.8f,%.8f", o.Position.Lat, o.Position.Lon, tc.lat, tc.lon)
			}
			if tc.speed >= 0 && (o.Position.SpeedK == nil || math.Abs(*o.Position.SpeedK-tc.speed) > 1e-9) {
				t.Errorf("speed %v, want %v", fmtPtr(o.Position.SpeedK), tc.speed)
			}
			if tc.course >= 0 && (o.Position.Course == nil || math.Abs(*o.Position.Course-tc.course) > 1e-9) {
				t.Errorf("course %v, want %v", fmtPtr(o.Position.Course), tc.course)
			}
			if o.Track.Name != tc.shipName || o.Track.ShipType != tc.shipType {
				t.Errorf("track %+v, want name %q type %d", *o.Track, tc.shipName, tc.shipType)
			}
			if tc.typ == 21 && (o.Category != "" || o.Military) {
				t.Errorf("aid to navigation with category %q military %v", o.Category, o.Military)
			}
			if tc.typ != 21 && o.Category != CategoryCivilian {
				t.Errorf("category %q", o.Category)
			}
			if tc.wantMultiLines > 1 {
				next := strings.Split(text, "\n")[line] // the line after the first sentence
				if !strings.Contains(next, ",2,2,") {
					t.Errorf("line after %d is not the second fragment: %q", line, next)
				}
			}
		})
	}

	// The static data of the annotated type 5 (two sentences) and type 24 A+B reached the
	// positions appended after the sample.
	for i, want := range []ingest.Track{
		{MMSI: 351759000, Name: "EVER DIADEM", Callsign: "3FOF8", ShipType: 70},
		{MMSI: 271041815, Name: "PROGUY", Callsign: "TC6163", ShipType: 60},
	} {
		o, ok := obsAt[nText+1+i]
		if !ok || *o.Track != want {
			t.Errorf("position after the static data of %d: %+v, want track %+v", want.MMSI, o, want)
		}
	}

	// The two type 27 messages, 96 and 168 bits long.
	for _, s := range []string{"KCQ9r=hrFUnH7P00", "KC5E2b@U19PFdLbMuc5=ROv62<7m"} {
		o, ok := obsAt[lineOf(t, text, s)]
		if !ok || !strings.HasPrefix(o.Text, "AIS 27:") {
			t.Errorf("type 27 %s: %+v", s, o)
		}
	}

	// A type 1 of 163 bits (fill bits off by five) decodes like its 168-bit twin.
	short, long := obsAt[lineOf(t, text, "13aIkM@P00PJ@qPNL=e@0?wJ28JO,5*63")], obsAt[lineOf(t, text, "13aIkM@P00PJ@qPNL=e@0?wJ28JO,0*66")]
	if short.Track == nil || long.Track == nil || short.Position.Lat != long.Position.Lat || short.Position.Lon != long.Position.Lon || short.Track.MMSI != long.Track.MMSI {
		t.Errorf("163-bit type 1 %+v, 168-bit %+v", short, long)
	}

	// Channel multiplexing: two type 5 messages interleaved on channels A and B both complete.
	mux := lineOf(t, text, "# simultaneous use of buffers of channels A & B")
	for _, r := range c.rejs {
		if r.Line > mux && r.Line < mux+5 {
			t.Errorf("interleaved channels refused: %v", r)
		}
	}
}

// TestGoAisSample decodes go-ais's aistest.nmea: ~1,000 real sentences with nanosecond Unix
// timestamps before them.
func TestGoAisSample(t *testing.T) {
	text := string(readData(t, "ais/go-ais/aistest.nmea"))
	c, st := decode(t, text, testOpts())
	t.Logf("aistest.nmea: %d lines, %d sentences, %d messages (%d reassembled), %d observations, %d static, %d skipped, %d refused",
		st.Lines, st.Sentences, st.Messages, st.Reassembled, st.Observations, st.Static, st.Skipped, st.Rejected)
	t.Logf("refusals by reason: %s", formatCounts(countReasons(c.rejs)))
	if st.Sentences != st.Lines || st.Lines < 990 {
		t.Errorf("%d of %d lines taken as AIS sentences", st.Sentences, st.Lines)
	}
	if st.Observations < 600 || st.Rejected > st.Lines/40 {
		t.Errorf("%d observations and %d refusals, want at least 600 and at most %d", st.Observations, st.Rejected, st.Lines/40)
	}
	for _, r := range c.rejs {
		// Only real-world damage is expected: broken fragment groups, "not available"
		// positions and one truncated aid to navigation.
		if !errors.Is(r, ErrFragment) && !errors.Is(r, ErrNoPosition) && !errors.Is(r, ErrDecode) {
			t.Errorf("unexpected refusal %v", r)
		}
	}
	// The leading timestamps give the time: 2019-02-16 07:52:46..07:52:48 UTC.
	lo := time.Date(2019, 2, 16, 7, 52, 46, 0, time.UTC)
	hi := lo.Add(3 * time.Second)
	ids := map[string]bool{}
	for _, o := range c.obs {
		if o.Observed.Before(lo) || !o.Observed.Before(hi) {
			t.Errorf("%s observed %v, outside the file's time span", o.ID, o.Observed)
		}
		if ids[o.ID] {
			t.Errorf("duplicate id %s", o.ID)
		}
		ids[o.ID] = true
	}
	first := c.obs[0]
	if first.ID != "ais:44730341:1550303566167:1" || !first.Observed.Equal(time.Unix(0, 1550303566167726840)) {
		t.Errorf("first observation %s at %v", first.ID, first.Observed)
	}
}

func idLine(t *testing.T, id string) int {
	t.Helper()
	n := 0
	for _, c := range id[strings.LastIndexByte(id, ':')+1:] {
		if c < '0' || c > '9' {
			t.Fatalf("id %q does not end in a line number", id)
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// nmeaOf is the single sentence of a packet, on channel A.
func nmeaOf(t *testing.T, p goais.Packet) string {
	t.Helper()
	pl, fill := armor(t, p)
	return nmea("AI", 1, 1, "", "A", pl, fill)
}
