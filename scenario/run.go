package scenario

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/alert/outbox"
	"github.com/truce-mission/truce/engine"
	"github.com/truce-mission/truce/ingest"
	"github.com/truce-mission/truce/keys"
	"github.com/truce-mission/truce/ledger"
	"github.com/truce-mission/truce/store/sqlite"
)

// Options configure [Run].
type Options struct {
	// Out receives one line per expectation and the replay check; nil discards them.
	Out io.Writer
	// OnChange, when set, is called for every change the engine reports, with the
	// incident as it is after the change (zero for a warning, or for the escalation of a
	// warning's alert or a hotline message), in log order.
	OnChange func(c engine.Change, inc engine.Incident, a *agreement.Agreement)
	// CapOut, when set, is a directory that receives every alert the run produced, as CAP
	// 1.2 XML in <identifier>.xml.
	CapOut string
}

// Result sums up a run.
type Result struct {
	Passed, Failed int
	Entries        int64    // entries written to the log
	StateHash      [32]byte // the live run's final state hash
	Alerts         []string // the CAP files written to Options.CapOut
}

// Run runs a parsed script against a fresh log in a temporary directory. A failed
// expectation is counted in the result and printed; an error is returned for what stops the
// run: the agreement, a key, a refused entry, or a replay that does not reach the live
// run's state hash.
func Run(ctx context.Context, s *Script, opts Options) (*Result, error) {
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	errAt := func(line int, format string, args ...any) error {
		return &Error{s.File, line, fmt.Sprintf(format, args...)}
	}
	rel := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(s.Dir, p)
	}
	a, err := agreement.LoadFile(rel(s.Agreement))
	if err != nil {
		return nil, fmt.Errorf("%s: agreement: %w", s.File, err)
	}
	keyDir := filepath.Join(filepath.Dir(rel(s.Agreement)), "keys")
	if s.Keys != "" {
		keyDir = rel(s.Keys)
	}
	dir, err := os.MkdirTemp("", "truce-scenario-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(dir)
	if err != nil {
		return nil, err
	}
	defer st.Close()

	// The checkpoint key is fixed: a scenario's log is the same on every run.
	seed := sha256.Sum256([]byte("truce scenario checkpoint key"))
	signer, err := ledger.NewNoteSigner("truce/scenario", ed25519.NewKeyFromSeed(seed[:]))
	if err != nil {
		return nil, err
	}
	var clockMu sync.Mutex
	var clock time.Time
	lg, err := ledger.Open(ctx, st, ledger.Options{
		Origin: "truce/scenario", Signer: signer, Authorize: ledger.AuthorizeAgreement(a),
		CheckpointInterval: -1,
		Clock: func() time.Time {
			clockMu.Lock()
			defer clockMu.Unlock()
			return clock
		},
	})
	if err != nil {
		return nil, err
	}
	defer lg.Close()

	// The script's base name tells its findings apart from other scripts' in one CapOut.
	name := strings.TrimSuffix(filepath.Base(s.File), filepath.Ext(s.File))
	engOpts := engine.Options{FindingPrefix: name}
	eng, err := engine.NewWithOptions(a, engOpts)
	if err != nil {
		return nil, err
	}
	r := &runner{s: s, a: a, eng: eng, keyDir: keyDir, keys: map[string]ed25519.PrivateKey{}, obs: map[string]int64{}}
	res := &Result{}
	var caps *capWriter
	if opts.CapOut != "" {
		if err := os.MkdirAll(opts.CapOut, 0o755); err != nil {
			return nil, err
		}
		caps = &capWriter{dir: opts.CapOut, alerter: outbox.NewAlerter(a, eng)}
		defer func() { res.Alerts = caps.files }()
	}
	var last time.Time
	var state *engine.State
	for i := range s.Steps {
		step := &s.Steps[i]
		if step.Verb == "expect" {
			if state == nil {
				st := eng.State()
				state = &st
			}
			if why := check(state, step.Args); why != "" {
				res.Failed++
				fmt.Fprintf(out, "%s:%d: FAILED: %s: %s\n", s.File, step.Line, step.Text, why)
			} else {
				res.Passed++
				fmt.Fprintf(out, "%s:%d: passed: %s\n", s.File, step.Line, step.Text)
			}
			continue
		}
		state = nil
		at := step.At
		if step.Rel != nil {
			at = step.Rel.resolve(a.DDay)
		}
		if at.Before(last) {
			return res, errAt(step.Line, "time %s is before the previous step's %s", at.Format(time.RFC3339), last.Format(time.RFC3339))
		}
		last = at
		en, obsID, err := r.entry(step, at)
		if err != nil {
			return res, errAt(step.Line, "%v", err)
		}
		clockMu.Lock()
		clock = at
		clockMu.Unlock()
		rc, err := lg.Append(ctx, en)
		if err != nil {
			return res, errAt(step.Line, "appending: %v", err)
		}
		if obsID != "" {
			r.obs[obsID] = rc.Index
		}
		leaves, err := lg.Entries(ctx, rc.Index, rc.Index+1)
		if err != nil {
			return res, err
		}
		got, err := ledger.ParseLeaf(leaves[0])
		if err != nil {
			return res, err
		}
		changes, err := eng.Apply(rc.Index, got)
		if err != nil {
			return res, err
		}
		for _, c := range changes {
			inc, _ := eng.Incident(c.Incident)
			if opts.OnChange != nil {
				opts.OnChange(c, inc, a)
			}
			if caps != nil {
				if err := caps.write(c); err != nil {
					return res, errAt(step.Line, "%v", err)
				}
			}
		}
	}
	res.Entries = lg.Size()
	res.StateHash = eng.StateHash()

	// Replay: the log alone, into a fresh engine, must give the same state.
	re, err := engine.NewWithOptions(a, engOpts)
	if err != nil {
		return res, err
	}
	const chunk = 1024
	for start := int64(0); start < res.Entries; start += chunk {
		leaves, err := lg.Entries(ctx, start, min(res.Entries, start+chunk))
		if err != nil {
			return res, err
		}
		for j, leaf := range leaves {
			en, err := ledger.ParseLeaf(leaf)
			if err != nil {
				return res, err
			}
			if _, err := re.Apply(start+int64(j), en); err != nil {
				return res, err
			}
		}
	}
	if h := re.StateHash(); h != res.StateHash {
		res.Failed++
		fmt.Fprintf(out, "%s: FAILED: replay of %d entries: state hash %x, live run %x\n", s.File, res.Entries, h, res.StateHash)
	} else {
		fmt.Fprintf(out, "%s: passed: replay of %d entries gives the live state hash %x\n", s.File, res.Entries, h[:8])
	}
	return res, nil
}

type runner struct {
	s      *Script
	a      *agreement.Agreement
	eng    *engine.Engine // the live engine: acknowledgements name its alerts
	keyDir string
	keys   map[string]ed25519.PrivateKey
	obs    map[string]int64 // observation id -> ledger index
}

func (r *runner) key(id string) (ed25519.PrivateKey, error) {
	if k, ok := r.keys[id]; ok {
		return k, nil
	}
	if _, ok := r.a.Identity(id); !ok {
		return nil, fmt.Errorf("unknown identity %q: not in the agreement", id)
	}
	k, err := keys.LoadPrivateKey(filepath.Join(r.keyDir, id+".key"))
	if err != nil {
		return nil, fmt.Errorf("key of %q: %v", id, err)
	}
	r.keys[id] = k
	return k, nil
}

func (r *runner) time(s string) (time.Time, error) {
	t, rel, err := parseTime(s)
	if err != nil {
		return time.Time{}, err
	}
	if rel != nil {
		t = rel.resolve(r.a.DDay)
	}
	return t, nil
}

// entry builds and signs the entry of a step; obsID is the id of an observation.
func (r *runner) entry(st *Step, at time.Time) (*ledger.Entry, string, error) {
	who := st.Who
	if who == "" {
		for _, id := range r.a.Identities {
			if p, ok := r.a.Party(id.Party); ok && p.Kind == agreement.PartyKindMission {
				who = id.ID
				break
			}
		}
		if who == "" {
			return nil, "", fmt.Errorf("tick: the agreement has no mission identity; name one")
		}
	}
	ident, ok := r.a.Identity(who)
	if !ok {
		return nil, "", fmt.Errorf("unknown identity %q: not in the agreement", who)
	}
	m, bare, _ := kv(st.Args)
	var kind ledger.Kind
	var payload any
	var obsID string
	switch st.Verb {
	case "observe":
		kind = ledger.KindObservation
		cat, absent, pos, err := observeWords(bare, m)
		if err != nil {
			return nil, "", err
		}
		o := ingest.Observation{ID: m["id"], Observed: at, Category: cat, AssessedParty: m["party"], ClaimedParty: m["claimed"], Reliability: m["reliability"], Text: m["text"]}
		if o.ID == "" {
			o.ID = "o" + strconv.Itoa(st.Line)
		}
		if _, dup := r.obs[o.ID]; dup {
			return nil, "", fmt.Errorf("observation id %q used twice", o.ID)
		}
		obsID = o.ID
		o.Position.Lon, o.Position.Lat = pos[0], pos[1]
		if len(pos) == 3 {
			o.Position.AltM = &pos[2]
		}
		if absent {
			o.Text = strings.TrimSpace("absent " + o.Text)
		}
		if v := m["observed"]; v != "" {
			if o.Observed, err = r.time(v); err != nil {
				return nil, "", err
			}
		}
		for k, dst := range map[string]*int{"count": &o.Count, "credibility": &o.Credibility} {
			if v := m[k]; v != "" {
				if *dst, err = strconv.Atoi(v); err != nil {
					return nil, "", fmt.Errorf("%s %q is not a number", k, v)
				}
			}
		}
		switch {
		case m["source"] != "":
			if err := o.Source.UnmarshalText([]byte(m["source"])); err != nil {
				return nil, "", err
			}
		case ident.Role == agreement.RoleMonitor:
			o.Source = ingest.SourceGroundMonitor
		case ident.Role == agreement.RolePartyLiaison:
			o.Source = ingest.SourcePartyReport
		case ident.Role == agreement.RoleSensor:
			o.Source = ingest.SourceUAV
		}
		if m["mmsi"] != "" || m["icao"] != "" {
			o.Track = &ingest.Track{ICAO: m["icao"]}
			if v := m["mmsi"]; v != "" {
				n, err := strconv.ParseUint(v, 10, 32)
				if err != nil {
					return nil, "", fmt.Errorf("mmsi %q is not a number", v)
				}
				o.Track.MMSI = uint32(n)
			}
		}
		payload = o
	case "notify":
		kind = ledger.KindNotification
		p := engine.NotificationPayload{ID: m["id"], Party: m["party"], Category: m["category"]}
		if p.ID == "" {
			p.ID = "n" + strconv.Itoa(st.Line)
		}
		if len(bare) == 1 {
			p.Category = bare[0]
		}
		var err error
		if p.Count, err = strconv.Atoi(m["count"]); err != nil {
			return nil, "", fmt.Errorf("count %q is not a number", m["count"])
		}
		if p.From, err = r.time(m["from"]); err != nil {
			return nil, "", err
		}
		if p.Until, err = r.time(m["until"]); err != nil {
			return nil, "", err
		}
		if v := m["zones"]; v != "" {
			p.Zones = strings.Split(v, ",")
		}
		if v := m["area"]; v != "" {
			f, err := parsePos(v)
			if err != nil || len(f) != 3 {
				return nil, "", fmt.Errorf("area %q: want LON,LAT,RADIUS_M", v)
			}
			p.Area = &engine.Area{Center: [2]float64{f[0], f[1]}, RadiusM: f[2]}
		}
		payload = p
	case "review":
		kind = ledger.KindReview
		p := engine.ReviewPayload{Action: bare[0], Certainty: strings.ToLower(m["certainty"]), Note: m["note"], Reason: m["reason"]}
		nums := func(ws []string) []int64 {
			var out []int64
			for _, w := range ws {
				n, _ := strconv.ParseInt(w, 10, 64)
				out = append(out, n)
			}
			return out
		}
		switch p.Action {
		case "confirm", "dismiss":
			p.Incident = nums(bare[1:2])[0]
		case "merge":
			p.Incidents = nums(bare[1:])
		case "split":
			p.Incident = nums(bare[1:2])[0]
			for _, w := range bare[2:] {
				if n, ok := strings.CutPrefix(w, "#"); ok {
					i, err := strconv.ParseInt(n, 10, 64)
					if err != nil {
						return nil, "", fmt.Errorf("split: %q is not a ledger index", w)
					}
					p.Entries = append(p.Entries, i)
					continue
				}
				i, ok := r.obs[w]
				if !ok {
					return nil, "", fmt.Errorf("split: no observation %q so far", w)
				}
				p.Entries = append(p.Entries, i)
			}
		}
		payload = p
	case "tick":
		kind = ledger.KindTick
		payload = engine.TickPayload{Time: at}
	case "ack":
		kind = ledger.KindAcknowledgement
		p, err := r.ack(bare, m)
		if err != nil {
			return nil, "", err
		}
		payload = p
	case "hotline":
		kind = ledger.KindHotline
		p := engine.HotlinePayload{ID: m["id"], Text: m["text"]}
		if v := m["to"]; v != "" {
			p.To = strings.Split(v, ",")
		}
		p.Incident, _ = strconv.ParseInt(m["incident"], 10, 64)
		p.Warning, _ = strconv.ParseInt(m["warning"], 10, 64)
		payload = p
	}
	raw, err := json.Marshal(payload)
	if err != nil {
		return nil, "", err
	}
	en, err := ledger.NewEntryJSON(kind, who, at, raw)
	if err != nil {
		return nil, "", err
	}
	k, err := r.key(who)
	if err != nil {
		return nil, "", err
	}
	if err := ledger.Sign(en, k); err != nil {
		return nil, "", err
	}
	return en, obsID, nil
}

// check returns "" when the expectation holds, else why not.
func check(s *engine.State, args []string) string {
	m, bare, _ := kv(args[1:])
	num := func(i int) int64 { n, _ := strconv.ParseInt(bare[i], 10, 64); return n }
	live := func(inc *engine.Incident) bool { return inc.Verdict != engine.VerdictMerged }
	switch args[0] {
	case "incident":
		id := num(0)
		if id < 1 || id > int64(len(s.Incidents)) {
			return fmt.Sprintf("no incident %d (%d incidents)", id, len(s.Incidents))
		}
		return matches(&s.Incidents[id-1], m)
	case "no-incident", "incidents":
		var hit []string
		for i := range s.Incidents {
			inc := &s.Incidents[i]
			if live(inc) && matches(inc, m) == "" {
				hit = append(hit, fmt.Sprintf("%d (%s, %s)", inc.ID, inc.Verdict, inc.Certainty))
			}
		}
		want := 0
		if args[0] == "incidents" {
			want = int(num(0))
		}
		if len(hit) != want {
			return fmt.Sprintf("%d incidents match, want %d: %s", len(hit), want, strings.Join(hit, ", "))
		}
	case "overdue-review", "no-overdue-review":
		var ids []int64
		for _, o := range s.OverdueReviews {
			ids = append(ids, o.Incident)
		}
		switch {
		case args[0] == "overdue-review" && !slices.Contains(ids, num(0)):
			return fmt.Sprintf("incident %d's review is not overdue at %s (overdue: %v)", num(0), s.Time.Format(time.RFC3339), ids)
		case args[0] == "no-overdue-review" && len(bare) == 1 && slices.Contains(ids, num(0)):
			return fmt.Sprintf("incident %d's review is overdue at %s", num(0), s.Time.Format(time.RFC3339))
		case args[0] == "no-overdue-review" && len(bare) == 0 && len(ids) > 0:
			return fmt.Sprintf("reviews overdue at %s: %v", s.Time.Format(time.RFC3339), ids)
		}
	case "overdue-withdrawal", "no-overdue-withdrawal":
		var hit []string
		for _, w := range s.OverdueWithdrawals {
			if (m["party"] == "" || m["party"] == w.Party) && (m["zone"] == "" || m["zone"] == w.Zone) && (m["rule"] == "" || m["rule"] == w.Rule) {
				hit = append(hit, fmt.Sprintf("%s in %s (%s, incidents %v)", w.Party, w.Zone, w.Rule, w.Incidents))
			}
		}
		if args[0] == "overdue-withdrawal" && len(hit) == 0 {
			return fmt.Sprintf("no overdue withdrawal matches (%d overdue)", len(s.OverdueWithdrawals))
		}
		if args[0] == "no-overdue-withdrawal" && len(hit) > 0 {
			return "overdue: " + strings.Join(hit, "; ")
		}
	case "ignored":
		if n := int(num(0)); len(s.Ignored) != n {
			var rs []string
			for _, ig := range s.Ignored {
				rs = append(rs, fmt.Sprintf("#%d %s", ig.Index, ig.Reason))
			}
			return fmt.Sprintf("%d ignored, want %d: %s", len(s.Ignored), n, strings.Join(rs, "; "))
		}
	default:
		return checkMore(s, args[0], m, bare)
	}
	return ""
}

// matches returns "" when inc has every property of m, else the first mismatch.
func matches(inc *engine.Incident, m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	obsCounted := func(c engine.Counted) []string {
		var ids []string
		for _, e := range inc.Evidence {
			if e.Kind == "observation" && e.Counted == c {
				ids = append(ids, e.ID)
			}
		}
		return ids
	}
	for _, k := range keys {
		want := m[k]
		var got string
		ok := false
		switch k {
		case "rule", "touches":
			var ids []string
			for _, r := range inc.Rules {
				if k == "touches" || r.Breached {
					ids = append(ids, r.Rule)
				}
			}
			ok, got = slices.Contains(ids, want), "rules "+listOr(ids)
		case "zone":
			zs := slices.Clone(inc.Zones)
			for _, r := range inc.Rules {
				zs = append(zs, r.Zone, r.Line)
			}
			ok, got = slices.Contains(zs, want), "zones "+listOr(inc.Zones)
		case "verdict":
			got = inc.Verdict.String()
			ok = got == want
		case "certainty":
			got = inc.Certainty.String()
			ok = strings.EqualFold(got, want)
		case "party":
			got = inc.Party
			ok = got == want
		case "category":
			got = inc.Category
			ok = got == want
		case "count":
			got = strconv.Itoa(inc.Count)
			ok = got == want
		case "version":
			got = strconv.Itoa(inc.Version)
			ok = got == want
		case "merged-into":
			got = strconv.FormatInt(inc.MergedInto, 10)
			ok = got == want
		case "reviewed":
			got = "no"
			if inc.Review != nil {
				got = "yes"
			}
			ok = got == want
		case "for", "against":
			c := engine.CountedFor
			if k == "against" {
				c = engine.CountedAgainst
			}
			ids := obsCounted(c)
			got, ok = k+" "+listOr(ids), true
			for _, w := range strings.Split(want, ",") {
				ok = ok && slices.Contains(ids, w)
			}
		case "explains":
			got = "explanation:\n\t" + strings.Join(inc.Explanation, "\n\t")
			ok = strings.Contains(strings.Join(inc.Explanation, "\n"), want)
		case "covered-by":
			var ids []string
			for _, e := range inc.Evidence {
				if e.Kind == "notification" && e.Counted == engine.CountedExplain {
					ids = append(ids, e.ID)
				}
			}
			ok, got = slices.Contains(ids, want), "explained by "+listOr(ids)
		}
		if !ok {
			return fmt.Sprintf("incident %d: %s=%s, got %s", inc.ID, k, want, got)
		}
	}
	return ""
}

func listOr(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ",")
}
