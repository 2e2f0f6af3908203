package scenario

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/alert"
	"github.com/truce-mission/truce/engine"
)

// capAreaRadiusM is the radius of the circle a CAP alert gives around an incident's first
// observation: the engine's fusion distance, the spread of one event.
const capAreaRadiusM = engine.DefaultFuseDistanceM

// capWriter turns the engine's changes into CAP 1.2 alerts written as DIR/<identifier>.xml.
type capWriter struct {
	dir   string
	name  string // the script's base name: the finding ids of different scripts differ
	a     *agreement.Agreement
	prev  map[int64][]alert.Reference
	files []string
}

// finding maps an incident, as it is after change c at log time sent, to an alert finding
// whose id is prefix.incident-N.
func finding(a *agreement.Agreement, prefix string, c engine.Change, inc engine.Incident, sent time.Time) alert.Finding {
	f := alert.Finding{
		ID: fmt.Sprintf("%s.incident-%d", prefix, inc.ID), Version: c.Version, Cancelled: c.Kind == engine.ChangeCancelled,
		Sent: sent, Sender: "truce@" + a.ID,
		Urgency: "Immediate", Severity: "Severe", Certainty: capCertainty(inc.Certainty),
		Description: strings.Join(inc.Explanation, "\n"),
		Instruction: "Acknowledge this alert; explain or remedy the activity.",
		Area: alert.Area{
			Desc:    fmt.Sprintf("within %.0f m of %.5f,%.5f (lon,lat)", capAreaRadiusM, inc.Position[0], inc.Position[1]),
			Circles: []alert.Circle{{Center: alert.Point{Lon: inc.Position[0], Lat: inc.Position[1]}, RadiusM: capAreaRadiusM}},
		},
	}
	for _, p := range a.Parties {
		if p.Kind == agreement.PartyKindParty {
			f.Parties = append(f.Parties, p.ID)
		}
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
	for _, e := range inc.Evidence {
		if e.Counted != engine.CountedNone {
			f.Evidence = append(f.Evidence, e.Index)
		}
	}
	return f
}

func capCertainty(c agreement.Certainty) string {
	s := c.String()
	return strings.ToUpper(s[:1]) + s[1:]
}

func (w *capWriter) write(c engine.Change, inc engine.Incident, sent time.Time) error {
	al, err := alert.FromFinding(finding(w.a, w.name, c, inc, sent), w.prev[inc.ID])
	if err != nil {
		return fmt.Errorf("alert for incident %d version %d: %w", inc.ID, c.Version, err)
	}
	b, err := al.XML()
	if err != nil {
		return err
	}
	name := filepath.Join(w.dir, al.Identifier+".xml")
	if err := os.WriteFile(name, b, 0o644); err != nil {
		return err
	}
	w.prev[inc.ID] = append(w.prev[inc.ID], al.Ref())
	w.files = append(w.files, name)
	return nil
}
