package storetest

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// TestFrontier checks the frontier's batches against tlog over a log kept whole in memory.
func TestFrontier(t *testing.T) {
	var (
		f   Frontier
		all []tlog.Hash
		rng = rand.New(rand.NewPCG(1, 2))
	)
	full := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for k, i := range indexes {
			out[k] = all[i]
		}
		return out, nil
	})
	for f.Size() < 1500 {
		leaves := make([][]byte, rng.IntN(70))
		for i := range leaves {
			leaves[i] = fmt.Appendf(nil, "leaf %d", f.Size()+int64(i))
		}
		b := f.Batch(leaves, nil)
		if b.First != f.Size() || b.HashFirst != int64(len(all)) {
			t.Fatalf("batch at (%d, %d), want (%d, %d)", b.First, b.HashFirst, f.Size(), len(all))
		}
		for i, leaf := range leaves {
			want, err := tlog.StoredHashes(b.First+int64(i), leaf, full)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, want...)
			if b.LeafHash[i] != tlog.RecordHash(leaf) {
				t.Fatalf("leaf %d: wrong leaf hash", b.First+int64(i))
			}
		}
		if got := append([]tlog.Hash(nil), all[b.HashFirst:]...); fmt.Sprint(got) != fmt.Sprint(b.Hashes) {
			t.Fatalf("batch at %d: hashes differ from tlog.StoredHashes", b.First)
		}
		f.Advance(b)
		want, err := tlog.TreeHash(f.Size(), full)
		if err != nil {
			t.Fatal(err)
		}
		if f.Root() != want {
			t.Fatalf("size %d: root %v, want %v", f.Size(), f.Root(), want)
		}
		if len(f.edges) > 64 || f.HashCount() != int64(len(all)) {
			t.Fatalf("size %d: %d edges, hash count %d of %d", f.Size(), len(f.edges), f.HashCount(), len(all))
		}
	}
}
