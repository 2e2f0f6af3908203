package cap_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/truce-mission/truce/ingest"
	"github.com/truce-mission/truce/ingest/cap"
	"github.com/truce-mission/truce/ingest/ingesttest"
)

func parse(t testing.TB, name string, in []byte) *ingesttest.Collector {
	t.Helper()
	var c ingesttest.Collector
	if err := cap.Parse(bytes.NewReader(in), ingest.Options{Name: name}, &c); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &c
}

// TestSharedFiles reads every file of the reference CAP data: each is either ingested or
// refused with the reason the table gives.
func TestSharedFiles(t *testing.T) {
	noShape := "no polygon or circle"
	tests := map[string]struct {
		obs     int
		reasons []string // a substring of each rejection, in order
		is      error    // the sentinel the first rejection matches, if any
	}{
		// google-cap-library/testdata
		"testdata/amber.atom":                       {0, []string{"root element is <feed>"}, cap.ErrNotAlert},
		"testdata/australia.cap":                    {2, nil, nil}, // cap: prefix, CAP-AU, two circles
		"testdata/bushfire_invalid.edxlde":          {0, []string{"root element is <EDXLDistribution>"}, cap.ErrNotAlert},
		"testdata/bushfire_valid.edxlde":            {0, []string{"root element is <EDXLDistribution>"}, cap.ErrNotAlert},
		"testdata/canada.cap":                       {4, nil, nil}, // four polygons
		"testdata/canada_errors.cap":                {1, nil, nil}, // schema-invalid (empty <references/>), but locatable
		"testdata/canada_signed.atom":               {0, []string{"root element is <feed>"}, cap.ErrNotAlert},
		"testdata/canada_signed.cap":                {4, nil, nil}, // XML-DSig signature ignored
		"testdata/earthquake-iso8859-1.cap":         {1, nil, nil}, // ISO-8859-1, circle
		"testdata/earthquake.cap":                   {1, nil, nil}, // CAP 1.1, circle
		"testdata/earthquake_index.atom":            {0, []string{"root element is <feed>"}, cap.ErrNotAlert},
		"testdata/earthquake_signed.cap":            {1, nil, nil},
		"testdata/empty_weather_index.atom":         {0, []string{"root element is <feed>"}, cap.ErrNotAlert},
		"testdata/environment_canada_x509_cert.pem": {0, []string{"no root element"}, cap.ErrNotAlert},
		"testdata/invalid.cap":                      {0, []string{"info[0].area[0]: area: " + noShape}, nil},
		"testdata/invalid.rss":                      {0, []string{"root element is <rss>"}, cap.ErrNotAlert},
		"testdata/invalid_element.atom":             {0, []string{"root element is <feed>"}, cap.ErrNotAlert},
		"testdata/naads_x509_cert.pem":              {0, []string{"no root element"}, cap.ErrNotAlert},
		"testdata/no_entries.atom":                  {0, []string{"root element is <feed>"}, cap.ErrNotAlert},
		"testdata/no_id.atom":                       {0, []string{"root element is <feed>"}, cap.ErrNotAlert},
		"testdata/no_link.atom":                     {0, []string{"root element is <feed>"}, cap.ErrNotAlert},
		"testdata/no_optional_fields.cap":           {0, []string{"info: alert has no <info>"}, nil},
		"testdata/no_title.atom":                    {0, []string{"root element is <feed>"}, cap.ErrNotAlert},
		"testdata/noaa_errors.cap":                  {0, []string{`info[0].area[0]: polygon[0]: point 7: "+40.85,-118.09," is not "lat,lon" in degrees`}, nil},
		"testdata/ny_index.rss":                     {0, []string{"root element is <rss>"}, cap.ErrNotAlert},
		"testdata/wcatwc-warning.cap":               {0, []string{noShape}, nil}, // geocodes only
		"testdata/weather.atom":                     {0, []string{"root element is <feed>"}, cap.ErrNotAlert},
		"testdata/weather.cap":                      {0, []string{noShape}, nil},
		"testdata/weather_index.atom":               {0, []string{"root element is <feed>"}, cap.ErrNotAlert},
		"testdata/weather_invalid.atom":             {0, []string{"root element is <feed>"}, cap.ErrNotAlert},
		"testdata/xee.atom":                         {0, []string{"DOCTYPE and ENTITY declarations are refused"}, cap.ErrDTD},
		"testdata/xee.cap":                          {0, []string{"DOCTYPE and ENTITY declarations are refused"}, cap.ErrDTD},
		// google-cap-library/validator-examples
		"validator-examples/43b080713727.cap":       {0, []string{noShape}, nil},
		"validator-examples/KAR0-0306112239-SW.cap": {0, []string{noShape}, nil},
		"validator-examples/earthquake.atom":        {0, []string{"root element is <feed>"}, cap.ErrNotAlert},
		"validator-examples/thunderstorm.cap":       {1, nil, nil},
		"../cap_amber_alert_example.xml":            {0, []string{"info[0].area[0]: area: " + noShape, "info[1].area[0]: area: " + noShape}, nil},
	}
	root := ingesttest.SharedData(t, "cap/google-cap-library")
	files, _ := filepath.Glob(filepath.Join(root, "testdata", "*"))
	more, _ := filepath.Glob(filepath.Join(root, "validator-examples", "*"))
	files = append(append(files, more...), ingesttest.SharedData(t, "cap/cap_amber_alert_example.xml"))
	seen := map[string]bool{}
	ingested, refused, observations := 0, 0, 0
	why := map[string]int{}
	for _, path := range files {
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		seen[rel] = true
		want, ok := tests[rel]
		if !ok {
			t.Errorf("%s: not in the table of expectations", rel)
			continue
		}
		in, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		c := parse(t, filepath.Base(path), in)
		if len(c.Obs) != want.obs {
			t.Errorf("%s: %d observations, want %d; rejections %q", rel, len(c.Obs), want.obs, c.Rejected())
		}
		if len(c.Rej) != len(want.reasons) {
			t.Errorf("%s: rejections %q, want %d", rel, c.Rejected(), len(want.reasons))
		} else {
			for i, r := range want.reasons {
				if !strings.Contains(c.Rej[i].Error(), r) {
					t.Errorf("%s: rejection %q does not say %q", rel, c.Rej[i], r)
				}
			}
		}
		if want.is != nil && (len(c.Rej) == 0 || !errors.Is(c.Rej[0], want.is)) {
			t.Errorf("%s: rejections %q do not match %v", rel, c.Rejected(), want.is)
		}
		for _, o := range c.Obs {
			if e := ingest.Validate(&o); e != nil || o.Source != ingest.SourcePartnerAlert {
				t.Errorf("%s: observation %s invalid: %v", rel, o.ID, e)
			}
		}
		observations += len(c.Obs)
		if len(c.Obs) > 0 {
			ingested++
		} else {
			refused++
		}
		for _, e := range c.Rej {
			switch {
			case errors.Is(e, cap.ErrNotAlert):
				why["not a single CAP alert (feed, EDXL-DE, PEM)"]++
			case errors.Is(e, cap.ErrDTD):
				why["DOCTYPE/ENTITY"]++
			case strings.Contains(e.Error(), noShape):
				why["area without polygon or circle"]++
			default:
				why[e.Err.Error()]++
			}
		}
	}
	for rel := range tests {
		if !seen[rel] {
			t.Errorf("%s: in the table but not found", rel)
		}
	}
	t.Logf("%d files: %d ingested (%d observations), %d refused; rejections by reason: %v", len(files), ingested, observations, refused, why)
}

// TestValues checks what the observations say against the alerts.
func TestValues(t *testing.T) {
	read := func(rel string) *ingesttest.Collector {
		in, err := os.ReadFile(ingesttest.SharedData(t, "cap/"+rel))
		if err != nil {
			t.Fatal(err)
		}
		return parse(t, filepath.Base(rel), in)
	}

	c := read("google-cap-library/validator-examples/thunderstorm.cap")
	o := c.Obs[0]
	// The polygon 38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89 38.47,-120.14 has its
	// planar centroid at 38.484006116, -119.934617737 (shoelace formula).
	if math.Abs(o.Position.Lat-38.48400611626981) > 1e-9 || math.Abs(o.Position.Lon+119.93461773719702) > 1e-9 {
		t.Errorf("thunderstorm centroid %v", o.Position)
	}
	if o.ID != "cap:KSTO@NWS.NOAA.GOV,KSTO1055887203#0.0" || o.Observed.Format("2006-01-02T15:04:05Z07:00") != "2003-06-17T21:57:00Z" {
		t.Errorf("thunderstorm id %q, observed %v (sent 2003-06-17T14:57:00-07:00)", o.ID, o.Observed)
	}
	for _, s := range []string{"SEVERE THUNDERSTORM WARNING (severity Severe, urgency Immediate, certainty Observed)\n",
		"DOPPLER RADAR", "\narea: EXTREME NORTH CENTRAL TUOLUMNE COUNTY",
		"\npolygon: 38.47,-120.14 38.34,-119.95 38.52,-119.74 38.62,-119.89 38.47,-120.14"} {
		if !strings.Contains(o.Text, s) {
			t.Errorf("thunderstorm text lacks %q:\n%s", s, o.Text)
		}
	}

	c = read("google-cap-library/testdata/earthquake.cap")
	if o := c.Obs[0]; o.Position.Lat != -16.053 || o.Position.Lon != -173.274 || !strings.Contains(o.Text, "circle: -16.053,-173.274 0.0") {
		t.Errorf("earthquake circle: %v %q", o.Position, o.Text)
	}

	c = read("google-cap-library/testdata/earthquake-iso8859-1.cap")
	if o := c.Obs[0]; !strings.Contains(o.Text, "Usulután") || o.Position.Lat != 12.747 {
		t.Errorf("ISO-8859-1 text not decoded: %q", o.Text)
	}

	c = read("google-cap-library/testdata/canada.cap")
	var ids []string
	for _, o := range c.Obs {
		ids = append(ids, o.ID)
		// effective 2012-05-02T23:20:00-00:00 (sent 23:21:04)
		if o.Observed.Format("15:04:05") != "23:20:00" {
			t.Errorf("canada observed %v, want the effective time", o.Observed)
		}
	}
	want := []string{"#0.0", "#0.1", "#1.0", "#1.1"}
	for i, id := range ids {
		if !strings.HasPrefix(id, "cap:cap@ec.gc.ca,2.49.0.1.124.6bddbc91.2012#") || !strings.HasSuffix(id, want[i]) {
			t.Errorf("canada ids %q", ids)
			break
		}
	}

	c = read("google-cap-library/testdata/australia.cap")
	if len(c.Obs) != 2 || c.Obs[0].Position.Lat != -35.3888 || c.Obs[0].Position.Lon != 147.0598 {
		t.Errorf("australia (cap: prefix): %v", c.Obs)
	}
}

// alert builds a CAP 1.2 alert around the given <info> content.
func alert(status, msgType, info string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>T-1</identifier>
  <sender>ews@example.org</sender>
  <sent>2026-12-05T08:00:00+02:00</sent>
  <status>` + status + `</status>
  <msgType>` + msgType + `</msgType>
  <scope>Public</scope>
  <info>
    <category>Security</category>
    <event>Shelling</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Observed</certainty>
` + info + `
  </info>
</alert>
`)
}

func area(inner string) string { return "<area><areaDesc>test</areaDesc>" + inner + "</area>" }

func TestAreas(t *testing.T) {
	tests := []struct {
		name     string
		in       []byte
		want     string // position "lat,lon" or "lat,lon alt" of the single observation
		rejected string // or the rejection
	}{
		{"square", alert("Actual", "Alert", area("<polygon>0,0 0,2 2,2 2,0 0,0</polygon>")), "1.000000,1.000000", ""},
		{"counter-clockwise and offset", alert("Actual", "Update", area("<polygon>47,36 48,36 48,37 47,37 47,36</polygon>")), "47.500000,36.500000", ""},
		{"triangle", alert("Actual", "Alert", area("<polygon>0,0 3,0 0,3 0,0</polygon>")), "1.000000,1.000000", ""},
		{"across the antimeridian", alert("Actual", "Alert", area("<polygon>-17,179 -17,-179 -15,-179 -15,179 -17,179</polygon>")), "-16.000000,180.000000", ""},
		{"two polygons weighted by area", alert("Actual", "Alert", area("<polygon>0,0 0,2 2,2 2,0 0,0</polygon><polygon>10,10 10,11 11,11 11,10 10,10</polygon>")), "2.900000,2.900000", ""},
		{"self-intersecting, almost no area", alert("Actual", "Alert", area("<polygon>0,0 1,1 0,1.0000001 1,0 0,0</polygon>")), "0.500000,0.500000", ""},
		{"huge radii", alert("Actual", "Alert", area("<circle>0,0 1e200</circle><circle>0,10 1e200</circle>")), "0.000000,5.000000", ""},
		{"degenerate polygon", alert("Actual", "Alert", area("<polygon>1,1 1,1 1,1 1,1</polygon>")), "1.000000,1.000000", ""},
		{"polygon before circle", alert("Actual", "Alert", area("<polygon>0,0 0,2 2,2 2,0 0,0</polygon><circle>50,50 10</circle>")), "1.000000,1.000000", ""},
		{"circles weighted by area", alert("Actual", "Alert", area("<circle>0,0 1</circle><circle>0,10 3</circle>")), "0.000000,9.000000", ""},
		{"altitude in feet", alert("Actual", "Alert", area("<circle>47.1,37.5 5</circle><altitude>10000</altitude>")), "47.100000,37.500000 3048", ""},
		{"no shape", alert("Actual", "Alert", area("<geocode><valueName>SAME</valueName><value>006109</value></geocode>")), "",
			"x.cap:15: info[0].area[0]: area: no polygon or circle"},
		{"polygon not closed", alert("Actual", "Alert", area("<polygon>0,0 0,2 2,2 2,0</polygon>")), "",
			"x.cap:15: info[0].area[0]: polygon: polygon not closed: first point 0,0, last 2,0"},
		{"polygon too short", alert("Actual", "Alert", area("<polygon>0,0 0,2 0,0</polygon>")), "",
			"x.cap:15: info[0].area[0]: polygon: polygon has 3 points; CAP wants at least 4, the first repeated last"},
		{"empty polygon", alert("Actual", "Alert", area("<polygon> </polygon>")), "",
			"x.cap:15: info[0].area[0]: polygon: empty polygon"},
		{"lon,lat order", alert("Actual", "Alert", area("<polygon>47,36 100,37 48,37 47,36</polygon>")), "",
			`x.cap:15: info[0].area[0]: polygon: point 2: "100,37" is out of range; hint: CAP writes lat,lon: are they swapped?`},
		{"point not a pair", alert("Actual", "Alert", area("<polygon>0;0 0,2 2,2 0;0</polygon>")), "",
			`x.cap:15: info[0].area[0]: polygon: point 1: "0;0" is not "lat,lon"`},
		{"circle without radius", alert("Actual", "Alert", area("<circle>47.1,37.5</circle>")), "",
			`x.cap:15: info[0].area[0]: circle: circle "47.1,37.5" is not "lat,lon radius"`},
		{"negative radius", alert("Actual", "Alert", area("<circle>47.1,37.5 -5</circle>")), "",
			`x.cap:15: info[0].area[0]: circle: radius "-5" is not a number of kilometres ≥ 0`},
		{"bad altitude", alert("Actual", "Alert", area("<circle>47.1,37.5 5</circle><altitude>high</altitude>")), "",
			`x.cap:15: info[0].area[0]: altitude: altitude "high" is not a number of feet`},
		{"no area", alert("Actual", "Alert", ""), "", "x.cap:9: info[0]: area: info has no <area>"},
		{"bad effective", alert("Actual", "Alert", "<effective>tomorrow</effective>"+area("<circle>0,0 0</circle>")), "",
			`x.cap:9: info[0]: effective: "tomorrow" is not a CAP date and time such as 2002-05-24T16:49:00-07:00`},
		{"exercise", alert("Exercise", "Alert", area("<circle>0,0 0</circle>")), "",
			`x.cap:2: status: status "Exercise": only Actual alerts are observations`},
		{"test", alert("Test", "Alert", area("<circle>0,0 0</circle>")), "",
			`x.cap:2: status: status "Test": only Actual alerts are observations`},
		{"cancel", alert("Actual", "Cancel", area("<circle>0,0 0</circle>")), "",
			`x.cap:2: msgType: msgType "Cancel": only Alert and Update carry observations`},
		{"no identifier", bytes.Replace(alert("Actual", "Alert", area("<circle>0,0 0</circle>")), []byte("T-1"), nil, 1), "",
			"x.cap:2: identifier: alert has no identifier"},
		{"bad sent", bytes.Replace(alert("Actual", "Alert", area("<circle>0,0 0</circle>")), []byte("2026-12-05T08:00:00+02:00"), []byte("2026-12-05 08:00"), 1), "",
			`x.cap:2: sent: "2026-12-05 08:00" is not a CAP date and time such as 2002-05-24T16:49:00-07:00`},
		{"CAP 1.0 namespace", bytes.Replace(alert("Actual", "Alert", area("<circle>1,2 0</circle>")), []byte("urn:oasis:names:tc:emergency:cap:1.2"), []byte(cap.Namespace10), 1), "1.000000,2.000000", ""},
		{"foreign namespace", bytes.Replace(alert("Actual", "Alert", area("<circle>1,2 0</circle>")), []byte("urn:oasis:names:tc:emergency:cap:1.2"), []byte("urn:example:alert"), 1), "",
			`x.cap:2: not a CAP alert: root element is <alert> in namespace "urn:example:alert"`},
		{"two alerts", append(alert("Actual", "Alert", area("<circle>1,2 0</circle>")), bytes.TrimPrefix(alert("Actual", "Alert", area("<circle>1,2 0</circle>")), []byte(`<?xml version="1.0" encoding="UTF-8"?>`))...), "",
			"x.cap:19: not a CAP alert: a second root element <alert>; one <alert> per input"},
		{"not well-formed", []byte(`<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</sender></alert>`), "",
			"x.cap:1: malformed XML: element <identifier> closed by </sender>"},
		{"truncated", alert("Actual", "Alert", area("<circle>1,2 0</circle>"))[:200], "",
			"x.cap:6: malformed XML: unexpected EOF"},
		{"unsupported encoding", []byte(`<?xml version="1.0" encoding="UTF-16"?><alert/>`), "",
			`x.cap:1: malformed XML: xml: opening charset "UTF-16": encoding "UTF-16" is not supported (UTF-8, US-ASCII and ISO-8859-1 are)`},
		{"empty", nil, "", "x.cap:1: not a CAP alert: no root element (not XML?)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := parse(t, "x.cap", tc.in)
			var got string
			if len(c.Obs) == 1 {
				p := c.Obs[0].Position
				got = formatPos(p)
			}
			if got != tc.want || len(c.Obs) > 1 {
				t.Errorf("position %q (%d observations), want %q; rejections %q", got, len(c.Obs), tc.want, c.Rejected())
			}
			if rej := strings.Join(c.Rejected(), "\n"); rej != tc.rejected && !(tc.rejected != "" && strings.HasPrefix(rej, tc.rejected)) {
				t.Errorf("rejections\n%s\nwant\n%s", rej, tc.rejected)
			}
		})
	}
}

func formatPos(p ingest.Position) string {
	f := func(v float64) string {
		if math.Abs(v) < 5e-7 {
			v = 0 // no "-0.000000"
		}
		return strconv.FormatFloat(v, 'f', 6, 64)
	}
	s := f(p.Lat) + "," + f(p.Lon)
	if p.AltM != nil {
		s += " " + strconv.FormatFloat(*p.AltM, 'f', -1, 64)
	}
	return s
}

// TestNoExternalEntities proves that xee.cap reads no file: its entities, pointed at a local
// file holding a marker, are refused before anything is read, and the marker appears nowhere.
func TestNoExternalEntities(t *testing.T) {
	marker := "TRUCE-XXE-MARKER-7f3a9c"
	secret := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(secret, []byte(marker), 0o600); err != nil {
		t.Fatal(err)
	}
	url := "file://" + filepath.ToSlash(secret)
	xee, err := os.ReadFile(ingesttest.SharedData(t, "cap/google-cap-library/testdata/xee.cap"))
	if err != nil {
		t.Fatal(err)
	}
	pointed := string(xee)
	for _, old := range []string{"http://localhost:8080/payload1.dtd", "http://localhost:8080/payload2", "http://localhost:8080/payload3", "http://localhost:8080/payload4.dtd", "file:///etc/passwd"} {
		if !strings.Contains(pointed, old) {
			t.Fatalf("xee.cap no longer holds %q", old)
		}
		pointed = strings.ReplaceAll(pointed, old, url)
	}
	minimal := `<?xml version="1.0"?>
<!DOCTYPE alert [ <!ENTITY xxe SYSTEM "` + url + `"> ]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>x</identifier><sender>s</sender>
<sent>2026-12-05T08:00:00Z</sent><status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
<info><event>e</event><headline>&xxe;</headline><area><areaDesc>&xxe;</areaDesc><circle>0,0 0</circle></area></info></alert>`
	// Without the DOCTYPE the reference is undefined: a syntax error, never a lookup.
	undeclared := strings.Replace(minimal, `<!DOCTYPE alert [ <!ENTITY xxe SYSTEM "`+url+`"> ]>`, "", 1)
	laughs := `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol2;</identifier></alert>`
	inBody := `<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><!ENTITY xxe SYSTEM "` + url + `"><identifier>&xxe;</identifier></alert>`

	for _, tc := range []struct {
		name, in string
		is       error
	}{
		{"xee.cap pointed at the file", pointed, cap.ErrDTD},
		{"minimal external entity", minimal, cap.ErrDTD},
		{"internal entities (billion laughs)", laughs, cap.ErrDTD},
		{"ENTITY declaration in the body", inBody, cap.ErrDTD},
		{"undeclared entity reference", undeclared, cap.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := parse(t, "xee.cap", []byte(tc.in))
			if len(c.Obs) != 0 || len(c.Rej) != 1 || !errors.Is(c.Rej[0], tc.is) {
				t.Fatalf("%d observations, rejections %q; want one refusal matching %v", len(c.Obs), c.Rejected(), tc.is)
			}
			t.Logf("refused: %v", c.Rej[0])
			for _, e := range c.Rej {
				if strings.Contains(e.Error(), marker) {
					t.Errorf("the marker leaked into %q", e)
				}
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	in := append(alert("Actual", "Alert", area("<circle>0,0 0</circle>")), bytes.Repeat([]byte("<!-- padding -->\n"), cap.MaxBytes/17+1)...)
	c := parse(t, "big.cap", in)
	if len(c.Obs) != 0 || len(c.Rej) != 1 || !errors.Is(c.Rej[0], cap.ErrTooLarge) {
		t.Errorf("%d observations, rejections %q", len(c.Obs), c.Rejected())
	}
}

func TestReadError(t *testing.T) {
	boom := errors.New("link down")
	var c ingesttest.Collector
	err := cap.Parse(io.MultiReader(strings.NewReader("<alert"), &failing{boom}), ingest.Options{Name: "x"}, &c)
	if !errors.Is(err, boom) || len(c.Rej)+len(c.Obs) != 0 {
		t.Errorf("err = %v, %d rejections", err, len(c.Rej))
	}
}

type failing struct{ err error }

func (f *failing) Read([]byte) (int, error) { return 0, f.err }

func FuzzParse(f *testing.F) {
	root := ingesttest.SharedData(f, "cap")
	files, _ := filepath.Glob(filepath.Join(root, "google-cap-library", "*", "*.cap"))
	files = append(files, filepath.Join(root, "cap_amber_alert_example.xml"), filepath.Join(root, "google-cap-library", "testdata", "amber.atom"))
	slices.Sort(files)
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add(alert("Actual", "Alert", area("<polygon>-17,179 -17,-179 -15,-179 -15,179 -17,179</polygon><circle>0,0 1</circle><altitude>100</altitude>")))
	f.Fuzz(func(t *testing.T, in []byte) {
		var c ingesttest.Collector
		if err := cap.Parse(bytes.NewReader(in), ingest.Options{Name: "f.cap"}, &c); err != nil {
			t.Fatalf("error from a bytes.Reader: %v", err)
		}
		for _, o := range c.Obs {
			if e := ingest.Validate(&o); e != nil {
				t.Fatalf("emitted an invalid observation: %v", e)
			}
		}
		if bytes.Contains(in, []byte("<!")) && !bytes.Contains(in, []byte("<!--")) && !bytes.Contains(in, []byte("<![CDATA[")) && len(c.Obs) > 0 {
			t.Fatalf("observations from an input with a directive")
		}
		for _, e := range c.Rej {
			if e.Source != "f.cap" || e.Err == nil {
				t.Fatalf("bad rejection %#v", e)
			}
		}
	})
}
