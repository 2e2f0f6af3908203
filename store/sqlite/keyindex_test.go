package sqlite

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/truce-mission/truce/store"
	"github.com/truce-mission/truce/store/storetest"
)

// keyModel is what a key test appended: each entry's key ("" for none).
type keyModel struct {
	keys  []string
	front storetest.Frontier
}

func (m *keyModel) batch(keys []string) *store.Batch {
	leaves := make([][]byte, len(keys))
	for i := range leaves {
		leaves[i] = fmt.Appendf(nil, "entry %d", m.front.Size()+int64(i))
	}
	return m.front.Batch(leaves, keys)
}

func (m *keyModel) append(t *testing.T, s *Store, keys []string) {
	t.Helper()
	b := m.batch(keys)
	if err := s.Append(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	m.front.Advance(b)
	m.keys = append(m.keys, keys...)
}

// check finds every key at its entry, refuses a batch reusing each of a sample of stored
// keys, and compares key_index with the entries merged (those of leaf_index).
func (m *keyModel) check(t *testing.T, s *Store, rng *rand.Rand) {
	t.Helper()
	ctx := t.Context()
	n := int64(len(m.keys))
	var stored []string
	for i, k := range m.keys {
		if k == "" {
			continue
		}
		stored = append(stored, k)
		if got, err := s.IndexOfKey(ctx, k); err != nil || got != int64(i) {
			t.Fatalf("size %d: IndexOfKey(%q) = %d, %v; want %d", n, k, got, err, i)
		}
	}
	if _, err := s.IndexOfKey(ctx, fmt.Sprintf("absent-%d", n)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("size %d: IndexOfKey(absent): %v, want ErrNotFound", n, err)
	}
	for range min(3, len(stored)) {
		old := stored[rng.IntN(len(stored))]
		keys := []string{fmt.Sprintf("new-%d-a", n), old, fmt.Sprintf("new-%d-b", n)}
		if err := s.Append(ctx, m.batch(keys)); !errors.Is(err, store.ErrDuplicateKey) {
			t.Fatalf("size %d: Append reusing key %q: %v, want ErrDuplicateKey", n, old, err)
		}
	}
	if size, _, err := s.Size(ctx); err != nil || size != n {
		t.Fatalf("Size = %d, %v after refused appends; want %d", size, err, n)
	}

	checkMergedIndex(t, s, "key_index", len(m.keys), func(i int) []byte {
		if m.keys[i] == "" {
			return nil
		}
		return keyPrefix(m.keys[i])
	})
}

// TestKeyIndexMerge appends batches of many sizes, most entries with a key, and checks after
// each that every key is found at its entry and refused again, whether its entry is merged,
// being merged or recent, and that key_index holds exactly the merged entries with keys.
func TestKeyIndexMerge(t *testing.T) {
	s := openSmall(t, t.TempDir())
	defer s.Close()
	rng := rand.New(rand.NewPCG(5, 6))
	var m keyModel
	next := 0
	for _, n := range []int{1, 2, 3, 5, 8, 13, 21, 34, 1, 55, 16, 16, 17, 3, 64, 1, 100, 7, 200} {
		keys := make([]string, n)
		for i := range keys {
			if rng.IntN(5) > 0 {
				keys[i] = fmt.Sprintf("obs-%08x-%d", rng.Uint32(), next)
				next++
			}
		}
		m.append(t, s, keys)
		m.check(t, s, rng)
	}
	if n := len(m.keys); n < 10<<4 {
		t.Fatalf("only %d entries: the test should cross ten blocks", n)
	}

	// A new Store over the same file loads its filter from key_index and the recent entries.
	dir := filepath.Dir(s.path)
	s.Close()
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	m.check(t, s2, rng)
	m.append(t, s2, []string{"after reopening", ""})
	m.check(t, s2, rng)
}

// TestKeyFilterFalsePositive makes the filter hold the prefix of a key never stored: the
// store looks it up, finds nothing, and appends.
func TestKeyFilterFalsePositive(t *testing.T) {
	s := openSmall(t, t.TempDir())
	defer s.Close()
	var m keyModel
	m.append(t, s, []string{"a", "b"})
	s.keys.add(keyPrefix("fresh"), 1, true)
	if !s.keys.mayHold(keyPrefix("fresh")) {
		t.Fatal("the filter does not hold a prefix just added")
	}
	m.append(t, s, []string{"fresh"})
	if got, err := s.IndexOfKey(t.Context(), "fresh"); err != nil || got != 2 {
		t.Fatalf("IndexOfKey(fresh) = %d, %v; want 2", got, err)
	}
}

// TestKeyFilterGrows fills a filter far past its first filter's room: no key is ever
// missed, and a key never added is rarely taken for one.
func TestKeyFilterGrows(t *testing.T) {
	f := newKeyFilter(64)
	const n = 5000
	for i := range n {
		f.add(keyPrefix(fmt.Sprint(i)), int64(i), false)
	}
	if len(f.all) != 7 { // room 64, 128, ..., 4096
		t.Errorf("%d filters after %d keys, want 7", len(f.all), n)
	}
	for i := range n {
		if !f.mayHold(keyPrefix(fmt.Sprint(i))) {
			t.Fatalf("key %d added but not held", i)
		}
	}
	wrong := 0
	for i := range n {
		if f.mayHold(keyPrefix(fmt.Sprint("other ", i))) {
			wrong++
		}
	}
	if limit := n * 7 * falsePositives * 3; float64(wrong) > limit {
		t.Errorf("%d of %d keys never added are held; expected at most about %.0f", wrong, n, limit)
	}
}

// TestMigrateKeyIndex opens a file of schema version 5 (a unique index on keys) with one
// block merged, the next merged up to a cursor and a third filling: migration 0006 must put
// the merged entries' keys in key_index and give the others their key_prefix, so that every
// key is found and refused again, and appends go on across the next block.
func TestMigrateKeyIndex(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	db := oldSchemaFile(t, dir, 5)
	// Epochs of 4 entries, blocks of 16: block 0 merged, block 1 below prefix 0x80.
	const n = 40
	cursor := []byte{0x80, 0, 0, 0, 0, 0, 0, 0}
	if _, err := db.ExecContext(ctx, "UPDATE leaf_index_state SET epoch_bits = 2, block_bits = 4, blocks = 1, cursor = ?", cursor); err != nil {
		t.Fatal(err)
	}
	var m keyModel
	m.keys = make([]string, n)
	for i := range m.keys {
		if i%5 != 3 {
			m.keys[i] = fmt.Sprintf("key-%d", i)
		}
	}
	b := m.batch(m.keys)
	for i, leaf := range b.Leaves {
		var key, prefix any
		if m.keys[i] != "" {
			key = m.keys[i]
		}
		if i >= 16 {
			prefix = b.LeafHash[i][:8]
		}
		if _, err := db.ExecContext(ctx, "INSERT INTO entries (idx, leaf, leaf_hash, key, epoch, prefix) VALUES (?, ?, ?, ?, ?, ?)",
			i, leaf, b.LeafHash[i][:], key, i>>2, prefix); err != nil {
			t.Fatal(err)
		}
		if i < 16 || i < 32 && bytes.Compare(b.LeafHash[i][:8], cursor) < 0 {
			if _, err := db.ExecContext(ctx, "INSERT INTO leaf_index (prefix, idx) VALUES (?, ?)", b.LeafHash[i][:8], i); err != nil {
				t.Fatal(err)
			}
		}
	}
	insertHashes(t, db, b.Hashes)
	db.Close()
	m.front.Advance(b)

	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var filled, wantFilled int
	for i, k := range m.keys {
		if i >= 16 && k != "" {
			wantFilled++
		}
	}
	if err := s.r.QueryRowContext(ctx, "SELECT count(key_prefix) FROM entries").Scan(&filled); err != nil {
		t.Fatal(err)
	}
	if filled != wantFilled {
		t.Errorf("after the migration %d entries have a key_prefix; want %d (those with a key not wholly merged)", filled, wantFilled)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	m.check(t, s, rng)
	for i := range 4 {
		keys := make([]string, 10)
		for j := range keys {
			keys[j] = fmt.Sprintf("later-%d-%d", i, j)
		}
		m.append(t, s, keys)
		m.check(t, s, rng)
	}
}
