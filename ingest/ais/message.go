package ais

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	goais "github.com/BertoldVdb/go-ais"

	"github.com/truce-mission/truce/ingest"
)

// ShipTypeMilitary is the AIS ship type "engaged in military operations" (ITU-R M.1371, table 53).
const ShipTypeMilitary = 35

// staticInfo is what static messages say about a vessel.
type staticInfo struct {
	name, callsign string
	shipType       int
}

// MaxMessageBits is the longest message accepted: five slots of binary data (ITU-R M.1371,
// message 8), rounded up to whole armoring characters.
const MaxMessageBits = 1008 + 6

// minBits is the shortest payload, in bits, go-ais decodes for each type handled here. Type 5
// allows 420 (see NewDecoder); type 24 part A is 160 in practice, part B 168.
var minBits = [28]int{1: 168, 2: 168, 3: 168, 5: 420, 18: 168, 19: 312, 21: 272, 24: 160, 27: 96}

// shortSlack is how many trailing bits a message may lack and still be decoded, padded with
// zeros: some receivers get the fill bits wrong, and the bits lost are radio state and spares,
// never a field used here.
const shortSlack = 8

var typeText = [28]string{
	1:  "AIS 1: class A position report",
	2:  "AIS 2: class A position report (assigned)",
	3:  "AIS 3: class A position report (interrogated)",
	18: "AIS 18: class B position report",
	19: "AIS 19: class B extended position report",
	27: "AIS 27: long-range position report",
}

// message decodes one complete message: line is that of its first sentence.
func (d *Decoder) message(line int, payload string, fill int, t time.Time, timeKind int) {
	d.stats.Messages++
	bits := d.unarmor(payload, fill)
	if len(bits) > MaxMessageBits {
		d.stats.ByType[0]++
		d.reject(line, "payload", fmt.Errorf("%w: %d bits, longer than any AIS message (%d)", ErrDecode, len(bits), MaxMessageBits))
		return
	}
	if len(bits) < 38 {
		d.stats.ByType[0]++
		d.reject(line, "payload", fmt.Errorf("%w: %d bits, shorter than the 38-bit message header", ErrDecode, len(bits)))
		return
	}
	typ := int(uintBits(bits[0:6]))
	mmsi := uint32(uintBits(bits[8:38]))
	if typ > 27 {
		typ = 0
	}
	d.stats.ByType[typ]++
	if minBits[typ] == 0 {
		d.stats.Skipped++
		return
	}
	want := minBits[typ]
	if typ == 24 && len(bits) > 39 && bits[39] == 1 {
		want = 168
	}
	if len(bits) < want && len(bits) >= want-shortSlack {
		for len(bits) < want {
			bits = append(bits, 0)
		}
	}
	pkt, panicked := d.decode(bits)
	if pkt == nil {
		why := fmt.Sprintf("type %d message of %d bits is too short or malformed (want %d)", typ, len(bits), want)
		if panicked {
			why = fmt.Sprintf("type %d message of %d bits: the decoder failed", typ, len(bits))
		}
		d.reject(line, "payload", fmt.Errorf("%w: %s", ErrDecode, why))
		return
	}
	if timeKind == timeNone {
		t = d.opts.Clock().UTC()
	}

	switch p := pkt.(type) {
	case goais.PositionReport:
		d.vessel(line, typ, mmsi, t, float64(p.Latitude), float64(p.Longitude), speed10(p.Sog), course10(p.Cog))
	case goais.StandardClassBPositionReport:
		d.vessel(line, typ, mmsi, t, float64(p.Latitude), float64(p.Longitude), speed10(p.Sog), course10(p.Cog))
	case goais.ExtendedClassBPositionReport:
		d.remember(mmsi, p.Name, "", int(p.Type))
		d.vessel(line, typ, mmsi, t, float64(p.Latitude), float64(p.Longitude), speed10(p.Sog), course10(p.Cog))
	case goais.LongRangeAisBroadcastMessage:
		var sp, co *float64
		if p.Sog != 63 {
			sp = ptr(float64(p.Sog))
		}
		if p.Cog < 360 {
			co = ptr(float64(p.Cog))
		}
		d.vessel(line, typ, mmsi, t, float64(p.Latitude), float64(p.Longitude), sp, co)
	case goais.AidsToNavigationReport:
		d.aid(line, mmsi, t, p)
	case goais.ShipStaticData:
		d.stats.Static++
		d.remember(mmsi, p.Name, p.CallSign, int(p.Type))
	case goais.StaticDataReport:
		d.stats.Static++
		if p.PartNumber {
			d.remember(mmsi, "", p.ReportB.CallSign, int(p.ReportB.ShipType))
		} else {
			d.remember(mmsi, p.ReportA.Name, "", 0)
		}
	default: // go-ais decoded another type than the header says: cannot happen
		d.reject(line, "payload", fmt.Errorf("%w: type %d decoded as %T", ErrDecode, typ, pkt))
	}
}

// decode runs go-ais, turning a panic on hostile input into a refusal.
func (d *Decoder) decode(bits []byte) (p goais.Packet, panicked bool) {
	defer func() {
		if recover() != nil {
			p, panicked = nil, true
		}
	}()
	return d.codec.DecodePacket(bits), false
}

// unarmor turns a checked 6-bit armored payload into one byte per bit, as go-ais takes it. The
// returned slice is reused by the next call.
func (d *Decoder) unarmor(payload string, fill int) []byte {
	bits := d.bits[:0]
	for i := 0; i < len(payload); i++ {
		v, _ := sixbit(payload[i])
		bits = append(bits, v>>5&1, v>>4&1, v>>3&1, v>>2&1, v>>1&1, v&1)
	}
	if fill > len(bits) {
		fill = len(bits)
	}
	bits = bits[:len(bits)-fill]
	d.bits = bits
	return bits
}

func uintBits(b []byte) uint64 {
	var v uint64
	for _, x := range b {
		v = v<<1 | uint64(x)
	}
	return v
}

// The "not available" values of latitude and longitude.
const (
	latNA = 91
	lonNA = 181
)

// checkPosition refuses "not available" and out-of-range positions.
func (d *Decoder) checkPosition(line int, lat, lon float64) bool {
	latNone, lonNone := math.Abs(lat-latNA) < 1e-9, math.Abs(lon-lonNA) < 1e-9
	switch {
	case latNone && lonNone:
		d.reject(line, "lat", fmt.Errorf("%w: latitude 91 and longitude 181 mean not available", ErrNoPosition))
	case latNone:
		d.reject(line, "lat", fmt.Errorf("%w: latitude 91 means not available", ErrNoPosition))
	case lonNone:
		d.reject(line, "lon", fmt.Errorf("%w: longitude 181 means not available", ErrNoPosition))
	case lat < -90 || lat > 90:
		d.reject(line, "lat", fmt.Errorf("%w: latitude %.6f", ErrRange, lat))
	case lon < -180 || lon > 180:
		d.reject(line, "lon", fmt.Errorf("%w: longitude %.6f", ErrRange, lon))
	default:
		return true
	}
	return false
}

// vessel emits a position report of a ship.
func (d *Decoder) vessel(line, typ int, mmsi uint32, t time.Time, lat, lon float64, speed, course *float64) {
	if !d.checkPosition(line, lat, lon) {
		return
	}
	info := d.static[mmsi]
	military := info.shipType == ShipTypeMilitary || d.opts.MilitaryMMSI[mmsi]
	cat := CategoryCivilian
	if military {
		cat = CategoryNaval
	}
	d.observe(ingest.Observation{
		ID:       id(mmsi, t, line),
		Observed: t,
		Position: ingest.Position{Lon: lon, Lat: lat, SpeedK: speed, Course: course},
		Track:    &ingest.Track{MMSI: mmsi, Callsign: info.callsign, Name: info.name, ShipType: info.shipType},
		Category: cat,
		Source:   ingest.SourceAIS,
		Text:     typeText[typ],
		Military: military,
	})
}

// aid emits an aid to navigation's report (type 21): no category, a text naming it.
func (d *Decoder) aid(line int, mmsi uint32, t time.Time, p goais.AidsToNavigationReport) {
	lat, lon := float64(p.Latitude), float64(p.Longitude)
	if !d.checkPosition(line, lat, lon) {
		return
	}
	name := clean(clean(p.Name) + clean(p.NameExtension))
	var b strings.Builder
	b.WriteString("AIS 21: aid to navigation")
	if name != "" {
		fmt.Fprintf(&b, " %q", name)
	}
	fmt.Fprintf(&b, ", %s", aidTypes[p.Type&31])
	if p.VirtualAtoN {
		b.WriteString(", virtual")
	}
	if p.OffPosition {
		b.WriteString(", off position")
	}
	d.observe(ingest.Observation{
		ID:       id(mmsi, t, line),
		Observed: t,
		Position: ingest.Position{Lon: lon, Lat: lat},
		Track:    &ingest.Track{MMSI: mmsi, Name: name},
		Source:   ingest.SourceAIS,
		Text:     b.String(),
	})
}

// remember folds static data into the cache. Empty strings and ship type 0 mean "not available"
// and leave what is known.
func (d *Decoder) remember(mmsi uint32, name, callsign string, shipType int) {
	name, callsign = clean(name), clean(callsign)
	if name == "" && callsign == "" && shipType == 0 {
		return
	}
	info, ok := d.static[mmsi]
	if !ok && len(d.static) >= MaxStatic {
		for k := range d.static { // forget an arbitrary vessel
			delete(d.static, k)
			break
		}
	}
	if name != "" {
		info.name = name
	}
	if callsign != "" {
		info.callsign = callsign
	}
	if shipType != 0 {
		info.shipType = shipType
	}
	d.static[mmsi] = info
}

// clean cuts an AIS string at its first '@' (the terminator) and trims the space padding.
func clean(s string) string {
	if i := strings.IndexByte(s, '@'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// id is Observation.ID: "ais:<mmsi>:<unix-ms>:<line>".
func id(mmsi uint32, t time.Time, line int) string {
	b := make([]byte, 0, 48)
	b = append(b, "ais:"...)
	b = strconv.AppendUint(b, uint64(mmsi), 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, t.UnixMilli(), 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(line), 10)
	return string(b)
}

// speed10 reads a speed in tenths of a knot; 102.3 means not available.
func speed10(v goais.Field10) *float64 {
	if math.Round(float64(v)*10) >= 1023 {
		return nil
	}
	return ptr(float64(v))
}

// course10 reads a course in tenths of a degree; 360.0 means not available, more is invalid.
func course10(v goais.Field10) *float64 {
	if math.Round(float64(v)*10) >= 3600 {
		return nil
	}
	return ptr(float64(v))
}

func ptr(v float64) *float64 { return &v }

// aidTypes names the kinds of aid to navigation (ITU-R M.1371, table 74).
var aidTypes = [32]string{
	"type not specified", "reference point", "RACON", "fixed structure off shore",
	"spare", "light, without sectors", "light, with sectors", "leading light front",
	"leading light rear", "beacon, cardinal N", "beacon, cardinal E", "beacon, cardinal S",
	"beacon, cardinal W", "beacon, port hand", "beacon, starboard hand",
	"beacon, preferred channel port hand", "beacon, preferred channel starboard hand",
	"beacon, isolated danger", "beacon, safe water", "beacon, special mark",
	"cardinal mark N", "cardinal mark E", "cardinal mark S", "cardinal mark W",
	"port hand mark", "starboard hand mark", "preferred channel port hand",
	"preferred channel starboard hand", "isolated danger", "safe water", "special mark",
	"light vessel, LANBY or rig",
}
