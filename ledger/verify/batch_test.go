package verify

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/truce-mission/truce/ledger"
)

// batchLeaves returns the leaves of n entries by id signed as one batch, received in order
// after the fixture's leaves.
func (f *fixture) batchLeaves(id string, n int) [][]byte {
	es := make([]*ledger.Entry, n)
	for i := range es {
		e, err := ledger.NewEntry(ledger.KindObservation, id, t0.Add(time.Duration(i)*time.Millisecond), fmt.Appendf(nil, `{"b":%d}`, i))
		if err != nil {
			f.t.Fatal(err)
		}
		es[i] = e
	}
	if err := ledger.SignBatch(es, f.priv[id]); err != nil {
		f.t.Fatal(err)
	}
	var leaves [][]byte
	for i, e := range es {
		r, err := e.Receive(t0.Add(time.Hour + time.Duration(len(f.leaves)+i)*time.Millisecond))
		if err != nil {
			f.t.Fatal(err)
		}
		leaves = append(leaves, r.Leaf())
	}
	return leaves
}

// TestVerifyBatchEntries checks an archive mixing entries signed alone and in batches
// (one of 600, split across the verifier's workers, and one of one), then changes one
// byte of a batch entry's proof, payload or signature.
func TestVerifyBatchEntries(t *testing.T) {
	f := newFixture(t)
	f.grow(20)
	f.leaves = append(f.leaves, f.batchLeaves("uav-gs-1", 600)...)
	f.leaves = append(f.leaves, f.batchLeaves("east-liaison", 1)...)
	opts := Options{Identities: f.keys, VerifierKey: f.vkey}
	if r := VerifyArchive(f.archive(f.leaves), opts); !r.OK() || r.Size != 621 {
		t.Fatalf("archive with batch entries:\n%s", r)
	}

	const victim = 20 + 345
	// swapAfter changes the character after the first marker in a leaf for another base64
	// character, keeping the field's length.
	swapAfter := func(marker string) func(string) string {
		return func(s string) string {
			at := strings.Index(s, marker) + len(marker)
			c := "A"
			if s[at] == 'A' {
				c = "B"
			}
			return s[:at] + c + s[at+1:]
		}
	}
	replace := func(old, new string) func(string) string {
		return func(s string) string { return strings.Replace(s, old, new, 1) }
	}
	const badSig = `entry 365: signature: does not verify for identity "uav-gs-1" (entry `
	for _, tc := range []struct {
		name     string
		edit     func(string) string
		sentinel error
		want     string
	}{
		{"payload", replace(`{"b":345}`, `{"b":346}`), ledger.ErrBadSignature, badSig + "345 of a batch of 600)"},
		{"index", replace(`"i":345,`, `"i":344,`), ledger.ErrBadSignature, badSig + "344 of a batch of 600)"},
		{"size", replace(`"n":600,`, `"n":601,`), ledger.ErrBadSignature, badSig + "345 of a batch of 601)"},
		{"size and path", replace(`"n":600,`, `"n":2000,`), ledger.ErrMalformed, "entry 365: parsing leaf: batch.path: 10 hashes, want 11 for entry 345 of a batch of 2000"},
		{"path hash", swapAfter(`"path":["`), ledger.ErrBadSignature, badSig + "345 of a batch of 600)"},
		{"path hash length", replace(`"path":["`, `"path":["A`), ledger.ErrMalformed, "entry 365: parsing leaf: batch.path: hash 0 is not"},
		{"signature", swapAfter(`"sig":"`), ledger.ErrBadSignature, badSig + "345 of a batch of 600)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := f.archive(f.leaves)
			a.Leaves = clone(f.leaves)
			a.Leaves[victim] = []byte(tc.edit(string(a.Leaves[victim])))
			r := VerifyArchive(a, opts)
			if !errors.Is(r.Err(), tc.sentinel) || r.Err().Error() != tc.want && !strings.HasPrefix(r.Err().Error(), tc.want) {
				t.Errorf("got %v, want %q (%v)", r.Err(), tc.want, tc.sentinel)
			}
			// Only the changed entry is at fault.
			for _, p := range r.Problems {
				if p.Entry >= 0 && p.Entry != victim {
					t.Errorf("another entry reported: %v", p)
				}
			}
		})
	}
}
