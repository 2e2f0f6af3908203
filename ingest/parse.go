package ingest

// This file holds what every adapter shares: the common validation of an observation and the
// ADS-B helpers (24-bit addresses, the deterministic ID and the category). The dispatcher over
// the adapters lives in package ingest/feeds, not here: the adapters import this package, so
// this package cannot import them.

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrInvalid is matched (with errors.Is) by every error [Validate] returns.
var ErrInvalid = errors.New("invalid observation")

// invalidError is a validation failure: its message is the detail alone, and it matches
// [ErrInvalid].
type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) *RecordError {
	return &RecordError{Field: field, Err: &invalidError{msg: fmt.Sprintf(format, args...)}}
}

// The categories the ADS-B adapters set, from [Options.IsMilitaryICAO] and readsb's database
// flags. They are agreement category ids (see examples/line-of-contact.yaml).
const (
	CategoryMilitaryAircraft = "military-aircraft"
	CategoryCivilianTraffic  = "civilian-traffic"
)

// Validate checks what must hold for any observation, whatever its format, and returns the
// first problem found, or nil. The returned error's Field is the observation's JSON field name
// ("lat", "reliability", "attachments[2]", …); Source, Line and Record are left for the adapter
// to fill in, and it may rename Field into its own terms (a CSV column, a JSON path). Its Err
// matches [ErrInvalid].
//
// It checks: a non-empty id; a non-zero observed time; finite lat in [-90, 90] and lon in
// [-180, 180] (with a hint when they look swapped); a finite altitude; a finite, non-negative
// speed; a course in [0, 360]; reliability A–F or empty; credibility 1–6 or 0; count ≥ 0;
// attachments of the form "sha256:" + 64 lower-case hex digits; a known source kind; and, when
// a track has an ICAO address, 6 upper-case hex digits.
func Validate(o *Observation) *RecordError {
	if strings.TrimSpace(o.ID) == "" {
		return invalid("id", "empty id")
	}
	if o.Observed.IsZero() {
		return invalid("observed", "no observation time")
	}
	p := o.Position
	if math.IsNaN(p.Lat) || math.IsInf(p.Lat, 0) {
		return invalid("lat", "latitude %v is not a number", p.Lat)
	}
	if math.IsNaN(p.Lon) || math.IsInf(p.Lon, 0) {
		return invalid("lon", "longitude %v is not a number", p.Lon)
	}
	if p.Lat < -90 || p.Lat > 90 {
		if math.Abs(p.Lat) <= 180 && math.Abs(p.Lon) <= 90 {
			return invalid("lat", "latitude %v out of range [-90, 90]; hint: lat and lon swapped?", p.Lat)
		}
		return invalid("lat", "latitude %v out of range [-90, 90]", p.Lat)
	}
	if p.Lon < -180 || p.Lon > 180 {
		return invalid("lon", "longitude %v out of range [-180, 180]", p.Lon)
	}
	if p.AltM != nil && (math.IsNaN(*p.AltM) || math.IsInf(*p.AltM, 0)) {
		return invalid("alt_m", "altitude %v is not a number", *p.AltM)
	}
	if p.SpeedK != nil && (math.IsNaN(*p.SpeedK) || math.IsInf(*p.SpeedK, 0) || *p.SpeedK < 0) {
		return invalid("speed_kn", "speed %v is not a number of knots ≥ 0", *p.SpeedK)
	}
	if p.Course != nil && (math.IsNaN(*p.Course) || *p.Course < 0 || *p.Course > 360) {
		return invalid("course_deg", "course %v out of range [0, 360]", *p.Course)
	}
	if o.Reliability != "" && (len(o.Reliability) != 1 || o.Reliability[0] < 'A' || o.Reliability[0] > 'F') {
		return invalid("reliability", "reliability %q is not one of A–F", o.Reliability)
	}
	if o.Credibility != 0 && (o.Credibility < 1 || o.Credibility > 6) {
		return invalid("credibility", "credibility %d is not one of 1–6", o.Credibility)
	}
	if o.Count < 0 {
		return invalid("count", "count %d is negative", o.Count)
	}
	for i, a := range o.Attachments {
		if !IsDigest(a) {
			return invalid(fmt.Sprintf("attachments[%d]", i), "attachment %q is not sha256: and 64 lower-case hex digits", a)
		}
	}
	if o.Source < 0 || int(o.Source) >= len(sourceKindNames) {
		return invalid("source", "unknown source kind %d", int(o.Source))
	}
	if o.Track != nil && o.Track.ICAO != "" {
		if _, canon, err := ParseICAO(o.Track.ICAO); err != nil || canon != o.Track.ICAO {
			return invalid("track.icao", "ICAO address %q is not 6 upper-case hex digits", o.Track.ICAO)
		}
	}
	return nil
}

// IsDigest reports whether s is an attachment digest: "sha256:" and 64 lower-case hex digits.
func IsDigest(s string) bool {
	const prefix = "sha256:"
	if len(s) != len(prefix)+64 || !strings.HasPrefix(s, prefix) {
		return false
	}
	for _, c := range []byte(s[len(prefix):]) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ParseICAO parses a 24-bit ICAO aircraft address written as 6 hex digits in either case, and
// returns it with its canonical spelling (upper case, as [Track].ICAO holds it). readsb's
// non-ICAO addresses ("~" and 6 digits: TIS-B, ADS-R) are refused: they name no aircraft.
func ParseICAO(s string) (addr uint32, canonical string, err error) {
	if strings.HasPrefix(s, "~") {
		return 0, "", fmt.Errorf("address %q is not an ICAO address (readsb marks TIS-B and other non-ICAO addresses with ~)", s)
	}
	if len(s) != 6 {
		return 0, "", fmt.Errorf("ICAO address %q is not 6 hex digits", s)
	}
	v, perr := strconv.ParseUint(s, 16, 32)
	if perr != nil {
		return 0, "", fmt.Errorf("ICAO address %q is not 6 hex digits", s)
	}
	return uint32(v), strings.ToUpper(s), nil
}

// ADSBID is the deterministic observation id of an ADS-B position: "adsb:<ICAO>:<unix ms>".
// The same report read twice (two snapshots of aircraft.json, a replayed SBS log) gets the same
// id, so the intake path can drop the repeat.
func ADSBID(icao string, t time.Time) string {
	return "adsb:" + icao + ":" + strconv.FormatInt(t.UnixMilli(), 10)
}

// ADSBCategory returns the category of an aircraft judged military or not.
func ADSBCategory(military bool) string {
	if military {
		return CategoryMilitaryAircraft
	}
	return CategoryCivilianTraffic
}

// FeetToMetres converts an altitude in feet, as ADS-B and CAP give it, to metres.
func FeetToMetres(ft float64) float64 { return ft * 0.3048 }
