package ledger

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"slices"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// vectors are the RFC 6962 test vectors of /work/shared/data/merkle (from
// transparency-dev/merkle and certificate-transparency), copied to testdata.
type vectors struct {
	LeafInputs []string   `json:"leaf_inputs_hex"`
	NodeHashes [][]string `json:"node_hashes_by_level_hex"`
	Roots      []string   `json:"root_hashes_by_tree_size_hex"`
	EmptyRoot  string     `json:"empty_tree_root_hex"`
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

func loadVectors(t *testing.T) *vectors {
	t.Helper()
	b, err := os.ReadFile("testdata/rfc6962_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

func hexHash(t *testing.T, s string) tlog.Hash {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != tlog.HashSize {
		t.Fatalf("bad hash %q", s)
	}
	return tlog.Hash(b)
}

func hexHashes(t *testing.T, ss []string) []tlog.Hash {
	hs := make([]tlog.Hash, len(ss))
	for i, s := range ss {
		hs[i] = hexHash(t, s)
	}
	return hs
}

// vectorTree appends the vector leaves through the sequencer's frontier and returns the
// stored hashes it produced, as the store would hold them.
func vectorTree(t *testing.T, v *vectors) (storedHashes []tlog.Hash, roots []tlog.Hash) {
	t.Helper()
	var f frontier
	roots = append(roots, f.root())
	for _, in := range v.LeafInputs {
		data, err := hex.DecodeString(in)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := tlog.StoredHashIndex(0, f.size), int64(len(storedHashes)); got != want {
			t.Fatalf("leaf %d: stored hash index %d, want %d", f.size, got, want)
		}
		hs, err := f.append(tlog.RecordHash(data))
		if err != nil {
			t.Fatal(err)
		}
		storedHashes = append(storedHashes, hs...)
		roots = append(roots, f.root())
	}
	return storedHashes, roots
}

func TestRFC6962Vectors(t *testing.T) {
	v := loadVectors(t)
	stored, roots := vectorTree(t, v)
	r := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ix))
		for i, x := range ix {
			out[i] = stored[x]
		}
		return out, nil
	})

	t.Run("leaf and node hashes", func(t *testing.T) {
		for level, hs := range v.NodeHashes {
			for n, want := range hs {
				got := stored[tlog.StoredHashIndex(level, int64(n))]
				if got != hexHash(t, want) {
					t.Errorf("node (level %d, %d) = %s, want %s", level, n, hex.EncodeToString(got[:]), want)
				}
			}
		}
		for i, in := range v.LeafInputs {
			data, _ := hex.DecodeString(in)
			if got, want := tlog.RecordHash(data), hexHash(t, v.NodeHashes[0][i]); got != want {
				t.Errorf("leaf %d hash %x, want %x", i, got, want)
			}
		}
	})

	t.Run("roots", func(t *testing.T) {
		if len(roots) != len(v.Roots) {
			t.Fatalf("%d roots, want %d", len(roots), len(v.Roots))
		}
		if roots[0] != hexHash(t, v.EmptyRoot) {
			t.Errorf("empty root %x", roots[0])
		}
		for size, want := range v.Roots {
			if roots[size] != hexHash(t, want) {
				t.Errorf("root of size %d = %x, want %s", size, roots[size], want)
			}
			// The same root read back from the stored hashes.
			if got, err := tlog.TreeHash(int64(size), r); err != nil || got != hexHash(t, want) {
				t.Errorf("TreeHash(%d) = %x, %v", size, got, err)
			}
		}
		// And the frontier a restarted log loads from the store gives it too.
		for size := range v.Roots {
			f, err := loadFrontier(t.Context(), hashStore{stored}, int64(size))
			if err != nil {
				t.Fatal(err)
			}
			if f.root() != roots[size] {
				t.Errorf("loaded frontier of size %d: root %x, want %x", size, f.root(), roots[size])
			}
		}
	})

	t.Run("inclusion", func(t *testing.T) {
		for _, c := range v.Inclusion {
			if c.LeafIndex == nil {
				if _, err := tlog.ProveRecord(c.TreeSize, 0, r); err == nil {
					t.Errorf("proof in an empty tree: want an error")
				}
				continue
			}
			p, err := tlog.ProveRecord(c.TreeSize, *c.LeafIndex, r)
			if err != nil {
				t.Fatal(err)
			}
			if want := hexHashes(t, c.Proof); !slices.Equal(p, tlog.RecordProof(want)) {
				t.Errorf("proof of %d in %d = %x, want %x", *c.LeafIndex, c.TreeSize, p, want)
			}
			if err := tlog.CheckRecord(p, c.TreeSize, hexHash(t, c.Root), *c.LeafIndex, hexHash(t, c.LeafHash)); err != nil {
				t.Errorf("proof of %d in %d does not check: %v", *c.LeafIndex, c.TreeSize, err)
			}
		}
	})

	t.Run("consistency", func(t *testing.T) {
		for _, c := range v.Consistency {
			p, err := tlog.ProveTree(c.Size2, c.Size1, r)
			if err != nil {
				t.Fatal(err)
			}
			if want := hexHashes(t, c.Proof); !slices.Equal(p, tlog.TreeProof(want)) {
				t.Errorf("proof %d -> %d = %x, want %x", c.Size1, c.Size2, p, want)
			}
			if err := tlog.CheckTree(p, c.Size2, hexHash(t, c.Root2), c.Size1, hexHash(t, c.Root1)); err != nil {
				t.Errorf("proof %d -> %d does not check: %v", c.Size1, c.Size2, err)
			}
		}
	})
}

// TestFrontierMatchesTlog appends leaves through the frontier and checks each leaf's stored
// hashes and the roots against tlog reading every stored hash.
func TestFrontierMatchesTlog(t *testing.T) {
	var f frontier
	var stored []tlog.Hash
	r := tlog.HashReaderFunc(func(ix []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(ix))
		for i, x := range ix {
			out[i] = stored[x]
		}
		return out, nil
	})
	for n := int64(0); n < 1100; n++ {
		data := []byte{byte(n), byte(n >> 8)}
		want, err := tlog.StoredHashes(n, data, r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.append(tlog.RecordHash(data))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("leaf %d: stored hashes differ", n)
		}
		stored = append(stored, got...)
		if th, _ := tlog.TreeHash(n+1, r); th != f.root() {
			t.Fatalf("root of size %d differs", n+1)
		}
		if int64(len(stored)) != tlog.StoredHashCount(n+1) {
			t.Fatalf("size %d: %d stored hashes, want %d", n+1, len(stored), tlog.StoredHashCount(n+1))
		}
	}
}
