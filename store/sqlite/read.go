package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/truce-mission/truce/store"
	"github.com/truce-mission/truce/store/internal/validate"
	"golang.org/x/mod/sumdb/tlog"
)

// Size returns the number of entries and of stored hashes, read from one snapshot.
func (s *Store) Size(ctx context.Context) (entries, hashes int64, err error) {
	if err := s.rSize.QueryRowContext(ctx).Scan(&entries, &hashes); err != nil {
		return 0, 0, fmt.Errorf("reading the size: %w", err)
	}
	return entries, hashes, nil
}

// Leaves returns the leaf bytes of entries [start, end). An end beyond the log is
// store.ErrNotFound.
func (s *Store) Leaves(ctx context.Context, start, end int64) ([][]byte, error) {
	if err := validate.Range(start, end, max(start, end)); err != nil {
		return nil, err
	}
	if start == end {
		n, _, err := s.Size(ctx)
		if err != nil {
			return nil, err
		}
		return [][]byte{}, validate.Range(start, end, n)
	}
	rows, err := s.rLeaves.QueryContext(ctx, start, end)
	if err != nil {
		return nil, fmt.Errorf("reading entries [%d, %d): %w", start, end, err)
	}
	defer rows.Close()
	out := make([][]byte, 0, min(end-start, 1<<16))
	for rows.Next() {
		var leaf []byte
		if err := rows.Scan(&leaf); err != nil {
			return nil, fmt.Errorf("reading entries [%d, %d): %w", start, end, err)
		}
		if leaf == nil {
			leaf = []byte{}
		}
		out = append(out, leaf)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading entries [%d, %d): %w", start, end, err)
	}
	if int64(len(out)) != end-start { // indexes are dense, so the log ends at start+len(out)
		return nil, validate.Range(start, end, start+int64(len(out)))
	}
	return out, nil
}

// readHashesChunk is the most indexes one SELECT ... IN (...) takes; longer lists are read in
// chunks. A statement is prepared once per list length up to it.
const readHashesChunk = 64

// ReadHashes returns the stored hashes at indexes, in order; a missing one is
// store.ErrNotFound.
func (s *Store) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for lo := 0; lo < len(indexes); lo += readHashesChunk {
		hi := min(lo+readHashesChunk, len(indexes))
		if err := s.readHashes(ctx, indexes[lo:hi], out[lo:hi]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) readHashes(ctx context.Context, indexes []int64, out []tlog.Hash) error {
	st, err := s.readHashesStmtFor(ctx, len(indexes))
	if err != nil {
		return err
	}
	args := make([]any, len(indexes))
	for i, x := range indexes {
		args[i] = x
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return fmt.Errorf("reading stored hashes: %w", err)
	}
	defer rows.Close()
	var found uint64 // bit k: indexes[k] was read; readHashesChunk is 64
	for rows.Next() {
		var (
			idx int64
			h   sql.RawBytes
		)
		if err := rows.Scan(&idx, &h); err != nil {
			return fmt.Errorf("reading stored hashes: %w", err)
		}
		if len(h) != tlog.HashSize {
			return fmt.Errorf("reading stored hash %d: %d bytes, want %d", idx, len(h), tlog.HashSize)
		}
		for k, x := range indexes { // a list is short; duplicates get the hash too
			if x == idx {
				copy(out[k][:], h)
				found |= 1 << k
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading stored hashes: %w", err)
	}
	for k, x := range indexes {
		if found&(1<<k) == 0 {
			return fmt.Errorf("stored hash %d: %w", x, store.ErrNotFound)
		}
	}
	return nil
}

func (s *Store) readHashesStmtFor(ctx context.Context, n int) (*sql.Stmt, error) {
	s.readHashesMu.Lock()
	defer s.readHashesMu.Unlock()
	if st := s.readHashesStmt[n]; st != nil {
		return st, nil
	}
	st, err := s.r.PrepareContext(ctx, "SELECT idx, hash FROM hashes WHERE idx IN (?"+strings.Repeat(", ?", n-1)+")")
	if err != nil {
		return nil, fmt.Errorf("reading stored hashes: %w", err)
	}
	s.readHashesStmt[n] = st
	return st, nil
}

// IndexOfKey returns the index of the entry stored with an idempotency key.
func (s *Store) IndexOfKey(ctx context.Context, key string) (int64, error) {
	if key == "" {
		return 0, fmt.Errorf("empty idempotency key: %w", store.ErrNotFound)
	}
	idx, err := s.lookUpKey(ctx, nil, s.rKey, key)
	switch {
	case err != nil:
		return 0, fmt.Errorf("looking up idempotency key %q: %w", key, err)
	case idx < 0:
		return 0, fmt.Errorf("idempotency key %q: %w", key, store.ErrNotFound)
	}
	return idx, nil
}

func (s *Store) index(ctx context.Context, st *sql.Stmt, arg any, what string) (int64, error) {
	var idx int64
	err := st.QueryRowContext(ctx, arg).Scan(&idx)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("looking up %s: %w", what, err)
	}
	return idx, nil
}

// LatestCheckpoint returns the checkpoint of the largest size.
func (s *Store) LatestCheckpoint(ctx context.Context) (store.Checkpoint, error) {
	var c store.Checkpoint
	err := s.rLatest.QueryRowContext(ctx).Scan(&c.Size, &c.Note)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Checkpoint{}, fmt.Errorf("latest checkpoint: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Checkpoint{}, fmt.Errorf("reading the latest checkpoint: %w", err)
	}
	return c, nil
}

// Checkpoint returns the checkpoint stored for size.
func (s *Store) Checkpoint(ctx context.Context, size int64) (store.Checkpoint, error) {
	c := store.Checkpoint{Size: size}
	err := s.rCheckpoint.QueryRowContext(ctx, size).Scan(&c.Note)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Checkpoint{}, fmt.Errorf("checkpoint %d: %w", size, store.ErrNotFound)
	}
	if err != nil {
		return store.Checkpoint{}, fmt.Errorf("reading checkpoint %d: %w", size, err)
	}
	return c, nil
}
