package verify

import (
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// ErrBadProof marks an inclusion or consistency proof that does not verify.
var ErrBadProof = errors.New("proof does not verify")

// CheckInclusion checks an RFC 6962 inclusion proof (audit path), as served over HTTP:
// that the entry with leaf hash leafHash is at index in the tree of the given size and
// root. The proof is the log's tlog.RecordProof.
func CheckInclusion(leafHash tlog.Hash, index, size int64, root tlog.Hash, proof tlog.RecordProof) error {
	if index < 0 || index >= size {
		return fmt.Errorf("%w: entry %d cannot be in a tree of size %d", ErrBadProof, index, size)
	}
	if err := tlog.CheckRecord(proof, size, root, index, leafHash); err != nil {
		return fmt.Errorf("%w: entry %d in the tree of size %d: %v", ErrBadProof, index, size, err)
	}
	return nil
}

// CheckConsistency checks an RFC 6962 consistency proof: that the tree of size second and
// root secondRoot extends the tree of size first and root firstRoot, nothing rewritten.
// A first size of zero is consistent with anything and needs an empty proof.
func CheckConsistency(first int64, firstRoot tlog.Hash, second int64, secondRoot tlog.Hash, proof tlog.TreeProof) error {
	switch {
	case first < 0 || first > second:
		return fmt.Errorf("%w: size %d cannot extend size %d", ErrBadProof, second, first)
	case first == 0:
		if len(proof) != 0 {
			return fmt.Errorf("%w: consistency with the empty tree needs no proof", ErrBadProof)
		}
		return nil
	}
	if err := tlog.CheckTree(proof, second, secondRoot, first, firstRoot); err != nil {
		return fmt.Errorf("%w: size %d from size %d: %v", ErrBadProof, second, first, err)
	}
	return nil
}
