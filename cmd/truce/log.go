package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/truce-mission/truce/client"
	"github.com/truce-mission/truce/keys"
	"github.com/truce-mission/truce/ledger"
)

type logCmd struct {
	Append     logAppendCmd     `cmd:"" help:"Sign a JSON payload and append it to a server's log."`
	Checkpoint logCheckpointCmd `cmd:"" help:"Print the log's latest signed checkpoint, to keep."`
	Export     logExportCmd     `cmd:"" help:"Write a portable archive of the log: entries and checkpoints."`
	Verify     logVerifyCmd     `cmd:"" help:"Check a log archive (or a live log) offline: tree, signatures, checkpoints."`
}

type logAppendCmd struct {
	Server string `required:"" help:"Server URL, e.g. http://127.0.0.1:8080." env:"TRUCE_SERVER"`
	Key    string `required:"" help:"Private key file of the submitting identity."`
	As     string `help:"Identity id to submit as. Default: the name in the key file's comment, else the file name without .key."`
	Kind   string `required:"" help:"Entry kind: observation, notification, hotline, acknowledgement, vote, dispatch, review, note, tick, agreement."`
	File   string `arg:"" optional:"" default:"-" help:"JSON payload file; - for standard input."`
	Idem   string `name:"idempotency-key" help:"Resubmitting with the same key returns the original receipt."`
}

func (c *logAppendCmd) Help() string {
	return `Prints the receipt (index, leaf hash, receipt time) once the entry is durable.

Example:
  echo '{"text":"patrol reached checkpoint 4"}' | truce log append --server http://127.0.0.1:8080 \
      --key examples/keys/monitor-1.key --kind note -`
}

func (c *logAppendCmd) Run(s streams) error {
	kind, err := ledger.ParseKind(c.Kind)
	if err != nil {
		return fmt.Errorf("--kind: %w", err)
	}
	priv, err := keys.LoadPrivateKey(c.Key)
	if err != nil {
		return err
	}
	who := c.As
	if who == "" {
		who = identityOfKeyFile(c.Key)
	}
	var in io.Reader = s.in
	if c.File != "-" {
		f, err := os.Open(c.File)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	payload, err := io.ReadAll(io.LimitReader(in, ledger.MaxPayload+1))
	if err != nil {
		return err
	}
	e, err := client.SignedEntry(kind, who, time.Now().UTC(), payload, priv)
	if err != nil {
		return err
	}
	cl, err := client.New(c.Server)
	if err != nil {
		return err
	}
	rec, err := cl.Append(context.Background(), e, c.Idem)
	if err != nil {
		return err
	}
	out, _ := json.Marshal(rec)
	fmt.Fprintf(s.out, "%s\n", out)
	return nil
}

// identityOfKeyFile names the identity a key file is for: the id in its first comment line
// ("# truce ed25519 private key: ID ..."), else the file name without ".key".
func identityOfKeyFile(path string) string {
	if data, err := os.ReadFile(path); err == nil {
		first, _, _ := strings.Cut(string(data), "\n")
		if rest, ok := strings.CutPrefix(first, "# truce ed25519 private key: "); ok {
			if id, _, _ := strings.Cut(rest, " "); id != "" {
				return id
			}
		}
	}
	return strings.TrimSuffix(filepath.Base(path), ".key")
}
