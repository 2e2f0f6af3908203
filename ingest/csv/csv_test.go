package csv_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/truce-mission/truce/ingest"
	"github.com/truce-mission/truce/ingest/csv"
	"github.com/truce-mission/truce/ingest/ingesttest"
)

const digest = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

const header = "id,observed,lon,lat,alt_m,category,count,claimed_party,assessed_party,source,reliability,credibility,text,attachments\n"

func summary(o ingest.Observation) string {
	alt := "-"
	if o.Position.AltM != nil {
		alt = fmt.Sprint(*o.Position.AltM)
	}
	return fmt.Sprintf("%s %s %v,%v alt=%s %s n=%d %s/%s %s %s%d %q att=%d",
		o.ID, o.Observed.Format(time.RFC3339), o.Position.Lon, o.Position.Lat, alt, o.Category, o.Count,
		o.ClaimedParty, o.AssessedParty, o.Source, o.Reliability, o.Credibility, o.Text, len(o.Attachments))
}

func parse(t testing.TB, in string) *ingesttest.Collector {
	t.Helper()
	var c ingesttest.Collector
	if err := csv.Parse(strings.NewReader(in), ingest.Options{Name: "feed.csv"}, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

func TestParse(t *testing.T) {
	in := header +
		"mt4-0001,2026-12-05T10:00:00+02:00,36.40572,47.01571,,tank,3,east,east,ground-monitor,B,2,three tanks moving west," + digest + "\n" +
		`mt4-0002,2026-12-05T08:30:00Z,37.26277,46.90036,120.5,,,,,uav,,,"quoted, with a comma` + "\nand a newline\"," + digest + " " + digest + "\n" +
		"\n" + // blank lines are skipped by encoding/csv
		"mt4-0003 , 2026-12-05T08:31:00.5Z , 37.3 , 46.9 ,,,0,,,,,,,\n"
	c := parse(t, in)
	if len(c.Rej) > 0 {
		t.Fatalf("rejections %q", c.Rejected())
	}
	var got []string
	for _, o := range c.Obs {
		got = append(got, summary(o))
	}
	want := []string{
		`mt4-0001 2026-12-05T08:00:00Z 36.40572,47.01571 alt=- tank n=3 east/east ground-monitor B2 "three tanks moving west" att=1`,
		`mt4-0002 2026-12-05T08:30:00Z 37.26277,46.90036 alt=120.5  n=0 / uav 0 "quoted, with a comma\nand a newline" att=2`,
		`mt4-0003 2026-12-05T08:31:00Z 37.3,46.9 alt=-  n=0 / unknown 0 "" att=0`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestMinimalHeader(t *testing.T) {
	c := parse(t, "\ufeffLat, LON ,Observed,ID\n47,36,2026-12-05T08:00:00Z,a\n")
	if len(c.Obs) != 1 || c.Obs[0].Position.Lat != 47 || c.Obs[0].Position.Lon != 36 || len(c.Rej) != 0 {
		t.Errorf("got %v, rejections %q", c.Obs, c.Rejected())
	}
}

func TestReject(t *testing.T) {
	// row gives a data row with one cell replaced: the row is line 3, after a good line 2.
	row := func(column, value string) string {
		cells := map[string]string{"id": "x", "observed": "2026-12-05T08:00:00Z", "lon": "36.4", "lat": "47.0"}
		cells[column] = value
		var out []string
		for _, h := range strings.Split(strings.TrimSpace(header), ",") {
			out = append(out, cells[h])
		}
		return header + "ok,2026-12-05T08:00:00Z,36.4,47.0,,,,,,,,,,\n" + strings.Join(out, ",") + "\n"
	}
	tests := []struct {
		name, in, want string
	}{
		// Validation, one case per rule.
		{"empty id", row("id", ""), `feed.csv:3: column "id": empty id`},
		{"empty observed", row("observed", ""), `feed.csv:3: column "observed": empty time; want RFC 3339 such as 2026-12-05T08:00:00Z`},
		{"observed not RFC 3339", row("observed", "05/12/2026 08:00"), `feed.csv:3: column "observed": "05/12/2026 08:00" is not an RFC 3339 time such as 2026-12-05T08:00:00Z`},
		{"empty lat", row("lat", ""), `feed.csv:3: column "lat": empty coordinate`},
		{"lat not a number", row("lat", "47°N"), `feed.csv:3: column "lat": "47°N" is not a number of degrees`},
		{"lon NaN", row("lon", "NaN"), `feed.csv:3: column "lon": "NaN" is not a number of degrees`},
		{"lat out of range", row("lat", "-191"), `feed.csv:3: column "lat": latitude -191 out of range [-90, 90]`},
		{"lat and lon swapped", row("lat", "120"), `feed.csv:3: column "lat": latitude 120 out of range [-90, 90]; hint: lat and lon swapped?`},
		{"lon out of range", row("lon", "181"), `feed.csv:3: column "lon": longitude 181 out of range [-180, 180]`},
		{"alt_m not a number", row("alt_m", "high"), `feed.csv:3: column "alt_m": "high" is not a number of metres`},
		{"count not whole", row("count", "2.5"), `feed.csv:3: column "count": "2.5" is not a whole number`},
		{"count negative", row("count", "-1"), `feed.csv:3: column "count": count -1 is negative`},
		{"reliability", row("reliability", "G"), `feed.csv:3: column "reliability": reliability "G" is not one of A–F`},
		{"reliability two letters", row("reliability", "AB"), `feed.csv:3: column "reliability": reliability "AB" is not one of A–F`},
		{"credibility out of range", row("credibility", "0x2"), `feed.csv:3: column "credibility": "0x2" is not one of 1–6`},
		{"credibility 7", row("credibility", "7"), `feed.csv:3: column "credibility": credibility 7 is not one of 1–6`},
		{"credibility negative", row("credibility", "-1"), `feed.csv:3: column "credibility": credibility -1 is not one of 1–6`},
		{"source unknown", row("source", "rumour"), `feed.csv:3: column "source": unknown source kind "rumour"; known: unknown, ground-monitor, uav, satellite, osint, ais, ads-b, party-report, partner-alert`},
		{"attachment not a digest", row("attachments", digest+" photo.jpg"), `feed.csv:3: column "attachments": attachment "photo.jpg" is not sha256: and 64 lower-case hex digits`},
		{"attachment upper case", row("attachments", strings.ToUpper(digest)), `feed.csv:3: column "attachments": attachment "SHA256:9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08" is not sha256: and 64 lower-case hex digits`},
		{"attachment 63 digits", row("attachments", digest[:len(digest)-1]), `feed.csv:3: column "attachments": attachment "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0" is not sha256: and 64 lower-case hex digits`},
		// Rows.
		{"duplicate id", row("id", "ok"), `feed.csv:3: column "id": id "ok" already used on line 2`},
		{"too few fields", header + "ok,2026-12-05T08:00:00Z,36.4,47.0,,,,,,,,,,\nx,2026-12-05T08:00:00Z,36.4\n", "feed.csv:3: row has 3 fields, the header 14"},
		{"bare quote", header + "ok,2026-12-05T08:00:00Z,36.4,47.0,,,,,,,,,,\nx,2026-12-05T08:00:00Z,36.4,47.0,,,,,,,,,a \"b\" c,\n", `feed.csv:3: bare " in non-quoted-field (byte 44 of the line)`},
		// Headers refuse the whole input.
		{"empty input", "", "feed.csv:1: bad header: empty input; want a header row naming the columns, at least id,observed,lon,lat"},
		{"unknown column", "id,observed,lon,lat,party\n", `feed.csv:1: column "party": bad header: unknown column; known columns: id,observed,lon,lat,alt_m,category,count,claimed_party,assessed_party,source,reliability,credibility,text,attachments`},
		{"column twice", "id,observed,lon,lat,LAT\n", `feed.csv:1: column "lat": bad header: column named twice`},
		{"required column missing", "id,lon,lat\nx,1,2\n", `feed.csv:1: column "observed": bad header: required column missing; the header must name at least id,observed,lon,lat`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := parse(t, tc.in)
			if got := strings.Join(c.Rejected(), "\n"); got != tc.want {
				t.Errorf("rejections\n%s\nwant\n%s", got, tc.want)
			}
			if strings.Contains(tc.in, "\nok,") && (len(c.Obs) != 1 || c.Obs[0].ID != "ok") {
				t.Errorf("the good row was not read: %d observations", len(c.Obs))
			}
		})
	}
}

func TestSentinels(t *testing.T) {
	for in, want := range map[string]error{
		"id,lat\n": csv.ErrHeader,
		header + "x,2026-12-05T08:00:00Z,1,2,,,-1,,,,,,,\n": ingest.ErrInvalid,
	} {
		c := parse(t, in)
		if len(c.Rej) != 1 || !errors.Is(c.Rej[0], want) {
			t.Errorf("%.30q: rejections %q, want %v", in, c.Rejected(), want)
		}
	}
}

func TestReadError(t *testing.T) {
	boom := errors.New("broken pipe")
	var c ingesttest.Collector
	err := csv.Parse(io.MultiReader(strings.NewReader(header+"a,2026-12-05T08:00:00Z,1,2,,,,,,,,,,\n"), &failing{boom}), ingest.Options{Name: "x"}, &c)
	if !errors.Is(err, boom) || len(c.Obs) != 1 {
		t.Errorf("err = %v, %d observations", err, len(c.Obs))
	}
}

type failing struct{ err error }

func (f *failing) Read([]byte) (int, error) { return 0, f.err }

func FuzzParse(f *testing.F) {
	f.Add([]byte(header + "mt4-0001,2026-12-05T10:00:00+02:00,36.40572,47.01571,,tank,3,east,east,ground-monitor,B,2,three tanks," + digest + "\n"))
	f.Add([]byte("id,observed,lon,lat\n\"a\"\"b\",2026-12-05T08:00:00Z,36,47\nb,2026-12-05T08:00:00Z,36\n"))
	f.Add([]byte("lat,lon,id,observed,count,credibility,reliability\n47,36,a,2026-12-05T08:00:00Z,1,2,A\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var c ingesttest.Collector
		if err := csv.Parse(bytes.NewReader(in), ingest.Options{Name: "f.csv"}, &c); err != nil {
			t.Fatalf("error from a bytes.Reader: %v", err)
		}
		ids := map[string]bool{}
		for _, o := range c.Obs {
			if e := ingest.Validate(&o); e != nil {
				t.Fatalf("emitted an invalid observation: %v", e)
			}
			if ids[o.ID] {
				t.Fatalf("duplicate id %q emitted", o.ID)
			}
			ids[o.ID] = true
		}
		lines := bytes.Count(in, []byte("\n")) + 1
		for _, e := range c.Rej {
			if e.Source != "f.csv" || e.Err == nil || e.Line < 1 || e.Line > lines {
				t.Fatalf("bad rejection %#v", e)
			}
		}
	})
}
