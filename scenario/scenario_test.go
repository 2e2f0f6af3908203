package scenario

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/truce-mission/truce/alert"
)

// TestScripts runs every scenario in testdata; each expectation must pass.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.scn")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s, err := ParseFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			res, err := Run(t.Context(), s, Options{Out: &out})
			if err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			if res.Failed > 0 || res.Passed == 0 {
				t.Errorf("%d passed, %d failed:\n%s", res.Passed, res.Failed, out.String())
			}
		})
	}
}

// TestCAPAlerts: every alert the scenarios produce validates against the CAP 1.2 schema.
func TestCAPAlerts(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.scn")
	dir := t.TempDir()
	var all []string
	for _, f := range files {
		s, err := ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Run(t.Context(), s, Options{CapOut: dir})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, res.Alerts...)
	}
	if len(all) < 10 {
		t.Fatalf("only %d alerts", len(all))
	}
	if err := alert.ValidateXSD(all...); errors.Is(err, alert.ErrNoXMLLint) && os.Getenv("TRUCE_REQUIRE_TOOLS") != "1" {
		t.Skip(err)
	} else if err != nil {
		t.Fatal(err)
	}
}

func TestParseErrors(t *testing.T) {
	src := `agreement x.yaml
at D+1 observe monitor-1 tank
at yesterday tick
expect incident one
bogus line
at D+1 review analyst-1 merge 1
at D+1 ack east-liaison incident one
at D+1 ack east-liaison order 66
expect track-event fly
expect ack party=east
at D+1 hotline analyst-1 hello
`
	_, err := Parse("bad.scn", []byte(src))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"bad.scn:2: observe: want the position last",
		"bad.scn:3: time \"yesterday\"",
		"bad.scn:4: expect incident: \"one\" is not a number",
		"bad.scn:5: unknown statement \"bogus\"",
		"bad.scn:6: review merge: want an incident and more",
		"bad.scn:7: ack incident: \"one\" is not a number",
		"bad.scn:8: ack: unknown subject \"order\"",
		"bad.scn:9: expect track-event: unknown track event \"fly\"",
		"bad.scn:10: expect ack: want party= and status=",
		"bad.scn:11: hotline: unexpected words",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
}
