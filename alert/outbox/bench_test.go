package outbox_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/truce-mission/truce/alert/outbox"
	"github.com/truce-mission/truce/ledger"
)

// BenchmarkApply applies 5,000 observations that each open an incident of their own (spread
// over positions along the line, categories, parties and observed times), as truce bench
// alerts sends them: the engine, the alert and its JSON rendering per observation.
func BenchmarkApply(b *testing.B) {
	w := newWorld(&testing.T{})
	line := [][2]float64{dmzA, dmzB, {39.71855, 47.52078}, {41.97499, 49.61889}}
	cats := []string{"tank", "armoured-vehicle", "mlrs", "air-defence"}
	parties := []string{"east", "west"}
	const n = 5000
	leaves := make([][]byte, n)
	for i := range leaves {
		j := i
		p := line[j%len(line)]
		j /= len(line)
		cat := cats[j%len(cats)]
		j /= len(cats)
		party := parties[j%len(parties)]
		j /= len(parties)
		observed := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC).Add(time.Duration(j) * 130 * time.Minute)
		payload := fmt.Sprintf(`{"assessed_party":%q,"category":%q,"count":1,"credibility":2,"id":"b%d","observed":%q,"position":{"lat":%v,"lon":%v},"reliability":"B","source":"ground-monitor"}`,
			party, cat, i, observed.Format(time.RFC3339), p[1], p[0])
		leaves[i] = w.entry(ledger.KindObservation, "monitor-1", payload)
	}
	b.ResetTimer()
	for b.Loop() {
		ob, err := outbox.New(w.a, outbox.Options{})
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < n; i += 50 {
			if err := ob.Apply(int64(i), leaves[i:i+50]); err != nil {
				b.Fatal(err)
			}
		}
		if got := ob.Last(); got != n {
			b.Fatalf("%d alerts, want %d", got, n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
}
