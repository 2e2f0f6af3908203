package ais

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Where a message's time came from, best last: a later kind replaces an earlier one.
const (
	timeNone    = iota
	timeTrailer // NAIS trailer after the checksum
	timePrefix  // a timestamp before the sentence
	timeTag     // the tag block's c: field
)

// sentence is one AIS sentence, framed and checked.
type sentence struct {
	line     int
	talker   string
	vdo      bool
	total    int  // fragments in the message, 1–9
	num      int  // this fragment, 1–total
	seq      byte // sequential message id, 0 when empty
	channel  byte // radio channel, 0 when empty
	payload  string
	fill     int
	t        time.Time
	timeKind int
	source   string // tag block s:
}

// line handles one line of input.
func (d *Decoder) line(n int, raw string) {
	s := strings.TrimSpace(raw)
	if s == "" || s[0] == '#' {
		d.stats.Ignored++
		return
	}
	i := strings.IndexAny(s, "!\\$")
	if i < 0 {
		d.reject(n, "", fmt.Errorf("%w: not an NMEA sentence: %s", ErrSyntax, quote(s)))
		return
	}
	st := sentence{line: n}
	if i > 0 {
		p := strings.TrimRight(s[:i], " \t,;|")
		t, ok := parseTimestamp(p)
		if !ok {
			d.reject(n, "timestamp", fmt.Errorf("%w: unrecognised prefix %s", ErrSyntax, quote(p)))
			return
		}
		st.t, st.timeKind = t, timePrefix
	}
	s = s[i:]
	if s[0] == '\\' {
		end := strings.IndexByte(s[1:], '\\')
		if end < 0 {
			d.reject(n, "tagblock", fmt.Errorf("%w: unterminated tag block", ErrSyntax))
			return
		}
		if err := parseTagBlock(s[1:1+end], &st); err != nil {
			d.reject(n, "tagblock", err)
			return
		}
		s = s[2+end:]
	}
	if s == "" || s[0] != '!' {
		if s != "" && s[0] == '$' {
			d.stats.Ignored++ // another NMEA sentence, a GPS fix say
			return
		}
		d.reject(n, "", fmt.Errorf("%w: not an NMEA sentence after the tag block: %s", ErrSyntax, quote(s)))
		return
	}
	if field, err := parseSentence(s, &st); err != nil {
		if err == errNotAIS {
			d.stats.Ignored++
			return
		}
		d.reject(n, field, err)
		return
	}
	d.sentence(&st)
}

// errNotAIS marks a well-enough formed encapsulated sentence that is not VDM or VDO.
var errNotAIS = fmt.Errorf("not an AIS sentence")

// parseSentence checks and splits "!AIVDM,2,1,3,B,<payload>,0*hh[trailer]" into st. It returns
// the field at fault with the error.
func parseSentence(s string, st *sentence) (field string, err error) {
	star := strings.IndexByte(s, '*')
	body := s[1:]
	if star >= 0 {
		body = s[1:star]
	}
	comma := strings.IndexByte(body, ',')
	addr := body
	if comma >= 0 {
		addr = body[:comma]
	}
	if len(addr) != 5 || (addr[2:] != "VDM" && addr[2:] != "VDO") {
		return "", errNotAIS
	}
	if !isUpper(addr[0]) || !isUpper(addr[1]) {
		return "talker", fmt.Errorf("%w: talker %s", ErrSyntax, quote(addr[:2]))
	}
	st.talker, st.vdo = addr[:2], addr[2:] == "VDO"
	if star < 0 {
		return "checksum", fmt.Errorf("%w: missing", ErrChecksum)
	}
	if len(s) < star+3 {
		return "checksum", fmt.Errorf("%w: truncated %s", ErrChecksum, quote(s[star:]))
	}
	want, ok := hexByte(s[star+1], s[star+2])
	if !ok {
		return "checksum", fmt.Errorf("%w: not hexadecimal: %s", ErrChecksum, quote(s[star+1:star+3]))
	}
	if got := xor(body); got != want {
		return "checksum", fmt.Errorf("%w: sentence says %02X, computed %02X", ErrChecksum, want, got)
	}
	if trailer := s[star+3:]; trailer != "" && trailer[0] == ',' && st.timeKind < timeTrailer {
		if t, ok := naisTime(trailer); ok {
			st.t, st.timeKind = t, timeTrailer
		}
	}

	// addr, total, num, seq, channel, payload, fill
	var f [7]string
	k := 0
	for k < 6 {
		c := strings.IndexByte(body, ',')
		if c < 0 {
			break
		}
		f[k], body = body[:c], body[c+1:]
		k++
	}
	f[k] = body
	if k != 6 {
		return "", fmt.Errorf("%w: %d fields, want 7", ErrSyntax, k+1)
	}
	if len(f[1]) != 1 || f[1][0] < '1' || f[1][0] > '9' {
		return "fragments", fmt.Errorf("%w: fragment count %s", ErrSyntax, quote(f[1]))
	}
	st.total = int(f[1][0] - '0')
	if len(f[2]) != 1 || f[2][0] < '1' || int(f[2][0]-'0') > st.total {
		return "fragment", fmt.Errorf("%w: fragment number %s of %d", ErrSyntax, quote(f[2]), st.total)
	}
	st.num = int(f[2][0] - '0')
	switch {
	case f[3] == "":
	case len(f[3]) == 1 && f[3][0] >= '0' && f[3][0] <= '9':
		st.seq = f[3][0]
	default:
		return "sequence", fmt.Errorf("%w: sequential message id %s", ErrSyntax, quote(f[3]))
	}
	switch {
	case f[4] == "":
	case len(f[4]) == 1 && f[4][0] > ' ' && f[4][0] < 0x7f:
		st.channel = f[4][0]
	default:
		return "channel", fmt.Errorf("%w: channel %s", ErrSyntax, quote(f[4]))
	}
	if f[5] == "" {
		return "payload", fmt.Errorf("%w: empty payload", ErrSyntax)
	}
	for i := 0; i < len(f[5]); i++ {
		if _, ok := sixbit(f[5][i]); !ok {
			return "payload", fmt.Errorf("%w: character %q at %d is not 6-bit armoring", ErrSyntax, f[5][i], i+1)
		}
	}
	st.payload = f[5]
	if len(f[6]) != 1 || f[6][0] < '0' || f[6][0] > '5' {
		return "fill", fmt.Errorf("%w: fill bits %s, want 0–5", ErrSyntax, quote(f[6]))
	}
	st.fill = int(f[6][0] - '0')
	return "", nil
}

// parseTagBlock reads the inside of an NMEA 4.10 tag block, "c:1577836800,s:station*hh".
func parseTagBlock(tb string, st *sentence) error {
	body := tb
	if star := strings.IndexByte(tb, '*'); star >= 0 {
		body = tb[:star]
		cs := tb[star+1:]
		if len(cs) != 2 {
			return fmt.Errorf("%w: tag block checksum %s", ErrChecksum, quote(cs))
		}
		want, ok := hexByte(cs[0], cs[1])
		if !ok {
			return fmt.Errorf("%w: tag block checksum not hexadecimal: %s", ErrChecksum, quote(cs))
		}
		if got := xor(body); got != want {
			return fmt.Errorf("%w: tag block says %02X, computed %02X", ErrChecksum, want, got)
		}
	}
	for body != "" {
		var kv string
		if c := strings.IndexByte(body, ','); c >= 0 {
			kv, body = body[:c], body[c+1:]
		} else {
			kv, body = body, ""
		}
		k, v, ok := strings.Cut(kv, ":")
		if !ok || k == "" {
			return fmt.Errorf("%w: tag block field %s is not key:value", ErrSyntax, quote(kv))
		}
		switch k {
		case "c":
			u, err := strconv.ParseUint(v, 10, 63)
			if err != nil {
				return fmt.Errorf("%w: tag block time c:%s", ErrSyntax, quote(v))
			}
			st.timeKind = timeTag
			if u >= 1e11 { // not seconds: 1e11 s is the year 5138
				st.t = time.UnixMilli(int64(u)).UTC()
			} else {
				st.t = time.Unix(int64(u), 0).UTC()
			}
		case "s":
			st.source = v
		}
	}
	return nil
}

// parseTimestamp reads a line's leading timestamp: a Unix time in s, ms, µs or ns (told apart by
// size, seconds may have a fraction), or an RFC 3339 time with 'T' or a space, UTC when no zone.
func parseTimestamp(p string) (time.Time, bool) {
	if p == "" {
		return time.Time{}, false
	}
	if isDigit(p[0]) {
		ip, frac, hasFrac := strings.Cut(p, ".")
		if len(ip) <= 19 && allDigits(ip) && (!hasFrac || (frac != "" && len(frac) <= 9 && allDigits(frac))) {
			v, err := strconv.ParseInt(ip, 10, 64)
			if err == nil && (!hasFrac || v < 1e11) {
				return unixTime(v, frac), true
			}
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, p); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// unixTime reads v as seconds, milliseconds, microseconds or nanoseconds since 1970 by its size;
// frac is a decimal fraction of a second, for seconds only.
func unixTime(v int64, frac string) time.Time {
	switch {
	case v < 1e11:
		ns := int64(0)
		if frac != "" {
			f, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
			ns = f
		}
		return time.Unix(v, ns).UTC()
	case v < 1e14:
		return time.UnixMilli(v).UTC()
	case v < 1e17:
		return time.UnixMicro(v).UTC()
	default:
		return time.Unix(0, v).UTC()
	}
}

// naisTime reads the US Coast Guard NAIS trailer ",s28089,d-103,T39.4,x147521,r08TPHI1,1242958962":
// its last field, when it is 9 or 10 digits, is the reception time in Unix seconds.
func naisTime(trailer string) (time.Time, bool) {
	last := trailer[strings.LastIndexByte(trailer, ',')+1:]
	if (len(last) != 9 && len(last) != 10) || !allDigits(last) {
		return time.Time{}, false
	}
	v, _ := strconv.ParseInt(last, 10, 64)
	return time.Unix(v, 0).UTC(), true
}

// sixbit undoes the 6-bit ASCII armoring of AIS payloads.
func sixbit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= 'W':
		return c - '0', true
	case c >= '`' && c <= 'w':
		return c - '0' - 8, true
	}
	return 0, false
}

func xor(s string) byte {
	var x byte
	for i := 0; i < len(s); i++ {
		x ^= s[i]
	}
	return x
}

func hexByte(a, b byte) (byte, bool) {
	h, ok1 := hexDigit(a)
	l, ok2 := hexDigit(b)
	return h<<4 | l, ok1 && ok2
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}
