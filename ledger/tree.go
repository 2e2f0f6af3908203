package ledger

import (
	"context"
	"fmt"
	"math/bits"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/truce-mission/truce/store"
)

// frontier is the right edge of a Merkle tree of size n: the root hash of each complete
// subtree that makes up the tree, one per set bit of n. That is all that appending a leaf
// (tlog.StoredHashes) and computing the root (tlog.TreeHash) read, so the sequencer keeps
// it in memory and never reads the store to append.
type frontier struct {
	size   int64
	hashes [64]tlog.Hash // hashes[l]: the subtree of 2^l leaves, valid when bit l of size is set
	index  [64]int64     // its tlog stored-hash index
}

// readHashes serves the stored hashes of the frontier's subtrees, as a tlog.HashReader.
func (f *frontier) readHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
next:
	for i, x := range indexes {
		for s := uint64(f.size); s != 0; s &= s - 1 {
			l := bits.TrailingZeros64(s)
			if f.index[l] == x {
				out[i] = f.hashes[l]
				continue next
			}
		}
		return nil, fmt.Errorf("ledger: internal error: stored hash %d is not on the frontier of a tree of size %d", x, f.size)
	}
	return out, nil
}

// append adds the leaf with hash h and returns the stored hashes to write for it
// (tlog.StoredHashesForRecordHash).
func (f *frontier) append(h tlog.Hash) ([]tlog.Hash, error) {
	hashes, err := tlog.StoredHashesForRecordHash(f.size, h, tlog.HashReaderFunc(f.readHashes))
	if err != nil {
		return nil, err
	}
	// The leaf closes len(hashes)-1 subtrees, which merge into one of 2^m leaves.
	m := len(hashes) - 1
	f.hashes[m] = hashes[m]
	f.index[m] = tlog.StoredHashIndex(m, f.size>>m)
	f.size++
	return hashes, nil
}

// root returns the RFC 6962 root hash of the tree.
func (f *frontier) root() tlog.Hash {
	h, err := tlog.TreeHash(f.size, tlog.HashReaderFunc(f.readHashes))
	if err != nil {
		panic(err) // the frontier holds every hash TreeHash reads
	}
	return h
}

// loadFrontier reads the frontier of the tree of size n from the store.
func loadFrontier(ctx context.Context, st store.Store, n int64) (frontier, error) {
	f := frontier{size: n}
	var levels []int
	var indexes []int64
	for s := uint64(n); s != 0; s &= s - 1 {
		l := bits.TrailingZeros64(s)
		f.index[l] = tlog.StoredHashIndex(l, n>>l-1)
		levels = append(levels, l)
		indexes = append(indexes, f.index[l])
	}
	if len(indexes) == 0 {
		return f, nil
	}
	hs, err := st.ReadHashes(ctx, indexes)
	if err != nil {
		return frontier{}, fmt.Errorf("reading the tree's frontier: %w", err)
	}
	if len(hs) != len(indexes) {
		return frontier{}, fmt.Errorf("reading the tree's frontier: %d hashes for %d indexes", len(hs), len(indexes))
	}
	for i, l := range levels {
		f.hashes[l] = hs[i]
	}
	return f, nil
}
