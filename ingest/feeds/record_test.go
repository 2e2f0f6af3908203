package feeds

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/truce-mission/truce/ingest"
)

func TestDecodeRecord(t *testing.T) {
	for _, c := range []struct {
		raw, field, id string
	}{
		{`{"id":"a","observed":"2026-12-05T08:00:00Z","position":{"lon":36,"lat":47},"source":"uav"}`, "", "a"},
		{`{"type":"Feature","id":"f","geometry":{"type":"Point","coordinates":[36,47]},"properties":{"observed":"2026-12-05T08:00:00Z","source":"uav"}}`, "", "f"},
		{`{"id":"a","observed":"2026-12-05T08:00:00Z","position":{"lon":36,"lat":97},"source":"uav"}`, "position.lat", ""},
		{`{"id":"a","observed":"2026-12-05T08:00:00Z","position":{"lon":36,"lat":47},"source":"uav","colour":"red"}`, "", ""},
		{`{"id":"a","observed":"2026-12-05T08:00:00Z","position":{"lon":"east","lat":47},"source":"uav"}`, "position.lon", ""},
		{`{"type":"Feature","id":"g","geometry":{"type":"Point","coordinates":[36,47]},"properties":{"observed":"2026-12-05T08:00:00Z","source":"uav","count":-2}}`, "properties.count", ""},
		{`[1,2]`, "", ""},
	} {
		o, err := DecodeRecord([]byte(c.raw))
		if c.id != "" {
			if err != nil || o.ID != c.id {
				t.Errorf("%s: %v %+v", c.raw, err, o)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: accepted", c.raw)
			continue
		}
		if c.field != "" && err.Field != c.field {
			t.Errorf("%s: field %q, want %q (%v)", c.raw, err.Field, c.field, err)
		}
	}
}

// FuzzDecodeRecord: any bytes give an observation that validates, or an error; never a panic.
func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte(`{"id":"a","observed":"2026-12-05T08:00:00Z","position":{"lon":36,"lat":47,"alt_m":3},"track":{"icao":"ABCDEF"},"source":"ads-b"}`))
	f.Add([]byte(`{"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[36,47,100]},"properties":{"observed":"2026-12-05T08:00:00Z","source":"uav","category":"tank","count":3}}`))
	f.Add([]byte(`{"type":"FeatureCollection","features":[]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		o, err := DecodeRecord(raw)
		// The one-pass path must agree with the two-pass one it shortcuts.
		so, serr := decodeRecordSlowly(raw)
		if (err == nil) != (serr == nil) || err == nil && !reflect.DeepEqual(o, so) ||
			err != nil && (err.Field != serr.Field || err.Error() != serr.Error()) {
			t.Fatalf("one pass: %+v, %v; two passes: %+v, %v", o, err, so, serr)
		}
		if err == nil {
			if verr := ingest.Validate(&o); verr != nil {
				t.Fatalf("accepted an invalid observation: %v", verr)
			}
		} else if strings.TrimSpace(err.Error()) == "" {
			t.Fatal("empty error")
		}
	})
}

func BenchmarkDecodeRecord(b *testing.B) {
	raw := []byte(`{"assessed_party":"east","category":"tank","count":3,"credibility":2,"id":"bench-000123","observed":"2026-12-10T08:15:00Z","position":{"lat":47.01571,"lon":36.40572},"reliability":"B","source":"ground-monitor","text":"three tanks moving west along the road"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeRecord(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzDecodeRecords splits its input into records at each 0x1e byte and requires
// DecodeRecords to give what DecodeRecord gives record by record: records that run into the
// next one, trailing bytes, Features and refused records included.
func FuzzDecodeRecords(f *testing.F) {
	obs := `{"id":"a","observed":"2026-12-05T08:00:00Z","position":{"lon":36,"lat":47,"alt_m":3},"track":{"icao":"ABCDEF"},"source":"ads-b"}`
	feature := `{"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[36,47,100]},"properties":{"observed":"2026-12-05T08:00:00Z","source":"uav","category":"tank","count":3}}`
	for _, s := range []string{
		obs + "\x1e" + obs,
		obs + "\x1e" + feature + "\x1e" + obs,
		obs + "\x1e" + `{"id":"b","extra":1}` + "\x1e" + obs,
		`{"id":"c"` + "\x1e" + obs + "\x1e" + obs,
		obs + " \x1e\x1e" + obs + `{}` + "\x1e" + obs,
		`123` + "\x1e" + obs,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		raws := bytes.Split(in, []byte{0x1e})
		obs := make([]ingest.Observation, len(raws))
		errs := make([]*ingest.RecordError, len(raws))
		DecodeRecords(raws, obs, errs)
		for i, raw := range raws {
			o, err := DecodeRecord(raw)
			if (err == nil) != (errs[i] == nil) || err == nil && !reflect.DeepEqual(o, obs[i]) ||
				err != nil && (err.Field != errs[i].Field || err.Error() != errs[i].Error()) {
				t.Fatalf("record %d, %q: DecodeRecords %+v, %v; DecodeRecord %+v, %v", i, raw, obs[i], errs[i], o, err)
			}
		}
	})
}

func BenchmarkDecodeRecords(b *testing.B) {
	raw := []byte(`{"assessed_party":"east","category":"tank","count":3,"credibility":2,"id":"bench-000123","observed":"2026-12-10T08:15:00Z","position":{"lat":47.01571,"lon":36.40572},"reliability":"B","source":"ground-monitor","text":"three tanks moving west along the road"}`)
	raws := make([][]byte, 1000)
	for i := range raws {
		raws[i] = raw
	}
	obs := make([]ingest.Observation, len(raws))
	errs := make([]*ingest.RecordError, len(raws))
	b.ReportAllocs()
	for b.Loop() {
		DecodeRecords(raws, obs, errs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(raws)), "ns/record")
}
