package ledger_test

import (
	"context"
	"testing"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/truce-mission/truce/ledger"
)

func hashSlices[H ~[]tlog.Hash](p H) [][]byte {
	out := make([][]byte, len(p))
	for i := range p {
		out[i] = p[i][:]
	}
	return out
}

// TestProofsIndependent checks the log's inclusion and consistency proofs, and its roots,
// with transparency-dev/merkle, an RFC 6962 implementation that shares no code with tlog.
func TestProofsIndependent(t *testing.T) {
	const n = 70
	ctx := context.Background()
	l := openLog(t, newMemStore(), nil)
	es := make([]*ledger.Entry, n)
	for i := range es {
		es[i] = signed(t, "uav-gs-1", i)
	}
	// Appends in uneven batches, so that batch boundaries fall everywhere.
	for i := 0; i < n; {
		k := min(1+i%5, n-i)
		if _, err := l.AppendBatch(ctx, es[i:i+k], nil); err != nil {
			t.Fatal(err)
		}
		i += k
	}
	leaves, err := l.Entries(ctx, 0, n)
	if err != nil {
		t.Fatal(err)
	}

	// Independent roots of every size, with a compact range.
	h := rfc6962.DefaultHasher
	rf := compact.RangeFactory{Hash: h.HashChildren}
	cr := rf.NewEmptyRange(0)
	roots := [][]byte{h.EmptyRoot()}
	leafHashes := make([][]byte, n)
	for i, leaf := range leaves {
		leafHashes[i] = h.HashLeaf(leaf)
		if err := cr.Append(leafHashes[i], nil); err != nil {
			t.Fatal(err)
		}
		r, err := cr.GetRootHash(nil)
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, r)
	}
	for size := int64(0); size <= n; size++ {
		got, err := l.TreeHash(ctx, size)
		if err != nil {
			t.Fatal(err)
		}
		if string(got[:]) != string(roots[size]) {
			t.Fatalf("root of size %d differs from transparency-dev/merkle's", size)
		}
	}

	checked := 0
	for size := int64(1); size <= n; size++ {
		for index := int64(0); index < size; index++ {
			p, err := l.InclusionProof(ctx, index, size)
			if err != nil {
				t.Fatal(err)
			}
			if err := proof.VerifyInclusion(h, uint64(index), uint64(size), leafHashes[index], hashSlices(p), roots[size]); err != nil {
				t.Fatalf("inclusion of %d in %d: %v", index, size, err)
			}
			checked++
		}
		for first := int64(1); first <= size; first++ {
			p, err := l.ConsistencyProof(ctx, first, size)
			if err != nil {
				t.Fatal(err)
			}
			if err := proof.VerifyConsistency(h, uint64(first), uint64(size), hashSlices(p), roots[first], roots[size]); err != nil {
				t.Fatalf("consistency %d -> %d: %v", first, size, err)
			}
			checked++
		}
	}
	// By hash, and a wrong proof fails.
	idx, p, err := l.InclusionProofByHash(ctx, tlog.Hash(leafHashes[41]), n)
	if err != nil || idx != 41 {
		t.Fatalf("by hash: %d, %v", idx, err)
	}
	if err := proof.VerifyInclusion(h, 41, n, leafHashes[41], hashSlices(p), roots[n]); err != nil {
		t.Fatal(err)
	}
	if err := proof.VerifyInclusion(h, 42, n, leafHashes[41], hashSlices(p), roots[n]); err == nil {
		t.Error("a proof for entry 41 verified for entry 42")
	}
	t.Logf("%d proofs checked", checked)
}
