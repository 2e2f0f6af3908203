package locate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readAll(t *testing.T, name, data string) ([]Point, []string, error) {
	t.Helper()
	rd, err := NewReader(name, strings.NewReader(data))
	if err != nil {
		return nil, nil, err
	}
	var pts []Point
	var errs []string
	for {
		var p Point
		err := rd.Read(&p)
		if errors.Is(err, io.EOF) {
			return pts, errs, nil
		}
		var re *RowError
		if errors.As(err, &re) {
			errs = append(errs, err.Error())
			continue
		}
		if err != nil {
			return pts, errs, err
		}
		pts = append(pts, p)
	}
}

func TestReadGood(t *testing.T) {
	data, err := os.ReadFile("testdata/points.csv")
	if err != nil {
		t.Fatal(err)
	}
	pts, errs, err := readAll(t, "points.csv", string(data))
	if err != nil || len(errs) > 0 {
		t.Fatalf("unexpected errors: %v %v", err, errs)
	}
	want := []Point{
		{Line: 2, ID: "p1", Lon: 37.5, Lat: 48, Time: time.Date(2026, 12, 20, 6, 0, 0, 0, time.UTC), Category: "tank", Party: "east", Count: 3},
		{Line: 3, ID: "p2", Lon: 30.7, Lat: 46.5, Alt: 120, HasAlt: true, Count: 1},
		{Line: 4, ID: "p,3", Lon: -179.5, Lat: -60.25, Category: "naval-vessel", Count: 1},
	}
	if fmt.Sprint(pts) != fmt.Sprint(want) {
		t.Errorf("got  %v\nwant %v", pts, want)
	}
}

func TestReadBadRowsAreNamedAndSkipped(t *testing.T) {
	data, err := os.ReadFile("testdata/bad.csv")
	if err != nil {
		t.Fatal(err)
	}
	pts, errs, err := readAll(t, "bad.csv", string(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 1 || pts[0].ID != "a" || pts[0].Lat != 48.1 || pts[0].Lon != 37.2 {
		t.Errorf("accepted rows = %v, want only a (columns in header order lat,lon)", pts)
	}
	want := []string{
		`bad.csv:3: column "lat": 95.0 is out of range [-90, 90]; hint: columns are lon,lat: are they swapped?`,
		`bad.csv:4: column "lon": "abc" is not a number of degrees`,
		`bad.csv:5: column "id": empty id`,
		`bad.csv:6: row has 4 fields, the header 3`,
		`bad.csv:7: extraneous or missing " in quoted-field`,
	}
	if strings.Join(errs, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(errs, "\n"), strings.Join(want, "\n"))
	}
}

func TestHeaderErrors(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{"", "x.csv: empty input"},
		{"id,lon\n", `x.csv:1: header has no "lat" column`},
		{"id,lon,lat,colour\n", `x.csv:1:12: unknown column "colour"`},
		{"id,lon,lat,lat\n", `x.csv:1:12: column "lat" named twice`},
	} {
		_, _, err := readAll(t, "x.csv", tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.data, err, tc.want)
		}
	}
}

// echoChecker answers with the category as zone id and refuses the category "bad".
type echoChecker struct{}

func (echoChecker) AppendFields(dst []byte, p *Point) ([]byte, error) {
	if p.Category == "bad" {
		return dst, &ColumnError{Column: "category", Err: fmt.Errorf("unknown category %q", p.Category)}
	}
	dst = AppendJoined(dst, []string{p.Category, "z"})
	return append(dst, ',', 'r'), nil
}

func TestRunKeepsOrderAndReportsRefusals(t *testing.T) {
	var in strings.Builder
	in.WriteString("id,lon,lat,category\n")
	const n = 3*batchSize + 17
	for i := range n {
		cat := fmt.Sprintf("c%d", i)
		switch {
		case i%1000 == 7:
			cat = "bad"
		case i%1000 == 8:
			fmt.Fprintf(&in, "p%d,200,0,%s\n", i, cat)
			continue
		}
		fmt.Fprintf(&in, "p%d,%d,1,%s\n", i, i%180, cat)
	}
	rd, err := NewReader("in.csv", strings.NewReader(in.String()))
	if err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	sum, err := Run(rd, echoChecker{}, &out, Options{Workers: 3, Errors: &errs})
	if err != nil {
		t.Fatal(err)
	}
	refused := 2 * ((n + 999) / 1000)
	if n%1000 <= 8 {
		refused = 2*(n/1000) + 1
	}
	if sum.Rows != n || sum.Refused != refused {
		t.Errorf("summary = %+v, want rows %d refused %d", sum, n, refused)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if lines[0] != "id,zone_ids,rule_ids" || len(lines) != 1+n-refused {
		t.Fatalf("got %d lines, first %q", len(lines), lines[0])
	}
	prev := -1
	for _, l := range lines[1:] {
		var i int
		if _, err := fmt.Sscanf(l, "p%d,", &i); err != nil || i <= prev {
			t.Fatalf("line %q out of order after p%d", l, prev)
		}
		if want := fmt.Sprintf("p%d,c%d;z,r", i, i); l != want {
			t.Fatalf("line %q, want %q", l, want)
		}
		prev = i
	}
	el := strings.Split(strings.TrimSpace(errs.String()), "\n")
	if len(el) != refused || el[0] != `in.csv:9: column "category": unknown category "bad"` || el[1] != `in.csv:10: column "lon": 200 is out of range [-180, 180]` {
		t.Errorf("errors: %q", el[:2])
	}
}

func TestAppendJoinedQuotes(t *testing.T) {
	if got := string(AppendJoined(nil, []string{"a", "b c"})); got != "a;b c" {
		t.Errorf("got %q", got)
	}
	if got := string(AppendJoined(nil, []string{"a,1", `b"`})); got != `"a,1;b"""` {
		t.Errorf("got %q", got)
	}
}

func FuzzReader(f *testing.F) {
	for _, name := range []string{"points.csv", "bad.csv"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("id,lon,lat\n\"a\"\"b\",1e308,-0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rd, err := NewReader("f.csv", bytes.NewReader(data))
		if err != nil {
			return
		}
		for range 10000 {
			var p Point
			err := rd.Read(&p)
			var re *RowError
			switch {
			case err == nil:
				if p.Lat < -90 || p.Lat > 90 || p.Lon < -180 || p.Lon > 180 || p.ID == "" || p.Count < 0 {
					t.Fatalf("accepted an invalid point %+v", p)
				}
			case errors.As(err, &re):
				if re.Line < 1 || !strings.HasPrefix(err.Error(), "f.csv:") {
					t.Fatalf("row error without a position: %v", err)
				}
			default:
				return
			}
		}
	})
}
