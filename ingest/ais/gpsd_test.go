package ais

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/truce-mission/truce/ingest"
)

// chkRecord is the part of gpsd's JSON decode that is checked here.
type chkRecord struct {
	Class    string   `json:"class"`
	Type     int      `json:"type"`
	MMSI     uint32   `json:"mmsi"`
	Scaled   bool     `json:"scaled"`
	Lat      *float64 `json:"lat"`
	Lon      *float64 `json:"lon"`
	Speed    *float64 `json:"speed"`
	Course   *float64 `json:"course"`
	Shipname string   `json:"shipname"`
	Name     string   `json:"name"`
	Callsign string   `json:"callsign"`
	Shiptype int      `json:"shiptype"`

	line int // the log line of the message's first sentence
}

// readChk pairs each AIS record of a .chk with the .log line of its message's first sentence.
// A .chk echoes the .log's non-blank, non-comment lines in order, each followed by the JSON it
// decoded to, if any.
func readChk(t *testing.T, logName string) []chkRecord {
	t.Helper()
	logLines := strings.Split(string(readData(t, logName)), "\n")
	var echoed []int // .log line numbers of the echoed lines, in order
	for i, l := range logLines {
		if s := strings.TrimSpace(l); s != "" && s[0] != '#' {
			echoed = append(echoed, i+1)
		}
	}
	var recs []chkRecord
	seen := map[string]bool{} // gpsd's daemon sometimes reports a message twice
	k := -1                   // index into echoed of the last echoed line
	lastAIS := 0              // .log line of the last echoed AIS sentence
	for n, l := range strings.Split(string(readData(t, logName+".chk")), "\n") {
		l = strings.TrimRight(l, "\r")
		if l == "" {
			continue
		}
		if l[0] != '{' {
			k++
			if k >= len(echoed) || strings.TrimSpace(logLines[echoed[k]-1]) != strings.TrimSpace(l) {
				t.Fatalf("%s.chk:%d does not echo the next line of %s", logName, n+1, logName)
			}
			// The daemon may report a message after the GPS sentences that follow it.
			if strings.Contains(l, "VDM,") || strings.Contains(l, "VDO,") {
				lastAIS = echoed[k]
			}
			continue
		}
		var r chkRecord
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%s.chk:%d: %v", logName, n+1, err)
		}
		if r.Class != "AIS" {
			continue
		}
		if key := fmt.Sprint(lastAIS, l); seen[key] {
			continue
		} else {
			seen[key] = true
		}
		r.line = firstFragmentLine(t, logLines, lastAIS)
		recs = append(recs, r)
	}
	return recs
}

// firstFragmentLine walks back from the last sentence of a message to its first.
func firstFragmentLine(t *testing.T, logLines []string, last int) int {
	t.Helper()
	f := strings.Split(strings.TrimSpace(logLines[last-1]), ",")
	if len(f) < 7 || f[1] == "1" {
		return last
	}
	for i := last - 1; i >= 1; i-- {
		g := strings.Split(strings.TrimSpace(logLines[i-1]), ",")
		if len(g) >= 7 && g[0] == f[0] && g[1] == f[1] && g[2] == "1" && g[3] == f[3] && g[4] == f[4] {
			return i
		}
	}
	t.Fatalf("no first fragment for line %d", last)
	return 0
}

// degrees converts gpsd's lat/lon: unscaled values are 1/10000 minute, or 1/10 minute for type 27.
func (r *chkRecord) degrees(v float64) float64 {
	if r.Scaled {
		return v
	}
	if r.Type == 27 {
		return v / 600
	}
	return v / 600000
}

// speedCourse converts gpsd's unscaled speed and course to knots and degrees, nil when not
// available.
func (r *chkRecord) speedCourse() (speed, course *float64) {
	if r.Type == 21 || r.Speed == nil || r.Course == nil {
		return nil, nil
	}
	if r.Type == 27 {
		if *r.Speed != 63 {
			speed = r.Speed
		}
		if *r.Course < 360 {
			course = r.Course
		}
		return speed, course
	}
	if *r.Speed < 1023 {
		speed = ptr(*r.Speed / 10)
	}
	if *r.Course < 3600 {
		course = ptr(*r.Course / 10)
	}
	return speed, course
}

func (r *chkRecord) notAvailable() bool {
	latNA, lonNA := 91.0*600000, 181.0*600000
	if r.Type == 27 {
		latNA, lonNA = 91*600, 181*600
	}
	return *r.Lat == latNA || *r.Lon == lonNA
}

var positionTypes = map[int]bool{1: true, 2: true, 3: true, 18: true, 19: true, 21: true, 27: true}

// TestGpsdLogs decodes gpsd's regression logs and checks every position message against gpsd's
// own decode: MMSI, type, lat/lon to 1e-4 degree, speed and course, and the static data that
// came before it for that MMSI.
func TestGpsdLogs(t *testing.T) {
	cases := []struct {
		log         string
		minPos      int // position messages compared, at least
		minNone     int // "not available" positions refused, at least
		minEnriched int // positions with static data known before them, at least
	}{
		{"ais-nmea.log", 141, 3, 1},
		{"ais-18-27.log", 138, 0, 0}, // gpsd reports none of its type 24 messages
		{"ais-raw-messages.log", 97, 0, 1},
		{"ais-nmea-type6-fid55.log", 930, 11, 1},
	}
	total := 0
	for _, tc := range cases {
		t.Run(tc.log, func(t *testing.T) {
			name := "ais/gpsd/" + tc.log
			recs := readChk(t, name)
			c, st := decode(t, string(readData(t, name)), testOpts())

			obsAt := map[int]ingest.Observation{}
			for _, o := range c.obs {
				line, err := strconv.Atoi(o.ID[strings.LastIndexByte(o.ID, ':')+1:])
				if err != nil {
					t.Fatalf("id %q has no line", o.ID)
				}
				if _, dup := obsAt[line]; dup {
					t.Fatalf("two observations at line %d", line)
				}
				obsAt[line] = o
			}
			rejAt := map[int]*ingest.RecordError{}
			for _, r := range c.rejs {
				rejAt[r.Line] = r
			}

			type static struct {
				name, callsign string
				shipType       int
			}
			known := map[uint32]static{}
			compared, none, enriched := 0, 0, 0
			byType := map[int]int{}
			for _, r := range recs {
				switch r.Type {
				case 5, 19, 24:
					s := known[r.MMSI]
					if n := strings.TrimSpace(r.Shipname); n != "" {
						s.name = n
					}
					if cs := strings.TrimSpace(r.Callsign); cs != "" {
						s.callsign = cs
					}
					if r.Shiptype != 0 {
						s.shipType = r.Shiptype
					}
					known[r.MMSI] = s
				}
				if !positionTypes[r.Type] {
					continue
				}
				where := fmt.Sprintf("%s:%d (type %d, mmsi %d)", tc.log, r.line, r.Type, r.MMSI)
				if r.notAvailable() {
					rej := rejAt[r.line]
					if rej == nil || !errors.Is(rej, ErrNoPosition) {
						t.Errorf("%s: gpsd says position not available, want a refusal, got %v", where, rej)
					}
					none++
					continue
				}
				o, ok := obsAt[r.line]
				if !ok {
					t.Errorf("%s: no observation (refusal: %v)", where, rejAt[r.line])
					continue
				}
				compared++
				byType[r.Type]++
				if o.Track == nil || o.Track.MMSI != r.MMSI {
					t.Errorf("%s: track %+v", where, o.Track)
					continue
				}
				if want := fmt.Sprintf("AIS %d:", r.Type); !strings.HasPrefix(o.Text, want) {
					t.Errorf("%s: text %q, want prefix %q", where, o.Text, want)
				}
				lat, lon := r.degrees(*r.Lat), r.degrees(*r.Lon)
				if math.Abs(o.Position.Lat-lat) > 1e-4 || math.Abs(o.Position.Lon-lon) > 1e-4 {
					t.Errorf("%s: position %.6f,%.6f, gpsd %.6f,%.6f", where, o.Position.Lat, o.Position.Lon, lat, lon)
				}
				sp, co := r.speedCourse()
				if !sameFloat(o.Position.SpeedK, sp) || !sameFloat(o.Position.Course, co) {
					t.Errorf("%s: speed %v course %v, gpsd %v %v", where, fmtPtr(o.Position.SpeedK), fmtPtr(o.Position.Course), fmtPtr(sp), fmtPtr(co))
				}
				if r.Type == 21 {
					if o.Category != "" || o.Military || !strings.Contains(o.Text, strings.TrimSpace(r.Name)) {
						t.Errorf("%s: aid to navigation %+v, gpsd name %q", where, o, r.Name)
					}
					continue
				}
				if o.Category != CategoryCivilian || o.Source != ingest.SourceAIS {
					t.Errorf("%s: category %q source %v", where, o.Category, o.Source)
				}
				s := known[r.MMSI]
				if s != (static{}) {
					enriched++
				}
				if (s.name != "" && o.Track.Name != s.name) || (s.callsign != "" && o.Track.Callsign != s.callsign) || (s.shipType != 0 && o.Track.ShipType != s.shipType) {
					t.Errorf("%s: track %+v, static data before it %+v", where, *o.Track, s)
				}
			}
			if len(obsAt) != compared {
				t.Errorf("%d observations, only %d matched gpsd's position decodes", len(obsAt), compared)
			}
			t.Logf("%s: %d position messages agree with gpsd (by type %v), %d of them enriched by earlier static data; %d 'not available' refused; %d observations, %d static, %d skipped, %d refused",
				tc.log, compared, byType, enriched, none, st.Observations, st.Static, st.Skipped, st.Rejected)
			if compared < tc.minPos || none < tc.minNone || enriched < tc.minEnriched {
				t.Errorf("compared %d positions (%d enriched) and %d refusals, want at least %d (%d) and %d", compared, enriched, none, tc.minPos, tc.minEnriched, tc.minNone)
			}
			total += compared
		})
	}
	t.Logf("total: %d position messages agree with gpsd", total)
}

func sameFloat(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return math.Abs(*a-*b) < 1e-6
}

func fmtPtr(p *float64) string {
	if p == nil {
		return "nil"
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}
