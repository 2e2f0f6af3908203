package outbox

import (
	"fmt"
	"strings"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/alert"
	"github.com/truce-mission/truce/engine"
)

// AreaRadiusM is the radius of the circle an alert gives around an incident's first
// observation: the engine's fusion distance, the spread of one event.
const AreaRadiusM = engine.DefaultFuseDistanceM

// Finding maps an incident, as it is after change c at log time sent, to the alert finding
// with id findingID from sender, addressed to parties (scope Restricted; the agreement format
// has no setting for public alerts yet). The outbox passes the engine's names:
// e.IncidentFinding(inc.ID) and e.Sender(), which acknowledgements must quote, and
// e.Addressees(inc). The mapping is a pure function of its arguments, so a replay of the log
// gives the same findings, hence byte-identical alerts.
func Finding(sender, findingID string, parties []string, c engine.Change, inc engine.Incident, sent time.Time) alert.Finding {
	f := alert.Finding{
		ID: findingID, Version: c.Version, Cancelled: c.Kind == engine.ChangeCancelled,
		Sent: sent, Sender: sender, Parties: parties,
		Urgency: "Immediate", Severity: "Severe", Certainty: capCertainty(inc.Certainty),
		Description: strings.Join(inc.Explanation, "\n"),
		Instruction: "Acknowledge this alert; explain or remedy the activity.",
		Area:        incidentArea(inc),
	}
	for _, r := range inc.Rules {
		if r.Breached {
			f.RuleID, f.ZoneID = r.Rule, r.Zone+r.Line
			f.Event = "Infraction: " + r.Class
			break
		}
	}
	if f.Event == "" {
		f.Event = "Infraction withdrawn"
	}
	who := inc.Category
	if inc.Party != "" {
		who += " of " + inc.Party
	}
	f.Headline = fmt.Sprintf("%s: %s (%s)", f.Event, who, inc.Verdict)
	if f.Cancelled {
		f.Headline = fmt.Sprintf("Withdrawn: incident %d is now %s", inc.ID, inc.Verdict)
	}
	for _, ev := range inc.Evidence {
		if ev.Counted != engine.CountedNone {
			f.Evidence = append(f.Evidence, ev.Index)
		}
	}
	return f
}

func capCertainty(c agreement.Certainty) string {
	s := c.String()
	if s == "" {
		return "Unknown"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// WarningFinding maps an unusual-activity warning to the alert finding with id findingID
// (normally e.WarningFinding(w.ID), the id acknowledgements quote), version 1, sent at log
// time sent, addressed to the warning's parties (those that owe its acknowledgement): no rule
// is broken yet, so the certainty is Possible and the urgency Expected.
func WarningFinding(sender, findingID string, w engine.Warning, sent time.Time) alert.Finding {
	return alert.Finding{
		ID: findingID, Version: 1, Sent: sent, Sender: sender, Parties: w.Parties,
		Event: "Unusual activity", ZoneID: w.Zone,
		Urgency: "Expected", Severity: "Moderate", Certainty: "Possible",
		Headline:    fmt.Sprintf("Unusual activity: %d military observations in zone %s", w.Count, w.Zone),
		Description: strings.Join(w.Explanation, "\n"),
		Instruction: "Acknowledge this alert; explain the activity on the hotline.",
		Evidence:    w.Evidence,
	}
}

// Mediators are the parties an escalation is addressed to: the agreement's guarantors, else
// the mission.
func Mediators(a *agreement.Agreement) []string {
	var out []string
	for _, k := range []agreement.PartyKind{agreement.PartyKindGuarantor, agreement.PartyKindMission} {
		for _, p := range a.Parties {
			if p.Kind == k {
				out = append(out, p.ID)
			}
		}
		if len(out) > 0 {
			break
		}
	}
	return out
}

// EscalationID is the finding id of the escalations of one party on one finding (findingID:
// the incident's or the warning's, or "message-<id>" for a hotline message).
func EscalationID(findingID, party string) string { return findingID + ".escalation-" + party }

// EscalationFinding maps an escalation (party let an acknowledgement deadline pass on what,
// described in words, whose finding id is about) to an alert for the mediators, with finding id
// id and version version:
// for a missed alert, the escalation is an Update of the finding (its versions start at 2,
// version 1 standing for the missed alert) and the caller passes the finding's alerts as
// references; for a hotline message it starts at 1.
func EscalationFinding(sender, id, about string, version int, party, what string, mediators []string, index int64, sent time.Time) alert.Finding {
	return alert.Finding{
		ID: id, About: about, Version: version, Sent: sent, Sender: sender, Parties: mediators,
		Event: "Acknowledgement missed", Urgency: "Expected", Severity: "Moderate", Certainty: "Observed",
		Headline: fmt.Sprintf("Acknowledgement missed: %s did not acknowledge %s", party, what),
		Description: fmt.Sprintf("The %s was not acknowledged by %s by its deadline; recorded against %s at %s (entry #%d).",
			what, party, party, sent.UTC().Format(time.RFC3339), index),
		Instruction: "Take up the missed acknowledgement with the party.",
	}
}

// incidentArea is the circle an alert gives around an incident's first observation.
func incidentArea(inc engine.Incident) alert.Area {
	return alert.Area{
		Desc:    fmt.Sprintf("within %.0f m of %.5f,%.5f (lon,lat)", AreaRadiusM, inc.Position[0], inc.Position[1]),
		Circles: []alert.Circle{{Center: alert.Point{Lon: inc.Position[0], Lat: inc.Position[1]}, RadiusM: AreaRadiusM}},
	}
}
