// Package ais reads AIS ship transponder reports carried in NMEA 0183 sentences (!AIVDM and
// !AIVDO, any talker) and turns the position reports into [ingest.Observation] values.
//
// # What it reads
//
// One sentence per line, as written by AIS receivers, gpsd and AIS aggregators:
//
//   - an optional leading timestamp: a Unix time in seconds, milliseconds, microseconds or
//     nanoseconds ("1550303566167726840 !AIVDM,..."), with an optional decimal fraction, or an
//     RFC 3339 time;
//   - an optional NMEA 4.10 tag block ("\c:1577836800,s:station*hh\"), whose checksum is
//     verified when it has one;
//   - the sentence itself, whose checksum is required and verified;
//   - an optional US Coast Guard (NAIS) trailer after the checksum (",s28089,d-103,...,1242958962"),
//     whose last field, when it is a Unix time in seconds, is the reception time.
//
// Blank lines, comments ("#") and NMEA sentences other than VDM/VDO (a GPS's $GPRMC, say) are
// ignored and counted. Any other line is refused as a [ingest.RecordError]; the stream goes on.
//
// The observation time is, in order of preference, the tag block's c: time (seconds or
// milliseconds), the leading timestamp, the NAIS trailer's time, and the reception clock
// ([ingest.Options.Clock]). For a message in several sentences the first sentence that carries
// a time gives it.
//
// # Multi-sentence messages
//
// Fragments are grouped by talker, VDM/VDO, channel, sequential message id and tag block source
// (s:). A group must arrive in order. A group that is superseded (a new first fragment with the
// same key), broken (a fragment out of order) or left incomplete for [GroupWindow] AIS sentences
// or at the end of the input is refused with the reason, on the line of its first fragment; an
// orphan fragment is refused on its own line. Nothing is dropped silently.
//
// # Messages
//
//   - Types 1, 2, 3 (class A), 18, 19 (class B) and 27 (long range) become observations with
//     Source [ingest.SourceAIS], a Track with the MMSI, and speed and course when the message has
//     them. Latitude 91 and longitude 181 ("not available") and other out-of-range positions are
//     refused with field "lat" or "lon" and [ErrNoPosition] or [ErrRange].
//   - Type 21 (aid to navigation) becomes an observation with an empty Category and a Text naming
//     the aid and its kind.
//   - Types 5 and 24 (static data) and the static part of type 19 update a per-MMSI cache (name,
//     callsign, ship type) that enriches later position observations of that MMSI. They emit
//     nothing themselves; [Stats.Static] counts them.
//   - Every other type is skipped without error and counted in [Stats.Skipped] and
//     [Stats.ByType].
//
// # Military and categories
//
// A vessel is military when its ship type (from type 5, 19 or 24) is 35, "engaged in military
// operations", or its MMSI is in [ingest.Options.MilitaryMMSI]. Ship type 55 (law enforcement) is
// not military: coast guards and police are civilian state vessels under most agreements, and an
// agreement that treats particular ones otherwise lists their MMSIs. Naval MMSI numbering
// conventions are not used: they are national and unreliable. Military vessels get Category
// "naval-vessel", all other vessels "civilian-traffic"; these are the category ids agreements
// map, so an agreement must define both ids for AIS traffic to be classified.
//
// # Identity
//
// Observation.ID is "ais:<mmsi>:<unix-ms>:<line>", line being the line of the message's first
// sentence. Parsing the same file again gives the same ids when the data carries its own times
// (tag blocks, timestamps); a stream timed by the reception clock gets new ids each time.
//
// # Limits
//
// Only the message types above are decoded; binary messages (6, 8), SAR aircraft (9), base
// stations (4) and safety text (12, 14) are counted and skipped. The flag state (the MMSI's
// maritime identification digits) is not mapped to a party. The static cache holds at most
// [MaxStatic] vessels; beyond that an arbitrary entry is forgotten. Message payloads are decoded
// by github.com/BertoldVdb/go-ais; framing, tag blocks and reassembly are done here, so that
// every refusal has a line and a reason.
package ais

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	goais "github.com/BertoldVdb/go-ais"

	"github.com/truce-mission/truce/ingest"
)

// GroupWindow is how many AIS sentences a multi-sentence message may wait for its next fragment
// before it is refused as incomplete. Fragments of one message are sent back to back, so a few
// sentences are plenty even with two channels and several receivers interleaved.
const GroupWindow = 32

// MaxLine is the longest line read, in bytes. An NMEA sentence is at most 82 characters; the rest
// leaves room for tag blocks, timestamps and NAIS trailers. Longer lines are refused.
const MaxLine = 4096

// MaxStatic is the most vessels whose static data (name, callsign, ship type) the cache keeps.
const MaxStatic = 1 << 17

// The categories given to vessel observations. Agreements map category ids; these two are the
// ones AIS traffic is classified into.
const (
	CategoryNaval    = "naval-vessel"
	CategoryCivilian = "civilian-traffic"
)

// Sentinel errors wrapped by the record errors, for callers that count or branch on reasons.
var (
	// ErrSyntax means the line is not a well-formed sentence, tag block or timestamp.
	ErrSyntax = errors.New("malformed")
	// ErrChecksum means the sentence or tag block checksum is missing or wrong.
	ErrChecksum = errors.New("bad checksum")
	// ErrFragment means a multi-sentence message is incomplete, out of order or superseded.
	ErrFragment = errors.New("bad fragment")
	// ErrDecode means the payload is too short, too long or invalid for its message type.
	ErrDecode = errors.New("undecodable")
	// ErrNoPosition means the message says its position is not available (lat 91, lon 181).
	ErrNoPosition = errors.New("position not available")
	// ErrRange means a latitude or longitude is outside its range (other than "not available").
	ErrRange = errors.New("out of range")
)

// Stats counts what a Decoder has read.
type Stats struct {
	Lines        int     // lines read
	Ignored      int     // blank lines, comments and non-AIS NMEA sentences
	Sentences    int     // AIS sentences accepted (well formed, checksum right)
	Messages     int     // complete messages (single or reassembled)
	Reassembled  int     // complete messages of more than one sentence
	ByType       [28]int // complete messages by type; index 0 for types 0 and 28–63 and for messages too short or long to have one
	Observations int     // observations emitted
	Static       int     // static messages folded into the cache (types 5, 24)
	Skipped      int     // messages of types not turned into observations or static data
	Rejected     int     // records refused
}

// Decoder reads AIS NMEA streams. It keeps the per-MMSI static cache and the counts across calls
// of Decode, so a feed that reconnects keeps its ship names. A Decoder is not safe for concurrent
// use.
type Decoder struct {
	opts   ingest.Options
	codec  *goais.Codec
	static map[uint32]staticInfo
	stats  Stats

	// Per stream.
	sink      ingest.Sink
	sentences int // AIS sentences seen in this stream, for GroupWindow
	pending   []*group
	bits      []byte
}

// NewDecoder returns a Decoder for one source.
func NewDecoder(opts ingest.Options) *Decoder {
	// Accept type 5 messages of 420 bits (some transmitters drop the last two spare bits); use the
	// generated, reflection-free decoder.
	c := goais.CodecNewFast(false, true, true)
	c.DropSpace = true
	return &Decoder{opts: opts, codec: c, static: make(map[uint32]staticInfo)}
}

// Parse reads AIS NMEA from r to its end, sending observations and refusals to sink. It is an
// [ingest.ParseFunc]; use a [Decoder] to keep the counts or the static cache.
func Parse(r io.Reader, opts ingest.Options, sink ingest.Sink) error {
	return NewDecoder(opts).Decode(r, sink)
}

var _ ingest.ParseFunc = Parse

// Stats returns the counts so far.
func (d *Decoder) Stats() Stats { return d.stats }

// Decode reads r to its end (or a read error, which it returns), sending observations and
// refusals to sink in input order, except that an incomplete multi-sentence message is refused
// (on the line of its first sentence) only once it is found incomplete. Line numbers start at 1
// for each call. Incomplete messages at the end are refused, not carried over to the next call.
func (d *Decoder) Decode(r io.Reader, sink ingest.Sink) error {
	d.sink = sink
	d.sentences = 0
	d.pending = d.pending[:0]
	defer func() { d.sink = nil }()

	br := bufio.NewReaderSize(r, MaxLine)
	line := 0
	for {
		b, err := br.ReadSlice('\n')
		if len(b) > 0 {
			line++
			d.stats.Lines++
			if err == bufio.ErrBufferFull {
				// Skip the rest of the overlong line.
				for err == bufio.ErrBufferFull {
					_, err = br.ReadSlice('\n')
				}
				d.reject(line, "", fmt.Errorf("%w: line longer than %d bytes", ErrSyntax, MaxLine))
			} else {
				d.line(line, string(b))
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			d.flush(line, "at a read error")
			return fmt.Errorf("reading %s: %w", d.opts.Name, err)
		}
	}
	d.flush(line, "at the end of the input")
	return nil
}

func (d *Decoder) reject(line int, field string, err error) {
	d.stats.Rejected++
	d.sink.Reject(&ingest.RecordError{Source: d.opts.Name, Line: line, Field: field, Err: err})
}

func (d *Decoder) observe(o ingest.Observation) {
	d.stats.Observations++
	d.sink.Observe(o)
}

// quote shortens s for an error message.
func quote(s string) string {
	const n = 40
	if len(s) > n {
		return fmt.Sprintf("%q…", s[:n])
	}
	return fmt.Sprintf("%q", s)
}
