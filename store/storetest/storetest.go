// Package storetest is the conformance suite every store.Store implementation runs, in the
// manner of tessera's LogIntegrationTest: one exported [Run] called from each backend's tests,
// so that behaviour is shared through tests and not through code. [RunTwoWriters] adds the
// check for backends that several processes share, and [BenchAppend] and [BenchReadHashes]
// are the benchmarks every backend reports.
//
// Batches are built with real golang.org/x/mod/sumdb/tlog hashes by a [Frontier], so the suite
// also checks that a store serves what tlog needs: tree hashes and proofs computed through
// ReadHashes must match the frontier's.
//
// The suite asks slightly more than the letter of store.Store in two places, which callers may
// rely on: Leaves with an end beyond the log fails with store.ErrNotFound, and Append refuses a
// malformed batch (lengths that do not agree) with an error and writes nothing. A batch that
// does not start where the log ends is store.ErrConflict whatever else is wrong with it.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/truce-mission/truce/store"
	"golang.org/x/mod/sumdb/tlog"
)

// Run runs the conformance suite against the stores open returns.
//
// Each subtest calls open with its own t. The first call for a given t must return an empty
// store over data of its own. A later call with the same t, made after Run closed the store the
// previous call returned, must return a store over the same data, as after a restart. Run
// closes every store it gets. [PerTest] builds such a function from "create data" and "open
// data" halves.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	op := opener(open)
	tests := []struct {
		name string
		run  func(t *testing.T, open opener)
	}{
		{"Empty", testEmpty},
		{"AppendReadBack", testAppendReadBack},
		{"Conflict", testConflict},
		{"DuplicateKey", testDuplicateKey},
		{"InvalidBatch", testInvalidBatch},
		{"CanceledContext", testCanceledContext},
		{"IndexOfKey", testIndexOfKey},
		{"IndexOfLeafHash", testIndexOfLeafHash},
		{"ReadHashes", testReadHashes},
		{"Leaves", testLeaves},
		{"Checkpoints", testCheckpoints},
		{"ConcurrentReaders", testConcurrentReaders},
		{"Reopen", testReopen},
		{"LargeBatch", testLargeBatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, op) })
	}
}

// PerTest returns an open function for [Run]: the first call for a t makes the test's backing
// data with create (a directory, a database schema) and opens it; later calls with the same t
// open the same data again. create should register the data's removal with t.Cleanup; it runs
// after Run has closed the stores.
func PerTest[D any](create func(t *testing.T) D, open func(t *testing.T, data D) store.Store) func(t *testing.T) store.Store {
	var (
		mu   sync.Mutex
		data = make(map[*testing.T]D)
	)
	get := func(t *testing.T) D {
		t.Helper()
		mu.Lock()
		defer mu.Unlock() // create may skip or fail t, which exits its goroutine
		d, ok := data[t]
		if !ok {
			d = create(t)
			data[t] = d
			t.Cleanup(func() {
				mu.Lock()
				delete(data, t)
				mu.Unlock()
			})
		}
		return d
	}
	return func(t *testing.T) store.Store {
		t.Helper()
		return open(t, get(t))
	}
}

// opener opens a store and closes it when the test ends, unless the test closed it first.
type opener func(t *testing.T) store.Store

func (open opener) store(t *testing.T) *closer {
	t.Helper()
	s := open(t)
	if s == nil {
		t.Fatal("open returned a nil store")
	}
	c := &closer{Store: s}
	t.Cleanup(func() {
		if !c.closed {
			if err := c.Store.Close(); err != nil {
				t.Errorf("closing the store: %v", err)
			}
		}
	})
	return c
}

// closer is a store that remembers being closed.
type closer struct {
	store.Store
	closed bool
}

func (c *closer) close(t *testing.T) {
	t.Helper()
	c.closed = true
	if err := c.Store.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// model is what a store should hold: the suite keeps the whole log in memory.
type model struct {
	f      Frontier
	leaves [][]byte
	hashes []tlog.Hash
	keys   map[string]int64
}

// append appends leaves (with keys: nil or one per leaf) to s and to the model.
func (m *model) append(t *testing.T, s store.Store, leaves [][]byte, keys []string) {
	t.Helper()
	b := m.f.Batch(leaves, keys)
	if err := s.Append(t.Context(), b); err != nil {
		t.Fatalf("Append(%d leaves at %d): %v", len(leaves), b.First, err)
	}
	m.commit(b)
}

func (m *model) commit(b *store.Batch) {
	m.f.Advance(b)
	m.leaves = append(m.leaves, b.Leaves...)
	m.hashes = append(m.hashes, b.Hashes...)
	for i, k := range b.Keys {
		if k != "" {
			if m.keys == nil {
				m.keys = make(map[string]int64)
			}
			m.keys[k] = b.First + int64(i)
		}
	}
}

// verify checks that s holds exactly the model's log.
func (m *model) verify(t *testing.T, s store.Store) {
	t.Helper()
	ctx := t.Context()
	n := int64(len(m.leaves))
	entries, hashes, err := s.Size(ctx)
	if err != nil || entries != n || hashes != int64(len(m.hashes)) {
		t.Fatalf("Size = %d, %d, %v; want %d, %d", entries, hashes, err, n, len(m.hashes))
	}
	leaves, err := s.Leaves(ctx, 0, n)
	if err != nil {
		t.Fatalf("Leaves(0, %d): %v", n, err)
	}
	if len(leaves) != len(m.leaves) {
		t.Fatalf("Leaves(0, %d) returned %d leaves", n, len(leaves))
	}
	for i := range leaves {
		if !bytes.Equal(leaves[i], m.leaves[i]) {
			t.Fatalf("leaf %d = %q, want %q", i, leaves[i], m.leaves[i])
		}
	}
	all := make([]int64, len(m.hashes))
	for i := range all {
		all[i] = int64(i)
	}
	got, err := s.ReadHashes(ctx, all)
	if err != nil {
		t.Fatalf("ReadHashes(all %d): %v", len(all), err)
	}
	if !slices.Equal(got, m.hashes) {
		t.Fatalf("ReadHashes(all %d) differs from the stored hashes", len(all))
	}
	root, err := tlog.TreeHash(n, reader(ctx, s))
	if err != nil || root != m.f.Root() {
		t.Fatalf("tlog.TreeHash(%d) through the store = %v, %v; want %v", n, root, err, m.f.Root())
	}
	// Per-entry lookups: a sample, so that large logs stay quick on a remote database.
	step := max(1, n/200)
	for i := int64(0); i < n; i += step {
		want := int64(slices.IndexFunc(m.leaves, func(l []byte) bool { return bytes.Equal(l, m.leaves[i]) }))
		if got, err := s.IndexOfLeafHash(ctx, tlog.RecordHash(m.leaves[i])); err != nil || got != want {
			t.Fatalf("IndexOfLeafHash(leaf %d) = %d, %v; want %d", i, got, err, want)
		}
	}
	k := 0
	for key, want := range m.keys {
		if k++; k > 200 {
			break
		}
		if got, err := s.IndexOfKey(ctx, key); err != nil || got != want {
			t.Fatalf("IndexOfKey(%q) = %d, %v; want %d", key, got, err, want)
		}
	}
}

// reader adapts a store to tlog.HashReader.
func reader(ctx context.Context, s store.Store) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		return s.ReadHashes(ctx, indexes)
	})
}

// leaf returns the test leaf for index i: n bytes (at least what the text needs) that depend on
// i, so that concurrent readers can check what they read.
func leaf(i int64, n int) []byte {
	b := fmt.Appendf(make([]byte, 0, n), "entry %d ", i)
	for len(b) < n {
		b = append(b, byte('a'+(i+int64(len(b)))%26))
	}
	return b
}

func leaves(first, n int64, size int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = leaf(first+int64(i), size)
	}
	return out
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error %v, want %v", what, err, target)
	}
}

func testEmpty(t *testing.T, open opener) {
	s := open.store(t)
	ctx := t.Context()
	var m model
	m.verify(t, s)
	if l, err := s.Leaves(ctx, 0, 0); err != nil || len(l) != 0 {
		t.Fatalf("Leaves(0, 0) = %d leaves, %v; want none", len(l), err)
	}
	_, err := s.Leaves(ctx, 0, 1)
	wantErr(t, "Leaves(0, 1) on an empty store", err, store.ErrNotFound)
	_, err = s.ReadHashes(ctx, []int64{0})
	wantErr(t, "ReadHashes(0) on an empty store", err, store.ErrNotFound)
	_, err = s.IndexOfLeafHash(ctx, tlog.RecordHash(nil))
	wantErr(t, "IndexOfLeafHash on an empty store", err, store.ErrNotFound)
	_, err = s.IndexOfKey(ctx, "k")
	wantErr(t, "IndexOfKey on an empty store", err, store.ErrNotFound)
	_, err = s.LatestCheckpoint(ctx)
	wantErr(t, "LatestCheckpoint on an empty store", err, store.ErrNotFound)
	// An empty batch at the right place writes nothing and is no error.
	if err := s.Append(ctx, m.f.Batch(nil, nil)); err != nil {
		t.Fatalf("Append(empty batch): %v", err)
	}
	m.verify(t, s)
}

func testAppendReadBack(t *testing.T, open opener) {
	s := open.store(t)
	var m model
	// Leaves are opaque bytes: empty, NUL, invalid UTF-8, and a nil slice (stored as empty).
	odd := [][]byte{{}, {0}, {0xff, 0xfe, 0x00, 0x80}, []byte("plain text\n"), nil, bytes.Repeat([]byte{0xab}, 4096)}
	m.append(t, s, odd, nil)
	m.verify(t, s)
	for _, n := range []int64{1, 2, 3, 7, 64, 100} {
		m.append(t, s, leaves(m.f.Size(), n, 50), nil)
		m.verify(t, s)
	}
	// Sub-ranges.
	for _, r := range [][2]int64{{0, 1}, {2, 5}, {5, 6}, {6, 183}, {183, 183}, {100, 100}} {
		got, err := s.Leaves(t.Context(), r[0], r[1])
		if err != nil {
			t.Fatalf("Leaves(%d, %d): %v", r[0], r[1], err)
		}
		if len(got) != int(r[1]-r[0]) {
			t.Fatalf("Leaves(%d, %d) returned %d leaves", r[0], r[1], len(got))
		}
		for i := range got {
			if !bytes.Equal(got[i], m.leaves[r[0]+int64(i)]) {
				t.Fatalf("Leaves(%d, %d)[%d] = %q, want %q", r[0], r[1], i, got[i], m.leaves[r[0]+int64(i)])
			}
		}
	}
}

func testConflict(t *testing.T, open opener) {
	s := open.store(t)
	ctx := t.Context()
	var m model
	m.append(t, s, leaves(0, 5, 40), []string{"a", "", "b", "", ""})
	tests := []struct {
		name  string
		shift func(b *store.Batch)
	}{
		{"first behind", func(b *store.Batch) { b.First-- }},
		{"first ahead", func(b *store.Batch) { b.First++ }},
		{"first far ahead", func(b *store.Batch) { b.First += 1000 }},
		{"hash first behind", func(b *store.Batch) { b.HashFirst-- }},
		{"hash first ahead", func(b *store.Batch) { b.HashFirst++ }},
		{"both behind", func(b *store.Batch) { b.First, b.HashFirst = 0, 0 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := [][]byte{[]byte("conflicting " + tc.name), []byte("second " + tc.name)}
			b := m.f.Batch(l, []string{"c-" + tc.name, ""})
			tc.shift(b)
			err := s.Append(ctx, b)
			wantErr(t, "Append with "+tc.name, err, store.ErrConflict)
			if _, err := s.IndexOfKey(ctx, "c-"+tc.name); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("key of a refused batch: IndexOfKey error %v, want ErrNotFound", err)
			}
			if _, err := s.IndexOfLeafHash(ctx, tlog.RecordHash(l[0])); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("leaf of a refused batch: IndexOfLeafHash error %v, want ErrNotFound", err)
			}
			m.verify(t, s)
		})
	}
	// The store still takes the right batch.
	m.append(t, s, leaves(5, 3, 40), []string{"c", "", "d"})
	m.verify(t, s)
}

func testDuplicateKey(t *testing.T, open opener) {
	s := open.store(t)
	ctx := t.Context()
	var m model
	m.append(t, s, leaves(0, 3, 40), []string{"alpha", "", "γ-ключ"})
	tests := []struct {
		name string
		keys []string
	}{
		{"stored key last", []string{"beta", "", "alpha"}},
		{"stored key first", []string{"γ-ключ", "beta", ""}},
		{"twice in the batch", []string{"beta", "", "beta"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := leaves(100, 3, 40)
			err := s.Append(ctx, m.f.Batch(l, tc.keys))
			wantErr(t, "Append with keys "+fmt.Sprintf("%q", tc.keys), err, store.ErrDuplicateKey)
			if _, err := s.IndexOfKey(ctx, "beta"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("key of a refused batch: IndexOfKey error %v, want ErrNotFound", err)
			}
			if _, err := s.IndexOfLeafHash(ctx, tlog.RecordHash(l[1])); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("leaf of a refused batch: IndexOfLeafHash error %v, want ErrNotFound", err)
			}
			m.verify(t, s)
		})
	}
	// Empty keys are no keys: any number of them, in one batch or many.
	m.append(t, s, leaves(3, 3, 40), []string{"", "", ""})
	m.append(t, s, leaves(6, 2, 40), []string{"", "beta"})
	m.append(t, s, leaves(8, 2, 40), nil)
	m.verify(t, s)
}

func testInvalidBatch(t *testing.T, open opener) {
	s := open.store(t)
	ctx := t.Context()
	var m model
	m.append(t, s, leaves(0, 4, 40), nil)
	tests := []struct {
		name  string
		spoil func(b *store.Batch)
	}{
		{"leaf hash missing", func(b *store.Batch) { b.LeafHash = b.LeafHash[:len(b.LeafHash)-1] }},
		{"leaf hash extra", func(b *store.Batch) { b.LeafHash = append(b.LeafHash, tlog.Hash{}) }},
		{"hash missing", func(b *store.Batch) { b.Hashes = b.Hashes[:len(b.Hashes)-1] }},
		{"hash extra", func(b *store.Batch) { b.Hashes = append(b.Hashes, tlog.Hash{}) }},
		{"keys short", func(b *store.Batch) { b.Keys = b.Keys[:1] }},
		{"keys long", func(b *store.Batch) { b.Keys = append(b.Keys, "") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := m.f.Batch(leaves(4, 3, 40), []string{"x", "y", "z"})
			tc.spoil(b)
			if err := s.Append(ctx, b); err == nil {
				t.Fatal("Append of a malformed batch succeeded")
			}
			m.verify(t, s)
		})
	}
}

func testCanceledContext(t *testing.T, open opener) {
	s := open.store(t)
	var m model
	m.append(t, s, leaves(0, 2, 40), nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Append(ctx, m.f.Batch(leaves(2, 2, 40), nil)); err == nil {
		t.Fatal("Append with a canceled context succeeded")
	}
	m.verify(t, s)
}

func testIndexOfKey(t *testing.T, open opener) {
	s := open.store(t)
	ctx := t.Context()
	var m model
	m.append(t, s, leaves(0, 4, 40), []string{"", "one", "", "three"})
	m.append(t, s, leaves(4, 2, 40), []string{"four", "five with spaces and / slashes"})
	m.verify(t, s)
	for _, key := range []string{"", "two", "ONE", "one "} {
		_, err := s.IndexOfKey(ctx, key)
		wantErr(t, fmt.Sprintf("IndexOfKey(%q)", key), err, store.ErrNotFound)
	}
}

func testIndexOfLeafHash(t *testing.T, open opener) {
	s := open.store(t)
	ctx := t.Context()
	var m model
	dup := []byte("the same leaf")
	m.append(t, s, [][]byte{[]byte("a"), dup, []byte("b"), dup}, nil)
	m.append(t, s, [][]byte{dup, []byte("c")}, nil)
	for _, tc := range []struct {
		leaf []byte
		want int64
	}{{[]byte("a"), 0}, {dup, 1}, {[]byte("b"), 2}, {[]byte("c"), 5}} {
		if got, err := s.IndexOfLeafHash(ctx, tlog.RecordHash(tc.leaf)); err != nil || got != tc.want {
			t.Fatalf("IndexOfLeafHash(%q) = %d, %v; want %d", tc.leaf, got, err, tc.want)
		}
	}
	_, err := s.IndexOfLeafHash(ctx, tlog.RecordHash([]byte("d")))
	wantErr(t, "IndexOfLeafHash(absent)", err, store.ErrNotFound)
	// The leaf hash, not the hash of the leaf bytes, is what is looked up.
	_, err = s.IndexOfLeafHash(ctx, tlog.Hash(bytes.Repeat([]byte{'a'}, 32)))
	wantErr(t, "IndexOfLeafHash(not a leaf hash)", err, store.ErrNotFound)
	m.verify(t, s)
}

func testReadHashes(t *testing.T, open opener) {
	s := open.store(t)
	ctx := t.Context()
	var m model
	m.append(t, s, leaves(0, 37, 30), nil)
	m.append(t, s, leaves(37, 300, 30), nil)
	h := int64(len(m.hashes))
	rng := rand.New(rand.NewPCG(3, 4))
	random := make([]int64, 24)
	for i := range random {
		random[i] = rng.Int64N(h)
	}
	for _, indexes := range [][]int64{
		{}, {0}, {h - 1}, {h - 1, 0}, {5, 5, 5}, {3, 1, 2, 1}, random,
	} {
		got, err := s.ReadHashes(ctx, indexes)
		if err != nil {
			t.Fatalf("ReadHashes(%v): %v", indexes, err)
		}
		if len(got) != len(indexes) {
			t.Fatalf("ReadHashes(%v) returned %d hashes", indexes, len(got))
		}
		for k, i := range indexes {
			if got[k] != m.hashes[i] {
				t.Fatalf("ReadHashes(%v)[%d] = %v, want hash %d = %v", indexes, k, got[k], i, m.hashes[i])
			}
		}
	}
	for _, indexes := range [][]int64{{h}, {0, h, 1}, {-1}, {1 << 40}} {
		_, err := s.ReadHashes(ctx, indexes)
		wantErr(t, fmt.Sprintf("ReadHashes(%v) with %d stored", indexes, h), err, store.ErrNotFound)
	}
	// An inclusion proof and a consistency proof through the store verify.
	root := m.f.Root()
	for _, i := range []int64{0, 1, 36, 200, 336} {
		p, err := tlog.ProveRecord(337, i, reader(ctx, s))
		if err != nil {
			t.Fatalf("tlog.ProveRecord(337, %d): %v", i, err)
		}
		if err := tlog.CheckRecord(p, 337, root, i, tlog.RecordHash(m.leaves[i])); err != nil {
			t.Fatalf("inclusion proof of %d: %v", i, err)
		}
	}
	old, err := tlog.TreeHash(37, reader(ctx, s))
	if err != nil {
		t.Fatal(err)
	}
	p, err := tlog.ProveTree(337, 37, reader(ctx, s))
	if err != nil {
		t.Fatalf("tlog.ProveTree(337, 37): %v", err)
	}
	if err := tlog.CheckTree(p, 337, root, 37, old); err != nil {
		t.Fatalf("consistency proof 37 -> 337: %v", err)
	}
}

func testLeaves(t *testing.T, open opener) {
	s := open.store(t)
	ctx := t.Context()
	var m model
	m.append(t, s, leaves(0, 10, 30), nil)
	tests := []struct {
		start, end int64
		want       error // nil: success; errAny: any error
	}{
		{0, 10, nil},
		{10, 10, nil},
		{3, 3, nil},
		{9, 10, nil},
		{0, 11, store.ErrNotFound},
		{9, 11, store.ErrNotFound},
		{10, 11, store.ErrNotFound},
		{11, 12, store.ErrNotFound},
		{5, 4, errAny},
		{-1, 3, errAny},
		{-2, -1, errAny},
	}
	for _, tc := range tests {
		got, err := s.Leaves(ctx, tc.start, tc.end)
		switch {
		case tc.want == nil && err != nil:
			t.Errorf("Leaves(%d, %d): %v", tc.start, tc.end, err)
		case tc.want == nil:
			if !slices.EqualFunc(got, m.leaves[tc.start:tc.end], bytes.Equal) {
				t.Errorf("Leaves(%d, %d) = %q, want %q", tc.start, tc.end, got, m.leaves[tc.start:tc.end])
			}
		case tc.want == errAny && err == nil:
			t.Errorf("Leaves(%d, %d) succeeded, want an error", tc.start, tc.end)
		case tc.want != errAny && !errors.Is(err, tc.want):
			t.Errorf("Leaves(%d, %d): error %v, want %v", tc.start, tc.end, err, tc.want)
		}
	}
}

var errAny = errors.New("any error")

func testCheckpoints(t *testing.T, open opener) {
	s := open.store(t)
	ctx := t.Context()
	_, err := s.LatestCheckpoint(ctx)
	wantErr(t, "LatestCheckpoint with none", err, store.ErrNotFound)
	_, err = s.Checkpoint(ctx, 0)
	wantErr(t, "Checkpoint(0) with none", err, store.ErrNotFound)
	note := func(size int64, text string) []byte {
		return fmt.Appendf(nil, "truce.example/log\n%d\n%s\n\n— truce.example/log AbCd\x00\xff\n", size, text)
	}
	put := func(size int64, text string) {
		t.Helper()
		if err := s.PutCheckpoint(ctx, store.Checkpoint{Size: size, Note: note(size, text)}); err != nil {
			t.Fatalf("PutCheckpoint(%d): %v", size, err)
		}
	}
	check := func(size int64, text string) {
		t.Helper()
		c, err := s.Checkpoint(ctx, size)
		if err != nil || c.Size != size || !bytes.Equal(c.Note, note(size, text)) {
			t.Fatalf("Checkpoint(%d) = %d %q, %v; want %q", size, c.Size, c.Note, err, note(size, text))
		}
	}
	latest := func(size int64, text string) {
		t.Helper()
		c, err := s.LatestCheckpoint(ctx)
		if err != nil || c.Size != size || !bytes.Equal(c.Note, note(size, text)) {
			t.Fatalf("LatestCheckpoint = %d %q, %v; want %d %q", c.Size, c.Note, err, size, note(size, text))
		}
	}
	put(3, "first")
	check(3, "first")
	latest(3, "first")
	put(3, "second") // the same size again keeps the first
	check(3, "first")
	latest(3, "first")
	put(10, "ten")
	put(7, "seven") // an older checkpoint stored later is not the latest
	latest(10, "ten")
	check(7, "seven")
	check(10, "ten")
	put(0, "empty tree")
	check(0, "empty tree")
	latest(10, "ten")
	for _, size := range []int64{1, 4, 11} {
		_, err := s.Checkpoint(ctx, size)
		wantErr(t, fmt.Sprintf("Checkpoint(%d)", size), err, store.ErrNotFound)
	}
}

func testConcurrentReaders(t *testing.T, open opener) {
	s := open.store(t)
	ctx := t.Context()
	var (
		f     Frontier
		roots sync.Map // size -> tlog.Hash, stored before the batch reaching that size is appended
		done  = make(chan struct{})
		wg    sync.WaitGroup
	)
	roots.Store(int64(0), f.Root())
	const batches, readers = 150, 4
	wg.Go(func() {
		defer close(done)
		rng := rand.New(rand.NewPCG(5, 6))
		for range batches {
			b := f.Batch(leaves(f.Size(), 1+rng.Int64N(40), 60), nil)
			next := f
			next.Advance(b)
			roots.Store(next.Size(), next.Root())
			if err := s.Append(ctx, b); err != nil {
				t.Errorf("Append at %d: %v", b.First, err)
				return
			}
			f = next
		}
	})
	for r := range readers {
		wg.Go(func() {
			var last int64
			for reads := 0; ; reads++ {
				select {
				case <-done:
					if reads > 0 {
						return
					}
				default:
				}
				n, h, err := s.Size(ctx)
				if err != nil {
					t.Errorf("reader %d: Size: %v", r, err)
					return
				}
				if n < last || h != tlog.StoredHashCount(n) {
					t.Errorf("reader %d: Size = %d, %d after %d: not a snapshot of a growing log", r, n, h, last)
					return
				}
				last = n
				if n == 0 {
					continue
				}
				got, err := s.Leaves(ctx, max(0, n-3), n)
				if err != nil {
					t.Errorf("reader %d: Leaves(%d, %d): %v", r, max(0, n-3), n, err)
					return
				}
				for i, l := range got {
					if want := leaf(max(0, n-3)+int64(i), 60); !bytes.Equal(l, want) {
						t.Errorf("reader %d: leaf %d = %q, want %q", r, max(0, n-3)+int64(i), l, want)
						return
					}
				}
				root, err := tlog.TreeHash(n, reader(ctx, s))
				want, _ := roots.Load(n)
				if err != nil || root != want {
					t.Errorf("reader %d: tree hash of size %d = %v, %v; want %v", r, n, root, err, want)
					return
				}
				if i, err := s.IndexOfLeafHash(ctx, tlog.RecordHash(leaf(n-1, 60))); err != nil || i != n-1 {
					t.Errorf("reader %d: IndexOfLeafHash(leaf %d) = %d, %v", r, n-1, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n, _, err := s.Size(ctx); err != nil || n != f.Size() {
		t.Fatalf("Size after the appends = %d, %v; want %d", n, err, f.Size())
	}
}

func testReopen(t *testing.T, open opener) {
	s := open.store(t)
	ctx := t.Context()
	var m model
	keys := make([]string, 20)
	keys[0], keys[19] = "first", "last"
	m.append(t, s, leaves(0, 20, 100), keys)
	cp := store.Checkpoint{Size: 20, Note: []byte("checkpoint 20\n")}
	if err := s.PutCheckpoint(ctx, cp); err != nil {
		t.Fatalf("PutCheckpoint: %v", err)
	}
	s.close(t)

	s = open.store(t)
	m.verify(t, s)
	if c, err := s.LatestCheckpoint(ctx); err != nil || c.Size != cp.Size || !bytes.Equal(c.Note, cp.Note) {
		t.Fatalf("LatestCheckpoint after reopening = %d %q, %v; want %d %q", c.Size, c.Note, err, cp.Size, cp.Note)
	}
	// A stale batch is still a conflict after reopening, and the log grows from where it was.
	stale := (&Frontier{}).Batch(leaves(0, 1, 10), nil)
	wantErr(t, "Append at 0 after reopening", s.Append(ctx, stale), store.ErrConflict)
	m.append(t, s, leaves(20, 13, 100), nil)
	s.close(t)

	s = open.store(t)
	m.verify(t, s)
}

func testLargeBatch(t *testing.T, open opener) {
	s := open.store(t)
	var m model
	const n = 10_000
	keys := make([]string, n)
	for i := range keys {
		if i%3 != 1 {
			keys[i] = fmt.Sprintf("request-%06d", i)
		}
	}
	m.append(t, s, leaves(0, 7, 350), nil)
	m.append(t, s, leaves(7, n, 350), keys)
	m.append(t, s, leaves(7+n, 5, 350), nil)
	m.verify(t, s)
	for _, i := range []int{0, 2, 5_000, n - 1} {
		if got, err := s.IndexOfKey(t.Context(), keys[i]); err != nil || got != int64(7+i) {
			t.Fatalf("IndexOfKey(%q) = %d, %v; want %d", keys[i], got, err, 7+i)
		}
	}
}

// RunTwoWriters checks a backend that several processes may share: a and b are two stores over
// the same empty data. Rounds of appends race at the same position from both; in each, exactly
// one must win and the other must fail with store.ErrConflict, and both must then read the
// winner's entries. Then each must refuse every key the rounds stored, whichever wrote it.
func RunTwoWriters(t *testing.T, a, b store.Store) {
	ctx := t.Context()
	var f Frontier
	var stored []string
	for round := range 20 {
		batches := [2]*store.Batch{
			f.Batch(leaves(f.Size()*2, 3, 40), []string{fmt.Sprintf("a-%d", round), "", ""}),
			f.Batch(leaves(f.Size()*2+1, 2, 40), []string{fmt.Sprintf("b-%d", round), ""}),
		}
		var (
			errs [2]error
			wg   sync.WaitGroup
		)
		for i, s := range []store.Store{a, b} {
			wg.Go(func() { errs[i] = s.Append(ctx, batches[i]) })
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won < 0:
				won = i
			case err == nil:
				t.Fatalf("round %d: both appends at %d succeeded", round, f.Size())
			case !errors.Is(err, store.ErrConflict):
				t.Fatalf("round %d: Append: %v, want nil or ErrConflict", round, err)
			}
		}
		if won < 0 {
			t.Fatalf("round %d: both appends at %d failed: %v", round, f.Size(), errs)
		}
		f.Advance(batches[won])
		stored = append(stored, batches[won].Keys[0])
		for _, s := range []store.Store{a, b} {
			got, err := s.Leaves(ctx, batches[won].First, f.Size())
			if err != nil || !slices.EqualFunc(got, batches[won].Leaves, bytes.Equal) {
				t.Fatalf("round %d: Leaves after the race = %q, %v; want the winner's %q", round, got, err, batches[won].Leaves)
			}
			if root, err := tlog.TreeHash(f.Size(), reader(ctx, s)); err != nil || root != f.Root() {
				t.Fatalf("round %d: tree hash %v, %v; want %v", round, root, err, f.Root())
			}
		}
	}
	// Each in turn, so that each must see what the other wrote since its own last append.
	for i, s := range []store.Store{a, b, a, b} {
		other := map[store.Store]store.Store{a: b, b: a}[s]
		key := fmt.Sprintf("turn-%d", i)
		bt := f.Batch(leaves(f.Size()*2, 1, 40), []string{key})
		if err := s.Append(ctx, bt); err != nil {
			t.Fatalf("turn %d: Append: %v", i, err)
		}
		f.Advance(bt)
		stored = append(stored, key)
		if idx, err := other.IndexOfKey(ctx, key); err != nil || idx != f.Size()-1 {
			t.Fatalf("turn %d: the other store's IndexOfKey(%q) = %d, %v; want %d", i, key, idx, err, f.Size()-1)
		}
		if i > 0 {
			err := s.Append(ctx, f.Batch(leaves(f.Size()*2, 1, 40), []string{fmt.Sprintf("turn-%d", i-1)}))
			wantErr(t, fmt.Sprintf("turn %d: Append reusing the other store's last key", i), err, store.ErrDuplicateKey)
		}
	}
	for _, key := range stored {
		for name, s := range map[string]store.Store{"a": a, "b": b} {
			if _, err := s.IndexOfKey(ctx, key); err != nil {
				t.Fatalf("store %s: IndexOfKey(%q): %v", name, key, err)
			}
			err := s.Append(ctx, f.Batch(leaves(f.Size()*2, 1, 40), []string{key}))
			wantErr(t, fmt.Sprintf("store %s: Append reusing key %q", name, key), err, store.ErrDuplicateKey)
		}
	}
}
