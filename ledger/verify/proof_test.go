package verify

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

type vectors struct {
	LeafInputs []string `json:"leaf_inputs_hex"`
	Roots      []string `json:"root_hashes_by_tree_size_hex"`
	Inclusion  []struct {
		LeafIndex *int64   `json:"leaf_index"`
		TreeSize  int64    `json:"tree_size"`
		LeafHash  string   `json:"leaf_hash_hex"`
		Root      string   `json:"root_hex"`
		Proof     []string `json:"proof_hex"`
	} `json:"inclusion_proofs"`
	Consistency []struct {
		Size1 int64    `json:"size1"`
		Size2 int64    `json:"size2"`
		Root1 string   `json:"root1_hex"`
		Root2 string   `json:"root2_hex"`
		Proof []string `json:"proof_hex"`
	} `json:"consistency_proofs"`
}

func h(t *testing.T, s string) tlog.Hash {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		t.Fatalf("bad hash %q", s)
	}
	return tlog.Hash(b)
}

func hs(t *testing.T, ss []string) []tlog.Hash {
	out := make([]tlog.Hash, len(ss))
	for i, s := range ss {
		out[i] = h(t, s)
	}
	return out
}

// TestVectors runs the RFC 6962 vectors through the offline checker: roots from leaves,
// inclusion and consistency proofs, and tampered proofs that must fail.
func TestVectors(t *testing.T) {
	b, err := os.ReadFile("../testdata/rfc6962_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	var leafHashes []tlog.Hash
	for _, in := range v.LeafInputs {
		d, _ := hex.DecodeString(in)
		leafHashes = append(leafHashes, tlog.RecordHash(d))
	}
	var sizes []int64
	for s := range v.Roots {
		sizes = append(sizes, int64(s))
	}
	roots := rootsAt(leafHashes, sizes)
	for s, want := range v.Roots {
		if roots[int64(s)] != h(t, want) {
			t.Errorf("root of size %d = %x, want %s", s, roots[int64(s)], want)
		}
	}
	for _, c := range v.Inclusion {
		if c.LeafIndex == nil {
			if err := CheckInclusion(tlog.Hash{}, 0, 0, tlog.Hash{}, nil); !errors.Is(err, ErrBadProof) {
				t.Errorf("empty tree: %v", err)
			}
			continue
		}
		p := tlog.RecordProof(hs(t, c.Proof))
		if err := CheckInclusion(h(t, c.LeafHash), *c.LeafIndex, c.TreeSize, h(t, c.Root), p); err != nil {
			t.Errorf("inclusion of %d in %d: %v", *c.LeafIndex, c.TreeSize, err)
		}
		if len(p) > 0 {
			bad := append(tlog.RecordProof{}, p...)
			bad[len(bad)-1][0] ^= 1
			if err := CheckInclusion(h(t, c.LeafHash), *c.LeafIndex, c.TreeSize, h(t, c.Root), bad); !errors.Is(err, ErrBadProof) {
				t.Errorf("tampered inclusion proof of %d in %d: %v", *c.LeafIndex, c.TreeSize, err)
			}
			if err := CheckInclusion(h(t, c.LeafHash), *c.LeafIndex, c.TreeSize, h(t, c.Root), p[:len(p)-1]); !errors.Is(err, ErrBadProof) {
				t.Errorf("short inclusion proof: %v", err)
			}
		}
	}
	for _, c := range v.Consistency {
		p := tlog.TreeProof(hs(t, c.Proof))
		if err := CheckConsistency(c.Size1, h(t, c.Root1), c.Size2, h(t, c.Root2), p); err != nil {
			t.Errorf("consistency %d -> %d: %v", c.Size1, c.Size2, err)
		}
		if c.Size1 != c.Size2 {
			if err := CheckConsistency(c.Size1, h(t, c.Root2), c.Size2, h(t, c.Root2), p); !errors.Is(err, ErrBadProof) {
				t.Errorf("consistency %d -> %d with a wrong old root: %v", c.Size1, c.Size2, err)
			}
		}
	}
	if err := CheckConsistency(0, tlog.Hash{}, 5, h(t, v.Roots[5]), nil); err != nil {
		t.Errorf("from the empty tree: %v", err)
	}
	if err := CheckConsistency(6, h(t, v.Roots[6]), 5, h(t, v.Roots[5]), nil); !errors.Is(err, ErrBadProof) {
		t.Errorf("backwards: %v", err)
	}
}
