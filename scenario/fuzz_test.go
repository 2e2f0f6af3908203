package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: the scenario parser never panics, and every problem it reports is an *Error
// naming a line of the input.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*.scn")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed scripts in testdata: %v", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("at D+1 observe\nexpect\n\"unclosed"))
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Parse("fuzz.scn", src)
		if err == nil {
			if s == nil || s.Agreement == "" {
				t.Fatalf("no error and no agreement: %+v", s)
			}
			return
		}
		lines := strings.Count(string(src), "\n") + 1
		var joined interface{ Unwrap() []error }
		errs := []error{err}
		if errors.As(err, &joined) {
			errs = joined.Unwrap()
		}
		for _, e := range errs {
			var pe *Error
			if !errors.As(e, &pe) {
				t.Fatalf("error %v (%T) is not an *Error", e, e)
			}
			if pe.File != "fuzz.scn" || pe.Line < 1 || pe.Line > lines {
				t.Fatalf("error %q names line %d of a %d-line script", pe.Error(), pe.Line, lines)
			}
		}
	})
}
