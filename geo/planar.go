package geo

import "math"

// pedge is a planar polygon edge in degrees (x = lon, y = lat).
type pedge struct{ ax, ay, bx, by float64 }

// orient is twice the signed area of triangle pqr: > 0 when r is left of pq.
func orient(px, py, qx, qy, rx, ry float64) float64 {
	return (qx-px)*(ry-py) - (qy-py)*(rx-px)
}

// crosses reports whether segment r→p crosses edge e. Each vertex is put on
// one side of line rp by the same expression for both edges sharing it, so a
// vertex lying on rp is counted consistently and parity stays right.
func (e *pedge) crosses(rx, ry, px, py float64) bool {
	sa := orient(rx, ry, px, py, e.ax, e.ay) > 0
	sb := orient(rx, ry, px, py, e.bx, e.by) > 0
	if sa == sb {
		return false
	}
	return (orient(e.ax, e.ay, e.bx, e.by, rx, ry) > 0) != (orient(e.ax, e.ay, e.bx, e.by, px, py) > 0)
}

// hitsRect reports whether the edge meets the closed rectangle.
func (e *pedge) hitsRect(x0, y0, x1, y1 float64) bool {
	if max(e.ax, e.bx) < x0 || min(e.ax, e.bx) > x1 || max(e.ay, e.by) < y0 || min(e.ay, e.by) > y1 {
		return false
	}
	// Bounding boxes overlap: the edge misses the rectangle only if all four
	// corners are strictly on one side of its line.
	s := [4]float64{
		orient(e.ax, e.ay, e.bx, e.by, x0, y0),
		orient(e.ax, e.ay, e.bx, e.by, x1, y0),
		orient(e.ax, e.ay, e.bx, e.by, x0, y1),
		orient(e.ax, e.ay, e.bx, e.by, x1, y1),
	}
	pos, neg := 0, 0
	for _, v := range s {
		if v > 0 {
			pos++
		} else if v < 0 {
			neg++
		}
	}
	return pos != 4 && neg != 4
}

// dist2 returns the squared planar distance in degrees from (x, y) to the edge.
func (e *pedge) dist2(x, y float64) float64 {
	dx, dy := e.bx-e.ax, e.by-e.ay
	t := 0.0
	if l2 := dx*dx + dy*dy; l2 > 0 {
		t = min(max(((x-e.ax)*dx+(y-e.ay)*dy)/l2, 0), 1)
	}
	qx, qy := e.ax+t*dx-x, e.ay+t*dy-y
	return qx*qx + qy*qy
}

// planarBands answers point-in-polygon by crossing number for one planar
// polygon at build time; it sorts edges into latitude bands so a test costs
// the edges near the point's latitude, not all of them.
type planarBands struct {
	y0, bh float64
	bands  [][]int32 // edge indices (into the global planar edge list)
}

func newPlanarBands(edges []pedge, e0, e1 int) *planarBands {
	y0, y1 := math.Inf(1), math.Inf(-1)
	for _, e := range edges[e0:e1] {
		y0, y1 = min(y0, e.ay, e.by), max(y1, e.ay, e.by)
	}
	n := max(1, min(4096, (e1-e0)/4))
	pb := &planarBands{y0: y0, bh: (y1 - y0) / float64(n), bands: make([][]int32, n)}
	if pb.bh <= 0 {
		pb.bh = 1
	}
	for i := e0; i < e1; i++ {
		e := edges[i]
		lo, hi := pb.band(min(e.ay, e.by)), pb.band(max(e.ay, e.by))
		for b := lo; b <= hi; b++ {
			pb.bands[b] = append(pb.bands[b], int32(i))
		}
	}
	return pb
}

func (pb *planarBands) band(y float64) int {
	b := int((y - pb.y0) / pb.bh)
	return min(max(b, 0), len(pb.bands)-1)
}

// contains is the crossing-number test (PNPOLY) with a ray towards +lon.
func (pb *planarBands) contains(edges []pedge, x, y float64) bool {
	if y < pb.y0 || y > pb.y0+pb.bh*float64(len(pb.bands)) {
		return false
	}
	in := false
	for _, i := range pb.bands[pb.band(y)] {
		e := &edges[i]
		if (e.ay > y) != (e.by > y) && x < e.ax+(y-e.ay)*(e.bx-e.ax)/(e.by-e.ay) {
			in = !in
		}
	}
	return in
}
