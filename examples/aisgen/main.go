// Command aisgen writes examples/corridor.nmea, the AIS feed of truce demo: two ships sailing
// south along the Black Sea corridor of examples/line-of-contact.yaml on 2026-12-05, one of
// them (MMSI 273310150) on the Eastern Party's list of naval transponders, the other a
// merchant ship. Each sentence carries an NMEA 4.10 tag block with its reception time.
//
//	go run ./examples/aisgen > examples/corridor.nmea
package main

import (
	"fmt"
	"os"
	"time"

	ais "github.com/BertoldVdb/go-ais"
	"github.com/BertoldVdb/go-ais/aisnmea"
)

// ship is one track: from one point to another at a constant speed, a report every step.
type ship struct {
	mmsi     uint32
	from, to [2]float64 // lon, lat
	start    time.Time
	reports  int
	step     time.Duration
	sogKnots float64
}

func main() {
	day := time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)
	ships := []ship{
		{mmsi: 273310150, from: [2]float64{30.817, 45.983}, to: [2]float64{30.425, 45.150}, start: day, reports: 10, step: 20 * time.Minute, sogKnots: 16},
		{mmsi: 255806200, from: [2]float64{30.700, 45.700}, to: [2]float64{30.450, 45.200}, start: day.Add(10 * time.Minute), reports: 6, step: 30 * time.Minute, sogKnots: 11},
	}
	nmea := aisnmea.NMEACodecNew(ais.CodecNew(false, false))
	type line struct {
		at   time.Time
		text string
	}
	var lines []line
	for _, s := range ships {
		for i := range s.reports {
			f := float64(i) / float64(s.reports-1)
			lon := s.from[0] + f*(s.to[0]-s.from[0])
			lat := s.from[1] + f*(s.to[1]-s.from[1])
			at := s.start.Add(time.Duration(i) * s.step)
			p := ais.PositionReport{
				Header: ais.Header{MessageID: 1, UserID: s.mmsi}, Valid: true,
				Sog: ais.Field10(s.sogKnots), Longitude: ais.FieldLatLonFine(lon), Latitude: ais.FieldLatLonFine(lat),
				Cog: 200, TrueHeading: 200, Timestamp: uint8(at.Second()),
			}
			for _, sentence := range nmea.EncodeSentence(aisnmea.VdmPacket{Channel: 1, TalkerID: "AI", MessageType: "VDM", Packet: p}) {
				lines = append(lines, line{at, tagBlock(fmt.Sprintf("c:%d,s:ais-rx-1", at.Unix())) + sentence})
			}
		}
	}
	// In time order, as a receiver hears them.
	for i := 1; i < len(lines); i++ {
		for j := i; j > 0 && lines[j].at.Before(lines[j-1].at); j-- {
			lines[j], lines[j-1] = lines[j-1], lines[j]
		}
	}
	for _, l := range lines {
		fmt.Fprintln(os.Stdout, l.text)
	}
}

// tagBlock frames NMEA 4.10 tag block fields with their checksum: \fields*hh\.
func tagBlock(fields string) string {
	var sum byte
	for i := 0; i < len(fields); i++ {
		sum ^= fields[i]
	}
	return fmt.Sprintf("\\%s*%02X\\", fields, sum)
}
