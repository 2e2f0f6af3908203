package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/engine"
	"github.com/truce-mission/truce/ingest"
	"github.com/truce-mission/truce/keys"
	"github.com/truce-mission/truce/ledger"
	"github.com/truce-mission/truce/store/sqlite"
)

// replayLog writes a data directory, as 'truce serve' keeps it, holding a small log recorded
// under the example agreement: tanks in the DMZ on D+5 (entries 0 and 1, seen by a monitor
// and a UAV) and 100 mm artillery 30 km from the line on D+16 (entry 2), then a tick.
func replayLog(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	a, err := agreement.LoadFile("../../examples/line-of-contact.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	seed := [32]byte{1}
	logKey := ed25519.NewKeyFromSeed(seed[:])
	if err := os.WriteFile(filepath.Join(dir, "log.key"), keys.FormatPrivateKey("mission-log", logKey), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	origin := "truce/" + a.ID
	signer, err := ledger.NewNoteSigner(origin, logKey)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var clock time.Time
	lg, err := ledger.Open(ctx, st, ledger.Options{Origin: origin, Signer: signer, Authorize: ledger.AuthorizeAgreement(a),
		Clock: func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	day := func(d int, h time.Duration) time.Time { return a.DDay.Add(time.Duration(d)*24*time.Hour + h) }
	obs := func(at time.Time, cat, party string, src ingest.SourceKind, lon, lat float64) ingest.Observation {
		o := ingest.Observation{ID: cat + "-" + at.Format("0102T15"), Observed: at, Category: cat, AssessedParty: party, Source: src}
		o.Position.Lon, o.Position.Lat = lon, lat
		return o
	}
	steps := []struct {
		who  string
		kind ledger.Kind
		at   time.Time
		p    any
	}{
		{"monitor-1", ledger.KindObservation, day(5, 8*time.Hour), obs(day(5, 8*time.Hour), "tank", "east", ingest.SourceGroundMonitor, 36.40572, 47.01571)},
		{"uav-gs-1", ledger.KindObservation, day(5, 9*time.Hour), obs(day(5, 9*time.Hour), "tank", "east", ingest.SourceUAV, 36.41, 47.02)},
		{"uav-gs-1", ledger.KindObservation, day(16, 8*time.Hour), obs(day(16, 8*time.Hour), "artillery-100mm", "west", ingest.SourceUAV, 37.26277, 46.90036)},
		{"monitor-1", ledger.KindTick, day(16, 10*time.Hour), engine.TickPayload{Time: day(16, 10*time.Hour)}},
	}
	for _, s := range steps {
		raw, err := json.Marshal(s.p)
		if err == nil {
			raw, err = ledger.Canonicalize(raw)
		}
		if err != nil {
			t.Fatal(err)
		}
		en, err := ledger.NewEntry(s.kind, s.who, s.at, raw)
		if err != nil {
			t.Fatal(err)
		}
		k, err := keys.LoadPrivateKey(filepath.Join("../../examples/keys", s.who+".key"))
		if err != nil {
			t.Fatal(err)
		}
		if err := ledger.Sign(en, k); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		clock = s.at
		mu.Unlock()
		if _, err := lg.Append(ctx, en); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := lg.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	return dir
}

// draft writes a copy of the example agreement with edit applied (old -> new), next to a
// copy of its zone files, and returns its path.
func draft(t *testing.T, old, new string) string {
	t.Helper()
	src, err := os.ReadFile("../../examples/line-of-contact.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), old) {
		t.Fatalf("the example agreement has no %q", old)
	}
	dir := t.TempDir()
	zones, err := filepath.Glob("../../examples/zones/*.geojson")
	if err != nil || len(zones) == 0 {
		t.Fatalf("zone files: %v", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "zones"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, z := range zones {
		b, err := os.ReadFile(z)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "zones", filepath.Base(z)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "draft.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(string(src), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReplay(t *testing.T) {
	data := replayLog(t)
	const baseline = "../../examples/line-of-contact.yaml"
	tests := []struct {
		name     string
		old, new string
		want     []string // lines or parts of lines of the output, in order
		summary  map[string]int
	}{
		{
			name: "same text", old: "title:", new: "title:",
			want:    []string{"replayed 4 entries of truce/loc-2026-illustrative", "line-of-contact.yaml (loc-2026-illustrative): 2 findings", "no difference in the findings"},
			summary: map[string]int{"new": 0, "gone": 0, "changed": 0},
		},
		{
			name: "dmz-heavy narrowed to artillery",
			old:  "{id: dmz-heavy, kind: prohibit, zone: dmz, category: heavy-weapons,", new: "{id: dmz-heavy, kind: prohibit, zone: dmz, category: artillery,",
			want: []string{
				"draft.yaml (loc-2026-illustrative): 1 findings",
				"gone     evidence #0 #1",
				"         baseline: incident 1, infraction, observed: tank of east at 36.40572,47.01571, 2026-12-06T08:00Z, zones dmz,dmz-airspace,notification-band, breaks dmz-heavy",
				"         - no incident",
				"0 new, 1 gone, 0 changed",
			},
			summary: map[string]int{"new": 0, "gone": 1, "changed": 0},
		},
		{
			name: "artillery stand-off from D+30",
			old:  "distance_m: 50000, category: artillery-100mm, from: D+14", new: "distance_m: 50000, category: artillery-100mm, from: D+30",
			want: []string{
				"gone     evidence #2",
				"breaks standoff-artillery-100mm",
				"0 new, 1 gone, 0 changed",
			},
			summary: map[string]int{"new": 0, "gone": 1, "changed": 0},
		},
		{
			name: "ceiling turned into a prohibition",
			old:  "{id: dmz-heavy, kind: prohibit, zone: dmz, category: heavy-weapons, from: D+0,", new: "{id: dmz-heavy, kind: ceiling, max: 20, zone: dmz, category: heavy-weapons, from: D+0,",
			want: []string{
				"gone     evidence #0 #1",
				"         draft:    incident 1, within-limit, observed",
				"         - verdict infraction -> within-limit",
				"         - rule dmz-heavy not breached (was breached)",
			},
			summary: map[string]int{"new": 0, "gone": 1, "changed": 0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := draft(t, tc.old, tc.new)
			var out, errOut bytes.Buffer
			if code := run([]string{"replay", "--baseline", baseline, "--agreement", d, "--data", data}, streams{strings.NewReader(""), &out, &errOut}); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			got := out.String()
			at := 0
			for _, w := range tc.want {
				i := strings.Index(got[at:], w)
				if i < 0 {
					t.Fatalf("output lacks %q (in order); output:\n%s", w, got)
				}
				at += i + len(w)
			}
			if errOut.Len() > 0 {
				t.Errorf("stderr: %s", errOut.String())
			}

			out.Reset()
			if code := run([]string{"replay", "--json", "--baseline", baseline, "--agreement", d, "--data", data}, streams{strings.NewReader(""), &out, &errOut}); code != 0 {
				t.Fatalf("--json: exit %d: %s", code, errOut.String())
			}
			var rep struct {
				Entries int64
				Summary map[string]int
				Diffs   []struct {
					Kind     string
					Evidence []int64
				}
			}
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatalf("--json: %v\n%s", err, out.String())
			}
			if rep.Entries != 4 || len(rep.Summary) != 3 || rep.Summary["gone"] != tc.summary["gone"] || rep.Summary["new"] != tc.summary["new"] || rep.Summary["changed"] != tc.summary["changed"] {
				t.Errorf("--json: %d entries, summary %v, want 4 and %v", rep.Entries, rep.Summary, tc.summary)
			}
			if n := tc.summary["gone"] + tc.summary["new"] + tc.summary["changed"]; len(rep.Diffs) != n || n > 0 && (rep.Diffs[0].Kind != "gone" || len(rep.Diffs[0].Evidence) == 0) {
				t.Errorf("--json: diffs %+v", rep.Diffs)
			}
		})
	}
}

// TestReplayArchive replays an exported archive, and refuses a log that does not verify.
func TestReplayArchive(t *testing.T) {
	data := replayLog(t)
	arch := filepath.Join(t.TempDir(), "log.archive")
	var out, errOut bytes.Buffer
	if code := run([]string{"log", "export", "--data", data, arch}, streams{nil, &out, &errOut}); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut.String())
	}
	d := draft(t, "{id: dmz-heavy, kind: prohibit", "{id: dmz-heavy-draft, kind: prohibit")
	out.Reset()
	if code := run([]string{"replay", "--baseline", "../../examples/line-of-contact.yaml", "--agreement", d, arch}, streams{nil, &out, &errOut}); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, w := range []string{"changed  evidence #0 #1", "- rule dmz-heavy no longer matched (was breached)", "- rule dmz-heavy-draft breached", "0 new, 0 gone, 1 changed"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out.String())
		}
	}

	// One byte changed in an entry's payload: the log no longer verifies.
	b, err := os.ReadFile(arch)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(b, []byte(`"count"`), []byte(`"COUNT"`), 1)
	if bytes.Equal(bad, b) {
		bad = bytes.Replace(b, []byte(`36.40572`), []byte(`36.40573`), 1)
	}
	if err := os.WriteFile(arch, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	if code := run([]string{"replay", "--baseline", "../../examples/line-of-contact.yaml", "--agreement", d, arch}, streams{nil, &out, &errOut}); code != 1 {
		t.Fatalf("tampered log: exit %d, want 1; stderr %s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "the log does not verify") {
		t.Errorf("stderr: %s", errOut.String())
	}
}

// TestReplayServedBaseline: `truce serve --data DIR` notes the agreement it runs under, so
// `truce replay --agreement DRAFT --data DIR` needs no --baseline; a baseline file changed
// since is refused rather than silently replayed under another text.
func TestReplayServedBaseline(t *testing.T) {
	data := t.TempDir()
	base := draft(t, "{id: dmz-heavy, kind: prohibit", "{id: dmz-heavy, kind: prohibit") // a copy, to change later
	s := startServer(t, "--data", data, "--agreement", base)
	bin, err := buildTruce()
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "ingest", "--server", s.url, "--key", "../../examples/keys/monitor-1.key",
		"--format", "csv", "../../examples/observations-monitor-1.csv").CombinedOutput(); err != nil {
		t.Fatalf("ingest: %v\n%s", err, out)
	}
	// Wait for a checkpoint that covers the five entries, then stop the server.
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		cp, err := exec.Command(bin, "log", "checkpoint", "--server", s.url).Output()
		if lines := strings.Split(string(cp), "\n"); err == nil && len(lines) > 1 && lines[1] == "5" {
			break
		}
		if time.Since(start) > time.Minute { // a guard against hanging, not a timing check
			t.Fatalf("no checkpoint of size 5: %v %s", err, cp)
		}
	}
	s.kill()

	d := draft(t, "{id: dmz-heavy, kind: prohibit", "{id: dmz-heavy-draft, kind: prohibit")
	var out, errOut bytes.Buffer
	if code := run([]string{"replay", "--agreement", d, "--data", data}, streams{strings.NewReader(""), &out, &errOut}); code != 0 {
		t.Fatalf("replay without --baseline: exit %d\n%s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "baseline "+base) || !strings.Contains(out.String(), "- rule dmz-heavy-draft breached") {
		t.Errorf("replay against the served agreement:\nstdout %s\nstderr %s", out.String(), errOut.String())
	}

	if err := os.WriteFile(base, append(must(os.ReadFile(base)), "\n# edited\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errOut.Reset()
	if code := run([]string{"replay", "--agreement", d, "--data", data}, streams{strings.NewReader(""), &out, &errOut}); code == 0 || !strings.Contains(errOut.String(), "has changed since") {
		t.Errorf("replay after the baseline changed: exit %d, stderr %s; want a refusal", code, errOut.String())
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
