package ingest

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	const digest = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	f := func(v float64) *float64 { return &v }
	good := func() Observation {
		return Observation{
			ID: "x", Observed: time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC),
			Position: Position{Lon: 36.4, Lat: 47.0, AltM: f(100), SpeedK: f(10), Course: f(360)},
			Track:    &Track{ICAO: "AC671B"}, Reliability: "A", Credibility: 6, Count: 0,
			Attachments: []string{digest}, Source: SourcePartnerAlert,
		}
	}
	tests := []struct {
		name  string
		edit  func(*Observation)
		field string
		msg   string
	}{
		{"valid", func(*Observation) {}, "", ""},
		{"valid minimal", func(o *Observation) { *o = Observation{ID: "x", Observed: o.Observed} }, "", ""},
		{"empty id", func(o *Observation) { o.ID = "" }, "id", "empty id"},
		{"blank id", func(o *Observation) { o.ID = " \t" }, "id", "empty id"},
		{"zero time", func(o *Observation) { o.Observed = time.Time{} }, "observed", "no observation time"},
		{"lat NaN", func(o *Observation) { o.Position.Lat = math.NaN() }, "lat", "latitude NaN is not a number"},
		{"lon infinite", func(o *Observation) { o.Position.Lon = math.Inf(1) }, "lon", "longitude +Inf is not a number"},
		{"lat above 90", func(o *Observation) { o.Position.Lat = 90.5; o.Position.Lon = 100 }, "lat", "latitude 90.5 out of range [-90, 90]"},
		{"lat below -90", func(o *Observation) { o.Position.Lat = -190 }, "lat", "latitude -190 out of range [-90, 90]"},
		{"lat and lon swapped", func(o *Observation) { o.Position.Lat, o.Position.Lon = 120, 45 }, "lat", "latitude 120 out of range [-90, 90]; hint: lat and lon swapped?"},
		{"lon out of range", func(o *Observation) { o.Position.Lon = -180.01 }, "lon", "longitude -180.01 out of range [-180, 180]"},
		{"altitude NaN", func(o *Observation) { o.Position.AltM = f(math.NaN()) }, "alt_m", "altitude NaN is not a number"},
		{"speed negative", func(o *Observation) { o.Position.SpeedK = f(-1) }, "speed_kn", "speed -1 is not a number of knots ≥ 0"},
		{"course above 360", func(o *Observation) { o.Position.Course = f(360.5) }, "course_deg", "course 360.5 out of range [0, 360]"},
		{"course negative", func(o *Observation) { o.Position.Course = f(-0.5) }, "course_deg", "course -0.5 out of range [0, 360]"},
		{"reliability G", func(o *Observation) { o.Reliability = "G" }, "reliability", `reliability "G" is not one of A–F`},
		{"reliability lower case", func(o *Observation) { o.Reliability = "a" }, "reliability", `reliability "a" is not one of A–F`},
		{"reliability two letters", func(o *Observation) { o.Reliability = "AB" }, "reliability", `reliability "AB" is not one of A–F`},
		{"credibility 7", func(o *Observation) { o.Credibility = 7 }, "credibility", "credibility 7 is not one of 1–6"},
		{"credibility negative", func(o *Observation) { o.Credibility = -1 }, "credibility", "credibility -1 is not one of 1–6"},
		{"count negative", func(o *Observation) { o.Count = -3 }, "count", "count -3 is negative"},
		{"attachment without prefix", func(o *Observation) { o.Attachments = []string{digest[7:]} }, "attachments[0]", "is not sha256: and 64 lower-case hex digits"},
		{"attachment upper-case hex", func(o *Observation) { o.Attachments = []string{digest, "sha256:" + strings.ToUpper(digest[7:])} }, "attachments[1]", "is not sha256: and 64 lower-case hex digits"},
		{"attachment too long", func(o *Observation) { o.Attachments = []string{digest + "0"} }, "attachments[0]", "is not sha256: and 64 lower-case hex digits"},
		{"attachment not hex", func(o *Observation) { o.Attachments = []string{digest[:70] + "g"} }, "attachments[0]", "is not sha256: and 64 lower-case hex digits"},
		{"unknown source kind", func(o *Observation) { o.Source = 99 }, "source", "unknown source kind 99"},
		{"ICAO lower case", func(o *Observation) { o.Track.ICAO = "ac671b" }, "track.icao", `ICAO address "ac671b" is not 6 upper-case hex digits`},
		{"ICAO not hex", func(o *Observation) { o.Track.ICAO = "AC671G" }, "track.icao", `ICAO address "AC671G" is not 6 upper-case hex digits`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := good()
			tc.edit(&o)
			err := Validate(&o)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("unexpected %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %s: %s", tc.field, tc.msg)
			}
			if err.Field != tc.field || !strings.Contains(err.Err.Error(), tc.msg) {
				t.Errorf("got %s: %v; want %s: …%s…", err.Field, err.Err, tc.field, tc.msg)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("%v does not match ErrInvalid", err)
			}
			if err.Source != "" || err.Line != 0 || err.Record != "" {
				t.Errorf("Validate filled in the location: %#v", err)
			}
		})
	}
}

func TestParseICAO(t *testing.T) {
	for in, want := range map[string]string{"ac671b": "AC671B", "3B7777": "3B7777", "000000": "000000", "FfFfFf": "FFFFFF"} {
		addr, canon, err := ParseICAO(in)
		if err != nil || canon != want {
			t.Errorf("ParseICAO(%q) = %x, %q, %v", in, addr, canon, err)
		}
	}
	for _, in := range []string{"", "ac671", "ac671b0", "~ac671", "xyz123", "+c671b", "-1", " ac671b"} {
		if _, _, err := ParseICAO(in); err == nil {
			t.Errorf("ParseICAO(%q) accepted", in)
		}
	}
	if addr, _, _ := ParseICAO("3b7777"); addr != 0x3B7777 {
		t.Errorf("address %x", addr)
	}
}

func TestADSB(t *testing.T) {
	if got := ADSBID("AC671B", time.UnixMilli(1738703622619)); got != "adsb:AC671B:1738703622619" {
		t.Errorf("ADSBID = %q", got)
	}
	if ADSBCategory(true) != "military-aircraft" || ADSBCategory(false) != "civilian-traffic" {
		t.Error("categories")
	}
	if FeetToMetres(1000) != 304.8 {
		t.Error("feet")
	}
}
