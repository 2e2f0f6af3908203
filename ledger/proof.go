package ledger

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/truce-mission/truce/store"
)

// reader reads the tree's stored hashes from the store, as a tlog.HashReader.
func (l *Log) reader(ctx context.Context) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		return l.st.ReadHashes(ctx, indexes)
	})
}

// checkSize checks that a tree size is within the durable log.
func (l *Log) checkSize(size int64) error {
	if n := l.Size(); size < 0 || size > n {
		return fmt.Errorf("%w: tree size %d, the log has %d entries", ErrRange, size, n)
	}
	return nil
}

// InclusionProof returns the RFC 6962 audit path (tlog.RecordProof) proving that entry
// index is in the tree of the given size.
func (l *Log) InclusionProof(ctx context.Context, index, size int64) (tlog.RecordProof, error) {
	if err := l.checkSize(size); err != nil {
		return nil, err
	}
	if index < 0 || index >= size {
		return nil, fmt.Errorf("%w: entry %d is not in a tree of size %d", ErrRange, index, size)
	}
	p, err := tlog.ProveRecord(size, index, l.reader(ctx))
	if err != nil {
		return nil, fmt.Errorf("proving entry %d in the tree of size %d: %w", index, size, err)
	}
	return p, nil
}

// InclusionProofByHash finds the first entry with the given leaf hash and returns its index
// and the proof that it is in the tree of the given size. A leaf hash not in that tree is
// [ErrNotFound].
func (l *Log) InclusionProofByHash(ctx context.Context, leafHash tlog.Hash, size int64) (int64, tlog.RecordProof, error) {
	if err := l.checkSize(size); err != nil {
		return 0, nil, err
	}
	idx, err := l.st.IndexOfLeafHash(ctx, leafHash)
	if errors.Is(err, store.ErrNotFound) || err == nil && idx >= size {
		return 0, nil, fmt.Errorf("leaf hash %s in the tree of size %d: %w", leafHash, size, ErrNotFound)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("looking up leaf hash %s: %w", leafHash, err)
	}
	p, err := l.InclusionProof(ctx, idx, size)
	if err != nil {
		return 0, nil, err
	}
	return idx, p, nil
}

// ConsistencyProof returns the RFC 6962 consistency proof (tlog.TreeProof) that the tree of
// size second extends the tree of size first, for 1 <= first <= second <= the log's size.
func (l *Log) ConsistencyProof(ctx context.Context, first, second int64) (tlog.TreeProof, error) {
	if err := l.checkSize(second); err != nil {
		return nil, err
	}
	if first < 1 || first > second {
		return nil, fmt.Errorf("%w: consistency from size %d to %d", ErrRange, first, second)
	}
	p, err := tlog.ProveTree(second, first, l.reader(ctx))
	if err != nil {
		return nil, fmt.Errorf("proving size %d consistent with size %d: %w", second, first, err)
	}
	return p, nil
}

// TreeHash returns the root hash of the tree of the given size, at most the log's size.
func (l *Log) TreeHash(ctx context.Context, size int64) (tlog.Hash, error) {
	if err := l.checkSize(size); err != nil {
		return tlog.Hash{}, err
	}
	h, err := tlog.TreeHash(size, l.reader(ctx))
	if err != nil {
		return tlog.Hash{}, fmt.Errorf("computing the root of the tree of size %d: %w", size, err)
	}
	return h, nil
}

// Entries returns the leaf bytes of entries [start, end), within the log; see [ParseLeaf].
func (l *Log) Entries(ctx context.Context, start, end int64) ([][]byte, error) {
	if err := l.checkRange(start, end); err != nil {
		return nil, err
	}
	if start == end {
		return nil, nil
	}
	leaves, err := l.st.Leaves(ctx, start, end)
	if err != nil {
		return nil, fmt.Errorf("reading entries [%d, %d): %w", start, end, err)
	}
	return leaves, nil
}

// LeafHashes returns the leaf hashes of entries [start, end) as stored in the tree (not
// recomputed from the leaves), for archives.
func (l *Log) LeafHashes(ctx context.Context, start, end int64) ([]tlog.Hash, error) {
	if err := l.checkRange(start, end); err != nil {
		return nil, err
	}
	indexes := make([]int64, 0, end-start)
	for i := start; i < end; i++ {
		indexes = append(indexes, tlog.StoredHashIndex(0, i))
	}
	if len(indexes) == 0 {
		return nil, nil
	}
	hs, err := l.st.ReadHashes(ctx, indexes)
	if err != nil {
		return nil, fmt.Errorf("reading leaf hashes [%d, %d): %w", start, end, err)
	}
	return hs, nil
}

func (l *Log) checkRange(start, end int64) error {
	if n := l.Size(); start < 0 || start > end || end > n {
		return fmt.Errorf("%w: entries [%d, %d), the log has %d", ErrRange, start, end, n)
	}
	return nil
}

// Checkpoint returns the latest signed checkpoint (a C2SP signed note of the origin, size and
// root). When the log has grown since the latest one, it signs and stores a new one, unless
// it signed one less than Options.CheckpointInterval ago: then the latest, smaller one
// comes back.
func (l *Log) Checkpoint(ctx context.Context) ([]byte, error) {
	l.cpMu.Lock()
	defer l.cpMu.Unlock()
	h := l.head.Load()
	now := l.clock()
	if l.cp.Note != nil && (l.cp.Size == h.size || l.interval > 0 && !l.cpTime.IsZero() && now.Sub(l.cpTime) < l.interval) {
		return l.cp.Note, nil
	}
	msg, err := SignCheckpoint(Checkpoint{Origin: l.origin, Size: h.size, Root: h.root}, l.signer)
	if err != nil {
		return nil, fmt.Errorf("signing the checkpoint of size %d: %w", h.size, err)
	}
	cp := store.Checkpoint{Size: h.size, Note: msg}
	if err := l.st.PutCheckpoint(ctx, cp); err != nil {
		return nil, fmt.Errorf("storing the checkpoint of size %d: %w", h.size, err)
	}
	l.cp, l.cpTime = cp, now
	return msg, nil
}
