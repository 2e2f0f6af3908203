package verify

import (
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/truce-mission/truce/keys"
	"github.com/truce-mission/truce/ledger"
)

const origin = "truce.example/loc-2026-illustrative"

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func demoKey(t testing.TB, id string) ed25519.PrivateKey {
	t.Helper()
	k, err := keys.LoadPrivateKey("../../examples/keys/" + id + ".key")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fixture is a log built in memory: signed entries, their leaves, and a checkpoint signer.
type fixture struct {
	t      testing.TB
	ids    []string
	priv   map[string]ed25519.PrivateKey
	signer note.Signer
	vkey   string
	leaves [][]byte
}

func newFixture(t testing.TB) *fixture {
	f := &fixture{t: t, ids: []string{"monitor-1", "east-liaison", "uav-gs-1"}, priv: map[string]ed25519.PrivateKey{}}
	for _, id := range f.ids {
		f.priv[id] = demoKey(t, id)
	}
	mission := demoKey(t, "mission-head")
	var err error
	if f.signer, err = ledger.NewNoteSigner(origin, mission); err != nil {
		t.Fatal(err)
	}
	if f.vkey, err = ledger.VerifierKey(origin, mission.Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) keys(id string) (ed25519.PublicKey, bool) {
	k, ok := f.priv[id]
	if !ok {
		return nil, false
	}
	return k.Public().(ed25519.PublicKey), true
}

// leaf returns the leaf of entry i, with payload {"n":n}.
func (f *fixture) leaf(i, n int) []byte {
	id := f.ids[i%len(f.ids)]
	e, err := ledger.NewEntry(ledger.KindObservation, id, t0.Add(time.Duration(i)*time.Second), fmt.Appendf(nil, `{"n":%d}`, n))
	if err != nil {
		f.t.Fatal(err)
	}
	if err := ledger.Sign(e, f.priv[id]); err != nil {
		f.t.Fatal(err)
	}
	r, err := e.Receive(t0.Add(time.Duration(i)*time.Second + 250*time.Millisecond))
	if err != nil {
		f.t.Fatal(err)
	}
	return r.Leaf()
}

func (f *fixture) grow(n int) {
	for i := len(f.leaves); i < n; i++ {
		f.leaves = append(f.leaves, f.leaf(i, i))
	}
}

// checkpoint signs the tree of the first size leaves.
func (f *fixture) checkpoint(leaves [][]byte, size int) []byte {
	var hs []tlog.Hash
	for _, l := range leaves[:size] {
		hs = append(hs, tlog.RecordHash(l))
	}
	root := rootsAt(hs, []int64{int64(size)})[int64(size)]
	msg, err := ledger.SignCheckpoint(ledger.Checkpoint{Origin: origin, Size: int64(size), Root: root}, f.signer)
	if err != nil {
		f.t.Fatal(err)
	}
	return msg
}

// archive returns an archive of leaves with a checkpoint at their size.
func (f *fixture) archive(leaves [][]byte) *Archive {
	a := &Archive{Origin: origin, VerifierKey: f.vkey, Checkpoints: [][]byte{f.checkpoint(leaves, len(leaves))}}
	for _, l := range leaves {
		a.Leaves = append(a.Leaves, l)
		a.LeafHashes = append(a.LeafHashes, tlog.RecordHash(l))
	}
	return a
}
