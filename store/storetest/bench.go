package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/truce-mission/truce/store"
)

// LeafSize is the size of the leaves benchmarks append: about what a signed observation of a
// 200-byte payload takes (payload, submitter, timestamp, ed25519 signature).
const LeafSize = 350

// BenchAppend measures Append of batches of batch leaves of LeafSize bytes to s, whose log f
// describes (nil for an empty store; f then advances past the appended batches), and reports
// entries/s. Building the batches (hashing) is not measured.
func BenchAppend(b *testing.B, s store.Store, f *Frontier, batch int) {
	ctx := b.Context()
	if f == nil {
		f = new(Frontier)
	}
	for b.Loop() {
		b.StopTimer()
		bt := f.Batch(leaves(f.Size(), int64(batch), LeafSize), nil)
		b.StartTimer()
		if err := s.Append(ctx, bt); err != nil {
			b.Fatal(err)
		}
		f.Advance(bt)
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "entries/s")
}

// BenchReadHashes measures ReadHashes of 24 random stored hashes, about what an inclusion proof
// in a log of millions of entries reads, from s, which holds at least one entry.
func BenchReadHashes(b *testing.B, s store.Store) {
	ctx := b.Context()
	_, hashes, err := s.Size(ctx)
	if err != nil || hashes == 0 {
		b.Fatalf("Size: %d hashes, %v", hashes, err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	indexes := make([]int64, 24)
	for b.Loop() {
		for i := range indexes {
			indexes[i] = rng.Int64N(hashes)
		}
		if _, err := s.ReadHashes(ctx, indexes); err != nil {
			b.Fatal(err)
		}
	}
}

// Fill appends n leaves of LeafSize bytes to s, which must be empty, in batches of batch leaves,
// and returns the frontier of the log it wrote.
func Fill(ctx context.Context, s store.Store, n int64, batch int) (*Frontier, error) {
	f := new(Frontier)
	for f.Size() < n {
		bt := f.Batch(leaves(f.Size(), min(int64(batch), n-f.Size()), LeafSize), nil)
		if err := s.Append(ctx, bt); err != nil {
			return nil, fmt.Errorf("filling a store: %w", err)
		}
		f.Advance(bt)
	}
	return f, nil
}

// FillLeaf returns the leaf Fill writes at index i, so that a benchmark can look entries of a
// filled store up by leaf hash.
func FillLeaf(i int64) []byte { return leaf(i, LeafSize) }
