package ledger

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds the nesting of arrays and objects in a payload.
const maxDepth = 100

// Canonicalize returns the canonical form of the JSON text b, the only form the log accepts
// in a payload, so that one value has one encoding and therefore one signature and one leaf
// hash:
//
//   - no whitespace outside strings;
//   - object members sorted by key, compared as UTF-8 bytes (code point order); a key that
//     appears twice in one object is an error;
//   - strings escape only '"', '\\' and the control characters U+0000 to U+001F (as \b, \f,
//     \n, \r, \t or \u00xx, lower-case hex); every other character, '/' and non-ASCII
//     included, is written as itself in UTF-8;
//   - numbers are kept exactly as written (1.0 and 1 stay distinct), so no precision is
//     lost; they must follow the JSON grammar;
//   - true, false and null as themselves.
//
// The input must be valid UTF-8 holding one JSON value, with no lone UTF-16 surrogate in an
// escape, nested at most 100 deep. Errors wrap [ErrMalformed]. The form is close to RFC 8785
// (JCS) but is not JCS: JCS sorts keys by UTF-16 code units and rewrites numbers.
func Canonicalize(b []byte) ([]byte, error) {
	out, err := canonicalize(b)
	if err != nil {
		return nil, fmt.Errorf("canonicalizing JSON: %w", err)
	}
	return out, nil
}

// jsonError is a syntax error at a byte offset of the input.
type jsonError struct {
	off int
	msg string
}

func (e *jsonError) Error() string { return fmt.Sprintf("offset %d: %s", e.off, e.msg) }
func (e *jsonError) Unwrap() error { return ErrMalformed }

func canonicalize(b []byte) ([]byte, error) {
	c := canonPool.Get().(*canon)
	defer c.release()
	return c.run(b, make([]byte, 0, len(b)))
}

// isCanonical reports whether b is already in canonical form, and why not.
func isCanonical(b []byte) error {
	c := canonPool.Get().(*canon)
	defer c.release()
	out, err := c.run(b, c.check[:0])
	c.check = out
	if err != nil {
		return err
	}
	if !bytes.Equal(out, b) {
		return errNotCanonical
	}
	return nil
}

// canonPool keeps the scratch space of finished canonicalizations: the log checks every
// payload it is given, and the intake canonicalizes every record.
var canonPool = sync.Pool{New: func() any { return new(canon) }}

// run canonicalizes b into out.
func (c *canon) run(b, out []byte) ([]byte, error) {
	if !utf8.Valid(b) {
		i := 0
		for i < len(b) {
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			i += n
		}
		return nil, &jsonError{i, "invalid UTF-8"}
	}
	c.in, c.pos, c.out, c.depth = b, 0, out, 0
	if err := c.value(); err != nil {
		return nil, err
	}
	c.skipSpace()
	if c.pos != len(c.in) {
		return nil, c.errorf("unexpected %s after the value", c.show())
	}
	return c.out, nil
}

// release returns c to the pool, without references to the caller's input or output.
func (c *canon) release() {
	const keep = 64 << 10 // do not hold on to the scratch of an unusually large payload
	c.in, c.out = nil, nil
	clear(c.members[:cap(c.members)])
	c.members = c.members[:0]
	c.body, c.esc = c.body[:0], c.esc[:0]
	if cap(c.body) > keep || cap(c.esc) > keep || cap(c.check) > keep {
		c.body, c.esc, c.check = nil, nil, nil
	}
	canonPool.Put(c)
}

var errNotCanonical = fmt.Errorf("%w: not in canonical form", ErrMalformed)

type canon struct {
	in    []byte
	pos   int
	out   []byte
	depth int
	// Scratch space reused across the objects of one value, so that canonicalizing costs
	// about one allocation (the output) instead of one per string and per object.
	members []member // a stack: each open object's members above its parent's
	body    []byte   // an unsorted object's members while they are written back in order
	esc     []byte   // the decoded text of strings with escapes
	check   []byte   // isCanonical's output, compared with its input
}

func (c *canon) errorf(format string, args ...any) error {
	return &jsonError{c.pos, fmt.Sprintf(format, args...)}
}

// show describes the input byte at pos for an error message.
func (c *canon) show() string {
	if c.pos >= len(c.in) {
		return "end of input"
	}
	r, _ := utf8.DecodeRune(c.in[c.pos:])
	return fmt.Sprintf("%q", r)
}

func (c *canon) skipSpace() {
	for c.pos < len(c.in) {
		switch c.in[c.pos] {
		case ' ', '\t', '\n', '\r':
			c.pos++
		default:
			return
		}
	}
}

func (c *canon) value() error {
	c.skipSpace()
	if c.pos >= len(c.in) {
		return c.errorf("unexpected end of input")
	}
	switch ch := c.in[c.pos]; {
	case ch == '{':
		return c.object()
	case ch == '[':
		return c.array()
	case ch == '"':
		s, err := c.str()
		if err != nil {
			return err
		}
		c.out = appendString(c.out, s)
		return nil
	case ch == 't':
		return c.literal("true")
	case ch == 'f':
		return c.literal("false")
	case ch == 'n':
		return c.literal("null")
	case ch == '-' || ch >= '0' && ch <= '9':
		return c.number()
	default:
		return c.errorf("unexpected %s", c.show())
	}
}

func (c *canon) literal(lit string) error {
	if !bytes.HasPrefix(c.in[c.pos:], []byte(lit)) {
		return c.errorf("unexpected %s", c.show())
	}
	c.pos += len(lit)
	c.out = append(c.out, lit...)
	return nil
}

func (c *canon) number() error {
	start := c.pos
	digits := func() int {
		n := 0
		for c.pos < len(c.in) && c.in[c.pos] >= '0' && c.in[c.pos] <= '9' {
			c.pos++
			n++
		}
		return n
	}
	if c.in[c.pos] == '-' {
		c.pos++
	}
	if c.pos < len(c.in) && c.in[c.pos] == '0' {
		c.pos++
	} else if digits() == 0 {
		return c.errorf("malformed number: want a digit, got %s", c.show())
	}
	if c.pos < len(c.in) && c.in[c.pos] == '.' {
		c.pos++
		if digits() == 0 {
			return c.errorf("malformed number: want a digit after '.', got %s", c.show())
		}
	}
	if c.pos < len(c.in) && (c.in[c.pos] == 'e' || c.in[c.pos] == 'E') {
		c.pos++
		if c.pos < len(c.in) && (c.in[c.pos] == '+' || c.in[c.pos] == '-') {
			c.pos++
		}
		if digits() == 0 {
			return c.errorf("malformed number: want a digit in the exponent, got %s", c.show())
		}
	}
	c.out = append(c.out, c.in[start:c.pos]...)
	return nil
}

func (c *canon) enter() error {
	c.depth++
	if c.depth > maxDepth {
		return c.errorf("nested deeper than %d", maxDepth)
	}
	return nil
}

func (c *canon) array() error {
	if err := c.enter(); err != nil {
		return err
	}
	c.pos++ // '['
	c.out = append(c.out, '[')
	c.skipSpace()
	if c.pos < len(c.in) && c.in[c.pos] == ']' {
		c.pos++
		c.out = append(c.out, ']')
		c.depth--
		return nil
	}
	for {
		if err := c.value(); err != nil {
			return err
		}
		c.skipSpace()
		if c.pos >= len(c.in) {
			return c.errorf("unexpected end of input in an array")
		}
		switch c.in[c.pos] {
		case ',':
			c.pos++
			c.out = append(c.out, ',')
		case ']':
			c.pos++
			c.out = append(c.out, ']')
			c.depth--
			return nil
		default:
			return c.errorf("unexpected %s in an array, want ',' or ']'", c.show())
		}
	}
}

// member is one object member already written to out: its decoded key and the span of
// out holding `"key":value`.
type member struct {
	key        []byte // in the input, or in esc when the key has escapes
	start, end int
	keyOff     int // input offset of the key, for errors
}

func (c *canon) object() error {
	if err := c.enter(); err != nil {
		return err
	}
	c.pos++ // '{'
	open := len(c.out)
	c.out = append(c.out, '{')
	c.skipSpace()
	if c.pos < len(c.in) && c.in[c.pos] == '}' {
		c.pos++
		c.out = append(c.out, '}')
		c.depth--
		return nil
	}
	base := len(c.members)
	defer func() { c.members = c.members[:base] }()
	for {
		c.skipSpace()
		if c.pos >= len(c.in) || c.in[c.pos] != '"' {
			return c.errorf("unexpected %s in an object, want a string key", c.show())
		}
		keyOff := c.pos
		key, err := c.str()
		if err != nil {
			return err
		}
		c.skipSpace()
		if c.pos >= len(c.in) || c.in[c.pos] != ':' {
			return c.errorf("unexpected %s after an object key, want ':'", c.show())
		}
		c.pos++
		start := len(c.out)
		c.out = appendString(c.out, key)
		c.out = append(c.out, ':')
		if err := c.value(); err != nil {
			return err
		}
		c.members = append(c.members, member{key: key, start: start, end: len(c.out), keyOff: keyOff})
		c.skipSpace()
		if c.pos >= len(c.in) {
			return c.errorf("unexpected end of input in an object")
		}
		if c.in[c.pos] == ',' {
			c.pos++
			c.out = append(c.out, ',')
			continue
		}
		if c.in[c.pos] != '}' {
			return c.errorf("unexpected %s in an object, want ',' or '}'", c.show())
		}
		c.pos++
		break
	}
	c.depth--
	members := c.members[base:]
	sorted := true
	for i := 1; i < len(members); i++ {
		switch bytes.Compare(members[i-1].key, members[i].key) {
		case 0:
			return &jsonError{members[i].keyOff, fmt.Sprintf("duplicate key %q", members[i].key)}
		case 1:
			sorted = false
		}
	}
	if !sorted {
		slices.SortStableFunc(members, func(a, b member) int { return bytes.Compare(a.key, b.key) })
		for i := 1; i < len(members); i++ {
			if bytes.Equal(members[i-1].key, members[i].key) {
				off := max(members[i-1].keyOff, members[i].keyOff)
				return &jsonError{off, fmt.Sprintf("duplicate key %q", members[i].key)}
			}
		}
		c.body = append(c.body[:0], c.out[open+1:]...)
		body := c.body
		c.out = c.out[:open+1]
		for i, m := range members {
			if i > 0 {
				c.out = append(c.out, ',')
			}
			c.out = append(c.out, body[m.start-open-1:m.end-open-1]...)
		}
	}
	c.out = append(c.out, '}')
	return nil
}

// str decodes the string at pos, which starts with '"'. The result is a slice of the input
// when the string has no escapes, else of the esc scratch space: it stays valid until the
// canonicalization ends, since esc is only appended to.
func (c *canon) str() ([]byte, error) {
	c.pos++ // '"'
	start := c.pos
	// Fast path: no escapes.
	for c.pos < len(c.in) {
		ch := c.in[c.pos]
		if ch == '"' {
			s := c.in[start:c.pos:c.pos]
			c.pos++
			return s, nil
		}
		if ch == '\\' {
			break
		}
		if ch < 0x20 {
			return nil, c.errorf("control character %q in a string", rune(ch))
		}
		c.pos++
	}
	from := len(c.esc)
	buf := append(c.esc, c.in[start:c.pos]...)
	defer func() { c.esc = buf }()
	for {
		if c.pos >= len(c.in) {
			return nil, c.errorf("unexpected end of input in a string")
		}
		ch := c.in[c.pos]
		switch {
		case ch == '"':
			c.pos++
			return buf[from:len(buf):len(buf)], nil
		case ch < 0x20:
			return nil, c.errorf("control character %q in a string", rune(ch))
		case ch != '\\':
			buf = append(buf, ch)
			c.pos++
			continue
		}
		// An escape.
		if c.pos+1 >= len(c.in) {
			return nil, c.errorf("unexpected end of input in a string")
		}
		esc := c.in[c.pos+1]
		switch esc {
		case '"', '\\', '/':
			buf = append(buf, esc)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := c.hex4(c.pos + 2)
			if !ok {
				return nil, c.errorf("malformed \\u escape")
			}
			n := 6
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if c.pos+12 <= len(c.in) && c.in[c.pos+6] == '\\' && c.in[c.pos+7] == 'u' {
					r2, ok = c.hex4(c.pos + 8)
				}
				if !ok || r >= 0xdc00 || utf16.DecodeRune(r, r2) == utf8.RuneError {
					return nil, c.errorf("lone surrogate in a \\u escape")
				}
				r = utf16.DecodeRune(r, r2)
				n = 12
			}
			buf = utf8.AppendRune(buf, r)
			c.pos += n
			continue
		default:
			return nil, c.errorf("malformed escape \\%c", esc)
		}
		c.pos += 2
	}
}

func (c *canon) hex4(at int) (rune, bool) {
	if at+4 > len(c.in) {
		return 0, false
	}
	var r rune
	for _, h := range c.in[at : at+4] {
		switch {
		case h >= '0' && h <= '9':
			r = r<<4 | rune(h-'0')
		case h >= 'a' && h <= 'f':
			r = r<<4 | rune(h-'a'+10)
		case h >= 'A' && h <= 'F':
			r = r<<4 | rune(h-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// appendString appends s as a canonical JSON string.
func appendString[T string | []byte](out []byte, s T) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '"' || ch == '\\':
			out = append(out, '\\', ch)
		case ch >= 0x20:
			out = append(out, ch)
		case ch == '\b':
			out = append(out, '\\', 'b')
		case ch == '\f':
			out = append(out, '\\', 'f')
		case ch == '\n':
			out = append(out, '\\', 'n')
		case ch == '\r':
			out = append(out, '\\', 'r')
		case ch == '\t':
			out = append(out, '\\', 't')
		default:
			out = append(out, '\\', 'u', '0', '0', hex[ch>>4], hex[ch&0xf])
		}
	}
	return append(out, '"')
}
