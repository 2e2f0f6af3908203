package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/truce-mission/truce/geo"
	"github.com/truce-mission/truce/locate"
	"github.com/truce-mission/truce/zonecheck"
)

type locateCmd struct {
	Agreement string `arg:"" optional:"" help:"Agreement file (omit with --zones)."`
	Points    string `arg:"" optional:"" default:"-" help:"CSV of id,lon,lat[,alt,time,category,party,count] with a header row; - for standard input."`
	ZonesFile string `name:"zones" help:"Check against the Polygon/MultiPolygon features of this GeoJSON FeatureCollection instead of an agreement (zone ids from each feature's id property)."`
	Edges     string `help:"Polygon edges: geodesic (great-circle arcs) or planar (straight in lon/lat, as GeoJSON and most GIS tools). Default: the agreement's setting, else geodesic." enum:",geodesic,planar" default:""`
	At        string `help:"Time for rows without a time column (RFC 3339). Default: now."`
	Progress  string `help:"Progress bar on stderr: auto (when stderr is a terminal and the input a file over 1 MB), always, never." enum:"auto,always,never" default:"auto"`
	Output    string `short:"o" help:"Write results here instead of standard output."`
}

func (c *locateCmd) Help() string {
	return `Writes one row id,zone_ids,rule_ids per input row, in input order; ids are joined with ';'
in declaration order, empty when none. A row without a category gets zones only; a row without a
party is checked against every party's rules. A refused row is reported on stderr as
file:line: column "name": reason, and the run goes on; the exit status is then 1.

Examples:
  truce locate examples/line-of-contact.yaml examples/positions.csv
  truce locate --zones layer.geojson --edges planar points.csv -o located.csv
  cat points.csv | truce locate examples/line-of-contact.yaml -`
}

func (c *locateCmd) Run(s streams) error {
	if c.ZonesFile != "" && c.Agreement != "" && c.Points == "-" {
		// With --zones the one positional argument is the points file.
		c.Agreement, c.Points = "", c.Agreement
	}
	checker, err := c.checker()
	if err != nil {
		return err
	}
	at := time.Now().UTC()
	if c.At != "" {
		if at, err = time.Parse(time.RFC3339, c.At); err != nil {
			return fmt.Errorf("--at %q: want an RFC 3339 time such as 2026-12-15T06:00:00Z", c.At)
		}
	}

	in, name, size := s.in, "stdin", int64(-1)
	if c.Points != "-" {
		f, err := os.Open(c.Points)
		if err != nil {
			return err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			size = st.Size()
		}
		in, name = f, c.Points
	}
	out := s.out
	if c.Output != "" {
		f, err := os.Create(c.Output)
		if err != nil {
			return err
		}
		defer f.Close()
		out = f
	}

	counter := &countingReader{r: in}
	rd, err := locate.NewReader(name, counter)
	if err != nil {
		return err
	}
	opts := locate.Options{Errors: s.err}
	if bar := c.progressBar(s.err, size); bar != nil {
		opts.Progress = func(int) { _ = bar.Set64(counter.n) }
		defer func() { _ = bar.Finish() }()
	}
	sum, err := locate.Run(rd, rowChecker{checker, at}, out, opts)
	if err != nil {
		return err
	}
	if sum.Refused > 0 {
		fmt.Fprintf(s.err, "truce: %d of %d rows refused\n", sum.Refused, sum.Rows)
		return exitError{1}
	}
	return nil
}

func (c *locateCmd) checker() (*zonecheck.Checker, error) {
	edges := geo.Geodesic
	if c.Edges == "planar" {
		edges = geo.Planar
	}
	switch {
	case c.ZonesFile != "":
		data, err := os.ReadFile(c.ZonesFile)
		if err != nil {
			return nil, err
		}
		zones, err := zonecheck.LoadLayer(c.ZonesFile, data)
		if err != nil {
			return nil, err
		}
		return zonecheck.New(zones, nil, zonecheck.Options{Edges: edges})
	case c.Agreement != "":
		a, err := loadAgreement(c.Agreement)
		if err != nil {
			return nil, err
		}
		var override *geo.Edges
		if c.Edges != "" {
			override = &edges
		}
		return zonecheck.FromAgreement(a, override)
	}
	return nil, errors.New("name an agreement file, or a layer with --zones")
}

func (c *locateCmd) progressBar(w io.Writer, size int64) *progressbar.ProgressBar {
	show := c.Progress == "always"
	if c.Progress == "auto" {
		f, ok := w.(*os.File)
		show = ok && term.IsTerminal(int(f.Fd())) && size > 1<<20
	}
	if !show {
		return nil
	}
	return progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("locating"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

// rowChecker adapts a zonecheck.Checker to locate's rows.
type rowChecker struct {
	c  *zonecheck.Checker
	at time.Time
}

func (rc rowChecker) AppendFields(dst []byte, p *locate.Point) ([]byte, error) {
	q := zonecheck.Query{
		Point: geo.Point{Lon: p.Lon, Lat: p.Lat}, Alt: p.Alt, HasAlt: p.HasAlt,
		Time: p.Time, Category: p.Category, Party: p.Party, Count: p.Count,
	}
	if q.Time.IsZero() {
		q.Time = rc.at
	}
	r := resultPool.Get().(*zonecheck.Result)
	defer resultPool.Put(r)
	if err := rc.c.Check(&q, r); err != nil {
		var uc *zonecheck.UnknownCategoryError
		if errors.As(err, &uc) {
			return dst, &locate.ColumnError{Column: "category", Err: err}
		}
		var up *zonecheck.UnknownPartyError
		if errors.As(err, &up) {
			return dst, &locate.ColumnError{Column: "party", Err: err}
		}
		return dst, err
	}
	return appendResult(dst, rc.c, r), nil
}

// resultPool keeps per-row scratch off the heap: locate answers millions of rows.
var resultPool = sync.Pool{New: func() any { return new(zonecheck.Result) }}

// appendResult writes the zone ids and rule ids fields.
func appendResult(dst []byte, c *zonecheck.Checker, r *zonecheck.Result) []byte {
	var buf [16]string
	ids := buf[:0]
	for _, z := range r.Zones {
		ids = append(ids, c.Zones()[z].ID)
	}
	dst = locate.AppendJoined(dst, ids)
	dst = append(dst, ',')
	ids = ids[:0]
	for _, b := range r.Breaches {
		ids = append(ids, c.Rules()[b.Rule].ID)
	}
	return locate.AppendJoined(dst, ids)
}

// countingReader counts bytes read, for the progress bar.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
