package scenario

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/alert"
	"github.com/truce-mission/truce/alert/outbox"
	"github.com/truce-mission/truce/engine"
)

// capWriter turns the engine's changes into CAP 1.2 alerts written as DIR/<identifier>.xml.
type capWriter struct {
	dir   string
	name  string // the script's base name: the finding ids of different scripts differ
	a     *agreement.Agreement
	eng   *engine.Engine // its finding prefix is name
	prev  map[int64][]alert.Reference
	other map[string][]alert.Reference // warnings' and escalations' alerts, by finding id
	files []string
}

// finding maps an incident, as it is after change c at log time sent, to an alert finding
// with the engine's names (id name.incident-N, as acknowledgements quote it), addressed to
// the parties that owe its acknowledgement: the mapping the server's outbox uses.
func finding(eng *engine.Engine, c engine.Change, inc engine.Incident, sent time.Time) alert.Finding {
	return outbox.Finding(eng.Sender(), eng.IncidentFinding(inc.ID), eng.Addressees(inc), c, inc, sent)
}

func (w *capWriter) write(c engine.Change, inc engine.Incident, sent time.Time) error {
	if c.Kind == engine.ChangeWarning || c.Kind == engine.ChangeEscalated {
		return w.writeOther(c, sent)
	}
	ref, err := w.writeAlert(finding(w.eng, c, inc, sent), w.prev[inc.ID])
	if err != nil {
		return fmt.Errorf("alert for incident %d version %d: %w", inc.ID, c.Version, err)
	}
	w.prev[inc.ID] = append(w.prev[inc.ID], ref)
	return nil
}

// writeAlert writes the alert of finding f (referencing prev) as DIR/<identifier>.xml.
func (w *capWriter) writeAlert(f alert.Finding, prev []alert.Reference) (alert.Reference, error) {
	al, err := alert.FromFinding(f, prev)
	if err != nil {
		return alert.Reference{}, err
	}
	b, err := al.XML()
	if err != nil {
		return alert.Reference{}, err
	}
	name := filepath.Join(w.dir, al.Identifier+".xml")
	if err := os.WriteFile(name, b, 0o644); err != nil {
		return alert.Reference{}, err
	}
	w.files = append(w.files, name)
	return al.Ref(), nil
}
