package sqlite

import (
	"bytes"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/truce-mission/truce/store"
	"github.com/truce-mission/truce/store/storetest"
	"golang.org/x/mod/sumdb/tlog"
)

// openSmall opens a new store whose leaf-hash layout has epochs of 4 entries and blocks of 16,
// so that a few hundred entries cross many epochs and blocks.
func openSmall(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.ExecContext(t.Context(), "UPDATE leaf_index_state SET epoch_bits = 2, block_bits = 4"); err != nil {
		t.Fatal(err)
	}
	<-s.keysLoaded
	s.keys = newKeyFilter(firstFilterKeys) // loaded with the layout Open found; load again
	return s
}

// leafModel is what the test appended: each entry's leaf hash, as the batch gave it.
type leafModel struct {
	hashes []tlog.Hash
	front  storetest.Frontier
}

// append appends entries with the given leaf hashes (the store takes them as given, so the
// test can choose prefixes); the leaves and stored hashes are those of a real log.
func (m *leafModel) append(t *testing.T, s *Store, hashes []tlog.Hash) {
	t.Helper()
	leaves := make([][]byte, len(hashes))
	for i := range leaves {
		leaves[i] = fmt.Appendf(nil, "entry %d", m.front.Size()+int64(i))
	}
	b := m.front.Batch(leaves, nil)
	b.LeafHash = hashes
	if err := s.Append(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	m.front.Advance(b)
	m.hashes = append(m.hashes, hashes...)
}

// check compares every lookup and the contents of leaf_index with the model.
func (m *leafModel) check(t *testing.T, s *Store, absent ...tlog.Hash) {
	t.Helper()
	ctx := t.Context()
	first := map[tlog.Hash]int64{}
	for i, h := range m.hashes {
		if _, ok := first[h]; !ok {
			first[h] = int64(i)
		}
	}
	for h, want := range first {
		if got, err := s.IndexOfLeafHash(ctx, h); err != nil || got != want {
			t.Fatalf("size %d: IndexOfLeafHash(%x) = %d, %v; want %d", len(m.hashes), h[:10], got, err, want)
		}
	}
	for _, h := range absent {
		if _, err := s.IndexOfLeafHash(ctx, h); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("size %d: IndexOfLeafHash(absent %x): %v, want ErrNotFound", len(m.hashes), h[:10], err)
		}
	}

	checkMergedIndex(t, s, "leaf_index", len(m.hashes), func(i int) []byte { return m.hashes[i][:8] })
}

// checkMergedIndex checks that table (leaf_index or key_index) holds exactly the prefix of
// each merged entry of a log of n entries, as leaf_index_state says how far the merge has
// gone, and that the merge is at most one block behind; prefixOf(i) is entry i's prefix, nil
// for none (an entry without a key).
func checkMergedIndex(t *testing.T, s *Store, table string, n int, prefixOf func(int) []byte) {
	t.Helper()
	var (
		blockBits, blocks int64
		cursor            []byte
	)
	if err := s.r.QueryRowContext(t.Context(), "SELECT block_bits, blocks, cursor FROM leaf_index_state").
		Scan(&blockBits, &blocks, &cursor); err != nil {
		t.Fatal(err)
	}
	if complete := int64(n) >> blockBits; blocks > complete || blocks < complete-1 {
		t.Fatalf("size %d: %d blocks merged; %d are complete, and merging should be at most one behind", n, blocks, complete)
	}
	want := map[int64][]byte{}
	for i := range n {
		p, b := prefixOf(i), int64(i)>>blockBits
		if p != nil && (b < blocks || b == blocks && int64(n) >= (b+1)<<blockBits && bytes.Compare(p, cursor) < 0) {
			want[int64(i)] = p
		}
	}
	rows, err := s.r.QueryContext(t.Context(), "SELECT prefix, idx FROM "+table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := 0
	for rows.Next() {
		var (
			prefix []byte
			idx    int64
		)
		if err := rows.Scan(&prefix, &idx); err != nil {
			t.Fatal(err)
		}
		if w, ok := want[idx]; !ok || !bytes.Equal(w, prefix) {
			t.Fatalf("size %d (blocks %d, cursor %x): %s holds entry %d, prefix %x; want it: %v", n, blocks, cursor, table, idx, prefix, ok)
		}
		got++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if got != len(want) {
		t.Fatalf("size %d (blocks %d, cursor %x): %s holds %d entries, want %d", n, blocks, cursor, table, got, len(want))
	}
}

// TestLeafIndexMerge appends batches of many sizes and checks, after each, that every leaf
// hash is found at its lowest index and that leaf_index holds exactly the merged entries.
func TestLeafIndexMerge(t *testing.T) {
	s := openSmall(t, t.TempDir())
	defer s.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	random := func() (h tlog.Hash) {
		for i := range h {
			h[i] = byte(rng.Uint32())
		}
		return h
	}
	// Hashes that share their 8-byte prefix, to exercise the comparison of whole hashes.
	shared := random()
	sibling := func() tlog.Hash { h := random(); copy(h[:8], shared[:8]); return h }
	var m leafModel
	var repeats []tlog.Hash
	for _, n := range []int{1, 1, 2, 3, 5, 8, 13, 21, 34, 1, 55, 16, 16, 16, 17, 3, 64, 1, 1, 1, 100, 7, 200} {
		hs := make([]tlog.Hash, n)
		for i := range hs {
			switch r := rng.IntN(10); {
			case r == 0:
				hs[i] = sibling()
			case r == 1 && len(repeats) > 0:
				hs[i] = repeats[rng.IntN(len(repeats))] // a leaf appended again
			default:
				hs[i] = random()
				repeats = append(repeats, hs[i])
			}
		}
		m.append(t, s, hs)
		m.check(t, s, random(), sibling())
	}
	if n := len(m.hashes); n < 10<<4 {
		t.Fatalf("only %d entries: the test should cross ten blocks", n)
	}

	// A new Store over the same file reads the layout and the merge state from it.
	dir := filepath.Dir(s.path)
	s.Close()
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	m.check(t, s2, random())
	m.append(t, s2, []tlog.Hash{random(), sibling()})
	m.check(t, s2, random())
}

// TestMigrateFromVersion1 opens a file written with the first schema: its entries must be
// found by leaf hash and by key, and keys must stay unique.
func TestMigrateFromVersion1(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	db := oldSchemaFile(t, dir, 1)
	var f storetest.Frontier
	leaves := [][]byte{[]byte("a"), []byte("b"), []byte("a"), []byte("c")}
	b := f.Batch(leaves, []string{"k0", "", "", "k3"})
	for i, leaf := range leaves {
		var key any
		if b.Keys[i] != "" {
			key = b.Keys[i]
		}
		if _, err := db.ExecContext(ctx, "INSERT INTO entries (idx, leaf, leaf_hash, key) VALUES (?, ?, ?, ?)", i, leaf, b.LeafHash[i][:], key); err != nil {
			t.Fatal(err)
		}
	}
	insertHashes(t, db, b.Hashes)
	db.Close()
	f.Advance(b)

	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := epochBits(t, s); got != 16 {
		t.Errorf("a store migrated with entries in it has epoch_bits %d, want the 16 its epoch column was computed with", got)
	}
	for leaf, want := range map[string]int64{"a": 0, "b": 1, "c": 3} {
		if got, err := s.IndexOfLeafHash(ctx, tlog.RecordHash([]byte(leaf))); err != nil || got != want {
			t.Errorf("IndexOfLeafHash(%q) = %d, %v; want %d", leaf, got, err, want)
		}
	}
	if got, err := s.IndexOfKey(ctx, "k3"); err != nil || got != 3 {
		t.Errorf("IndexOfKey(k3) = %d, %v; want 3", got, err)
	}
	err = s.Append(ctx, f.Batch([][]byte{[]byte("d")}, []string{"k0"}))
	if !errors.Is(err, store.ErrDuplicateKey) {
		t.Errorf("Append with a key used before the migration: %v, want ErrDuplicateKey", err)
	}
	b = f.Batch([][]byte{[]byte("d")}, []string{"k4"})
	if err := s.Append(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got, err := s.IndexOfLeafHash(ctx, tlog.RecordHash([]byte("d"))); err != nil || got != 4 {
		t.Errorf("IndexOfLeafHash(d) = %d, %v; want 4", got, err)
	}
}

// TestMigrateLeafPrefix opens a file of schema version 4 (entries_leaf_recent on an
// expression) whose first block is merged into leaf_index and the rest not: migration 0005
// must fill the stored prefix of the unmerged entries, so that every entry is still found by
// its leaf hash, and appends go on.
func TestMigrateLeafPrefix(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	db := oldSchemaFile(t, dir, 4)
	// Epochs of 4 entries, blocks of 16; block 0 merged.
	const n = 40
	if _, err := db.ExecContext(ctx, "UPDATE leaf_index_state SET epoch_bits = 2, block_bits = 4, blocks = 1, cursor = zeroblob(8)"); err != nil {
		t.Fatal(err)
	}
	var f storetest.Frontier
	leaves := make([][]byte, n)
	for i := range leaves {
		leaves[i] = fmt.Appendf(nil, "entry %d", i)
	}
	b := f.Batch(leaves, nil)
	for i, leaf := range leaves {
		if _, err := db.ExecContext(ctx, "INSERT INTO entries (idx, leaf, leaf_hash, key, epoch) VALUES (?, ?, ?, NULL, ?)", i, leaf, b.LeafHash[i][:], i>>2); err != nil {
			t.Fatal(err)
		}
		if i < 16 {
			if _, err := db.ExecContext(ctx, "INSERT INTO leaf_index (prefix, idx) VALUES (?, ?)", b.LeafHash[i][:8], i); err != nil {
				t.Fatal(err)
			}
		}
	}
	insertHashes(t, db, b.Hashes)
	db.Close()
	f.Advance(b)

	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var filled, empty int
	if err := s.r.QueryRowContext(ctx, "SELECT count(prefix), count(*) - count(prefix) FROM entries").Scan(&filled, &empty); err != nil {
		t.Fatal(err)
	}
	if filled != n-16 || empty != 16 {
		t.Errorf("after the migration %d entries have a prefix and %d none; want %d and 16 (those merged)", filled, empty, n-16)
	}
	more := make([][]byte, 30)
	for i := range more {
		more[i] = fmt.Appendf(nil, "entry %d", n+i)
	}
	b2 := f.Batch(more, nil)
	if err := s.Append(ctx, b2); err != nil {
		t.Fatal(err)
	}
	for i, h := range append(b.LeafHash, b2.LeafHash...) {
		if got, err := s.IndexOfLeafHash(ctx, h); err != nil || got != int64(i) {
			t.Errorf("IndexOfLeafHash(entry %d) = %d, %v", i, got, err)
		}
	}
}

// oldSchemaFile creates the store's file in dir at schema version, as truce of that version
// left it, and returns it open; the caller writes rows and closes it.
func oldSchemaFile(t *testing.T, dir string, version int) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), "CREATE TABLE schema_version (version INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	for v := 1; v <= version; v++ {
		names, _ := fs.Glob(migrations, fmt.Sprintf("migrations/%04d_*.sql", v))
		if len(names) != 1 {
			t.Fatalf("migration %d: %d files", v, len(names))
		}
		text, err := migrations.ReadFile(names[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(t.Context(), string(text)+"; INSERT INTO schema_version VALUES (?)", v); err != nil {
			t.Fatalf("migration %d: %v", v, err)
		}
	}
	return db
}

// insertHashes writes the stored hashes of a log into db's hashes table, from index 0.
func insertHashes(t *testing.T, db *sql.DB, hashes []tlog.Hash) {
	t.Helper()
	for i, h := range hashes {
		if _, err := db.ExecContext(t.Context(), "INSERT INTO hashes (idx, hash) VALUES (?, ?)", i, h[:]); err != nil {
			t.Fatal(err)
		}
	}
}

// TestNewStoreEpochs checks that a new store gets the smaller epochs of migration 0004.
func TestNewStoreEpochs(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := epochBits(t, s); got != 14 {
		t.Errorf("a new store has epoch_bits %d, want 14", got)
	}
}

func epochBits(t *testing.T, s *Store) int64 {
	t.Helper()
	var n int64
	if err := s.r.QueryRowContext(t.Context(), "SELECT epoch_bits FROM leaf_index_state").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCursorEncoding checks the boundary arithmetic: the last chunk of a block reaches the end
// of the prefixes, whatever the batch size.
func TestCursorEncoding(t *testing.T) {
	for _, c := range []uint64{0, 1 << 63, ^uint64(0) - 1} {
		b := binary.BigEndian.AppendUint64(nil, c)
		if bytes.Compare(b, endOfPrefixes) >= 0 {
			t.Errorf("prefix %x is not below endOfPrefixes", b)
		}
	}
}
