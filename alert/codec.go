package alert

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// MaxBytes bounds the input of Parse. An alert from FromFinding is a few kilobytes; alerts
// with detailed polygons reach a few hundred.
const MaxBytes = 4 << 20

// Sentinel errors a [ParseError] wraps.
var (
	// ErrDTD: the input has a DOCTYPE, ENTITY or other <!…> declaration.
	ErrDTD = errors.New("DOCTYPE and ENTITY declarations are refused")
	// ErrNotAlert: the root element is not a CAP 1.2 <alert>, or something other than
	// comments and white space surrounds it.
	ErrNotAlert = errors.New("not a CAP 1.2 alert")
	// ErrTooLarge: the input is longer than MaxBytes.
	ErrTooLarge = errors.New("alert too large")
)

// ParseError is the error of Parse. It wraps ErrDTD, ErrNotAlert, ErrTooLarge, an
// *xml.SyntaxError or an error wrapping ErrInvalid.
type ParseError struct {
	Line int // 1-based line where reading stopped; 0 when unknown or not useful
	Err  error
}

// Error returns "parsing CAP alert: " and the cause, with the line when known.
func (e *ParseError) Error() string {
	var se *xml.SyntaxError
	if e.Line > 0 && !errors.As(e.Err, &se) { // a SyntaxError names its line itself
		return fmt.Sprintf("parsing CAP alert: line %d: %v", e.Line, e.Err)
	}
	return "parsing CAP alert: " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *ParseError) Unwrap() error { return e.Err }

// XML returns a as a CAP 1.2 XML document: the XML declaration, then the alert indented by two
// spaces, in the CAP namespace and the schema's element order. It does not validate a; see
// [Alert.Validate].
func (a *Alert) XML() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(a); err != nil {
		return nil, fmt.Errorf("encoding CAP alert %q as XML: %w", clip(a.Identifier), err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// JSON returns a in the JSON form the package documentation describes: element names as
// keys, arrays for repeatable elements, optional elements left out when empty.
func (a *Alert) JSON() ([]byte, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("encoding CAP alert %q as JSON: %w", clip(a.Identifier), err)
	}
	return b, nil
}

// Parse reads one CAP 1.2 alert (an XML document whose root is <alert> in the CAP 1.2
// namespace) and checks it with [Alert.Validate]. Elements the type does not hold (XML
// signatures, extensions) are dropped. Errors are *[ParseError].
func Parse(data []byte) (*Alert, error) {
	if len(data) > MaxBytes {
		return nil, &ParseError{Err: fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(data), MaxBytes)}
	}
	raw := xml.NewDecoder(bytes.NewReader(data))
	raw.Strict = true
	raw.CharsetReader = charsetReader
	d := xml.NewTokenDecoder(guard{raw})
	fail := func(err error) (*Alert, error) {
		line, _ := raw.InputPos()
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			// The decoder over guard checks nesting but counts no lines: take the raw one's.
			se.Line = line
		}
		return nil, &ParseError{Line: line, Err: err}
	}

	var root xml.StartElement
prolog:
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return fail(fmt.Errorf("%w: no root element", ErrNotAlert))
		}
		if err != nil {
			return fail(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			root = t
			break prolog
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return fail(fmt.Errorf("%w: text before the root element", ErrNotAlert))
			}
		}
	}
	if root.Name.Local != "alert" || root.Name.Space != Namespace {
		return fail(fmt.Errorf("%w: root element <%s> in namespace %q", ErrNotAlert, clip(root.Name.Local), clip(root.Name.Space)))
	}
	var a Alert
	if err := d.DecodeElement(&a, &root); err != nil {
		return fail(err)
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fail(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return fail(fmt.Errorf("%w: a second root element <%s>", ErrNotAlert, clip(t.Name.Local)))
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return fail(fmt.Errorf("%w: text after the root element", ErrNotAlert))
			}
		}
	}
	if err := a.Validate(); err != nil {
		return nil, &ParseError{Err: err}
	}
	return &a, nil
}

// guard passes the raw tokens of an XML decoder on, refusing any <!…> directive (DOCTYPE,
// ENTITY, …). The decoder built on it does the namespace and nesting work.
type guard struct{ d *xml.Decoder }

func (g guard) Token() (xml.Token, error) {
	tok, err := g.d.RawToken()
	if dir, ok := tok.(xml.Directive); ok {
		word, _, _ := strings.Cut(string(dir), " ")
		return nil, fmt.Errorf("%w: <!%s …>", ErrDTD, clip(word))
	}
	return tok, err
}

// charsetReader accepts the encodings besides UTF-8 that CAP alerts are seen in.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "us-ascii", "ascii":
		return r, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1":
		// The input is in memory and at most MaxBytes long: convert it at once.
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(b)+len(b)/8)
		for _, c := range b {
			out = utf8.AppendRune(out, rune(c))
		}
		return bytes.NewReader(out), nil
	}
	return nil, fmt.Errorf("encoding %q: only UTF-8, US-ASCII and ISO-8859-1 are read", clip(label))
}
