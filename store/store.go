// Package store persists the evidence ledger: its entries (the exact leaf bytes), the Merkle
// tree's stored hashes, and the signed checkpoints. Two implementations share this contract and
// one conformance suite (storetest.Run): store/sqlite (the embedded default) and
// store/postgres.
//
// The store is not the sequencer: one ledger.Log per store assigns indexes and computes hashes,
// and the store makes a batch durable in one transaction. Nothing here interprets leaf bytes.
package store

import (
	"context"
	"errors"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// ErrNotFound is returned when an asked-for entry, hash or checkpoint does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned by Append when first is not the store's current size: another writer
// appended, or the caller's view is stale. Nothing was written.
var ErrConflict = errors.New("append conflict: log size changed")

// Batch is one group commit: entries appended at consecutive indexes from First, and the
// Merkle tree's stored hashes (golang.org/x/mod/sumdb/tlog numbering) from HashFirst.
type Batch struct {
	First     int64       // index of Leaves[0]; must equal the store's size
	Leaves    [][]byte    // the exact leaf bytes, hashed as RFC 6962 leaves
	LeafHash  []tlog.Hash // tlog.RecordHash of each leaf, for lookups by hash
	HashFirst int64       // stored-hash index of Hashes[0]; must equal the stored hash count
	Hashes    []tlog.Hash // tlog.StoredHashes of every leaf in order, concatenated
	// Keys are optional idempotency keys, parallel to Leaves ("" for none). A key already
	// present makes Append fail with ErrDuplicateKey and write nothing.
	Keys []string
}

// ErrDuplicateKey is returned by Append when an idempotency key is already stored.
var ErrDuplicateKey = errors.New("idempotency key already used")

// Checkpoint is a signed note (C2SP signed-note) of a tree size and root.
type Checkpoint struct {
	Size int64
	Note []byte // the whole signed note, as served
}

// Store is the ledger's persistence. Implementations are safe for concurrent use; Append is
// called by one sequencer at a time.
type Store interface {
	// Append writes the batch in one transaction and returns only once it is durable (fsynced).
	// It fails with ErrConflict when b.First or b.HashFirst do not match what is stored, and
	// with ErrDuplicateKey when a key is already used; either way nothing is written.
	Append(ctx context.Context, b *Batch) error
	// Size returns the number of entries and of stored hashes.
	Size(ctx context.Context) (entries, hashes int64, err error)
	// Leaves returns the leaf bytes of entries [start, end); end beyond the size is an error.
	Leaves(ctx context.Context, start, end int64) ([][]byte, error)
	// ReadHashes returns the stored hashes at the given tlog stored-hash indexes, in order
	// (a tlog.HashReader). A missing index is ErrNotFound.
	ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error)
	// IndexOfLeafHash returns the lowest entry index whose leaf hash is h, or ErrNotFound.
	IndexOfLeafHash(ctx context.Context, h tlog.Hash) (int64, error)
	// IndexOfKey returns the entry index stored with an idempotency key, or ErrNotFound.
	IndexOfKey(ctx context.Context, key string) (int64, error)
	// PutCheckpoint stores a checkpoint; storing the same size twice keeps the first.
	PutCheckpoint(ctx context.Context, c Checkpoint) error
	// LatestCheckpoint returns the checkpoint of the largest size, or ErrNotFound.
	LatestCheckpoint(ctx context.Context) (Checkpoint, error)
	// Checkpoint returns the checkpoint stored for a size, or ErrNotFound.
	Checkpoint(ctx context.Context, size int64) (Checkpoint, error)
	Close() error
}

// Subscription is one identity's webhook subscription to the alert outbox, with how far its
// delivery has gone. It is delivery state, not evidence: it lives beside the log, not in it.
type Subscription struct {
	ID       string // random, e.g. "sub-3f9c…"
	Identity string // the agreement identity that subscribed; it sees what that identity may see
	URL      string // where alerts are POSTed
	Created  time.Time
	// Delivered is the sequence number of the last alert delivered (acknowledged with a 2xx),
	// or of the last alert before the subscription began; 0 for none.
	Delivered int64
}

// Subscriptions persists webhook subscriptions and their delivery state. The sqlite and
// postgres stores implement it beside [Store]; storetest.RunSubscriptions is its suite.
type Subscriptions interface {
	// PutSubscription stores a new subscription; an id already stored is an error.
	PutSubscription(ctx context.Context, s Subscription) error
	// Subscriptions returns every subscription, ordered by id.
	Subscriptions(ctx context.Context) ([]Subscription, error)
	// DeleteSubscription removes a subscription, or returns ErrNotFound.
	DeleteSubscription(ctx context.Context, id string) error
	// SetDelivered records that the subscription's alerts up to seq were delivered. It never
	// moves the mark back; an unknown id is ErrNotFound.
	SetDelivered(ctx context.Context, id string, seq int64) error
}
