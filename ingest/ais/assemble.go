package ais

import (
	"fmt"
	"strings"
	"time"
)

// groupKey tells apart the multi-sentence messages being reassembled.
type groupKey struct {
	talker  string
	vdo     bool
	channel byte
	seq     byte
	source  string
}

func (k groupKey) String() string {
	return fmt.Sprintf("message id %s, channel %s", orDash(k.seq), orDash(k.channel))
}

func orDash(b byte) string {
	if b == 0 {
		return "-"
	}
	return string(rune(b))
}

// group is a multi-sentence message waiting for its next fragment.
type group struct {
	key       groupKey
	total     int
	next      int // the fragment number expected next
	firstLine int
	lastSeen  int // Decoder.sentences when its last fragment came
	payload   strings.Builder
	t         time.Time
	timeKind  int
}

// sentence takes one checked AIS sentence: a whole message, or a fragment of one.
func (d *Decoder) sentence(s *sentence) {
	d.sentences++
	d.stats.Sentences++
	d.expire()
	if s.total == 1 {
		d.message(s.line, s.payload, s.fill, s.t, s.timeKind)
		return
	}
	k := groupKey{talker: s.talker, vdo: s.vdo, channel: s.channel, seq: s.seq, source: s.source}
	gi := -1
	for i, g := range d.pending {
		if g.key == k {
			gi = i
			break
		}
	}
	if s.num == 1 {
		if gi >= 0 {
			g := d.take(gi)
			d.rejectGroup(g, fmt.Sprintf("superseded by a new first fragment at line %d", s.line))
		}
		g := &group{key: k, total: s.total, next: 2, firstLine: s.line, lastSeen: d.sentences, t: s.t, timeKind: s.timeKind}
		g.payload.WriteString(s.payload)
		d.pending = append(d.pending, g)
		return
	}
	if gi < 0 {
		d.reject(s.line, "fragment", fmt.Errorf("%w: fragment %d of %d (%s) without the fragments before it", ErrFragment, s.num, s.total, k))
		return
	}
	g := d.pending[gi]
	if s.total != g.total || s.num != g.next {
		d.take(gi)
		d.rejectGroup(g, fmt.Sprintf("fragment %d of %d came next, at line %d", s.num, s.total, s.line))
		d.reject(s.line, "fragment", fmt.Errorf("%w: fragment %d of %d (%s) out of order: expected fragment %d of %d begun at line %d", ErrFragment, s.num, s.total, k, g.next, g.total, g.firstLine))
		return
	}
	g.payload.WriteString(s.payload)
	g.next++
	g.lastSeen = d.sentences
	if s.timeKind > g.timeKind {
		g.t, g.timeKind = s.t, s.timeKind
	}
	if s.num == s.total {
		d.take(gi)
		d.stats.Reassembled++
		d.message(g.firstLine, g.payload.String(), s.fill, g.t, g.timeKind)
	}
}

// take removes pending group i, keeping the others in order.
func (d *Decoder) take(i int) *group {
	g := d.pending[i]
	d.pending = append(d.pending[:i], d.pending[i+1:]...)
	return g
}

// expire refuses the groups that have waited more than GroupWindow sentences.
func (d *Decoder) expire() {
	for i := 0; i < len(d.pending); {
		g := d.pending[i]
		if d.sentences-g.lastSeen-1 <= GroupWindow { // sentences since its last fragment
			i++
			continue
		}
		d.take(i)
		d.rejectGroup(g, fmt.Sprintf("fragment %d did not come within %d sentences", g.next, GroupWindow))
	}
}

// flush refuses every group still waiting.
func (d *Decoder) flush(line int, why string) {
	for _, g := range d.pending {
		d.rejectGroup(g, fmt.Sprintf("fragment %d missing %s (line %d)", g.next, why, line))
	}
	d.pending = d.pending[:0]
}

func (d *Decoder) rejectGroup(g *group, why string) {
	d.reject(g.firstLine, "fragment", fmt.Errorf("%w: incomplete message, %d of %d fragments (%s): %s", ErrFragment, g.next-1, g.total, g.key, why))
}
