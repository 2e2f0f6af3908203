package alert

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ErrInvalid is wrapped by the errors of [Alert.Validate].
var ErrInvalid = errors.New("invalid CAP alert")

// The values the CAP 1.2 schema enumerates.
var enums = map[string][]string{
	"status":       {"Actual", "Exercise", "System", "Test", "Draft"},
	"msgType":      {"Alert", "Update", "Cancel", "Ack", "Error"},
	"scope":        {"Public", "Restricted", "Private"},
	"category":     {"Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra", "CBRNE", "Other"},
	"responseType": {"Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess", "AllClear", "None"},
	"urgency":      {"Immediate", "Expected", "Future", "Past", "Unknown"},
	"severity":     {"Extreme", "Severe", "Moderate", "Minor", "Unknown"},
	"certainty":    {"Observed", "Likely", "Possible", "Unlikely", "Unknown"},
}

func checkEnum(field, value string) error {
	allowed := enums[field]
	if slices.Contains(allowed, value) {
		return nil
	}
	if value == "" {
		return fmt.Errorf("no %s (one of %s)", field, strings.Join(allowed, ", "))
	}
	return fmt.Errorf("%s %q is not one of %s", field, clip(value), strings.Join(allowed, ", "))
}

// checkCAPName checks an identifier or sender: CAP 1.2 forbids empty ones and spaces, commas
// and the restricted characters < and &.
func checkCAPName(field, s string) error {
	if s == "" {
		return fmt.Errorf("no %s", field)
	}
	if strings.ContainsAny(s, ",<&") || strings.ContainsFunc(s, isXMLSpace) {
		return fmt.Errorf("%s %q: no spaces, commas, < or & allowed", field, clip(s))
	}
	return nil
}

func isXMLSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' }

// Validate checks a against the CAP 1.2 schema (required elements, enumerations, time forms,
// languages, decimals) and the rules the CAP 1.2 specification adds: identifiers and senders
// without spaces, commas, < or &; a restriction for scope Restricted and addresses for
// Private; well-formed references, group listings, polygons (at least four lat,lon pairs in
// range, the first equal to the last) and circles ("lat,lon radius_km"); a ceiling only with an
// altitude. Every problem is reported at once, in an error wrapping [ErrInvalid].
func (a *Alert) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(checkCAPName("identifier", a.Identifier))
	add(checkCAPName("sender", a.Sender))
	if _, err := a.Sent.MarshalText(); err != nil {
		add(fmt.Errorf("sent: %w", err))
	}
	add(checkEnum("status", string(a.Status)))
	add(checkEnum("msgType", string(a.MsgType)))
	add(checkEnum("scope", string(a.Scope)))
	if a.Scope == ScopeRestricted && strings.TrimSpace(a.Restriction) == "" {
		add(errors.New("scope Restricted needs a restriction"))
	}
	if _, err := splitGroup(a.Addresses); err != nil {
		add(fmt.Errorf("addresses: %w", err))
	} else if a.Scope == ScopePrivate && strings.TrimSpace(a.Addresses) == "" {
		add(errors.New("scope Private needs addresses"))
	}
	if _, err := ParseReferences(a.References); err != nil {
		add(fmt.Errorf("references: %w", err))
	}
	if _, err := splitGroup(a.Incidents); err != nil {
		add(fmt.Errorf("incidents: %w", err))
	}
	for i := range a.Info {
		for _, err := range a.Info[i].validate() {
			add(fmt.Errorf("info[%d]: %w", i, err))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w %q: %w", ErrInvalid, clip(a.Identifier), errors.Join(errs...))
}

func (in *Info) validate() []error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if l := strings.TrimSpace(in.Language); l != "" && !isLanguage(l) {
		add(fmt.Errorf("language %q is not a language tag", clip(in.Language)))
	}
	if len(in.Category) == 0 {
		add(errors.New("no category"))
	}
	for _, c := range in.Category {
		add(checkEnum("category", c))
	}
	if strings.TrimSpace(in.Event) == "" {
		add(errors.New("no event"))
	}
	for _, r := range in.ResponseType {
		add(checkEnum("responseType", r))
	}
	add(checkEnum("urgency", in.Urgency))
	add(checkEnum("severity", in.Severity))
	add(checkEnum("certainty", in.Certainty))
	for _, t := range []struct {
		name string
		t    *Time
	}{{"effective", in.Effective}, {"onset", in.Onset}, {"expires", in.Expires}} {
		if t.t == nil {
			continue
		}
		if _, err := t.t.MarshalText(); err != nil {
			add(fmt.Errorf("%s: %w", t.name, err))
		}
	}
	for i, r := range in.Resource {
		if strings.TrimSpace(r.ResourceDesc) == "" || strings.TrimSpace(r.MimeType) == "" {
			add(fmt.Errorf("resource[%d]: needs resourceDesc and mimeType", i))
		}
	}
	for i, ar := range in.Area {
		for _, err := range ar.validate() {
			add(fmt.Errorf("area[%d]: %w", i, err))
		}
	}
	return errs
}

func (ar *InfoArea) validate() []error {
	var errs []error
	if strings.TrimSpace(ar.AreaDesc) == "" {
		errs = append(errs, errors.New("no areaDesc"))
	}
	for i, p := range ar.Polygon {
		if err := checkPolygon(p); err != nil {
			errs = append(errs, fmt.Errorf("polygon[%d]: %w", i, err))
		}
	}
	for i, c := range ar.Circle {
		if err := checkCircle(c); err != nil {
			errs = append(errs, fmt.Errorf("circle[%d]: %w", i, err))
		}
	}
	if ar.Altitude != "" && !isDecimal(ar.Altitude) {
		errs = append(errs, fmt.Errorf("altitude %q is not a decimal number", clip(ar.Altitude)))
	}
	if ar.Ceiling != "" {
		if !isDecimal(ar.Ceiling) {
			errs = append(errs, fmt.Errorf("ceiling %q is not a decimal number", clip(ar.Ceiling)))
		}
		if ar.Altitude == "" {
			errs = append(errs, errors.New("ceiling without altitude"))
		}
	}
	return errs
}

// checkPolygon checks "lat,lon lat,lon …": at least four pairs, the first equal to the last.
func checkPolygon(s string) error {
	pairs := strings.Fields(s)
	if len(pairs) < 4 {
		return fmt.Errorf("%q: want at least 4 lat,lon pairs", clip(s))
	}
	var first, last [2]float64
	for i, pr := range pairs {
		p, err := parsePair(pr)
		if err != nil {
			return err
		}
		if i == 0 {
			first = p
		}
		last = p
	}
	if first != last {
		return fmt.Errorf("%q: ring not closed (the last pair must equal the first)", clip(s))
	}
	return nil
}

// checkCircle checks "lat,lon radius_km".
func checkCircle(s string) error {
	f := strings.Fields(s)
	if len(f) != 2 {
		return fmt.Errorf("%q: want \"lat,lon radius_km\"", clip(s))
	}
	if _, err := parsePair(f[0]); err != nil {
		return err
	}
	r, err := strconv.ParseFloat(f[1], 64)
	if err != nil || math.IsNaN(r) || math.IsInf(r, 0) || r < 0 {
		return fmt.Errorf("radius %q: want a number of kilometres ≥ 0", clip(f[1]))
	}
	return nil
}

// parsePair reads "lat,lon" in range.
func parsePair(s string) ([2]float64, error) {
	latS, lonS, ok := strings.Cut(s, ",")
	if ok {
		lat, err1 := strconv.ParseFloat(latS, 64)
		lon, err2 := strconv.ParseFloat(lonS, 64)
		if err1 == nil && err2 == nil && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 {
			return [2]float64{lat, lon}, nil
		}
	}
	return [2]float64{}, fmt.Errorf("point %q: want lat,lon with lat in [-90, 90] and lon in [-180, 180]", clip(s))
}

// isLanguage matches xs:language: [a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*.
func isLanguage(s string) bool {
	for i, part := range strings.Split(s, "-") {
		if len(part) < 1 || len(part) > 8 {
			return false
		}
		for _, c := range []byte(part) {
			alpha := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
			if !alpha && (i == 0 || c < '0' || c > '9') {
				return false
			}
		}
	}
	return true
}

// isDecimal matches xs:decimal after white-space collapsing: [+-]?(\d+(\.\d*)?|\.\d+).
func isDecimal(s string) bool {
	s = strings.TrimSpace(s)
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	digits := func(t string) bool {
		for _, c := range []byte(t) {
			if c < '0' || c > '9' {
				return false
			}
		}
		return true
	}
	if !digits(intPart) || !digits(frac) {
		return false
	}
	return len(intPart) > 0 || hasDot && len(frac) > 0
}
