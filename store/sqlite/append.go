package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/bits"

	"github.com/truce-mission/truce/store"
	"github.com/truce-mission/truce/store/internal/validate"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Append writes b in one transaction and returns once it is committed and fsynced. See
// [store.Store].
func (s *Store) Append(ctx context.Context, b *store.Batch) error {
	if err := validate.Batch(b); err != nil {
		return err
	}
	s.appendMu.Lock() // for s.keys: Append takes the one writer connection anyway
	defer s.appendMu.Unlock()
	<-s.keysLoaded
	tx, err := s.w.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock, before reading the size
	if err != nil {
		return fmt.Errorf("appending at %d: %w", b.First, err)
	}
	defer tx.Rollback()
	var (
		entries, hashes, epochBits, blockBits, blocks int64
		cursor                                        []byte
	)
	if err := tx.StmtContext(ctx, s.wSize).QueryRowContext(ctx).Scan(&entries, &hashes, &epochBits, &blockBits, &blocks, &cursor); err != nil {
		return fmt.Errorf("appending at %d: reading the size: %w", b.First, err)
	}
	if err := validate.Position(b, entries, hashes); err != nil {
		return err
	}
	layout, err := parseLeafLayout(epochBits, blockBits, blocks, cursor)
	if err != nil {
		return fmt.Errorf("appending at %d: %w", b.First, err)
	}
	if len(b.Leaves) == 0 {
		return nil
	}
	var keyPrefixes [][]byte // nil for no key
	if b.Keys != nil {
		keyPrefixes = make([][]byte, len(b.Keys))
		for i, k := range b.Keys {
			if k != "" {
				keyPrefixes[i] = keyPrefix(k)
			}
		}
		if err := s.syncKeyFilter(ctx, tx, entries, layout); err != nil {
			return fmt.Errorf("appending at %d: %w", b.First, err)
		}
		if err := s.checkKeys(ctx, tx, b, keyPrefixes); err != nil {
			return err
		}
	}
	if err := s.insertRows(ctx, tx, s.insertEntries, len(b.Leaves), 7, func(args []any, i int) []any {
		var key, kp any // NULL for no key
		if keyPrefixes != nil && keyPrefixes[i] != nil {
			key, kp = b.Keys[i], keyPrefixes[i]
		}
		leaf := b.Leaves[i]
		if leaf == nil {
			leaf = []byte{} // a nil []byte binds as NULL
		}
		idx := b.First + int64(i)
		return append(args, idx, leaf, b.LeafHash[i][:], key, idx>>layout.epochBits, b.LeafHash[i][:leafPrefixLen], kp)
	}); err != nil {
		return appendError(b, "entries", err)
	}
	if err := s.insertRows(ctx, tx, s.insertHashes, len(b.Hashes), 2, func(args []any, i int) []any {
		return append(args, b.HashFirst+int64(i), b.Hashes[i][:])
	}); err != nil {
		return appendError(b, "hashes", err)
	}
	merged, err := s.mergeLeafIndex(ctx, tx, b.First+int64(len(b.Leaves)), len(b.Leaves), layout)
	if err != nil {
		return fmt.Errorf("appending at %d: %w", b.First, err)
	}
	if err := tx.Commit(); err != nil {
		s.keysMu.Lock()
		s.keys.size = -1 // the commit may have happened: reload on the next Append
		s.keysMu.Unlock()
		return fmt.Errorf("appending at %d: committing: %w", b.First, err)
	}
	if s.keys.size == entries { // loaded, and synced if the batch has keys
		s.keysMu.Lock()
		for i, p := range keyPrefixes {
			if p != nil {
				s.keys.add(p, b.First+int64(i), true)
			}
		}
		if merged.blocks != layout.blocks {
			s.keys.merged(merged)
		}
		s.keys.size += int64(len(b.Leaves))
		s.keysMu.Unlock()
	}
	s.kickCheckpoint()
	return nil
}

// insertRows inserts n rows with the prepared multi-row statements stmts ([k] takes 1<<k rows):
// full chunks of the largest, then the remainder by its binary digits, so that any n needs at
// most len(stmts) statements beyond the full chunks and none is prepared on the way.
func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, stmts []*sql.Stmt, n, cols int, row func(args []any, i int) []any) error {
	largest := len(stmts) - 1
	args := make([]any, 0, cols<<largest)
	for i := 0; i < n; {
		k := largest
		if left := n - i; left < 1<<largest {
			k = bits.Len(uint(left)) - 1
		}
		args = args[:0]
		for j := range 1 << k {
			args = row(args, i+j)
		}
		if _, err := tx.StmtContext(ctx, stmts[k]).ExecContext(ctx, args...); err != nil {
			return err
		}
		i += 1 << k
	}
	return nil
}

// appendError maps a failed INSERT to the store's sentinels.
func appendError(b *store.Batch, table string, err error) error {
	var e *sqlite.Error
	if errors.As(err, &e) {
		switch {
		case e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			// The size check under the write lock makes this unreachable, short of a broken file.
			return fmt.Errorf("%w: batch at %d: %v", store.ErrConflict, b.First, err)
		}
	}
	return fmt.Errorf("appending at %d: inserting %s: %w", b.First, table, err)
}

// PutCheckpoint stores c durably unless a checkpoint of its size is already stored.
func (s *Store) PutCheckpoint(ctx context.Context, c store.Checkpoint) error {
	if c.Size < 0 {
		return fmt.Errorf("storing checkpoint: negative size %d", c.Size)
	}
	note := c.Note
	if note == nil {
		note = []byte{}
	}
	if _, err := s.putCheckpoint.ExecContext(ctx, c.Size, note); err != nil {
		return fmt.Errorf("storing checkpoint %d: %w", c.Size, err)
	}
	return nil
}
