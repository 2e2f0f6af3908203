package ledger_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	fmtlog "github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/truce-mission/truce/ledger"
	"github.com/truce-mission/truce/store"
)

// rootOf recomputes the RFC 6962 root of leaves independently of the log.
func rootOf(leaves [][]byte) tlog.Hash {
	var hashes []tlog.Hash
	for _, l := range leaves {
		hashes = append(hashes, tlog.RecordHash(l))
	}
	var root func([]tlog.Hash) tlog.Hash
	root = func(hs []tlog.Hash) tlog.Hash {
		if len(hs) == 1 {
			return hs[0]
		}
		k := 1
		for k*2 < len(hs) {
			k *= 2
		}
		return tlog.NodeHash(root(hs[:k]), root(hs[k:]))
	}
	if len(hashes) == 0 {
		h, _ := tlog.TreeHash(0, nil)
		return h
	}
	return root(hashes)
}

func TestAppend(t *testing.T) {
	ctx := t.Context()
	st := newMemStore()
	l := openLog(t, st, nil)
	ids := []string{"monitor-1", "east-liaison", "uav-gs-1"}
	var receipts []ledger.Receipt
	for i := range 10 {
		r, err := l.Append(ctx, signed(t, ids[i%len(ids)], i))
		if err != nil {
			t.Fatal(err)
		}
		receipts = append(receipts, r)
	}
	leaves, err := l.Entries(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range receipts {
		if r.Index != int64(i) || r.Duplicate {
			t.Errorf("receipt %d: %+v", i, r)
		}
		e, err := ledger.ParseLeaf(leaves[i])
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if e.LeafHash() != r.LeafHash || !e.Received().Equal(r.Received) || e.Submitter() != ids[i%len(ids)] {
			t.Errorf("entry %d does not match its receipt: %v vs %+v", i, e, r)
		}
		if i > 0 && r.Received.Before(receipts[i-1].Received) {
			t.Errorf("receipt time went back at %d", i)
		}
	}
	size, root := l.Head()
	if size != 10 || root != rootOf(leaves) {
		t.Errorf("head (%d, %s), want (10, %s)", size, root, rootOf(leaves))
	}
}

func TestAppendRefused(t *testing.T) {
	ctx := t.Context()
	st := newMemStore()
	l := openLog(t, st, nil)

	forged := signed(t, "monitor-1", 1)
	if err := ledger.Sign(forged, demoKey(t, "east-liaison")); err != nil {
		t.Fatal(err)
	}
	stranger, _ := ledger.NewEntry(ledger.KindNote, "intruder", baseTime, []byte(`{}`))
	ledger.Sign(stranger, demoKey(t, "monitor-1"))
	unsigned, _ := ledger.NewEntry(ledger.KindNote, "monitor-1", baseTime, []byte(`{}`))

	for _, tc := range []struct {
		name     string
		e        *ledger.Entry
		sentinel error
		want     string
	}{
		{"forged", forged, ledger.ErrBadSignature, `signature: does not verify for identity "monitor-1"`},
		{"unknown identity", stranger, ledger.ErrUnknownIdentity, `submitter: unknown identity "intruder"`},
		{"unsigned", unsigned, ledger.ErrBadSignature, `signature: missing for identity "monitor-1"`},
		{"zero entry", &ledger.Entry{}, ledger.ErrMalformed, "entry: not built by NewEntry or ParseLeaf"},
		{"nil entry", nil, ledger.ErrMalformed, "entry: not built by NewEntry or ParseLeaf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := l.Append(ctx, tc.e)
			if !errors.Is(err, tc.sentinel) || err.Error() != tc.want {
				t.Errorf("got %v, want %q (%v)", err, tc.want, tc.sentinel)
			}
		})
	}
	_, err := l.AppendBatch(ctx, []*ledger.Entry{signed(t, "monitor-1", 1), forged}, nil)
	if !errors.Is(err, ledger.ErrBadSignature) || !strings.HasPrefix(err.Error(), "appending entry 1 of 2: signature") {
		t.Errorf("batch with a forged entry: %v", err)
	}
	if l.Size() != 0 {
		t.Errorf("refused entries were appended: size %d", l.Size())
	}
}

func TestAppendBatch(t *testing.T) {
	ctx := t.Context()
	st := &spyStore{Store: newMemStore()}
	l := openLog(t, st, func(o *ledger.Options) { o.MaxBatch = 8 })
	var es []*ledger.Entry
	for i := range 8 {
		es = append(es, signed(t, "monitor-2", i))
	}
	rs, err := l.AppendBatch(ctx, es, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if r.Index != int64(i) {
			t.Errorf("receipt %d has index %d", i, r.Index)
		}
	}
	if n := st.appends.Load(); n != 1 {
		t.Errorf("one batch took %d store appends", n)
	}
	if _, err := l.AppendBatch(ctx, append(es, es[0]), nil); !errors.Is(err, ledger.ErrTooLarge) {
		t.Errorf("9 entries with MaxBatch 8: %v", err)
	}
	if _, err := l.AppendBatch(ctx, es, []string{"a"}); err == nil {
		t.Error("keys not parallel to entries: no error")
	}
}

// TestGroupCommit runs 16 writers of 500 appends each over a store whose commits take a
// millisecond, like an fsync: the appends share far fewer store transactions, and every
// entry gets its own consecutive index.
func TestGroupCommit(t *testing.T) {
	const writers, each = 16, 500
	ctx := t.Context()
	st := &spyStore{Store: newMemStore()}
	slow := func(*store.Batch) error { time.Sleep(time.Millisecond); return nil }
	st.setFail(slow)
	l := openLog(t, st, nil)

	ids := []string{"monitor-1", "monitor-2", "uav-gs-1", "ais-rx-1"}
	entries := make([][]*ledger.Entry, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				entries[w] = append(entries[w], signed(t, ids[w%len(ids)], w*each+i))
			}
		})
	}
	wg.Wait()

	receipts := make([][]ledger.Receipt, writers)
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for _, e := range entries[w] {
				r, err := l.Append(ctx, e)
				if err != nil {
					errs <- err
					return
				}
				receipts[w] = append(receipts[w], r)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	seen := make([]bool, writers*each)
	leaves, err := l.Entries(ctx, 0, writers*each)
	if err != nil {
		t.Fatal(err)
	}
	for w := range writers {
		for i, r := range receipts[w] {
			if r.Index < 0 || r.Index >= writers*each || seen[r.Index] {
				t.Fatalf("writer %d append %d: index %d out of range or repeated", w, i, r.Index)
			}
			seen[r.Index] = true
			if i > 0 && r.Index <= receipts[w][i-1].Index {
				t.Errorf("writer %d: index %d after %d", w, r.Index, receipts[w][i-1].Index)
			}
			e, err := ledger.ParseLeaf(leaves[r.Index])
			if err != nil || !bytes.Equal(e.Payload(), entries[w][i].Payload()) {
				t.Fatalf("entry %d is not writer %d's append %d: %v", r.Index, w, i, err)
			}
		}
	}
	if l.Size() != writers*each {
		t.Errorf("size %d, want %d", l.Size(), writers*each)
	}
	calls := st.appends.Load()
	t.Logf("%d appends in %d store transactions (%.1f entries each)", writers*each, calls, float64(writers*each)/float64(calls))
	if calls > writers*each/4 {
		t.Errorf("%d store appends for %d entries: group commit is not grouping", calls, writers*each)
	}
	if _, root := l.Head(); root != rootOf(leaves) {
		t.Error("root does not match the leaves")
	}
}

func TestIdempotency(t *testing.T) {
	ctx := t.Context()
	st := &spyStore{Store: newMemStore()}
	l := openLog(t, st, nil)
	e := signed(t, "monitor-1", 1)

	first, err := l.AppendWithKey(ctx, e, "monitor-1/abc")
	if err != nil || first.Duplicate {
		t.Fatalf("first append: %+v, %v", first, err)
	}
	again, err := l.AppendWithKey(ctx, e, "monitor-1/abc")
	if err != nil || !again.Duplicate || again.Index != first.Index || again.LeafHash != first.LeafHash || !again.Received.Equal(first.Received) {
		t.Fatalf("resubmission: %+v, %v; want the original %+v", again, err, first)
	}
	// The same content rebuilt from scratch is the same submission.
	if r, err := l.AppendWithKey(ctx, signed(t, "monitor-1", 1), "monitor-1/abc"); err != nil || r.Index != first.Index {
		t.Errorf("identical resubmission: %+v, %v", r, err)
	}
	// Another entry under a used key is refused.
	if _, err := l.AppendWithKey(ctx, signed(t, "monitor-1", 2), "monitor-1/abc"); !errors.Is(err, ledger.ErrKeyConflict) {
		t.Errorf("other entry, same key: %v", err)
	}
	if l.Size() != 1 {
		t.Fatalf("size %d after resubmissions, want 1", l.Size())
	}

	t.Run("within a batch", func(t *testing.T) {
		a, b := signed(t, "monitor-2", 10), signed(t, "monitor-2", 11)
		rs, err := l.AppendBatch(ctx, []*ledger.Entry{a, b, a}, []string{"k-a", "", "k-a"})
		if err != nil {
			t.Fatal(err)
		}
		if rs[0].Duplicate || !rs[2].Duplicate || rs[2].Index != rs[0].Index || rs[1].Index != rs[0].Index+1 {
			t.Errorf("receipts %+v", rs)
		}
		if l.Size() != 3 {
			t.Errorf("size %d, want 3", l.Size())
		}
		if _, err := l.AppendBatch(ctx, []*ledger.Entry{a, b}, []string{"k-x", "k-x"}); !errors.Is(err, ledger.ErrKeyConflict) {
			t.Errorf("two entries, one key, one batch: %v", err)
		}
		if l.Size() != 3 {
			t.Errorf("a refused batch was partly appended: size %d", l.Size())
		}
	})

	t.Run("concurrent", func(t *testing.T) {
		e := signed(t, "uav-gs-1", 20)
		before := l.Size()
		var wg sync.WaitGroup
		rs := make([]ledger.Receipt, 32)
		for i := range rs {
			wg.Go(func() {
				r, err := l.AppendWithKey(ctx, e, "uav/20")
				if err != nil {
					t.Error(err)
				}
				rs[i] = r
			})
		}
		wg.Wait()
		dups := 0
		for _, r := range rs {
			if r.Index != rs[0].Index {
				t.Errorf("receipts disagree: %d vs %d", r.Index, rs[0].Index)
			}
			if r.Duplicate {
				dups++
			}
		}
		if l.Size() != before+1 || dups != len(rs)-1 {
			t.Errorf("32 concurrent submissions: size +%d, %d duplicates", l.Size()-before, dups)
		}
	})

	t.Run("after reopening", func(t *testing.T) {
		l.Close()
		l2 := openLog(t, st.Store, nil)
		r, err := l2.AppendWithKey(ctx, e, "monitor-1/abc")
		if err != nil || !r.Duplicate || r.Index != first.Index || r.LeafHash != first.LeafHash {
			t.Errorf("after reopening: %+v, %v", r, err)
		}
	})

	t.Run("small key cache", func(t *testing.T) {
		l3 := openLog(t, newMemStore(), func(o *ledger.Options) { o.KeyCache = 2 })
		var es []*ledger.Entry
		for i := range 10 {
			es = append(es, signed(t, "monitor-1", 100+i))
			if _, err := l3.AppendWithKey(ctx, es[i], fmt.Sprint("k", i)); err != nil {
				t.Fatal(err)
			}
		}
		for i, e := range es {
			r, err := l3.AppendWithKey(ctx, e, fmt.Sprint("k", i))
			if err != nil || !r.Duplicate || r.Index != int64(i) {
				t.Errorf("key k%d: %+v, %v", i, r, err)
			}
		}
		if l3.Size() != 10 {
			t.Errorf("size %d, want 10", l3.Size())
		}
	})
}

// TestStoreFailure fails one store transaction under concurrent appends: every waiter of
// that batch gets the error, and the log goes on from what the store holds.
func TestStoreFailure(t *testing.T) {
	ctx := t.Context()
	mem := newMemStore()
	st := &spyStore{Store: mem}
	l := openLog(t, st, nil)
	for i := range 5 {
		if _, err := l.Append(ctx, signed(t, "monitor-1", i)); err != nil {
			t.Fatal(err)
		}
	}

	// The first store transaction holds until the writers have queued behind it; the
	// second, which carries them, fails.
	disk := errors.New("disk on fire")
	entered, release := make(chan struct{}), make(chan struct{})
	var calls, failedBatch atomic.Int64
	st.setFail(func(b *store.Batch) error {
		switch calls.Add(1) {
		case 1:
			close(entered)
			<-release
		case 2:
			failedBatch.Store(int64(len(b.Leaves)))
			return disk
		}
		return nil
	})
	blocker := signed(t, "monitor-1", 99)
	go l.Append(ctx, blocker)
	<-entered
	const writers = 8
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		e := signed(t, "monitor-2", 100+w)
		wg.Go(func() { _, errs[w] = l.Append(ctx, e) })
	}
	time.Sleep(50 * time.Millisecond) // let the writers queue; the assertions do not depend on it
	close(release)
	wg.Wait()
	nFailed := 0
	for _, err := range errs {
		if err != nil {
			if !errors.Is(err, disk) {
				t.Errorf("a waiter got %v, want the store's error", err)
			}
			nFailed++
		}
	}
	t.Logf("the failed transaction carried %d appends", failedBatch.Load())
	if nFailed == 0 || int64(nFailed) != failedBatch.Load() {
		t.Fatalf("%d waiters saw the failure, the failed batch had %d entries", nFailed, failedBatch.Load())
	}
	if got := l.Size(); got != int64(6+writers-nFailed) {
		t.Errorf("size %d, want %d (failed %d)", got, 6+writers-nFailed, nFailed)
	}

	// The log carries on at the next index.
	st.setFail(nil)
	r, err := l.Append(ctx, signed(t, "monitor-1", 200))
	if err != nil {
		t.Fatal(err)
	}
	if r.Index != int64(6+writers-nFailed) {
		t.Errorf("next index %d, want %d", r.Index, 6+writers-nFailed)
	}

	t.Run("written but reported failed", func(t *testing.T) {
		// The transaction commits but the error comes back (a lost reply): the waiter sees
		// the error, the log reloads and counts the entry, and the idempotency key finds it.
		st.setFail(func(b *store.Batch) error {
			if err := mem.Append(ctx, b); err != nil {
				return err
			}
			return errors.New("connection reset")
		})
		e := signed(t, "monitor-1", 300)
		before := l.Size()
		if _, err := l.AppendWithKey(ctx, e, "lost-reply"); err == nil {
			t.Fatal("no error")
		}
		st.setFail(nil)
		r, err := l.AppendWithKey(ctx, e, "lost-reply")
		if err != nil || !r.Duplicate || r.Index != before {
			t.Errorf("resubmission after a lost reply: %+v, %v", r, err)
		}
		if l.Size() != before+1 {
			t.Errorf("size %d, want %d", l.Size(), before+1)
		}
	})

	t.Run("another writer", func(t *testing.T) {
		// Someone appends to the store behind the log's back: the next batch conflicts and
		// fails, and the log reloads from the store.
		other := openLog(t, mem, nil)
		if _, err := other.Append(ctx, signed(t, "monitor-2", 400)); err != nil {
			t.Fatal(err)
		}
		_, err := l.Append(ctx, signed(t, "monitor-2", 401))
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("append after another writer: %v, want store.ErrConflict", err)
		}
		r, err := l.Append(ctx, signed(t, "monitor-2", 402))
		if err != nil {
			t.Fatal(err)
		}
		n, _, _ := mem.Size(ctx)
		if r.Index != n-1 {
			t.Errorf("index %d, store size %d", r.Index, n)
		}
	})

	leaves, _ := l.Entries(ctx, 0, l.Size())
	for i, leaf := range leaves {
		if _, err := ledger.ParseLeaf(leaf); err != nil {
			t.Errorf("entry %d: %v", i, err)
		}
	}
	if _, root := l.Head(); root != rootOf(leaves) {
		t.Error("root does not match the stored leaves after the failures")
	}
}

func TestCheckpoint(t *testing.T) {
	ctx := t.Context()
	st := newMemStore()
	var mu sync.Mutex
	now := baseTime
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	l := openLog(t, st, func(o *ledger.Options) { o.Clock = clock; o.CheckpointInterval = time.Minute })
	_, v := missionSigner(t)

	open := func(msg []byte) ledger.Checkpoint {
		t.Helper()
		c, err := ledger.OpenCheckpoint(msg, origin, v)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	cp0, err := l.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c := open(cp0); c.Size != 0 || c.Root != rootOf(nil) {
		t.Errorf("empty log's checkpoint: %+v", c)
	}
	for i := range 3 {
		l.Append(ctx, signed(t, "monitor-1", i))
	}
	if cp, _ := l.Checkpoint(ctx); !bytes.Equal(cp, cp0) {
		t.Error("a new checkpoint within the interval")
	}
	advance(time.Minute)
	cp3, err := l.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leaves, _ := l.Entries(ctx, 0, 3)
	if c := open(cp3); c.Size != 3 || c.Root != rootOf(leaves) || c.Origin != origin {
		t.Errorf("checkpoint %+v", c)
	}
	if !strings.HasPrefix(string(cp3), origin+"\n3\n") {
		t.Errorf("checkpoint text:\n%s", cp3)
	}
	// A standard checkpoint parser (transparency-dev/formats) accepts it with the
	// verifier key.
	root3 := open(cp3).Root
	if std, _, _, err := fmtlog.ParseCheckpoint(cp3, origin, v); err != nil || std.Size != 3 || string(std.Hash) != string(root3[:]) {
		t.Errorf("formats/log.ParseCheckpoint: %+v, %v", std, err)
	}
	stored, err := st.LatestCheckpoint(ctx)
	if err != nil || stored.Size != 3 || !bytes.Equal(stored.Note, cp3) {
		t.Errorf("stored checkpoint %+v, %v", stored, err)
	}
	advance(time.Hour)
	if cp, _ := l.Checkpoint(ctx); !bytes.Equal(cp, cp3) {
		t.Error("a new checkpoint though the size did not change")
	}

	// A checkpoint from another key does not open.
	other, _ := ledger.NewNoteSigner(origin, demoKey(t, "monitor-1"))
	forged, _ := ledger.SignCheckpoint(ledger.Checkpoint{Origin: origin, Size: 3, Root: tlog.Hash{1}}, other)
	if _, err := ledger.OpenCheckpoint(forged, origin, v); !errors.Is(err, ledger.ErrBadCheckpoint) {
		t.Errorf("checkpoint by another key: %v", err)
	}
	if _, err := ledger.OpenCheckpoint(cp3, "truce.example/other", v); !errors.Is(err, ledger.ErrBadCheckpoint) {
		t.Errorf("checkpoint of another origin: %v", err)
	}
}

func TestReopen(t *testing.T) {
	ctx := t.Context()
	st := newMemStore()
	l := openLog(t, st, nil)
	for i := range 37 {
		l.Append(ctx, signed(t, "monitor-1", i))
	}
	if _, err := l.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	size, root := l.Head()
	l.Close()
	if _, err := l.Append(ctx, signed(t, "monitor-1", 99)); !errors.Is(err, ledger.ErrClosed) {
		t.Errorf("append after Close: %v", err)
	}

	l2 := openLog(t, st, nil)
	if s, r := l2.Head(); s != size || r != root {
		t.Errorf("reopened head (%d, %s), want (%d, %s)", s, r, size, root)
	}
	rc, err := l2.Append(ctx, signed(t, "monitor-1", 37))
	if err != nil || rc.Index != 37 {
		t.Fatalf("append after reopening: %+v, %v", rc, err)
	}
	l2.Close()

	// A stored hash changed behind the log's back no longer matches the checkpoint. (Open
	// reads the hashes on the tree's right edge, here the subtree of entries 0 to 31; a
	// full check is ledger/verify's job.)
	st.hashes[tlog.StoredHashIndex(5, 0)][0] ^= 1
	s, _ := missionSigner(t)
	_, err = ledger.Open(ctx, st, ledger.Options{Origin: origin, Signer: s, Authorize: func(*ledger.Entry) error { return nil }})
	if !errors.Is(err, ledger.ErrStoreMismatch) {
		t.Errorf("open over a damaged store: %v", err)
	}
}

func TestCloseDrains(t *testing.T) {
	ctx := t.Context()
	st := newMemStore()
	l := openLog(t, st, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for w := range 8 {
		es := make([]*ledger.Entry, 50)
		for i := range es {
			es[i] = signed(t, "monitor-1", w*50+i)
		}
		wg.Go(func() {
			for _, e := range es {
				_, err := l.Append(ctx, e)
				if errors.Is(err, ledger.ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	time.Sleep(5 * time.Millisecond)
	l.Close()
	wg.Wait()
	n, _, _ := st.Size(ctx)
	if int(n) != ok || l.Size() != n {
		t.Errorf("%d receipts, %d entries stored, log size %d", ok, n, l.Size())
	}
}

func TestProofRanges(t *testing.T) {
	ctx := t.Context()
	l := openLog(t, newMemStore(), nil)
	for i := range 4 {
		l.Append(ctx, signed(t, "monitor-1", i))
	}
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"index = size", func() error { _, err := l.InclusionProof(ctx, 4, 4); return err }()},
		{"size beyond log", func() error { _, err := l.InclusionProof(ctx, 0, 5); return err }()},
		{"negative", func() error { _, err := l.InclusionProof(ctx, -1, 4); return err }()},
		{"consistency from 0", func() error { _, err := l.ConsistencyProof(ctx, 0, 4); return err }()},
		{"consistency backwards", func() error { _, err := l.ConsistencyProof(ctx, 3, 2); return err }()},
		{"entries beyond", func() error { _, err := l.Entries(ctx, 2, 5); return err }()},
	} {
		if !errors.Is(tc.err, ledger.ErrRange) {
			t.Errorf("%s: %v, want ErrRange", tc.name, tc.err)
		}
	}
	if _, _, err := l.InclusionProofByHash(ctx, tlog.Hash{9}, 4); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("unknown leaf hash: %v", err)
	}
	leaves, _ := l.Entries(ctx, 0, 4)
	if _, _, err := l.InclusionProofByHash(ctx, tlog.RecordHash(leaves[3]), 3); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("leaf beyond the asked size: %v", err)
	}
}
