package ledger

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/truce-mission/truce/store"
)

// run is the sequencer: it takes the requests waiting in the queue, as many as fit in one
// batch, commits them together, and repeats until Close closes the queue and it is empty.
func (l *Log) run() {
	defer close(l.done)
	var carry *request // the request that did not fit in the previous batch
	for {
		first := carry
		carry = nil
		if first == nil {
			r, ok := <-l.queue
			if !ok {
				return
			}
			first = r
		}
		batch := []*request{first}
		n := len(first.prefixes)
	gather:
		for n < l.maxBatch {
			select {
			case r, ok := <-l.queue:
				if !ok {
					break gather
				}
				if n+len(r.prefixes) > l.maxBatch {
					carry = r
					break gather
				}
				batch = append(batch, r)
				n += len(r.prefixes)
			default:
				break gather
			}
		}
		l.commit(batch, false)
	}
}

// commit sequences a batch of requests and writes it in one store transaction.
//
// Idempotency keys are checked optimistically: a key the sequencer wrote lately (held in
// memory) gives its original receipt, and any other is taken as new, the store refusing the
// whole transaction (store.ErrDuplicateKey, nothing written) if it is not. commit then
// sequences the batch again with lookup set, looking every key it does not hold in memory up
// in the store: a resubmission costs a failed transaction and a lookup per key, a new key
// nothing beyond the store's own check.
func (l *Log) commit(batch []*request, lookup bool) {
	s := &l.seq
	if s.stale {
		if err := l.reload(l.ctx); err != nil {
			l.failAll(batch, fmt.Errorf("ledger unavailable: %w", err))
			return
		}
	}
	t := l.clock().UTC().Round(0)
	if err := checkTime("received", t); err != nil {
		l.failAll(batch, fmt.Errorf("ledger clock: %w", err))
		return
	}
	if t.Before(s.lastReceived) {
		t = s.lastReceived // receipt times never go back in index order
	}
	suffix := append(t.AppendFormat(nil, time.RFC3339Nano), `"}`...)

	work := s.front
	n := 0
	for _, r := range batch {
		n += len(r.prefixes)
	}
	b := &store.Batch{ // an entry has one stored hash, plus one per subtree it completes: 2n in all at most
		First: work.size, HashFirst: s.hashCount,
		Leaves: make([][]byte, 0, n), LeafHash: make([]tlog.Hash, 0, n), Keys: make([]string, 0, n),
		Hashes: make([]tlog.Hash, 0, 2*n+64),
	}
	// Keys written by this batch go into s.keys as they are sequenced (one map, sized once,
	// not a map per batch merged after the write), and come out again with the entries of a
	// request that fails or a write that fails.
	var live []*request // requests still to be answered after the write
	for _, r := range batch {
		saved, nLeaves, nHashes := work, len(b.Leaves), len(b.Hashes)
		undo := func() { // take the request's entries back out of the batch
			work = saved
			l.forgetKeys(b.Keys[nLeaves:])
			b.Leaves, b.LeafHash, b.Keys = b.Leaves[:nLeaves], b.LeafHash[:nLeaves], b.Keys[:nLeaves]
			b.Hashes = b.Hashes[:nHashes]
		}
		sequence := func() error {
			run := r.entries[0].IsRun()
			var received []Entry // the entries as logged, one allocation for the request
			for i, prefix := range r.prefixes {
				key := ""
				if r.keys != nil {
					key = r.keys[i]
				}
				if key != "" {
					rec, found, err := l.knownKey(key, lookup)
					if err != nil {
						return err
					}
					if found {
						if rec.digest != r.digests[i] {
							return keyConflict(key, rec.receipt.Index)
						}
						if run {
							return errRunGap
						}
						r.receipts[i] = rec.receipt
						r.receipts[i].Duplicate = true
						continue
					}
				}
				leaf := append(prefix, suffix...)
				h := tlog.RecordHash(leaf)
				hashes, err := work.append(h)
				if err != nil {
					return fmt.Errorf("ledger: computing stored hashes: %w", err)
				}
				b.Leaves = append(b.Leaves, leaf)
				b.LeafHash = append(b.LeafHash, h)
				b.Hashes = append(b.Hashes, hashes...)
				b.Keys = append(b.Keys, key)
				if received == nil {
					received = make([]Entry, len(r.entries))
				}
				e := &received[i]
				*e = *r.entries[i]
				e.received, e.leaf, e.hash = t, leaf, h
				r.receipts[i] = Receipt{Index: work.size - 1, LeafHash: h, Received: t}
				if key != "" {
					s.keys[key] = keyRecord{receipt: r.receipts[i], digest: r.digests[i]}
				}
				r.receipts[i].Entry = e
			}
			return nil
		}
		err := sequence()
		if errors.Is(err, errRunGap) {
			// An entry of a whole batch was logged before: the others are logged without
			// it, so the run would have a gap, and go in path form, each its own proof.
			undo()
			r.setForm(inPathForm(r.given))
			err = sequence()
		}
		if err != nil {
			undo() // the request fails alone
			r.err = err
			close(r.done)
			continue
		}
		live = append(live, r)
	}

	if len(b.Leaves) > 0 {
		if err := l.st.Append(l.ctx, b); err != nil {
			l.forgetKeys(b.Keys)
			if !lookup && errors.Is(err, store.ErrDuplicateKey) {
				l.commit(live, true)
				return
			}
			l.logger.ErrorContext(l.ctx, "ledger: store append failed",
				slog.Any("error", err), slog.Int64("first", b.First), slog.Int("entries", len(b.Leaves)))
			// Rebuild from the store before answering, so that a caller who sees the error
			// also sees the log as the store has it (the batch may have been written
			// though its reply was lost).
			s.stale = true
			if err := l.reload(l.ctx); err != nil {
				l.logger.ErrorContext(l.ctx, "ledger: reloading from the store failed", slog.Any("error", err))
			} else {
				l.logger.InfoContext(l.ctx, "ledger: reloaded from the store", slog.Int64("size", l.Size()))
			}
			l.failAll(live, fmt.Errorf("appending to the store: %w", err))
			return
		}
		s.front = work
		s.hashCount += int64(len(b.Hashes))
		s.lastReceived = t
		if len(s.keys) > l.keyCache {
			// Forget the keys written before this batch: requests that looked the store up
			// before this point will look again (see knownKey).
			// The map is cleared, not made anew: a new one of this size is fresh memory, and
			// faulting its pages in cost more than all its lookups (0.22 s of 15 s of CPU
			// samples in a 400,000-observation run).
			type kept struct {
				key string
				rec keyRecord
			}
			batchKeys := make([]kept, 0, len(b.Keys))
			for _, k := range b.Keys {
				if k != "" {
					batchKeys = append(batchKeys, kept{k, s.keys[k]})
				}
			}
			clear(s.keys)
			for _, k := range batchKeys {
				s.keys[k.key] = k.rec
			}
			s.keyFloor = b.First
		}
		l.head.Store(&treeHead{size: work.size, root: work.root()})
	}
	for _, r := range live {
		close(r.done)
	}
}

// errRunGap stops the sequencing of a whole batch one of whose entries is a duplicate.
var errRunGap = errors.New("a whole batch with an entry logged before")

// knownKey finds an idempotency key used before: among the keys the sequencer wrote since
// keyFloor (this batch's included), or, with lookup, in the store.
func (l *Log) knownKey(key string, lookup bool) (keyRecord, bool, error) {
	if rec, ok := l.seq.keys[key]; ok {
		return rec, true, nil
	}
	if !lookup {
		return keyRecord{}, false, nil
	}
	rec, found, err := l.storedKey(l.ctx, key)
	if err != nil {
		return keyRecord{}, false, err
	}
	return rec, found, nil
}

// forgetKeys takes keys of entries that were not written out of the sequencer's memory.
func (l *Log) forgetKeys(keys []string) {
	for _, k := range keys {
		if k != "" {
			delete(l.seq.keys, k)
		}
	}
}

// newKeyCache makes the sequencer's map of keys, sized for the most it holds: the cache and
// the batch that overflows it.
func (l *Log) newKeyCache() map[string]keyRecord {
	return make(map[string]keyRecord, l.keyCache+l.maxBatch)
}

func (l *Log) failAll(reqs []*request, err error) {
	for _, r := range reqs {
		r.err = err
		close(r.done)
	}
}
