// Package geojson reads observations from GeoJSON (RFC 7946): a FeatureCollection, or a single
// Feature, of Point features whose properties carry the observation's fields.
//
// # Properties
//
//	id               string (or the feature's own "id", string or number)
//	observed         RFC 3339 time with a zone, required
//	category         string, an agreement category id
//	count            whole number ≥ 0
//	claimed_party    string
//	assessed_party   string
//	source           a source kind name ("ground-monitor", "uav", "satellite", …)
//	reliability      "A"–"F"
//	credibility      whole number 1–6
//	text             string
//	attachments      array of "sha256:<64 hex>" digests (or one space-separated string)
//	alt_m            metres above mean sea level (else the third coordinate, if any)
//
// Other properties are ignored; a null property is the same as an absent one. The geometry
// must be a Point of [lon, lat] or [lon, lat, alt_m].
//
// # Errors
//
// Malformed JSON refuses the whole input with one rejection naming its line and column; nothing
// is emitted from it. A bad feature is rejected with its line and the JSON path of the value at
// fault ("features[3].properties.observed", "features[3].geometry.coordinates[1]"), and the other
// features are still read. A feature repeating an earlier feature's id is rejected.
package geojson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/truce-mission/truce/ingest"
)

// MaxBytes bounds the input; it is read whole.
const MaxBytes = 64 << 20

// maxBytes is MaxBytes; tests lower it.
var maxBytes = MaxBytes

// Sentinel errors the rejections of whole inputs wrap.
var (
	// ErrSyntax: the input is not JSON.
	ErrSyntax = errors.New("malformed JSON")
	// ErrTooLarge: the input is longer than MaxBytes.
	ErrTooLarge = errors.New("input too large")
	// ErrNotGeoJSON: the JSON is not a FeatureCollection or a Feature.
	ErrNotGeoJSON = errors.New("not a GeoJSON FeatureCollection or Feature")
)

// Parse reads GeoJSON from r; it is an [ingest.ParseFunc].
func Parse(r io.Reader, opts ingest.Options, sink ingest.Sink) error {
	data, err := io.ReadAll(io.LimitReader(r, int64(maxBytes)+1))
	if err != nil {
		return err
	}
	p := &parser{opts: opts, sink: sink, data: data, seen: map[string]int{}}
	if len(data) > maxBytes {
		p.reject(0, "", fmt.Errorf("%w: more than %d bytes", ErrTooLarge, maxBytes))
		return nil
	}
	if !p.checkSyntax() {
		return nil
	}
	p.top()
	return nil
}

type parser struct {
	opts  ingest.Options
	sink  ingest.Sink
	data  []byte
	lines []int          // offsets of '\n', built on first use
	seen  map[string]int // feature id -> line
}

// checkSyntax rejects malformed JSON, or anything after the first value, with its line and
// column.
func (p *parser) checkSyntax() bool {
	dec := json.NewDecoder(bytes.NewReader(p.data))
	var v json.RawMessage
	err := dec.Decode(&v)
	if err == nil {
		off := skipSpace(p.data, int(dec.InputOffset()))
		if off < len(p.data) {
			line, col := p.lineCol(int64(off))
			p.reject(line, "", fmt.Errorf("%w: column %d: data after the top-level value", ErrSyntax, col))
			return false
		}
		return true
	}
	off := int64(len(p.data))
	msg := "unexpected end of input"
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		off, msg = se.Offset, se.Error()
		if off > 0 {
			off-- // the offset is just past the offending byte
		}
	case err == io.EOF:
		msg = "empty input"
	}
	line, col := p.lineCol(off)
	p.reject(line, "", fmt.Errorf("%w: column %d: %s", ErrSyntax, col, msg))
	return false
}

// top reads the FeatureCollection or Feature.
func (p *parser) top() {
	var head struct {
		Type     json.RawMessage `json:"type"`
		Features json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(p.data, &head); err != nil {
		p.reject(1, "", fmt.Errorf("%w: the top-level value is not an object", ErrNotGeoJSON))
		return
	}
	var typ string
	if err := json.Unmarshal(head.Type, &typ); err != nil {
		p.reject(1, "type", fmt.Errorf("%w: \"type\" is %s", ErrNotGeoJSON, describe(head.Type)))
		return
	}
	switch typ {
	case "Feature":
		start := skipSpace(p.data, 0)
		line, _ := p.lineCol(int64(start))
		p.feature(line, "", p.data)
	case "FeatureCollection":
		p.collection()
	default:
		p.reject(1, "type", fmt.Errorf("%w: type %q", ErrNotGeoJSON, ingest.Clip(typ)))
	}
}

// collection walks "features" with a token decoder, to know where each feature starts.
func (p *parser) collection() {
	dec := json.NewDecoder(bytes.NewReader(p.data))
	dec.Token() // '{'; the syntax is already checked
	for dec.More() {
		tok, _ := dec.Token()
		if key, _ := tok.(string); key != "features" {
			var skip json.RawMessage
			dec.Decode(&skip)
			continue
		}
		start := skipSpace(p.data, int(dec.InputOffset()))
		if start < len(p.data) && p.data[start] == ':' {
			start = skipSpace(p.data, start+1)
		}
		if start >= len(p.data) || p.data[start] != '[' {
			var v json.RawMessage
			dec.Decode(&v)
			line, _ := p.lineCol(int64(start))
			p.reject(line, "features", fmt.Errorf("%w: \"features\" is %s, want an array", ErrNotGeoJSON, describe(v)))
			return
		}
		dec.Token() // '['
		for i := 0; dec.More(); i++ {
			var raw json.RawMessage
			dec.Decode(&raw)
			off := dec.InputOffset() - int64(len(raw))
			line, _ := p.lineCol(off)
			p.feature(line, fmt.Sprintf("features[%d]", i), raw)
		}
		return
	}
	p.reject(1, "features", fmt.Errorf("%w: FeatureCollection without \"features\"", ErrNotGeoJSON))
}

// feature reads one feature; path is its JSON path ("features[3]", or "" for a lone Feature).
func (p *parser) feature(line int, path string, raw json.RawMessage) {
	at := func(s string) string {
		if path == "" {
			return s
		}
		if s == "" {
			return path
		}
		return path + "." + s
	}
	var f struct {
		Type       json.RawMessage `json:"type"`
		ID         json.RawMessage `json:"id"`
		Geometry   json.RawMessage `json:"geometry"`
		Properties json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		p.reject(line, at(""), fmt.Errorf("feature is %s, want an object", describe(raw)))
		return
	}
	if typ, ok := str(f.Type); !ok || typ != "Feature" {
		p.reject(line, at("type"), fmt.Errorf("type is %s, want \"Feature\"", describe(f.Type)))
		return
	}
	o, where, err := p.observation(f.ID, f.Geometry, f.Properties)
	if err != nil {
		p.reject(line, at(where), err)
		return
	}
	if e := ingest.Validate(&o); e != nil {
		e.Source, e.Line, e.Record = p.opts.Name, line, at(validatePath(e.Field, f.Properties, f.ID))
		e.Field = ""
		p.sink.Reject(e)
		return
	}
	if first, dup := p.seen[o.ID]; dup {
		p.reject(line, at(idPath(f.Properties)), fmt.Errorf("id %q already used by the feature on line %d", o.ID, first))
		return
	}
	p.seen[o.ID] = line
	p.sink.Observe(o)
}

// observation converts a feature's parts; on failure it returns the path (under the feature) of
// the value at fault.
func (p *parser) observation(id, geometry, properties json.RawMessage) (o ingest.Observation, where string, err error) {
	// Geometry.
	if len(geometry) == 0 || ingest.IsNull(geometry) {
		return o, "geometry", errors.New("no geometry; want a Point")
	}
	var g struct {
		Type        json.RawMessage   `json:"type"`
		Coordinates []json.RawMessage `json:"coordinates"`
	}
	if err := json.Unmarshal(geometry, &g); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "coordinates" {
			return o, "geometry.coordinates", errors.New("coordinates are not an array")
		}
		return o, "geometry", fmt.Errorf("geometry is %s, want an object", describe(geometry))
	}
	if typ, ok := str(g.Type); !ok || typ != "Point" {
		return o, "geometry.type", fmt.Errorf("geometry type is %s; only Point is read", describe(g.Type))
	}
	if n := len(g.Coordinates); n != 2 && n != 3 {
		return o, "geometry.coordinates", fmt.Errorf("a Point has %d coordinates, want [lon, lat] or [lon, lat, alt]", n)
	}
	var c [3]float64
	for i, raw := range g.Coordinates {
		v, ok := num(raw)
		if !ok {
			return o, fmt.Sprintf("geometry.coordinates[%d]", i), fmt.Errorf("coordinate is %s, want a number", describe(raw))
		}
		c[i] = v
	}
	o.Position.Lon, o.Position.Lat = c[0], c[1]
	if len(g.Coordinates) == 3 {
		alt := c[2]
		o.Position.AltM = &alt
	}

	// Properties.
	props := map[string]json.RawMessage{}
	if len(properties) > 0 && !ingest.IsNull(properties) {
		if err := json.Unmarshal(properties, &props); err != nil {
			return o, "properties", fmt.Errorf("properties are %s, want an object", describe(properties))
		}
	}
	for k, v := range props {
		if ingest.IsNull(v) {
			delete(props, k)
		}
	}
	text := func(key string, dst *string) error {
		v, ok := props[key]
		if !ok {
			return nil
		}
		s, isStr := str(v)
		if !isStr {
			return fmt.Errorf("%s is %s, want a string", key, describe(v))
		}
		*dst = s
		return nil
	}
	integer := func(key string, dst *int) error {
		v, ok := props[key]
		if !ok {
			return nil
		}
		n, err := strconv.Atoi(string(v))
		if err != nil {
			return fmt.Errorf("%s is %s, want a whole number", key, describe(v))
		}
		*dst = n
		return nil
	}
	for _, s := range []struct {
		key string
		dst *string
	}{
		{"category", &o.Category}, {"claimed_party", &o.ClaimedParty}, {"assessed_party", &o.AssessedParty},
		{"reliability", &o.Reliability}, {"text", &o.Text},
	} {
		if err := text(s.key, s.dst); err != nil {
			return o, "properties." + s.key, err
		}
	}
	if err := integer("count", &o.Count); err != nil {
		return o, "properties.count", err
	}
	if err := integer("credibility", &o.Credibility); err != nil {
		return o, "properties.credibility", err
	}
	if v, ok := props["id"]; ok {
		if o.ID, ok = idString(v); !ok {
			return o, "properties.id", fmt.Errorf("id is %s, want a string", describe(v))
		}
	} else if len(id) > 0 && !ingest.IsNull(id) {
		if o.ID, ok = idString(id); !ok {
			return o, "id", fmt.Errorf("id is %s, want a string or a number", describe(id))
		}
	}
	var observed string
	if err := text("observed", &observed); err != nil {
		return o, "properties.observed", err
	}
	if observed == "" {
		return o, "properties.observed", errors.New("no observed time; want RFC 3339 such as 2026-12-05T08:00:00Z")
	}
	t, err := time.Parse(time.RFC3339Nano, observed)
	if err != nil {
		return o, "properties.observed", fmt.Errorf("%q is not an RFC 3339 time such as 2026-12-05T08:00:00Z", ingest.Clip(observed))
	}
	o.Observed = t.UTC()
	var source string
	if err := text("source", &source); err != nil {
		return o, "properties.source", err
	}
	if source != "" {
		if err := o.Source.UnmarshalText([]byte(source)); err != nil {
			return o, "properties.source", fmt.Errorf("unknown source kind %q", ingest.Clip(source))
		}
	}
	if v, ok := props["alt_m"]; ok {
		alt, isNum := num(v)
		if !isNum {
			return o, "properties.alt_m", fmt.Errorf("alt_m is %s, want a number of metres", describe(v))
		}
		if o.Position.AltM != nil && *o.Position.AltM != alt {
			return o, "properties.alt_m", fmt.Errorf("alt_m %v disagrees with the third coordinate %v", alt, *o.Position.AltM)
		}
		o.Position.AltM = &alt
	}
	if v, ok := props["attachments"]; ok {
		if s, isStr := str(v); isStr {
			o.Attachments = strings.Fields(s)
		} else if err := json.Unmarshal(v, &o.Attachments); err != nil {
			return o, "properties.attachments", fmt.Errorf("attachments are %s, want an array of strings", describe(v))
		}
		if len(o.Attachments) == 0 {
			o.Attachments = nil
		}
	}
	return o, "", nil
}

// validatePath maps a field ingest.Validate names to its JSON path under the feature.
func validatePath(field string, properties, id json.RawMessage) string {
	switch field {
	case "lon":
		return "geometry.coordinates[0]"
	case "lat":
		return "geometry.coordinates[1]"
	case "alt_m":
		if hasProperty(properties, "alt_m") {
			return "properties.alt_m"
		}
		return "geometry.coordinates[2]"
	case "id":
		return idPath(properties)
	}
	return "properties." + field
}

func idPath(properties json.RawMessage) string {
	if hasProperty(properties, "id") {
		return "properties.id"
	}
	return "id"
}

func hasProperty(properties json.RawMessage, key string) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(properties, &m) != nil {
		return false
	}
	v, ok := m[key]
	return ok && !ingest.IsNull(v)
}

func (p *parser) reject(line int, rec string, err error) {
	p.sink.Reject(&ingest.RecordError{Source: p.opts.Name, Line: line, Record: rec, Err: err})
}

// str reads a JSON string.
func str(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// num reads a finite JSON number.
func num(raw json.RawMessage) (float64, bool) {
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(raw), 64)
	return v, err == nil && !math.IsInf(v, 0)
}

// idString reads an id: a string, or a number written as it is.
func idString(raw json.RawMessage) (string, bool) {
	if s, ok := str(raw); ok {
		return s, true
	}
	if _, ok := num(raw); ok {
		return string(raw), true
	}
	return "", false
}

// describe names a JSON value's kind for a message, quoting short scalars.
func describe(raw json.RawMessage) string {
	switch k := ingest.JSONKind(raw); k {
	case "a string", "a number":
		return "the " + k[2:] + " " + ingest.Clip(string(raw))
	default:
		return k
	}
}

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
	n := sort.SearchInts(p.lines, o)
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
