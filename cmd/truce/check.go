package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/truce-mission/truce/agreement"
)

type checkCmd struct {
	Files []string `arg:"" name:"file" help:"Agreement files (YAML)."`
}

func (c *checkCmd) Help() string {
	return `Exits 0 when every file is valid. Otherwise prints every error on its own line as
file:line:col: message (errors in a referenced .geojson file name that file) and exits 1.

Example:
  truce check examples/line-of-contact.yaml`
}

func (c *checkCmd) Run(s streams) error {
	bad := 0
	for _, f := range c.Files {
		if _, err := agreement.LoadFile(f); err != nil {
			printAgreementError(s.err, err)
			bad++
		}
	}
	if bad > 0 {
		return exitError{1}
	}
	return nil
}

// loadAgreement loads and validates an agreement for the commands that use one.
func loadAgreement(path string) (*agreement.Agreement, error) {
	a, err := agreement.LoadFile(path)
	if err != nil {
		var list agreement.ErrorList
		if errors.As(err, &list) {
			return nil, invalidAgreementError{path, list}
		}
		return nil, err
	}
	return a, nil
}

// invalidAgreementError prints each position-bearing error on its own line (see runParsed).
type invalidAgreementError struct {
	path string
	list agreement.ErrorList
}

func (e invalidAgreementError) Error() string {
	return fmt.Sprintf("%s is not a valid agreement (%d errors); run truce check %s", e.path, len(e.list), e.path)
}

// printAgreementError prints an ErrorList one error a line, bare, so editors can jump to them.
func printAgreementError(w io.Writer, err error) {
	var list agreement.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Fprintln(w, e)
		}
		return
	}
	fmt.Fprintf(w, "truce: error: %v\n", err)
}
