// Command truce is the software of a ceasefire verification and deconfliction office.
//
// This file holds only flags and wiring; each subcommand lives in its own file.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/alecthomas/kong"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const description = `truce is the software of a ceasefire verification office: the agreement as code,
signed observations from every channel checked against it, and an evidence log that every
party can verify offline.

Examples:
  truce check examples/line-of-contact.yaml
  truce zones examples/line-of-contact.yaml > zones.geojson
  truce locate examples/line-of-contact.yaml examples/positions.csv
  truce serve --agreement examples/line-of-contact.yaml --data ./data
  truce ingest --server http://127.0.0.1:8080 --key examples/keys/ais-rx-1.key --format ais feed.nmea
  truce log verify --server http://127.0.0.1:8080 --agreement examples/line-of-contact.yaml
  truce scenario run scenario/testdata/*.scn`

type cli struct {
	Check     checkCmd         `cmd:"" help:"Validate agreement files; print every error as file:line:col: message."`
	Zones     zonesCmd         `cmd:"" help:"Print an agreement's zones as a GeoJSON FeatureCollection."`
	Locate    locateCmd        `cmd:"" help:"Report the zones and rules each position of a CSV file touches."`
	Serve     serveCmd         `cmd:"" help:"Run the mission's server: evidence log, observation intake, incidents and alerts."`
	Keys      keysCmd          `cmd:"" help:"Make identity key pairs."`
	Log       logCmd           `cmd:"" help:"Append to, export and verify the evidence log."`
	Replay    replayCmd        `cmd:"" help:"Replay a recorded log against a draft agreement: which findings would differ."`
	Incidents incidentsCmd     `cmd:"" help:"List the verification engine's incidents, or show one with its evidence and explanation."`
	Ingest    ingestCmd        `cmd:"" help:"Submit a feed (AIS, ADS-B, GeoJSON, CSV, CAP) to a server's observation intake."`
	Bench     benchCmd         `cmd:"" help:"Load tools: measure a server."`
	Version   kong.VersionFlag `help:"Print the version and exit."`
	scenarioCLI
}

// exitError carries an exit status whose message has already been printed.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// streams are the process's standard files, passed down so tests can capture them.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

func main() {
	os.Exit(run(os.Args[1:], streams{os.Stdin, os.Stdout, os.Stderr}))
}

// run parses args, runs the chosen subcommand and returns the exit status.
func run(args []string, s streams) int {
	var c cli
	parser, err := kong.New(&c,
		kong.Name("truce"),
		kong.Description(description),
		kong.UsageOnError(),
		kong.Vars{"version": version},
		kong.Writers(s.out, s.err),
		kong.Exit(func(code int) { panic(exitError{code}) }),
		kong.BindTo(s, (*streams)(nil)),
	)
	if err != nil {
		fmt.Fprintf(s.err, "truce: error: %v\n", err)
		return 2
	}
	return runParsed(parser, args, s)
}

func runParsed(parser *kong.Kong, args []string, s streams) (code int) {
	defer func() {
		// kong calls Exit for --help and --version; turn it back into a status.
		if r := recover(); r != nil {
			e, ok := r.(exitError)
			if !ok {
				panic(r)
			}
			code = e.code
		}
	}()
	kctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintf(s.err, "truce: error: %v\n", err)
		return 2
	}
	if err := kctx.Run(s); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		var ia invalidAgreementError
		if errors.As(err, &ia) {
			printAgreementError(s.err, ia.list)
		}
		fmt.Fprintf(s.err, "truce: error: %v\n", err)
		return 1
	}
	return 0
}
