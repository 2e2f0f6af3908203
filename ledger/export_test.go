package ledger_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/truce-mission/truce/ledger"
	"github.com/truce-mission/truce/ledger/verify"
)

var _ verify.Source = (*ledger.Log)(nil)

// TestExportVerify exports a live log as an archive, reads it back from its file form and
// verifies it against the agreement's identities and the mission's key; then a checkpoint
// kept from before a store rewrite exposes the rewrite.
func TestExportVerify(t *testing.T) {
	ctx := t.Context()
	st := newMemStore()
	l := openLog(t, st, nil)
	ids := []string{"monitor-1", "east-liaison", "west-liaison", "uav-gs-1"}
	for i := range 100 {
		if _, err := l.Append(ctx, signed(t, ids[i%len(ids)], i)); err != nil {
			t.Fatal(err)
		}
		if i == 40 {
			if _, err := l.Checkpoint(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	kept, err := st.Checkpoint(ctx, 41)
	if err != nil {
		t.Fatal(err)
	}
	vkey := missionVerifierKey(t)

	a, err := verify.Export(ctx, l, vkey)
	if err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	if err := a.Write(&file); err != nil {
		t.Fatal(err)
	}
	b, err := verify.Read(&file)
	if err != nil {
		t.Fatal(err)
	}
	opts := verify.Options{
		Identities:  ledger.AgreementKeys(exampleAgreement(t)),
		VerifierKey: vkey,
		Checkpoints: [][]byte{kept.Note},
	}
	r := verify.VerifyArchive(b, opts)
	if !r.OK() || r.Size != 100 || r.Covered != 100 {
		t.Fatalf("exported archive:\n%s", r)
	}
	if _, root := l.Head(); r.Root != root {
		t.Errorf("verifier's root %s, log's %s", r.Root, root)
	}

	// Entry 7 is rewritten in the store and the tree rebuilt and re-signed by the mission:
	// a new log over the doctored store, from a checkpoint before the change.
	doctored := newMemStore()
	l2 := openLog(t, doctored, nil)
	for i := range 100 {
		e := signed(t, ids[i%len(ids)], i)
		if i == 7 {
			e = signed(t, ids[i%len(ids)], 7000)
		}
		if _, err := l2.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	c, err := verify.Export(ctx, l2, vkey)
	if err != nil {
		t.Fatal(err)
	}
	r = verify.VerifyArchive(c, opts)
	if !errors.Is(r.Err(), verify.ErrRewritten) {
		t.Fatalf("rewritten log: %v\n%s", r.Err(), r)
	}
	t.Log(r.Err())
}
