package ledger_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/keys"
	"github.com/truce-mission/truce/ledger"
	"github.com/truce-mission/truce/ledger/verify"
	"github.com/truce-mission/truce/store"
)

const origin = "truce.example/loc-2026-illustrative"

var (
	agreementOnce sync.Once
	exampleAgr    *agreement.Agreement
	agreementErr  error
	keyCache      sync.Map
)

// exampleAgreement loads examples/line-of-contact.yaml, whose identities sign with the demo
// keys of examples/keys.
func exampleAgreement(t testing.TB) *agreement.Agreement {
	t.Helper()
	agreementOnce.Do(func() { exampleAgr, agreementErr = agreement.LoadFile("../examples/line-of-contact.yaml") })
	if agreementErr != nil {
		t.Fatal(agreementErr)
	}
	return exampleAgr
}

// demoKey loads the demo private key of an identity from examples/keys.
func demoKey(t testing.TB, id string) ed25519.PrivateKey {
	t.Helper()
	if k, ok := keyCache.Load(id); ok {
		return k.(ed25519.PrivateKey)
	}
	k, err := keys.LoadPrivateKey("../examples/keys/" + id + ".key")
	if err != nil {
		t.Fatal(err)
	}
	keyCache.Store(id, k)
	return k
}

func missionSigner(t testing.TB) (note.Signer, note.Verifier) {
	t.Helper()
	priv := demoKey(t, "mission-head")
	s, err := ledger.NewNoteSigner(origin, priv)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(missionVerifierKey(t))
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

var baseTime = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// signed returns an observation by id, signed with its demo key, with payload {"n":i}.
func signed(t testing.TB, id string, i int) *ledger.Entry {
	t.Helper()
	e, err := ledger.NewEntry(ledger.KindObservation, id, baseTime.Add(time.Duration(i)*time.Second), fmt.Appendf(nil, `{"n":%d}`, i))
	if err != nil {
		t.Fatal(err)
	}
	if err := ledger.Sign(e, demoKey(t, id)); err != nil {
		t.Fatal(err)
	}
	return e
}

// stepClock is a clock that moves one millisecond per reading.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

// openLog opens a log over st with the example agreement's identities and the mission's
// demo key; opts tweaks the options.
func openLog(t testing.TB, st store.Store, opts func(*ledger.Options)) *ledger.Log {
	t.Helper()
	s, _ := missionSigner(t)
	clock := &stepClock{t: baseTime.Add(time.Hour)}
	o := ledger.Options{
		Origin:             origin,
		Signer:             s,
		Authorize:          ledger.AuthorizeAgreement(exampleAgreement(t)),
		Clock:              clock.now,
		CheckpointInterval: -1,
		Logger:             slog.New(slog.NewTextHandler(t.Output(), nil)),
	}
	if opts != nil {
		opts(&o)
	}
	l, err := ledger.Open(context.Background(), st, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// missionVerifierKey is the checkpoint verifier key of the mission's demo key.
func missionVerifierKey(t testing.TB) string {
	t.Helper()
	vkey, err := ledger.VerifierKey(origin, demoKey(t, "mission-head").Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	return vkey
}

// exportArchive signs a checkpoint of l and exports its archive, returning it with the
// verifier key.
func exportArchive(t testing.TB, l *ledger.Log) (*verify.Archive, string) {
	t.Helper()
	if _, err := l.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	vkey := missionVerifierKey(t)
	a, err := verify.Export(t.Context(), l, vkey)
	if err != nil {
		t.Fatal(err)
	}
	return a, vkey
}
