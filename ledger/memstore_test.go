package ledger_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/truce-mission/truce/store"
)

// memStore is an in-memory store.Store for the ledger's tests, following the contract in
// store/store.go (the real backends are tested by store/storetest).
type memStore struct {
	mu     sync.Mutex
	leaves [][]byte
	hashes []tlog.Hash
	byLeaf map[tlog.Hash]int64
	keys   map[string]int64
	cps    map[int64]store.Checkpoint
}

var _ store.Store = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{byLeaf: map[tlog.Hash]int64{}, keys: map[string]int64{}, cps: map[int64]store.Checkpoint{}}
}

func (m *memStore) Append(ctx context.Context, b *store.Batch) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if b.First != int64(len(m.leaves)) || b.HashFirst != int64(len(m.hashes)) {
		return store.ErrConflict
	}
	if len(b.LeafHash) != len(b.Leaves) || b.Keys != nil && len(b.Keys) != len(b.Leaves) {
		return fmt.Errorf("memstore: batch of %d leaves, %d leaf hashes, %d keys", len(b.Leaves), len(b.LeafHash), len(b.Keys))
	}
	seen := map[string]bool{}
	for _, k := range b.Keys {
		if k == "" {
			continue
		}
		if _, ok := m.keys[k]; ok || seen[k] {
			return store.ErrDuplicateKey
		}
		seen[k] = true
	}
	for i, leaf := range b.Leaves {
		idx := b.First + int64(i)
		m.leaves = append(m.leaves, bytes.Clone(leaf))
		if _, ok := m.byLeaf[b.LeafHash[i]]; !ok {
			m.byLeaf[b.LeafHash[i]] = idx
		}
		if b.Keys != nil && b.Keys[i] != "" {
			m.keys[b.Keys[i]] = idx
		}
	}
	m.hashes = append(m.hashes, b.Hashes...)
	return nil
}

func (m *memStore) Size(ctx context.Context) (int64, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return int64(len(m.leaves)), int64(len(m.hashes)), nil
}

func (m *memStore) Leaves(ctx context.Context, start, end int64) ([][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if start < 0 || start > end || end > int64(len(m.leaves)) {
		return nil, fmt.Errorf("memstore: leaves [%d, %d) of %d", start, end, len(m.leaves))
	}
	return slices.Clone(m.leaves[start:end]), nil
}

func (m *memStore) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(m.hashes)) {
			return nil, fmt.Errorf("memstore: hash %d: %w", x, store.ErrNotFound)
		}
		out[i] = m.hashes[x]
	}
	return out, nil
}

func (m *memStore) IndexOfLeafHash(ctx context.Context, h tlog.Hash) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i, ok := m.byLeaf[h]; ok {
		return i, nil
	}
	return 0, store.ErrNotFound
}

func (m *memStore) IndexOfKey(ctx context.Context, key string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i, ok := m.keys[key]; ok {
		return i, nil
	}
	return 0, store.ErrNotFound
}

func (m *memStore) PutCheckpoint(ctx context.Context, c store.Checkpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.cps[c.Size]; !ok {
		m.cps[c.Size] = store.Checkpoint{Size: c.Size, Note: bytes.Clone(c.Note)}
	}
	return nil
}

func (m *memStore) LatestCheckpoint(ctx context.Context) (store.Checkpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	best := int64(-1)
	for s := range m.cps {
		best = max(best, s)
	}
	if best < 0 {
		return store.Checkpoint{}, store.ErrNotFound
	}
	return m.cps[best], nil
}

func (m *memStore) Checkpoint(ctx context.Context, size int64) (store.Checkpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.cps[size]; ok {
		return c, nil
	}
	return store.Checkpoint{}, store.ErrNotFound
}

func (m *memStore) Close() error { return nil }

// spyStore wraps a store, counting Append calls and the entries they carried, and failing
// Append when fail returns an error.
type spyStore struct {
	store.Store
	appends atomic.Int64
	entries atomic.Int64
	fail    atomic.Pointer[func(*store.Batch) error]
}

func (s *spyStore) Append(ctx context.Context, b *store.Batch) error {
	s.appends.Add(1)
	if f := s.fail.Load(); f != nil {
		if err := (*f)(b); err != nil {
			return err
		}
	}
	if err := s.Store.Append(ctx, b); err != nil {
		return err
	}
	s.entries.Add(int64(len(b.Leaves)))
	return nil
}

func (s *spyStore) setFail(f func(*store.Batch) error) {
	if f == nil {
		s.fail.Store(nil)
		return
	}
	s.fail.Store(&f)
}
