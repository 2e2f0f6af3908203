package verify

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/truce-mission/truce/ledger"
)

func clone(leaves [][]byte) [][]byte {
	out := make([][]byte, len(leaves))
	for i, l := range leaves {
		out[i] = append([]byte(nil), l...)
	}
	return out
}

func TestVerifyGood(t *testing.T) {
	f := newFixture(t)
	f.grow(50)
	a := f.archive(f.leaves)
	kept := [][]byte{f.checkpoint(f.leaves, 1), f.checkpoint(f.leaves, 17), f.checkpoint(f.leaves, 50)}
	r := VerifyArchive(a, Options{Identities: f.keys, VerifierKey: f.vkey, Checkpoints: kept})
	if !r.OK() {
		t.Fatalf("good archive:\n%s", r)
	}
	if r.Size != 50 || r.Covered != 50 || !r.KeyTrusted || !r.SignaturesChecked || len(r.Checkpoints) != 4 {
		t.Errorf("report %+v", r)
	}
	for _, c := range r.Checkpoints {
		if c.Status != CheckpointVerified {
			t.Errorf("%s: %s", c.Source, c.Status)
		}
	}
	if !strings.HasSuffix(r.String(), "ok\n") {
		t.Errorf("summary:\n%s", r)
	}

	// Without the trusted key or identities, the report says what it did not check.
	r = VerifyArchive(a, Options{})
	if !r.OK() || r.KeyTrusted || r.SignaturesChecked || !strings.Contains(r.String(), "warning: checkpoints checked with the archive's own verifier key") {
		t.Errorf("untrusted check:\n%s", r)
	}
}

// TestTamperEveryByte changes each byte of one leaf in turn: the report's first problem
// must name that entry, whether the change breaks the leaf's format, its signature, or
// only its place in the signed tree (a changed receipt time).
func TestTamperEveryByte(t *testing.T) {
	f := newFixture(t)
	f.grow(40)
	const victim = 23
	kinds := map[string]int{}
	for pos := range f.leaves[victim] {
		leaves := clone(f.leaves)
		a := f.archive(f.leaves) // checkpoint and leaf hashes of the original
		leaves[victim][pos] ^= 0x01
		a.Leaves = leaves
		r := VerifyArchive(a, Options{Identities: f.keys, VerifierKey: f.vkey})
		i, ok := r.FirstBadEntry()
		if !ok || i != victim {
			t.Fatalf("byte %d (%q) changed: first bad entry %d, %v\n%s", pos, f.leaves[victim][pos], i, ok, r)
		}
		switch err := r.Problems[0].Err; {
		case errors.Is(err, ledger.ErrMalformed):
			kinds["malformed"]++
		case errors.Is(err, ledger.ErrBadSignature):
			kinds["signature"]++
		case errors.Is(err, ledger.ErrUnknownIdentity):
			kinds["identity"]++
		case errors.Is(err, ErrLeafMismatch):
			kinds["tree"]++
		case errors.Is(err, ErrOrder):
			kinds["order"]++
		default:
			t.Fatalf("byte %d: unexpected problem %v", pos, err)
		}
	}
	t.Logf("%d bytes changed one at a time: %v", len(f.leaves[victim]), kinds)
	if kinds["tree"] == 0 || kinds["signature"] == 0 || kinds["malformed"] == 0 {
		t.Errorf("expected every kind of detection, got %v", kinds)
	}
}

func TestTamperMessages(t *testing.T) {
	f := newFixture(t)
	f.grow(40)
	opts := Options{Identities: f.keys, VerifierKey: f.vkey}

	t.Run("signature", func(t *testing.T) {
		a := f.archive(f.leaves)
		a.Leaves = clone(f.leaves)
		a.Leaves[12] = []byte(strings.Replace(string(a.Leaves[12]), `{"n":12}`, `{"n":13}`, 1))
		r := VerifyArchive(a, opts)
		want := `entry 12: signature: does not verify for identity "monitor-1"`
		if r.Err() == nil || r.Err().Error() != want {
			t.Errorf("got %v, want %q", r.Err(), want)
		}
	})
	t.Run("receipt time", func(t *testing.T) {
		a := f.archive(f.leaves)
		a.Leaves = clone(f.leaves)
		a.Leaves[31] = []byte(strings.Replace(string(a.Leaves[31]), `10:00:31.25Z`, `10:00:31.26Z`, 1))
		r := VerifyArchive(a, opts)
		want := "entry 31: leaf hash does not match the tree at checkpoint size 40 (archive checkpoint 1)"
		if r.Err() == nil || r.Err().Error() != want {
			t.Errorf("got %v, want %q\n%s", r.Err(), want, r)
		}
		if r.Checkpoints[0].Status != CheckpointMismatch {
			t.Errorf("checkpoint status %s", r.Checkpoints[0].Status)
		}
	})
	t.Run("unknown identity", func(t *testing.T) {
		r := VerifyArchive(f.archive(f.leaves), Options{VerifierKey: f.vkey, Identities: func(id string) (ed25519.PublicKey, bool) {
			if id == "uav-gs-1" {
				return nil, false
			}
			return f.keys(id)
		}})
		want := `entry 2: submitter: unknown identity "uav-gs-1"`
		if r.Err() == nil || r.Err().Error() != want || !errors.Is(r.Err(), ledger.ErrUnknownIdentity) {
			t.Errorf("got %v, want %q", r.Err(), want)
		}
	})
	t.Run("receipt order", func(t *testing.T) {
		leaves := clone(f.leaves)
		leaves[5], leaves[6] = leaves[6], leaves[5]
		r := VerifyArchive(f.archive(leaves), opts)
		if i, ok := r.FirstBadEntry(); !ok || i != 6 || !errors.Is(r.Err(), ErrOrder) {
			t.Errorf("swapped entries: %v", r.Err())
		}
	})
	t.Run("leaf hash column", func(t *testing.T) {
		a := f.archive(f.leaves)
		a.LeafHashes[8][0] ^= 1
		r := VerifyArchive(a, opts)
		if i, ok := r.FirstBadEntry(); !ok || i != 8 || !errors.Is(r.Err(), ErrLeafMismatch) || len(r.Problems) != 1 {
			t.Errorf("changed leaf hash: %v\n%s", r.Err(), r)
		}
	})
}

// TestRewrittenHistory rewrites entry 20 and re-signs everything with the mission's key: the
// archive is self-consistent, but checkpoints the user kept from before prove the rewrite.
func TestRewrittenHistory(t *testing.T) {
	f := newFixture(t)
	f.grow(60)
	kept := [][]byte{f.checkpoint(f.leaves, 10), f.checkpoint(f.leaves, 30), f.checkpoint(f.leaves, 60), f.checkpoint(f.leaves, 60)}

	rewritten := clone(f.leaves)
	rewritten[20] = f.leaf(20, 999) // validly signed, different content
	a := f.archive(rewritten)
	if r := VerifyArchive(a, Options{Identities: f.keys, VerifierKey: f.vkey}); !r.OK() {
		t.Fatalf("the rewritten archive alone should look fine:\n%s", r)
	}
	r := VerifyArchive(a, Options{Identities: f.keys, VerifierKey: f.vkey, Checkpoints: kept})
	if r.OK() {
		t.Fatal("rewrite not detected")
	}
	if _, ok := r.FirstBadEntry(); ok {
		t.Errorf("no entry is malformed; the history is: %v", r.Err())
	}
	want := "history rewritten: kept checkpoint 2 of size 30 has root "
	if !errors.Is(r.Err(), ErrRewritten) || !strings.HasPrefix(r.Err().Error(), want) || !strings.HasSuffix(r.Err().Error(), "the first difference is among entries 10 to 29") {
		t.Errorf("got %v, want %q…", r.Err(), want)
	}
	statuses := []CheckpointStatus{CheckpointVerified, CheckpointVerified, CheckpointMismatch, CheckpointMismatch, CheckpointMismatch}
	for i, c := range r.Checkpoints {
		if c.Status != statuses[i] {
			t.Errorf("%s (size %d): %s, want %s", c.Source, c.Size, c.Status, statuses[i])
		}
	}
	if r.Covered != 60 {
		t.Errorf("covered %d, want 60 (the archive's own checkpoint, signed over the rewrite)", r.Covered)
	}
}

func TestCheckpointProblems(t *testing.T) {
	f := newFixture(t)
	f.grow(30)

	t.Run("bad signature", func(t *testing.T) {
		a := f.archive(f.leaves)
		cp := []byte(string(a.Checkpoints[0]))
		sig := strings.LastIndex(string(cp), " ") + 10 // inside the base64 signature
		cp[sig] ^= 0x01
		a.Checkpoints[0] = cp
		r := VerifyArchive(a, Options{Identities: f.keys, VerifierKey: f.vkey})
		if r.Checkpoints[0].Status != CheckpointBad {
			t.Errorf("status %s", r.Checkpoints[0].Status)
		}
		want := fmt.Sprintf("archive checkpoint 1: bad checkpoint: signature by %q does not verify", origin)
		if r.Err() == nil || r.Err().Error() != want || !errors.Is(r.Err(), ledger.ErrBadCheckpoint) {
			t.Errorf("got %v, want %q", r.Err(), want)
		}
		if !errors.Is(r.Problems[1].Err, ErrUnsigned) {
			t.Errorf("second problem %v, want ErrUnsigned", r.Problems[1])
		}
	})
	t.Run("another key", func(t *testing.T) {
		other, _ := ledger.NewNoteSigner(origin, demoKey(t, "monitor-1"))
		a := f.archive(f.leaves)
		root := rootsAt(a.LeafHashes, []int64{30})[30]
		a.Checkpoints[0], _ = ledger.SignCheckpoint(ledger.Checkpoint{Origin: origin, Size: 30, Root: root}, other)
		r := VerifyArchive(a, Options{VerifierKey: f.vkey})
		if r.Checkpoints[0].Status != CheckpointBad || !strings.Contains(r.Err().Error(), "no signature by") {
			t.Errorf("checkpoint by another key: %v", r.Err())
		}
	})
	t.Run("key differs from the trusted one", func(t *testing.T) {
		a := f.archive(f.leaves)
		a.VerifierKey = "someone+12345678+AQ=="
		r := VerifyArchive(a, Options{VerifierKey: f.vkey})
		if !errors.Is(r.Err(), ErrKey) || r.Checkpoints[0].Status != CheckpointVerified {
			t.Errorf("got %v", r.Err())
		}
	})
	t.Run("larger than the archive", func(t *testing.T) {
		more := clone(f.leaves)
		more = append(more, f.leaf(30, 30), f.leaf(31, 31))
		a := f.archive(f.leaves)
		r := VerifyArchive(a, Options{VerifierKey: f.vkey, Checkpoints: [][]byte{f.checkpoint(more, 32)}})
		if !r.OK() || r.Checkpoints[1].Status != CheckpointUnverifiable || r.Checkpoints[1].Size != 32 {
			t.Errorf("larger checkpoint:\n%s", r)
		}
		// Two signed checkpoints of one size with different roots are a fork, archive or not.
		forked := clone(more)
		forked[31] = f.leaf(31, 777)
		r = VerifyArchive(a, Options{VerifierKey: f.vkey, Checkpoints: [][]byte{f.checkpoint(more, 32), f.checkpoint(forked, 32)}})
		if !errors.Is(r.Err(), ErrRewritten) || !strings.Contains(r.Err().Error(), "both signed for size 32 with different roots") {
			t.Errorf("fork beyond the archive: %v", r.Err())
		}
	})
	t.Run("no checkpoint", func(t *testing.T) {
		a := f.archive(f.leaves)
		a.Checkpoints = nil
		r := VerifyArchive(a, Options{VerifierKey: f.vkey})
		if !errors.Is(r.Err(), ErrUnsigned) {
			t.Errorf("got %v", r.Err())
		}
	})
	t.Run("empty archive", func(t *testing.T) {
		a := f.archive(nil)
		r := VerifyArchive(a, Options{VerifierKey: f.vkey})
		if empty, _ := tlog.TreeHash(0, nil); !r.OK() || r.Root != empty {
			t.Errorf("empty archive:\n%s", r)
		}
	})
}
