package agreement

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzLoad checks that Load never panics, that every error it reports
// carries a position and comes in order, and that an agreement it accepts
// loads again to the same value and validates again without error.
func FuzzLoad(f *testing.F) {
	files := map[string][]byte{}
	err := filepath.WalkDir("testdata", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Base(filepath.Dir(path)) == "FuzzLoad" {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(path)] = data
		f.Add(data)
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		"", "{}", "[]", "null", "---\n---\n", "truce: 1\n---\ntruce: 1\n", "\t", "a: &x [*x]\n",
		"truce: 1\nid: a\nd_day: 2026-12-01T00:00:00Z\nzones:\n  - {id: z, kind: buffer, geometry_file: zones/lane.geojson}\n",
		"truce: 1\nid: a\nd_day: 2026-12-01T00:00:00Z\nzones:\n  - {id: z, kind: line, geometry_file: zones/loc.geojson}\n  - {id: c, kind: buffer, corridor: {line: z, half_width_m: 1}}\n",
		"truce: 1\nid: a\nd_day: 2026-12-01T00:00:00Z\nphases: [{id: P, day: -3}]\ncategories: [{id: c, parent: c}]\n",
		"truce: 1\nid: a\nd_day: 2026-12-01T00:00:00Z\nzones:\n  - {id: z, kind: buffer, geometry: {type: Polygon, coordinates: [[[179, 1], [-179, 1], [-179, 2], [179, 1]]]}}\n",
	} {
		f.Add([]byte(s))
	}
	read := func(name string) ([]byte, error) {
		if data, ok := files[filepath.ToSlash(name)]; ok {
			return data, nil
		}
		return nil, fs.ErrNotExist
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Load("testdata/fuzz.yaml", data, read)
		if err != nil {
			var l ErrorList
			if !errors.As(err, &l) || len(l) == 0 {
				t.Fatalf("error %T %v, want a non-empty ErrorList", err, err)
			}
			for i, e := range l {
				if e.Line < 1 || e.Col < 1 || e.File == "" || e.Msg == "" {
					t.Errorf("error without a position: %#v", e)
				}
				if i > 0 && e.File == l[i-1].File && (e.Line < l[i-1].Line || e.Line == l[i-1].Line && e.Col < l[i-1].Col) {
					t.Errorf("errors out of order: %v then %v", l[i-1], e)
				}
			}
			return
		}
		b, err := Load("testdata/fuzz.yaml", data, read)
		if err != nil {
			t.Fatalf("second load fails: %v", err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("second load differs:\n%+v\n%+v", a, b)
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("Validate after Load: %v", err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("Validate changed the agreement")
		}
	})
}
