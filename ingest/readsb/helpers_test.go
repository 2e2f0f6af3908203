package readsb_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/truce-mission/truce/ingest"
)

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

// sharedData returns the path of a file under ../shared/data (relative to the module root),
// failing the test when it is missing.
func sharedData(t testing.TB, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("module root (go.mod) not found above the test directory")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "data", rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("reference data missing: %s (see ../shared/data/README.md): %v", p, err)
	}
	return p
}

// counter counts what it receives.
type counter struct{ obs, rej int }

func (c *counter) Observe(ingest.Observation) { c.obs++ }
func (c *counter) Reject(*ingest.RecordError) { c.rej++ }
