package scenario

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/truce-mission/truce/engine"
)

// Script is a parsed scenario file.
type Script struct {
	File      string // the name given to Parse, used in messages
	Dir       string // paths in the script are relative to it
	Agreement string // as written
	Keys      string // as written; "" for the default
	Steps     []Step
}

// Step is one statement after the agreement: an entry to submit or an expectation.
type Step struct {
	Line int
	Text string    // the line as written
	At   time.Time // entries only; D-relative times are resolved by Run
	Rel  *relTime  // set when At is relative to D-day
	Verb string    // observe, notify, review, ack, hotline, tick, expect
	Who  string    // the signing identity; "" for expect and a default tick
	Args []string  // the remaining words, quotes removed
}

// relTime is a time relative to D-day.
type relTime struct {
	days   int
	offset time.Duration
}

// Error is a problem in a script, at a line.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// ParseFile reads and parses a scenario file.
func ParseFile(path string) (*Script, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

// Parse parses a scenario. name is used in errors and for relative paths. All errors are
// reported, each an *[Error], joined.
func Parse(name string, src []byte) (*Script, error) {
	s := &Script{File: name, Dir: dirOf(name)}
	var errs []error
	bad := func(line int, format string, args ...any) {
		errs = append(errs, &Error{name, line, fmt.Sprintf(format, args...)})
	}
	for i, raw := range strings.Split(string(src), "\n") {
		n := i + 1
		line := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		words, err := split(line)
		if err != nil {
			bad(n, "%v", err)
			continue
		}
		switch words[0] {
		case "agreement", "keys":
			if len(words) != 2 {
				bad(n, "%s: want one path", words[0])
				continue
			}
			if words[0] == "agreement" {
				if s.Agreement != "" {
					bad(n, "agreement: given twice")
				}
				if len(s.Steps) > 0 {
					bad(n, "agreement: must come before the steps")
				}
				s.Agreement = words[1]
			} else {
				s.Keys = words[1]
			}
			continue
		case "expect":
			if len(words) < 2 {
				bad(n, "expect: want what to expect (incident, no-incident, incidents, overdue-review, …)")
				continue
			}
			st := Step{Line: n, Text: line, Verb: "expect", Args: words[1:]}
			if err := checkExpect(st.Args); err != nil {
				bad(n, "%v", err)
				continue
			}
			s.Steps = append(s.Steps, st)
			continue
		case "at":
		default:
			bad(n, "unknown statement %q (want agreement, keys, at or expect)", words[0])
			continue
		}
		if len(words) < 3 {
			bad(n, "at: want a time and a step (observe, notify, review, ack, hotline, tick)")
			continue
		}
		st := Step{Line: n, Text: line, Verb: words[2]}
		t, rel, err := parseTime(words[1])
		if err != nil {
			bad(n, "%v", err)
			continue
		}
		st.At, st.Rel = t, rel
		rest := words[3:]
		switch st.Verb {
		case "observe", "notify", "review", "ack", "hotline":
			if len(rest) == 0 {
				bad(n, "%s: want the identity that signs it", st.Verb)
				continue
			}
			st.Who, st.Args = rest[0], rest[1:]
		case "tick":
			if len(rest) > 1 {
				bad(n, "tick: want at most an identity")
				continue
			}
			if len(rest) == 1 {
				st.Who = rest[0]
			}
		default:
			bad(n, "unknown step %q (want observe, notify, review, ack, hotline or tick)", st.Verb)
			continue
		}
		if err := checkStep(&st); err != nil {
			bad(n, "%v", err)
			continue
		}
		s.Steps = append(s.Steps, st)
	}
	if s.Agreement == "" {
		errs = append(errs, &Error{name, 1, "no agreement statement"})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

func dirOf(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		return name[:i]
	}
	return "."
}

// split splits a line into words; a double-quoted part may hold spaces and \" or \\.
func split(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	in, has := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case in && c == '\\' && i+1 < len(line) && (line[i+1] == '"' || line[i+1] == '\\'):
			i++
			cur.WriteByte(line[i])
		case c == '"':
			in, has = !in, true
		case !in && (c == ' ' || c == '\t'):
			if cur.Len() > 0 || has {
				words = append(words, cur.String())
				cur.Reset()
				has = false
			}
		default:
			cur.WriteByte(c)
		}
	}
	if in {
		return nil, errors.New("unterminated quote")
	}
	if cur.Len() > 0 || has {
		words = append(words, cur.String())
	}
	return words, nil
}

// parseTime reads RFC 3339 or D±N[+DURATION].
func parseTime(s string) (time.Time, *relTime, error) {
	if rest, ok := strings.CutPrefix(s, "D"); ok {
		if rest == "" {
			return time.Time{}, &relTime{}, nil
		}
		sign := 1
		switch rest[0] {
		case '+':
		case '-':
			sign = -1
		default:
			return time.Time{}, nil, fmt.Errorf("time %q: want D+DAYS[+DURATION] or RFC 3339", s)
		}
		rest = rest[1:]
		days, off, _ := strings.Cut(rest, "+")
		d, err := strconv.Atoi(days)
		if err != nil || d < 0 {
			return time.Time{}, nil, fmt.Errorf("time %q: want D+DAYS[+DURATION] or RFC 3339", s)
		}
		r := &relTime{days: sign * d}
		if off != "" {
			if r.offset, err = time.ParseDuration(off); err != nil || r.offset < 0 {
				return time.Time{}, nil, fmt.Errorf("time %q: bad duration %q (e.g. 8h30m)", s, off)
			}
		}
		return time.Time{}, r, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("time %q: want RFC 3339 (2026-12-05T08:00:00Z) or D+DAYS[+DURATION]", s)
	}
	return t.UTC(), nil, nil
}

// resolve returns the absolute time of t given D-day.
func (r *relTime) resolve(dday time.Time) time.Time {
	return dday.AddDate(0, 0, r.days).Add(r.offset)
}

// kv splits key=value words from bare words.
func kv(args []string) (map[string]string, []string, error) {
	m := map[string]string{}
	var bare []string
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			bare = append(bare, a)
			continue
		}
		if _, dup := m[k]; dup {
			return nil, nil, fmt.Errorf("%s given twice", k)
		}
		m[k] = v
	}
	return m, bare, nil
}

var (
	observeKeys = []string{"id", "category", "count", "party", "claimed", "source", "observed", "reliability", "credibility", "mmsi", "icao", "text"}
	notifyKeys  = []string{"id", "category", "count", "party", "from", "until", "zones", "area"}
	reviewKeys  = []string{"certainty", "note", "reason"}
	expectKeys  = []string{"rule", "touches", "zone", "verdict", "certainty", "party", "category", "count", "version", "merged-into", "reviewed", "for", "against", "explains", "covered-by"}
	withdrawKey = []string{"party", "zone", "rule"}
	ackKeys     = []string{"version", "note"}
	hotlineKeys = []string{"id", "to", "incident", "warning", "text"}
	trackKeys   = []string{"kind", "track", "zone", "incident"}
	warningKeys = []string{"zone", "count", "party", "explains"}
	escKeys     = []string{"party", "incident", "warning", "message", "acknowledged"}
	dutyKeys    = []string{"party", "incident", "warning", "message", "status"}
	partyKeys   = []string{"owed", "acknowledged", "late", "escalated", "pending"}
)

func onlyKeys(verb string, m map[string]string, allowed []string) error {
	for k := range m {
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok {
			return fmt.Errorf("%s: unknown key %q (want %s)", verb, k, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// checkStep checks a step's words as far as can be done without the agreement.
func checkStep(st *Step) error {
	m, bare, err := kv(st.Args)
	if err != nil {
		return fmt.Errorf("%s: %v", st.Verb, err)
	}
	switch st.Verb {
	case "observe":
		if err := onlyKeys("observe", m, observeKeys); err != nil {
			return err
		}
		if _, _, _, err := observeWords(bare, m); err != nil {
			return err
		}
	case "notify":
		if err := onlyKeys("notify", m, notifyKeys); err != nil {
			return err
		}
		if len(bare) > 1 || (len(bare) == 1 && m["category"] != "") {
			return fmt.Errorf("notify: unexpected words %q", bare)
		}
		for _, k := range []string{"from", "until", "count"} {
			if m[k] == "" {
				return fmt.Errorf("notify: want %s=", k)
			}
		}
	case "ack":
		if err := onlyKeys("ack", m, ackKeys); err != nil {
			return err
		}
		if len(bare) != 2 {
			return errors.New("ack: want what is acknowledged: incident N, warning N, message ID or alert IDENTIFIER")
		}
		switch bare[0] {
		case "incident", "warning":
			if _, err := strconv.ParseInt(bare[1], 10, 64); err != nil {
				return fmt.Errorf("ack %s: %q is not a number", bare[0], bare[1])
			}
		case "message", "alert":
			if m["version"] != "" {
				return fmt.Errorf("ack %s: version= is for incidents", bare[0])
			}
		default:
			return fmt.Errorf("ack: unknown subject %q (want incident, warning, message or alert)", bare[0])
		}
		if v := m["version"]; v != "" {
			if _, err := strconv.Atoi(v); err != nil {
				return fmt.Errorf("ack: version %q is not a number", v)
			}
		}
	case "hotline":
		if err := onlyKeys("hotline", m, hotlineKeys); err != nil {
			return err
		}
		if len(bare) > 0 {
			return fmt.Errorf("hotline: unexpected words %q (quote the text: text=\"…\")", bare)
		}
		for _, k := range []string{"incident", "warning"} {
			if v := m[k]; v != "" {
				if _, err := strconv.ParseInt(v, 10, 64); err != nil {
					return fmt.Errorf("hotline: %s %q is not a number", k, v)
				}
			}
		}
	case "review":
		if err := onlyKeys("review", m, reviewKeys); err != nil {
			return err
		}
		if len(bare) < 2 {
			return errors.New("review: want an action (confirm, dismiss, merge, split) and an incident")
		}
		switch bare[0] {
		case "confirm", "dismiss":
			if len(bare) != 2 {
				return fmt.Errorf("review %s: want one incident", bare[0])
			}
		case "merge", "split":
			if len(bare) < 3 {
				return fmt.Errorf("review %s: want an incident and more", bare[0])
			}
		default:
			return fmt.Errorf("review: unknown action %q (want confirm, dismiss, merge or split)", bare[0])
		}
		n := bare[1:]
		if bare[0] == "split" {
			n = bare[1:2]
		}
		for _, x := range n {
			if _, err := strconv.ParseInt(x, 10, 64); err != nil {
				return fmt.Errorf("review %s: incident %q is not a number", bare[0], x)
			}
		}
	}
	return nil
}

func checkExpect(args []string) error {
	m, bare, err := kv(args[1:])
	if err != nil {
		return fmt.Errorf("expect: %v", err)
	}
	num := func(s string) error {
		if _, err := strconv.Atoi(s); err != nil {
			return fmt.Errorf("expect %s: %q is not a number", args[0], s)
		}
		return nil
	}
	switch args[0] {
	case "incident", "incidents":
		if len(bare) != 1 {
			return fmt.Errorf("expect %s: want one number", args[0])
		}
		if err := num(bare[0]); err != nil {
			return err
		}
		return onlyKeys("expect "+args[0], m, expectKeys)
	case "no-incident":
		if len(bare) != 0 {
			return fmt.Errorf("expect no-incident: unexpected words %q", bare)
		}
		return onlyKeys("expect no-incident", m, expectKeys)
	case "overdue-review":
		if len(bare) != 1 || len(m) != 0 {
			return errors.New("expect overdue-review: want one incident number")
		}
		return num(bare[0])
	case "no-overdue-review":
		if len(bare) > 1 || len(m) != 0 {
			return errors.New("expect no-overdue-review: want at most one incident number")
		}
		if len(bare) == 1 {
			return num(bare[0])
		}
	case "overdue-withdrawal", "no-overdue-withdrawal":
		if len(bare) != 0 {
			return fmt.Errorf("expect %s: unexpected words %q", args[0], bare)
		}
		return onlyKeys("expect "+args[0], m, withdrawKey)
	case "ignored":
		if len(bare) != 1 || len(m) != 0 {
			return errors.New("expect ignored: want a count")
		}
		return num(bare[0])
	case "track-events", "warnings", "escalations":
		if len(bare) != 1 {
			return fmt.Errorf("expect %s: want a count", args[0])
		}
		if err := num(bare[0]); err != nil {
			return err
		}
		return onlyKeys("expect "+args[0], m, map[string][]string{"track-events": trackKeys, "warnings": warningKeys, "escalations": escKeys}[args[0]])
	case "track-event", "no-track-event":
		if len(bare) > 1 {
			return fmt.Errorf("expect %s: want at most a kind (enter, leave, dwell, dark)", args[0])
		}
		for _, k := range append(bare, m["kind"]) {
			if _, err := engine.ParseTrackEventKind(k); k != "" && err != nil {
				return fmt.Errorf("expect %s: %v", args[0], err)
			}
		}
		return onlyKeys("expect "+args[0], m, trackKeys)
	case "warning":
		if len(bare) != 1 {
			return errors.New("expect warning: want one number")
		}
		if err := num(bare[0]); err != nil {
			return err
		}
		return onlyKeys("expect warning", m, warningKeys)
	case "no-warning":
		if len(bare) != 0 {
			return fmt.Errorf("expect no-warning: unexpected words %q", bare)
		}
		return onlyKeys("expect no-warning", m, warningKeys)
	case "escalation", "no-escalation":
		if len(bare) != 0 {
			return fmt.Errorf("expect %s: unexpected words %q", args[0], bare)
		}
		return onlyKeys("expect "+args[0], m, escKeys)
	case "ack":
		if len(bare) != 0 {
			return fmt.Errorf("expect ack: unexpected words %q", bare)
		}
		if m["party"] == "" || m["status"] == "" {
			return errors.New("expect ack: want party= and status=")
		}
		return onlyKeys("expect ack", m, dutyKeys)
	case "party":
		if len(bare) != 1 {
			return errors.New("expect party: want a party id")
		}
		return onlyKeys("expect party", m, partyKeys)
	default:
		return fmt.Errorf("expect: unknown expectation %q (want incident, no-incident, incidents, overdue-review, no-overdue-review, overdue-withdrawal, no-overdue-withdrawal, ignored, track-event, no-track-event, track-events, warning, no-warning, warnings, escalation, no-escalation, escalations, ack or party)", args[0])
	}
	return nil
}

// parsePos reads LON,LAT[,ALT_M].
func parsePos(s string) ([]float64, error) {
	parts := strings.Split(s, ",")
	if len(parts) < 2 || len(parts) > 3 {
		return nil, fmt.Errorf("position %q: want LON,LAT[,ALT_M]", s)
	}
	out := make([]float64, len(parts))
	for i, p := range parts {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return nil, fmt.Errorf("position %q: %q is not a number", s, p)
		}
		out[i] = f
	}
	return out, nil
}

// observeWords reads the bare words of an observe step: [CATEGORY] [absent] at LON,LAT[,ALT].
func observeWords(bare []string, m map[string]string) (category string, absent bool, pos []float64, err error) {
	category = m["category"]
	n := len(bare)
	if n < 2 || bare[n-2] != "at" {
		return "", false, nil, errors.New("observe: want the position last, as at LON,LAT[,ALT_M]")
	}
	if pos, err = parsePos(bare[n-1]); err != nil {
		return "", false, nil, fmt.Errorf("observe: %v", err)
	}
	for _, b := range bare[:n-2] {
		switch {
		case b == "absent" && !absent:
			absent = true
		case category == "" && b != "absent" && b != "at":
			category = b
		default:
			return "", false, nil, fmt.Errorf("observe: unexpected word %q", b)
		}
	}
	return category, absent, pos, nil
}
