// Package testlog opens, for tests, the evidence log a node runs: over a new SQLite store in
// the test's temporary directory, appends authorized by an agreement, checkpoints signed by a
// new mission key.
package testlog

import (
	"crypto/ed25519"
	"testing"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/ledger"
	"github.com/truce-mission/truce/store/sqlite"
)

// Origin is the log's origin line in its checkpoints.
const Origin = "truce/test"

// Log is an open log with what a test may need besides: its store (which also holds webhook
// subscriptions), the mission key and the checkpoint verifier key.
type Log struct {
	*ledger.Log
	Store       *sqlite.Store
	Mission     ed25519.PrivateKey
	VerifierKey string
}

// Open opens the log; it is closed, and its store too, when the test ends. Checkpoints are
// made only on request (CheckpointInterval -1), receipts stamped with the real clock.
func Open(t testing.TB, a *agreement.Agreement) *Log {
	t.Helper()
	st, err := sqlite.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	_, mission, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ledger.NewNoteSigner(Origin, mission)
	if err != nil {
		t.Fatal(err)
	}
	vkey, err := ledger.VerifierKey(Origin, mission.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	lg, err := ledger.Open(t.Context(), st, ledger.Options{
		Origin: Origin, Signer: signer, Authorize: ledger.AuthorizeAgreement(a), CheckpointInterval: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lg.Close() })
	return &Log{Log: lg, Store: st, Mission: mission, VerifierKey: vkey}
}
