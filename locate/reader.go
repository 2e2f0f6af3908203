// Package locate batch-checks positions from a CSV file against a set of zones: it reads
// `id,lon,lat[,alt,time,category,party,count]` rows, asks a [Checker] about each one, and writes
// `id,zone_ids,rule_ids` rows in input order.
//
// A bad row is reported with its line and column and skipped; the rows around it are still
// answered. Rows are checked in parallel and written in order.
package locate

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Point is one input row.
type Point struct {
	Line     int // 1-based line of the row in its file
	ID       string
	Lon, Lat float64
	Alt      float64 // metres; meaningful when HasAlt
	HasAlt   bool
	Time     time.Time // zero when the row has none
	Category string    // empty when the row has none
	Party    string    // empty when unknown
	Count    int       // how many were seen; 1 when the row has none
}

// RowError is a refused row: its file, line, the column at fault and why.
type RowError struct {
	File   string
	Line   int
	Column string // the header name of the bad column; empty when the row as a whole is bad
	Err    error
}

func (e *RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: column %q: %v", e.File, e.Line, e.Column, e.Err)
}

func (e *RowError) Unwrap() error { return e.Err }

// ColumnError lets a [Checker] name the column its complaint is about.
type ColumnError struct {
	Column string
	Err    error
}

func (e *ColumnError) Error() string { return fmt.Sprintf("column %q: %v", e.Column, e.Err) }
func (e *ColumnError) Unwrap() error { return e.Err }

// The columns a header may name; id, lon and lat are required.
var knownColumns = []string{"id", "lon", "lat", "alt", "time", "category", "party", "count"}

// Reader reads points from CSV. It is not safe for concurrent use.
type Reader struct {
	name string
	csv  *csv.Reader
	col  map[string]int // column name -> field index
	n    int            // number of columns in the header
}

// NewReader reads the header row of r and returns a Reader for the rows after it. name is used
// in error messages (usually the file name).
func NewReader(name string, r io.Reader) (*Reader, error) {
	c := csv.NewReader(r)
	c.ReuseRecord = true
	c.FieldsPerRecord = -1 // checked here, so the message can name the row
	header, err := c.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: empty input: want a header row naming the columns id,lon,lat[,alt,time,category,party,count]", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	rd := &Reader{name: name, csv: c, col: map[string]int{}, n: len(header)}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !isKnownColumn(h) {
			return nil, fmt.Errorf("%s:1:%d: unknown column %q; known columns: %s", name, fieldCol(c, 0, i), h, strings.Join(knownColumns, ","))
		}
		if _, dup := rd.col[h]; dup {
			return nil, fmt.Errorf("%s:1:%d: column %q named twice", name, fieldCol(c, 0, i), h)
		}
		rd.col[h] = i
	}
	for _, req := range []string{"id", "lon", "lat"} {
		if _, ok := rd.col[req]; !ok {
			return nil, fmt.Errorf("%s:1: header has no %q column; want id,lon,lat[,alt,time,category,party,count]", name, req)
		}
	}
	return rd, nil
}

func isKnownColumn(h string) bool {
	for _, k := range knownColumns {
		if h == k {
			return true
		}
	}
	return false
}

func fieldCol(c *csv.Reader, _ int, field int) int {
	_, col := c.FieldPos(field)
	return col
}

// Read reads the next row into p. It returns io.EOF at the end, a *RowError for a bad row (the
// next call goes on with the row after it), and any other error when the input cannot be read
// further.
func (r *Reader) Read(p *Point) error {
	rec, err := r.csv.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
				return &RowError{File: r.name, Line: pe.StartLine, Err: pe.Err}
			}
		}
		return err
	}
	line, _ := r.csv.FieldPos(0)
	*p = Point{Line: line, Count: 1}
	if len(rec) != r.n {
		return &RowError{File: r.name, Line: line, Err: fmt.Errorf("row has %d fields, the header %d", len(rec), r.n)}
	}
	bad := func(column string, err error) error {
		return &RowError{File: r.name, Line: line, Column: column, Err: err}
	}
	p.ID = rec[r.col["id"]]
	if p.ID == "" {
		return bad("id", errors.New("empty id"))
	}
	if p.Lon, err = parseCoord(rec[r.col["lon"]], 180); err != nil {
		return bad("lon", err)
	}
	if p.Lat, err = parseCoord(rec[r.col["lat"]], 90); err != nil {
		if math.Abs(p.Lon) <= 90 {
			if v, perr := strconv.ParseFloat(strings.TrimSpace(rec[r.col["lat"]]), 64); perr == nil && math.Abs(v) <= 180 {
				err = fmt.Errorf("%w; hint: columns are lon,lat: are they swapped?", err)
			}
		}
		return bad("lat", err)
	}
	if i, ok := r.col["alt"]; ok && strings.TrimSpace(rec[i]) != "" {
		if p.Alt, err = strconv.ParseFloat(strings.TrimSpace(rec[i]), 64); err != nil || math.IsNaN(p.Alt) || math.IsInf(p.Alt, 0) {
			return bad("alt", fmt.Errorf("%q is not a number of metres", rec[i]))
		}
		p.HasAlt = true
	}
	if i, ok := r.col["time"]; ok && strings.TrimSpace(rec[i]) != "" {
		if p.Time, err = time.Parse(time.RFC3339Nano, strings.TrimSpace(rec[i])); err != nil {
			return bad("time", fmt.Errorf("%q is not an RFC 3339 time such as 2026-12-15T06:00:00Z", rec[i]))
		}
	}
	if i, ok := r.col["category"]; ok {
		p.Category = strings.TrimSpace(rec[i])
	}
	if i, ok := r.col["party"]; ok {
		p.Party = strings.TrimSpace(rec[i])
	}
	if i, ok := r.col["count"]; ok && strings.TrimSpace(rec[i]) != "" {
		n, err := strconv.Atoi(strings.TrimSpace(rec[i]))
		if err != nil || n < 0 {
			return bad("count", fmt.Errorf("%q is not a whole number of at least 0", rec[i]))
		}
		p.Count = n
	}
	return nil
}

// parseCoord parses a coordinate in degrees and checks it lies within ±limit.
func parseCoord(s string, limit float64) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty coordinate")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a number of degrees", s)
	}
	if v < -limit || v > limit {
		return 0, fmt.Errorf("%s is out of range [-%g, %g]", s, limit, limit)
	}
	return v, nil
}
