package zonecheck

import (
	"math/rand/v2"
	"testing"

	"github.com/truce-mission/truce/geo"
)

// benchPoints returns n deterministic positions uniform in the example agreement's extent
// (lon 27..45, lat 40.5..53: the line of contact, the rear area and the Black Sea corridor).
func benchPoints(n int) []geo.Point {
	rng := rand.New(rand.NewPCG(1, 2))
	pts := make([]geo.Point, n)
	for i := range pts {
		pts[i] = geo.Point{Lon: 27 + 18*rng.Float64(), Lat: 40.5 + 12.5*rng.Float64()}
	}
	return pts
}

// nearLinePoints returns positions inside the 140 km stand-off band of the example's line, so
// every one of them breaks a stand-off rule and needs an exact distance.
func nearLinePoints(tb testing.TB, c *Checker, n int) []geo.Point {
	rng := rand.New(rand.NewPCG(3, 4))
	var line []geo.Point
	for _, r := range c.Rules() {
		if r.Kind == StandOff {
			line = r.Line
			break
		}
	}
	pts := make([]geo.Point, 0, n)
	for len(pts) < n {
		k := rng.IntN(len(line) - 1)
		p := geo.Point{Lon: line[k].Lon + 3*(rng.Float64()-0.5), Lat: line[k].Lat + 2*(rng.Float64()-0.5)}
		if d := geo.DistanceMeters(p, line[k]); d < 130000 {
			pts = append(pts, p)
		}
	}
	return pts
}

func benchCheck(b *testing.B, c *Checker, pts []geo.Point, q Query) {
	var r Result
	n := 0
	for b.Loop() {
		q.Point = pts[n&(len(pts)-1)]
		if err := c.Check(&q, &r); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
}

// BenchmarkCheck measures whole checks on the example agreement: containment only (no
// category), containment with the rules of a category, and stand-off checks that each compute
// an exact distance to the 1,000 km line.
func BenchmarkCheck(b *testing.B) {
	c := loadExample(b)
	after := dday.AddDate(0, 0, 40)
	uniform := benchPoints(1 << 16)
	b.Run("containment", func(b *testing.B) {
		benchCheck(b, c, uniform, Query{Time: after, Count: 1})
	})
	b.Run("containment+rules", func(b *testing.B) {
		benchCheck(b, c, uniform, Query{Time: after, Category: "tank", Party: "east", Count: 1})
	})
	b.Run("stand-off", func(b *testing.B) {
		benchCheck(b, c, nearLinePoints(b, c, 1<<16), Query{Time: after, Category: "heavy-mlrs", Count: 1})
	})
}
