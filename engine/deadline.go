package engine

import (
	"container/heap"
	"time"
)

// dueKind is what a deadline is for.
type dueKind uint8

const (
	dueDark dueKind = iota // a track last seen in a zone may go dark
	dueAck                 // an acknowledgement is due
)

// deadline is one entry of the deadline queue.
type deadline struct {
	at    time.Time
	seq   int64 // ties are taken in the order they were added
	kind  dueKind
	track *trackState
	stamp int64
	obl   *obligation
}

// deadlines is a min-heap of deadlines by (at, seq): a pure function of the entries applied.
type deadlines struct {
	h   dueHeap
	seq int64
}

func (d *deadlines) add(x deadline) {
	d.seq++
	x.seq = d.seq
	heap.Push(&d.h, x)
}

// pop returns the earliest deadline that now has passed (now after it), if any.
func (d *deadlines) pop(now time.Time) (deadline, bool) {
	if len(d.h) == 0 || !now.After(d.h[0].at) {
		return deadline{}, false
	}
	return heap.Pop(&d.h).(deadline), true
}

type dueHeap []deadline

func (h dueHeap) Len() int { return len(h) }
func (h dueHeap) Less(i, j int) bool {
	if c := h[i].at.Compare(h[j].at); c != 0 {
		return c < 0
	}
	return h[i].seq < h[j].seq
}
func (h dueHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)   { *h = append(*h, x.(deadline)) }
func (h *dueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = deadline{}
	*h = old[:len(old)-1]
	return x
}

// advance handles every deadline the log's time has passed, in deadline order.
func (e *Engine) advance(index int64) {
	for {
		d, ok := e.due.pop(e.now)
		if !ok {
			return
		}
		switch d.kind {
		case dueDark:
			e.darkTrack(index, d.track, d.stamp)
		case dueAck:
			e.escalate(index, d.obl)
		}
	}
}
