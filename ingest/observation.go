// Package ingest defines the observation, the one shape every intake channel is turned into, and
// the dispatcher over the per-format adapters (one sub-package each: ais, sbs, readsb, geojson,
// csv, cap). Adapters are pure: bytes in, observations and per-record errors out; they never
// sign, store or look up zones. That happens after, in the intake path.
package ingest

import (
	"fmt"
	"strings"
	"time"
)

// SourceKind is who or what observed.
type SourceKind int

// The source kinds.
const (
	SourceUnknown       SourceKind = iota
	SourceGroundMonitor            // a mission monitor team on the ground
	SourceUAV                      // a drone and its ground station
	SourceSatellite                // satellite imagery analysis
	SourceOSINT                    // open sources
	SourceAIS                      // ship transponders
	SourceADSB                     // aircraft transponders
	SourcePartyReport              // a party's own report
	SourcePartnerAlert             // a CAP alert from another early-warning system
)

var sourceKindNames = []string{"unknown", "ground-monitor", "uav", "satellite", "osint", "ais", "ads-b", "party-report", "partner-alert"}

func (k SourceKind) String() string {
	if k < 0 || int(k) >= len(sourceKindNames) {
		return fmt.Sprintf("SourceKind(%d)", int(k))
	}
	return sourceKindNames[k]
}

// MarshalText writes the kind's name.
func (k SourceKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name.
func (k *SourceKind) UnmarshalText(b []byte) error {
	for i, n := range sourceKindNames {
		if n == string(b) {
			*k = SourceKind(i)
			return nil
		}
	}
	return fmt.Errorf("unknown source kind %q", b)
}

// Position is where something was seen: WGS84 degrees, altitude in metres above mean sea level.
type Position struct {
	Lon    float64  `json:"lon"`
	Lat    float64  `json:"lat"`
	AltM   *float64 `json:"alt_m,omitempty"`
	SpeedK *float64 `json:"speed_kn,omitempty"`   // speed over ground, knots
	Course *float64 `json:"course_deg,omitempty"` // course over ground, degrees true
}

// Track identifies the ship or aircraft a track point belongs to.
type Track struct {
	MMSI     uint32 `json:"mmsi,omitempty"`     // AIS
	ICAO     string `json:"icao,omitempty"`     // ADS-B 24-bit address, 6 upper-case hex digits
	Callsign string `json:"callsign,omitempty"` // ship or flight callsign
	Name     string `json:"name,omitempty"`     // ship name
	ShipType int    `json:"ship_type,omitempty"`
}

// Observation is one report of something seen: evidence, not yet a finding.
type Observation struct {
	ID       string    `json:"id"`
	Observed time.Time `json:"observed"`
	Position Position  `json:"position"`
	Track    *Track    `json:"track,omitempty"`
	Category string    `json:"category,omitempty"` // an agreement category id; empty when unknown
	Count    int       `json:"count,omitempty"`
	// ClaimedParty is the party the source says it is (a flag, a transponder); AssessedParty is
	// the party the observer attributes it to.
	ClaimedParty  string     `json:"claimed_party,omitempty"`
	AssessedParty string     `json:"assessed_party,omitempty"`
	Source        SourceKind `json:"source"`
	// Reliability (A–F) and Credibility (1–6): the NATO admiralty grading; empty for the
	// agreement's defaults per source kind.
	Reliability string   `json:"reliability,omitempty"`
	Credibility int      `json:"credibility,omitempty"`
	Text        string   `json:"text,omitempty"`
	Attachments []string `json:"attachments,omitempty"` // "sha256:<64 hex>" digests; media lives elsewhere
	// Military is set by adapters that can tell from the wire (AIS ship type 35, MMSI or ICAO
	// lists); the category mapping uses it.
	Military bool `json:"military,omitempty"`
}

// RecordError is one refused record: where it was and why. The feed goes on after it.
type RecordError struct {
	Source string // file name, "stdin" or a tcp address
	Line   int    // 1-based line; 0 when the format has no lines
	Record string // a JSON path or feature index, e.g. "features[3].geometry"; may be empty
	Field  string // the field at fault; may be empty
	Err    error
}

func (e *RecordError) Error() string {
	var parts []string
	if e.Source != "" {
		s := e.Source
		if e.Line > 0 {
			s += fmt.Sprintf(":%d", e.Line)
		}
		parts = append(parts, s)
	} else if e.Line > 0 {
		parts = append(parts, fmt.Sprintf("line %d", e.Line))
	}
	for _, p := range []string{e.Record, e.Field} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(append(parts, e.Err.Error()), ": ")
}

func (e *RecordError) Unwrap() error { return e.Err }
