package geo

import (
	"math"

	"github.com/golang/geo/r3"
)

// leafCellID returns the S2 leaf cell ID containing the unit vector p. It
// does what s2's unexported cellIDFromPoint does, so that a lookup costs no
// second trig evaluation and no allocation; TestLeafCellIDMatchesS2 pins it
// to s2.CellIDFromLatLng.
func leafCellID(p r3.Vector) uint64 {
	f, u, v := xyzToFaceUV(p)
	i := stToIJ(uvToST(u))
	j := stToIJ(uvToST(v))
	return cellIDFromFaceIJ(f, i, j)
}

const (
	maxLevel   = 30
	maxSize    = 1 << maxLevel
	posBits    = 2*maxLevel + 1
	lookupBits = 4
	swapMask   = 0x01
	invertMask = 0x02
)

func xyzToFaceUV(r r3.Vector) (f int, u, v float64) {
	ax, ay, az := math.Abs(r.X), math.Abs(r.Y), math.Abs(r.Z)
	// Same tie-breaking as r3.Vector.LargestComponent.
	switch {
	case ax > ay && ax > az:
		f = 0
		if r.X < 0 {
			f = 3
		}
	case ax > ay:
		f = 2
		if r.Z < 0 {
			f = 5
		}
	case ay > az:
		f = 1
		if r.Y < 0 {
			f = 4
		}
	default:
		f = 2
		if r.Z < 0 {
			f = 5
		}
	}
	switch f {
	case 0:
		return f, r.Y / r.X, r.Z / r.X
	case 1:
		return f, -r.X / r.Y, r.Z / r.Y
	case 2:
		return f, -r.X / r.Z, -r.Y / r.Z
	case 3:
		return f, r.Z / r.X, r.Y / r.X
	case 4:
		return f, r.Z / r.Y, -r.X / r.Y
	}
	return f, -r.Y / r.Z, -r.X / r.Z
}

// uvToST is S2's quadratic projection.
func uvToST(u float64) float64 {
	if u >= 0 {
		return 0.5 * math.Sqrt(1+3*u)
	}
	return 1 - 0.5*math.Sqrt(1-3*u)
}

func stToIJ(s float64) int {
	i := int(math.Floor(maxSize * s))
	return min(max(i, 0), maxSize-1)
}

func cellIDFromFaceIJ(f, i, j int) uint64 {
	n := uint64(f) << (posBits - 1)
	bits := f & swapMask
	const mask = (1 << lookupBits) - 1
	for k := 7; k >= 0; k-- {
		bits += ((i >> uint(k*lookupBits)) & mask) << (lookupBits + 2)
		bits += ((j >> uint(k*lookupBits)) & mask) << 2
		bits = int(lookupPos[bits])
		n |= uint64(bits>>2) << (uint(k) * 2 * lookupBits)
		bits &= swapMask | invertMask
	}
	return n*2 + 1
}

// lookupPos maps 4 bits of i, 4 bits of j and 2 bits of orientation to 8
// bits of Hilbert position and 2 bits of orientation, as in S2.
var lookupPos [1 << (2*lookupBits + 2)]uint16

func init() {
	posToIJ := [4][4]int{{0, 1, 3, 2}, {0, 2, 3, 1}, {3, 2, 0, 1}, {3, 1, 0, 2}}
	posToOrientation := [4]int{swapMask, 0, 0, invertMask | swapMask}
	var initCell func(level, i, j, origOrientation, pos, orientation int)
	initCell = func(level, i, j, origOrientation, pos, orientation int) {
		if level == lookupBits {
			ij := (i << lookupBits) + j
			lookupPos[(ij<<2)+origOrientation] = uint16((pos << 2) + orientation)
			return
		}
		level++
		i <<= 1
		j <<= 1
		pos <<= 2
		r := posToIJ[orientation]
		for k := range 4 {
			initCell(level, i+(r[k]>>1), j+(r[k]&1), origOrientation, pos+k, orientation^posToOrientation[k])
		}
	}
	for o := range 4 {
		initCell(0, 0, 0, o, 0, o)
	}
}
