package agreement

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Transponders lists a party's military ship and aircraft transponders, as written in the
// agreement: an AIS position from one of its MMSIs, or an ADS-B position from one of its ICAO
// addresses, is an observation of that party's military.
type Transponders struct {
	MMSI []string // 9 digits each
	ICAO []string // 6 hex digits, or a range LO-HI of them
}

// ICAORange is an inclusive range of 24-bit ICAO aircraft addresses; a single address is a
// range of one.
type ICAORange struct{ Lo, Hi uint32 }

// ParseMMSI reads a 9-digit MMSI.
func ParseMMSI(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || len(s) != 9 {
		return 0, fmt.Errorf("%q is not a 9-digit MMSI", s)
	}
	return uint32(n), nil
}

// ParseICAORange reads an ICAO address (6 hex digits, e.g. "43C6F1") or an inclusive range of
// them ("43C000-43CFFF").
func ParseICAORange(s string) (ICAORange, error) {
	addr := func(h string) (uint32, bool) {
		v, err := strconv.ParseUint(h, 16, 32)
		return uint32(v), err == nil && len(h) == 6
	}
	lo, hi, isRange := strings.Cut(s, "-")
	if !isRange {
		hi = lo
	}
	l, ok1 := addr(lo)
	h, ok2 := addr(hi)
	switch {
	case !ok1 || !ok2:
		return ICAORange{}, fmt.Errorf("%q is not an ICAO address (6 hex digits) nor a range LO-HI of them", s)
	case l > h:
		return ICAORange{}, fmt.Errorf("range %q runs backwards", s)
	}
	return ICAORange{l, h}, nil
}

// transponderIndex finds the party of a listed transponder.
type transponderIndex struct {
	ships    map[uint32]*Party
	aircraft []partyRange // sorted by Lo; no two overlap
}

type partyRange struct {
	ICAORange
	party *Party
	pos   Pos
}

// ShipParty returns the party whose military transponders include mmsi.
func (a *Agreement) ShipParty(mmsi uint32) (party string, ok bool) {
	if p, ok := a.idx.transponders.ships[mmsi]; ok {
		return p.ID, true
	}
	return "", false
}

// AircraftParty returns the party whose military transponders include the ICAO address addr.
func (a *Agreement) AircraftParty(addr uint32) (party string, ok bool) {
	rs := a.idx.transponders.aircraft
	i, _ := slices.BinarySearchFunc(rs, addr, func(r partyRange, addr uint32) int {
		switch {
		case r.Hi < addr:
			return -1
		case r.Lo > addr:
			return 1
		}
		return 0
	})
	if i < len(rs) && rs[i].Lo <= addr && addr <= rs[i].Hi {
		return rs[i].party.ID, true
	}
	return "", false
}

// MilitaryTransponders returns every listed MMSI and ICAO range, for the feed adapters.
func (a *Agreement) MilitaryTransponders() (mmsi []uint32, icao []ICAORange) {
	for m := range a.idx.transponders.ships {
		mmsi = append(mmsi, m)
	}
	slices.Sort(mmsi)
	for _, r := range a.idx.transponders.aircraft {
		icao = append(icao, r.ICAORange)
	}
	return mmsi, icao
}

// transponders parses and indexes the parties' transponder lists, reporting malformed
// entries and any transponder listed twice, for one party or two.
func (v *checker) transponders() {
	ix := transponderIndex{ships: map[uint32]*Party{}}
	shipAt := map[uint32]Pos{}
	for _, p := range v.a.Parties {
		for i, s := range p.Transponders.MMSI {
			at := p.fields.at(fmt.Sprintf("transponders.mmsi[%d]", i), p.Pos)
			m, err := ParseMMSI(s)
			if err != nil {
				v.errorf(at, "", "party %q: transponders: mmsi: %v", p.ID, err)
				continue
			}
			if q, dup := ix.ships[m]; dup {
				v.errorf(at, "", "party %q: transponders: MMSI %s is already listed for party %q at %s", p.ID, s, q.ID, shipAt[m])
				continue
			}
			ix.ships[m], shipAt[m] = p, at
		}
		for i, s := range p.Transponders.ICAO {
			at := p.fields.at(fmt.Sprintf("transponders.icao[%d]", i), p.Pos)
			r, err := ParseICAORange(s)
			if err != nil {
				v.errorf(at, "", "party %q: transponders: icao: %v", p.ID, err)
				continue
			}
			ix.aircraft = append(ix.aircraft, partyRange{r, p, at})
		}
	}
	slices.SortStableFunc(ix.aircraft, func(a, b partyRange) int { return cmp.Compare(a.Lo, b.Lo) })
	kept := ix.aircraft[:0]
	for _, r := range ix.aircraft {
		if n := len(kept); n > 0 && r.Lo <= kept[n-1].Hi {
			prev := kept[n-1]
			v.errorf(r.pos, "", "party %q: transponders: ICAO %06X-%06X overlaps %06X-%06X of party %q at %s",
				r.party.ID, r.Lo, r.Hi, prev.Lo, prev.Hi, prev.party.ID, prev.pos)
			continue
		}
		kept = append(kept, r)
	}
	ix.aircraft = kept
	v.a.idx.transponders = ix
}
