package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"

	"github.com/bits-and-blooms/bloom/v3"
	"github.com/truce-mission/truce/store"
	"modernc.org/sqlite"
)

// The idempotency-key lookup structures of migration 0006 (see
// migrations/0006_key_index.sql): an entry's key is found by keyPrefix(key), in key_index
// for merged blocks and in entries_key_recent by epoch for the others, exactly as a leaf hash
// is, and merged into key_index with the leaf hashes (mergeLeafIndex).
//
// Nothing in the schema keeps keys unique any more; Append does, with a keyFilter.

// keyPrefix is the first 8 bytes of the key's SHA-256: uniform, whatever keys the
// submitters choose, so that a range of prefixes is the same share of every block.
func keyPrefix(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:leafPrefixLen]
}

// keyPrefixFunc is truce_key_prefix(key), for migration 0006.
func keyPrefixFunc(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	switch k := args[0].(type) {
	case nil:
		return nil, nil
	case string:
		return keyPrefix(k), nil
	case []byte:
		return keyPrefix(string(k)), nil
	default:
		return nil, fmt.Errorf("truce_key_prefix: a key of type %T", k)
	}
}

func init() {
	// Registered for every connection the driver opens from now on; it only reads its
	// argument, and the name is truce's own.
	if err := sqlite.RegisterDeterministicScalarFunction("truce_key_prefix", 1, keyPrefixFunc); err != nil {
		panic(err) // only on a second registration of the name: a build mistake
	}
}

// mergeKeyChunkQuery is mergeChunkQuery for key_index.
const mergeKeyChunkQuery = `WITH RECURSIVE ep(x) AS (SELECT ?1 UNION ALL SELECT x + 1 FROM ep WHERE x < ?2)
INSERT OR ROLLBACK INTO key_index (prefix, idx)
SELECT e.key_prefix, e.idx FROM ep CROSS JOIN entries AS e
WHERE e.epoch = ep.x AND e.key_prefix >= ?3 AND e.key_prefix < ?4
ORDER BY 1, 2`

// keyQuery finds the entry of key ?1, of prefix ?2, in key_index and in every epoch not
// wholly merged, as leafHashQuery does for a leaf hash; a key being unique, the first row
// found is the answer, so a merged key costs one search. For a reader whose keyFilter does
// not cover the log (see lookUpKey).
const keyQuery = `WITH RECURSIVE ep(x) AS (
	SELECT blocks << (block_bits - epoch_bits) FROM leaf_index_state
	UNION ALL SELECT x + 1 FROM ep WHERE x < (SELECT max(epoch) FROM entries))
SELECT idx FROM (
	SELECT e.idx FROM key_index AS k CROSS JOIN entries AS e ON e.idx = k.idx
	WHERE k.prefix = ?2 AND e.key = ?1
	UNION ALL
	SELECT e.idx FROM ep CROSS JOIN entries AS e
	WHERE e.epoch = ep.x AND e.key_prefix = ?2 AND e.key = ?1)
LIMIT 1`

// keyProbeQuery is a lookup the keyFilter has narrowed down: if ?4, the entry of key ?1,
// prefix ?2, in key_index or epoch ?3 (-1 for none), else -1; and the log's size from the
// same snapshot, which tells whether the filter covers what the search saw.
const keyProbeQuery = `SELECT (SELECT coalesce(max(idx) + 1, 0) FROM entries), coalesce(
	(SELECT e.idx FROM key_index AS k CROSS JOIN entries AS e ON e.idx = k.idx
		WHERE ?4 AND k.prefix = ?2 AND e.key = ?1 LIMIT 1),
	(SELECT idx FROM entries WHERE ?4 AND epoch = ?3 AND key_prefix = ?2 AND key = ?1),
	-1)`

// keyFilter holds Bloom filters of the key prefixes of entries [0, size): one of every key,
// to tell a new key at once (almost every key Append sees), and one for each epoch not
// wholly merged into key_index, so that a lookup searches key_index and, of the up to 128
// such epochs, only those whose filter holds the prefix (a search of every epoch took 0.33
// ms at a million entries). The filter of all keys grows as a series, each with room for as
// many keys as the ones before, so it is never rebuilt; a test asks each.
type keyFilter struct {
	size      int64 // entries covered; -1 before the first load
	first     uint  // room in the first filter of all keys
	all       []*bloom.BloomFilter
	room      uint // keys the last filter of all keys takes before its rate passes falsePositives
	held      uint // keys added to it
	epochBits int64
	epochs    map[int64]*bloom.BloomFilter // by epoch, from the first not wholly merged
}

const (
	falsePositives  = 0.001   // of each filter when full
	firstFilterKeys = 1 << 20 // 1.8 MB at that rate
)

func newKeyFilter(first uint) keyFilter { return keyFilter{size: -1, first: first} }

// add adds the key prefix of entry idx; recent says whether its epoch is not wholly merged.
func (f *keyFilter) add(prefix []byte, idx int64, recent bool) {
	if f.held >= f.room {
		f.room = max(f.first, 2*f.room)
		f.all = append(f.all, bloom.NewWithEstimates(f.room, falsePositives))
		f.held = 0
	}
	f.all[len(f.all)-1].Add(prefix)
	f.held++
	if !recent {
		return
	}
	e := idx >> f.epochBits
	b := f.epochs[e]
	if b == nil {
		b = bloom.NewWithEstimates(1<<f.epochBits, falsePositives)
		f.epochs[e] = b
	}
	b.Add(prefix)
}

// merged forgets the filters of the epochs of the blocks wholly merged in layout m.
func (f *keyFilter) merged(m leafLayout) {
	for e := range f.epochs {
		if e < m.blocks<<(m.blockBits-m.epochBits) {
			delete(f.epochs, e)
		}
	}
}

func (f *keyFilter) mayHold(prefix []byte) bool {
	var locs []uint64
	for _, b := range f.all {
		if testFilter(b, prefix, &locs) {
			return true
		}
	}
	return false
}

// epochsHolding returns the epochs whose filters may hold prefix, in order.
func (f *keyFilter) epochsHolding(prefix []byte) []int64 {
	var (
		out  []int64
		locs []uint64
	)
	for e, b := range f.epochs {
		if testFilter(b, prefix, &locs) {
			out = append(out, e)
		}
	}
	slices.Sort(out)
	return out
}

// testFilter is b.Test(prefix), hashing prefix once for all the filters of one rate (which
// have the same number of hash functions; the bit positions are taken modulo each size).
func testFilter(b *bloom.BloomFilter, prefix []byte, locs *[]uint64) bool {
	if uint(len(*locs)) != b.K() {
		*locs = bloom.Locations(prefix, b.K())
	}
	return b.TestLocations(*locs)
}

// syncKeyFilter brings s.keys up to the log's size, read in the Append's transaction: all of
// it if preloadKeys could not, or the entries another process appended since this one's
// last Append. The caller holds appendMu, and preloadKeys is done.
func (s *Store) syncKeyFilter(ctx context.Context, tx *sql.Tx, size int64, m leafLayout) error {
	have := s.keys.size // only Append (and preloadKeys, before) change s.keys: no lock to read it
	if have == size {
		return nil
	}
	if have < 0 || have > size { // not loaded, or the file shrank (replaced under us)
		f, err := loadKeyFilter(ctx, tx, s.keys.first, size, m)
		if err != nil {
			return err
		}
		s.keysMu.Lock()
		s.keys = f
		s.keysMu.Unlock()
		return nil
	}
	type entry struct {
		idx    int64
		prefix []byte
	}
	var more []entry
	if err := recentKeys(ctx, tx, have, m, func(idx int64, prefix []byte) {
		more = append(more, entry{idx, slices.Clone(prefix)})
	}); err != nil {
		return err
	}
	s.keysMu.Lock()
	defer s.keysMu.Unlock()
	for _, e := range more {
		s.keys.add(e.prefix, e.idx, true)
	}
	s.keys.merged(m)
	s.keys.size = size
	return nil
}

// loadKeyFilter builds the filter of a log of size entries and layout m, read in tx.
func loadKeyFilter(ctx context.Context, tx *sql.Tx, first uint, size int64, m leafLayout) (keyFilter, error) {
	f := newKeyFilter(first)
	f.epochBits, f.epochs = m.epochBits, map[int64]*bloom.BloomFilter{}
	rows, err := tx.QueryContext(ctx, "SELECT prefix FROM key_index")
	if err != nil {
		return f, fmt.Errorf("loading key_index: %w", err)
	}
	if err := scanEach(rows, func(_ int64, prefix []byte) { f.add(prefix, 0, false) }); err != nil {
		return f, fmt.Errorf("loading key_index: %w", err)
	}
	if err := recentKeys(ctx, tx, m.blocks<<m.blockBits, m, func(idx int64, prefix []byte) { f.add(prefix, idx, true) }); err != nil {
		return f, err
	}
	f.merged(m)
	f.size = size
	return f, nil
}

// recentKeys calls fn with the index and key prefix of every entry from index from that has
// a key, from entries_key_recent alone (a covering index), not from the entries' rows; from
// is not below the first entry not wholly merged, the first that index has a prefix for.
func recentKeys(ctx context.Context, tx *sql.Tx, from int64, m leafLayout, fn func(int64, []byte)) error {
	rows, err := tx.QueryContext(ctx, "SELECT idx, key_prefix FROM entries WHERE epoch >= ? AND idx >= ? AND key_prefix IS NOT NULL",
		from>>m.epochBits, from)
	if err == nil {
		err = scanEach(rows, fn)
	}
	if err != nil {
		return fmt.Errorf("loading the keys of entries from %d: %w", from, err)
	}
	return nil
}

// preloadKeys loads the key filter when the store opens, on a reader, so that the first
// Append does not wait for it (0.7–1 s a million keys not yet merged, measured).
func (s *Store) preloadKeys() {
	defer close(s.keysLoaded)
	ctx := context.Background()
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return // the first Append loads it
	}
	defer tx.Rollback()
	var (
		size, hashes, epochBits, blockBits, blocks int64
		cursor                                     []byte
	)
	if err := tx.QueryRowContext(ctx, appendStateQuery).Scan(&size, &hashes, &epochBits, &blockBits, &blocks, &cursor); err != nil {
		return
	}
	m, err := parseLeafLayout(epochBits, blockBits, blocks, cursor)
	if err != nil {
		return
	}
	f, err := loadKeyFilter(ctx, tx, s.keys.first, size, m)
	if err != nil {
		return
	}
	s.keysMu.Lock()
	s.keys = f
	s.keysMu.Unlock()
}

// scanEach calls fn with each row of an optional integer column and a blob column (valid
// only during the call).
func scanEach(rows *sql.Rows, fn func(int64, []byte)) error {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	var (
		n int64
		b sql.RawBytes
	)
	dest := []any{&b}
	if len(cols) == 2 {
		dest = []any{&n, &b}
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		fn(n, b)
	}
	return rows.Err()
}

// keyStmts are the statements of a key lookup, on the writer (in Append's transaction) or the
// readers.
type keyStmts struct{ all, probe *sql.Stmt }

// lookUpKey returns the index of the entry with key, or -1. tx is Append's transaction, or
// nil for a read. With a filter that covers the log as the lookup sees it, a key the filter
// lacks costs nothing, and one it holds a search of key_index and of the few epochs whose
// filters hold its prefix; otherwise (no Append yet in this process, or another process
// appended since) it takes keyQuery's search of every recent epoch.
func (s *Store) lookUpKey(ctx context.Context, tx *sql.Tx, st keyStmts, key string) (int64, error) {
	stmt := func(st *sql.Stmt) *sql.Stmt {
		if tx != nil {
			return tx.StmtContext(ctx, st)
		}
		return st
	}
	p := keyPrefix(key)
	s.keysMu.RLock()
	covered, held := s.keys.size, s.keys.mayHold(p)
	var epochs []int64
	if held {
		epochs = s.keys.epochsHolding(p)
	}
	s.keysMu.RUnlock()
	if covered < 0 {
		return queryIndex(ctx, stmt(st.all), key, p)
	}
	if len(epochs) == 0 {
		epochs = []int64{-1} // key_index only, or (not held) only the size
	}
	for _, e := range epochs {
		var size, idx int64
		if err := stmt(st.probe).QueryRowContext(ctx, key, p, e, held).Scan(&size, &idx); err != nil {
			return 0, err
		}
		if size != covered { // another process appended: the filter does not cover the log
			return queryIndex(ctx, stmt(st.all), key, p)
		}
		if idx >= 0 {
			return idx, nil
		}
	}
	return -1, nil
}

// queryIndex runs a query of one index, giving -1 for no row.
func queryIndex(ctx context.Context, st *sql.Stmt, args ...any) (int64, error) {
	var idx int64
	err := st.QueryRowContext(ctx, args...).Scan(&idx)
	if errors.Is(err, sql.ErrNoRows) {
		return -1, nil
	}
	return idx, err
}

// checkKeys fails with store.ErrDuplicateKey if a key of b is stored already; prefixes are
// the keys' prefixes (nil for no key). The caller holds appendMu, and the filter covers the
// log (syncKeyFilter).
func (s *Store) checkKeys(ctx context.Context, tx *sql.Tx, b *store.Batch, prefixes [][]byte) error {
	for i, p := range prefixes {
		if p == nil || !s.keys.mayHold(p) { // only Append changes s.keys
			continue
		}
		idx, err := s.lookUpKey(ctx, tx, s.wKey, b.Keys[i])
		if err != nil {
			return fmt.Errorf("appending at %d: looking up idempotency key %q: %w", b.First, b.Keys[i], err)
		}
		if idx >= 0 {
			return fmt.Errorf("%w: batch at %d: %q is the key of entry %d", store.ErrDuplicateKey, b.First, b.Keys[i], idx)
		}
	}
	return nil
}
