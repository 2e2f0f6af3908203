package agreement

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrInvalid is matched by every [ErrorList] through errors.Is, so callers
// can tell an invalid agreement from an unreadable file.
var ErrInvalid = errors.New("invalid agreement")

// Error is one problem in an agreement file, at the position of the
// offending node.
type Error struct {
	File string // the agreement file, or the .geojson file the error is in
	Line int    // 1-based; 0 when the position is unknown
	Col  int    // 1-based; 0 when the position is unknown
	Msg  string // lower case, context first, no final period
	Hint string // optional advice, printed after the message
}

// Error prints the error as "file:line:col: message; hint: hint".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString("; hint: ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Is reports whether target is [ErrInvalid].
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// ErrorList is every error found in an agreement, sorted by position:
// the agreement file first, then the referenced files by name.
type ErrorList []*Error

// Error prints one error a line.
func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap returns the errors of the list, for errors.Is and errors.As.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// Is reports whether target is [ErrInvalid].
func (l ErrorList) Is(target error) bool { return target == ErrInvalid }

// sortErrors orders the list by file (main first), line and column, and
// drops exact duplicates.
func sortErrors(l ErrorList, main string) ErrorList {
	rank := func(f string) int {
		if f == main {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(l, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(rank(a.File), rank(b.File)),
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Col, b.Col),
		)
	})
	return slices.CompactFunc(l, func(a, b *Error) bool { return *a == *b })
}

// errs collects errors for one agreement.
type errs struct {
	list ErrorList
}

func (c *errs) add(file string, p Pos, hint, format string, args ...any) {
	c.list = append(c.list, &Error{File: file, Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...), Hint: hint})
}
