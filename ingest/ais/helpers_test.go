package ais

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	goais "github.com/BertoldVdb/go-ais"

	"github.com/truce-mission/truce/ingest"
	"github.com/truce-mission/truce/internal/refdata"
)

// readData returns a reference file's bytes (see package refdata), failing the test when it
// is missing.
func readData(tb testing.TB, rel string) []byte {
	tb.Helper()
	return refdata.Read(tb, rel)
}

// event is what the sink saw, in order.
type event struct {
	obs *ingest.Observation
	rej *ingest.RecordError
}

// collector is an ingest.Sink keeping everything in order.
type collector struct {
	events []event
	obs    []ingest.Observation
	rejs   []*ingest.RecordError
}

func (c *collector) Observe(o ingest.Observation) {
	c.obs = append(c.obs, o)
	c.events = append(c.events, event{obs: &o})
}

func (c *collector) Reject(e *ingest.RecordError) {
	c.rejs = append(c.rejs, e)
	c.events = append(c.events, event{rej: e})
}

var fixedTime = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func testOpts() ingest.Options {
	return ingest.Options{Name: "test.nmea", Now: func() time.Time { return fixedTime }}
}

// decode runs a Decoder over s and returns what it emitted and its counts.
func decode(t testing.TB, s string, opts ingest.Options) (*collector, Stats) {
	t.Helper()
	d := NewDecoder(opts)
	c := &collector{}
	if err := d.Decode(strings.NewReader(s), c); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return c, d.Stats()
}

// reason names a refusal's sentinel, for counting.
func reason(err error) string {
	for _, s := range []error{ErrSyntax, ErrChecksum, ErrFragment, ErrDecode, ErrNoPosition, ErrRange} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "other"
}

func countReasons(rejs []*ingest.RecordError) map[string]int {
	m := map[string]int{}
	for _, r := range rejs {
		m[reason(r.Err)+" ("+r.Field+")"]++
	}
	return m
}

func formatCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %d; ", k, m[k])
	}
	return b.String()
}

// The rest builds sentences for synthetic tests, with go-ais's encoder.

var testCodec = goais.CodecNew(false, false)

// armor turns a packet into its 6-bit payload and fill bits.
func armor(t testing.TB, p goais.Packet) (string, int) {
	t.Helper()
	bits := testCodec.EncodePacket(p)
	if bits == nil {
		t.Fatalf("cannot encode %#v", p)
	}
	return armorBits(bits)
}

func armorBits(bits []byte) (string, int) {
	fill := (6 - len(bits)%6) % 6
	for i := 0; i < fill; i++ {
		bits = append(bits, 0)
	}
	var b strings.Builder
	for i := 0; i < len(bits); i += 6 {
		v := byte(uintBits(bits[i : i+6]))
		c := v + '0'
		if c > 'W' {
			c += 8
		}
		b.WriteByte(c)
	}
	return b.String(), fill
}

// nmea wraps one fragment in a sentence with its checksum.
func nmea(talker string, total, num int, seq, channel, payload string, fill int) string {
	body := fmt.Sprintf("%sVDM,%d,%d,%s,%s,%s,%d", talker, total, num, seq, channel, payload, fill)
	return fmt.Sprintf("!%s*%02X", body, xor(body))
}

// sentences splits a packet into sentences of at most n payload characters.
func sentences(t testing.TB, p goais.Packet, seq, channel string, n int) []string {
	t.Helper()
	pl, fill := armor(t, p)
	var parts []string
	for len(pl) > n {
		parts = append(parts, pl[:n])
		pl = pl[n:]
	}
	parts = append(parts, pl)
	var out []string
	for i, part := range parts {
		f := 0
		if i == len(parts)-1 {
			f = fill
		}
		out = append(out, nmea("AI", len(parts), i+1, seq, channel, part, f))
	}
	return out
}

// tagBlock wraps fields in a tag block with its checksum.
func tagBlock(fields string) string {
	return fmt.Sprintf("\\%s*%02X\\", fields, xor(fields))
}

func position(mmsi uint32, lat, lon float64) goais.PositionReport {
	return goais.PositionReport{
		Header:    goais.Header{MessageID: 1, UserID: mmsi},
		Valid:     true,
		Sog:       12.3,
		Latitude:  goais.FieldLatLonFine(lat),
		Longitude: goais.FieldLatLonFine(lon),
		Cog:       224,
		Timestamp: 60,
	}
}

func shipStatic(mmsi uint32, name, callsign string, shipType uint8) goais.ShipStaticData {
	return goais.ShipStaticData{
		Header:      goais.Header{MessageID: 5, UserID: mmsi},
		Valid:       true,
		CallSign:    callsign,
		Name:        name,
		Type:        shipType,
		Destination: "PORT",
	}
}
