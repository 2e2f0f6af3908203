package agreement

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func mustLoad(t *testing.T, path string) *Agreement {
	t.Helper()
	a, err := LoadFile(path)
	if err != nil {
		t.Fatalf("LoadFile(%s):\n%v", path, err)
	}
	return a
}

func TestLoadGood(t *testing.T) {
	files, err := filepath.Glob("testdata/*.good.yaml")
	if err != nil || len(files) < 4 {
		t.Fatalf("good files: %v, %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			a := mustLoad(t, f)
			if err := a.Validate(); err != nil {
				t.Errorf("Validate after Load:\n%v", err)
			}
		})
	}
}

func TestLoadFull(t *testing.T) {
	a := mustLoad(t, "testdata/full.good.yaml")
	dday := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if a.Truce != 1 || a.ID != "loc-2026" || !a.DDay.Equal(dday) || a.Edges != EdgesGeodesic {
		t.Errorf("header: %d %q %v %v", a.Truce, a.ID, a.DDay, a.Edges)
	}
	if a.Pos != (Pos{3, 1}) {
		t.Errorf("agreement at %v, want 3:1", a.Pos)
	}

	p, ok := a.Phase("D+14")
	if !ok || p.Day != 14 || p.Name != "first withdrawal" || !p.Start.Equal(dday.AddDate(0, 0, 14)) || p.Pos != (Pos{11, 5}) {
		t.Errorf("phase D+14 = %+v, %v", p, ok)
	}
	if pa, ok := a.Party("guarantor-a"); !ok || pa.Kind != PartyKindGuarantor {
		t.Errorf("party guarantor-a = %+v", pa)
	}
	id, ok := a.Identity("east-liaison")
	if !ok || id.Role != RolePartyLiaison || id.Party != "east" || len(id.Key) != 32 || id.Pos != (Pos{22, 5}) {
		t.Errorf("identity east-liaison = %+v", id)
	}
	if FormatPublicKey(id.Key) != "ed25519:Yy9iyaWOuM7+GDKHLmY/b66dgrICpUbrBIQw9QkWThs=" {
		t.Errorf("key round trip: %s", FormatPublicKey(id.Key))
	}
	c, _ := a.Category("artillery-100mm")
	if c.Class != "artillery" || c.Parent != "heavy-weapons" || c.Calibre == nil || c.Calibre.Min != 100 || !isInf(c.Calibre.Max) {
		t.Errorf("category artillery-100mm = %+v %+v", c, c.Calibre)
	}

	loc, _ := a.Zone("loc")
	if loc.Kind != ZoneLine || !reflect.DeepEqual(loc.Shape.Line, [][2]float64{{37, 47}, {37.5, 48}}) {
		t.Errorf("zone loc = %+v", loc.Shape)
	}
	dmz, _ := a.Zone("dmz")
	if c := dmz.Shape.Corridor; c == nil || c.Line != "loc" || c.HalfWidthM != 15000 || !reflect.DeepEqual(c.Coords, loc.Shape.Line) {
		t.Errorf("zone dmz corridor = %+v", dmz.Shape.Corridor)
	}
	air, _ := a.Zone("dmz-airspace")
	if air.Kind != ZoneAirspace || air.Shape.Altitude == nil || *air.Shape.Altitude != (Band{0, 20000}) {
		t.Errorf("zone dmz-airspace = %+v", air.Shape)
	}
	port, _ := a.Zone("port")
	if port.Shape.Circle == nil || *port.Shape.Circle != (Circle{Center: [2]float64{30.7, 46.5}, RadiusM: 5000}) {
		t.Errorf("zone port = %+v", port.Shape)
	}
	rear, _ := a.Zone("rear")
	if len(rear.Shape.Polygons) != 1 || len(rear.Shape.Polygons[0]) != 2 || len(rear.Shape.Polygons[0][1]) != 4 {
		t.Errorf("zone rear = %+v", rear.Shape.Polygons)
	}

	r, _ := a.Rule("dmz-heavy")
	if r.Kind != RuleProhibit || r.Zone != "dmz" || r.Party != AnyParty || r.Class != "heavy-weapons-in-dmz" ||
		r.FromPhase != "D+0" || r.UntilPhase != "D+30" || !r.From.Equal(dday) || !r.Until.Equal(dday.AddDate(0, 0, 30)) {
		t.Errorf("rule dmz-heavy = %+v", r)
	}
	r, _ = a.Rule("dmz-personnel")
	if r.Kind != RuleCeiling || r.Max != 50 || r.Class != "dmz-personnel" || !r.Until.IsZero() {
		t.Errorf("rule dmz-personnel = %+v", r)
	}
	r, _ = a.Rule("art-standoff")
	if r.Kind != RuleStandOff || r.Line != "loc" || r.DistanceM != 50000 || !r.From.Equal(dday.AddDate(0, 0, 14)) {
		t.Errorf("rule art-standoff = %+v", r)
	}
	r, _ = a.Rule("force-confined")
	if r.Kind != RuleConfine || r.Party != "east" || r.FromPhase != "" || !r.From.Equal(dday) {
		t.Errorf("rule force-confined = %+v", r)
	}

	ob := a.Obligations
	if len(ob.PriorNotice) != 1 {
		t.Fatalf("prior notice = %+v", ob.PriorNotice)
	}
	n := ob.PriorNotice[0]
	if n.ID != "heavy-moves" || n.MinCount != 5 || n.LeadTime != 72*time.Hour || !reflect.DeepEqual(n.Zones, []string{"dmz"}) || n.Party != AnyParty {
		t.Errorf("notice = %+v", n)
	}
	if ob.Acknowledgement != (Acknowledgement{2 * time.Hour, 48 * time.Hour}) || ob.Review != 24*time.Hour || ob.Reporting != (Reporting{24 * time.Hour, true}) {
		t.Errorf("obligations = %+v", ob)
	}

	co := a.Sanctions.Council
	if co == nil || co.Quorum != 2 || co.Majority != MajoritySimple || len(co.Members) != 3 || co.Deadline != 7*24*time.Hour ||
		co.Veto == nil || co.Veto.Window != 72*time.Hour || !reflect.DeepEqual(co.Veto.Holders, []string{"guarantor-a-rep"}) {
		t.Errorf("council = %+v", co)
	}
	ms := a.Sanctions.Matrix[0].Measures
	if len(ms) != 4 || ms[0].Automatic == nil || ms[0].Automatic.MinCertainty != CertaintyLikely || ms[0].Name != "formal-warning" {
		t.Fatalf("measures = %+v", ms)
	}
	if v := ms[2].Vote; v == nil || v.Quorum != 2 || v.Majority != MajoritySimple || len(v.Members) != 3 || v.Veto == nil {
		t.Errorf("vote {} = %+v, want the council's", v)
	}
	if v := ms[3].Vote; v == nil || v.Quorum != 3 || v.Majority != MajorityUnanimous || len(v.Members) != 3 || v.Deadline != co.Deadline {
		t.Errorf("vote {quorum: 3, majority: unanimous} = %+v", v)
	}
}

func isInf(f float64) bool { return f > 1e308 }

func TestAgreementJSON(t *testing.T) {
	a := mustLoad(t, "testdata/antimeridian.good.yaml")
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"Altitude":{"max":3000}`) || !strings.Contains(string(b), `"Kind":"maritime"`) {
		t.Errorf("JSON of the agreement:\n%s", b)
	}
}

func TestLoadGeometryFile(t *testing.T) {
	a := mustLoad(t, "testdata/geometry-file.good.yaml")
	lane, _ := a.Zone("lane")
	if lane.GeometryFile != "zones/lane.geojson" || len(lane.Shape.Polygons) != 2 || lane.Shape.Polygons[1][0][1] != [2]float64{32, 45} {
		t.Errorf("lane = %+v", lane.Shape)
	}
	front, _ := a.Zone("front")
	if len(front.Shape.Line) != 3 {
		t.Errorf("front = %+v", front.Shape)
	}
	if a.Edges != EdgesPlanar {
		t.Errorf("edges = %v", a.Edges)
	}
	r, _ := a.Rule("no-vessels")
	if want := time.Date(2027, 1, 1, 0, 0, 0, 0, time.FixedZone("", 2*3600)); !r.From.Equal(want) {
		t.Errorf("from = %v", r.From)
	}
}

func TestTransponders(t *testing.T) {
	a := mustLoad(t, "testdata/transponders.good.yaml")
	for mmsi, want := range map[uint32]string{273000001: "east", 273000002: "east", 272000009: "west", 273000003: ""} {
		if got, ok := a.ShipParty(mmsi); got != want || ok != (want != "") {
			t.Errorf("ShipParty(%d) = %q, %v; want %q", mmsi, got, ok, want)
		}
	}
	for addr, want := range map[uint32]string{0x15C000: "east", 0x15CFFF: "east", 0x15D000: "", 0x43C6F1: "east", 0x43C6F2: "",
		0x508000: "west", 0x50ABCD: "west", 0x510000: "", 0: ""} {
		if got, ok := a.AircraftParty(addr); got != want || ok != (want != "") {
			t.Errorf("AircraftParty(%06X) = %q, %v; want %q", addr, got, ok, want)
		}
	}
	mmsi, icao := a.MilitaryTransponders()
	if !reflect.DeepEqual(mmsi, []uint32{272000009, 273000001, 273000002}) ||
		!reflect.DeepEqual(icao, []ICAORange{{0x15C000, 0x15CFFF}, {0x43C6F1, 0x43C6F1}, {0x508000, 0x50FFFF}}) {
		t.Errorf("MilitaryTransponders() = %v, %v", mmsi, icao)
	}
}

func TestRuleInForce(t *testing.T) {
	a := mustLoad(t, "testdata/full.good.yaml")
	r, _ := a.Rule("dmz-heavy")
	for _, tc := range []struct {
		t    time.Time
		want bool
	}{
		{r.From.Add(-time.Nanosecond), false},
		{r.From, true},
		{r.Until.Add(-time.Nanosecond), true},
		{r.Until, false},
	} {
		if got := a.RuleInForce(r, tc.t); got != tc.want {
			t.Errorf("RuleInForce(%v) = %v, want %v", tc.t, got, tc.want)
		}
	}
	open, _ := a.Rule("dmz-personnel")
	if !a.RuleInForce(open, open.From.AddDate(100, 0, 0)) {
		t.Error("a rule without until should stay in force")
	}
}

func TestCategoryCovers(t *testing.T) {
	a := mustLoad(t, "testdata/full.good.yaml")
	for _, tc := range []struct {
		rule, obs string
		want      bool
	}{
		{"heavy-weapons", "artillery-100mm", true},
		{"heavy-weapons", "tanks", true},
		{"heavy-weapons", "heavy-weapons", true},
		{"artillery-100mm", "heavy-weapons", false},
		{"tanks", "artillery-100mm", false},
		{"heavy-weapons", "naval-vessel", false},
		{"heavy-weapons", "undeclared", false},
	} {
		if got := a.CategoryCovers(tc.rule, tc.obs); got != tc.want {
			t.Errorf("CategoryCovers(%q, %q) = %v, want %v", tc.rule, tc.obs, got, tc.want)
		}
	}
}

// TestBad checks every message of each bad file, in order. A want is a
// substring of the error printed as file:line:col: message; hint.
func TestBad(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"alias.bad.yaml", []string{
			`alias.bad.yaml:6:35: zone "b": circle: YAML aliases are not supported`,
		}},
		{"altitude.bad.yaml", []string{
			`altitude.bad.yaml:8:17: zone "sky": altitude_m: min 5000 is not below max 5000`,
			`altitude.bad.yaml:12:17: zone "empty-band": altitude_m: needs min, max or both`,
		}},
		{"bad-dday.bad.yaml", []string{
			`bad-dday.bad.yaml:3:8: d_day: invalid timestamp "1 December 2026"; hint: use RFC 3339`,
		}},
		{"calibre.bad.yaml", []string{
			`calibre.bad.yaml:5:46: category "guns": calibre_mm: min 152 is above max 100`,
			`calibre.bad.yaml:6:42: category "tanks": calibre_mm applies to class artillery only`,
			`calibre.bad.yaml:7:22: category "odd": unknown class "artilery"; hint: did you mean "artillery"?`,
		}},
		{"category-cycle.bad.yaml", []string{
			`category-cycle.bad.yaml:5:21: category "a": parent cycle a -> c -> b -> a`,
			`category-cycle.bad.yaml:8:21: category "d": parent cycle d -> d`,
		}},
		{"circle.bad.yaml", []string{
			`circle.bad.yaml:5:72: zone "point": circle: radius_m must be positive, got 0`,
			`circle.bad.yaml:6:55: zone "negative": circle: center: a position has 2 or 3 numbers [lon, lat, alt], got 4`,
			`circle.bad.yaml:6:81: zone "negative": circle: radius_m must be positive, got -5`,
		}},
		{"corridor.bad.yaml", []string{
			`corridor.bad.yaml:6:68: zone "thin": corridor: half_width_m must be positive, got 0`,
			`corridor.bad.yaml:7:72: zone "inverted": corridor: half_width_m must be positive, got -100`,
		}},
		{"transponders.bad.yaml", []string{
			`transponders.bad.yaml:8:27: party "east": transponders: mmsi: "27300000X" is not a 9-digit MMSI`,
			`transponders.bad.yaml:8:40: party "east": transponders: mmsi: "12345" is not a 9-digit MMSI`,
			`transponders.bad.yaml:9:31: party "east": transponders: icao: "43C6G1" is not an ICAO address (6 hex digits) nor a range LO-HI of them`,
			`transponders.bad.yaml:9:41: party "east": transponders: icao: range "50FFFF-508000" runs backwards`,
			`transponders.bad.yaml:12:27: party "west": transponders: MMSI 273000001 is already listed for party "east" at 8:14`,
			`transponders.bad.yaml:12:48: party "west": transponders: ICAO 15CF00-15D0FF overlaps 15C000-15CFFF of party "east" at 9:14`,
			`transponders.bad.yaml:12:66: party "west": transponders: unknown key "imo"; hint: did you mean "icao"?`,
		}},
		{"council.bad.yaml", []string{
			`council.bad.yaml:10:21: council: member "watcher" is a monitor, not a council-member`,
			`council.bad.yaml:10:30: council: member "a" listed twice`,
			`council.bad.yaml:12:15: council: majority: unknown majority "most"; hint: one of simple, two-thirds, unanimous`,
			`council.bad.yaml:13:22: council: veto holder "c" is not a member`,
		}},
		{"duplicate-id.bad.yaml", []string{
			`duplicate-id.bad.yaml:6:10: phase "D+0": duplicate id; first defined at 5:10`,
			`duplicate-id.bad.yaml:9:10: party "east": duplicate id; first defined at 8:10`,
			`duplicate-id.bad.yaml:14:10: zone "z": duplicate id; first defined at 13:10`,
			`duplicate-id.bad.yaml:17:10: rule "r": duplicate id; first defined at 16:10`,
			`duplicate-id.bad.yaml:21:12: prior notice "n": duplicate id; first defined at 20:12`,
		}},
		{"duplicate-key.bad.yaml", []string{
			`duplicate-key.bad.yaml:4:1: syntax error: mapping key "id" already defined at [2:1]`,
		}},
		{"duration.bad.yaml", []string{
			`duration.bad.yaml:8:43: prior notice "n": lead_time: duration -1h0m0s is negative`,
			`duration.bad.yaml:9:28: obligations: acknowledgement: alert: invalid duration "2 hours"; hint: use a Go duration`,
			`duration.bad.yaml:9:46: obligations: acknowledgement: hotline: want a duration, got integer 48`,
			`duration.bad.yaml:10:11: obligations: review: invalid duration "1w"`,
			`duration.bad.yaml:11:24: obligations: reporting: cadence: duration -24h0m0s is negative`,
		}},
		{"edges.bad.yaml", []string{
			`edges.bad.yaml:4:8: edges: unknown edges "spherical"; hint: one of geodesic, planar`,
		}},
		{"geometry-file.bad.yaml", []string{
			`geometry-file.bad.yaml:6:48: zone "missing": geometry_file: file "zones/missing.geojson" not found; hint: the path is relative to the agreement file`,
			`geometry-file.bad.yaml:8:49: zone "absolute": geometry_file: "/etc/zone.geojson" is not a relative path`,
			`zones/bad-ring.geojson:7:28: zone "broken": latitude 95 out of range [-90, 90]; hint: coordinates are [lon, lat]; did you swap them?`,
			`zones/bad-ring.geojson:8:7: zone "broken": hole 1 has 3 position(s), needs at least 4`,
			`zones/two-features.geojson:1:43: zone "two-features": want a FeatureCollection of one feature, got 2`,
		}},
		{"hole-outside.bad.yaml", []string{
			`hole-outside.bad.yaml:11:11: zone "holed": hole 1 is not inside its outer ring`,
		}},
		{"inverted-window.bad.yaml", []string{
			`inverted-window.bad.yaml:12:82: rule "backwards": until "D+0" is not after from "D+14"`,
			`inverted-window.bad.yaml:13:93: rule "empty": until 2026-12-05T00:00:00Z is not after from 2026-12-05T00:00:00Z`,
			`inverted-window.bad.yaml:14:68: rule "bad-time": from: invalid timestamp "2026-12-05"; hint: use RFC 3339`,
		}},
		{"latitude.bad.yaml", []string{
			`latitude.bad.yaml:9:50: zone "swapped": latitude 137.5 out of range [-90, 90]; hint: coordinates are [lon, lat]; did you swap them?`,
			`latitude.bad.yaml:12:22: zone "south": circle: center: latitude -120 out of range [-90, 90]`,
		}},
		{"liaison.bad.yaml", []string{
			`liaison.bad.yaml:7:5: identity "east-liaison": a party-liaison needs a party`,
			`liaison.bad.yaml:8:30: identity "west-liaison": role: unknown role "liason"`,
		}},
		{"line-short.bad.yaml", []string{
			`line-short.bad.yaml:7:47: zone "dot": line has 1 position(s), needs at least 2`,
		}},
		{"longitude.bad.yaml", []string{
			`longitude.bad.yaml:7:61: zone "far": longitude 180.5 out of range [-180, 180]`,
		}},
		{"malformed-id.bad.yaml", []string{
			`malformed-id.bad.yaml:2:5: agreement: malformed id "Malformed"; hint: ids match [a-z0-9][a-z0-9._-]*`,
			`malformed-id.bad.yaml:5:10: phase "+14": malformed id`,
			`malformed-id.bad.yaml:7:10: party "East_Party": malformed id`,
			`malformed-id.bad.yaml:9:10: category "-tanks": malformed id`,
		}},
		{"matrix-class.bad.yaml", []string{
			`matrix-class.bad.yaml:12:14: class "tanks-in-z": no rule declares this class`,
			`matrix-class.bad.yaml:18:14: class "tanks-in-buffer": duplicate matrix row; first at 15:7`,
			`matrix-class.bad.yaml:20:68: class "tanks-in-buffer": repeat 1: automatic: min_certainty: unknown certainty "sure"`,
		}},
		{"matrix-repeat.bad.yaml", []string{
			`matrix-repeat.bad.yaml:15:20: class "r": repeat 1: repeat count listed twice; first at 14:11`,
			`matrix-repeat.bad.yaml:16:20: class "r": repeat 0: repeat must be at least 1`,
		}},
		{"measure-mode.bad.yaml", []string{
			`measure-mode.bad.yaml:17:11: class "r": repeat 1: has both automatic and vote`,
			`measure-mode.bad.yaml:18:11: class "r": repeat 2: needs automatic or vote`,
		}},
		{"missing-key.bad.yaml", []string{
			`missing-key.bad.yaml:5:5: phases[0]: missing key "id"`,
			`missing-key.bad.yaml:7:5: party "east": missing key "kind"`,
			`missing-key.bad.yaml:9:37: zone "z": corridor: missing key "half_width_m"`,
			`missing-key.bad.yaml:9:44: zone "z": corridor: undefined line zone "loc"`,
			`missing-key.bad.yaml:11:5: rule "r": missing key "category"`,
			`missing-key.bad.yaml:11:5: rule "r": missing key "from"`,
		}},
		{"no-dday.bad.yaml", []string{
			`no-dday.bad.yaml:1:1: agreement: missing key "d_day"`,
		}},
		{"not-a-line.bad.yaml", []string{
			`not-a-line.bad.yaml:9:51: zone "corridor": corridor: zone "area" is a buffer zone, not a line`,
			`not-a-line.bad.yaml:11:43: rule "standoff": line: zone "area" is a buffer zone, not a line`,
			`not-a-line.bad.yaml:12:40: rule "inside": zone "front" is a line, not an area`,
		}},
		{"numbers.bad.yaml", []string{
			`numbers.bad.yaml:5:51: zone "inf": circle: center: .nan is not a finite number`,
			`numbers.bad.yaml:5:72: zone "inf": circle: radius_m: .inf is not a finite number`,
			`numbers.bad.yaml:7:20: phase "far": day: integer 99999999999 out of range`,
		}},
		{"overlap.bad.yaml", []string{
			`overlap.bad.yaml:18:5: rule "second": overlaps rule "first" (15:5)`,
		}},
		{"party.bad.yaml", []string{
			`party.bad.yaml:5:10: party "any": the id is reserved for every party`,
			`party.bad.yaml:7:24: party "rebels": kind: unknown party kind "faction"`,
			`party.bad.yaml:13:62: rule "r": party "guarantor" is a guarantor; hint: only parties of kind party are bound by the rules`,
		}},
		{"public-key.bad.yaml", []string{
			`public-key.bad.yaml:5:41: identity "no-prefix": key: malformed public key "tYghOKMKvnns5I8mnICiErlnO09zu0h20LLcJ9jYV0o=": missing "ed25519:" prefix`,
			`public-key.bad.yaml:6:42: identity "bad-base64": key: malformed public key "ed25519:not base64!": bad base64`,
			`public-key.bad.yaml:7:37: identity "short": key: malformed public key "ed25519:AAECAwQ=": 5 bytes, want 32`,
			`public-key.bad.yaml:9:36: identity "copy": key already used by identity "first" (8:5)`,
		}},
		{"quorum.bad.yaml", []string{
			`quorum.bad.yaml:15:41: council: quorum 4 exceeds the 3 members`,
			`quorum.bad.yaml:19:55: class "r": repeat 1: vote: quorum 0 must be at least 1`,
			`quorum.bad.yaml:20:58: class "r": repeat 2: vote: quorum 4 exceeds the 2 members`,
		}},
		{"ring-not-closed.bad.yaml", []string{
			`ring-not-closed.bad.yaml:10:42: zone "open": ring not closed; hint: repeat the first position [30, 40] at the end`,
		}},
		{"ring-short.bad.yaml", []string{
			`ring-short.bad.yaml:7:45: zone "sliver": ring has 3 position(s), needs at least 4`,
		}},
		{"rule-fields.bad.yaml", []string{
			`rule-fields.bad.yaml:11:5: rule "no-zone": a prohibit rule needs a zone`,
			`rule-fields.bad.yaml:12:5: rule "no-line": a stand-off rule needs a line`,
			`rule-fields.bad.yaml:13:67: rule "zero-distance": distance_m must be positive, got 0`,
			`rule-fields.bad.yaml:14:5: rule "no-max": a ceiling rule needs max`,
			`rule-fields.bad.yaml:15:54: rule "negative-max": max must be at least 0, got -1`,
			`rule-fields.bad.yaml:16:50: rule "stray-max": max: does not apply to a confine rule`,
			`rule-fields.bad.yaml:17:27: rule "typo-kind": kind: unknown rule kind "standoff"; hint: did you mean "stand-off"?`,
		}},
		{"self-intersecting.bad.yaml", []string{
			`self-intersecting.bad.yaml:12:13: zone "bowtie": ring self-intersects near [31, 41]`,
			`self-intersecting.bad.yaml:19:42: zone "spike": ring self-intersects near [32, 40]`,
		}},
		{"shapes.bad.yaml", []string{
			`shapes.bad.yaml:5:5: zone "none": needs a shape: geometry, geometry_file, corridor or circle`,
			`shapes.bad.yaml:8:13: zone "two": has both geometry and circle`,
			`shapes.bad.yaml:10:45: zone "line-area": a LineString makes a line, not a buffer zone; hint: set kind: line`,
			`shapes.bad.yaml:11:28: zone "round-line": a zone of kind line needs a LineString geometry`,
			`shapes.bad.yaml:12:48: zone "point": type: geometry type "Point" not supported`,
			`shapes.bad.yaml:13:41: zone "empty": multipolygon has no polygons`,
		}},
		{"syntax.bad.yaml", []string{
			`syntax.bad.yaml:5:5: syntax error: could not find flow mapping end token '}'`,
		}},
		{"undefined-ref.bad.yaml", []string{
			`undefined-ref.bad.yaml:9:47: identity "liaison": undefined party "eats"; hint: did you mean "east"?`,
			`undefined-ref.bad.yaml:11:38: category "tanks": undefined parent category "armour"`,
			`undefined-ref.bad.yaml:13:44: zone "z": corridor: undefined line zone "front"`,
			`undefined-ref.bad.yaml:15:36: rule "r1": undefined zone "zz"; hint: did you mean "z"?`,
			`undefined-ref.bad.yaml:15:50: rule "r1": undefined category "tank"; hint: did you mean "tanks"?`,
			`undefined-ref.bad.yaml:15:63: rule "r1": undefined party "west"`,
			`undefined-ref.bad.yaml:15:75: rule "r1": from: undefined phase "D+1"`,
			`undefined-ref.bad.yaml:16:37: rule "r2": undefined line zone "front"`,
			`undefined-ref.bad.yaml:19:58: prior notice "n": undefined zone "nowhere"`,
			`undefined-ref.bad.yaml:21:23: council: member "liaison" is a party-liaison, not a council-member`,
			`undefined-ref.bad.yaml:21:32: council: undefined identity "nobody"`,
		}},
		{"unknown-key.bad.yaml", []string{
			`unknown-key.bad.yaml:4:1: agreement: unknown key "tittle"; hint: did you mean "title"?`,
			`unknown-key.bad.yaml:8:5: zone "z": unknown key "circel"; hint: did you mean "circle"?`,
			`unknown-key.bad.yaml:9:46: zone "z": circle: unknown key "colour"`,
		}},
		{"version.bad.yaml", []string{
			`version.bad.yaml:1:8: truce: unsupported format version 2`,
		}},
		{"wrong-type.bad.yaml", []string{
			`wrong-type.bad.yaml:5:20: phase "D+0": day: want an integer, got string "ten"`,
			`wrong-type.bad.yaml:6:10: parties: want a sequence, got a mapping`,
			`wrong-type.bad.yaml:8:10: categories[0]: id: want a string, got integer 42; hint: quote it`,
			`wrong-type.bad.yaml:10:64: zone "z": circle: radius_m: want a number, got string "10"`,
			`wrong-type.bad.yaml:12:23: obligations: reporting: public: want true or false, got string "yes"`,
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			errs := loadErrors(t, filepath.Join("testdata", tc.file))
			for i, e := range errs {
				got := strings.TrimPrefix(e.Error(), "testdata/")
				if i >= len(tc.want) {
					t.Errorf("unexpected error %s", got)
					continue
				}
				if !strings.Contains(got, tc.want[i]) {
					t.Errorf("error %d:\n got %s\nwant %s", i, got, tc.want[i])
				}
			}
			for _, w := range tc.want[min(len(errs), len(tc.want)):] {
				t.Errorf("missing error %s", w)
			}
		})
	}
}

// TestBadFilesCovered keeps TestBad in step with testdata.
func TestBadFilesCovered(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.bad.yaml")
	if len(files) < 30 {
		t.Errorf("%d bad files, want at least 30", len(files))
	}
	for _, f := range files {
		if _, err := LoadFile(f); err == nil {
			t.Errorf("%s loads without error", f)
		}
	}
}

func loadErrors(t *testing.T, path string) ErrorList {
	t.Helper()
	a, err := LoadFile(path)
	if err == nil {
		t.Fatalf("LoadFile(%s) = %v, nil; want errors", path, a)
	}
	var l ErrorList
	if !errors.As(err, &l) {
		t.Fatalf("LoadFile(%s) error %T, want ErrorList: %v", path, err, err)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Error("errors.Is(err, ErrInvalid) = false")
	}
	return l
}

// TestAllErrorsInOrder checks that a file with faults of every stage
// (decoding, references, geometry, rules) reports them all, by position.
func TestAllErrorsInOrder(t *testing.T) {
	errs := loadErrors(t, "testdata/multi.bad.yaml")
	want := []string{
		`testdata/multi.bad.yaml:9:76: zone "z": ring not closed`,
		`testdata/multi.bad.yaml:10:5: zone "z": unknown key "colour"`,
		`testdata/multi.bad.yaml:12:35: rule "r": undefined zone "y"`,
		`testdata/multi.bad.yaml:12:61: rule "r": from: undefined phase "D+0"`,
		`testdata/multi.bad.yaml:13:10: rule "r": duplicate id; first defined at 12:10`,
		`testdata/multi.bad.yaml:13:36: rule "r": line: zone "z" is a buffer zone, not a line`,
		`testdata/multi.bad.yaml:13:51: rule "r": distance_m must be positive, got -1`,
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(want), errs)
	}
	for i, e := range errs {
		if !strings.HasPrefix(e.Error(), want[i]) {
			t.Errorf("error %d = %s, want %s", i, e, want[i])
		}
		if i > 0 && (e.Line < errs[i-1].Line || e.Line == errs[i-1].Line && e.Col < errs[i-1].Col) {
			t.Errorf("error %d out of order", i)
		}
	}
	// The list prints one error a line.
	if got := strings.Count(errs.Error(), "\n"); got != len(want)-1 {
		t.Errorf("ErrorList.Error has %d newlines", got)
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{File: "a.yaml", Line: 3, Col: 7, Msg: `zone "x": ring not closed`, Hint: "close it"}
	if got, want := e.Error(), `a.yaml:3:7: zone "x": ring not closed; hint: close it`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	e = &Error{File: "a.yaml", Msg: "empty file"}
	if got, want := e.Error(), "a.yaml: empty file"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestLoadEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"empty", "", "x.yaml:1:1: empty file"},
		{"comment only", "# nothing\n", "x.yaml:1:1: empty file"},
		{"not a mapping", "- a\n- b\n", "x.yaml:1:1: agreement: want a mapping, got a sequence"},
		{"two documents", "truce: 1\nid: a\nd_day: 2026-12-01T00:00:00Z\n---\ntruce: 1\n", "x.yaml:5:1: more than one YAML document"},
		{"tag", "truce: 1\nid: !!str a\nd_day: 2026-12-01T00:00:00Z\n", `x.yaml:2:5: id: YAML tag "!!str" is not supported`},
		{"merge key", "truce: 1\nid: a\nd_day: 2026-12-01T00:00:00Z\nobligations:\n  <<: {review: 1h}\n", "x.yaml:5:3: obligations: YAML merge keys are not supported"},
		{"string truce", "truce: \"1\"\nid: a\nd_day: 2026-12-01T00:00:00Z\n", `x.yaml:1:8: truce: want an integer, got string "1"`},
		{"no reader", "truce: 1\nid: a\nd_day: 2026-12-01T00:00:00Z\nzones:\n  - {id: z, kind: buffer, geometry_file: z.geojson}\n", `x.yaml:5:42: zone "z": geometry_file: cannot read "z.geojson": no file reader`},
		{"misspelt required key", "truce: 1\nid: a\nd_day: 2026-12-01T00:00:00Z\nzones:\n  - {id: z, kidn: buffer, circle: {center: [1, 2], radius_m: 3}}\n", `x.yaml:5:13: zone "z": unknown key "kidn"; hint: did you mean "kind"?`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("x.yaml", []byte(tc.src), nil)
			if l, ok := err.(ErrorList); ok && len(l) != 1 {
				t.Errorf("want one error, got %d:\n%v", len(l), err)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load error:\n%v\nwant %s", err, tc.want)
			}
		})
	}
}

func TestLoadFileUnreadable(t *testing.T) {
	_, err := LoadFile("testdata/does-not-exist.yaml")
	if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrInvalid) {
		t.Errorf("LoadFile of a missing file: %v", err)
	}
}

// TestGeometryFileReader checks that geometry files are read through the
// reader given to Load, joined to the agreement's directory.
func TestGeometryFileReader(t *testing.T) {
	data, err := os.ReadFile("testdata/geometry-file.good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var asked []string
	read := func(name string) ([]byte, error) {
		asked = append(asked, filepath.ToSlash(name))
		return os.ReadFile(filepath.Join("testdata", strings.TrimPrefix(name, "dir/")))
	}
	if _, err := Load("dir/agreement.yaml", data, read); err != nil {
		t.Fatal(err)
	}
	if want := []string{"dir/zones/lane.geojson", "dir/zones/loc.geojson"}; !reflect.DeepEqual(asked, want) {
		t.Errorf("read %v, want %v", asked, want)
	}
}
