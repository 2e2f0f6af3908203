package scenario

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/alert"
	"github.com/truce-mission/truce/engine"
)

// warningFinding maps an unusual-activity warning to its alert finding, addressed to the
// parties that owe its acknowledgement.
func warningFinding(eng *engine.Engine, wn engine.Warning, sent time.Time) alert.Finding {
	return alert.Finding{
		ID: eng.WarningFinding(wn.ID), Version: 1, Sent: sent, Sender: eng.Sender(), Parties: wn.Parties,
		Event: "Unusual activity", ZoneID: wn.Zone,
		Urgency: "Expected", Severity: "Moderate", Certainty: "Possible",
		Headline:    fmt.Sprintf("Unusual activity: %d military observations in zone %s", wn.Count, wn.Zone),
		Description: strings.Join(wn.Explanation, "\n"),
		Instruction: "Acknowledge this alert; explain the activity on the hotline.",
		Evidence:    wn.Evidence,
	}
}

// mediators are the parties an escalation goes to: the guarantors, else the mission.
func mediators(a *agreement.Agreement) []string {
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

// escalation maps an escalation to an alert for the mediators. For an alert not
// acknowledged, it is an Update that references the finding's alerts: its id is the
// finding's, ".escalation-" and the party, and its versions start at 2, version 1 standing
// for the missed alert. For a hotline message it is a new alert.
func (w *capWriter) escalation(c engine.Change, sent time.Time) (alert.Finding, []alert.Reference) {
	var fid, what string
	var prev []alert.Reference
	switch {
	case c.Incident != 0:
		fid, what = w.eng.IncidentFinding(c.Incident), fmt.Sprintf("alert %s on incident %d (version %d)", c.Alert, c.Incident, c.Version)
		prev = w.prev[c.Incident]
	case c.Warning != 0:
		fid, what = w.eng.WarningFinding(c.Warning), fmt.Sprintf("alert %s on unusual-activity warning %d", c.Alert, c.Warning)
		prev = w.other[fid]
	default:
		fid, what = w.name+".message-"+c.Message, fmt.Sprintf("hotline message %q", c.Message)
	}
	id := fid + ".escalation-" + c.Party
	f := alert.Finding{
		ID: id, Version: len(w.other[id]) + 1, Sent: sent, Sender: w.eng.Sender(), Parties: mediators(w.a),
		Event: "Acknowledgement missed", Urgency: "Expected", Severity: "Moderate", Certainty: "Observed",
		Headline:    fmt.Sprintf("Acknowledgement missed: %s did not acknowledge %s", c.Party, what),
		Description: fmt.Sprintf("The %s was not acknowledged by %s by its deadline; recorded against %s at %s (entry #%d).", what, c.Party, c.Party, sent.UTC().Format(time.RFC3339), c.Index),
		Instruction: "Take up the missed acknowledgement with the party.",
	}
	if len(prev) > 0 {
		f.Version++
	}
	return f, append(slices.Clone(prev), w.other[id]...)
}

// writeOther writes the alert of a warning or an escalation.
func (w *capWriter) writeOther(c engine.Change, sent time.Time) error {
	var f alert.Finding
	var prev []alert.Reference
	if c.Kind == engine.ChangeWarning {
		wn, _ := w.eng.Warning(c.Warning)
		f = warningFinding(w.eng, wn, sent)
	} else {
		f, prev = w.escalation(c, sent)
	}
	al, err := alert.FromFinding(f, prev)
	if err != nil {
		return fmt.Errorf("alert %s version %d: %w", f.ID, f.Version, err)
	}
	b, err := al.XML()
	if err != nil {
		return err
	}
	name := filepath.Join(w.dir, al.Identifier+".xml")
	if err := os.WriteFile(name, b, 0o644); err != nil {
		return err
	}
	w.other[f.ID] = append(w.other[f.ID], al.Ref())
	w.files = append(w.files, name)
	return nil
}
