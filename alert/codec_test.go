package alert

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	alerts := successCases(t)
	names := make([]string, 0, len(alerts))
	for n := range alerts {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		a := alerts[name]
		t.Run(name, func(t *testing.T) {
			x, err := a.XML()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(x, []byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">`)) {
				t.Errorf("XML does not start with the declaration and the namespaced root:\n%s", x)
			}
			b, err := Parse(x)
			if err != nil {
				t.Fatal(err)
			}
			x2, err := b.XML()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(x, x2) {
				t.Errorf("XML → Parse → XML changed the alert:\n%s\n---\n%s", x, x2)
			}
			if b.Ref().String() != a.Ref().String() {
				t.Errorf("Ref after parsing = %v, want %v", b.Ref(), a.Ref())
			}

			// JSON carries the same tree.
			j, err := a.JSON()
			if err != nil {
				t.Fatal(err)
			}
			var c Alert
			if err := json.Unmarshal(j, &c); err != nil {
				t.Fatalf("%v\n%s", err, j)
			}
			x3, err := c.XML()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(x, x3) {
				t.Errorf("JSON → XML differs:\n%s\n---\n%s", x, x3)
			}
		})
	}
}

func TestJSONShape(t *testing.T) {
	a := successCases(t)["new"]
	j, err := a.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(j, &m); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"identifier": a.Identifier, "sender": sender, "sent": "2026-12-05T08:00:00+00:00",
		"status": "Actual", "msgType": "Alert", "scope": "Restricted", "addresses": "north south",
	} {
		if m[key] != want {
			t.Errorf("%s = %v, want %q", key, m[key], want)
		}
	}
	if _, ok := m["XMLName"]; ok {
		t.Error("XMLName is in the JSON")
	}
	info := m["info"].([]any)[0].(map[string]any)
	if _, ok := info["category"].([]any); !ok {
		t.Errorf("category is %T, want an array", info["category"])
	}
	area := info["area"].([]any)[0].(map[string]any)
	if _, ok := area["polygon"].([]any); !ok {
		t.Errorf("polygon is %T, want an array", area["polygon"])
	}
	if info["expires"] != "2026-12-07T08:00:00+00:00" {
		t.Errorf("expires = %v", info["expires"])
	}
	if _, ok := info["onset"]; ok {
		t.Error("empty onset is in the JSON")
	}
}

// partnerFiles are the real and spec alerts in testdata that are valid CAP 1.2.
func partnerFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/partner/*.cap")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "testdata/amber-example.xml")
	var valid []string
	for _, f := range files {
		switch filepath.Base(f) {
		case "xee.cap", "invalid.cap":
		default:
			valid = append(valid, f)
		}
	}
	return valid
}

func TestParseExamples(t *testing.T) {
	for _, f := range partnerFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			a, err := Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			x, err := a.XML()
			if err != nil {
				t.Fatal(err)
			}
			b, err := Parse(x)
			if err != nil {
				t.Fatalf("%v\n%s", err, x)
			}
			x2, _ := b.XML()
			if !bytes.Equal(x, x2) {
				t.Errorf("second round trip changed the alert:\n%s\n---\n%s", x, x2)
			}
		})
	}
}

func TestParseAmberExample(t *testing.T) {
	data, err := os.ReadFile("testdata/amber-example.xml")
	if err != nil {
		t.Fatal(err)
	}
	a, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if a.Identifier != "KAR0-0306112239-SW" || a.Sender != "KARO@CLETS.DOJ.CA.GOV" || a.Sent.String() != "2003-06-11T22:39:00-07:00" ||
		a.Status != StatusActual || a.MsgType != MsgAlert || a.Source != "SW" || a.Scope != ScopePublic {
		t.Errorf("alert header: %+v", a)
	}
	if len(a.Info) != 2 {
		t.Fatalf("%d infos, want 2", len(a.Info))
	}
	es := a.Info[1]
	if es.Language != "es-US" || es.Event != "Abducción de Niño" || es.Certainty != "Likely" ||
		len(es.EventCode) != 1 || es.EventCode[0] != (NamedValue{"SAME", "CAE"}) ||
		len(es.Area) != 1 || es.Area[0].AreaDesc != "condado de Los Ángeles" || es.Area[0].Geocode[0] != (NamedValue{"SAME", "006037"}) {
		t.Errorf("second info: %+v", es)
	}
}

func TestParseRefuses(t *testing.T) {
	valid, err := os.ReadFile("testdata/golden/new.xml")
	if err != nil {
		t.Fatal(err)
	}
	xee, err := os.ReadFile("testdata/partner/xee.cap")
	if err != nil {
		t.Fatal(err)
	}
	invalid, err := os.ReadFile("testdata/partner/invalid.cap")
	if err != nil {
		t.Fatal(err)
	}
	replace := func(old, new string) []byte {
		if !bytes.Contains(valid, []byte(old)) {
			t.Fatalf("golden new.xml has no %q", old)
		}
		return bytes.Replace(valid, []byte(old), []byte(new), 1)
	}
	body := string(valid[len(xml.Header):])
	for _, tc := range []struct {
		name    string
		in      []byte
		wantIs  error
		wantMsg string
	}{
		{"XXE fixture", xee, ErrDTD, "<!DOCTYPE"},
		{"internal entity", []byte(`<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY a "b">]>` + body), ErrDTD, "<!DOCTYPE"},
		{"DOCTYPE inside the root", replace("<identifier>", "<!DOCTYPE x><identifier>"), ErrDTD, ""},
		{"undeclared entity", replace("<event>", "<event>&xxe;"), nil, "invalid character entity &xxe;"},
		{"missing scope", invalid, ErrInvalid, "no scope"},
		{"not XML", []byte("hello"), ErrNotAlert, "text before the root element"},
		{"empty", nil, ErrNotAlert, "no root element"},
		{"other root", []byte(`<feed xmlns="http://www.w3.org/2005/Atom"/>`), ErrNotAlert, `root element <feed>`},
		{"CAP 1.1", bytes.ReplaceAll(valid, []byte("cap:1.2"), []byte("cap:1.1")), ErrNotAlert, "urn:oasis:names:tc:emergency:cap:1.1"},
		{"no namespace", replace(` xmlns="urn:oasis:names:tc:emergency:cap:1.2"`, ""), ErrNotAlert, `namespace ""`},
		{"second root", append(bytes.Clone(valid), "<alert/>"...), ErrNotAlert, "a second root element <alert>"},
		{"text after", append(bytes.Clone(valid), "junk"...), ErrNotAlert, "text after the root element"},
		{"unclosed", valid[:len(valid)-10], nil, "XML syntax error"},
		{"too large", append(bytes.Clone(valid), bytes.Repeat([]byte(" "), MaxBytes)...), ErrTooLarge, ""},
		{"UTF-16 declared", replace(`encoding="UTF-8"`, `encoding="UTF-16"`), nil, `encoding "UTF-16"`},
		{"fractional seconds", replace("<sent>2026-12-05T08:00:00+00:00", "<sent>2026-12-05T08:00:00.5+00:00"), nil, "want a CAP time"},
		{"Z time", replace("<sent>2026-12-05T08:00:00+00:00", "<sent>2026-12-05T08:00:00Z"), nil, "want a CAP time"},
		{"bad certainty", replace("<certainty>Likely", "<certainty>Very Likely"), ErrInvalid, `certainty "Very Likely"`},
		{"open polygon", replace("33.2,35.1</polygon>", "33.2,35.2</polygon>"), ErrInvalid, "ring not closed"},
		{"mismatched tags", replace("</restriction>", "</note>"), nil, "XML syntax error on line 9: element <restriction> closed by </note>"},
		{"restricted without restriction", replace("<restriction>For the addressed parties and the monitoring mission only; not for public release.</restriction>", ""), ErrInvalid, "scope Restricted needs a restriction"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("no error; alert %+v", a)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("error is %T, want *ParseError", err)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error %q does not wrap %q", err, tc.wantIs)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) || !strings.HasPrefix(err.Error(), "parsing CAP alert: ") {
				t.Errorf("error %q\nwant the prefix \"parsing CAP alert: \" and %q", err, tc.wantMsg)
			}
		})
	}
}

func TestParseLenient(t *testing.T) {
	valid, err := os.ReadFile("testdata/golden/new.xml")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Parse(valid)
	if err != nil {
		t.Fatal(err)
	}
	wantXML, _ := want.XML()
	for _, tc := range []struct{ name, old, new string }{
		{"prefixed namespace", "", ""},
		{"comment and processing instruction", "<identifier>", "<!-- c --><?pi x?><identifier>"},
		{"time with white space", "<sent>2026-12-05T08:00:00+00:00</sent>", "<sent>\n 2026-12-05T08:00:00+00:00 </sent>"},
		{"CDATA", "<event>Heavy weapons", "<event><![CDATA[Heavy]]> weapons"},
		{"ISO-8859-1", `encoding="UTF-8"`, `encoding="ISO-8859-1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := bytes.Replace(valid, []byte(tc.old), []byte(tc.new), 1)
			if tc.name == "prefixed namespace" {
				s := strings.ReplaceAll(string(valid), "<", "<cap:")
				s = strings.ReplaceAll(s, "<cap:/", "</cap:")
				s = strings.Replace(s, "<cap:?xml", "<?xml", 1)
				s = strings.Replace(s, `xmlns=`, `xmlns:cap=`, 1)
				in = []byte(s)
			}
			a, err := Parse(in)
			if err != nil {
				t.Fatalf("%v\n%s", err, in)
			}
			got, _ := a.XML()
			if !bytes.Equal(got, wantXML) {
				t.Errorf("got\n%s\nwant\n%s", got, wantXML)
			}
		})
	}
	// ISO-8859-1 bytes above 0x7f become their Unicode letters.
	latin := []byte(`<?xml version="1.0" encoding="ISO-8859-1"?>` + "\n" + strings.Replace(string(valid[len(xml.Header):]), "Heavy weapons", "Arm\xe9es lourdes", 1))
	a, err := Parse(latin)
	if err != nil {
		t.Fatal(err)
	}
	if a.Info[0].Event != "Armées lourdes in the demilitarized zone" {
		t.Errorf("event = %q", a.Info[0].Event)
	}
}

func TestValidate(t *testing.T) {
	a := successCases(t)["new"]
	for _, tc := range []struct {
		name string
		mod  func(*Alert)
		want string
	}{
		{"identifier with space", func(a *Alert) { a.Identifier = "a b" }, `identifier "a b"`},
		{"sender with ampersand", func(a *Alert) { a.Sender = "a&b" }, `sender "a&b"`},
		{"zero sent", func(a *Alert) { a.Sent = Time{} }, "sent: zero time"},
		{"status", func(a *Alert) { a.Status = "Real" }, `status "Real"`},
		{"private without addresses", func(a *Alert) { a.Scope, a.Addresses = ScopePrivate, "" }, "scope Private needs addresses"},
		{"bad references", func(a *Alert) { a.References = "a,b" }, "references: reference \"a,b\""},
		{"no category", func(a *Alert) { a.Info[0].Category = nil }, "info[0]: no category"},
		{"response type", func(a *Alert) { a.Info[0].ResponseType = []string{"Run"} }, `responseType "Run"`},
		{"language", func(a *Alert) { a.Info[0].Language = "english language" }, `language "english language"`},
		{"resource", func(a *Alert) { a.Info[0].Resource = []Resource{{ResourceDesc: "map"}} }, "resource[0]: needs resourceDesc and mimeType"},
		{"no areaDesc", func(a *Alert) { a.Info[0].Area[0].AreaDesc = " " }, "info[0]: area[0]: no areaDesc"},
		{"short polygon", func(a *Alert) { a.Info[0].Area[0].Polygon = []string{"1,1 2,2 1,1"} }, "want at least 4 lat,lon pairs"},
		{"polygon out of range", func(a *Alert) { a.Info[0].Area[0].Polygon = []string{"1,1 2,200 3,3 1,1"} }, `point "2,200"`},
		{"circle", func(a *Alert) { a.Info[0].Area[0].Circle = []string{"1,1"} }, `circle[0]: "1,1"`},
		{"circle radius", func(a *Alert) { a.Info[0].Area[0].Circle = []string{"1,1 NaN"} }, `radius "NaN"`},
		{"altitude", func(a *Alert) { a.Info[0].Area[0].Altitude = "1e3" }, `altitude "1e3"`},
		{"ceiling alone", func(a *Alert) { a.Info[0].Area[0].Ceiling = "100" }, "ceiling without altitude"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, _ := a.XML()
			b, err := Parse(x) // a deep copy
			if err != nil {
				t.Fatal(err)
			}
			tc.mod(b)
			err = b.Validate()
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want ErrInvalid with %q", err, tc.want)
			}
		})
	}
	for _, ok := range []string{"en", "en-US", "x-klingon", "de-CH-1901"} {
		if !isLanguage(ok) {
			t.Errorf("isLanguage(%q) = false", ok)
		}
	}
	for _, d := range []string{"1", "-1.5", "+.5", "5.", " 12 "} {
		if !isDecimal(d) {
			t.Errorf("isDecimal(%q) = false", d)
		}
	}
	for _, d := range []string{"", ".", "-", "1e3", "1.2.3", "NaN"} {
		if isDecimal(d) {
			t.Errorf("isDecimal(%q) = true", d)
		}
	}
}
