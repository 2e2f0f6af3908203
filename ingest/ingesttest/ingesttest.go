// Package ingesttest holds what the feed adapters' tests share: sinks that keep or count what
// an adapter produced, and the path of the project's reference data.
package ingesttest

import (
	"testing"

	"github.com/truce-mission/truce/ingest"
	"github.com/truce-mission/truce/internal/refdata"
)

// Collector is an ingest.Sink that keeps everything it receives, in order per kind.
type Collector struct {
	Obs []ingest.Observation
	Rej []*ingest.RecordError
}

// Observe keeps o.
func (c *Collector) Observe(o ingest.Observation) { c.Obs = append(c.Obs, o) }

// Reject keeps e.
func (c *Collector) Reject(e *ingest.RecordError) { c.Rej = append(c.Rej, e) }

// Rejected returns the messages of the refused records.
func (c *Collector) Rejected() (msgs []string) {
	for _, e := range c.Rej {
		msgs = append(msgs, e.Error())
	}
	return msgs
}

// Counter is an ingest.Sink that only counts, for benchmarks and large files.
type Counter struct{ Obs, Rej int }

// Observe counts an observation.
func (c *Counter) Observe(ingest.Observation) { c.Obs++ }

// Reject counts a refused record.
func (c *Counter) Reject(*ingest.RecordError) { c.Rej++ }

// SharedData returns the path of rel (e.g. "cap/CAP-v1.2.xsd") in the workspace's reference
// data (see package refdata), failing the test when it is missing.
func SharedData(t testing.TB, rel string) string {
	t.Helper()
	return refdata.Path(t, rel)
}
