// Package csv reads observations from CSV with a header row naming its columns, the format
// monitor teams and analysts fill in by hand or export from spreadsheets.
//
// # Columns
//
// The header names the columns, in any order, case-insensitively:
//
//	id, observed, lon, lat                 required
//	alt_m, category, count, claimed_party, assessed_party, source, reliability, credibility,
//	text, attachments                      optional
//
// observed is an RFC 3339 time with a zone (2026-12-05T08:00:00Z); lon and lat are WGS 84
// degrees; alt_m is metres above mean sea level; count and credibility (1–6) are whole numbers;
// reliability is A–F; source is a source kind name ("ground-monitor", "uav", "satellite",
// "osint", "party-report", …); attachments is a space-separated list of "sha256:<64 hex>"
// digests. An empty optional cell is the same as no column.
//
// A header naming an unknown column, naming one twice, or missing a required one refuses the
// whole input (one rejection). A bad row is rejected with its line and column, in the form
// `feed.csv:812: column "lat": …`, and the rows after it are still read. A row repeating an
// earlier row's id is rejected.
package csv

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/truce-mission/truce/ingest"
)

// columns lists the columns a header may name, in the order of the package documentation.
var columns = []string{
	"id", "observed", "lon", "lat", "alt_m", "category", "count", "claimed_party",
	"assessed_party", "source", "reliability", "credibility", "text", "attachments",
}

var required = []string{"id", "observed", "lon", "lat"}

// Columns returns the columns a header may name; id, observed, lon and lat are required.
func Columns() []string { return slices.Clone(columns) }

// ErrHeader is matched by the rejection of an input whose header is unusable.
var ErrHeader = errors.New("bad header")

// Parse reads observations from CSV; it is an [ingest.ParseFunc].
func Parse(r io.Reader, opts ingest.Options, sink ingest.Sink) error {
	c := csv.NewReader(r)
	c.FieldsPerRecord = -1 // checked here, to name the line
	c.ReuseRecord = true
	reject := func(line int, column string, err error) {
		e := &ingest.RecordError{Source: opts.Name, Line: line, Err: err}
		if column != "" {
			e.Field = fmt.Sprintf("column %q", column)
		}
		sink.Reject(e)
	}

	header, err := c.Read()
	if err == io.EOF {
		reject(1, "", fmt.Errorf("%w: empty input; want a header row naming the columns, at least %s", ErrHeader, strings.Join(required, ",")))
		return nil
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			reject(pe.StartLine, "", fmt.Errorf("%w: %v", ErrHeader, pe.Err))
			return nil
		}
		return err
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !isColumn(h) {
			reject(1, h, fmt.Errorf("%w: unknown column; known columns: %s", ErrHeader, strings.Join(columns, ",")))
			return nil
		}
		if _, dup := col[h]; dup {
			reject(1, h, fmt.Errorf("%w: column named twice", ErrHeader))
			return nil
		}
		col[h] = i
	}
	for _, req := range required {
		if _, ok := col[req]; !ok {
			reject(1, req, fmt.Errorf("%w: required column missing; the header must name at least %s", ErrHeader, strings.Join(required, ",")))
			return nil
		}
	}
	ncol := len(header)
	seen := map[string]int{} // id -> line

	for {
		rec, err := c.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				reject(pe.Line, "", fmt.Errorf("%w (byte %d of the line)", pe.Err, pe.Column))
				continue
			}
			return err
		}
		line, _ := c.FieldPos(0)
		if len(rec) != ncol {
			reject(line, "", fmt.Errorf("row has %d fields, the header %d", len(rec), ncol))
			continue
		}
		o, column, err := row(rec, col)
		if err != nil {
			reject(line, column, err)
			continue
		}
		if e := ingest.Validate(&o); e != nil {
			column, _, _ := strings.Cut(e.Field, "[") // attachments[2] -> attachments
			e.Source, e.Line, e.Field = opts.Name, line, fmt.Sprintf("column %q", column)
			sink.Reject(e)
			continue
		}
		if first, dup := seen[o.ID]; dup {
			reject(line, "id", fmt.Errorf("id %q already used on line %d", o.ID, first))
			continue
		}
		seen[o.ID] = line
		sink.Observe(o)
	}
}

func isColumn(h string) bool {
	return slices.Contains(columns, h)
}

// row converts one record; on failure it names the column at fault.
func row(rec []string, col map[string]int) (o ingest.Observation, column string, err error) {
	cell := func(name string) string {
		if i, ok := col[name]; ok {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	o.ID = cell("id")
	if o.ID == "" {
		return o, "id", errors.New("empty id")
	}
	if s := cell("observed"); s == "" {
		return o, "observed", errors.New("empty time; want RFC 3339 such as 2026-12-05T08:00:00Z")
	} else if o.Observed, err = time.Parse(time.RFC3339Nano, s); err != nil {
		return o, "observed", fmt.Errorf("%q is not an RFC 3339 time such as 2026-12-05T08:00:00Z", clip(s))
	}
	o.Observed = o.Observed.UTC()
	if o.Position.Lon, err = degrees(cell("lon")); err != nil {
		return o, "lon", err
	}
	if o.Position.Lat, err = degrees(cell("lat")); err != nil {
		return o, "lat", err
	}
	if s := cell("alt_m"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return o, "alt_m", fmt.Errorf("%q is not a number of metres", clip(s))
		}
		o.Position.AltM = &v
	}
	o.Category = cell("category")
	if s := cell("count"); s != "" {
		if o.Count, err = strconv.Atoi(s); err != nil {
			return o, "count", fmt.Errorf("%q is not a whole number", clip(s))
		}
	}
	o.ClaimedParty = cell("claimed_party")
	o.AssessedParty = cell("assessed_party")
	if s := cell("source"); s != "" {
		if err := o.Source.UnmarshalText([]byte(s)); err != nil {
			return o, "source", fmt.Errorf("unknown source kind %q; known: %s", clip(s), kinds())
		}
	}
	o.Reliability = cell("reliability")
	if s := cell("credibility"); s != "" {
		if o.Credibility, err = strconv.Atoi(s); err != nil {
			return o, "credibility", fmt.Errorf("%q is not one of 1–6", clip(s))
		}
	}
	if i, ok := col["text"]; ok {
		o.Text = rec[i]
	}
	o.Attachments = strings.Fields(cell("attachments"))
	if len(o.Attachments) == 0 {
		o.Attachments = nil
	}
	return o, "", nil
}

// degrees reads a coordinate; its range is checked by ingest.Validate, with the hint for
// swapped columns.
func degrees(s string) (float64, error) {
	if s == "" {
		return 0, errors.New("empty coordinate")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a number of degrees", clip(s))
	}
	return v, nil
}

// kinds lists the source kind names.
func kinds() string {
	var names []string
	for k := ingest.SourceKind(0); ; k++ {
		s := k.String()
		if strings.HasPrefix(s, "SourceKind(") {
			break
		}
		names = append(names, s)
	}
	return strings.Join(names, ", ")
}

func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "…"
}
