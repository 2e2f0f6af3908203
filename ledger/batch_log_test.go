package ledger_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/truce-mission/truce/ledger"
	"github.com/truce-mission/truce/ledger/verify"
)

// batchOf returns n observations by id, with payloads {"n":first} and on, signed as one
// batch with id's demo key.
func batchOf(t testing.TB, id string, n, first int) []*ledger.Entry {
	t.Helper()
	es := make([]*ledger.Entry, n)
	for i := range es {
		e, err := ledger.NewEntry(ledger.KindObservation, id, baseTime.Add(time.Duration(first+i)*time.Millisecond), fmt.Appendf(nil, `{"n":%d}`, first+i))
		if err != nil {
			t.Fatal(err)
		}
		es[i] = e
	}
	if err := ledger.SignBatch(es, demoKey(t, id)); err != nil {
		t.Fatal(err)
	}
	return es
}

// TestAppendSignedBatch appends entries signed in batches through the agreement's
// authorizer: a whole batch costs one ed25519 verification, each entry is its own leaf
// that verifies alone, and an exported archive of them verifies offline.
func TestAppendSignedBatch(t *testing.T) {
	ctx := t.Context()
	l := openLog(t, newMemStore(), nil)

	es := batchOf(t, "monitor-1", 500, 1_000_000)
	before := ledger.BatchVerifications()
	if _, err := l.AppendBatch(ctx, es[:250], nil); err != nil {
		t.Fatal(err)
	}
	for _, e := range es[250:] {
		if _, err := l.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if n := ledger.BatchVerifications() - before; n != 1 {
		t.Errorf("authorizing a batch of 500 took %d ed25519 verifications, want 1", n)
	}
	leaves, err := l.Entries(ctx, 0, 500)
	if err != nil {
		t.Fatal(err)
	}
	pub := demoKey(t, "monitor-1").Public().(ed25519.PublicKey)
	for i, leaf := range leaves {
		e, err := ledger.ParseLeaf(leaf)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if p, ok := e.Batch(); !ok || p.Index != int64(i) || p.Size != 500 {
			t.Fatalf("entry %d: batch proof %+v, %v", i, p, ok)
		}
		if err := ledger.Verify(e, pub); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}

	// A batch entry with a changed payload, or signed by another identity, is refused.
	p, _ := es[7].Batch()
	changed, _ := ledger.NewEntry(ledger.KindObservation, "monitor-1", es[7].Submitted(), []byte(`{"n":8}`))
	changed.SetBatchSignature(p, es[7].Signature())
	other := batchOf(t, "east-liaison", 3, 0)
	forged, _ := ledger.NewEntry(ledger.KindObservation, "monitor-1", other[1].Submitted(), other[1].Payload())
	q, _ := other[1].Batch()
	forged.SetBatchSignature(q, other[1].Signature())
	for _, e := range []*ledger.Entry{changed, forged} {
		_, err := l.Append(ctx, e)
		if !errors.Is(err, ledger.ErrBadSignature) || !strings.HasPrefix(err.Error(), `signature: does not verify for identity "monitor-1" (entry `) {
			t.Errorf("tampered batch entry: %v", err)
		}
	}

	// Offline: export, write, read and verify the archive.
	a, vkey := exportArchive(t, l)
	var file bytes.Buffer
	if err := a.Write(&file); err != nil {
		t.Fatal(err)
	}
	b, err := verify.Read(&file)
	if err != nil {
		t.Fatal(err)
	}
	if r := verify.VerifyArchive(b, verify.Options{Identities: ledger.AgreementKeys(exampleAgreement(t)), VerifierKey: vkey}); !r.OK() || r.Size != 500 {
		t.Fatalf("archive of batch entries:\n%s", r)
	}
}

// TestAppendPartialBatch is a server receiving a signed batch of records one of which is
// invalid: it computes the batch's proofs from every record's digest, and appends the valid
// records, which verify on their own.
func TestAppendPartialBatch(t *testing.T) {
	ctx := t.Context()
	l := openLog(t, newMemStore(), nil)
	type record struct {
		kind    ledger.Kind
		payload string
	}
	records := make([]record, 10)
	for i := range records {
		records[i] = record{ledger.KindObservation, fmt.Sprintf(`{"n":%d}`, i)}
	}
	records[3].payload = `{"n": 3}` // not canonical: NewEntry refuses it
	at := baseTime

	// The submitter signs the batch as it sent it.
	digests := make([]tlog.Hash, len(records))
	for i, r := range records {
		digests[i] = ledger.BatchDigest(r.kind, "uav-gs-1", at, []byte(r.payload))
	}
	root, _ := ledger.BatchRoot(digests)
	sig := ed25519.Sign(demoKey(t, "uav-gs-1"), ledger.BatchSignedMessage("uav-gs-1", int64(len(records)), root))

	// The server rebuilds the proofs and appends what it can.
	_, proofs := ledger.BatchRoot(digests)
	var appended int
	for i, r := range records {
		e, err := ledger.NewEntry(r.kind, "uav-gs-1", at, []byte(r.payload))
		if i == 3 {
			if !errors.Is(err, ledger.ErrMalformed) {
				t.Fatalf("record 3: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := e.SetBatchSignature(proofs[i], sig); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Append(ctx, e); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		appended++
	}
	if appended != 9 || l.Size() != 9 {
		t.Errorf("appended %d, log size %d, want 9", appended, l.Size())
	}
}

// TestResubmitInNewBatch resends a record that was appended in one batch as part of a
// later batch, signed again at another time (a client whose response was lost): under the
// same idempotency key it is the same submission and gets the original receipt, while a
// different payload under that key is still a conflict.
func TestResubmitInNewBatch(t *testing.T) {
	ctx := t.Context()
	l := openLog(t, newMemStore(), nil)
	first := batchOf(t, "monitor-1", 3, 10)
	rs, err := l.AppendBatch(ctx, first, []string{"monitor-1/a", "monitor-1/b", "monitor-1/c"})
	if err != nil {
		t.Fatal(err)
	}

	// The same three payloads, signed as a batch of four at other times.
	again := make([]*ledger.Entry, 4)
	for i := range again {
		e, err := ledger.NewEntry(ledger.KindObservation, "monitor-1", baseTime.Add(time.Hour+time.Duration(i)*time.Second), fmt.Appendf(nil, `{"n":%d}`, 10+i))
		if err != nil {
			t.Fatal(err)
		}
		again[i] = e
	}
	if err := ledger.SignBatch(again, demoKey(t, "monitor-1")); err != nil {
		t.Fatal(err)
	}
	rs2, err := l.AppendBatch(ctx, again, []string{"monitor-1/a", "monitor-1/b", "monitor-1/c", "monitor-1/d"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if !rs2[i].Duplicate || rs2[i].Index != rs[i].Index {
			t.Errorf("record %d resent in a new batch: %+v, want a duplicate of entry %d", i, rs2[i], rs[i].Index)
		}
	}
	if rs2[3].Duplicate || l.Size() != 4 {
		t.Errorf("new record: %+v, log size %d, want 4", rs2[3], l.Size())
	}

	other := batchOf(t, "monitor-1", 1, 99)
	if _, err := l.AppendBatch(ctx, other, []string{"monitor-1/a"}); !errors.Is(err, ledger.ErrKeyConflict) {
		t.Errorf("another payload under a used key: %v, want a conflict", err)
	}
}
