package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/truce-mission/truce/alert/outbox"
)

// TestIncidentsCommand ingests the example field sheets of a monitor and a drone ground
// station into a real `truce serve`, then lists the incidents as an analyst and as each
// party's liaison, and shows one in full.
func TestIncidentsCommand(t *testing.T) {
	s := intakeServed(t)
	bin, err := buildTruce()
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("truce %s: %v\n%s", strings.Join(args, " "), err, errb.String())
		}
		return out.String()
	}
	for _, feed := range []struct{ key, file string }{
		{"monitor-1", "observations-monitor-1.csv"},
		{"uav-gs-1", "observations-uav-gs-1.csv"},
	} {
		run("ingest", "--server", s.url, "--key", "../../examples/keys/"+feed.key+".key", "--format", "csv", "../../examples/"+feed.file)
	}
	list := func(who string) []outbox.Incident {
		t.Helper()
		var incs []outbox.Incident
		if err := json.Unmarshal([]byte(run("incidents", "--server", s.url, "--key", "../../examples/keys/"+who+".key", "--json")), &incs); err != nil {
			t.Fatal(err)
		}
		return incs
	}

	all := list("analyst-1")
	if len(all) != 4 {
		t.Fatalf("analyst sees %d incidents, want 4 (the far-away tank breaks nothing): %+v", len(all), all)
	}
	first := all[0]
	if first.Category != "tank" || first.Party != "east" || first.Certainty.String() != "observed" || len(first.Evidence) != 2 {
		t.Errorf("incident 1: %+v; want east's tanks in the DMZ, observed, with the monitor's and the drone's evidence", first.Incident)
	}
	// A party liaison sees what is addressed to its party, never the other party's.
	for _, party := range []string{"east", "west"} {
		for _, inc := range list(party + "-liaison") {
			if !strings.Contains(strings.Join(inc.Addressees, ","), party) {
				t.Errorf("%s-liaison sees incident %d addressed to %v", party, inc.ID, inc.Addressees)
			}
		}
	}

	table := run("incidents", "--server", s.url, "--key", "../../examples/keys/analyst-1.key", "--zone", "dmz")
	if lines := strings.Count(table, "\n"); lines != 4 { // header and the three DMZ incidents
		t.Errorf("--zone dmz table has %d lines, want 4:\n%s", lines, table)
	}
	one := run("incidents", "--server", s.url, "--key", "../../examples/keys/analyst-1.key", "1")
	for _, want := range []string{"incident 1 ", "dmz-heavy (prohibit, dmz): breached", "#0 observation m1-0001 by monitor-1: for", "explanation:"} {
		if !strings.Contains(one, want) {
			t.Errorf("incident 1 in full lacks %q:\n%s", want, one)
		}
	}
}
