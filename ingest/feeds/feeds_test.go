package feeds_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/ingest"
	"github.com/truce-mission/truce/ingest/feeds"
	"github.com/truce-mission/truce/ingest/ingesttest"
)

func TestParse(t *testing.T) {
	opts := ingest.Options{Name: "in", Now: func() time.Time { return time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC) }}
	capAlert, err := os.ReadFile(ingesttest.SharedData(t, "cap/google-cap-library/validator-examples/thunderstorm.cap"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ format, in string }{
		{"ais", "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\n"},
		{"sbs", "MSG,3,1,1,4CA2D6,1,2024/03/01,12:00:00.000,2024/03/01,12:00:00.050,,35000,,,51.47,-0.46,,,0,0,0,0\n"},
		{"readsb", `{"now":1709294400,"aircraft":[{"hex":"4ca2d6","lat":51.47,"lon":-0.46,"alt_baro":35000}]}`},
		{"geojson", `{"type":"Feature","geometry":{"type":"Point","coordinates":[36.4,47]},"properties":{"id":"a","observed":"2026-12-05T08:00:00Z"}}`},
		{"csv", "id,observed,lon,lat\na,2026-12-05T08:00:00Z,36.4,47\n"},
		{"CAP", string(capAlert)}, // format names are case-insensitive
	} {
		t.Run(tc.format, func(t *testing.T) {
			var c ingesttest.Collector
			if err := feeds.Parse(tc.format, strings.NewReader(tc.in), opts, &c); err != nil {
				t.Fatal(err)
			}
			if len(c.Obs) != 1 || len(c.Rej) != 0 {
				t.Errorf("%d observations, rejections %q", len(c.Obs), c.Rejected())
			}
		})
	}
}

func TestUnknownFormat(t *testing.T) {
	var c ingesttest.Collector
	err := feeds.Parse("kml", strings.NewReader(""), ingest.Options{}, &c)
	if !errors.Is(err, feeds.ErrUnknownFormat) {
		t.Fatalf("err = %v", err)
	}
	if want := `unknown format "kml"; known formats: ais, cap, csv, geojson, readsb, sbs`; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	if got := strings.Join(feeds.Formats(), ","); got != "ais,cap,csv,geojson,readsb,sbs" {
		t.Errorf("Formats() = %s", got)
	}
}

// A ship or aircraft on a party's list of military transponders is military and claimed by
// that party; others are left as they are.
func TestMilitaryTransponders(t *testing.T) {
	const aisLine = "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\n"
	const sbsLine = "MSG,3,1,1,4CA2D6,1,2024/03/01,12:00:00.000,2024/03/01,12:00:00.050,,35000,,,51.47,-0.46,,,0,0,0,0\n"
	now := func() time.Time { return time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC) }
	parse := func(format, in string, opts ingest.Options) ingest.Observation {
		t.Helper()
		var c ingesttest.Collector
		opts.Now = now
		if err := feeds.Parse(format, strings.NewReader(in), opts, &c); err != nil || len(c.Obs) != 1 {
			t.Fatalf("%s: %v, %d observations, rejections %q", format, err, len(c.Obs), c.Rejected())
		}
		return c.Obs[0]
	}
	ship := parse("ais", aisLine, ingest.Options{})
	if ship.Military || ship.ClaimedParty != "" || ship.Track == nil {
		t.Fatalf("unlisted ship: %+v", ship)
	}
	a, err := agreement.Load("t.yaml", fmt.Appendf(nil, `truce: 1
id: t
d_day: 2026-12-01T00:00:00Z
parties:
  - {id: east, kind: party, transponders: {mmsi: ["%09d"]}}
  - {id: west, kind: party, transponders: {icao: ["4CA000-4CAFFF"]}}
`, ship.Track.MMSI), nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := ingest.Options{}.WithAgreement(a)
	if o := parse("ais", aisLine, opts); !o.Military || o.ClaimedParty != "east" {
		t.Errorf("listed ship: military %v, claimed party %q; want true, east", o.Military, o.ClaimedParty)
	}
	if o := parse("sbs", sbsLine, opts); !o.Military || o.ClaimedParty != "west" {
		t.Errorf("listed aircraft: military %v, claimed party %q; want true, west", o.Military, o.ClaimedParty)
	}
}
