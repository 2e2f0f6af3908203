package geo

import (
	"math/rand/v2"
	"runtime"
	"testing"
)

// Benchmarks run on the example-like set of twelve zones. Run them on one
// core, as the acceptance figures are stated:
//
//	go test -run XXX -bench . -cpu 1 ./geo/

func benchIndex(b *testing.B, edges Edges) (*Index, []Point) {
	b.Helper()
	line := loadLine(b)
	ix, err := NewIndex(exampleZones(line), edges)
	if err != nil {
		b.Fatal(err)
	}
	return ix, line
}

func benchLocate(b *testing.B, ix *Index, pts []Point) {
	dst := make([]int, 0, nExample)
	hits, n := 0, 0
	for b.Loop() {
		dst = ix.Locate(pts[n&(len(pts)-1)], 0, false, dst[:0])
		hits += len(dst)
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "lookups/s")
	b.ReportMetric(float64(hits)/float64(n), "zones/lookup")
}

func BenchmarkLocate(b *testing.B) {
	const npts = 1 << 16 // a power of two, more than the caches hold in cells
	for _, edges := range []Edges{Geodesic, Planar} {
		ix, line := benchIndex(b, edges)
		rng := rand.New(rand.NewPCG(1, 1))
		box := make([]Point, npts)
		for i := range box {
			box[i] = Point{
				Lon: exampleBox.lon0 + rng.Float64()*(exampleBox.lon1-exampleBox.lon0),
				Lat: exampleBox.lat0 + rng.Float64()*(exampleBox.lat1-exampleBox.lat0),
			}
		}
		near := make([]Point, npts)
		for i := range near {
			near[i] = nearLine(rng, line, 20) // where the DMZ's boundaries are
		}
		b.Run(edges.String()+"/bbox", func(b *testing.B) { benchLocate(b, ix, box) })
		b.Run(edges.String()+"/near-line", func(b *testing.B) { benchLocate(b, ix, near) })
		if edges == Geodesic {
			// Twenty times the vertices: lookups should cost about the same.
			dense, err := NewIndex(denseZones(line, 20), edges)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(edges.String()+"/bbox-dense-x20", func(b *testing.B) { benchLocate(b, dense, box) })
		}
	}
}

func BenchmarkDistance(b *testing.B) {
	ix, line := benchIndex(b, Geodesic)
	rng := rand.New(rand.NewPCG(2, 2))
	// Stand-off checks: points inside the 140 km band.
	pts := make([]Point, 0, 1<<16)
	for len(pts) < cap(pts) {
		if p := nearLine(rng, line, 150); ix.Distance(zStandoff140, p) <= 140000 {
			pts = append(pts, p)
		}
	}
	n := 0
	sum := 0.0
	for b.Loop() {
		sum += ix.Distance(zStandoff140, pts[n&(len(pts)-1)])
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "checks/s")
	_ = sum
}

func BenchmarkNewIndex(b *testing.B) {
	line := loadLine(b)
	zones := exampleZones(line)
	for _, edges := range []Edges{Geodesic, Planar} {
		b.Run(edges.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := NewIndex(zones, edges); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestIndexMemory logs the heap an index of the example set holds and
// keeps it under the 50 MB the issue allows.
func TestIndexMemory(t *testing.T) {
	line := loadLine(t)
	zones := exampleZones(line)
	for _, edges := range []Edges{Geodesic, Planar} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		ix, err := NewIndex(zones, edges)
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
		st := ix.Stats()
		t.Logf("%s: index holds %.1f MB: %d ranges, %d entries, %d tests, level %d",
			edges, float64(held)/1e6, st.Ranges, st.Entries, st.Tests, st.Level)
		if held > 50e6 {
			t.Errorf("%s index holds %d bytes, want < 50 MB", edges, held)
		}
		runtime.KeepAlive(ix)
	}
}

// TestDenseZonesStayBounded checks what keeps lookups from slowing down as
// vertices multiply: with twenty times the vertices, no exact test lists
// more than a few edges and the index stays small.
func TestDenseZonesStayBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 10,000-vertex zone set")
	}
	line := loadLine(t)
	for _, k := range []int{1, 20} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		ix, err := NewIndex(denseZones(line, k), Geodesic)
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
		most, total := 0, 0
		for _, tc := range ix.tests {
			n := int(tc.e1 - tc.e0)
			most, total = max(most, n), total+n
		}
		t.Logf("x%d vertices: %.1f MB, %d ranges, %d tests with %.2f edges on average, at most %d",
			k, float64(held)/1e6, len(ix.starts), len(ix.tests), float64(total)/float64(len(ix.tests)), most)
		if most > maxLineEdges {
			t.Errorf("x%d: a test lists %d edges, want <= %d", k, most, maxLineEdges)
		}
		if held > 50e6 {
			t.Errorf("x%d: index holds %d bytes, want < 50 MB", k, held)
		}
		runtime.KeepAlive(ix)
	}
}
