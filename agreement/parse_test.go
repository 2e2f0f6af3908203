package agreement

import (
	"crypto/ed25519"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"72h", 72 * time.Hour, false},
		{"30m", 30 * time.Minute, false},
		{"14d", 14 * 24 * time.Hour, false},
		{"1d12h", 36 * time.Hour, false},
		{"1.5d", 36 * time.Hour, false},
		{"0", 0, false},
		{"0d", 0, false},
		{"-2d", -48 * time.Hour, false},
		{"-1h", -time.Hour, false},
		{"", 0, true},
		{"d", 0, true},
		{"1w", 0, true},
		{"2 hours", 0, true},
		{"1d-1h", 0, true},
		{"12h1d", 0, true},
		{"1e3d", 0, true},
		{"999999999d", 0, true},
		{"106751d23h59m", 0, true},
	} {
		got, err := ParseDuration(tc.in)
		if (err != nil) != tc.err || err == nil && got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParsePublicKey(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(strings.NewReader(strings.Repeat("k", 64)))
	s := FormatPublicKey(pub)
	got, err := ParsePublicKey(s)
	if err != nil || !got.Equal(pub) {
		t.Fatalf("ParsePublicKey(%q) = %x, %v", s, got, err)
	}
	for _, tc := range []struct{ in, want string }{
		{strings.TrimPrefix(s, KeyPrefix), `missing "ed25519:" prefix`},
		{"ED25519:" + strings.TrimPrefix(s, KeyPrefix), `missing "ed25519:" prefix`},
		{"ed25519:not base64!", "bad base64"},
		{strings.TrimSuffix(s, "="), "bad base64"},
		{"ed25519:AAECAwQ=", "5 bytes, want 32"},
		{"ed25519:", "0 bytes, want 32"},
	} {
		if _, err := ParsePublicKey(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParsePublicKey(%q) error %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestEnumStrings(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{RolePartyLiaison.String(), "party-liaison"},
		{RoleCouncilMember.String(), "council-member"},
		{PartyKindMission.String(), "mission"},
		{ZoneRearArea.String(), "rear-area"},
		{ZoneLine.String(), "line"},
		{RuleStandOff.String(), "stand-off"},
		{CertaintyObserved.String(), "observed"},
		{CertaintyUnknown.String(), "unknown"},
		{MajorityTwoThirds.String(), "two-thirds"},
		{EdgesPlanar.String(), "planar"},
		{Role(42).String(), "Role(42)"},
	} {
		if tc.got != tc.want {
			t.Errorf("String() = %q, want %q", tc.got, tc.want)
		}
	}
	if !(CertaintyObserved > CertaintyLikely && CertaintyLikely > CertaintyPossible && CertaintyPossible > CertaintyUnlikely && CertaintyUnlikely > CertaintyUnknown) {
		t.Error("certainties are not ordered")
	}
	var k ZoneKind
	if err := k.UnmarshalText([]byte("airspace")); err != nil || k != ZoneAirspace {
		t.Errorf("UnmarshalText(airspace) = %v, %v", k, err)
	}
	if err := k.UnmarshalText([]byte("sky")); err == nil {
		t.Error("UnmarshalText(sky) succeeded")
	}
	if b, _ := RuleCeiling.MarshalText(); string(b) != "ceiling" {
		t.Errorf("MarshalText = %s", b)
	}
}

// TestValidateInCode checks an agreement built in code: Validate resolves
// it and reports faults at the elements' (unknown) positions.
func TestValidateInCode(t *testing.T) {
	dday := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	a := &Agreement{
		File: "code", Truce: 1, ID: "code", DDay: dday,
		Phases:     []*Phase{{ID: "D+7", Day: 7}},
		Categories: []*Category{{ID: "armour"}, {ID: "tanks", Parent: "armour", Class: "tank"}},
		Zones: []*Zone{
			{ID: "front", Kind: ZoneLine, Shape: Shape{Line: [][2]float64{{30, 40}, {31, 41}}}},
			{ID: "dmz", Kind: ZoneDemilitarized, Shape: Shape{Corridor: &Corridor{Line: "front", HalfWidthM: 1000}}},
		},
		Rules: []*Rule{{ID: "r", Kind: RuleProhibit, Zone: "dmz", Category: "armour", Party: AnyParty, FromPhase: "D+7"}},
	}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	z, _ := a.Zone("dmz")
	if len(z.Shape.Corridor.Coords) != 2 {
		t.Errorf("corridor not resolved: %+v", z.Shape.Corridor)
	}
	r, _ := a.Rule("r")
	if !r.From.Equal(dday.AddDate(0, 0, 7)) || r.Class != "r" {
		t.Errorf("rule not resolved: %+v", r)
	}
	if !a.CategoryCovers("armour", "tanks") {
		t.Error("armour should cover tanks")
	}

	a.Zones = append(a.Zones, &Zone{ID: "bad", Kind: ZoneBuffer, Shape: Shape{Polygons: [][][][2]float64{{{{0, 0}, {1, 0}, {1, 1}}}}}})
	err := a.Validate()
	if err == nil || !strings.Contains(err.Error(), `code:0:0: zone "bad": ring has 3 position(s)`) && !strings.Contains(err.Error(), `code: zone "bad": ring has 3 position(s)`) {
		t.Errorf("Validate = %v", err)
	}
}

func ring(pts ...[2]float64) [][2]float64 { return pts }

func TestSelfIntersection(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ring     [][2]float64
		geodesic bool
		want     bool
	}{
		{"square", ring([2]float64{0, 0}, [2]float64{1, 0}, [2]float64{1, 1}, [2]float64{0, 1}, [2]float64{0, 0}), false, false},
		{"bowtie", ring([2]float64{0, 0}, [2]float64{1, 1}, [2]float64{1, 0}, [2]float64{0, 1}, [2]float64{0, 0}), false, true},
		{"repeated vertex", ring([2]float64{0, 0}, [2]float64{1, 0}, [2]float64{1, 0}, [2]float64{1, 1}, [2]float64{0, 0}), false, false},
		{"touching vertex", ring([2]float64{0, 0}, [2]float64{2, 0}, [2]float64{2, 2}, [2]float64{1, 0}, [2]float64{0, 2}, [2]float64{0, 0}), false, true},
		{"spike", ring([2]float64{0, 0}, [2]float64{2, 0}, [2]float64{1, 0}, [2]float64{1, 1}, [2]float64{0, 0}), false, true},
		{"antimeridian square", ring([2]float64{179, 0}, [2]float64{-179, 0}, [2]float64{-179, 1}, [2]float64{179, 1}, [2]float64{179, 0}), true, false},
		{"antimeridian bowtie", ring([2]float64{179, 0}, [2]float64{-179, 2}, [2]float64{-179, 0}, [2]float64{179, 2}, [2]float64{179, 0}), true, true},
	} {
		pts := tc.ring
		if tc.geodesic {
			pts = unwrap(pts)
		}
		if _, _, got := selfIntersection(pts); got != tc.want {
			t.Errorf("%s: self-intersects = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// bigRing is an n-vertex ring shaped like a coastline: a circle with
// bays at several scales, without self-intersection.
func bigRing(n int) [][2]float64 {
	pts := make([][2]float64, 0, n+1)
	for i := range n {
		a := 2 * math.Pi * float64(i) / float64(n)
		r := 1 + 0.1*math.Sin(7*a) + 0.02*math.Sin(131*a) + 0.002*math.Sin(1733*a)
		pts = append(pts, [2]float64{30 + r*math.Cos(a), 45 + 0.5*r*math.Sin(a)})
	}
	return append(pts, pts[0])
}

func TestBigRing(t *testing.T) {
	if _, _, found := selfIntersection(unwrap(bigRing(5000))); found {
		t.Error("star ring reported self-intersecting")
	}
	r := bigRing(5000)
	r[2500] = [2]float64{32, 45} // a vertex pulled across the ring
	if _, _, found := selfIntersection(unwrap(r)); !found {
		t.Error("crossing not found in the 5,000-vertex ring")
	}
}

func BenchmarkSelfIntersection5000(b *testing.B) {
	r := unwrap(bigRing(5000))
	for b.Loop() {
		selfIntersection(r)
	}
}

// BenchmarkLoad5000 loads an agreement whose zone is a 5,000-vertex ring.
func BenchmarkLoad5000(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("truce: 1\nid: big\nd_day: 2026-12-01T00:00:00Z\nzones:\n  - id: coast\n    kind: maritime\n    geometry:\n      type: Polygon\n      coordinates:\n        - [")
	for i, p := range bigRing(5000) {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "[%.6f, %.6f]", p[0], p[1])
	}
	sb.WriteString("]\n")
	data := []byte(sb.String())
	for b.Loop() {
		if _, err := Load("big.yaml", data, nil); err != nil {
			b.Fatal(err)
		}
	}
}
