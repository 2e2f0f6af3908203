package ledger_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/truce-mission/truce/ledger"
	"github.com/truce-mission/truce/ledger/verify"
)

// parseAll parses leaves, failing the test on any error.
func parseAll(t *testing.T, leaves [][]byte) []*ledger.Entry {
	t.Helper()
	es := make([]*ledger.Entry, len(leaves))
	for i, leaf := range leaves {
		e, err := ledger.ParseLeaf(leaf)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		es[i] = e
	}
	return es
}

// TestWholeBatchIsLoggedAsARun appends a whole signed batch: its leaves are in run form
// (no audit path), the receipts carry the entries as logged, an entry alone does not
// verify, and the run does, with one ed25519 verification.
func TestWholeBatchIsLoggedAsARun(t *testing.T) {
	ctx := t.Context()
	l := openLog(t, newMemStore(), nil)
	if _, err := l.Append(ctx, signed(t, "monitor-1", 1)); err != nil { // so that the run starts at 1
		t.Fatal(err)
	}
	es := batchOf(t, "monitor-1", 300, 2_000_000)
	rs, err := l.AppendBatch(ctx, es, nil)
	if err != nil {
		t.Fatal(err)
	}
	leaves, err := l.Entries(ctx, 1, 301)
	if err != nil {
		t.Fatal(err)
	}
	for i, leaf := range leaves {
		if !bytes.Contains(leaf, fmt.Appendf(nil, `"batch":{"n":300,"i":%d},"sig":"`, i)) {
			t.Fatalf("entry %d is not in run form: %s", i, leaf)
		}
		if r := rs[i]; r.Entry == nil || !bytes.Equal(r.Entry.Leaf(), leaf) || r.Entry.LeafHash() != r.LeafHash || r.Index != int64(1+i) {
			t.Fatalf("receipt %d does not carry the entry as logged: %+v", i, r)
		}
	}
	run := parseAll(t, leaves)
	pub := demoKey(t, "monitor-1").Public().(ed25519.PublicKey)
	if err := ledger.Verify(run[7], pub); !errors.Is(err, ledger.ErrRunOnly) {
		t.Errorf("an entry of a run verified alone: %v, want ErrRunOnly", err)
	}
	if first, n, ok := run[7].RunStart(8); !ok || first != 1 || n != 300 {
		t.Errorf("RunStart(8) = %d, %d, %v; want 1, 300, true", first, n, ok)
	}
	before := ledger.BatchVerifications()
	if err := ledger.VerifyRun(run, pub); err != nil {
		t.Fatal(err)
	}
	if n := ledger.BatchVerifications() - before; n > 1 {
		t.Errorf("checking a run of 300 took %d ed25519 verifications", n)
	}
	// The entries the receipts carry are as good as the parsed ones.
	for i, r := range rs {
		if err := ledger.Verify(r.Entry, pub); err != nil {
			t.Fatalf("receipt %d's entry: %v", i, err)
		}
	}
}

// TestVerifyRunRefuses checks that a run verifies only whole, in order, unchanged, and under
// its submitter's key, and that the error names the entry at fault.
func TestVerifyRunRefuses(t *testing.T) {
	ctx := t.Context()
	l := openLog(t, newMemStore(), nil)
	for _, b := range [][]*ledger.Entry{batchOf(t, "monitor-1", 5, 0), batchOf(t, "monitor-1", 5, 100)} {
		if _, err := l.AppendBatch(ctx, b, nil); err != nil {
			t.Fatal(err)
		}
	}
	leaves, err := l.Entries(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	all := parseAll(t, leaves)
	a, b := all[:5], all[5:]
	pub := demoKey(t, "monitor-1").Public().(ed25519.PublicKey)
	other := demoKey(t, "monitor-2").Public().(ed25519.PublicKey)
	changed, err := ledger.ParseLeaf(bytes.Replace(leaves[2], []byte(`{"n":2}`), []byte(`{"n":7}`), 1))
	if err != nil {
		t.Fatal(err)
	}
	swap := func(es []*ledger.Entry, i int, e *ledger.Entry) []*ledger.Entry {
		out := append([]*ledger.Entry(nil), es...)
		out[i] = e
		return out
	}
	for _, tc := range []struct {
		name  string
		run   []*ledger.Entry
		pub   ed25519.PublicKey
		entry int64
		want  string
	}{
		{"short", a[:4], pub, 3, "batch.n: the run of a batch of 5 has 4 entries here"},
		{"starts inside", a[1:], pub, 0, "batch.i: entry 1 of a batch of 5 where its entry 0 belongs"},
		{"reordered", swap(swap(a, 1, a[2]), 2, a[1]), pub, 1, "batch.i: entry 2 of a batch of 5 where entry 1 of a batch of 5 belongs"},
		{"entry of another batch", swap(a, 3, b[3]), pub, 3, "sig: differs from the signature of the batch's first entry"},
		{"changed payload", swap(a, 2, changed), pub, 0, `signature: does not verify for identity "monitor-1" over the 5 entries of the run`},
		{"other key", a, other, 0, "signature: does not verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ledger.VerifyRun(tc.run, tc.pub)
			var re *ledger.RunError
			if !errors.As(err, &re) || re.Entry != tc.entry || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want entry %d: %s", err, tc.entry, tc.want)
			}
		})
	}
	if err := ledger.VerifyRun(b, pub); err != nil {
		t.Errorf("the second run: %v", err)
	}
}

// TestRunWithDuplicate resubmits a whole batch one of whose entries was logged before under
// its idempotency key: that entry gets its original receipt, and the others, no longer a
// whole run, are logged in path form, each verifiable alone.
func TestRunWithDuplicate(t *testing.T) {
	ctx := t.Context()
	l := openLog(t, newMemStore(), nil)
	es := batchOf(t, "monitor-1", 4, 50)
	keys := []string{"monitor-1/a", "monitor-1/b", "monitor-1/c", "monitor-1/d"}
	first, err := l.AppendWithKey(ctx, es[2], keys[2])
	if err != nil {
		t.Fatal(err)
	}
	rs, err := l.AppendBatch(ctx, es, keys)
	if err != nil {
		t.Fatal(err)
	}
	if !rs[2].Duplicate || rs[2].Index != first.Index || rs[2].Entry != nil {
		t.Errorf("the entry logged before: %+v, want its original receipt", rs[2])
	}
	leaves, err := l.Entries(ctx, 0, l.Size())
	if err != nil {
		t.Fatal(err)
	}
	if len(leaves) != 4 {
		t.Fatalf("%d entries logged, want 4", len(leaves))
	}
	pub := demoKey(t, "monitor-1").Public().(ed25519.PublicKey)
	for i, e := range parseAll(t, leaves) {
		if e.IsRun() {
			t.Errorf("entry %d is in run form", i)
		}
		if err := ledger.Verify(e, pub); err != nil {
			t.Errorf("entry %d: %v", i, err)
		}
	}
	// The same batch again: all four are duplicates.
	again, err := l.AppendBatch(ctx, es, keys)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range again {
		if !r.Duplicate {
			t.Errorf("entry %d sent a third time: %+v", i, r)
		}
	}
}

// TestArchiveWithRuns verifies an archive holding runs, entries in path form and single
// entries, then finds a broken run: a run-form entry whose batch is not all there.
func TestArchiveWithRuns(t *testing.T) {
	ctx := t.Context()
	l := openLog(t, newMemStore(), nil)
	if _, err := l.AppendBatch(ctx, batchOf(t, "monitor-1", 700, 0), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AppendBatch(ctx, batchOf(t, "uav-gs-1", 10, 1000)[:6], nil); err != nil { // path form
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, signed(t, "monitor-2", 5)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AppendBatch(ctx, batchOf(t, "uav-gs-1", 3, 2000), nil); err != nil {
		t.Fatal(err)
	}
	a, vkey := exportArchive(t, l)
	opts := verify.Options{Identities: ledger.AgreementKeys(exampleAgreement(t)), VerifierKey: vkey}
	if r := verify.VerifyArchive(a, opts); !r.OK() || r.Size != 710 {
		t.Fatalf("archive with runs:\n%s", r)
	}

	// The last run, cut to two of its three entries (a log that lost its last entry): its two
	// entries and the lack of a checkpoint are the problems.
	cut := *a
	cut.Leaves, cut.LeafHashes = a.Leaves[:len(a.Leaves)-1], a.LeafHashes[:len(a.LeafHashes)-1]
	cut.Checkpoints = nil
	r := verify.VerifyArchive(&cut, verify.Options{Identities: opts.Identities})
	if r.OK() || len(r.Problems) != 3 || r.Problems[0].Entry != 707 || r.Problems[1].Entry != 708 ||
		!strings.Contains(r.Problems[0].Err.Error(), "entry 0 of a batch of 3 logged as a run, whose entries 707 to 709 are not all here") {
		t.Errorf("a cut run:\n%s", r)
	}

	// An entry of the first run signed by another key: named by its index.
	forged := *a
	forged.Leaves = append([][]byte(nil), a.Leaves...)
	forged.Leaves[300] = bytes.Replace(a.Leaves[300], []byte(`"n":300}`), []byte(`"n":301}`), 1)
	r = verify.VerifyArchive(&forged, opts)
	if r.OK() || r.Problems[0].Entry != 300 && r.Problems[0].Entry != 0 {
		t.Errorf("a changed entry in a run:\n%s", r)
	}
}

// TestWholeBatchForged appends a whole batch one of whose entries was changed after signing:
// the batch root its entries give is not the signed one, so the log refuses the batch.
func TestWholeBatchForged(t *testing.T) {
	ctx := t.Context()
	l := openLog(t, newMemStore(), nil)
	es := batchOf(t, "monitor-1", 5, 0)
	p, _ := es[3].Batch()
	changed, err := ledger.NewEntry(ledger.KindObservation, "monitor-1", es[3].Submitted(), []byte(`{"n":30}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := changed.SetBatchSignature(p, es[3].Signature()); err != nil {
		t.Fatal(err)
	}
	es[3] = changed
	_, err = l.AppendBatch(ctx, es, nil)
	if !errors.Is(err, ledger.ErrBadSignature) || !strings.Contains(err.Error(), `does not verify for identity "monitor-1"`) {
		t.Errorf("a whole batch with a changed entry: %v, want a bad signature", err)
	}
	if l.Size() != 0 {
		t.Errorf("log size %d after a refused batch", l.Size())
	}
}

// TestRunEntriesAppendedAgain appends entries of a logged run again (as the receipts carry
// them, and as parsed from their leaves): one of them alone goes in path form, checkable
// alone, or is refused if its path is unknown; the whole batch goes as a run again.
func TestRunEntriesAppendedAgain(t *testing.T) {
	ctx := t.Context()
	l := openLog(t, newMemStore(), nil)
	rs, err := l.AppendBatch(ctx, batchOf(t, "monitor-1", 4, 0), nil)
	if err != nil {
		t.Fatal(err)
	}
	pub := demoKey(t, "monitor-1").Public().(ed25519.PublicKey)
	again, err := l.Append(ctx, rs[2].Entry)
	if err != nil {
		t.Fatal(err)
	}
	if again.Entry.IsRun() || bytes.Contains(again.Entry.Leaf(), []byte(`"i":2}`)) {
		t.Errorf("an entry of a run appended alone is in run form: %s", again.Entry.Leaf())
	}
	parsed, err := ledger.ParseLeaf(again.Entry.Leaf())
	if err != nil {
		t.Fatal(err)
	}
	if err := ledger.Verify(parsed, pub); err != nil {
		t.Errorf("re-appended entry: %v", err)
	}

	leaves, err := l.Entries(ctx, 0, 4)
	if err != nil {
		t.Fatal(err)
	}
	run := parseAll(t, leaves)
	if _, err := l.Append(ctx, run[1]); !errors.Is(err, ledger.ErrRunOnly) {
		t.Errorf("a parsed run-form entry appended alone: %v, want ErrRunOnly", err)
	}
	whole, err := l.AppendBatch(ctx, run, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !whole[0].Entry.IsRun() {
		t.Error("a whole run appended again is not a run")
	}
	leaves, err = l.Entries(ctx, whole[0].Index, whole[0].Index+4)
	if err != nil {
		t.Fatal(err)
	}
	if err := ledger.VerifyRun(parseAll(t, leaves), pub); err != nil {
		t.Error(err)
	}
}
