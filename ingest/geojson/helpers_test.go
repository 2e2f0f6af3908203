package geojson_test

import "github.com/truce-mission/truce/ingest"

// collector is a Sink that keeps everything.
type collector struct {
	obs []ingest.Observation
	rej []*ingest.RecordError
}

func (c *collector) Observe(o ingest.Observation) { c.obs = append(c.obs, o) }
func (c *collector) Reject(e *ingest.RecordError) { c.rej = append(c.rej, e) }
func (c *collector) rejected() (msgs []string) {
	for _, e := range c.rej {
		msgs = append(msgs, e.Error())
	}
	return msgs
}
