package examples_test

import (
	"os"
	"os/exec"
	"slices"
	"testing"

	agr "github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/ingest"
	"github.com/truce-mission/truce/ingest/feeds"
	"github.com/truce-mission/truce/ingest/ingesttest"
	"github.com/truce-mission/truce/obsindex"
)

// The demo's AIS feed: every line decodes; the Eastern naval ship, on the agreement's list, is
// military and Eastern, inside the Black Sea corridor; the merchant ship is neither.
func TestCorridorFeed(t *testing.T) {
	a, err := agr.LoadFile("line-of-contact.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("corridor.nmea")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	opts := ingest.Options{Name: "corridor.nmea"}.WithAgreement(a)
	var c ingesttest.Collector
	if err := feeds.Parse("ais", f, opts, &c); err != nil || len(c.Rej) > 0 {
		t.Fatalf("%v; refused %q", err, c.Rejected())
	}
	tagger, err := obsindex.NewTagger(a)
	if err != nil {
		t.Fatal(err)
	}
	naval, merchant := 0, 0
	for _, o := range c.Obs {
		switch o.Track.MMSI {
		case 273310150:
			naval++
			if !o.Military || o.ClaimedParty != "east" || o.Category != "naval-vessel" {
				t.Errorf("%s: military %v, party %q, category %q", o.ID, o.Military, o.ClaimedParty, o.Category)
			}
		default:
			merchant++
			if o.Military || o.ClaimedParty != "" {
				t.Errorf("%s: military %v, party %q", o.ID, o.Military, o.ClaimedParty)
			}
		}
		zones, rules := tagger.Tag(&o)
		if !slices.Contains(zones, "black-sea-corridor") {
			t.Errorf("%s at %v,%v: zones %v, not in the corridor", o.ID, o.Position.Lon, o.Position.Lat, zones)
		}
		if want := o.Military; slices.Contains(rules, "corridor-naval-east") != want {
			t.Errorf("%s: rules %v", o.ID, rules)
		}
	}
	if naval != 10 || merchant != 6 {
		t.Errorf("%d naval and %d merchant reports, want 10 and 6", naval, merchant)
	}
}

// corridor.nmea is what its generator writes.
func TestCorridorFeedGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go run")
	}
	out, err := exec.Command("go", "run", "./aisgen").Output()
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("corridor.nmea")
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != string(want) {
		t.Error("corridor.nmea differs from what go run ./examples/aisgen writes: regenerate it")
	}
}
