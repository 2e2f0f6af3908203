package agreement

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// AnyParty is the party of a rule or notice that binds every party.
const AnyParty = "any"

// Pos is a position in the agreement file, 1-based. The zero Pos is
// unknown, as for an agreement built in code.
type Pos struct {
	Line, Col int
}

// String returns "line:col".
func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// fieldPos maps the keys of an element, as written, to the positions of
// their values, so that validation can point at the offending field.
type fieldPos map[string]Pos

// fieldSet holds the keys of an element whose decoding reported errors
// ("circle.radius_m" and its parent "circle"), so that validation skips
// the checks that depend on them instead of repeating the fault.
type fieldSet map[string]bool

// ok reports whether none of keys failed to decode.
func (s fieldSet) ok(keys ...string) bool {
	for _, k := range keys {
		if s[k] {
			return false
		}
	}
	return true
}

func (f fieldPos) at(key string, def Pos) Pos {
	if p, ok := f[key]; ok {
		return p
	}
	return def
}

// Agreement is a decoded agreement file. Build one with [Load] or
// [LoadFile]; one built in code must pass [Agreement.Validate] before its
// lookups and resolved fields can be used.
type Agreement struct {
	File        string    // the name given to Load, used in errors
	Truce       int       // format version, 1
	ID          string    //
	Title       string    //
	DDay        time.Time // entry into force, D+0
	Edges       Edges     // how polygon edges run
	Phases      []*Phase
	Parties     []*Party
	Identities  []*Identity
	Categories  []*Category
	Zones       []*Zone
	Rules       []*Rule
	Obligations Obligations
	Sanctions   Sanctions
	Pos         Pos

	fields fieldPos
	idx    index
}

// index holds the lookups built by Validate.
type index struct {
	phases       map[string]*Phase
	parties      map[string]*Party
	identities   map[string]*Identity
	categories   map[string]*Category
	zones        map[string]*Zone
	rules        map[string]*Rule
	ancestors    map[string][]string // category id -> itself and its ancestors
	transponders transponderIndex
}

// Phase is a named offset from D-day.
type Phase struct {
	ID    string    // e.g. "D+14"
	Day   int       // days after D-day, may be negative
	Name  string    //
	Start time.Time // DDay plus Day days, set by Validate
	Pos   Pos

	fields fieldPos
	bad    fieldSet
}

// Party is an actor of the agreement.
type Party struct {
	ID           string
	Name         string
	Kind         PartyKind
	Transponders Transponders // its military ships and aircraft
	Pos          Pos

	fields fieldPos
	bad    fieldSet
}

// Identity is a key that may sign entries, and the role it signs in.
type Identity struct {
	ID    string
	Name  string
	Role  Role
	Party string // the party the identity speaks for; required for RolePartyLiaison
	Key   ed25519.PublicKey
	Pos   Pos

	fields fieldPos
	bad    fieldSet
}

// Category is something that can be observed. Rules on a category cover
// its descendants.
type Category struct {
	ID      string
	Name    string
	Parent  string // "" for a root
	Class   string // one of the format's classes; "" for a group
	Calibre *Band  // calibre band in millimetres, artillery only; nil when not set
	Pos     Pos

	fields fieldPos
	bad    fieldSet
}

// Band is a closed interval. An end the agreement leaves open is ±Inf
// (a calibre band's open minimum is 0).
type Band struct {
	Min, Max float64
}

// MarshalJSON writes the band as the agreement does, leaving out an
// infinite end, which JSON cannot represent.
func (b Band) MarshalJSON() ([]byte, error) {
	m := map[string]float64{}
	if !math.IsInf(b.Min, 0) {
		m["min"] = b.Min
	}
	if !math.IsInf(b.Max, 0) {
		m["max"] = b.Max
	}
	return json.Marshal(m)
}

// Zone is an area, volume or line named by the agreement.
type Zone struct {
	ID           string
	Name         string
	Kind         ZoneKind
	GeometryFile string // the geometry_file reference as written, "" when inline
	Shape        Shape  // resolved by Validate
	Pos          Pos

	fields fieldPos
	geom   geomPos
	bad    fieldSet
}

// Shape is the resolved geometry of a zone: exactly one of Polygons, Line,
// Corridor and Circle is set. Coordinates are [lon, lat] in degrees.
type Shape struct {
	// Polygons is a multipolygon: polygons, then rings (the first outer,
	// the rest holes), then positions. Each ring is closed.
	Polygons [][][][2]float64
	// Line is the line string of a zone of kind line.
	Line [][2]float64
	// Corridor is every point within HalfWidthM of a line zone.
	Corridor *Corridor
	// Circle is every point within RadiusM of Center.
	Circle *Circle
	// Altitude is the altitude band of an airspace volume in metres AMSL;
	// nil when the zone has no band.
	Altitude *Band
}

// Corridor is every point within HalfWidthM metres of a line zone.
type Corridor struct {
	Line       string       // id of a zone of kind line
	HalfWidthM float64      //
	Coords     [][2]float64 // the line's coordinates, set by Validate
}

// Circle is every point within RadiusM metres of Center, a [lon, lat].
type Circle struct {
	Center  [2]float64
	RadiusM float64
}

// Rule binds a party's category in a zone, or away from a line, over a
// window of time.
type Rule struct {
	ID         string
	Kind       RuleKind
	Zone       string    // prohibit, ceiling, confine
	Line       string    // stand-off: id of a zone of kind line
	Category   string    //
	Party      string    // a party id or AnyParty
	Max        int       // ceiling: the most allowed inside the zone
	DistanceM  float64   // stand-off: the least distance from the line
	From       time.Time // in force from, inclusive; resolved by Validate
	Until      time.Time // in force until, exclusive; zero for no sunset
	FromPhase  string    // the phase From was given as, "" for a timestamp
	UntilPhase string    // the phase Until was given as, "" for a timestamp or none
	Class      string    // infraction class, the sanctions matrix row; defaults to ID
	Pos        Pos

	fields fieldPos
	bad    fieldSet
}

// InForce reports whether the rule is in force at t: From inclusive, Until
// exclusive.
func (r *Rule) InForce(t time.Time) bool {
	return !t.Before(r.From) && (r.Until.IsZero() || t.Before(r.Until))
}

// Obligations are the duties of notice, acknowledgement, review and
// reporting.
type Obligations struct {
	PriorNotice     []*Notice
	Acknowledgement Acknowledgement
	Review          time.Duration // an automatic finding must get an analyst's review within this; 0 when not set
	Reporting       Reporting
	Pos             Pos

	fields fieldPos
	bad    fieldSet
}

// Notice is a duty to notify movements ahead.
type Notice struct {
	ID       string
	Category string
	MinCount int           // notify movements of at least this many; default 1
	LeadTime time.Duration // how long ahead
	Zones    []string      // where; empty means anywhere
	Party    string        // a party id or AnyParty
	Pos      Pos

	fields fieldPos
	bad    fieldSet
}

// Acknowledgement holds the deadlines for acknowledging; zero when not set.
type Acknowledgement struct {
	Alert   time.Duration
	Hotline time.Duration
}

// Reporting is how often the mission reports and whether publicly.
type Reporting struct {
	Cadence time.Duration
	Public  bool
}

// Sanctions are the council and the matrix of measures.
type Sanctions struct {
	Council *Ballot // the default ballot for voted measures; nil when not set
	Matrix  []*MatrixRow
	Pos     Pos
}

// Ballot is how a measure is voted.
type Ballot struct {
	Members  []string // identity ids with RoleCouncilMember
	Quorum   int
	Majority Majority
	Veto     *Veto         // nil when no one holds a veto
	Deadline time.Duration // 0 when the vote has no deadline
	Pos      Pos

	fields    fieldPos
	inherited bool // a measure's vote, completed from the council
	bad       fieldSet
}

// Veto is a time-bound veto: it lapses after Window.
type Veto struct {
	Holders []string
	Window  time.Duration
}

// MatrixRow lists the measures for one infraction class.
type MatrixRow struct {
	Class    string
	Measures []*Measure
	Pos      Pos

	fields fieldPos
	bad    fieldSet
}

// Measure is the response to the Repeat-th infraction of a class; the
// highest row applies to all higher counts. Exactly one of Automatic and
// Vote is set.
type Measure struct {
	Repeat    int
	Name      string // the measure, e.g. "formal-warning"
	Automatic *Automatic
	Vote      *Ballot // completed with the council's defaults
	Pos       Pos

	fields fieldPos
	bad    fieldSet
}

// Automatic is a measure taken without a vote, at or above MinCertainty.
type Automatic struct {
	MinCertainty Certainty
}

// Phase returns the phase with the given id.
func (a *Agreement) Phase(id string) (*Phase, bool) { p, ok := a.idx.phases[id]; return p, ok }

// Party returns the party with the given id.
func (a *Agreement) Party(id string) (*Party, bool) { p, ok := a.idx.parties[id]; return p, ok }

// Identity returns the identity with the given id.
func (a *Agreement) Identity(id string) (*Identity, bool) {
	i, ok := a.idx.identities[id]
	return i, ok
}

// Category returns the category with the given id.
func (a *Agreement) Category(id string) (*Category, bool) {
	c, ok := a.idx.categories[id]
	return c, ok
}

// Zone returns the zone with the given id.
func (a *Agreement) Zone(id string) (*Zone, bool) { z, ok := a.idx.zones[id]; return z, ok }

// Rule returns the rule with the given id.
func (a *Agreement) Rule(id string) (*Rule, bool) { r, ok := a.idx.rules[id]; return r, ok }

// RuleInForce reports whether r is in force at t: from inclusive, until
// exclusive.
func (a *Agreement) RuleInForce(r *Rule, t time.Time) bool { return r.InForce(t) }

// CategoryCovers reports whether a rule on ruleCat covers an observation of
// obsCat: whether ruleCat is obsCat or one of its ancestors.
func (a *Agreement) CategoryCovers(ruleCat, obsCat string) bool {
	if ruleCat == obsCat {
		return true
	}
	for _, c := range a.idx.ancestors[obsCat] {
		if c == ruleCat {
			return true
		}
	}
	return false
}
