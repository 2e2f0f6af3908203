// Package readsb reads the JSON that ADS-B receivers and their archives write, and turns each
// aircraft position into an ADS-B observation. Three shapes are recognised, by their content:
//
//   - readsb/dump1090 aircraft.json: {"now": <unix s>, "aircraft": [{"hex", "flight", "lat",
//     "lon", "alt_baro" (feet or "ground"), "alt_geom", "gs", "track", "seen_pos", "dbFlags",
//     …}]}. The time of a position is now − seen_pos. Aircraft without "lat"/"lon" (heard, but
//     with no recent position) are skipped, not rejected.
//   - readsb/tar1090 trace files (trace_full_<hex>.json): {"icao", "timestamp", "dbFlags",
//     "trace": [[seconds after timestamp, lat, lon, altitude (feet, "ground" or null), ground
//     speed, track, flags, vertical rate, details or null, source type, geometric altitude, …],
//     …]}. The callsign is taken from the "flight" of the latest details object and carried
//     forward.
//   - OpenSky state vectors as the traffic library exports them: a JSON array of {"timestamp"
//     (unix ms, or s, or RFC 3339), "icao24", "callsign", "latitude", "longitude", "altitude"
//     (feet), "groundspeed", "track", …}. Rows without a position are skipped.
//
// Several top-level values may follow one another (a log of aircraft.json snapshots, one per
// line). Gzip-compressed input is recognised by its magic bytes and decompressed.
//
// Altitudes are barometric, in feet, converted to metres; "ground" gives no altitude, and a
// null barometric altitude falls back to the geometric one. An aircraft is military when
// [ingest.Options.IsMilitaryICAO] says so or readsb's dbFlags military bit (1) is set; the id is
// [ingest.ADSBID]. Non-ICAO addresses ("~" prefix: TIS-B, ADS-R) are rejected.
//
// # Limits
//
// The input is read whole (at most [MaxBytes] after decompression, which also bounds a gzip
// bomb) and checked for JSON syntax first: malformed JSON is one rejection with its line and
// column, and nothing from that value on is emitted. Bad records are rejected with their line
// and JSON path ("trace[17]", "aircraft[3]", "[42]") and the rest goes on.
package readsb

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/truce-mission/truce/ingest"
)

// MaxBytes bounds the (decompressed) input. A full-day trace is about 1 MB and a worldwide
// aircraft.json about 10 MB.
const MaxBytes = 128 << 20

// maxBytes is MaxBytes; tests lower it.
var maxBytes = MaxBytes

// dbFlagMilitary is readsb's database flag for military aircraft (dbFlags & 1).
const dbFlagMilitary = 1

// Sentinel errors the rejections wrap.
var (
	// ErrTooLarge: the input is longer than MaxBytes.
	ErrTooLarge = errors.New("input too large")
	// ErrSyntax: the input is not JSON, or not gzip-compressed JSON.
	ErrSyntax = errors.New("malformed input")
	// ErrShape: the JSON is none of the shapes this package reads.
	ErrShape = errors.New("unrecognised JSON")
)

// Parse reads readsb, tar1090 or OpenSky JSON from r; it is an [ingest.ParseFunc]. It returns
// only the reader's own error; bad records and malformed input go to sink.Reject.
func Parse(r io.Reader, opts ingest.Options, sink ingest.Sink) error {
	src := &errReader{r: r}
	br := bufio.NewReader(src)
	var in io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			if src.err != nil {
				return src.err
			}
			sink.Reject(&ingest.RecordError{Source: opts.Name, Err: fmt.Errorf("%w: gzip: %v", ErrSyntax, err)})
			return nil
		}
		defer zr.Close()
		in = zr
	}
	data, err := io.ReadAll(io.LimitReader(in, int64(maxBytes)+1))
	if src.err != nil {
		return src.err
	}
	if err != nil { // a corrupt gzip stream
		sink.Reject(&ingest.RecordError{Source: opts.Name, Err: fmt.Errorf("%w: gzip: %v", ErrSyntax, err)})
		return nil
	}
	if len(data) > maxBytes {
		sink.Reject(&ingest.RecordError{Source: opts.Name, Err: fmt.Errorf("%w: more than %d bytes", ErrTooLarge, maxBytes)})
		return nil
	}
	p := &parser{opts: opts, sink: sink, data: data}
	p.run()
	return nil
}

// errReader remembers the underlying reader's error, so a failing reader is told apart from
// corrupt gzip.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(b []byte) (int, error) {
	n, err := e.r.Read(b)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

type parser struct {
	opts  ingest.Options
	sink  ingest.Sink
	data  []byte
	lines []int // offsets of '\n' in data, built on first use
}

// elem is one element of a JSON array, with the offset just past it.
type elem struct {
	end int64
	raw json.RawMessage
}

func (p *parser) run() {
	dec := json.NewDecoder(bytes.NewReader(p.data))
	dec.UseNumber()
	for {
		off := skipSpace(p.data, int(dec.InputOffset()))
		if off >= len(p.data) {
			return
		}
		var err error
		switch p.data[off] {
		case '[':
			err = p.openSky(dec)
		case '{':
			err = p.object(dec)
		default:
			err = p.syntax(dec, fmt.Errorf("want an object or an array, found %q", p.data[off]))
		}
		if err != nil {
			return
		}
	}
}

// syntax rejects the input at the decoder's position (or at the offset of a json.SyntaxError)
// and returns an error to stop the run.
func (p *parser) syntax(dec *json.Decoder, err error) error {
	off := dec.InputOffset()
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = se.Offset
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		off = int64(len(p.data))
		err = errors.New("unexpected end of input")
	}
	line, col := p.lineCol(off)
	p.sink.Reject(&ingest.RecordError{Source: p.opts.Name, Line: line, Err: fmt.Errorf("%w: column %d: %v", ErrSyntax, col, err)})
	return err
}

// array reads a JSON array (the '[' not yet consumed) into elems; a null is an empty array.
func (p *parser) array(dec *json.Decoder) ([]elem, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, p.syntax(dec, err)
	}
	if tok == nil {
		return nil, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, p.syntax(dec, errors.New("want an array"))
	}
	var out []elem
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, p.syntax(dec, err)
		}
		out = append(out, elem{end: dec.InputOffset(), raw: raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, p.syntax(dec, err)
	}
	return out, nil
}

// openSky reads a top-level array of OpenSky state vectors.
func (p *parser) openSky(dec *json.Decoder) error {
	rows, err := p.array(dec)
	if err != nil {
		return err
	}
	for i, e := range rows {
		p.openSkyRow(i, e)
	}
	return nil
}

// header holds the top-level members of an aircraft.json or a trace file.
type header struct {
	now       json.RawMessage
	icao      json.RawMessage
	timestamp json.RawMessage
	dbFlags   json.RawMessage
	aircraft  []elem
	trace     []elem
	hasAC     bool
	hasTrace  bool
}

// object reads a top-level object: aircraft.json or a trace file.
func (p *parser) object(dec *json.Decoder) error {
	start := skipSpace(p.data, int(dec.InputOffset()))
	if _, err := dec.Token(); err != nil { // '{'
		return p.syntax(dec, err)
	}
	var h header
	var bad *ingest.RecordError // the first problem with a member; the object is refused
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return p.syntax(dec, err)
		}
		key, _ := tok.(string)
		var dst any
		switch key {
		case "now":
			dst = &h.now
		case "timestamp":
			dst = &h.timestamp
		case "dbFlags":
			dst = &h.dbFlags
		case "icao":
			dst = &h.icao
		case "aircraft", "trace":
			if c := p.nextValue(dec); c == '[' || c == 'n' {
				list, err := p.array(dec)
				if err != nil {
					return err
				}
				if key == "aircraft" {
					h.aircraft, h.hasAC = list, true
				} else {
					h.trace, h.hasTrace = list, true
				}
				continue
			}
			if bad == nil {
				bad = p.recordError(int64(start), "", key, fmt.Errorf("%w: %q is not an array", ErrShape, key))
			}
			var skip json.RawMessage
			dst = &skip
		default:
			var skip json.RawMessage
			dst = &skip
		}
		if err := dec.Decode(dst); err != nil {
			return p.syntax(dec, err)
		}
		want := "a number"
		switch key {
		case "icao":
			want = "a string"
			fallthrough
		case "now", "timestamp", "dbFlags":
			raw := *dst.(*json.RawMessage)
			if got := ingest.JSONKind(raw); got != want && got != "null" && bad == nil {
				bad = p.recordError(int64(start), "", key, fmt.Errorf("%w: %q is %s, want %s", ErrShape, key, got, want))
			}
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return p.syntax(dec, err)
	}
	switch {
	case bad != nil:
		p.sink.Reject(bad)
	case h.hasTrace:
		p.traceFile(int64(start), &h)
	case h.hasAC:
		p.aircraftFile(int64(start), &h)
	default:
		p.reject(int64(start), "", "", fmt.Errorf("%w: an object with neither \"aircraft\" (aircraft.json) nor \"trace\" (a trace file)", ErrShape))
	}
	return nil
}

// nextValue returns the first byte of the value after an object key the decoder just read.
func (p *parser) nextValue(dec *json.Decoder) byte {
	i := skipSpace(p.data, int(dec.InputOffset()))
	if i < len(p.data) && p.data[i] == ':' {
		i = skipSpace(p.data, i+1)
	}
	if i < len(p.data) {
		return p.data[i]
	}
	return 0
}

// aircraftJSON is one element of aircraft.json's "aircraft".
type aircraftJSON struct {
	Hex     string          `json:"hex"`
	Flight  string          `json:"flight"`
	Lat     *float64        `json:"lat"`
	Lon     *float64        `json:"lon"`
	AltBaro json.RawMessage `json:"alt_baro"`
	AltGeom *float64        `json:"alt_geom"`
	GS      *float64        `json:"gs"`
	Track   *float64        `json:"track"`
	SeenPos *float64        `json:"seen_pos"`
	DBFlags *int64          `json:"dbFlags"`
}

func (p *parser) aircraftFile(start int64, h *header) {
	now := p.opts.Clock()
	if len(h.now) > 0 && !ingest.IsNull(h.now) {
		v, err := strconv.ParseFloat(string(h.now), 64)
		if err == nil {
			now, err = unixTime(v)
		}
		if err != nil {
			p.reject(start, "", "now", fmt.Errorf("%s is not a unix time", clip(h.now)))
			return
		}
	}
	for i, e := range h.aircraft {
		rec := fmt.Sprintf("aircraft[%d]", i)
		var a aircraftJSON
		if err := json.Unmarshal(e.raw, &a); err != nil {
			p.typeError(e, rec, err)
			continue
		}
		if a.Lat == nil && a.Lon == nil {
			continue // heard, but no recent position
		}
		if a.Lat == nil || a.Lon == nil {
			p.reject(p.startOf(e), rec, "lat", errors.New("one of lat and lon without the other"))
			continue
		}
		addr, icao, err := ingest.ParseICAO(a.Hex)
		if err != nil {
			p.reject(p.startOf(e), rec, "hex", err)
			continue
		}
		t := now
		if a.SeenPos != nil {
			if *a.SeenPos < 0 || math.IsInf(*a.SeenPos, 0) {
				p.reject(p.startOf(e), rec, "seen_pos", fmt.Errorf("seen_pos %v is not an age in seconds", *a.SeenPos))
				continue
			}
			t = now.Add(-time.Duration(math.Round(*a.SeenPos*1000)) * time.Millisecond)
		}
		alt, err := altitude(a.AltBaro, a.AltGeom)
		if err != nil {
			p.reject(p.startOf(e), rec, "alt_baro", err)
			continue
		}
		p.emit(e, rec, adsb{
			addr: addr, icao: icao, callsign: a.Flight, t: t,
			lat: *a.Lat, lon: *a.Lon, altFt: alt, gs: a.GS, track: a.Track,
			military: a.DBFlags != nil && *a.DBFlags&dbFlagMilitary != 0,
		})
	}
}

// The fields of a trace point, by index.
const (
	tOffset = iota
	tLat
	tLon
	tAlt
	tGS
	tTrack
	tFlags
	tVRate
	tDetails
	tType
	tAltGeom
)

var traceFieldNames = [...]string{"seconds", "lat", "lon", "alt", "gs", "track", "flags", "vertical rate", "details", "type", "alt_geom"}

func (p *parser) traceFile(start int64, h *header) {
	var hex string
	if len(h.icao) == 0 || json.Unmarshal(h.icao, &hex) != nil || ingest.IsNull(h.icao) {
		p.reject(start, "", "icao", fmt.Errorf("%w: trace file without \"icao\"", ErrShape))
		return
	}
	addr, icao, err := ingest.ParseICAO(hex)
	if err != nil {
		p.reject(start, "", "icao", err)
		return
	}
	if len(h.timestamp) == 0 || ingest.IsNull(h.timestamp) {
		p.reject(start, "", "timestamp", fmt.Errorf("%w: trace file without \"timestamp\"", ErrShape))
		return
	}
	base, err := strconv.ParseFloat(string(h.timestamp), 64)
	if err == nil {
		_, err = secondsTime(base)
	}
	if err != nil {
		p.reject(start, "", "timestamp", fmt.Errorf("%s is not a unix time in seconds", clip(h.timestamp)))
		return
	}
	military := false
	if len(h.dbFlags) > 0 && !ingest.IsNull(h.dbFlags) {
		f, err := strconv.ParseInt(string(h.dbFlags), 10, 64)
		if err != nil {
			p.reject(start, "", "dbFlags", fmt.Errorf("%s is not an integer", clip(h.dbFlags)))
			return
		}
		military = f&dbFlagMilitary != 0
	}
	callsign := ""
	var pt []json.RawMessage
	for i, e := range h.trace {
		rec := fmt.Sprintf("trace[%d]", i)
		pt = pt[:0]
		if err := json.Unmarshal(e.raw, &pt); err != nil {
			p.reject(p.startOf(e), rec, "", errors.New("trace point is not an array"))
			continue
		}
		if len(pt) < tTrack+1 {
			p.reject(p.startOf(e), rec, "", fmt.Errorf("trace point has %d fields, want at least %d", len(pt), tTrack+1))
			continue
		}
		// The details first: its callsign applies from this point on, even when the rest of
		// the point is refused.
		if len(pt) > tDetails && !ingest.IsNull(pt[tDetails]) {
			var d struct {
				Flight *string `json:"flight"`
			}
			if err := json.Unmarshal(pt[tDetails], &d); err != nil {
				p.reject(p.startOf(e), rec, traceFieldNames[tDetails], errors.New("details is not an object"))
				continue
			}
			if d.Flight != nil {
				callsign = *d.Flight
			}
		}
		var v [tTrack + 1]*float64
		bad := false
		for _, j := range []int{tOffset, tLat, tLon, tGS, tTrack} {
			f, err := number(pt[j])
			if err != nil {
				p.reject(p.startOf(e), rec, traceFieldNames[j], err)
				bad = true
				break
			}
			v[j] = f
		}
		if bad {
			continue
		}
		if v[tOffset] == nil || v[tLat] == nil || v[tLon] == nil {
			p.reject(p.startOf(e), rec, "", errors.New("trace point without time offset, lat or lon"))
			continue
		}
		var geom *float64
		if len(pt) > tAltGeom {
			g, err := number(pt[tAltGeom])
			if err != nil {
				p.reject(p.startOf(e), rec, traceFieldNames[tAltGeom], err)
				continue
			}
			geom = g
		}
		alt, err := altitude(pt[tAlt], geom)
		if err != nil {
			p.reject(p.startOf(e), rec, traceFieldNames[tAlt], err)
			continue
		}
		t, err := secondsTime(base + *v[tOffset])
		if err != nil {
			p.reject(p.startOf(e), rec, traceFieldNames[tOffset], fmt.Errorf("timestamp + %v: %w", *v[tOffset], err))
			continue
		}
		p.emit(e, rec, adsb{
			addr: addr, icao: icao, callsign: callsign, t: t,
			lat: *v[tLat], lon: *v[tLon], altFt: alt, gs: v[tGS], track: v[tTrack],
			military: military,
		})
	}
}

// openSkyRow is one OpenSky state vector as the traffic library writes it.
type openSkyRow struct {
	Timestamp   json.RawMessage `json:"timestamp"`
	ICAO24      string          `json:"icao24"`
	Callsign    *string         `json:"callsign"`
	Latitude    *float64        `json:"latitude"`
	Longitude   *float64        `json:"longitude"`
	Altitude    *float64        `json:"altitude"`
	GeoAltitude *float64        `json:"geoaltitude"`
	Groundspeed *float64        `json:"groundspeed"`
	Track       *float64        `json:"track"`
}

func (p *parser) openSkyRow(i int, e elem) {
	rec := fmt.Sprintf("[%d]", i)
	var r openSkyRow
	if err := json.Unmarshal(e.raw, &r); err != nil {
		p.typeError(e, rec, err)
		return
	}
	if r.Latitude == nil && r.Longitude == nil {
		return // a state vector without a position
	}
	if r.Latitude == nil || r.Longitude == nil {
		p.reject(p.startOf(e), rec, "latitude", errors.New("one of latitude and longitude without the other"))
		return
	}
	addr, icao, err := ingest.ParseICAO(r.ICAO24)
	if err != nil {
		p.reject(p.startOf(e), rec, "icao24", err)
		return
	}
	t, err := openSkyTime(r.Timestamp)
	if err != nil {
		p.reject(p.startOf(e), rec, "timestamp", err)
		return
	}
	var alt *float64
	switch {
	case r.Altitude != nil:
		alt = r.Altitude
	case r.GeoAltitude != nil:
		alt = r.GeoAltitude
	}
	cs := ""
	if r.Callsign != nil {
		cs = *r.Callsign
	}
	p.emit(e, rec, adsb{
		addr: addr, icao: icao, callsign: cs, t: t,
		lat: *r.Latitude, lon: *r.Longitude, altFt: alt, gs: r.Groundspeed, track: r.Track,
	})
}

// openSkyTime reads a timestamp: unix milliseconds (as the traffic library writes them), unix
// seconds (values below 1e11, i.e. before 1973 in milliseconds) or an RFC 3339 string.
func openSkyTime(raw json.RawMessage) (time.Time, error) {
	if len(raw) == 0 || ingest.IsNull(raw) {
		return time.Time{}, errors.New("no timestamp")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, fmt.Errorf("timestamp %s is not a string", raw)
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("timestamp %q is not RFC 3339", s)
		}
		return t.UTC(), nil
	}
	v, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp %s is not a unix time", clip(raw))
	}
	return unixTime(v)
}

// adsb is what every shape yields for one position.
type adsb struct {
	addr      uint32
	icao      string
	callsign  string
	t         time.Time
	lat, lon  float64
	altFt     *float64
	gs, track *float64
	military  bool
}

func (p *parser) emit(e elem, rec string, a adsb) {
	mil := a.military || p.opts.IsMilitaryICAO(a.addr)
	o := ingest.Observation{
		ID:       ingest.ADSBID(a.icao, a.t),
		Observed: a.t,
		Position: ingest.Position{Lat: a.lat, Lon: a.lon, SpeedK: a.gs, Course: a.track},
		Track:    &ingest.Track{ICAO: a.icao, Callsign: strings.TrimSpace(a.callsign)},
		Category: ingest.ADSBCategory(mil),
		Source:   ingest.SourceADSB,
		Military: mil,
	}
	if a.altFt != nil {
		m := ingest.FeetToMetres(*a.altFt)
		o.Position.AltM = &m
	}
	if err := ingest.Validate(&o); err != nil {
		err.Source, err.Record = p.opts.Name, rec
		err.Line, _ = p.lineCol(p.startOf(e))
		p.sink.Reject(err)
		return
	}
	p.sink.Observe(o)
}

// altitude reads a barometric altitude (feet, "ground" or null), falling back to the geometric
// one when it is null or absent.
func altitude(baro json.RawMessage, geom *float64) (*float64, error) {
	if len(baro) == 0 || ingest.IsNull(baro) {
		return geom, nil
	}
	if string(baro) == `"ground"` {
		return nil, nil
	}
	f, err := number(baro)
	if err != nil {
		return nil, fmt.Errorf("altitude %s is neither feet nor \"ground\"", clip(baro))
	}
	return f, nil
}

// number reads a JSON number or null.
func number(raw json.RawMessage) (*float64, error) {
	if ingest.IsNull(raw) {
		return nil, nil
	}
	v, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || len(raw) == 0 || raw[0] == '"' {
		return nil, fmt.Errorf("%s is not a number", clip(raw))
	}
	return &v, nil
}

// unixTime converts unix seconds, or milliseconds for values of 1e11 and more (1973 in
// milliseconds, year 5138 in seconds), to a UTC time rounded to the millisecond.
func unixTime(v float64) (time.Time, error) {
	if v >= 1e11 {
		v /= 1000
	}
	return secondsTime(v)
}

// secondsTime converts unix seconds to a UTC time rounded to the millisecond; it refuses times
// before 1970 or after 2286, which no receiver writes.
func secondsTime(v float64) (time.Time, error) {
	if !(v > 0 && v < 1e10) {
		return time.Time{}, fmt.Errorf("%v is not a unix time", v)
	}
	return time.UnixMilli(int64(math.Round(v * 1000))).UTC(), nil
}

// typeError rejects an element whose JSON does not fit the expected record.
func (p *parser) typeError(e elem, rec string, err error) {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			p.reject(p.startOf(e), rec, "", fmt.Errorf("%w: record is %s, want an object", ErrShape, ingest.JSONKind(e.raw)))
			return
		}
		want := "a number"
		if te.Type.Kind() == reflect.String {
			want = "a string"
		}
		p.reject(p.startOf(e), rec, te.Field, fmt.Errorf("%s is a JSON %s, want %s", te.Field, te.Value, want))
		return
	}
	p.reject(p.startOf(e), rec, "", fmt.Errorf("%w: %v", ErrShape, err))
}

func (p *parser) reject(off int64, rec, field string, err error) {
	p.sink.Reject(p.recordError(off, rec, field, err))
}

func (p *parser) recordError(off int64, rec, field string, err error) *ingest.RecordError {
	line, _ := p.lineCol(off)
	return &ingest.RecordError{Source: p.opts.Name, Line: line, Record: rec, Field: field, Err: err}
}

// startOf is the offset at which an element begins.
func (p *parser) startOf(e elem) int64 { return e.end - int64(len(e.raw)) }

// lineCol converts a byte offset to a 1-based line and column (in bytes).
func (p *parser) lineCol(off int64) (line, col int) {
	if p.lines == nil {
		p.lines = []int{}
		for i, c := range p.data {
			if c == '\n' {
				p.lines = append(p.lines, i)
			}
		}
	}
	o := int(min(max(off, 0), int64(len(p.data))))
	n := sort.SearchInts(p.lines, o) // newlines before o
	start := 0
	if n > 0 {
		start = p.lines[n-1] + 1
	}
	return n + 1, o - start + 1
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func clip(b []byte) string {
	s := string(b)
	if len(s) > 40 {
		return strings.ToValidUTF8(s[:40], "") + "…"
	}
	return s
}
