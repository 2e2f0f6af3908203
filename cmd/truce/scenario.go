package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/truce-mission/truce/scenario"
)

type scenarioCmd struct {
	Run scenarioRunCmd `cmd:"" help:"Run scenario files against a fresh temporary log and check their expectations."`
}

type scenarioRunCmd struct {
	Files  []string `arg:"" name:"file" help:"Scenario files."`
	CapOut string   `name:"cap-out" placeholder:"DIR" help:"Write every alert produced as DIR/<identifier>.xml (CAP 1.2)."`
}

func (c *scenarioRunCmd) Help() string {
	return `Each file loads an agreement, submits timed observations, notifications, reviews,
acknowledgements, hotline messages and ticks as signed entries of a fresh temporary
evidence log, feeds the verification engine from the
log and checks its expect lines. Every expectation is printed as passed or FAILED with the
reason; the run ends by replaying the log into a fresh engine and comparing state hashes.
Exits 1 when any expectation fails or a file cannot be run. The format is described in the
documentation of package scenario (go doc github.com/truce-mission/truce/scenario).

Example:
  truce scenario run scenario/testdata/*.scn
  truce scenario run --cap-out alerts/ my-draft.scn`
}

func (c *scenarioRunCmd) Run(s streams) error {
	failed, broken := 0, 0
	for _, f := range c.Files {
		sc, err := scenario.ParseFile(f)
		if err != nil {
			printJoined(s, err)
			broken++
			continue
		}
		res, err := scenario.Run(context.Background(), sc, scenario.Options{Out: s.out, CapOut: c.CapOut})
		if err != nil {
			printJoined(s, err)
			broken++
			continue
		}
		failed += res.Failed
		fmt.Fprintf(s.out, "%s: %d passed, %d failed\n", f, res.Passed, res.Failed)
	}
	if failed > 0 || broken > 0 {
		return exitError{1}
	}
	return nil
}

// printJoined prints each error of a joined error on its own line.
func printJoined(s streams, err error) {
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) {
		for _, e := range j.Unwrap() {
			fmt.Fprintf(s.err, "truce: error: %v\n", e)
		}
		return
	}
	fmt.Fprintf(s.err, "truce: error: %v\n", err)
}

// scenarioCLI is embedded in cli (kong flattens it), so that adding the command does not
// realign the other fields of cli.
type scenarioCLI struct {
	Scenario scenarioCmd `cmd:"" help:"Run scenario scripts: unit tests for agreement text."`
}
