package engine_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/truce-mission/truce/engine"
	"github.com/truce-mission/truce/engine/enginetest"
	"github.com/truce-mission/truce/ledger"
)

// BenchmarkApply applies a generated stream (enginetest: observations of every kind of
// source in and around the example agreement's zones, AIS tracks, counter-evidence,
// notifications, reviews, ticks and a few malformed entries) to a fresh engine over the
// example agreement, at the rate of a busy log (enginetest.DefaultRate entries a day), and
// reports entries/s. Each iteration replays the whole stream; building the engine (its zone
// index) and parsing leaves are not counted. Two sizes (one and five days of log) show
// whether the cost per entry grows with the log.
func BenchmarkApply(b *testing.B) {
	a := enginetest.Agreement(b, "../examples/line-of-contact.yaml")
	ks, err := enginetest.LoadKeys("../examples/keys")
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{10_000, 50_000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			// A busy log: DefaultRate entries a day, from D+20 (every phase's rules in force).
			items := enginetest.Items(enginetest.Config{Seed: 1, N: n, DDay: a.DDay,
				Start: a.DDay.Add(20 * 24 * time.Hour), Span: time.Duration(n) * 24 * time.Hour / enginetest.DefaultRate})
			signed, err := enginetest.Sign(items, ks)
			if err != nil {
				b.Fatal(err)
			}
			entries, err := enginetest.Received(items, signed)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			applied := 0
			for b.Loop() {
				b.StopTimer()
				e, err := engine.New(a)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				applyAll(b, e, entries)
				applied += len(entries)
			}
			b.ReportMetric(float64(applied)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

func applyAll(tb testing.TB, e *engine.Engine, entries []*ledger.Entry) {
	tb.Helper()
	for _, en := range entries {
		if _, err := e.Apply(e.Size(), en); err != nil {
			tb.Fatal(err)
		}
	}
}
