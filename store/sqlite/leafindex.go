package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math/bits"

	"golang.org/x/mod/sumdb/tlog"
)

// The leaf-hash lookup structures of migration 0002 (see migrations/0002_leaf_index.sql).
// Their layout is stored in leaf_index_state when the store is created:
//
//   - epoch_bits (14; 16 in stores created before migration 0004): entries_leaf_recent
//     indexes (epoch, prefix), epoch = idx >> epoch_bits. Appends write only to the newest
//     epoch's subtree, a few dozen pages, so an append costs the same at any size of the log;
//     smaller epochs mean fewer pages rewritten per commit and more epochs to search.
//   - block_bits (20): leaf_index holds every complete block of 1<<block_bits entries, so a
//     lookup searches it once and then the epochs of at most two blocks (the block being
//     merged and the one filling up).
//
// Larger blocks make merging cheaper per entry (a merge touches the leaf_index pages its
// prefix range spans, which grow with the log) and leave more epochs to search.

// mergeRate sets the pace of merging: each Append merges the prefix range that mergeRate
// times its entry count would cover in a block, so a block is wholly merged once the next one
// is 1/mergeRate full, whatever the batch sizes. Merging all of a block costs the same at any
// pace; a faster one leaves fewer epochs to search.
const mergeRate = 2

// leafPrefixLen is how many leading bytes of a leaf hash the lookup structures keep; the
// whole hash is compared on the entry's row.
const leafPrefixLen = 8

// endOfPrefixes is greater than every 8-byte prefix (blobs compare bytewise, then by length).
var endOfPrefixes = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// mergeChunkQuery copies the entries of epochs ?1 to ?2 whose prefix is in [?3, ?4) into
// leaf_index, sorted: the recursive CTE makes one search of entries_leaf_recent per epoch.
const mergeChunkQuery = `WITH RECURSIVE ep(x) AS (SELECT ?1 UNION ALL SELECT x + 1 FROM ep WHERE x < ?2)
INSERT OR ROLLBACK INTO leaf_index (prefix, idx)
SELECT e.prefix, e.idx FROM ep CROSS JOIN entries AS e
WHERE e.epoch = ep.x AND e.prefix >= ?3 AND e.prefix < ?4
ORDER BY 1, 2`

const updateMergeQuery = "UPDATE leaf_index_state SET blocks = ?, cursor = ?"

// leafHashQuery finds the lowest index with leaf hash ?1: in leaf_index, and in every epoch
// from the first one not wholly merged to the last. It reads one snapshot, so a merge
// committed meanwhile cannot hide an entry. (CROSS JOIN fixes the join order: without
// statistics, SQLite would rather scan entries.)
const leafHashQuery = `WITH RECURSIVE ep(x) AS (
	SELECT blocks << (block_bits - epoch_bits) FROM leaf_index_state
	UNION ALL SELECT x + 1 FROM ep WHERE x < (SELECT max(epoch) FROM entries))
SELECT idx FROM (
	SELECT e.idx FROM leaf_index AS l CROSS JOIN entries AS e ON e.idx = l.idx
	WHERE l.prefix = substr(?1, 1, 8) AND e.leaf_hash = ?1
	UNION ALL
	SELECT e.idx FROM ep CROSS JOIN entries AS e
	WHERE e.epoch = ep.x AND e.prefix = substr(?1, 1, 8) AND e.leaf_hash = ?1)
ORDER BY idx LIMIT 1`

// leafLayout is leaf_index_state: the layout, the blocks wholly merged, and how far into
// block number blocks the merge has gone.
type leafLayout struct {
	epochBits, blockBits int64
	blocks               int64
	cursor               uint64 // prefixes below it are merged, as a big-endian uint64
}

func parseLeafLayout(epochBits, blockBits, blocks int64, cursor []byte) (leafLayout, error) {
	if epochBits < 0 || blockBits < epochBits || blockBits > 40 || blocks < 0 || len(cursor) != leafPrefixLen {
		return leafLayout{}, fmt.Errorf("leaf_index_state holds epoch_bits %d, block_bits %d, blocks %d, cursor %x: the schema was changed outside truce",
			epochBits, blockBits, blocks, cursor)
	}
	return leafLayout{epochBits: epochBits, blockBits: blockBits, blocks: blocks, cursor: binary.BigEndian.Uint64(cursor)}, nil
}

// mergeLeafIndex merges into leaf_index, in the transaction of an Append that brought the
// log to size entries by adding appended of them, the prefix range that mergeRate*appended
// entries cover in a block: from the oldest complete block not yet merged, and on into the
// next complete one if that block is done. (So at most one complete block is ever unmerged,
// and none once the block after it is 1/mergeRate full.)
func (s *Store) mergeLeafIndex(ctx context.Context, tx *sql.Tx, size int64, appended int, m leafLayout) (leafLayout, error) {
	budget := uint64(appended) * mergeRate // in entries of a block, on average
	start := m
	for budget > 0 && size >= (m.blocks+1)<<m.blockBits {
		// The block's prefixes left to merge, [cursor, 2^64), in entries: rounded up.
		left := (^m.cursor)>>(64-m.blockBits) + 1
		var width uint64
		done := budget >= left
		if done {
			budget -= left
		} else {
			width, budget = budget<<(64-m.blockBits), 0
		}
		to, carry := bits.Add64(m.cursor, width, 0)
		done = done || carry != 0
		lo := binary.BigEndian.AppendUint64(nil, m.cursor)
		hi := endOfPrefixes
		if !done {
			hi = binary.BigEndian.AppendUint64(nil, to)
		}
		first := m.blocks << (m.blockBits - m.epochBits)
		last := first + 1<<(m.blockBits-m.epochBits) - 1
		if _, err := tx.StmtContext(ctx, s.mergeChunk).ExecContext(ctx, first, last, lo, hi); err != nil {
			return m, fmt.Errorf("merging block %d into leaf_index: %w", m.blocks, err)
		}
		if _, err := tx.StmtContext(ctx, s.mergeKeyChunk).ExecContext(ctx, first, last, lo, hi); err != nil {
			return m, fmt.Errorf("merging block %d into key_index: %w", m.blocks, err)
		}
		if done {
			m.blocks, m.cursor = m.blocks+1, 0
		} else {
			m.cursor = to
		}
	}
	if m == start {
		return m, nil
	}
	if _, err := tx.StmtContext(ctx, s.updateMerge).ExecContext(ctx, m.blocks, binary.BigEndian.AppendUint64(nil, m.cursor)); err != nil {
		return m, fmt.Errorf("recording the merge into leaf_index: %w", err)
	}
	return m, nil
}

// IndexOfLeafHash returns the lowest index of an entry whose leaf hash is h.
func (s *Store) IndexOfLeafHash(ctx context.Context, h tlog.Hash) (int64, error) {
	return s.index(ctx, s.rLeafHash, h[:], "leaf hash "+h.String())
}
