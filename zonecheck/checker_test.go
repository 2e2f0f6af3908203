package zonecheck

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/geo"
)

var dday = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// square is a 1-degree square polygon with its south-west corner at (lon, lat).
func square(lon, lat float64) geo.Zone {
	ring := []geo.Point{{Lon: lon, Lat: lat}, {Lon: lon + 1, Lat: lat}, {Lon: lon + 1, Lat: lat + 1}, {Lon: lon, Lat: lat + 1}, {Lon: lon, Lat: lat}}
	return geo.Zone{Polygons: [][][]geo.Point{{ring}}}
}

func synthetic(t *testing.T) *Checker {
	t.Helper()
	line := []geo.Point{{Lon: 0, Lat: 0}, {Lon: 0, Lat: 10}}
	zones := []Zone{{ID: "a", Shape: square(1, 1)}, {ID: "b", Shape: square(1.5, 1.5)}, {ID: "home", Shape: square(5, 5)}}
	rules := []Rule{
		{ID: "no-tanks-a", Kind: Prohibit, Zone: "a", Category: "heavy", From: dday, Until: dday.AddDate(0, 0, 30)},
		{ID: "east-ceiling-b", Kind: Ceiling, Zone: "b", Category: "personnel", Party: "east", Max: 10, From: dday},
		{ID: "standoff", Kind: StandOff, Line: line, LineID: "l", DistM: 200000, Category: "artillery", From: dday.AddDate(0, 0, 14)},
		{ID: "stay-home", Kind: Confine, Zone: "home", Category: "foreign", From: dday},
	}
	covers := func(rule, obs string) bool {
		return rule == obs || (rule == "heavy" && (obs == "tank" || obs == "artillery"))
	}
	c, err := New(zones, rules, Options{
		Categories: []string{"heavy", "tank", "artillery", "personnel", "foreign"},
		Covers:     covers,
		Parties:    []string{"east", "west"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheckRules(t *testing.T) {
	c := synthetic(t)
	at := func(days int) time.Time { return dday.AddDate(0, 0, days) }
	for _, tc := range []struct {
		name      string
		q         Query
		zones     string
		breaches  string
		distanceM float64 // of the first breach, when a stand-off
	}{
		{"outside everything, no category", Query{Point: geo.Point{Lon: 3, Lat: 3}, Time: at(1)}, "", "", 0},
		{"zones in declaration order", Query{Point: geo.Point{Lon: 1.7, Lat: 1.7}, Time: at(1)}, "a;b", "", 0},
		{"tank in a breaks the prohibition on heavy weapons", Query{Point: geo.Point{Lon: 1.2, Lat: 1.2}, Time: at(1), Category: "tank"}, "a", "no-tanks-a", 0},
		{"prohibition sunset is exclusive", Query{Point: geo.Point{Lon: 1.2, Lat: 1.2}, Time: at(30), Category: "tank"}, "a", "", 0},
		{"prohibition starts at D-day inclusive", Query{Point: geo.Point{Lon: 1.2, Lat: 1.2}, Time: dday, Category: "tank"}, "a", "no-tanks-a", 0},
		{"before D-day nothing is in force", Query{Point: geo.Point{Lon: 1.2, Lat: 1.2}, Time: at(-1), Category: "tank"}, "a", "", 0},
		{"ceiling exceeded by east", Query{Point: geo.Point{Lon: 1.7, Lat: 1.7}, Time: at(1), Category: "personnel", Party: "east", Count: 11}, "a;b", "east-ceiling-b", 0},
		{"ceiling reached, not exceeded", Query{Point: geo.Point{Lon: 1.7, Lat: 1.7}, Time: at(1), Category: "personnel", Party: "east", Count: 10}, "a;b", "", 0},
		{"ceiling is east's only", Query{Point: geo.Point{Lon: 1.7, Lat: 1.7}, Time: at(1), Category: "personnel", Party: "west", Count: 50}, "a;b", "", 0},
		{"unknown party gets every party's rules", Query{Point: geo.Point{Lon: 1.7, Lat: 1.7}, Time: at(1), Category: "personnel", Count: 50}, "a;b", "east-ceiling-b", 0},
		{"stand-off not yet in force at D+13", Query{Point: geo.Point{Lon: 1.2, Lat: 1.2}, Time: at(13), Category: "artillery"}, "a", "no-tanks-a", 0},
		{"stand-off in force at D+14, with distance", Query{Point: geo.Point{Lon: 1.2, Lat: 1.2}, Time: at(14), Category: "artillery"}, "a", "no-tanks-a;standoff", geo.DistanceMeters(geo.Point{Lon: 1.2, Lat: 1.2}, geo.Point{Lon: 0, Lat: 1.2})},
		{"beyond the stand-off distance", Query{Point: geo.Point{Lon: 1.9, Lat: 5}, Time: at(20), Category: "artillery"}, "", "", 0},
		{"confined force at home", Query{Point: geo.Point{Lon: 5.5, Lat: 5.5}, Time: at(1), Category: "foreign"}, "home", "", 0},
		{"confined force away", Query{Point: geo.Point{Lon: 3, Lat: 3}, Time: at(1), Category: "foreign"}, "", "stay-home", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r Result
			q := tc.q
			if q.Count == 0 {
				q.Count = 1
			}
			if err := c.Check(&q, &r); err != nil {
				t.Fatal(err)
			}
			var zs, bs []string
			for _, z := range r.Zones {
				zs = append(zs, c.Zones()[z].ID)
			}
			for _, b := range r.Breaches {
				bs = append(bs, c.Rules()[b.Rule].ID)
			}
			if got := strings.Join(zs, ";"); got != tc.zones {
				t.Errorf("zones = %q, want %q", got, tc.zones)
			}
			if got := strings.Join(bs, ";"); got != tc.breaches {
				t.Errorf("breaches = %q, want %q", got, tc.breaches)
			}
			if tc.distanceM > 0 {
				last := r.Breaches[len(r.Breaches)-1]
				if math.Abs(last.DistanceM-tc.distanceM) > 1e-6*tc.distanceM {
					t.Errorf("distance = %.3f m, want %.3f m", last.DistanceM, tc.distanceM)
				}
			}
		})
	}
}

func TestCheckRefusesUndeclared(t *testing.T) {
	c := synthetic(t)
	var r Result
	err := c.Check(&Query{Point: geo.Point{Lon: 1, Lat: 1}, Time: dday, Category: "submarine"}, &r)
	if err == nil || err.Error() != `unknown category "submarine": not declared in the agreement` {
		t.Errorf("err = %v", err)
	}
	err = c.Check(&Query{Point: geo.Point{Lon: 1, Lat: 1}, Time: dday, Category: "tank", Party: "north"}, &r)
	if err == nil || err.Error() != `unknown party "north": not declared in the agreement` {
		t.Errorf("err = %v", err)
	}
}

func TestNewRefusesUnknownZone(t *testing.T) {
	_, err := New(nil, []Rule{{ID: "r", Kind: Prohibit, Zone: "nowhere"}}, Options{})
	if err == nil || !strings.Contains(err.Error(), `rule "r": unknown zone "nowhere"`) {
		t.Errorf("err = %v", err)
	}
}

func loadExample(tb testing.TB) *Checker {
	tb.Helper()
	a, err := agreement.LoadFile("../examples/line-of-contact.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	c, err := FromAgreement(a, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// TestExampleStandOffDistances places artillery at known distances from the example's line of
// contact (offsets taken perpendicular to a segment) and checks the reported distance.
func TestExampleStandOffDistances(t *testing.T) {
	c := loadExample(t)
	a, _ := agreement.LoadFile("../examples/line-of-contact.yaml")
	loc, _ := a.Zone("loc")
	line := loc.Shape.Line
	after := dday.AddDate(0, 0, 20)
	for _, km := range []float64{1, 10, 30, 49} {
		i := 150
		mid := geo.Point{Lon: (line[i][0] + line[i+1][0]) / 2, Lat: (line[i][1] + line[i+1][1]) / 2}
		p := perpendicular(mid, geo.Point{Lon: line[i+1][0], Lat: line[i+1][1]}, km*1000)
		var r Result
		if err := c.Check(&Query{Point: p, Time: after, Category: "artillery-100mm", Count: 1}, &r); err != nil {
			t.Fatal(err)
		}
		var got float64 = -1
		for _, b := range r.Breaches {
			if c.Rules()[b.Rule].ID == "standoff-artillery-100mm" {
				got = b.DistanceM
			}
		}
		// The segment midpoint is the nearest point of the line only locally; allow 1 %.
		if got < 0 || math.Abs(got-km*1000) > 10*km {
			t.Errorf("%v km: distance %.0f m", km, got)
		}
	}
}

// perpendicular returns the point d metres to the left of the great circle from a towards b.
func perpendicular(a, b geo.Point, d float64) geo.Point {
	const rad = math.Pi / 180
	p1, l1 := a.Lat*rad, a.Lon*rad
	dl := (b.Lon - a.Lon) * rad
	brg := math.Atan2(math.Sin(dl)*math.Cos(b.Lat*rad), math.Cos(p1)*math.Sin(b.Lat*rad)-math.Sin(p1)*math.Cos(b.Lat*rad)*math.Cos(dl)) - math.Pi/2
	dd := d / geo.EarthRadius
	p2 := math.Asin(math.Sin(p1)*math.Cos(dd) + math.Cos(p1)*math.Sin(dd)*math.Cos(brg))
	l2 := l1 + math.Atan2(math.Sin(brg)*math.Sin(dd)*math.Cos(p1), math.Cos(dd)-math.Sin(p1)*math.Sin(p2))
	return geo.Point{Lon: l2 / rad, Lat: p2 / rad}
}
