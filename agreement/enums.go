package agreement

import (
	"fmt"
	"slices"
)

// Role is what an identity does in the mission.
type Role int

// The roles an identity may hold.
const (
	RolePartyLiaison  Role = iota // speaks for a party: notifications, acknowledgements
	RoleMonitor                   // a monitor's observations
	RoleSensor                    // an automated sensor feed
	RoleAnalyst                   // reviews automatic findings
	RoleCouncilMember             // votes on measures
	RolePublic                    // reads the public record
)

var roleNames = []string{"party-liaison", "monitor", "sensor", "analyst", "council-member", "public"}

// PartyKind tells the actors bound by the rules from the others.
type PartyKind int

// The kinds of party.
const (
	PartyKindParty     PartyKind = iota // bound by the rules
	PartyKindGuarantor                  // guarantees the agreement
	PartyKindMission                    // the monitoring mission
)

var partyKindNames = []string{"party", "guarantor", "mission"}

// ZoneKind is the legal nature of a zone. Only [ZoneLine] changes how the
// zone is read: a line contains nothing and is measured from.
type ZoneKind int

// The kinds of zone.
const (
	ZoneBuffer ZoneKind = iota
	ZoneDemilitarized
	ZoneSeparation
	ZoneLimitation
	ZoneRestricted
	ZoneRearArea
	ZoneMaritime
	ZoneAirspace
	ZoneLine
)

var zoneKindNames = []string{"buffer", "demilitarized", "separation", "limitation", "restricted", "rear-area", "maritime", "airspace", "line"}

// RuleKind is how a rule is broken.
type RuleKind int

// The kinds of rule.
const (
	RuleProhibit RuleKind = iota // broken by an observation inside the zone
	RuleCeiling                  // broken when the count inside the zone exceeds Max
	RuleStandOff                 // broken by an observation closer than DistanceM to the line
	RuleConfine                  // broken by an observation outside the zone
)

var ruleKindNames = []string{"prohibit", "ceiling", "stand-off", "confine"}

// Certainty is the CAP 1.2 certainty scale. Higher values are more certain,
// so c >= min tests a threshold.
type Certainty int

// The certainties, from least to most certain.
const (
	CertaintyUnknown Certainty = iota
	CertaintyUnlikely
	CertaintyPossible
	CertaintyLikely
	CertaintyObserved
)

var certaintyNames = []string{"unknown", "unlikely", "possible", "likely", "observed"}

// Majority is the share of votes cast a council motion needs.
type Majority int

// The majorities; [MajoritySimple] is the default.
const (
	MajoritySimple    Majority = iota // more than half
	MajorityTwoThirds                 // at least two thirds
	MajorityUnanimous                 // all votes cast
)

var majorityNames = []string{"simple", "two-thirds", "unanimous"}

// Edges is how polygon edges run between vertices.
type Edges int

// The edge models; [EdgesGeodesic] is the default.
const (
	EdgesGeodesic Edges = iota // great-circle arcs
	EdgesPlanar                // straight lines in lon/lat, as RFC 7946 reads them
)

var edgesNames = []string{"geodesic", "planar"}

// classes are the category classes of the format; a category without a
// class is a group.
var classes = []string{
	"military-personnel", "tank", "armoured-vehicle", "artillery", "mlrs", "heavy-mlrs",
	"tactical-missile", "air-defence", "fixed-wing", "rotary-wing", "uav", "naval-vessel",
	"fortification", "foreign-force", "civilian-traffic",
}

func enumString(names []string, v int, typ string) string {
	if v >= 0 && v < len(names) {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", typ, v)
}

func enumParse[T ~int](names []string, typ, s string) (T, error) {
	if i := slices.Index(names, s); i >= 0 {
		return T(i), nil
	}
	return 0, fmt.Errorf("unknown %s %q", typ, s)
}

// String returns the role as written in the agreement.
func (r Role) String() string { return enumString(roleNames, int(r), "Role") }

// MarshalText returns the role as written in the agreement.
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText parses a role as written in the agreement.
func (r *Role) UnmarshalText(b []byte) (err error) {
	*r, err = enumParse[Role](roleNames, "role", string(b))
	return err
}

// String returns the party kind as written in the agreement.
func (k PartyKind) String() string { return enumString(partyKindNames, int(k), "PartyKind") }

// MarshalText returns the party kind as written in the agreement.
func (k PartyKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText parses a party kind as written in the agreement.
func (k *PartyKind) UnmarshalText(b []byte) (err error) {
	*k, err = enumParse[PartyKind](partyKindNames, "party kind", string(b))
	return err
}

// String returns the zone kind as written in the agreement.
func (k ZoneKind) String() string { return enumString(zoneKindNames, int(k), "ZoneKind") }

// MarshalText returns the zone kind as written in the agreement.
func (k ZoneKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText parses a zone kind as written in the agreement.
func (k *ZoneKind) UnmarshalText(b []byte) (err error) {
	*k, err = enumParse[ZoneKind](zoneKindNames, "zone kind", string(b))
	return err
}

// String returns the rule kind as written in the agreement.
func (k RuleKind) String() string { return enumString(ruleKindNames, int(k), "RuleKind") }

// MarshalText returns the rule kind as written in the agreement.
func (k RuleKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText parses a rule kind as written in the agreement.
func (k *RuleKind) UnmarshalText(b []byte) (err error) {
	*k, err = enumParse[RuleKind](ruleKindNames, "rule kind", string(b))
	return err
}

// String returns the certainty in lower case, as written in the agreement.
func (c Certainty) String() string { return enumString(certaintyNames, int(c), "Certainty") }

// MarshalText returns the certainty as written in the agreement.
func (c Certainty) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText parses a certainty as written in the agreement.
func (c *Certainty) UnmarshalText(b []byte) (err error) {
	*c, err = enumParse[Certainty](certaintyNames, "certainty", string(b))
	return err
}

// String returns the majority as written in the agreement.
func (m Majority) String() string { return enumString(majorityNames, int(m), "Majority") }

// MarshalText returns the majority as written in the agreement.
func (m Majority) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText parses a majority as written in the agreement.
func (m *Majority) UnmarshalText(b []byte) (err error) {
	*m, err = enumParse[Majority](majorityNames, "majority", string(b))
	return err
}

// String returns the edge model as written in the agreement.
func (e Edges) String() string { return enumString(edgesNames, int(e), "Edges") }

// MarshalText returns the edge model as written in the agreement.
func (e Edges) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// UnmarshalText parses an edge model as written in the agreement.
func (e *Edges) UnmarshalText(b []byte) (err error) {
	*e, err = enumParse[Edges](edgesNames, "edges", string(b))
	return err
}
