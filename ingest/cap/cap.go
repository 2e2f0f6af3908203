// Package cap reads CAP alerts (Common Alerting Protocol 1.2, and the 1.1 and 1.0 namespaces)
// that other early-warning systems send, and turns each <info><area> into a partner-alert
// observation.
//
// # What is read
//
// One input holds one <alert> as its root element. Atom and RSS feeds of alerts, EDXL-DE
// envelopes and several alerts in one input are refused: fetch the alerts a feed links to and
// pass them one by one.
//
// For every <area> of every <info>, one [ingest.Observation]:
//   - Position: the area-weighted centroid of the area's <polygon>s (planar in lon/lat, across
//     the antimeridian when the ring crosses it); else the centre of its <circle>s (weighted
//     by their areas). Its <altitude> (feet) becomes the altitude. An area with geocodes only
//     (or nothing) is rejected with the reason "no polygon or circle".
//   - Observed: the info's <effective> time when it has one, else the alert's <sent>.
//   - Text: the headline (else the event), the event's severity, urgency and certainty, the
//     description, the area's description and its polygons or circles as the alert wrote them.
//   - Source: [ingest.SourcePartnerAlert]; ID: "cap:<sender>,<identifier>#<info>.<area>"
//     (0-based indexes), stable across re-reads.
//
// Category, parties, reliability and credibility are left empty for the agreement's defaults.
// Only alerts with status Actual and message type Alert or Update are observations; others
// (Exercise, Test, Cancel, …) are rejected with their status.
//
// # Safety
//
// encoding/xml never fetches external entities or DTDs, but this package goes further: any
// DOCTYPE or ENTITY declaration (any <!…> directive) refuses the whole input with [ErrDTD]
// before any element is read, entity references other than the five predefined ones are
// errors, and the input is bounded by [MaxBytes]. Encodings other than UTF-8 (and US-ASCII)
// and ISO-8859-1 are refused.
//
// A refused input is one rejection whose error wraps one of the sentinel errors below; a
// refused alert, info or area is a rejection naming it ("info[0].area[2]"), and the other
// areas still become observations. Parse returns an error only when r fails.
package cap

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/truce-mission/truce/ingest"
)

// MaxBytes bounds one alert. Real alerts are a few kilobytes; national weather services'
// alerts with detailed polygons reach a few hundred.
const MaxBytes = 4 << 20

// The namespaces of CAP 1.2, 1.1 and 1.0.
const (
	Namespace12 = "urn:oasis:names:tc:emergency:cap:1.2"
	Namespace11 = "urn:oasis:names:tc:emergency:cap:1.1"
	Namespace10 = "http://www.incident.com/cap/1.0"
)

// Sentinel errors the rejections of whole inputs wrap.
var (
	// ErrDTD: the input declares a DOCTYPE or entities, which are refused outright.
	ErrDTD = errors.New("DOCTYPE and ENTITY declarations are refused")
	// ErrTooLarge: the input is longer than MaxBytes.
	ErrTooLarge = errors.New("alert too large")
	// ErrNotAlert: the root element is not a CAP <alert> (an Atom or RSS feed, EDXL-DE, …).
	ErrNotAlert = errors.New("not a CAP alert")
	// ErrMalformed: the input is not well-formed XML, or not in a supported encoding.
	ErrMalformed = errors.New("malformed XML")
)

// The parts of CAP read here. Tags name no namespace, so they match CAP 1.0, 1.1 and 1.2.
type alert struct {
	Identifier string `xml:"identifier"`
	Sender     string `xml:"sender"`
	Sent       string `xml:"sent"`
	Status     string `xml:"status"`
	MsgType    string `xml:"msgType"`
	Infos      []info `xml:"info"`
}

type info struct {
	Event       string `xml:"event"`
	Urgency     string `xml:"urgency"`
	Severity    string `xml:"severity"`
	Certainty   string `xml:"certainty"`
	Effective   string `xml:"effective"`
	Headline    string `xml:"headline"`
	Description string `xml:"description"`
	Areas       []area `xml:"area"`
}

type area struct {
	AreaDesc string   `xml:"areaDesc"`
	Polygons []string `xml:"polygon"`
	Circles  []string `xml:"circle"`
	Altitude string   `xml:"altitude"`
}

// Parse reads one CAP alert from r; it is an [ingest.ParseFunc].
func Parse(r io.Reader, opts ingest.Options, sink ingest.Sink) error {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return err
	}
	refuse := func(line int, err error) error {
		sink.Reject(&ingest.RecordError{Source: opts.Name, Line: line, Err: err})
		return nil
	}
	if len(data) > MaxBytes {
		return refuse(0, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxBytes))
	}
	g := newGuard(data)
	d := xml.NewTokenDecoder(g)

	// The prolog, up to the root element: a DOCTYPE is refused here, before any element.
	var root xml.StartElement
	for {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				return refuse(g.line(), fmt.Errorf("%w: no root element (not XML?)", ErrNotAlert))
			}
			return refuse(g.line(), g.wrap(err))
		}
		if se, ok := tok.(xml.StartElement); ok {
			root = se
			break
		}
	}
	rootLine := g.line()
	if root.Name.Local != "alert" || !isCAPNamespace(root.Name.Space) {
		return refuse(rootLine, fmt.Errorf("%w: root element is <%s> in namespace %q; want one <alert> in a CAP 1.0–1.2 namespace (Atom/RSS feeds and EDXL-DE are not read)",
			ErrNotAlert, root.Name.Local, root.Name.Space))
	}
	var a alert
	if err := d.DecodeElement(&a, &root); err != nil {
		return refuse(g.line(), g.wrap(err))
	}
	for { // nothing but comments and white space may follow
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return refuse(g.line(), g.wrap(err))
		}
		if se, ok := tok.(xml.StartElement); ok {
			return refuse(g.line(), fmt.Errorf("%w: a second root element <%s>; one <alert> per input", ErrNotAlert, se.Name.Local))
		}
	}
	convert(&a, rootLine, g, opts, sink)
	return nil
}

func isCAPNamespace(ns string) bool {
	return ns == Namespace12 || ns == Namespace11 || ns == Namespace10
}

// convert emits the observations of a decoded alert.
func convert(a *alert, line int, g *guard, opts ingest.Options, sink ingest.Sink) {
	reject := func(line int, rec, field string, err error) {
		sink.Reject(&ingest.RecordError{Source: opts.Name, Line: line, Record: rec, Field: field, Err: err})
	}
	identifier, sender := strings.TrimSpace(a.Identifier), strings.TrimSpace(a.Sender)
	switch {
	case identifier == "":
		reject(line, "", "identifier", errors.New("alert has no identifier"))
		return
	case sender == "":
		reject(line, "", "sender", errors.New("alert has no sender"))
		return
	}
	sent, err := parseTime(a.Sent)
	if err != nil {
		reject(line, "", "sent", err)
		return
	}
	if s := strings.TrimSpace(a.Status); s != "Actual" {
		reject(line, "", "status", fmt.Errorf("status %q: only Actual alerts are observations", ingest.Clip(s)))
		return
	}
	if m := strings.TrimSpace(a.MsgType); m != "Alert" && m != "Update" {
		reject(line, "", "msgType", fmt.Errorf("msgType %q: only Alert and Update carry observations", ingest.Clip(m)))
		return
	}
	if len(a.Infos) == 0 {
		reject(line, "", "info", errors.New("alert has no <info>"))
		return
	}
	for i, in := range a.Infos {
		rec := fmt.Sprintf("info[%d]", i)
		iline := line
		if i < len(g.infoLines) {
			iline = g.infoLines[i]
		}
		observed := sent
		if strings.TrimSpace(in.Effective) != "" {
			if observed, err = parseTime(in.Effective); err != nil {
				reject(iline, rec, "effective", err)
				continue
			}
		}
		if len(in.Areas) == 0 {
			reject(iline, rec, "area", errors.New("info has no <area>"))
			continue
		}
		for j, ar := range in.Areas {
			rec := fmt.Sprintf("info[%d].area[%d]", i, j)
			aline := iline
			if i < len(g.areaLines) && j < len(g.areaLines[i]) {
				aline = g.areaLines[i][j]
			}
			pos, shape, field, err := locate(&ar)
			if err != nil {
				reject(aline, rec, field, err)
				continue
			}
			o := ingest.Observation{
				ID:       fmt.Sprintf("cap:%s,%s#%d.%d", sender, identifier, i, j),
				Observed: observed,
				Position: pos,
				Source:   ingest.SourcePartnerAlert,
				Text:     text(&in, &ar, shape),
			}
			if e := ingest.Validate(&o); e != nil {
				e.Source, e.Line, e.Record = opts.Name, aline, rec
				sink.Reject(e)
				continue
			}
			sink.Observe(o)
		}
	}
}

// parseTime reads a CAP dateTime: RFC 3339 with a time zone (CAP 1.2 writes "-00:00" for UTC;
// older alerts "Z").
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("no time")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a CAP date and time such as 2002-05-24T16:49:00-07:00", ingest.Clip(s))
	}
	return t.UTC(), nil
}

// text is the observation's text: what the alert says, and where.
func text(in *info, ar *area, shape string) string {
	var b strings.Builder
	head := strings.TrimSpace(in.Headline)
	if head == "" {
		head = strings.TrimSpace(in.Event)
	}
	b.WriteString(head)
	var grade []string
	for _, kv := range [][2]string{{"severity", in.Severity}, {"urgency", in.Urgency}, {"certainty", in.Certainty}} {
		if v := strings.TrimSpace(kv[1]); v != "" {
			grade = append(grade, kv[0]+" "+v)
		}
	}
	if len(grade) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(grade, ", "))
	}
	if d := strings.TrimSpace(in.Description); d != "" {
		b.WriteString("\n")
		b.WriteString(d)
	}
	if d := strings.TrimSpace(ar.AreaDesc); d != "" {
		b.WriteString("\narea: ")
		b.WriteString(d)
	}
	b.WriteString("\n")
	b.WriteString(shape)
	return strings.TrimSpace(b.String())
}

// guard is the token source under the XML decoder: it refuses directives (DOCTYPE, ENTITY),
// decodes ISO-8859-1, and notes the line of every <info><area> in document order.
type guard struct {
	d         *xml.Decoder
	stack     []string // local names of the open elements
	infoLines []int    // the line of each info
	areaLines [][]int  // per info, the line of each of its areas
	err       error    // the refusal, once made
}

func newGuard(data []byte) *guard {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = charsetReader
	return &guard{d: d}
}

// Token implements xml.TokenReader over the raw tokens; the outer decoder checks nesting and
// resolves name spaces.
func (g *guard) Token() (xml.Token, error) {
	if g.err != nil {
		return nil, g.err
	}
	tok, err := g.d.RawToken()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case xml.Directive:
		word, _, _ := strings.Cut(strings.TrimSpace(string(t)), " ")
		g.err = fmt.Errorf("%w: found <!%s …>", ErrDTD, ingest.Clip(word))
		return nil, g.err
	case xml.StartElement:
		g.stack = append(g.stack, t.Name.Local)
		switch {
		case len(g.stack) == 2 && t.Name.Local == "info":
			g.infoLines = append(g.infoLines, g.line())
			g.areaLines = append(g.areaLines, nil)
		case len(g.stack) == 3 && t.Name.Local == "area" && g.stack[1] == "info" && len(g.areaLines) > 0:
			g.areaLines[len(g.areaLines)-1] = append(g.areaLines[len(g.areaLines)-1], g.line())
		}
	case xml.EndElement:
		if len(g.stack) > 0 {
			g.stack = g.stack[:len(g.stack)-1]
		}
	}
	return tok, nil
}

func (g *guard) line() int {
	l, _ := g.d.InputPos()
	return l
}

// wrap classifies a decoding error.
func (g *guard) wrap(err error) error {
	if errors.Is(err, ErrDTD) {
		return err
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: unexpected end of input", ErrMalformed)
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%w: %s", ErrMalformed, se.Msg)
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}

// charsetReader decodes the encodings besides UTF-8 that alerts use: ISO-8859-1 (USGS) and
// US-ASCII.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1":
		return &latin1Reader{r: in}, nil
	case "us-ascii", "ascii", "utf8":
		return in, nil
	}
	return nil, fmt.Errorf("encoding %q is not supported (UTF-8, US-ASCII and ISO-8859-1 are)", ingest.Clip(label))
}

// latin1Reader converts ISO-8859-1 bytes to UTF-8.
type latin1Reader struct {
	r   io.Reader
	out []byte // converted bytes; out[pos:] not yet returned
	pos int
	in  [512]byte
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	for l.pos == len(l.out) {
		n, err := l.r.Read(l.in[:])
		l.out, l.pos = l.out[:0], 0
		for _, c := range l.in[:n] {
			if c < 0x80 {
				l.out = append(l.out, c)
			} else {
				l.out = append(l.out, 0xc0|c>>6, 0x80|c&0x3f)
			}
		}
		if n == 0 && err != nil {
			return 0, err
		}
	}
	n := copy(p, l.out[l.pos:])
	l.pos += n
	return n, nil
}
