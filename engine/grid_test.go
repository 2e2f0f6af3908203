package engine

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestNearCells files incidents under random cells around the origin (negative coordinates
// and run boundaries included) and checks every search of the grid against a scan of all
// of them.
func TestNearCells(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	e := &Engine{cells: map[uint64]*cellRun{}}
	type filed struct {
		c  cell
		ts int32
		id int64
	}
	var all []filed
	for id := int64(1); id <= 3000; id++ {
		f := filed{cell{int32(rng.IntN(41) - 20), int32(rng.IntN(11) - 5), int32(rng.IntN(2))}, int32(rng.IntN(6)), id}
		run := e.cells[cellRunKey(f.c)]
		if run == nil {
			run = new(cellRun)
			e.cells[cellRunKey(f.c)] = run
		}
		run[f.c.x&(cellRunLen-1)].add(f.ts, f.id)
		all = append(all, f)
	}
	for range 2000 {
		c := cell{int32(rng.IntN(45) - 22), int32(rng.IntN(13) - 6), int32(rng.IntN(2))}
		rx, ts := int32(rng.IntN(10)), int32(rng.IntN(8)-1)
		got := e.nearCells(nil, c, rx, ts)
		slices.Sort(got)
		var want []int64
		for _, f := range all {
			if f.c.root == c.root && f.c.x >= c.x-rx && f.c.x <= c.x+rx && f.c.y >= c.y-1 && f.c.y <= c.y+1 && f.ts >= ts-1 && f.ts <= ts+1 {
				want = append(want, f.id)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("cells around %+v (rx %d, slot %d): got %v, want %v", c, rx, ts, got, want)
		}
	}
}
