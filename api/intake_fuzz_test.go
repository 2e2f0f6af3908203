package api

import (
	"errors"
	"testing"

	"github.com/truce-mission/truce/ingest/feeds"
)

// FuzzIntakeBody feeds arbitrary bodies of each intake content type through what the intake
// does before the ledger: splitting into records and decoding each record.
// It never panics; a refused body is an *httpError with a 4xx status; every record error
// names a field.
func FuzzIntakeBody(f *testing.F) {
	obs := `{"id":"o1","observed":"2026-12-10T08:00:00Z","position":{"lon":36.40572,"lat":47.01571},"category":"tank","count":2,"source":"ground-monitor"}`
	feature := `{"type":"Feature","geometry":{"type":"Point","coordinates":[36.40572,47.01571]},"properties":{"id":"f1","observed":"2026-12-10T08:00:00Z","category":"tank"}}`
	for _, seed := range []struct{ ct, body string }{
		{ContentJSON, `{"observations":[` + obs + `]}`},
		{ContentJSON, `{"observations":[` + obs + `,{"id":"x","position":{"lat":91}}]}`},
		{ContentNDJSON, obs + "\n\n" + obs + "\n{"},
		{ContentGeoJSON, `{"type":"FeatureCollection","features":[` + feature + `]}`},
		{ContentGeoJSON, `{"type":"Feature"}`},
		{"text/plain", "x"},
	} {
		f.Add(seed.ct, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		recs, err := splitRecords(ct, body)
		if err != nil {
			var he *httpError
			if !errors.As(err, &he) || he.status < 400 || he.status >= 500 {
				t.Fatalf("refused body: %v (%T), want an *httpError with a 4xx status", err, err)
			}
			return
		}
		for _, r := range recs {
			if r.path == "" {
				t.Fatalf("record without a path: %q", r.raw)
			}
			if _, rerr := feeds.DecodeRecord(r.raw); rerr != nil && rerr.Error() == "" {
				t.Fatalf("record %s refused without a message", r.path)
			}
		}
	})
}
