package alert

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/truce-mission/truce/internal/refdata"
)

// validateOrSkip runs ValidateXSD; without xmllint the test skips, or fails when
// TRUCE_REQUIRE_TOOLS=1 (as CI should set it).
func validateOrSkip(t *testing.T, files ...string) error {
	t.Helper()
	err := ValidateXSD(files...)
	if errors.Is(err, ErrNoXMLLint) {
		if os.Getenv("TRUCE_REQUIRE_TOOLS") == "1" {
			t.Fatalf("TRUCE_REQUIRE_TOOLS=1: %v", err)
		}
		t.Skipf("skipping the CAP schema check: %v (set TRUCE_REQUIRE_TOOLS=1 to fail instead)", err)
	}
	return err
}

// TestSchema validates every alert the tests produce, the round-tripped examples and the
// example alerts themselves against the OASIS schema.
func TestSchema(t *testing.T) {
	dir := t.TempDir()
	var files []string
	write := func(name string, data []byte) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}

	alerts := successCases(t)
	names := make([]string, 0, len(alerts))
	for n := range alerts {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		x, err := alerts[n].XML()
		if err != nil {
			t.Fatal(err)
		}
		write(strings.NewReplacer(" ", "-", ":", "").Replace(n)+".xml", x)
		// A drill of the same alert.
		b, _ := Parse(x)
		b.Status = StatusExercise
		if x, err = b.XML(); err != nil {
			t.Fatal(err)
		}
		write("exercise-"+string(rune('a'+i))+".xml", x)
	}
	for _, f := range partnerFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f) // the original
		a, err := Parse(data)
		if err != nil {
			t.Fatal(err)
		}
		x, err := a.XML()
		if err != nil {
			t.Fatal(err)
		}
		write("rewritten-"+filepath.Base(f)+".xml", x)
	}
	if err := validateOrSkip(t, files...); err != nil {
		t.Fatalf("%d files checked:\n%v", len(files), err)
	}
	t.Logf("%d files validate against CAP-v1.2.xsd", len(files))
}

func TestValidateXSDReportsFailures(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.xml")
	notXML := filepath.Join(dir, "-broken.xml") // a name like an option
	x, err := successCases(t)["new"].XML()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, x, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(notXML, []byte("<alert>"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A restricted alert with its elements out of order, which Parse accepts but the schema does not.
	swapped := filepath.Join(dir, "swapped.xml")
	if err := os.WriteFile(swapped, bytes.Replace(x, []byte("<status>Actual</status>"), nil, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	invalid := "testdata/partner/invalid.cap"

	missing := filepath.Join(dir, "missing.xml")
	err = validateOrSkip(t, good, invalid, swapped, notXML, missing)
	if err == nil {
		t.Fatal("no error")
	}
	var failed []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var xe *XSDError
		if !errors.As(e, &xe) {
			t.Fatalf("error %T is not an *XSDError: %v", e, e)
		}
		failed = append(failed, filepath.Base(xe.File))
		if len(xe.Messages) == 0 {
			t.Errorf("%s: no messages", xe.File)
		}
	}
	if strings.Join(failed, " ") != "invalid.cap swapped.xml -broken.xml missing.xml" {
		t.Errorf("failed files %q, want invalid.cap swapped.xml -broken.xml missing.xml; error:\n%v", failed, err)
	}
	msg := err.Error()
	for _, want := range []string{"invalid.cap: 9: element info: Schemas validity error", "scope", "swapped.xml", "msgType", "-broken.xml: 1: parser error", "missing.xml: stat"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "good.xml") {
		t.Errorf("error mentions the valid file:\n%s", msg)
	}
}

func TestValidateXSDWithoutXMLLint(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := ValidateXSD("testdata/amber-example.xml")
	if !errors.Is(err, ErrNoXMLLint) {
		t.Errorf("ValidateXSD without xmllint = %v, want ErrNoXMLLint", err)
	}
	if err := ValidateXSD(); err == nil {
		t.Error("ValidateXSD() with no files: no error")
	}
}

// TestSchemaCopy checks that the embedded schema and the test example are the shared copies.
func TestSchemaCopy(t *testing.T) {
	for _, pair := range [][2]string{
		{"schema/CAP-v1.2.xsd", "cap/CAP-v1.2.xsd"},
		{"testdata/amber-example.xml", "cap/cap_amber_alert_example.xml"},
	} {
		shared := refdata.Read(t, pair[1])
		ours, err := os.ReadFile(pair[0])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ours, shared) {
			t.Errorf("%s differs from %s", pair[0], pair[1])
		}
	}
	if !bytes.Equal(schemaXSD, mustRead(t, "schema/CAP-v1.2.xsd")) {
		t.Error("embedded schema differs from schema/CAP-v1.2.xsd")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
