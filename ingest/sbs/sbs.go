// Package sbs reads SBS-1 (BaseStation) CSV lines, the text feed dump1090 and readsb serve on
// TCP port 30003, and turns airborne and surface positions into ADS-B observations.
//
// # The format
//
// Each line is 22 comma-separated fields:
//
//	MSG,3,1,1,4CA2D6,1,2024/03/01,12:00:00.123,2024/03/01,12:00:00.125,,35000,,,51.47,-0.46,,,0,0,0,0
//
// They are: message type, transmission type, session, aircraft, hex ident (the ICAO address), flight,
// date and time generated, date and time logged, callsign, altitude (feet), ground speed
// (knots), track (degrees), latitude, longitude, vertical rate, squawk, alert, emergency, SPI,
// on ground.
//
// # What is read
//
//   - MSG,3 (airborne position) and MSG,2 (surface position) with a latitude and longitude
//     become one [ingest.Observation] each: source ADS-B, the track's ICAO address and the last
//     callsign seen for it, the altitude in metres, and the ground speed and track of the last
//     MSG,4 for the same aircraft when it is at most [MaxVelocityAge] older or newer (MSG,2
//     carries its own).
//   - MSG,1 and ID lines update the callsign kept per aircraft; MSG,4 updates the velocity.
//   - Other MSG types, and STA, AIR, SEL and CLK lines, are skipped. Position messages with empty
//     coordinates (dump1090 sends them before it has decoded a position) are skipped too.
//
// The time is the "generated" date and time, else the "logged" one, read as UTC (feeders
// write local time: run them with TZ=UTC); when both are empty it is [ingest.Options.Clock].
// The id is [ingest.ADSBID]; an aircraft is military when [ingest.Options.IsMilitaryICAO] says
// so, and its category follows ([ingest.ADSBCategory]).
//
// A bad line is rejected with its line number and field, and reading goes on. Per-aircraft
// state is forgotten [CacheTTL] after the aircraft was last heard, so an endless TCP feed runs in
// bounded memory.
package sbs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/truce-mission/truce/ingest"
)

const (
	// MaxLineBytes bounds a line. SBS lines are about 120 bytes; a longer one is rejected and
	// skipped, so a feed of garbage cannot make the reader buffer without end.
	MaxLineBytes = 4096
	// MaxVelocityAge is how far apart in time a MSG,4 velocity and a position may be for the
	// velocity to be attached to the position. Beyond it the aircraft may have turned.
	MaxVelocityAge = 60 * time.Second
	// CacheTTL is how long an aircraft's callsign and velocity are kept after it was last heard.
	CacheTTL = 30 * time.Minute
)

const (
	fieldCount = 22
	sweepEvery = 8192 // lines between sweeps of the per-aircraft state
)

// The 0-based field indexes.
const (
	fMsgType = iota
	fTransmission
	fSession
	fAircraft
	fHex
	fFlight
	fDateGen
	fTimeGen
	fDateLog
	fTimeLog
	fCallsign
	fAltitude
	fGroundSpeed
	fTrack
	fLat
	fLon
)

// The human names of the fields, as rejections name them.
var fieldNames = [...]string{
	"message type", "transmission type", "session id", "aircraft id", "hex ident", "flight id",
	"date generated", "time generated", "date logged", "time logged", "callsign", "altitude",
	"ground speed", "track", "lat", "lon", "vertical rate", "squawk", "alert", "emergency", "spi",
	"on ground",
}

// ErrSyntax is matched by the rejections of lines that are not SBS-1.
var ErrSyntax = errors.New("not an SBS-1 line")

type aircraft struct {
	callsign  string
	gs, track float64   // NaN when the last MSG,4 lacked it
	velAt     time.Time // zero when no velocity is known
	lastHeard time.Time
}

type parser struct {
	opts   ingest.Options
	sink   ingest.Sink
	line   int
	planes map[uint32]*aircraft
	latest time.Time // the newest message time seen, for the cache sweep
	f      [fieldCount]string
}

// Parse reads SBS-1 lines from r until EOF; it is an [ingest.ParseFunc]. It returns only the
// reader's own error; bad lines go to sink.Reject.
func Parse(r io.Reader, opts ingest.Options, sink ingest.Sink) error {
	p := &parser{opts: opts, sink: sink, planes: map[uint32]*aircraft{}}
	br := bufio.NewReaderSize(r, MaxLineBytes)
	for {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			p.line++
			p.reject("", fmt.Errorf("%w: line longer than %d bytes", ErrSyntax, MaxLineBytes))
			for errors.Is(err, bufio.ErrBufferFull) { // skip the rest of it
				_, err = br.ReadSlice('\n')
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			continue
		}
		if len(b) > 0 {
			p.line++
			p.parseLine(b)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if p.line%sweepEvery == 0 {
			p.sweep()
		}
	}
}

func (p *parser) reject(field string, err error) {
	p.sink.Reject(&ingest.RecordError{Source: p.opts.Name, Line: p.line, Field: field, Err: err})
}

func (p *parser) bad(i int, format string, args ...any) {
	p.reject(fieldNames[i], fmt.Errorf(format, args...))
}

func (p *parser) parseLine(b []byte) {
	b = bytes.TrimRight(b, "\r\n")
	if len(bytes.TrimSpace(b)) == 0 {
		return
	}
	s := string(b)
	n := 0
	for n < fieldCount {
		i := strings.IndexByte(s, ',')
		if i < 0 {
			p.f[n] = s
			n++
			break
		}
		p.f[n], s = s[:i], s[i+1:]
		n++
	}
	for i := n; i < fieldCount; i++ {
		p.f[i] = ""
	}
	f := &p.f
	switch strings.TrimSpace(f[fMsgType]) {
	case "MSG":
	case "ID":
		if addr, _, ok := p.hex(); ok {
			if cs := strings.TrimSpace(f[fCallsign]); cs != "" {
				a := p.plane(addr)
				a.callsign, a.lastHeard = cs, p.latest
			}
		}
		return
	case "STA", "AIR", "SEL", "CLK":
		return
	default:
		p.reject(fieldNames[fMsgType], fmt.Errorf("%w: unknown message type %q (want MSG, ID, STA, AIR, SEL or CLK)", ErrSyntax, clip(f[fMsgType])))
		return
	}
	if n <= fTimeLog {
		p.reject("", fmt.Errorf("%w: MSG line has %d fields, want %d", ErrSyntax, n, fieldCount))
		return
	}
	tt, err := strconv.Atoi(strings.TrimSpace(f[fTransmission]))
	if err != nil || tt < 1 || tt > 8 {
		p.bad(fTransmission, "%w: transmission type %q is not 1–8", ErrSyntax, clip(f[fTransmission]))
		return
	}
	addr, icao, ok := p.hex()
	if !ok {
		return
	}
	t, ok := p.time()
	if !ok {
		return
	}
	a := p.plane(addr)
	a.lastHeard = t
	if t.After(p.latest) {
		p.latest = t
	}
	switch tt {
	case 1:
		if cs := strings.TrimSpace(f[fCallsign]); cs != "" {
			a.callsign = cs
		}
	case 4:
		gs, okG := p.float(fGroundSpeed)
		trk, okT := p.float(fTrack)
		if !okG || !okT {
			return
		}
		if !math.IsNaN(gs) || !math.IsNaN(trk) { // NaN for the one missing, if any
			a.gs, a.track, a.velAt = gs, trk, t
		}
	case 2, 3:
		p.position(tt, addr, icao, a, t)
	}
}

// position emits the observation of a MSG,2 or MSG,3 line.
func (p *parser) position(tt int, addr uint32, icao string, a *aircraft, t time.Time) {
	lat, ok := p.float(fLat)
	if !ok {
		return
	}
	lon, ok := p.float(fLon)
	if !ok {
		return
	}
	switch {
	case math.IsNaN(lat) && math.IsNaN(lon):
		return // no position decoded yet
	case math.IsNaN(lat):
		p.bad(fLat, "longitude without latitude")
		return
	case math.IsNaN(lon):
		p.bad(fLon, "latitude without longitude")
		return
	}
	alt, ok := p.float(fAltitude)
	if !ok {
		return
	}
	pos := ingest.Position{Lat: lat, Lon: lon}
	if !math.IsNaN(alt) {
		m := ingest.FeetToMetres(alt)
		pos.AltM = &m
	}
	if tt == 2 { // a surface position carries its own velocity
		gs, okG := p.float(fGroundSpeed)
		trk, okT := p.float(fTrack)
		if !okG || !okT {
			return
		}
		if !math.IsNaN(gs) {
			pos.SpeedK = &gs
		}
		if !math.IsNaN(trk) {
			pos.Course = &trk
		}
	} else if !a.velAt.IsZero() && absDuration(t.Sub(a.velAt)) <= MaxVelocityAge {
		gs, trk := a.gs, a.track
		if !math.IsNaN(gs) {
			pos.SpeedK = &gs
		}
		if !math.IsNaN(trk) {
			pos.Course = &trk
		}
	}
	mil := p.opts.IsMilitaryICAO(addr)
	o := ingest.Observation{
		ID:       ingest.ADSBID(icao, t),
		Observed: t,
		Position: pos,
		Track:    &ingest.Track{ICAO: icao, Callsign: a.callsign},
		Category: ingest.ADSBCategory(mil),
		Source:   ingest.SourceADSB,
		Military: mil,
	}
	if e := ingest.Validate(&o); e != nil {
		e.Source, e.Line = p.opts.Name, p.line
		p.sink.Reject(e)
		return
	}
	p.sink.Observe(o)
}

// hex reads the hex ident field; it rejects the line when the field is bad.
func (p *parser) hex() (uint32, string, bool) {
	addr, icao, err := ingest.ParseICAO(strings.TrimSpace(p.f[fHex]))
	if err != nil {
		p.reject(fieldNames[fHex], err)
		return 0, "", false
	}
	return addr, icao, true
}

// time reads the generated date and time, else the logged ones, else the clock.
func (p *parser) time() (time.Time, bool) {
	for _, i := range []int{fDateGen, fDateLog} {
		d, c := strings.TrimSpace(p.f[i]), strings.TrimSpace(p.f[i+1])
		if d == "" && c == "" {
			continue
		}
		if d == "" || c == "" {
			which := i
			if c == "" {
				which = i + 1
			}
			p.bad(which, "%s is empty but %s is not", fieldNames[which], fieldNames[i+i+1-which])
			return time.Time{}, false
		}
		t, err := time.ParseInLocation("2006/01/02 15:04:05", d+" "+c, time.UTC)
		if err != nil {
			p.bad(i, "%q %q is not a date and time like 2024/03/01 12:00:00.123", clip(d), clip(c))
			return time.Time{}, false
		}
		return t, true
	}
	return p.opts.Clock().UTC(), true
}

// float reads an optional number: NaN when the field is empty, false (and a rejection) when it
// is not a finite number.
func (p *parser) float(i int) (float64, bool) {
	s := strings.TrimSpace(p.f[i])
	if s == "" {
		return math.NaN(), true
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		p.bad(i, "%q is not a number", clip(s))
		return 0, false
	}
	return v, true
}

func (p *parser) plane(addr uint32) *aircraft {
	a := p.planes[addr]
	if a == nil {
		a = &aircraft{}
		p.planes[addr] = a
	}
	return a
}

// sweep forgets aircraft not heard for CacheTTL before the newest message.
func (p *parser) sweep() {
	cut := p.latest.Add(-CacheTTL)
	for k, a := range p.planes {
		if a.lastHeard.Before(cut) {
			delete(p.planes, k)
		}
	}
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// clip shortens a bad value quoted in a message.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	for i := range s {
		if i >= max {
			return s[:i] + "…"
		}
	}
	return s
}
