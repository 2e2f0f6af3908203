package ingest

import (
	"io"
	"slices"
	"time"

	"github.com/truce-mission/truce/agreement"
)

// Options are what adapters need to know beyond the bytes.
type Options struct {
	// Name is the source's name in errors: a file name, "stdin" or "tcp://host:port".
	Name string
	// Now gives the reception time for records that carry no time of their own (AIS without a
	// tag block, SBS lines with empty dates). Nil means time.Now.
	Now func() time.Time
	// MilitaryMMSI lists ships known to be naval or military (from the agreement).
	MilitaryMMSI map[uint32]bool
	// MilitaryICAO lists ICAO 24-bit address ranges allocated to military aircraft (from the
	// agreement), inclusive; a single aircraft is a range of one.
	MilitaryICAO []ICAORange
	// Owners, when set, names the party a military transponder belongs to (the agreement,
	// whose lists also fill the fields above): [feeds.Parse] gives an observation from one of
	// them that names no party that party as its claimed party.
	Owners Owners
}

// WithAgreement returns o with the agreement's military transponders added: their positions
// are military, and [feeds.Parse] gives them their party.
func (o Options) WithAgreement(a *agreement.Agreement) Options {
	mmsi, icao := a.MilitaryTransponders()
	if len(mmsi) > 0 {
		m := make(map[uint32]bool, len(o.MilitaryMMSI)+len(mmsi))
		for k, v := range o.MilitaryMMSI {
			m[k] = v
		}
		for _, k := range mmsi {
			m[k] = true
		}
		o.MilitaryMMSI = m
	}
	o.MilitaryICAO = append(slices.Clip(o.MilitaryICAO), icao...)
	o.Owners = a
	return o
}

// Owners tells whose military a transponder is; *agreement.Agreement is one.
type Owners interface {
	ShipParty(mmsi uint32) (party string, ok bool)
	AircraftParty(addr uint32) (party string, ok bool)
}

// ICAORange is an inclusive range of 24-bit ICAO aircraft addresses.
type ICAORange = agreement.ICAORange

// Sink receives what an adapter reads, in input order. Reject is called for each refused
// record; the adapter goes on with the next one.
type Sink interface {
	Observe(Observation)
	Reject(*RecordError)
}

// ParseFunc is the shape of every adapter: read r to its end (or until it fails to read),
// emitting observations and rejections to sink. The returned error is only for the stream
// itself (an I/O error); bad records are rejections, never errors.
type ParseFunc func(r io.Reader, opts Options, sink Sink) error

// IsMilitaryICAO reports whether an address is in the agreement's military ranges.
func (o *Options) IsMilitaryICAO(addr uint32) bool {
	for _, r := range o.MilitaryICAO {
		if addr >= r.Lo && addr <= r.Hi {
			return true
		}
	}
	return false
}

// Clock returns the reception clock.
func (o *Options) Clock() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}
