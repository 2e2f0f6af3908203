package alert_test

import (
	"fmt"
	"time"

	"github.com/truce-mission/truce/alert"
)

// A finding's first version becomes an Alert; its second an Update that references the first.
func ExampleFromFinding() {
	sent := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	f := alert.Finding{
		ID: "inc-42", Version: 1, Sent: sent, Sender: "truce@mission.example",
		Parties: []string{"north", "south"},
		Event:   "Heavy weapons in the demilitarized zone", RuleID: "dmz-no-heavy-weapons", ZoneID: "dmz-north",
		Urgency: "Immediate", Severity: "Severe", Certainty: "Possible",
		Area: alert.Area{Circles: []alert.Circle{{Center: alert.Point{Lon: 35.5, Lat: 33.25}, RadiusM: 2500}}},
	}
	first, err := alert.FromFinding(f, nil)
	if err != nil {
		panic(err)
	}

	f.Version, f.Sent, f.Certainty = 2, sent.Add(time.Hour), "Likely"
	second, err := alert.FromFinding(f, []alert.Reference{first.Ref()})
	if err != nil {
		panic(err)
	}
	fmt.Println(first.MsgType, first.Identifier, first.Info[0].Area[0].AreaDesc, first.Info[0].Area[0].Circle[0])
	fmt.Println(second.MsgType, second.Identifier)
	fmt.Println(second.References)
	// Output:
	// Alert inc-42-v1-4cf206772ed07154 zone dmz-north 33.25,35.5 2.5
	// Update inc-42-v2-771347bde870f63e
	// truce@mission.example,inc-42-v1-4cf206772ed07154,2026-12-05T08:00:00+00:00
}
