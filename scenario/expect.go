package scenario

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/truce-mission/truce/engine"
)

// ack builds the payload of an ack step: incident N [version=V] (default: the incident's
// latest version), warning N, message ID or alert IDENTIFIER.
func (r *runner) ack(bare []string, m map[string]string) (engine.AckPayload, error) {
	p := engine.AckPayload{Note: m["note"]}
	switch bare[0] {
	case "incident":
		id, _ := strconv.ParseInt(bare[1], 10, 64)
		inc, ok := r.eng.Incident(id)
		if !ok {
			return p, fmt.Errorf("ack: no incident %d so far", id)
		}
		v := inc.Version
		if s := m["version"]; s != "" {
			v, _ = strconv.Atoi(s)
		}
		if v < 1 {
			return p, fmt.Errorf("ack: incident %d has had no alert", id)
		}
		p.Alert = r.eng.AlertID(r.eng.IncidentFinding(id), v)
	case "warning":
		id, _ := strconv.ParseInt(bare[1], 10, 64)
		if _, ok := r.eng.Warning(id); !ok {
			return p, fmt.Errorf("ack: no warning %d so far", id)
		}
		p.Alert = r.eng.AlertID(r.eng.WarningFinding(id), 1)
	case "message":
		p.Message = bare[1]
	case "alert":
		p.Alert = bare[1]
	}
	return p, nil
}

// checkMore checks the expectations on tracks, warnings and acknowledgements.
func checkMore(s *engine.State, what string, m map[string]string, bare []string) string {
	count := func() int { n, _ := strconv.Atoi(bare[0]); return n }
	switch what {
	case "track-event", "no-track-event", "track-events":
		if len(bare) == 1 && what != "track-events" {
			m["kind"] = bare[0]
		}
		var hit []string
		for _, te := range s.TrackEvents {
			if (m["kind"] == "" || m["kind"] == te.Kind.String()) && (m["track"] == "" || m["track"] == te.Track) &&
				(m["zone"] == "" || m["zone"] == te.Zone) && (m["incident"] == "" || m["incident"] == strconv.FormatInt(te.Incident, 10)) {
				hit = append(hit, fmt.Sprintf("#%d %s %s %s", te.Index, te.Kind, te.Track, te.Zone))
			}
		}
		switch {
		case what == "track-event" && len(hit) == 0:
			return fmt.Sprintf("no track event matches; events: %s", trackEvents(s))
		case what == "no-track-event" && len(hit) > 0:
			return "track events match: " + strings.Join(hit, "; ")
		case what == "track-events" && len(hit) != count():
			return fmt.Sprintf("%d track events match, want %d: %s", len(hit), count(), strings.Join(hit, "; "))
		}
	case "warning", "no-warning", "warnings":
		var hit []string
		var why string
		for i := range s.Warnings {
			w := &s.Warnings[i]
			if what == "warning" && strconv.FormatInt(w.ID, 10) != bare[0] {
				continue
			}
			if why = warningMatches(w, m); why == "" {
				hit = append(hit, fmt.Sprintf("%d (zone %s, %d observations)", w.ID, w.Zone, w.Count))
			}
		}
		switch {
		case what == "warning" && len(hit) == 0 && why != "":
			return why
		case what == "warning" && len(hit) == 0:
			return fmt.Sprintf("no warning %s (%d warnings)", bare[0], len(s.Warnings))
		case what == "no-warning" && len(hit) > 0:
			return "warnings match: " + strings.Join(hit, ", ")
		case what == "warnings" && len(hit) != count():
			return fmt.Sprintf("%d warnings match, want %d: %s", len(hit), count(), strings.Join(hit, ", "))
		}
	case "escalation", "no-escalation", "escalations":
		var hit []string
		for _, x := range s.Escalations {
			acked := "no"
			if !x.Acknowledged.IsZero() {
				acked = "yes"
			}
			if (m["party"] == "" || m["party"] == x.Party) && (m["incident"] == "" || m["incident"] == strconv.FormatInt(x.Incident, 10)) &&
				(m["warning"] == "" || m["warning"] == strconv.FormatInt(x.Warning, 10)) && (m["message"] == "" || m["message"] == x.Message) &&
				(m["acknowledged"] == "" || m["acknowledged"] == acked) {
				hit = append(hit, x.Explanation)
			}
		}
		switch {
		case what == "escalation" && len(hit) == 0:
			return fmt.Sprintf("no escalation matches at %s (%d escalations)", s.Time.Format(time.RFC3339), len(s.Escalations))
		case what == "no-escalation" && len(hit) > 0:
			return "escalated: " + strings.Join(hit, "; ")
		case what == "escalations" && len(hit) != count():
			return fmt.Sprintf("%d escalations match, want %d: %s", len(hit), count(), strings.Join(hit, "; "))
		}
	case "ack":
		var got []string
		for _, d := range s.Acknowledgements {
			if d.Party == m["party"] && (m["incident"] == "" || m["incident"] == strconv.FormatInt(d.Incident, 10)) &&
				(m["warning"] == "" || m["warning"] == strconv.FormatInt(d.Warning, 10)) && (m["message"] == "" || m["message"] == d.Message) {
				if d.Status.String() == m["status"] {
					return ""
				}
				got = append(got, fmt.Sprintf("%s: %s", d.Subject, d.Status))
			}
		}
		return fmt.Sprintf("no duty of %s to acknowledge is %s (got %s)", m["party"], m["status"], listOr(got))
	case "party":
		for _, p := range s.Parties {
			if p.Party != bare[0] {
				continue
			}
			vals := map[string]int{"owed": p.Owed, "acknowledged": p.Acknowledged, "late": p.Late, "escalated": p.Escalated, "pending": p.Pending}
			for _, k := range partyKeys {
				if want, ok := m[k]; ok && want != strconv.Itoa(vals[k]) {
					return fmt.Sprintf("party %s: %s=%s, got %d (%+v)", p.Party, k, want, vals[k], p)
				}
			}
			return ""
		}
		return fmt.Sprintf("no record of party %q", bare[0])
	}
	return ""
}

func warningMatches(w *engine.Warning, m map[string]string) string {
	for _, k := range warningKeys {
		want, ok := m[k]
		if !ok {
			continue
		}
		var good bool
		var got string
		switch k {
		case "zone":
			got, good = w.Zone, w.Zone == want
		case "count":
			got = strconv.Itoa(w.Count)
			good = got == want
		case "party":
			got = strings.Join(w.Parties, ",")
			for _, p := range w.Parties {
				good = good || p == want
			}
		case "explains":
			got = "explanation:\n\t" + strings.Join(w.Explanation, "\n\t")
			good = strings.Contains(strings.Join(w.Explanation, "\n"), want)
		}
		if !good {
			return fmt.Sprintf("warning %d: %s=%s, got %s", w.ID, k, want, got)
		}
	}
	return ""
}

func trackEvents(s *engine.State) string {
	var out []string
	for _, te := range s.TrackEvents {
		out = append(out, fmt.Sprintf("#%d %s %s %s", te.Index, te.Kind, te.Track, te.Zone))
	}
	return listOr(out)
}
