// Command gen writes ../realistic.sbs, the longer SBS-1 sample the tests read, from the real
// ADS-B data in ../shared/data/adsb (see that folder's SOURCE.txt): points 600–899 of the readsb
// trace of AC671B (DAL1812 descending into Minneapolis, landing and taxiing) and every fifth
// OpenSky state vector of 3B7777 (FAF4011, a French Air Force tanker), re-timed so that its
// first vector falls on the trace's first point. Lines are written as dump1090 writes them:
// MSG,1 (callsign) every 10th point and when the callsign changes, MSG,4 (velocity) 300 ms before each airborne MSG,3, MSG,2
// on the ground, a MSG,5 and a MSG,6 now and then, AIR and ID lines when an aircraft first
// appears, and MSG,8 and STA lines that the reader must skip.
//
// Run from ingest/sbs: go run ./testdata/gen
package main

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"log"
	"math"
	"os"
	"sort"
	"strings"
	"time"
)

type line struct {
	t time.Time
	s string
}

func main() {
	data := "../../../shared/data/adsb/"
	var lines []line
	add := func(t time.Time, format string, args ...any) {
		lines = append(lines, line{t, fmt.Sprintf(format, args...)})
	}
	stamp := func(t time.Time) string {
		s := t.UTC().Format("2006/01/02,15:04:05.000")
		return s + "," + s
	}

	// AC671B from the readsb trace.
	var tr struct {
		Timestamp float64             `json:"timestamp"`
		Trace     [][]json.RawMessage `json:"trace"`
	}
	b, err := os.ReadFile(data + "readsb_trace_full_ac671b.json")
	if err != nil {
		log.Fatal(err)
	}
	if err := json.Unmarshal(b, &tr); err != nil {
		log.Fatal(err)
	}
	num := func(r json.RawMessage) (float64, bool) {
		var f *float64
		if json.Unmarshal(r, &f) != nil || f == nil {
			return 0, false
		}
		return *f, true
	}
	at := func(sec float64) time.Time {
		return time.UnixMilli(int64(math.Round(sec * 1000))).UTC()
	}
	base := at(tr.Timestamp + mustNum(num(tr.Trace[600][0])))
	callsign := "DAL1812"
	for i := 600; i < 900; i++ {
		p := tr.Trace[i]
		t := at(tr.Timestamp + mustNum(num(p[0])))
		lat, lon := mustNum(num(p[1])), mustNum(num(p[2]))
		gs, okG := num(p[4])
		trk, okT := num(p[5])
		var d struct{ Flight string }
		json.Unmarshal(p[8], &d)
		changed := false
		if cs := strings.TrimSpace(d.Flight); cs != "" && cs != callsign {
			callsign, changed = cs, true
		}
		if i == 600 {
			add(t.Add(-2*time.Second), "AIR,,1,1,AC671B,1,%s,,,,,,,,,,,,", stamp(t.Add(-2*time.Second)))
			add(t.Add(-time.Second), "ID,,1,1,AC671B,1,%s,%s,,,,,,,,,,,", stamp(t.Add(-time.Second)), callsign)
		}
		if i%10 == 0 || changed {
			add(t.Add(-500*time.Millisecond), "MSG,1,1,1,AC671B,1,%s,%s,,,,,,,,,,0,0", stamp(t.Add(-500*time.Millisecond)), callsign)
		}
		if string(p[3]) == `"ground"` {
			add(t, "MSG,2,1,1,AC671B,1,%s,,,%s,%s,%.5f,%.5f,,,,,,-1", stamp(t), opt(gs, okG), opt(trk, okT), lat, lon)
			continue
		}
		alt := mustNum(num(p[3]))
		if okG || okT {
			tv := t.Add(-300 * time.Millisecond)
			add(tv, "MSG,4,1,1,AC671B,1,%s,,,%s,%s,,,-704,,,,,0", stamp(tv), opt(gs, okG), opt(trk, okT))
		}
		add(t, "MSG,3,1,1,AC671B,1,%s,,%.0f,,,%.5f,%.5f,,,0,0,0,0", stamp(t), alt, lat, lon)
		if i%25 == 0 {
			add(t.Add(200*time.Millisecond), "MSG,5,1,1,AC671B,1,%s,,%.0f,,,,,,,0,,0,0", stamp(t.Add(200*time.Millisecond)), alt)
			add(t.Add(400*time.Millisecond), "MSG,6,1,1,AC671B,1,%s,,%.0f,,,,,,7435,0,0,0,0", stamp(t.Add(400*time.Millisecond)), alt)
		}
		if i%40 == 0 {
			add(t.Add(600*time.Millisecond), "MSG,8,1,1,AC671B,1,%s,,,,,,,,,,,,0", stamp(t.Add(600*time.Millisecond)))
		}
	}

	// 3B7777 from the OpenSky state vectors, re-timed.
	f, err := os.Open(data + "military_inflight_refuelling.json.gz")
	if err != nil {
		log.Fatal(err)
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		log.Fatal(err)
	}
	var rows []struct {
		Timestamp   int64
		Callsign    string
		Latitude    *float64
		Longitude   *float64
		Altitude    *float64
		Groundspeed *float64
		Track       *float64
	}
	if err := json.NewDecoder(zr).Decode(&rows); err != nil {
		log.Fatal(err)
	}
	shift := base.Sub(time.UnixMilli(rows[1].Timestamp))
	for i := 1; i < len(rows) && i < 1500; i += 5 {
		r := rows[i]
		t := time.UnixMilli(r.Timestamp).Add(shift).UTC()
		if i == 1 {
			add(t.Add(-time.Second), "AIR,,1,2,3B7777,2,%s,,,,,,,,,,,,", stamp(t.Add(-time.Second)))
		}
		if i%50 == 1 {
			add(t.Add(-400*time.Millisecond), "MSG,1,1,2,3B7777,2,%s,%s,,,,,,,,,,0,0", stamp(t.Add(-400*time.Millisecond)), r.Callsign)
		}
		if r.Groundspeed != nil && r.Track != nil {
			tv := t.Add(-200 * time.Millisecond)
			add(tv, "MSG,4,1,2,3B7777,2,%s,,,%.0f,%.0f,,,0,,,,,0", stamp(tv), *r.Groundspeed, *r.Track)
		}
		if r.Latitude == nil {
			continue
		}
		add(t, "MSG,3,1,2,3B7777,2,%s,,%.0f,,,%.5f,%.5f,,,0,0,0,0", stamp(t), *r.Altitude, *r.Latitude, *r.Longitude)
	}
	add(lines[len(lines)-1].t.Add(time.Second), "STA,,1,2,3B7777,2,%s,RM,,,,,,,,,,,", stamp(lines[len(lines)-1].t.Add(time.Second)))

	sort.SliceStable(lines, func(i, j int) bool { return lines[i].t.Before(lines[j].t) })
	out, err := os.Create("testdata/realistic.sbs")
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range lines {
		fmt.Fprint(out, l.s+"\r\n") // dump1090 ends lines with CR LF
	}
	if err := out.Close(); err != nil {
		log.Fatal(err)
	}
}

func mustNum(v float64, ok bool) float64 {
	if !ok {
		log.Fatal("missing number")
	}
	return v
}

func opt(v float64, ok bool) string {
	if !ok {
		return ""
	}
	return fmt.Sprintf("%.0f", v)
}
