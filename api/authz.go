package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/ledger"
	"github.com/truce-mission/truce/obsindex"
	"github.com/truce-mission/truce/reqauth"
)

// Who may do what. The log's checkpoints, verifier key and proofs are open to anyone (a
// party must be able to check the record without asking); everything that carries the
// content of observations needs a signed request from an identity whose role may see it.
//
//	                          party-liaison  monitor  sensor  analyst  council  public
//	GET  /v1/log/entries           ✓            ✓       ✓        ✓        ✓        –
//	POST /v1/observations          ✓            ✓       ✓        ✓        –        –
//	GET  /v1/observations          own party    ✓       –        ✓        ✓        –
//	POST /v1/log/entries           by kind, see mayWrite
//	GET  /v1/incidents[/{id}]      addressed    ✓       –        ✓        ✓        –
//	GET  /v1/alerts/{id}, stream   addressed    ✓       –        ✓        ✓      public
//	/v1/subscriptions (own)        addressed    ✓       –        ✓        ✓      public
//
// A party liaison sees the observations its party's identities submitted and those
// attributed to its party (claimed or assessed), so that it can answer what is alleged
// against it; it does not see what the mission observed of the other party.
//
// Alerts and incidents follow the alert's scope (outbox.Visible): a Restricted alert, and its
// incident, is seen by the parties it addresses (the party the incident is attributed to, or
// every party when none is) and by the mission's roles; a Public alert by every identity that
// may read alerts. The public role reads only Public alerts; a sensor reads none. An alert or
// incident an identity may not see answers 404, as one that does not exist.

// errForbidden is a refusal of a known identity: 403.
var errForbidden = errors.New("forbidden")

// forbidden names the identity and what its role may not do.
func forbidden(id *agreement.Identity, what string) error {
	return &httpError{status: http.StatusForbidden, field: reqauth.HeaderIdentity,
		msg: fmt.Sprintf("identity %q (role %s) may not %s", id.ID, id.Role, what), err: errForbidden}
}

// mayReadEntries says whether a role may read the log's raw entries.
func mayReadEntries(r agreement.Role) bool { return r != agreement.RolePublic }

// maySubmitObservations says whether a role may submit observations.
func maySubmitObservations(r agreement.Role) bool {
	switch r {
	case agreement.RolePartyLiaison, agreement.RoleMonitor, agreement.RoleSensor, agreement.RoleAnalyst:
		return true
	}
	return false
}

// observationsVisible returns the filter of what an identity may read of the observations,
// or an error when it may read none.
func observationsVisible(id *agreement.Identity) (func(*obsindex.Record) bool, error) {
	switch id.Role {
	case agreement.RoleMonitor, agreement.RoleAnalyst, agreement.RoleCouncilMember:
		return nil, nil
	case agreement.RolePartyLiaison:
		p := id.Party
		return func(r *obsindex.Record) bool {
			return r.Party == p || r.Obs.ClaimedParty == p || r.Obs.AssessedParty == p
		}, nil
	}
	return nil, forbidden(id, "read observations")
}

// mayWrite says whether a role may append an entry of a kind through POST /v1/log/entries.
func mayWrite(r agreement.Role, k ledger.Kind) bool {
	switch k {
	case ledger.KindObservation:
		return maySubmitObservations(r)
	case ledger.KindNotification, ledger.KindAcknowledgement:
		return r == agreement.RolePartyLiaison
	case ledger.KindHotline:
		return r == agreement.RolePartyLiaison || r == agreement.RoleAnalyst
	case ledger.KindVote, ledger.KindAgreement:
		return r == agreement.RoleCouncilMember
	case ledger.KindDispatch, ledger.KindReview:
		return r == agreement.RoleAnalyst
	case ledger.KindTick:
		return r == agreement.RoleSensor || r == agreement.RoleAnalyst
	case ledger.KindNote:
		return r != agreement.RolePublic
	}
	return false
}

// mayReadAlerts says whether a role may read alerts (those it may see, see outbox.Visible),
// stream them and subscribe webhooks to them.
func mayReadAlerts(r agreement.Role) bool { return r != agreement.RoleSensor }

// mayReadIncidents says whether a role may read incidents (those it may see).
func mayReadIncidents(r agreement.Role) bool {
	return r != agreement.RoleSensor && r != agreement.RolePublic
}
