// Package validate holds the checks both store backends make the same way: the shape of a
// batch before it is written, and the sizes of a stored log when it is opened.
package validate

import (
	"fmt"

	"github.com/truce-mission/truce/store"
	"golang.org/x/mod/sumdb/tlog"
)

// Batch checks what can be checked of b without the store: lengths that agree with each other,
// and no idempotency key used twice (that is store.ErrDuplicateKey). The backend then calls
// Position in its transaction.
func Batch(b *store.Batch) error {
	if b == nil {
		return fmt.Errorf("malformed batch: nil")
	}
	n := int64(len(b.Leaves))
	if b.First < 0 || b.HashFirst < 0 {
		return fmt.Errorf("malformed batch: first entry %d, first hash %d", b.First, b.HashFirst)
	}
	if len(b.LeafHash) != len(b.Leaves) {
		return fmt.Errorf("malformed batch at %d: %d leaves but %d leaf hashes", b.First, n, len(b.LeafHash))
	}
	if b.Keys != nil && len(b.Keys) != len(b.Leaves) {
		return fmt.Errorf("malformed batch at %d: %d leaves but %d keys", b.First, n, len(b.Keys))
	}
	var seen map[string]int64
	for i, k := range b.Keys {
		if k == "" {
			continue
		}
		if seen == nil {
			seen = make(map[string]int64, len(b.Keys))
		}
		if j, ok := seen[k]; ok {
			return fmt.Errorf("%w: %q given to entries %d and %d of one batch", store.ErrDuplicateKey, k, j, b.First+int64(i))
		}
		seen[k] = b.First + int64(i)
	}
	return nil
}

// Position checks b against the stored log of entries and hashes: a batch that does not start
// where the log ends is store.ErrConflict (whatever else is wrong with it: a stale sequencer's
// batch must read as a conflict), and one that does must carry the stored hashes its leaves add.
func Position(b *store.Batch, entries, hashes int64) error {
	if b.First != entries || b.HashFirst != hashes {
		return fmt.Errorf("%w: batch at entry %d, hash %d; the store holds %d entries, %d hashes",
			store.ErrConflict, b.First, b.HashFirst, entries, hashes)
	}
	n := int64(len(b.Leaves))
	if want := tlog.StoredHashCount(b.First+n) - hashes; int64(len(b.Hashes)) != want {
		return fmt.Errorf("malformed batch at %d: %d leaves need %d stored hashes, got %d", b.First, n, want, len(b.Hashes))
	}
	return nil
}

// Sizes says what is wrong with a stored log of n entries numbered from nMin to nEnd-1 and h
// stored hashes numbered from hMin to hEnd-1, if anything: a log is whole when both are
// numbered from 0 without gaps and h is tlog.StoredHashCount(n).
func Sizes(n, nMin, nEnd, h, hMin, hEnd int64) error {
	const why = "; appends write entries and hashes in one transaction, so the data was changed outside truce or is damaged: refusing to open it"
	if n != nEnd || (n > 0 && nMin != 0) {
		return fmt.Errorf("entries are not numbered 0 to %d without gaps: %d rows, indexes %d to %d%s", n-1, n, nMin, nEnd-1, why)
	}
	if h != hEnd || (h > 0 && hMin != 0) {
		return fmt.Errorf("stored hashes are not numbered 0 to %d without gaps: %d rows, indexes %d to %d%s", h-1, h, hMin, hEnd-1, why)
	}
	if want := tlog.StoredHashCount(n); h != want {
		return fmt.Errorf("torn tail: %d entries need %d stored hashes, found %d%s", n, want, h, why)
	}
	return nil
}

// Range checks the arguments of Leaves against a log of size entries: start <= end, and end
// within the log (else store.ErrNotFound).
func Range(start, end, size int64) error {
	if start < 0 || end < start {
		return fmt.Errorf("invalid range of entries [%d, %d)", start, end)
	}
	if end > size {
		return fmt.Errorf("entries [%d, %d) beyond the log's %d: %w", start, end, size, store.ErrNotFound)
	}
	return nil
}
