package alert

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Finding is what the engine tells the alert package about one finding (an incident's
// verdict). FromFinding reads nothing else, so the same findings give the same alerts.
type Finding struct {
	// ID is the stable finding id, e.g. "inc-42"; it must not contain double quotes.
	ID string
	// About is the finding this one is about, when it is not itself (an escalation is about
	// the finding whose alert went unacknowledged): the alert's incidents listing names it.
	About string
	// Version is 1 for a new finding and grows by one per change.
	Version int
	// Cancelled marks a withdrawn finding (merged away, disproved).
	Cancelled bool
	// Sent is the log time of the change (never the wall clock).
	Sent time.Time
	// Sender is the mission's sender id, e.g. "truce@mission.example": no spaces, commas,
	// "<" or "&".
	Sender string
	// Parties are the addressed parties: scope Restricted. Leave it empty and set Public for
	// scope Public (a public alert may still name parties).
	Parties []string
	Public  bool
	// Event names the kind of event, e.g. "Heavy weapons in the demilitarized zone".
	Event          string
	RuleID, ZoneID string
	// Urgency, Severity and Certainty take CAP's values: Immediate, Expected, Future, Past,
	// Unknown; Extreme, Severe, Moderate, Minor, Unknown; Observed, Likely, Possible,
	// Unlikely, Unknown.
	Urgency, Severity, Certainty       string
	Headline, Description, Instruction string
	Area                               Area
	// Evidence holds ledger entry indexes; they go into a parameter and the description.
	Evidence []int64
	// Expires is when the alert stops applying; zero for never.
	Expires time.Time
}

// Point is a position in WGS84 degrees; a geo.Point converts to it.
type Point struct{ Lon, Lat float64 }

// Circle is a circle around Center, RadiusM metres wide.
type Circle struct {
	Center  Point
	RadiusM float64
}

// Area is where a finding applies. It becomes one CAP <area>; an empty Area with no zone id
// gives none.
type Area struct {
	// Desc becomes areaDesc; when empty, "zone <ZoneID>".
	Desc string
	// Polygons are rings of lon/lat points, closed (the last point the first; an open ring
	// is closed here) and kept as given: a ring across the antimeridian is not split.
	Polygons [][]Point
	Circles  []Circle
}

// What FromFinding writes beside the finding's own fields.
const (
	// ProfileCode is the <code> of every alert FromFinding makes: it tells receivers which
	// parameter names follow. Bump it whenever their meaning changes.
	ProfileCode = "truce:1"
	// Language is the <language> of the info.
	Language = "en"
	// Category is the CAP category of every finding.
	Category = "Security"
	// RestrictionText is the <restriction> of Restricted alerts.
	RestrictionText = "For the addressed parties and the monitoring mission only; not for public release."
)

// The <parameter> names FromFinding writes.
const (
	ParamFinding  = "truce:finding"  // the finding id
	ParamVersion  = "truce:version"  // the finding version, decimal
	ParamRule     = "truce:rule"     // the rule id, when there is one
	ParamZone     = "truce:zone"     // the zone id, when there is one
	ParamEvidence = "truce:evidence" // the evidence's ledger indexes, space-separated, ascending
)

// The CAP response types FromFinding gives: parties assess a finding; a Cancel clears it.
const (
	responseFinding = "Assess"
	responseCancel  = "AllClear"
)

// ErrFinding is wrapped by every error of FromFinding about its input.
var ErrFinding = errors.New("invalid finding")

// Identifier returns the CAP identifier of a finding's version: a readable part (the finding
// id with characters other than letters, digits and "._:-" replaced by "_", cut to 48 bytes),
// the version, and 16 hex digits of a SHA-256 over the exact sender, id and version, so that
// different findings never share an identifier, e.g. "inc-42-v3-e1d2ff0b4777845c".
func Identifier(sender, findingID string, version int) string {
	h := sha256.New()
	for _, s := range []string{"truce CAP identifier", sender, findingID, strconv.Itoa(version)} {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(s))))
		h.Write([]byte(s))
	}
	sum := h.Sum(nil)

	var b strings.Builder
	for i := 0; i < len(findingID) && b.Len() < 48; i++ {
		c := findingID[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._:-", c) >= 0 {
			b.WriteByte(c)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		b.WriteString("finding")
	}
	return fmt.Sprintf("%s-v%d-%s", b.String(), version, hex.EncodeToString(sum[:8]))
}

// FromFinding makes the CAP alert for one version of a finding. prev names the earlier alerts
// an Update or Cancel refers to (normally every earlier alert of the finding, or at least the
// latest); they are written sorted by time and without duplicates, and an Update or Cancel
// without them is an error. Parties and evidence indexes are written sorted and without
// duplicates, so their order in f does not matter. The result passes [Alert.Validate]. Every problem with f is
// reported at once, in an error wrapping [ErrFinding].
func FromFinding(f Finding, prev []Reference) (*Alert, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if f.ID == "" {
		bad("no id")
	} else if strings.ContainsFunc(f.ID, badGroupRune) {
		bad("id %q contains a double quote or control character", clip(f.ID))
	}
	if f.Version < 1 {
		bad("version %d: versions start at 1", f.Version)
	}
	if err := checkCAPName("sender", f.Sender); err != nil {
		errs = append(errs, err)
	}
	sent := f.Sent.UTC().Truncate(time.Second)
	if f.Sent.IsZero() {
		bad("no sent time (the log time of the change)")
	} else if y := sent.Year(); y < 1 || y > 9999 {
		bad("sent %s: year outside 1–9999", f.Sent)
	}

	msgType, response := MsgAlert, responseFinding
	switch {
	case f.Cancelled:
		msgType, response = MsgCancel, responseCancel
	case f.Version > 1:
		msgType = MsgUpdate
	}
	refs := slices.Clone(prev)
	slices.SortFunc(refs, func(a, b Reference) int {
		if c := a.Sent.Compare(b.Sent); c != 0 {
			return c
		}
		return strings.Compare(a.String(), b.String())
	})
	refs = slices.CompactFunc(refs, func(a, b Reference) bool { return a.String() == b.String() })
	if msgType != MsgAlert && len(refs) == 0 {
		bad("%s of version %d names no earlier alert (prev is empty)", msgType, f.Version)
	}
	own := Identifier(f.Sender, f.ID, f.Version)
	refText := make([]string, 0, len(refs))
	for _, r := range refs {
		switch {
		case checkCAPName("reference sender", r.Sender) != nil || checkCAPName("reference identifier", r.Identifier) != nil:
			bad("reference %q: sender and identifier must be non-empty, without spaces, commas, < or &", clip(r.String()))
		case r.Sent.IsZero():
			bad("reference %s,%s: no sent time", r.Sender, r.Identifier)
		case r.Sent.Truncate(time.Second).After(sent):
			bad("reference %q: sent after this alert (%s)", clip(r.String()), Time{sent})
		case r.Identifier == own && r.Sender == f.Sender:
			bad("reference %q: is this alert itself", clip(r.String()))
		default:
			if _, err := (Time{r.Sent}).MarshalText(); err != nil {
				bad("reference %s,%s: %v", r.Sender, r.Identifier, err)
			}
		}
		refText = append(refText, r.String())
	}

	scope := ScopeRestricted
	if f.Public {
		scope = ScopePublic
	}
	parties := slices.Clone(f.Parties)
	slices.Sort(parties)
	parties = slices.Compact(parties)
	for _, p := range parties {
		if p == "" || strings.TrimSpace(p) != p || strings.ContainsFunc(p, badGroupRune) {
			bad("party %q: want a non-empty name without surrounding spaces, double quotes or control characters", clip(p))
		}
	}
	if !f.Public && len(parties) == 0 {
		bad("no parties to address and not public")
	}

	if f.Event == "" {
		bad("no event")
	}
	for _, e := range []struct{ field, value string }{
		{"urgency", f.Urgency}, {"severity", f.Severity}, {"certainty", f.Certainty},
	} {
		if err := checkEnum(e.field, e.value); err != nil {
			errs = append(errs, err)
		}
	}

	var expires *Time
	if !f.Expires.IsZero() {
		t := f.Expires.UTC().Truncate(time.Second)
		if !t.After(sent) {
			bad("expires %s is not after sent %s", Time{t}, Time{sent})
		} else if t.Year() > 9999 {
			bad("expires %s: year after 9999", f.Expires)
		}
		expires = &Time{t}
	}

	evidence := slices.Clone(f.Evidence)
	slices.Sort(evidence)
	evidence = slices.Compact(evidence)
	if len(evidence) > 0 && evidence[0] < 0 {
		bad("evidence index %d is negative", evidence[0])
	}

	area, areaErrs := capArea(f.Area, f.ZoneID)
	errs = append(errs, areaErrs...)

	if len(errs) > 0 {
		return nil, fmt.Errorf("%w %q v%d: %w", ErrFinding, clip(f.ID), f.Version, errors.Join(errs...))
	}

	info := Info{
		Language:     Language,
		Category:     []string{Category},
		Event:        f.Event,
		ResponseType: []string{response},
		Urgency:      f.Urgency,
		Severity:     f.Severity,
		Certainty:    f.Certainty,
		Expires:      expires,
		Headline:     f.Headline,
		Description:  describe(f.Description, evidence),
		Instruction:  f.Instruction,
		Parameter: []NamedValue{
			{ParamFinding, f.ID},
			{ParamVersion, strconv.Itoa(f.Version)},
		},
	}
	if f.RuleID != "" {
		info.Parameter = append(info.Parameter, NamedValue{ParamRule, f.RuleID})
	}
	if f.ZoneID != "" {
		info.Parameter = append(info.Parameter, NamedValue{ParamZone, f.ZoneID})
	}
	if len(evidence) > 0 {
		info.Parameter = append(info.Parameter, NamedValue{ParamEvidence, joinInts(evidence, " ")})
	}
	if area != nil {
		info.Area = []InfoArea{*area}
	}
	a := &Alert{
		Identifier: own,
		Sender:     f.Sender,
		Sent:       Time{sent},
		Status:     StatusActual,
		MsgType:    msgType,
		Scope:      scope,
		Addresses:  joinGroup(parties),
		Code:       []string{ProfileCode},
		References: strings.Join(refText, " "),
		Incidents:  joinGroup([]string{cmp.Or(f.About, f.ID)}),
		Info:       []Info{info},
	}
	if scope == ScopeRestricted {
		a.Restriction = RestrictionText
	}
	if err := a.Validate(); err != nil {
		// Everything Validate checks was checked above; this is a bug, not bad input.
		return nil, fmt.Errorf("alert for finding %q v%d: %w", clip(f.ID), f.Version, err)
	}
	return a, nil
}

// describe appends the evidence to a description.
func describe(desc string, evidence []int64) string {
	if len(evidence) == 0 {
		return desc
	}
	line := "Evidence: ledger entries " + joinInts(evidence, ", ") + "."
	if len(evidence) == 1 {
		line = "Evidence: ledger entry " + joinInts(evidence, "") + "."
	}
	if desc == "" {
		return line
	}
	return strings.TrimRight(desc, " \t\r\n") + "\n\n" + line
}

func joinInts(xs []int64, sep string) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.FormatInt(x, 10)
	}
	return strings.Join(s, sep)
}

// capArea converts an Area to a CAP area; nil when there is nothing to say.
func capArea(ar Area, zoneID string) (*InfoArea, []error) {
	var errs []error
	out := &InfoArea{AreaDesc: ar.Desc}
	if out.AreaDesc == "" && zoneID != "" {
		out.AreaDesc = "zone " + zoneID
	}
	for i, ring := range ar.Polygons {
		s, err := capPolygon(ring)
		if err != nil {
			errs = append(errs, fmt.Errorf("area polygon %d: %w", i, err))
			continue
		}
		out.Polygon = append(out.Polygon, s)
	}
	for i, c := range ar.Circles {
		if err := checkPoint(c.Center); err != nil {
			errs = append(errs, fmt.Errorf("area circle %d: %w", i, err))
			continue
		}
		if math.IsNaN(c.RadiusM) || math.IsInf(c.RadiusM, 0) || c.RadiusM < 0 {
			errs = append(errs, fmt.Errorf("area circle %d: radius %v m: want a finite number ≥ 0", i, c.RadiusM))
			continue
		}
		km := strconv.FormatFloat(math.Round(c.RadiusM)/1000, 'f', -1, 64)
		out.Circle = append(out.Circle, capPair(c.Center)+" "+km)
	}
	switch {
	case len(errs) > 0:
		return nil, errs
	case out.AreaDesc == "" && len(ar.Polygons)+len(ar.Circles) > 0:
		return nil, []error{errors.New("area has shapes but no description and no zone id")}
	case out.AreaDesc == "":
		return nil, nil
	}
	return out, nil
}

// capPolygon writes a ring as CAP's "lat,lon lat,lon …", closing it when open.
func capPolygon(ring []Point) (string, error) {
	if len(ring) < 3 {
		return "", fmt.Errorf("%d points: a ring needs at least 3", len(ring))
	}
	pairs := make([]string, 0, len(ring)+1)
	for i, p := range ring {
		if err := checkPoint(p); err != nil {
			return "", fmt.Errorf("point %d: %w", i, err)
		}
		pairs = append(pairs, capPair(p))
	}
	if pairs[0] != pairs[len(pairs)-1] {
		pairs = append(pairs, pairs[0])
	}
	distinct := slices.Clone(pairs)
	slices.Sort(distinct)
	if len(pairs) < 4 || len(slices.Compact(distinct)) < 3 {
		return "", fmt.Errorf("ring %q has fewer than 3 distinct points", clip(strings.Join(pairs, " ")))
	}
	return strings.Join(pairs, " "), nil
}

func checkPoint(p Point) error {
	if math.IsNaN(p.Lat) || math.IsNaN(p.Lon) || p.Lat < -90 || p.Lat > 90 || p.Lon < -180 || p.Lon > 180 {
		return fmt.Errorf("lon %v, lat %v: want lon in [-180, 180] and lat in [-90, 90]", p.Lon, p.Lat)
	}
	return nil
}

// capPair writes "lat,lon", latitude first, to 6 decimal places (1e-6 degree is about 0.1 m).
func capPair(p Point) string {
	return formatDeg(p.Lat) + "," + formatDeg(p.Lon)
}

func formatDeg(v float64) string {
	const scale = 1e6
	r := math.Round(v*scale) / scale
	if r == 0 {
		r = 0 // no "-0"
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// badGroupRune reports runes that cannot appear in an item of a CAP group listing.
func badGroupRune(r rune) bool { return r == '"' || r < 0x20 || r == 0x7f }
