package outbox_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/alert"
	"github.com/truce-mission/truce/alert/outbox"
	"github.com/truce-mission/truce/engine"
	"github.com/truce-mission/truce/keys"
	"github.com/truce-mission/truce/ledger"
)

// Positions on the line of contact of examples/line-of-contact.yaml, hence in its DMZ, far
// enough apart not to fuse.
var (
	dmzA = [2]float64{36.40572, 47.01571}
	dmzB = [2]float64{33.4, 46.62}
)

type world struct {
	t    *testing.T
	a    *agreement.Agreement
	keys map[string]ed25519.PrivateKey
	at   time.Time
}

func newWorld(t *testing.T) *world {
	t.Helper()
	a, err := agreement.LoadFile("../../examples/line-of-contact.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, a: a, keys: map[string]ed25519.PrivateKey{}, at: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}
	for _, id := range []string{"monitor-1", "uav-gs-1", "east-liaison", "west-liaison", "analyst-1", "public-reader", "guarantor-a-rep"} {
		k, err := keys.LoadPrivateKey("../../examples/keys/" + id + ".key")
		if err != nil {
			t.Fatal(err)
		}
		w.keys[id] = k
	}
	return w
}

// obs returns the leaf of an observation entry of category cat at p attributed to party.
func (w *world) obs(submitter, id, cat, party string, p [2]float64) []byte {
	w.t.Helper()
	src := "ground-monitor"
	if submitter == "uav-gs-1" {
		src = "uav"
	}
	payload := fmt.Sprintf(`{"assessed_party":%q,"category":%q,"count":2,"credibility":2,"id":%q,"observed":"2026-12-05T08:00:00Z","position":{"lat":%v,"lon":%v},"reliability":"B","source":%q}`,
		party, cat, id, p[1], p[0], src)
	return w.entry(ledger.KindObservation, submitter, payload)
}

func (w *world) entry(k ledger.Kind, submitter, payload string) []byte {
	w.t.Helper()
	canon, err := ledger.Canonicalize([]byte(payload))
	if err != nil {
		w.t.Fatal(err)
	}
	e, err := ledger.NewEntry(k, submitter, w.at, canon)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := ledger.Sign(e, w.keys[submitter]); err != nil {
		w.t.Fatal(err)
	}
	w.at = w.at.Add(time.Second)
	r, err := e.Receive(w.at)
	if err != nil {
		w.t.Fatal(err)
	}
	return r.Leaf()
}

func (w *world) identity(id string) *agreement.Identity {
	i, ok := w.a.Identity(id)
	if !ok {
		w.t.Fatalf("no identity %q", id)
	}
	return i
}

// script is a small log: an east tank in the DMZ (alert 1, to east), a west tank elsewhere
// in the DMZ (alert 2, to west), and a drone's sighting of the east tank (alert 3, an Update
// of alert 1).
func (w *world) script() [][]byte {
	return [][]byte{
		w.obs("monitor-1", "o1", "tank", "east", dmzA),
		w.obs("monitor-1", "o2", "tank", "west", dmzB),
		w.obs("uav-gs-1", "o3", "tank", "east", [2]float64{dmzA[0] + 0.001, dmzA[1]}),
	}
}

// capOf decodes an event's alert, and checks that the decoded tree encodes to the same JSON.
func capOf(t *testing.T, ev *outbox.Event) *alert.Alert {
	t.Helper()
	a, err := ev.CAP()
	if err != nil {
		t.Fatal(err)
	}
	if js, err := a.JSON(); err != nil || !bytes.Equal(js, ev.JSON) {
		t.Fatalf("alert %s: decoded and encoded again gives %s (%v), want %s", ev.Identifier, js, err, ev.JSON)
	}
	return a
}

func newOutbox(t *testing.T, a *agreement.Agreement) *outbox.Outbox {
	t.Helper()
	ob, err := outbox.New(a, outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return ob
}

// An incident that keeps gathering reports gets an Update per report; each cites the first
// alert and the one it supersedes, not every earlier version.
func TestUpdatesCiteTheFirstAndTheLatest(t *testing.T) {
	w := newWorld(t)
	var leaves [][]byte
	for i := range 6 {
		src := []string{"monitor-1", "uav-gs-1"}[i%2]
		leaves = append(leaves, w.obs(src, fmt.Sprintf("r%d", i), "tank", "east", [2]float64{dmzA[0] + 0.0001*float64(i), dmzA[1]}))
	}
	ob := newOutbox(t, w.a)
	if err := ob.Apply(0, leaves); err != nil {
		t.Fatal(err)
	}
	evs := ob.Events(0, 100)
	if len(evs) < 4 {
		t.Fatalf("%d events, want an alert and at least three updates of one incident", len(evs))
	}
	for i, ev := range evs {
		refs, err := alert.ParseReferences(capOf(t, ev).References)
		if err != nil || ev.Incident != 1 {
			t.Fatalf("event %d: incident %d, references %q: %v", i, ev.Incident, capOf(t, ev).References, err)
		}
		var want []string
		switch {
		case i == 0:
		case i == 1:
			want = []string{evs[0].Identifier}
		default:
			want = []string{evs[0].Identifier, evs[i-1].Identifier}
		}
		var got []string
		for _, r := range refs {
			got = append(got, r.Identifier)
		}
		if !slices.Equal(got, want) {
			t.Errorf("event %d (%s) cites %v, want %v", i, ev.MsgType, got, want)
		}
	}
}

func TestAlertsFromTheLog(t *testing.T) {
	w := newWorld(t)
	leaves := w.script()
	ob := newOutbox(t, w.a)
	if err := ob.Apply(0, leaves); err != nil {
		t.Fatal(err)
	}
	evs := ob.Events(0, 100)
	if len(evs) != 3 {
		t.Fatalf("%d events, want 3", len(evs))
	}
	type want struct {
		incident int64
		kind     engine.ChangeKind
		msgType  alert.MsgType
		party    string
	}
	for i, wt := range []want{
		{1, engine.ChangeCreated, alert.MsgAlert, "east"},
		{2, engine.ChangeCreated, alert.MsgAlert, "west"},
		{1, engine.ChangeUpdated, alert.MsgUpdate, "east"},
	} {
		ev := evs[i]
		if ev.Seq != int64(i+1) || ev.Incident != wt.incident || ev.Kind != wt.kind || ev.MsgType != wt.msgType ||
			len(ev.Parties) != 1 || ev.Parties[0] != wt.party || ev.Index != int64(i) {
			t.Errorf("event %d: seq %d incident %d kind %s msgType %s parties %v index %d, want %+v",
				i, ev.Seq, ev.Incident, ev.Kind, ev.MsgType, ev.Parties, ev.Index, wt)
		}
		if capOf(t, ev).Scope != alert.ScopeRestricted || capOf(t, ev).Sender != "truce@"+w.a.ID {
			t.Errorf("event %d: scope %s sender %s", i, capOf(t, ev).Scope, capOf(t, ev).Sender)
		}
		if err := capOf(t, ev).Validate(); err != nil {
			t.Errorf("event %d: %v", i, err)
		}
	}
	// The update refers to the first alert of its incident, and the engine names the alerts
	// as acknowledgements must quote them.
	if refs, err := alert.ParseReferences(capOf(t, evs[2]).References); err != nil || len(refs) != 1 || refs[0].Identifier != evs[0].Identifier {
		t.Errorf("update references %v, want the identifier %s", refs, evs[0].Identifier)
	}
	eng, _ := engine.New(w.a)
	if got, want := evs[0].Identifier, eng.AlertID(eng.IncidentFinding(1), 1); got != want {
		t.Errorf("identifier %s, the engine expects %s", got, want)
	}
	if ev, ok := ob.Alert(evs[1].Identifier); !ok || ev.Seq != 2 {
		t.Errorf("Alert(%s) = %v, %v", evs[1].Identifier, ev, ok)
	}
	inc, ok := ob.Incident(1)
	if !ok || len(inc.Alerts) != 2 || inc.Alerts[1] != evs[2].Identifier || len(inc.Evidence) < 2 || len(inc.Explanation) == 0 {
		t.Errorf("incident 1: %+v", inc)
	}
	if got := ob.Events(1, 1); len(got) != 1 || got[0].Seq != 2 {
		t.Errorf("Events(1, 1) = %v", got)
	}
}

func TestVisibility(t *testing.T) {
	w := newWorld(t)
	ob := newOutbox(t, w.a)
	if err := ob.Apply(0, w.script()); err != nil {
		t.Fatal(err)
	}
	sees := func(id string) []int64 {
		var out []int64
		for _, ev := range ob.Events(0, 100) {
			if ev.VisibleTo(w.identity(id)) {
				out = append(out, ev.Seq)
			}
		}
		return out
	}
	for _, c := range []struct {
		id   string
		want string
	}{
		{"east-liaison", "[1 3]"},
		{"west-liaison", "[2]"},
		{"monitor-1", "[1 2 3]"},
		{"analyst-1", "[1 2 3]"},
		{"guarantor-a-rep", "[1 2 3]"},
		{"uav-gs-1", "[]"},
		{"public-reader", "[]"},
	} {
		if got := fmt.Sprint(sees(c.id)); got != c.want && !(got == "[]" && c.want == "[]") {
			t.Errorf("%s sees %s, want %s", c.id, got, c.want)
		}
	}
	incs, _ := ob.Incidents(outbox.IncidentFilter{}, func(p []string) bool { return outbox.Visible(w.identity("west-liaison"), p, false) }, 0, 10)
	if len(incs) != 1 || incs[0].ID != 2 {
		t.Errorf("west-liaison's incidents: %v", incs)
	}
	if !outbox.Visible(w.identity("public-reader"), nil, true) {
		t.Error("a public alert is not visible to the public")
	}
}

// TestReplay: the same log, applied in other chunks, gives byte-identical alerts with the
// same sequence numbers: restart is replay.
func TestReplay(t *testing.T) {
	w := newWorld(t)
	leaves := w.script()
	one := newOutbox(t, w.a)
	if err := one.Apply(0, leaves); err != nil {
		t.Fatal(err)
	}
	two := newOutbox(t, w.a)
	for i := range leaves {
		if err := two.Apply(int64(i), leaves[i:i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := two.Apply(0, leaves); err == nil {
		t.Error("applying from 0 again: no error")
	}
	a, b := one.Events(0, 100), two.Events(0, 100)
	if len(a) != len(b) {
		t.Fatalf("%d and %d events", len(a), len(b))
	}
	for i := range a {
		if a[i].Seq != b[i].Seq || !bytes.Equal(a[i].JSON, b[i].JSON) {
			t.Errorf("event %d differs:\n%s\n%s", i, a[i].JSON, b[i].JSON)
		}
	}
}

// obsAt is obs with an observed time and count.
func (w *world) obsAt(id, cat, party string, p [2]float64, observed time.Time, count int) []byte {
	w.t.Helper()
	payload := fmt.Sprintf(`{"assessed_party":%q,"category":%q,"count":%d,"credibility":2,"id":%q,"observed":%q,"position":{"lat":%v,"lon":%v},"reliability":"B","source":"ground-monitor"}`,
		party, cat, count, id, observed.Format(time.RFC3339), p[1], p[0])
	return w.entry(ledger.KindObservation, "monitor-1", payload)
}

// TestWarningAndEscalationAlerts: an unusual-activity warning and a missed acknowledgement
// deadline make alerts too, named as the engine expects and addressed as it says.
func TestWarningAndEscalationAlerts(t *testing.T) {
	w := newWorld(t)
	dday := w.a.DDay
	var leaves [][]byte
	// A quiet baseline of one patrol per 6-hour bucket for a day and a half, then a crowd.
	for i := range 6 {
		leaves = append(leaves, w.obsAt(fmt.Sprintf("p%d", i), "military-personnel", "east", dmzA, dday.Add(time.Duration(i)*6*time.Hour+time.Hour), 1))
	}
	for i := range 12 {
		leaves = append(leaves, w.obsAt(fmt.Sprintf("c%d", i), "military-personnel", "east", dmzA, dday.Add(36*time.Hour+time.Duration(i)*time.Minute), 1))
	}
	// A breach, then three hours of silence: east does not acknowledge within 2 h.
	leaves = append(leaves, w.obs("monitor-1", "o1", "tank", "east", dmzB))
	w.at = w.at.Add(3 * time.Hour)
	leaves = append(leaves, w.entry(ledger.KindTick, "analyst-1", fmt.Sprintf(`{"time":%q}`, w.at.Format(time.RFC3339))))

	ob := newOutbox(t, w.a)
	if err := ob.Apply(0, leaves); err != nil {
		t.Fatal(err)
	}
	eng, _ := engine.New(w.a)
	var warning, escalation *outbox.Event
	for _, ev := range ob.Events(0, 1000) {
		switch ev.Kind {
		case engine.ChangeWarning:
			warning = ev
		case engine.ChangeEscalated:
			escalation = ev
		}
		if err := capOf(t, ev).Validate(); err != nil {
			t.Errorf("alert %d (%s): %v", ev.Seq, ev.Kind, err)
		}
	}
	if warning == nil {
		t.Error("no warning alert")
	} else if want := eng.AlertID(eng.WarningFinding(warning.Warning), 1); warning.Identifier != want || fmt.Sprint(warning.Parties) != "[east]" {
		t.Errorf("warning alert %s to %v, want %s to [east]", warning.Identifier, warning.Parties, want)
	}
	if escalation == nil {
		t.Fatal("no escalation alert")
	}
	// Every alert is valid against the OASIS schema (xmllint, when installed).
	var files []string
	for _, ev := range ob.Events(0, 1000) {
		b, err := capOf(t, ev).XML()
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Join(t.TempDir(), fmt.Sprintf("%d.xml", ev.Seq))
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, name)
	}
	if err := alert.ValidateXSD(files...); err != nil && !errors.Is(err, alert.ErrNoXMLLint) {
		t.Errorf("schema: %v", err)
	}
	// An escalation goes to the mediators, as an Update of the finding whose alert was missed.
	if fmt.Sprint(escalation.Parties) != "[guarantor-a guarantor-b]" || escalation.MsgType != alert.MsgUpdate || escalation.Version != 2 {
		t.Errorf("escalation addressed to %v, %s version %d", escalation.Parties, escalation.MsgType, escalation.Version)
	}
	// Its incidents listing names the finding it is about, not the escalation.
	if got, want := capOf(t, escalation).Incidents, eng.IncidentFinding(escalation.Incident); got != want {
		t.Errorf("escalation incidents %q, want %q", got, want)
	}
	for id, want := range map[string]bool{"east-liaison": false, "west-liaison": false, "guarantor-a-rep": true, "monitor-1": true} {
		if got := escalation.VisibleTo(w.identity(id)); got != want {
			t.Errorf("escalation visible to %s: %v, want %v", id, got, want)
		}
	}
}

// An incident's alert lists only its latest MaxAlertEvidence pieces of evidence, and says how
// many it leaves out; the incident itself keeps them all.
func TestAlertEvidenceBounded(t *testing.T) {
	w := newWorld(t)
	n := outbox.MaxAlertEvidence + 5
	var leaves [][]byte
	for i := range n {
		src := []string{"monitor-1", "uav-gs-1"}[i%2]
		leaves = append(leaves, w.obs(src, fmt.Sprintf("r%d", i), "tank", "east", [2]float64{dmzA[0] + 0.0001*float64(i%10), dmzA[1]}))
	}
	ob := newOutbox(t, w.a)
	if err := ob.Apply(0, leaves); err != nil {
		t.Fatal(err)
	}
	evs := ob.Events(0, 1000)
	last := capOf(t, evs[len(evs)-1])
	var evidence string
	for _, p := range last.Info[0].Parameter {
		if p.ValueName == alert.ParamEvidence {
			evidence = p.Value
		}
	}
	if got := strings.Fields(evidence); len(got) != outbox.MaxAlertEvidence || got[len(got)-1] != fmt.Sprint(n-1) {
		t.Errorf("evidence parameter %q: want the latest %d indexes, to %d", evidence, outbox.MaxAlertEvidence, n-1)
	}
	if want := fmt.Sprintf("5 earlier pieces of evidence are not listed here; incident 1 (GET /v1/incidents/1) lists all %d.", n); !strings.Contains(last.Info[0].Description, want) {
		t.Errorf("description does not say what it leaves out:\n%s", last.Info[0].Description)
	}
	if inc, ok := ob.Incident(1); !ok || len(inc.Evidence) != n {
		t.Errorf("the incident keeps %d pieces of evidence, want %d", len(inc.Evidence), n)
	}
	if err := last.Validate(); err != nil {
		t.Error(err)
	}
}
