package alert

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: Parse never panics, and whatever it accepts writes back to XML and JSON, parses
// again, and writes the same bytes (the first write normalises order and times).
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"testdata/*.xml", "testdata/partner/*.cap", "testdata/golden/*.xml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte(`<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>a</identifier></alert>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Parse(data)
		if err != nil {
			return
		}
		x, err := a.XML()
		if err != nil {
			t.Fatalf("XML of a parsed alert: %v", err)
		}
		if _, err := a.JSON(); err != nil {
			t.Fatalf("JSON of a parsed alert: %v", err)
		}
		b, err := Parse(x)
		if err != nil {
			t.Fatalf("Parse of our own XML: %v\n%s", err, x)
		}
		x2, err := b.XML()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, x2) {
			t.Fatalf("round trip changed the alert:\n%s\n---\n%s", x, x2)
		}
	})
}
