// Package follow keeps a projection of the evidence log current (the observation index, the
// alert outbox) when the node's own intake hands it what it appended.
//
// A projection is fed two ways: the intake that appended entries offers what it already
// holds for them (decoded records, received entries) with their log indexes, and [Run]
// reads back from the log only the entries nobody offered: other kinds, other nodes'
// appends, intake whose offer never came. Either way the projection consumes the log
// strictly in order, each entry once. [Offers] holds what was offered ahead of the
// projection's position; [Run] is the loop that decides when to wait for an offer and when
// to read the log instead.
//
// The package knows nothing of what is offered; its users keep their own locking.
package follow

import (
	"context"
	"errors"
	"time"
)

// Grace is how long [Run] leaves the first entry a projection lacks to be offered before it
// reads that entry back from the log: the intake that appended it offers it right after the
// commit, unless it failed on the way.
const Grace = 250 * time.Millisecond

// Offers holds values offered for log entries at or beyond a projection's position, by log
// index. The zero value is empty and ready. It is not safe for concurrent use: the
// projection guards it with its own lock.
type Offers[T any] struct {
	m map[int64]T
}

// Add holds v for entry index, replacing what was offered for it before.
func (o *Offers[T]) Add(index int64, v T) {
	if o.m == nil {
		o.m = make(map[int64]T)
	}
	o.m[index] = v
}

// Take removes and returns the value offered for entry index, if any.
func (o *Offers[T]) Take(index int64) (T, bool) {
	v, ok := o.m[index]
	if ok {
		delete(o.m, index)
	}
	return v, ok
}

// Drop forgets what was offered for entry index (the projection consumed it another way).
func (o *Offers[T]) Drop(index int64) { delete(o.m, index) }

// Len returns how many offers are held.
func (o *Offers[T]) Len() int { return len(o.m) }

// Next returns the lowest index in [from, end) with an offer, or end when there is none.
func (o *Offers[T]) Next(from, end int64) int64 {
	next := end
	for i := range o.m {
		if i >= from && i < next {
			next = i
		}
	}
	return next
}

// Log is what Run reads: the log's size and its leaves.
type Log interface {
	Size() int64
	Entries(ctx context.Context, start, end int64) ([][]byte, error)
}

// Projection is what Run keeps current. Its functions are called from Run's goroutine only.
type Projection struct {
	// Size returns how many log entries the projection has consumed.
	Size func() int64
	// Next returns the lowest index in [from, end) whose entry was offered, or end.
	Next func(from, end int64) int64
	// Take, when set, consumes the offered entries that follow the projection's position
	// (a projection that consumes offers as they come leaves it nil) and reports whether
	// it consumed any.
	Take func() (bool, error)
	// Apply consumes the leaves of entries [start, start+len(leaves)), read from the log;
	// start is at most Size() (entries offered meanwhile are the projection's to skip).
	Apply func(start int64, leaves [][]byte) error
	// Chunk is the most entries read from the log at once (512 when 0).
	Chunk int
}

// Run keeps p current with lg until ctx ends, then returns nil. It works whenever poke or
// offered fires, and at least every interval (for entries appended by other nodes sharing
// the store). Entries the log held when Run started are read at once (start-up is replay);
// a later entry the projection lacks is left [Grace] to be offered before it is read.
func Run(ctx context.Context, lg Log, p Projection, poke, offered <-chan struct{}, interval time.Duration) error {
	chunk := int64(p.Chunk)
	if chunk <= 0 {
		chunk = 512
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	// Entries below settled are older than the grace (or were there when Run started): they
	// are read at once. A gap at or beyond it is waited for, once.
	settled := lg.Size()
	var (
		gapAt    = int64(-1) // the first entry missing
		gapSince time.Time   // since when
		gapWant  int64       // the log's size then
	)
	for {
		for have, want := p.Size(), lg.Size(); ; have, want = p.Size(), lg.Size() {
			if ctx.Err() != nil {
				return nil // stopping: what is left is for the next start's replay
			}
			if p.Take != nil {
				took, err := p.Take()
				if err != nil {
					return err
				}
				if took {
					continue
				}
			}
			if have >= want {
				break
			}
			if have >= settled {
				if have != gapAt {
					gapAt, gapSince, gapWant = have, time.Now(), want
				}
				if wait := Grace - time.Since(gapSince); wait > 0 {
					gt := time.NewTimer(wait)
					select {
					case <-ctx.Done():
						gt.Stop()
						return nil
					case <-poke:
					case <-offered:
					case <-gt.C:
					}
					gt.Stop()
					continue
				}
				settled = gapWant
			}
			end := p.Next(have, min(want, have+chunk))
			if end == have {
				continue // offered meanwhile: taken on the next turn
			}
			leaves, err := lg.Entries(ctx, have, end)
			if err != nil {
				if errors.Is(err, context.Canceled) || ctx.Err() != nil {
					return nil
				}
				return err
			}
			if err := p.Apply(have, leaves); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-poke:
		case <-offered:
		case <-t.C:
		}
	}
}

// WaitFor blocks until a projection has consumed at least size entries, or ctx ends. progress
// returns, under the projection's lock, how many entries it has consumed and the channel it
// closes when that number grows.
func WaitFor(ctx context.Context, size int64, progress func() (int64, <-chan struct{})) error {
	for {
		have, changed := progress()
		if have >= size {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
