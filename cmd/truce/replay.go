package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/engine"
	"github.com/truce-mission/truce/ledger"
	"github.com/truce-mission/truce/ledger/verify"
)

type replayCmd struct {
	logSource
	Archive    string `arg:"" optional:"" help:"Log archive written by 'truce log export'; - for standard input. Or give --data, --store or --server."`
	Agreement  string `required:"" type:"existingfile" placeholder:"DRAFT" help:"The agreement text to try: the draft."`
	Baseline   string `type:"existingfile" placeholder:"FILE" help:"The agreement the log was recorded under. With --data, default: the agreement file 'truce serve' last ran under on that directory (refused if the file changed since)."`
	JSON       bool   `name:"json" help:"Print the differences as JSON."`
	SkipVerify bool   `name:"skip-verify" help:"Do not check the log (tree, checkpoints, signatures by the baseline's identities) before replaying it."`
}

func (c *replayCmd) Help() string {
	return `Replays a recorded evidence log against another text of the agreement and prints how the
findings would differ: "what would this text have caught?". The log is replayed twice through
the verification engine, under the agreement it was recorded under (--baseline) and under the
draft (--agreement); findings are matched across the two runs by the ledger indexes of their
supporting observations, and each difference is printed as

  new      a finding only under the draft
  gone     a finding only under the baseline (no incident, or explained, or within limits)
  changed  a finding under both, with another certainty, rules or evidence

The log is read as 'truce log verify' reads it (an archive file, --data, --store or --server)
and checked first, unless --skip-verify. Nothing is written anywhere.

Examples:
  truce replay --agreement draft.yaml --data ./data     # baseline: what truce serve ran under
  truce replay --baseline agreement.yaml --agreement draft.yaml log.archive
  truce replay --baseline agreement.yaml --agreement draft.yaml --json --server http://127.0.0.1:8080 \
      --key examples/keys/analyst-1.key`
}

// replayReport is the --json output of truce replay.
type replayReport struct {
	Origin   string               `json:"origin"`
	Entries  int64                `json:"entries"`
	Baseline replaySide           `json:"baseline"`
	Draft    replaySide           `json:"draft"`
	Diffs    []engine.FindingDiff `json:"diffs"`
	Summary  map[string]int       `json:"summary"` // new, gone, changed
}

type replaySide struct {
	File      string `json:"file"`
	Agreement string `json:"agreement"` // its id
	Findings  int    `json:"findings"`
	Ignored   int    `json:"ignored"`
	StateHash string `json:"state_hash"`
	state     engine.State
	a         *agreement.Agreement
}

func (c *replayCmd) Run(s streams) error {
	ctx := context.Background()
	var err error
	if c.Baseline == "" {
		if c.Data == "" {
			return errors.New("--baseline is required: the agreement the log was recorded under (only a --data directory notes it)")
		}
		if c.Baseline, err = recordedAgreement(c.Data); err != nil {
			return err
		}
		fmt.Fprintf(s.err, "truce: baseline %s (the agreement %s was served under)\n", c.Baseline, c.Data)
	}
	base, err := loadAgreement(c.Baseline)
	if err != nil {
		return err
	}
	draft, err := loadAgreement(c.Agreement)
	if err != nil {
		return err
	}
	arch, vkey, err := readLog(ctx, c.Archive, c.logSource, s.in)
	if err != nil {
		return err
	}
	if id, ok := strings.CutPrefix(arch.Origin, "truce/"); ok && id != base.ID && id != "scenario" {
		fmt.Fprintf(s.err, "truce: hint: the log's origin %q names agreement %q, the baseline is %q\n", arch.Origin, id, base.ID)
	}
	if !c.SkipVerify {
		rep := verify.VerifyArchive(arch, verify.Options{VerifierKey: vkey, Identities: ledger.AgreementKeys(base)})
		if !rep.OK() {
			fmt.Fprint(s.err, rep.String())
			return fmt.Errorf("the log does not verify (see above); --skip-verify replays it anyway: %w", rep.Err())
		}
	}
	entries := make([]*ledger.Entry, len(arch.Leaves))
	for i, leaf := range arch.Leaves {
		if entries[i], err = ledger.ParseLeaf(leaf); err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
	}

	sides := []*replaySide{{File: c.Baseline, a: base}, {File: c.Agreement, a: draft}}
	errs := make([]error, len(sides))
	var wg sync.WaitGroup
	for i, side := range sides {
		wg.Go(func() { errs[i] = side.replay(entries) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}

	rep := replayReport{Origin: arch.Origin, Entries: int64(len(entries)), Baseline: *sides[0], Draft: *sides[1],
		Diffs: engine.Diff(sides[0].state, sides[1].state), Summary: map[string]int{"new": 0, "gone": 0, "changed": 0}}
	if rep.Diffs == nil {
		rep.Diffs = []engine.FindingDiff{}
	}
	for _, d := range rep.Diffs {
		rep.Summary[d.Kind.String()]++
	}
	if c.JSON {
		enc := json.NewEncoder(s.out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	w := bufio.NewWriter(s.out)
	printReplay(w, &rep)
	return w.Flush()
}

// readLog reads the whole log from an archive file (- for in) or, without one, from the
// source, as 'truce log verify' does, and returns it with the verifier key to trust ("" when
// none was given or derived).
func readLog(ctx context.Context, archive string, src logSource, in io.Reader) (*verify.Archive, string, error) {
	if archive != "" {
		if src.Server != "" || src.Data != "" || src.Store != "" {
			return nil, "", errors.New("give one log: an ARCHIVE file, --server URL, --data DIR or --store postgres://…")
		}
		vkey, err := readVerifierKey(src.VerifierKey)
		if err != nil {
			return nil, "", err
		}
		if archive != "-" {
			f, err := os.Open(archive)
			if err != nil {
				return nil, "", err
			}
			defer f.Close()
			in = f
		}
		a, err := verify.Read(bufio.NewReaderSize(in, 1<<20))
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", archive, err)
		}
		return a, vkey, nil
	}
	return src.export(ctx)
}

// replay applies every entry to a fresh engine over the side's agreement.
func (r *replaySide) replay(entries []*ledger.Entry) error {
	e, err := engine.New(r.a)
	if err != nil {
		return fmt.Errorf("%s: %w", r.File, err)
	}
	for i, en := range entries {
		if _, err := e.Apply(int64(i), en); err != nil {
			return fmt.Errorf("%s: %w", r.File, err)
		}
	}
	r.state = e.State()
	h := e.StateHash()
	r.Agreement, r.Ignored, r.StateHash = r.a.ID, len(r.state.Ignored), fmt.Sprintf("%x", h)
	for _, inc := range r.state.Incidents {
		if inc.Verdict == engine.VerdictInfraction {
			r.Findings++
		}
	}
	return nil
}

func printReplay(w io.Writer, rep *replayReport) {
	fmt.Fprintf(w, "replayed %d entries of %s\n", rep.Entries, rep.Origin)
	for _, s := range []struct {
		name string
		side *replaySide
	}{{"baseline", &rep.Baseline}, {"draft", &rep.Draft}} {
		fmt.Fprintf(w, "  %-8s  %s (%s): %d findings, %d entries ignored, state %.16s\n", s.name, s.side.File, s.side.Agreement, s.side.Findings, s.side.Ignored, s.side.StateHash)
	}
	if len(rep.Diffs) == 0 {
		fmt.Fprintln(w, "no difference in the findings")
		return
	}
	fmt.Fprintln(w)
	for _, d := range rep.Diffs {
		ids := make([]string, len(d.Evidence))
		for i, x := range d.Evidence {
			ids[i] = fmt.Sprintf("#%d", x)
		}
		fmt.Fprintf(w, "%-7s  evidence %s\n", d.Kind, strings.Join(ids, " "))
		if d.Before != nil {
			fmt.Fprintf(w, "         baseline: %s\n", describeIncident(d.Before))
		}
		if d.After != nil {
			fmt.Fprintf(w, "         draft:    %s\n", describeIncident(d.After))
		}
		for _, ch := range d.Changes {
			fmt.Fprintf(w, "         - %s\n", ch)
		}
	}
	fmt.Fprintf(w, "\n%d new, %d gone, %d changed\n", rep.Summary["new"], rep.Summary["gone"], rep.Summary["changed"])
}

// describeIncident is one line about an incident: id, verdict, certainty, what and where,
// and the rules it breaks.
func describeIncident(inc *engine.Incident) string {
	who := inc.Category
	if inc.Party != "" {
		who += " of " + inc.Party
	}
	var rules []string
	for _, r := range inc.Rules {
		if r.Breached {
			rules = append(rules, r.Rule)
		}
	}
	s := fmt.Sprintf("incident %d, %s, %s: %s at %.5f,%.5f, %s", inc.ID, inc.Verdict, inc.Certainty, who, inc.Position[0], inc.Position[1], inc.First.Format("2006-01-02T15:04Z07:00"))
	if len(inc.Zones) > 0 {
		s += ", zones " + strings.Join(inc.Zones, ",")
	}
	if len(rules) > 0 {
		s += ", breaks " + strings.Join(rules, ",")
	}
	return s
}
