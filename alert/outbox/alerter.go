package outbox

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/alert"
	"github.com/truce-mission/truce/engine"
)

// MaxAlertEvidence bounds the evidence an incident's alert lists (description lines and the
// truce:evidence parameter): the latest pieces by ledger index. An alert is a message, sent at
// every change of its finding; an incident that gathers hundreds of reports would otherwise
// send them all again with each, O(n) per alert. GET /v1/incidents/{id} lists them all.
const MaxAlertEvidence = 20

// withheldEvidence is the line an alert's description puts before its evidence lines when
// they are only the latest of an incident's evidence.
func withheldEvidence(inc engine.Incident, left int) string {
	return fmt.Sprintf("%d earlier pieces of evidence are not listed here; incident %d (GET /v1/incidents/%d) lists all %d.",
		left, inc.ID, inc.ID, left+len(inc.Evidence))
}

// ErrNoAlert is a change of a kind that makes no alert.
var ErrNoAlert = errors.New("no alert for this kind of change")

// Alerter makes the CAP alert of each change of one engine, in the order the engine made
// them: it remembers each finding's earlier alerts, which updates, cancels and escalations
// cite. The outbox and the scenario runner (truce scenario run --cap-out) share it, so both
// make the same alerts from the same log.
type Alerter struct {
	eng       *engine.Engine
	mediators []string                     // the parties escalations are addressed to
	prev      map[string][]alert.Reference // earlier alerts per finding id
}

// NewAlerter returns the alerter of eng, which runs agreement a.
func NewAlerter(a *agreement.Agreement, eng *engine.Engine) *Alerter {
	return &Alerter{eng: eng, mediators: Mediators(a), prev: map[string][]alert.Reference{}}
}

// Alert makes the alert of change c, which the engine has just made (the incident or warning
// is read as it is now), and the finding it was made from. A change of a kind that makes no
// alert gives ErrNoAlert.
func (m *Alerter) Alert(c engine.Change) (*alert.Alert, alert.Finding, error) {
	var (
		f    alert.Finding
		refs []alert.Reference
		eng  = m.eng
	)
	switch c.Kind {
	case engine.ChangeCreated, engine.ChangeUpdated, engine.ChangeCancelled:
		inc, total, ok := eng.IncidentLatest(c.Incident, MaxAlertEvidence)
		if !ok {
			return nil, f, fmt.Errorf("no incident %d", c.Incident)
		}
		f = Finding(eng.Sender(), eng.IncidentFinding(inc.ID), eng.Addressees(inc), c, inc, eng.Now())
		if left := total - len(inc.Evidence); left > 0 {
			// Before the evidence lines, which end the explanation.
			lines := inc.Explanation
			cut := len(lines) - len(inc.Evidence)
			f.Description = strings.Join(slices.Concat(lines[:cut], []string{withheldEvidence(inc, left)}, lines[cut:]), "\n")
		}
		refs = chain(m.prev[f.ID])
	case engine.ChangeWarning:
		w, ok := eng.Warning(c.Warning)
		if !ok {
			return nil, f, fmt.Errorf("no warning %d", c.Warning)
		}
		f = WarningFinding(eng.Sender(), eng.WarningFinding(w.ID), w, eng.Now())
		refs = chain(m.prev[f.ID])
	case engine.ChangeEscalated:
		var fid, what string
		switch {
		case c.Incident != 0:
			fid, what = eng.IncidentFinding(c.Incident), fmt.Sprintf("alert %s on incident %d (version %d)", c.Alert, c.Incident, c.Version)
		case c.Warning != 0:
			fid, what = eng.WarningFinding(c.Warning), fmt.Sprintf("alert %s on unusual-activity warning %d", c.Alert, c.Warning)
		default:
			// The engine's finding prefix, if any, keeps message ids of several logs apart.
			prefix := strings.TrimSuffix(eng.IncidentFinding(0), "incident-0")
			fid, what = prefix+"message-"+c.Message, fmt.Sprintf("hotline message %q", c.Message)
		}
		id := EscalationID(fid, c.Party)
		version := len(m.prev[id]) + 1
		if len(m.prev[fid]) > 0 {
			version++
		}
		f = EscalationFinding(eng.Sender(), id, fid, version, c.Party, what, m.mediators, c.Index, eng.Now())
		refs = append(slices.Clone(chain(m.prev[fid])), chain(m.prev[id])...)
	default:
		return nil, f, ErrNoAlert
	}
	al, err := alert.FromFinding(f, refs)
	if err != nil {
		return nil, f, err
	}
	m.prev[f.ID] = append(m.prev[f.ID], al.Ref())
	return al, f, nil
}

// chain is what an alert cites of a finding's earlier alerts: the first, under which
// recipients file the finding, and the latest, which the new one supersedes (it cited its own
// predecessor, and so on back). Citing every earlier version would make the alerts of an
// incident that gathers hundreds of reports grow with each one, quadratically in all.
func chain(prev []alert.Reference) []alert.Reference {
	if len(prev) <= 2 {
		return prev
	}
	return []alert.Reference{prev[0], prev[len(prev)-1]}
}
