package storetest

import (
	"fmt"
	"math/bits"

	"github.com/truce-mission/truce/store"
	"golang.org/x/mod/sumdb/tlog"
)

// Frontier builds batches with real tlog hashes for a log it does not store. It keeps only the
// right edge of the tree: the roots of the maximal complete subtrees of the current size, one
// per set bit of the size, which is all tlog.StoredHashes reads to hash the next leaf and all
// tlog.TreeHash reads to compute the root. A log of any size costs at most 64 hashes.
//
// The zero Frontier is an empty log. A Frontier is not safe for concurrent use.
type Frontier struct {
	n     int64
	edges map[int64]tlog.Hash // stored-hash index -> hash, for the subtrees named above
}

// Size returns the number of leaves the frontier has advanced past.
func (f *Frontier) Size() int64 { return f.n }

// HashCount returns the number of stored hashes of the log so far: tlog.StoredHashCount(Size).
func (f *Frontier) HashCount() int64 { return tlog.StoredHashCount(f.n) }

// Root returns the tree hash of the log so far (tlog.TreeHash).
func (f *Frontier) Root() tlog.Hash {
	h, err := tlog.TreeHash(f.n, f.reader(nil, 0))
	if err != nil {
		panic(fmt.Sprintf("storetest: frontier misses a hash it keeps: %v", err)) // a bug here
	}
	return h
}

// Batch returns the batch that appends leaves, with keys (nil, or one per leaf, "" for none),
// after the frontier's leaves. It does not move the frontier: call Advance once the batch is
// stored, so that a batch a store refused can be dropped or retried.
func (f *Frontier) Batch(leaves [][]byte, keys []string) *store.Batch {
	b := &store.Batch{
		First:     f.n,
		Leaves:    leaves,
		LeafHash:  make([]tlog.Hash, len(leaves)),
		HashFirst: tlog.StoredHashCount(f.n),
		Hashes:    make([]tlog.Hash, 0, tlog.StoredHashCount(f.n+int64(len(leaves)))-tlog.StoredHashCount(f.n)),
		Keys:      keys,
	}
	for i, leaf := range leaves {
		b.LeafHash[i] = tlog.RecordHash(leaf)
		hs, err := tlog.StoredHashesForRecordHash(f.n+int64(i), b.LeafHash[i], f.reader(b.Hashes, b.HashFirst))
		if err != nil {
			panic(fmt.Sprintf("storetest: frontier misses a hash it keeps: %v", err))
		}
		b.Hashes = append(b.Hashes, hs...)
	}
	return b
}

// Advance moves the frontier past b, which must be the batch Batch returned for the current size.
func (f *Frontier) Advance(b *store.Batch) {
	if b.First != f.n || b.HashFirst != tlog.StoredHashCount(f.n) {
		panic(fmt.Sprintf("storetest: advancing a frontier of size %d past a batch at %d", f.n, b.First))
	}
	n := f.n + int64(len(b.Leaves))
	edges := make(map[int64]tlog.Hash, bits.OnesCount64(uint64(n)))
	r := f.reader(b.Hashes, b.HashFirst)
	for level := 0; level < 64 && n>>level != 0; level++ {
		if (n>>level)&1 == 0 {
			continue
		}
		i := tlog.StoredHashIndex(level, n>>level-1)
		hs, err := r.ReadHashes([]int64{i})
		if err != nil {
			panic(fmt.Sprintf("storetest: frontier misses a hash it keeps: %v", err))
		}
		edges[i] = hs[0]
	}
	f.n, f.edges = n, edges
}

// reader reads the frontier's hashes, and those of a batch being built (hashes from first).
func (f *Frontier) reader(hashes []tlog.Hash, first int64) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for k, i := range indexes {
			if h, ok := f.edges[i]; ok {
				out[k] = h
			} else if i >= first && i-first < int64(len(hashes)) {
				out[k] = hashes[i-first]
			} else {
				return nil, fmt.Errorf("stored hash %d not on the frontier of size %d", i, f.n)
			}
		}
		return out, nil
	})
}
