package engine_test

import (
	"testing"

	"github.com/truce-mission/truce/engine"
	"github.com/truce-mission/truce/engine/enginetest"
	"github.com/truce-mission/truce/ledger"
)

// benchEntries is the size of the stream BenchmarkApply replays: enough for incidents,
// notifications and the fusion index to reach a steady state (about 5 days of a busy log).
const benchEntries = 50_000

// BenchmarkApply applies a generated stream (enginetest: observations of every kind of
// source in and around the example agreement's zones, AIS tracks, counter-evidence,
// notifications, reviews, ticks) to a fresh engine over the example agreement, and reports
// entries/s. Each iteration replays the whole stream; decoding leaves is not included.
func BenchmarkApply(b *testing.B) {
	a := enginetest.Agreement(b, "../examples/line-of-contact.yaml")
	items := enginetest.Items(enginetest.Config{Seed: 1, N: benchEntries, DDay: a.DDay})
	ks, err := enginetest.LoadKeys("../examples/keys")
	if err != nil {
		b.Fatal(err)
	}
	signed, err := enginetest.Sign(items, ks)
	if err != nil {
		b.Fatal(err)
	}
	entries, err := enginetest.Received(items, signed)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		b.StopTimer() // building the zone index is not applying entries
		e, err := engine.New(a)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		applyAll(b, e, entries)
		n += len(entries)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "entries/s")
}

func applyAll(tb testing.TB, e *engine.Engine, entries []*ledger.Entry) {
	tb.Helper()
	for _, en := range entries {
		if _, err := e.Apply(e.Size(), en); err != nil {
			tb.Fatal(err)
		}
	}
}
