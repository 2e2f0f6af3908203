package engine

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/alert"
	"github.com/truce-mission/truce/ledger"
)

// AlertIdentifier returns the CAP identifier of a finding's version ([alert.Identifier]),
// which acknowledgements quote.
func AlertIdentifier(sender, findingID string, version int) string {
	return alert.Identifier(sender, findingID, version)
}

// Sender is the CAP sender of the engine's alerts: "truce@" and the agreement id, unless
// [Options.Sender] sets it.
func (e *Engine) Sender() string { return e.opts.Sender }

// IncidentFinding returns the finding id of an incident's alerts: "incident-N", or
// "PREFIX.incident-N" with [Options.FindingPrefix] (as package alert/outbox names them).
func (e *Engine) IncidentFinding(id int64) string { return e.findingID("incident", id) }

// WarningFinding returns the finding id of an unusual-activity warning's alert:
// "warning-N", or "PREFIX.warning-N".
func (e *Engine) WarningFinding(id int64) string { return e.findingID("warning", id) }

func (e *Engine) findingID(kind string, id int64) string {
	s := kind + "-" + strconv.FormatInt(id, 10)
	if e.opts.FindingPrefix != "" {
		s = e.opts.FindingPrefix + "." + s
	}
	return s
}

// Addressees returns the parties an incident's alerts are addressed to, in agreement
// order: the party it is attributed to when that is a party bound by the agreement, else
// every bound party. They are the parties that owe an acknowledgement.
func (e *Engine) Addressees(inc Incident) []string {
	if p, ok := e.a.Party(inc.Party); ok && p.Kind == agreement.PartyKindParty {
		return []string{p.ID}
	}
	return e.boundParties()
}

// AlertID returns the CAP identifier of a version of a finding, as the engine expects it
// in acknowledgements.
func (e *Engine) AlertID(findingID string, version int) string {
	return AlertIdentifier(e.opts.Sender, findingID, version)
}

// AckStatus is where a party's duty to acknowledge stands.
type AckStatus int

// The acknowledgement statuses.
const (
	AckPending      AckStatus = iota // awaited, the deadline not passed
	AckAcknowledged                  // acknowledged by the deadline
	AckEscalated                     // the deadline passed unacknowledged: escalated
	AckLate                          // acknowledged after it was escalated
	AckWithdrawn                     // the finding was withdrawn before the deadline
)

var ackStatusNames = []string{"pending", "acknowledged", "escalated", "acknowledged-late", "withdrawn"}

func (s AckStatus) String() string {
	if s >= 0 && int(s) < len(ackStatusNames) {
		return ackStatusNames[s]
	}
	return fmt.Sprintf("AckStatus(%d)", int(s))
}

// MarshalText writes the status's name.
func (s AckStatus) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// AckPayload is the payload of an acknowledgement entry: exactly one of Alert (a CAP
// identifier, see [Engine.AlertID]) and Message (a hotline message id).
type AckPayload struct {
	Alert   string `json:"alert,omitempty"`
	Message string `json:"message,omitempty"`
	Note    string `json:"note,omitempty"`
}

// HotlinePayload is the payload of a hotline entry.
type HotlinePayload struct {
	ID string `json:"id,omitempty"` // default "hotline-<ledger index>"
	// To are the addressed parties; default: every party bound by the agreement other than
	// the sender's.
	To       []string `json:"to,omitempty"`
	Text     string   `json:"text"`
	Incident int64    `json:"incident,omitempty"` // what it is about, optional
	Warning  int64    `json:"warning,omitempty"`
}

// AckDuty is a party's duty to acknowledge an alert or a hotline message.
type AckDuty struct {
	Subject  string `json:"subject"` // "incident 3", "warning 1" or "message h1"
	Incident int64  `json:"incident,omitempty"`
	Warning  int64  `json:"warning,omitempty"`
	Message  string `json:"message,omitempty"`
	// Alert is the identifier of the first unacknowledged alert; the party may
	// acknowledge any version from First to Latest (a later one settles the earlier ones).
	Alert     string    `json:"alert,omitempty"`
	First     int       `json:"first,omitempty"`
	Latest    int       `json:"latest,omitempty"`
	Party     string    `json:"party"`
	Sent      time.Time `json:"sent"`
	SentIndex int64     `json:"sent_index"`
	Deadline  time.Time `json:"deadline"` // zero when the agreement sets none
	Status    AckStatus `json:"status"`
	// AckIndex is the ledger index of the acknowledgement, 0 when none.
	AckIndex     int64     `json:"ack_index,omitempty"`
	Acknowledged time.Time `json:"acknowledged"`
	AckBy        string    `json:"ack_by,omitempty"`
	// EscalatedIndex is the entry whose time passed the deadline, 0 when not escalated.
	EscalatedIndex int64     `json:"escalated_index,omitempty"`
	Escalated      time.Time `json:"escalated"`
}

// Escalation is a missed acknowledgement, recorded against the party.
type Escalation struct {
	Party     string    `json:"party"`
	Subject   string    `json:"subject"`
	Incident  int64     `json:"incident,omitempty"`
	Warning   int64     `json:"warning,omitempty"`
	Message   string    `json:"message,omitempty"`
	Alert     string    `json:"alert,omitempty"`
	Version   int       `json:"version,omitempty"`
	Sent      time.Time `json:"sent"`
	Deadline  time.Time `json:"deadline"`
	Escalated time.Time `json:"escalated"`
	Index     int64     `json:"index"` // the entry whose time passed the deadline
	// Acknowledged is when a late acknowledgement came; zero while none has.
	Acknowledged time.Time `json:"acknowledged"`
	Explanation  string    `json:"explanation"`
}

// PartyRecord counts a party's acknowledgements.
type PartyRecord struct {
	Party        string `json:"party"`
	Owed         int    `json:"owed"`         // duties to acknowledge, withdrawn ones aside
	Acknowledged int    `json:"acknowledged"` // by the deadline
	Late         int    `json:"late"`         // after escalation
	Escalated    int    `json:"escalated"`    // escalations, late acknowledgements included
	Pending      int    `json:"pending"`
}

// HotlineMessage is the read-only view of an accepted hotline message.
type HotlineMessage struct {
	Index    int64     `json:"index"`
	ID       string    `json:"id"`
	From     string    `json:"from"`
	Party    string    `json:"party,omitempty"` // the sender's party
	To       []string  `json:"to"`
	Text     string    `json:"text"`
	Sent     time.Time `json:"sent"`
	Incident int64     `json:"incident,omitempty"`
	Warning  int64     `json:"warning,omitempty"`
}

// alertRef is what an alert identifier stands for.
type alertRef struct {
	subject string
	version int
}

// obligation is a duty to acknowledge as the engine keeps it.
type obligation struct {
	AckDuty
}

func dutyKey(subject, party string) string { return subject + "\x00" + party }

// boundParties are the parties bound by the agreement, in agreement order.
func (e *Engine) boundParties() []string {
	var out []string
	for _, p := range e.a.Parties {
		if p.Kind == agreement.PartyKindParty {
			out = append(out, p.ID)
		}
	}
	return out
}

// owe records the alerts the changes make and the acknowledgements they call for.
func (e *Engine) owe(index int64, changes []Change) {
	for _, c := range changes {
		var subject, fid string
		var to []string
		d := duty{incident: c.Incident, warning: c.Warning}
		switch {
		case c.Kind == ChangeWarning:
			subject, fid = "warning "+strconv.FormatInt(c.Warning, 10), e.WarningFinding(c.Warning)
			to = e.warnings[c.Warning-1].Parties
		case c.Kind == ChangeEscalated:
			continue
		default:
			subject, fid = "incident "+strconv.FormatInt(c.Incident, 10), e.IncidentFinding(c.Incident)
			to = e.Addressees(e.incidents[c.Incident-1].view)
		}
		if c.Kind == ChangeCancelled {
			for _, p := range e.boundParties() {
				k := dutyKey(subject, p)
				if o := e.open[k]; o != nil && o.Status == AckPending {
					o.Status = AckWithdrawn
					delete(e.open, k)
				}
			}
			continue
		}
		id := e.AlertID(fid, c.Version)
		e.alerts[id] = alertRef{subject: subject, version: c.Version}
		d.subject, d.alert, d.version = subject, id, c.Version
		for _, p := range to {
			e.oweParty(index, d, p, e.a.Obligations.Acknowledgement.Alert)
		}
	}
}

// duty is what oweParty needs to know of an alert or message.
type duty struct {
	subject           string
	incident, warning int64
	message           string
	alert             string
	version           int
}

func (e *Engine) oweParty(index int64, d duty, party string, within time.Duration) {
	k := dutyKey(d.subject, party)
	if o := e.open[k]; o != nil {
		// Still owed for an earlier version: acknowledging this one settles both, and the
		// earlier deadline stands.
		o.Latest = d.version
		return
	}
	o := &obligation{AckDuty{Subject: d.subject, Incident: d.incident, Warning: d.warning, Message: d.message, Alert: d.alert,
		First: d.version, Latest: d.version, Party: party, Sent: e.now, SentIndex: index}}
	e.duties = append(e.duties, o)
	e.open[k], e.owed[k] = o, true
	if within > 0 {
		o.Deadline = e.now.Add(within)
		e.due.add(deadline{at: o.Deadline, kind: dueAck, obl: o})
	}
}

// escalate records o's deadline passing unacknowledged.
func (e *Engine) escalate(index int64, o *obligation) {
	if o.Status != AckPending {
		return
	}
	o.Status, o.Escalated, o.EscalatedIndex = AckEscalated, e.now, index
	e.pre = append(e.pre, Change{Kind: ChangeEscalated, Incident: o.Incident, Warning: o.Warning, Message: o.Message,
		Version: o.First, Index: index, Party: o.Party, Alert: o.Alert})
}

func (e *Engine) acknowledge(index int64, en *ledger.Entry) string {
	var p AckPayload
	if err := decodeStrict(en.Payload(), &p); err != nil {
		return "acknowledgement: " + err.Error()
	}
	id, ok := e.a.Identity(en.Submitter())
	if !ok || id.Role != agreement.RolePartyLiaison {
		return fmt.Sprintf("acknowledgement: submitter %q is not a party liaison", en.Submitter())
	}
	var ref alertRef
	var what string
	switch {
	case (p.Alert == "") == (p.Message == ""):
		return "acknowledgement: want exactly one of alert and message"
	case p.Alert != "":
		what = "alert " + quote(p.Alert)
		if ref, ok = e.alerts[p.Alert]; !ok {
			return "acknowledgement: unknown " + what
		}
	default:
		what = "message " + quote(p.Message)
		m, ok := e.messages[p.Message]
		if !ok {
			return "acknowledgement: unknown hotline " + what
		}
		ref = alertRef{subject: "message " + m.ID, version: 1}
	}
	k := dutyKey(ref.subject, id.Party)
	o := e.open[k]
	switch {
	case o == nil && e.owed[k]:
		return fmt.Sprintf("acknowledgement of %s: %s has nothing outstanding for %s", what, id.Party, ref.subject)
	case o == nil:
		return fmt.Sprintf("acknowledgement of %s: not addressed to %s", what, id.Party)
	case ref.version < o.First:
		return fmt.Sprintf("acknowledgement of %s: version %d was acknowledged; version %d awaits", what, ref.version, o.First)
	}
	if o.Status == AckEscalated {
		o.Status = AckLate
	} else {
		o.Status = AckAcknowledged
	}
	o.AckIndex, o.Acknowledged, o.AckBy = index, e.now, en.Submitter()
	delete(e.open, k)
	return ""
}

func (e *Engine) hotline(index int64, en *ledger.Entry) string {
	var p HotlinePayload
	if err := decodeStrict(en.Payload(), &p); err != nil {
		return "hotline: " + err.Error()
	}
	id, ok := e.a.Identity(en.Submitter())
	if !ok {
		return fmt.Sprintf("hotline: submitter %q is not an identity of the agreement", en.Submitter())
	}
	if p.ID == "" {
		p.ID = "hotline-" + strconv.FormatInt(index, 10)
	}
	if _, dup := e.messages[p.ID]; dup {
		return fmt.Sprintf("hotline %q: id used before", p.ID)
	}
	if p.Incident != 0 && (p.Incident < 0 || p.Incident > int64(len(e.incidents))) {
		return fmt.Sprintf("hotline %q: no incident %d", p.ID, p.Incident)
	}
	if p.Warning != 0 && (p.Warning < 0 || p.Warning > int64(len(e.warnings))) {
		return fmt.Sprintf("hotline %q: no warning %d", p.ID, p.Warning)
	}
	if len(p.To) == 0 {
		for _, b := range e.boundParties() {
			if b != id.Party {
				p.To = append(p.To, b)
			}
		}
	}
	for _, to := range p.To {
		if _, ok := e.a.Party(to); !ok {
			return fmt.Sprintf("hotline %q: unknown party %q", p.ID, to)
		}
	}
	m := &HotlineMessage{Index: index, ID: p.ID, From: en.Submitter(), Party: id.Party, To: slices.Clone(p.To), Text: p.Text,
		Sent: e.now, Incident: p.Incident, Warning: p.Warning}
	e.messages[p.ID] = m
	e.hotlineLog = append(e.hotlineLog, m)
	d := duty{subject: "message " + p.ID, message: p.ID, version: 1}
	for _, to := range p.To {
		if pa, _ := e.a.Party(to); pa.Kind == agreement.PartyKindParty && to != id.Party {
			e.oweParty(index, d, to, e.a.Obligations.Acknowledgement.Hotline)
		}
	}
	return ""
}

// ackState adds the acknowledgement part of the state.
func (e *Engine) ackState(s *State) {
	recs := map[string]*PartyRecord{}
	for _, p := range e.boundParties() {
		recs[p] = &PartyRecord{Party: p}
	}
	for _, o := range e.duties {
		s.Acknowledgements = append(s.Acknowledgements, o.AckDuty)
		r := recs[o.Party]
		if r == nil {
			r = &PartyRecord{Party: o.Party}
			recs[o.Party] = r
		}
		if o.Status != AckWithdrawn {
			r.Owed++
		}
		switch o.Status {
		case AckPending:
			r.Pending++
		case AckAcknowledged:
			r.Acknowledged++
		case AckLate:
			r.Late++
			r.Escalated++
		case AckEscalated:
			r.Escalated++
		}
		if o.Status == AckEscalated || o.Status == AckLate {
			what := "hotline " + o.Subject
			if o.Alert != "" {
				what = fmt.Sprintf("alert %s (%s version %d)", o.Alert, o.Subject, o.First)
			}
			x := Escalation{Party: o.Party, Subject: o.Subject, Incident: o.Incident, Warning: o.Warning, Message: o.Message,
				Alert: o.Alert, Version: o.First, Sent: o.Sent, Deadline: o.Deadline, Escalated: o.Escalated, Index: o.EscalatedIndex,
				Explanation: fmt.Sprintf("%s sent at %s (#%d) to %s, acknowledgement due by %s (within %s): none by then; escalated to the mediators at %s (#%d)",
					what, o.Sent.Format(time.RFC3339), o.SentIndex, o.Party, o.Deadline.Format(time.RFC3339), o.Deadline.Sub(o.Sent), o.Escalated.Format(time.RFC3339), o.EscalatedIndex)}
			if o.Status == AckLate {
				x.Acknowledged = o.Acknowledged
				x.Explanation += fmt.Sprintf("; acknowledged late at %s (#%d)", o.Acknowledged.Format(time.RFC3339), o.AckIndex)
			}
			s.Escalations = append(s.Escalations, x)
		}
	}
	for _, p := range e.boundParties() {
		s.Parties = append(s.Parties, *recs[p])
		delete(recs, p)
	}
	var rest []string
	for p := range recs {
		rest = append(rest, p)
	}
	slices.Sort(rest)
	for _, p := range rest {
		s.Parties = append(s.Parties, *recs[p])
	}
	for _, m := range e.hotlineLog {
		v := *m
		v.To = slices.Clone(m.To)
		s.Hotline = append(s.Hotline, v)
	}
}
