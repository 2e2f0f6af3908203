package ledger

import (
	"context"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/truce-mission/truce/store"
)

// hashStore is a store.Store holding only stored hashes, for loadFrontier.
type hashStore struct{ hashes []tlog.Hash }

func (h hashStore) ReadHashes(ctx context.Context, ix []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(ix))
	for i, x := range ix {
		if x < 0 || x >= int64(len(h.hashes)) {
			return nil, store.ErrNotFound
		}
		out[i] = h.hashes[x]
	}
	return out, nil
}

func (hashStore) Append(context.Context, *store.Batch) error { panic("unused") }
func (hashStore) Size(context.Context) (int64, int64, error) { panic("unused") }
func (hashStore) Leaves(context.Context, int64, int64) ([][]byte, error) {
	panic("unused")
}
func (hashStore) IndexOfLeafHash(context.Context, tlog.Hash) (int64, error) { panic("unused") }
func (hashStore) IndexOfKey(context.Context, string) (int64, error)         { panic("unused") }
func (hashStore) PutCheckpoint(context.Context, store.Checkpoint) error     { panic("unused") }
func (hashStore) LatestCheckpoint(context.Context) (store.Checkpoint, error) {
	panic("unused")
}
func (hashStore) Checkpoint(context.Context, int64) (store.Checkpoint, error) { panic("unused") }
func (hashStore) Close() error                                                { return nil }
