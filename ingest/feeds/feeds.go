// Package feeds dispatches an input to the adapter of its format: ais, sbs, readsb, geojson,
// csv or cap.
//
// It is a package of its own, not part of package ingest, because the adapters import ingest
// (for Observation, Options and Sink): ingest importing them back would be an import cycle.
package feeds

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/truce-mission/truce/ingest"
	"github.com/truce-mission/truce/ingest/ais"
	"github.com/truce-mission/truce/ingest/cap"
	"github.com/truce-mission/truce/ingest/csv"
	"github.com/truce-mission/truce/ingest/geojson"
	"github.com/truce-mission/truce/ingest/readsb"
	"github.com/truce-mission/truce/ingest/sbs"
)

// adapters maps each format name to its adapter.
var adapters = map[string]ingest.ParseFunc{
	"ais":     ais.Parse,     // NMEA 0183 AIVDM/AIVDO sentences
	"sbs":     sbs.Parse,     // SBS-1 BaseStation lines (dump1090 port 30003)
	"readsb":  readsb.Parse,  // readsb aircraft.json and trace files, OpenSky state vectors
	"geojson": geojson.Parse, // FeatureCollection of Point features
	"csv":     csv.Parse,     // header-named columns
	"cap":     cap.Parse,     // one CAP 1.0–1.2 alert
}

// ErrUnknownFormat is matched by the error Parse returns for a format it does not know.
var ErrUnknownFormat = errors.New("unknown format")

// Formats returns the format names Parse accepts, sorted.
func Formats() []string {
	names := make([]string, 0, len(adapters))
	for n := range adapters {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Lookup returns the adapter of a format.
func Lookup(format string) (ingest.ParseFunc, error) {
	if f, ok := adapters[strings.ToLower(strings.TrimSpace(format))]; ok {
		return f, nil
	}
	return nil, fmt.Errorf("%w %q; known formats: %s", ErrUnknownFormat, format, strings.Join(Formats(), ", "))
}

// Parse reads r with the adapter of format (case-insensitive), emitting to sink. It returns an
// error matching ErrUnknownFormat for an unknown format, and otherwise only the error of the
// stream itself: bad records go to sink.Reject.
func Parse(format string, r io.Reader, opts ingest.Options, sink ingest.Sink) error {
	f, err := Lookup(format)
	if err != nil {
		return err
	}
	if opts.Owners != nil {
		sink = &claimSink{Sink: sink, owners: opts.Owners}
	}
	return f(r, opts, sink)
}

// claimSink gives an observation from a listed military transponder its owner as claimed
// party, unless the record names one.
type claimSink struct {
	ingest.Sink
	owners ingest.Owners
}

func (s *claimSink) Observe(o ingest.Observation) {
	if t := o.Track; t != nil && o.ClaimedParty == "" {
		var party string
		var ok bool
		if t.MMSI != 0 {
			party, ok = s.owners.ShipParty(t.MMSI)
		} else if addr, _, err := ingest.ParseICAO(t.ICAO); err == nil {
			party, ok = s.owners.AircraftParty(addr)
		}
		if ok {
			o.ClaimedParty = party
		}
	}
	s.Sink.Observe(o)
}
