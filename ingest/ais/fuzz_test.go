package ais

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/truce-mission/truce/ingest"
)

var realFiles = []string{
	"ais/gpsd/ais-nmea.log",
	"ais/gpsd/ais-18-27.log",
	"ais/gpsd/ais-raw-messages.log",
	"ais/gpsd/ais-nmea-type6-fid55.log",
	"ais/gpsd/sample.aivdm",
	"ais/go-ais/aistest.nmea",
}

// FuzzParse feeds Parse arbitrary bytes, seeded with runs of lines from the real files: it must
// not panic, every refusal must name the source and a line of the input and wrap one of the
// sentinels, and every observation must be well formed.
func FuzzParse(f *testing.F) {
	for _, name := range realFiles {
		ls := strings.SplitAfter(string(readData(f, name)), "\n")
		for i := 0; i < len(ls); i += 40 {
			f.Add([]byte(strings.Join(ls[i:min(i+6, len(ls))], "")))
		}
	}
	f.Add([]byte(tagBlock("c:1577836800,s:x") + "!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C\n" +
		"1550303566167726840 !AIVDM,2,2,1,A,88888888880,2*25,r08TPHI1,1242958962\n"))
	sentinels := []error{ErrSyntax, ErrChecksum, ErrFragment, ErrDecode, ErrNoPosition, ErrRange}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	f.Fuzz(func(t *testing.T, data []byte) {
		opts := ingest.Options{Name: "fuzz", Now: func() time.Time { return now }, MilitaryMMSI: map[uint32]bool{1: true}}
		d := NewDecoder(opts)
		c := &collector{}
		if err := d.Decode(bytes.NewReader(data), c); err != nil {
			t.Fatalf("Decode of in-memory bytes: %v", err)
		}
		nLines := bytes.Count(data, []byte("\n"))
		if len(data) > 0 && data[len(data)-1] != '\n' {
			nLines++
		}
		st := d.Stats()
		if st.Lines != nLines || st.Observations != len(c.obs) || st.Rejected != len(c.rejs) {
			t.Fatalf("stats %+v for %d lines, %d observations, %d refusals", st, nLines, len(c.obs), len(c.rejs))
		}
		for _, r := range c.rejs {
			if r.Line < 1 || r.Line > nLines || r.Source != "fuzz" || r.Err == nil {
				t.Fatalf("refusal without a line of the input (%d lines): %#v", nLines, r)
			}
			known := false
			for _, s := range sentinels {
				known = known || errors.Is(r, s)
			}
			if !known {
				t.Fatalf("refusal %v wraps no sentinel", r)
			}
		}
		for _, o := range c.obs {
			p := o.Position
			if !strings.HasPrefix(o.ID, "ais:") || o.Source != ingest.SourceAIS || o.Track == nil || o.Observed.IsZero() ||
				p.Lat < -90 || p.Lat > 90 || p.Lon < -180 || p.Lon > 180 {
				t.Fatalf("bad observation %+v", o)
			}
			if l := idLine(t, o.ID); l < 1 || l > nLines {
				t.Fatalf("observation %s outside the input's %d lines", o.ID, nLines)
			}
			if o.Category != "" && o.Military != (o.Category == CategoryNaval) {
				t.Fatalf("military %v with category %q", o.Military, o.Category)
			}
		}
	})
}

// BenchmarkParse decodes aistest.nmea repeated to ~100,000 sentences.
func BenchmarkParse(b *testing.B) {
	one := readData(b, "ais/go-ais/aistest.nmea")
	n := bytes.Count(one, []byte("\n"))
	reps := (100000 + n - 1) / n
	data := bytes.Repeat(one, reps)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	sentences := 0
	for b.Loop() {
		d := NewDecoder(ingest.Options{Name: "bench"})
		if err := d.Decode(bytes.NewReader(data), discard{}); err != nil {
			b.Fatal(err)
		}
		sentences += d.Stats().Sentences
	}
	b.ReportMetric(float64(sentences)/b.Elapsed().Seconds(), "sentences/s")
}

type discard struct{}

func (discard) Observe(ingest.Observation) {}
func (discard) Reject(*ingest.RecordError) {}
