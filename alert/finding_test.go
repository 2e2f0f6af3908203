package alert

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from FromFinding's output")

const sender = "truce@mission.example"

// t0 is D-day morning in the test scenarios.
var t0 = time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)

// dmzNorth is a closed ring in lon/lat.
var dmzNorth = []Point{{35.10, 33.20}, {35.30, 33.20}, {35.30, 33.35}, {35.10, 33.35}, {35.10, 33.20}}

func baseFinding() Finding {
	return Finding{
		ID:          "inc-42",
		Version:     1,
		Sent:        t0,
		Sender:      sender,
		Parties:     []string{"south", "north"},
		Event:       "Heavy weapons in the demilitarized zone",
		RuleID:      "dmz-no-heavy-weapons",
		ZoneID:      "dmz-north",
		Urgency:     "Immediate",
		Severity:    "Severe",
		Certainty:   "Likely",
		Headline:    "Two tanks reported inside the northern DMZ",
		Description: "A UAV and a ground monitor team report two main battle tanks at the crossroads.",
		Instruction: "Withdraw the vehicles behind the line of limitation within 24 hours and acknowledge.",
		Area:        Area{Desc: "Demilitarized zone, northern sector", Polygons: [][]Point{dmzNorth}},
		Evidence:    []int64{33, 12, 15, 12},
		Expires:     t0.Add(48 * time.Hour),
	}
}

// ref1 is the reference to the alert of version 1 of baseFinding.
func ref1() Reference {
	return Reference{Sender: sender, Identifier: Identifier(sender, "inc-42", 1), Sent: t0}
}

type findingCase struct {
	name   string
	f      func(*Finding)
	prev   []Reference
	golden bool // compare with testdata/golden/<name>.{xml,json}

	wantType        MsgType
	wantScope       Scope
	wantAddresses   string
	wantRefs        string
	wantSent        string
	wantPolygon     []string
	wantCircle      []string
	wantAreaDesc    string // "-": no area
	wantDescription string
	wantErr         []string // substrings; the error must wrap ErrFinding
}

var findingCases = []findingCase{
	{
		name: "new", golden: true,
		wantType: MsgAlert, wantScope: ScopeRestricted, wantAddresses: "north south",
		wantSent:        "2026-12-05T08:00:00+00:00",
		wantPolygon:     []string{"33.2,35.1 33.2,35.3 33.35,35.3 33.35,35.1 33.2,35.1"},
		wantAreaDesc:    "Demilitarized zone, northern sector",
		wantDescription: "A UAV and a ground monitor team report two main battle tanks at the crossroads.\n\nEvidence: ledger entries 12, 15, 33.",
	},
	{
		name: "update", golden: true,
		f: func(f *Finding) {
			f.Version, f.Sent, f.Certainty = 2, t0.Add(90*time.Minute), "Observed"
		},
		prev:     []Reference{ref1()},
		wantType: MsgUpdate, wantScope: ScopeRestricted, wantAddresses: "north south",
		wantRefs: sender + "," + Identifier(sender, "inc-42", 1) + ",2026-12-05T08:00:00+00:00",
		wantSent: "2026-12-05T09:30:00+00:00",
	},
	{
		name: "update references sorted without duplicates",
		f: func(f *Finding) {
			f.Version, f.Sent = 3, t0.Add(3*time.Hour)
		},
		prev: []Reference{
			{Sender: sender, Identifier: Identifier(sender, "inc-42", 2), Sent: t0.Add(90 * time.Minute)},
			ref1(),
			{Sender: sender, Identifier: Identifier(sender, "inc-42", 2), Sent: t0.Add(90 * time.Minute)},
		},
		wantType: MsgUpdate,
		wantRefs: sender + "," + Identifier(sender, "inc-42", 1) + ",2026-12-05T08:00:00+00:00 " +
			sender + "," + Identifier(sender, "inc-42", 2) + ",2026-12-05T09:30:00+00:00",
	},
	{
		name: "reference in the same second as the change",
		f: func(f *Finding) {
			f.Version, f.Sent = 2, t0.Add(700*time.Millisecond)
		},
		prev:     []Reference{{Sender: sender, Identifier: Identifier(sender, "inc-42", 1), Sent: t0.Add(300 * time.Millisecond)}},
		wantType: MsgUpdate,
		wantRefs: sender + "," + Identifier(sender, "inc-42", 1) + ",2026-12-05T08:00:00+00:00",
	},
	{
		name: "cancel", golden: true,
		f: func(f *Finding) {
			f.Version, f.Cancelled, f.Sent = 3, true, t0.Add(5*time.Hour)
			f.Certainty = "Unlikely"
			f.Headline = "Withdrawn: the tanks were civilian tractors"
		},
		prev:     []Reference{{Sender: sender, Identifier: Identifier(sender, "inc-42", 2), Sent: t0.Add(90 * time.Minute)}, ref1()},
		wantType: MsgCancel,
		wantRefs: sender + "," + Identifier(sender, "inc-42", 1) + ",2026-12-05T08:00:00+00:00 " +
			sender + "," + Identifier(sender, "inc-42", 2) + ",2026-12-05T09:30:00+00:00",
	},
	{
		name: "public", golden: true,
		f: func(f *Finding) {
			f.Public, f.Parties = true, nil
		},
		wantType: MsgAlert, wantScope: ScopePublic, wantAddresses: "",
	},
	{
		name:          "party names with spaces are quoted",
		f:             func(f *Finding) { f.Parties = []string{"north", "Southern Armed Forces", "north"} },
		wantScope:     ScopeRestricted,
		wantAddresses: `"Southern Armed Forces" north`,
	},
	{
		name: "circle", golden: true,
		f: func(f *Finding) {
			f.Area = Area{Desc: "Within 2.5 km of the Al-Qasr crossing", Circles: []Circle{{Center: Point{Lon: 35.5, Lat: 33.25}, RadiusM: 2500}}}
		},
		wantCircle:   []string{"33.25,35.5 2.5"},
		wantAreaDesc: "Within 2.5 km of the Al-Qasr crossing",
	},
	{
		name: "polygon and circle",
		f: func(f *Finding) {
			f.Area.Circles = []Circle{{Center: Point{Lon: -0.000000001, Lat: 51.4779}, RadiusM: 120.4}}
		},
		wantPolygon: []string{"33.2,35.1 33.2,35.3 33.35,35.3 33.35,35.1 33.2,35.1"},
		wantCircle:  []string{"51.4779,0 0.12"},
	},
	{
		name: "antimeridian polygon stays as given", golden: true,
		f: func(f *Finding) {
			f.ZoneID = "fiji-strait"
			f.Area = Area{Desc: "Maritime exclusion area across 180°", Polygons: [][]Point{{
				{179.5, -16}, {-179.5, -16}, {-179.5, -17}, {179.5, -17}, {179.5, -16},
			}}}
		},
		wantPolygon: []string{"-16,179.5 -16,-179.5 -17,-179.5 -17,179.5 -16,179.5"},
	},
	{
		name: "open ring is closed",
		f: func(f *Finding) {
			f.Area.Polygons = [][]Point{dmzNorth[:4]}
		},
		wantPolygon: []string{"33.2,35.1 33.2,35.3 33.35,35.3 33.35,35.1 33.2,35.1"},
	},
	{
		name: "coordinates rounded to 6 decimals",
		f: func(f *Finding) {
			f.Area.Polygons = [][]Point{{{35.123456789, 33.0000004}, {35.2, 33}, {35.2, 33.1}, {35.123456789, 33.0000004}}}
		},
		wantPolygon: []string{"33,35.123457 33,35.2 33.1,35.2 33,35.123457"},
	},
	{
		name:         "no area description: the zone id",
		f:            func(f *Finding) { f.Area.Desc = "" },
		wantAreaDesc: "zone dmz-north",
	},
	{
		name:         "no area at all",
		f:            func(f *Finding) { f.Area, f.ZoneID = Area{}, "" },
		wantAreaDesc: "-",
	},
	{
		name: "local time with nanoseconds is written in UTC, whole seconds",
		f: func(f *Finding) {
			f.Sent = time.Date(2026, 12, 5, 10, 0, 0, 999_999_999, time.FixedZone("EET", 2*3600))
		},
		wantSent: "2026-12-05T08:00:00+00:00",
	},
	{
		name:            "evidence only",
		f:               func(f *Finding) { f.Description, f.Evidence = "", []int64{7} },
		wantDescription: "Evidence: ledger entry 7.",
	},
	{
		name:            "no evidence",
		f:               func(f *Finding) { f.Evidence = nil },
		wantDescription: "A UAV and a ground monitor team report two main battle tanks at the crossroads.",
	},

	// Errors.
	{
		name:    "update without references",
		f:       func(f *Finding) { f.Version = 2 },
		wantErr: []string{"Update of version 2 names no earlier alert"},
	},
	{
		name:    "cancel without references",
		f:       func(f *Finding) { f.Cancelled = true },
		wantErr: []string{"Cancel of version 1 names no earlier alert"},
	},
	{
		name:    "certainty outside CAP",
		f:       func(f *Finding) { f.Certainty = "Very Likely" },
		wantErr: []string{`certainty "Very Likely" is not one of Observed, Likely, Possible, Unlikely, Unknown`},
	},
	{
		name:    "missing enumerations",
		f:       func(f *Finding) { f.Urgency, f.Severity = "", "" },
		wantErr: []string{"no urgency", "no severity"},
	},
	{
		name:    "restricted without parties",
		f:       func(f *Finding) { f.Parties = nil },
		wantErr: []string{"no parties to address and not public"},
	},
	{
		name:    "bad party",
		f:       func(f *Finding) { f.Parties = []string{`say "hi"`} },
		wantErr: []string{`party "say \"hi\""`},
	},
	{
		name:    "sender with a space",
		f:       func(f *Finding) { f.Sender = "truce mission" },
		wantErr: []string{`sender "truce mission": no spaces, commas, < or & allowed`},
	},
	{
		name: "everything wrong at once",
		f: func(f *Finding) {
			f.ID, f.Version, f.Sent, f.Event = "", 0, time.Time{}, ""
		},
		wantErr: []string{"no id", "version 0", "no sent time", "no event"},
	},
	{
		name: "bad geometry",
		f: func(f *Finding) {
			f.Area.Polygons = [][]Point{{{35, 33}, {35.1, 33}}, {{35, 95}, {35.1, 33}, {35, 33.1}}, {{1, 1}, {1, 1}, {1, 1}, {1, 1}}}
			f.Area.Circles = []Circle{{Center: Point{0, 0}, RadiusM: -1}}
		},
		wantErr: []string{"area polygon 0: 2 points", "area polygon 1: point 0: lon 35, lat 95", "area polygon 2: ring", "fewer than 3 distinct points", "area circle 0: radius -1 m"},
	},
	{
		name:    "shapes without a description",
		f:       func(f *Finding) { f.Area.Desc, f.ZoneID = "", "" },
		wantErr: []string{"area has shapes but no description and no zone id"},
	},
	{
		name: "reference later than the alert",
		f:    func(f *Finding) { f.Version = 2 },
		prev: []Reference{{Sender: sender, Identifier: "x", Sent: t0.Add(time.Hour)}},
		wantErr: []string{
			`reference "truce@mission.example,x,2026-12-05T09:00:00+00:00": sent after this alert (2026-12-05T08:00:00+00:00)`,
		},
	},
	{
		name:    "reference with a comma",
		f:       func(f *Finding) { f.Version = 2 },
		prev:    []Reference{{Sender: sender, Identifier: "a,b", Sent: t0}},
		wantErr: []string{"sender and identifier must be non-empty, without spaces, commas, < or &"},
	},
	{
		name:    "expiry before sending",
		f:       func(f *Finding) { f.Expires = t0.Add(-time.Hour) },
		wantErr: []string{"expires 2026-12-05T07:00:00+00:00 is not after sent 2026-12-05T08:00:00+00:00"},
	},
	{
		name:    "negative evidence index",
		f:       func(f *Finding) { f.Evidence = []int64{4, -1} },
		wantErr: []string{"evidence index -1 is negative"},
	},
}

// successCases returns the alerts of the cases that succeed, by case name.
func successCases(t *testing.T) map[string]*Alert {
	t.Helper()
	out := map[string]*Alert{}
	for _, tc := range findingCases {
		if tc.wantErr != nil {
			continue
		}
		f := baseFinding()
		if tc.f != nil {
			tc.f(&f)
		}
		a, err := FromFinding(f, tc.prev)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		out[tc.name] = a
	}
	return out
}

func TestFromFinding(t *testing.T) {
	for _, tc := range findingCases {
		t.Run(tc.name, func(t *testing.T) {
			f := baseFinding()
			if tc.f != nil {
				tc.f(&f)
			}
			a, err := FromFinding(f, tc.prev)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("no error; want %q", tc.wantErr)
				}
				if !errors.Is(err, ErrFinding) {
					t.Errorf("error does not wrap ErrFinding: %v", err)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q\ndoes not contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Validate(); err != nil {
				t.Fatal(err)
			}
			check := func(field, got, want string) {
				t.Helper()
				if got != want {
					t.Errorf("%s = %q, want %q", field, got, want)
				}
			}
			if a.Identifier != Identifier(f.Sender, f.ID, f.Version) {
				t.Errorf("identifier %q is not Identifier(sender, id, version)", a.Identifier)
			}
			if tc.wantType != "" {
				check("msgType", string(a.MsgType), string(tc.wantType))
			}
			if tc.wantScope != "" {
				check("scope", string(a.Scope), string(tc.wantScope))
				check("addresses", a.Addresses, tc.wantAddresses)
				wantRestriction := ""
				if tc.wantScope == ScopeRestricted {
					wantRestriction = RestrictionText
				}
				check("restriction", a.Restriction, wantRestriction)
			}
			check("references", a.References, tc.wantRefs)
			if tc.wantSent != "" {
				check("sent", a.Sent.String(), tc.wantSent)
			}
			info := a.Info[0]
			wantResponse := "Assess"
			if a.MsgType == MsgCancel {
				wantResponse = "AllClear"
			}
			check("responseType", strings.Join(info.ResponseType, " "), wantResponse)
			check("category", strings.Join(info.Category, " "), "Security")
			check("incidents", a.Incidents, f.ID)
			if tc.wantDescription != "" {
				check("description", info.Description, tc.wantDescription)
			}
			switch {
			case tc.wantAreaDesc == "-":
				if len(info.Area) != 0 {
					t.Errorf("area = %+v, want none", info.Area)
				}
			case len(info.Area) != 1:
				t.Fatalf("%d areas, want 1", len(info.Area))
			default:
				if tc.wantAreaDesc != "" {
					check("areaDesc", info.Area[0].AreaDesc, tc.wantAreaDesc)
				}
				if tc.wantPolygon != nil {
					check("polygon", strings.Join(info.Area[0].Polygon, "|"), strings.Join(tc.wantPolygon, "|"))
				}
				if tc.wantCircle != nil {
					check("circle", strings.Join(info.Area[0].Circle, "|"), strings.Join(tc.wantCircle, "|"))
				}
			}

			// Replays give the same bytes.
			again, err := FromFinding(f, tc.prev)
			if err != nil {
				t.Fatal(err)
			}
			x1, err := a.XML()
			if err != nil {
				t.Fatal(err)
			}
			x2, _ := again.XML()
			if !bytes.Equal(x1, x2) {
				t.Errorf("two calls gave different XML:\n%s\n%s", x1, x2)
			}
			if tc.golden {
				j, err := a.JSON()
				if err != nil {
					t.Fatal(err)
				}
				compareGolden(t, tc.name+".xml", x1)
				compareGolden(t, tc.name+".json", append(j, '\n'))
			}
		})
	}
}

func compareGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", strings.ReplaceAll(name, " ", "-"))
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestFromFinding -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestIdentifier(t *testing.T) {
	// Pinned: alerts already sent are referenced by these identifiers, so the scheme must not
	// change silently (the package doc quotes this value too).
	id := Identifier(sender, "inc-42", 3)
	if id != "inc-42-v3-e1d2ff0b4777845c" {
		t.Errorf("Identifier(%q, inc-42, 3) = %q, want inc-42-v3-e1d2ff0b4777845c", sender, id)
	}
	if !strings.HasPrefix(id, "inc-42-v3-") || len(id) != len("inc-42-v3-")+16 {
		t.Errorf("Identifier = %q, want inc-42-v3- and 16 hex digits", id)
	}
	if err := checkCAPName("identifier", id); err != nil {
		t.Error(err)
	}
	seen := map[string]string{}
	for _, in := range []struct {
		sender, id string
		v          int
	}{
		{sender, "inc-42", 3}, {sender, "inc-42", 4}, {sender, "inc-43", 3}, {"other@mission.example", "inc-42", 3},
		{sender, "inc 42", 3}, {sender, "inc_42", 3}, {sender, "inc,42", 3}, {sender, "", 1}, {sender, "<&>\"", 1},
		{sender, strings.Repeat("x", 200), 1}, {sender, strings.Repeat("x", 201), 1},
	} {
		got := Identifier(in.sender, in.id, in.v)
		if err := checkCAPName("identifier", got); err != nil {
			t.Errorf("Identifier(%q, %q, %d): %v", in.sender, in.id, in.v, err)
		}
		if len(got) > 48+len("-v1-")+16 {
			t.Errorf("Identifier(%q, %q, %d) = %q is too long", in.sender, in.id, in.v, got)
		}
		key := in.sender + "\x00" + in.id + "\x00" + string(rune('0'+in.v))
		if prev, ok := seen[got]; ok && prev != key {
			t.Errorf("Identifier collision: %q for %q and %q", got, prev, key)
		}
		seen[got] = key
	}
	if Identifier(sender, "inc-42", 3) != id {
		t.Error("Identifier is not deterministic")
	}
}

func TestReferences(t *testing.T) {
	a, err := FromFinding(baseFinding(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := a.Ref()
	want := sender + "," + a.Identifier + ",2026-12-05T08:00:00+00:00"
	if r.String() != want {
		t.Errorf("Ref().String() = %q, want %q", r.String(), want)
	}
	refs, err := ParseReferences(" " + want + "\n a,b,2003-06-11T22:39:00-07:00 ")
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 2 || refs[0].String() != want || refs[1].String() != "a,b,2003-06-11T22:39:00-07:00" {
		t.Errorf("ParseReferences gave %v", refs)
	}
	for _, bad := range []string{"a,b", "a,b,c,d", ",b,2003-06-11T22:39:00-07:00", "a,b,2003-06-11T22:39:00Z", "a,b,2003-06-11T22:39:00.5-07:00"} {
		if _, err := ParseReferences(bad); err == nil {
			t.Errorf("ParseReferences(%q): no error", bad)
		}
	}
}

func TestGroupListing(t *testing.T) {
	items := []string{"north", "Southern Armed Forces", "x@y"}
	s := joinGroup(items)
	if s != `north "Southern Armed Forces" x@y` {
		t.Errorf("joinGroup = %q", s)
	}
	back, err := splitGroup(s)
	if err != nil || strings.Join(back, "|") != strings.Join(items, "|") {
		t.Errorf("splitGroup(%q) = %q, %v", s, back, err)
	}
	a := &Alert{Addresses: "  a\t\"b c\"d  "}
	got, err := a.Recipients()
	if err != nil || strings.Join(got, "|") != "a|b c|d" {
		t.Errorf("Recipients = %q, %v", got, err)
	}
	if _, err := splitGroup(`a "b`); err == nil {
		t.Error("unterminated quote: no error")
	}
}

func TestTime(t *testing.T) {
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{t0, "2026-12-05T08:00:00+00:00"},
		{time.Date(2003, 6, 11, 22, 39, 0, 5e8, time.FixedZone("PDT", -7*3600)), "2003-06-11T22:39:00-07:00"},
		{time.Date(2026, 1, 1, 5, 30, 0, 0, time.FixedZone("IST", 5*3600+1800)), "2026-01-01T05:30:00+05:30"},
		{time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("LMT", 17*60+30)), "2025-12-31T23:42:30+00:00"},
	} {
		got := Time{tc.in}.String()
		if got != tc.want {
			t.Errorf("Time(%v) = %q, want %q", tc.in, got, tc.want)
		}
		var back Time
		if err := back.UnmarshalText([]byte(got)); err != nil {
			t.Errorf("UnmarshalText(%q): %v", got, err)
		} else if back.String() != got {
			t.Errorf("UnmarshalText(%q) = %v", got, back)
		}
	}
	for _, bad := range []string{"", "2026-12-05T08:00:00Z", "2026-12-05T08:00:00.1+00:00", "2026-12-05 08:00:00+00:00",
		"2026-02-30T08:00:00+00:00", "2026-12-05T24:00:00+00:00", "2026-12-05T08:00:00+15:00", "0000-12-05T08:00:00+00:00"} {
		var tt Time
		if err := tt.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("UnmarshalText(%q): no error, got %v", bad, tt)
		}
	}
	if _, err := (Time{}).MarshalText(); err == nil {
		t.Error("zero Time marshals")
	}
	if _, err := (Time{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}).MarshalText(); err == nil {
		t.Error("year 10000 marshals")
	}
}

// TestNoWallClock keeps the wall clock out of the package: alert times come from the log.
func TestNoWallClock(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, banned := range []string{"time.Now(", "time.Since(", "time.Until("} {
			if bytes.Contains(b, []byte(banned)) {
				t.Errorf("%s calls %s): alert times must come from the log", f, banned)
			}
		}
	}
}
