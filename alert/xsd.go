package alert

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// schemaXSD is the OASIS CAP 1.2 schema (copyright OASIS Open 2010; see schema/NOTICE), kept
// in the package so that ValidateXSD works from any package and any checkout.
//
//go:embed schema/CAP-v1.2.xsd
var schemaXSD []byte

// ErrNoXMLLint is returned by ValidateXSD when xmllint is not installed.
var ErrNoXMLLint = errors.New("xmllint not found (Debian package libxml2-utils; make deps installs it)")

// XSDError is one file that failed ValidateXSD, with xmllint's messages about it.
type XSDError struct {
	File     string
	Messages []string
}

// Error returns the file name and xmllint's messages, separated by semicolons.
func (e *XSDError) Error() string {
	if len(e.Messages) == 0 {
		return e.File + ": fails to validate against the CAP 1.2 schema"
	}
	return e.File + ": " + strings.Join(e.Messages, "; ")
}

// ValidateXSD checks CAP alert files against the OASIS CAP 1.2 schema with xmllint (no
// network). It returns nil when every file validates, an error wrapping [ErrNoXMLLint] when
// xmllint is missing, and otherwise the errors.Join of one *[XSDError] per failing file. It is
// meant for tests; the usual pattern skips when xmllint is missing unless the environment
// requires tools:
//
//	if err := alert.ValidateXSD(files...); errors.Is(err, alert.ErrNoXMLLint) && os.Getenv("TRUCE_REQUIRE_TOOLS") != "1" {
//		t.Skip(err)
//	} else if err != nil {
//		t.Fatal(err)
//	}
func ValidateXSD(files ...string) error {
	if len(files) == 0 {
		return errors.New("validating CAP alerts: no files given")
	}
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoXMLLint, err)
	}
	dir, err := os.MkdirTemp("", "truce-cap-xsd-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	xsd := filepath.Join(dir, "CAP-v1.2.xsd")
	if err := os.WriteFile(xsd, schemaXSD, 0o644); err != nil {
		return err
	}
	// Each file's xmllint argument; missing files are reported without running xmllint.
	arg := make(map[string]string, len(files))
	missing := map[string]error{}
	args := []string{"--noout", "--nonet", "--schema", xsd}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			missing[f] = err
			continue
		}
		a := f
		if strings.HasPrefix(a, "-") { // not an option
			a = "./" + a
		}
		arg[f] = a
		args = append(args, a)
	}
	var out []byte
	var runErr error
	if len(args) > 4 {
		out, runErr = exec.Command(xmllint, args...).CombinedOutput()
		var exit *exec.ExitError
		if runErr != nil && !errors.As(runErr, &exit) {
			return fmt.Errorf("running xmllint: %w", runErr)
		}
	}

	// xmllint ends each file with "FILE validates" or "FILE fails to validate", after
	// messages that start with "FILE:LINE:" (a parser error adds context lines without it).
	byLen := slices.Clone(args[4:])
	slices.SortFunc(byLen, func(a, b string) int { return len(b) - len(a) })
	ok := map[string]bool{}
	msgs := map[string][]string{}
	current := ""
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		file := ""
		for _, n := range byLen {
			if rest, found := strings.CutPrefix(line, n); found && (strings.HasPrefix(rest, ":") || strings.HasPrefix(rest, " ")) {
				file = n
				break
			}
		}
		if file == "" {
			if t := strings.TrimSpace(line); current != "" && t != "" && !strings.HasPrefix(t, "^") {
				msgs[current] = append(msgs[current], t)
			}
			continue
		}
		current = file
		switch rest := strings.TrimPrefix(line, file); rest {
		case " validates":
			ok[file] = true
		case " fails to validate":
		default:
			msgs[file] = append(msgs[file], strings.TrimSpace(strings.TrimPrefix(rest, ":")))
		}
	}
	var errs []error
	seen := map[string]bool{}
	for _, f := range files {
		if seen[f] {
			continue
		}
		seen[f] = true
		if err, bad := missing[f]; bad {
			errs = append(errs, &XSDError{File: f, Messages: []string{err.Error()}})
		} else if !ok[arg[f]] {
			errs = append(errs, &XSDError{File: f, Messages: msgs[arg[f]]})
		}
	}
	if len(errs) == 0 && runErr != nil { // e.g. the schema itself did not load
		return fmt.Errorf("xmllint: %w: %s", runErr, strings.TrimSpace(string(out)))
	}
	return errors.Join(errs...)
}
