package scenario

import (
	"fmt"
	"slices"
	"time"

	"github.com/truce-mission/truce/alert"
	"github.com/truce-mission/truce/alert/outbox"
	"github.com/truce-mission/truce/engine"
)

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
	id := outbox.EscalationID(fid, c.Party)
	version := len(w.other[id]) + 1
	if len(prev) > 0 {
		version++
	}
	f := outbox.EscalationFinding(w.eng.Sender(), id, version, c.Party, what, outbox.Mediators(w.a), c.Index, sent)
	return f, append(slices.Clone(prev), w.other[id]...)
}

// writeOther writes the alert of a warning or an escalation.
func (w *capWriter) writeOther(c engine.Change, sent time.Time) error {
	var f alert.Finding
	var prev []alert.Reference
	if c.Kind == engine.ChangeWarning {
		wn, _ := w.eng.Warning(c.Warning)
		f = outbox.WarningFinding(w.eng.Sender(), w.eng.WarningFinding(wn.ID), wn, sent)
	} else {
		f, prev = w.escalation(c, sent)
	}
	ref, err := w.writeAlert(f, prev)
	if err != nil {
		return fmt.Errorf("alert %s version %d: %w", f.ID, f.Version, err)
	}
	w.other[f.ID] = append(w.other[f.ID], ref)
	return nil
}
