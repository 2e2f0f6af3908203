package ledger_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/truce-mission/truce/ledger"
	"github.com/truce-mission/truce/store"
)

// keySpy counts the store's idempotency-key lookups.
type keySpy struct {
	store.Store
	lookups atomic.Int64
}

func (s *keySpy) IndexOfKey(ctx context.Context, key string) (int64, error) {
	s.lookups.Add(1)
	return s.Store.IndexOfKey(ctx, key)
}

// Keys are checked optimistically: new keys cost no store lookup, and a key stored before
// the log was opened (so not in the sequencer's memory) is caught by the store's unique
// index, after which the batch is sequenced again with lookups: the resubmission gets its
// original receipt, a conflict is refused, and the other requests of the same group commit
// are appended all the same.
func TestOptimisticKeys(t *testing.T) {
	ctx := t.Context()
	mem := newMemStore()
	l := openLog(t, mem, nil)
	old := signed(t, "monitor-1", 1)
	first, err := l.AppendWithKey(ctx, old, "monitor-1/old")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()

	spy := &keySpy{Store: mem}
	l = openLog(t, spy, nil)
	// New keys: no lookup.
	es := []*ledger.Entry{signed(t, "monitor-1", 2), signed(t, "monitor-1", 3)}
	if _, err := l.AppendBatch(ctx, es, []string{"monitor-1/a", "monitor-1/b"}); err != nil {
		t.Fatal(err)
	}
	if n := spy.lookups.Load(); n != 0 {
		t.Errorf("%d store lookups for new keys, want 0", n)
	}
	// Keys written since opening are answered from memory.
	if r, err := l.AppendWithKey(ctx, es[0], "monitor-1/a"); err != nil || !r.Duplicate || r.Index != 1 {
		t.Errorf("resubmission of a key written since opening: %+v, %v", r, err)
	}
	if n := spy.lookups.Load(); n != 0 {
		t.Errorf("%d store lookups for a key held in memory, want 0", n)
	}

	// A key from before opening, in one batch with a new entry.
	fresh := signed(t, "monitor-1", 4)
	rs, err := l.AppendBatch(ctx, []*ledger.Entry{fresh, old}, []string{"monitor-1/c", "monitor-1/old"})
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Duplicate || rs[0].Index != 3 {
		t.Errorf("new entry beside a resubmission: %+v", rs[0])
	}
	if !rs[1].Duplicate || rs[1].Index != first.Index || rs[1].LeafHash != first.LeafHash || !rs[1].Received.Equal(first.Received) {
		t.Errorf("resubmission of a key stored before opening: %+v, want the original %+v", rs[1], first)
	}
	if spy.lookups.Load() == 0 {
		t.Error("no store lookup: the stored key cannot have been checked")
	}
	// The same key for other content is a conflict, and nothing is appended.
	if _, err := l.AppendWithKey(ctx, signed(t, "monitor-1", 5), "monitor-1/old"); !errors.Is(err, ledger.ErrKeyConflict) {
		t.Errorf("other content under a stored key: %v, want ErrKeyConflict", err)
	}
	if l.Size() != 4 {
		t.Errorf("size %d, want 4", l.Size())
	}
}
