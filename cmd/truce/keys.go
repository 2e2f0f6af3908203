package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/truce-mission/truce/agreement"
	"github.com/truce-mission/truce/keys"
)

type keysCmd struct {
	New keysNewCmd `cmd:"" help:"Make an ed25519 key pair for an identity."`
}

type keysNewCmd struct {
	Name string `arg:"" help:"Identity id; writes NAME.key (private, mode 0600) and NAME.pub."`
	Dir  string `help:"Directory for the files." default:"."`
}

func (c *keysNewCmd) Help() string {
	return `Writes NAME.key (the private key, readable by you only) and NAME.pub (one line,
ed25519:BASE64, the value of the identity's key: in the agreement). Never overwrites.

Example:
  truce keys new east-liaison && cat east-liaison.pub`
}

func (c *keysNewCmd) Run(s streams) error {
	if _, err := os.Stat(c.Dir); err != nil {
		return err
	}
	priv := filepath.Join(c.Dir, c.Name+".key")
	pubPath := filepath.Join(c.Dir, c.Name+".pub")
	for _, p := range []string{priv, pubPath} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s exists: refusing to overwrite a key", p)
		}
	}
	pub, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(priv, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(keys.FormatPrivateKey(c.Name, k)); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	line := agreement.FormatPublicKey(pub)
	if err := os.WriteFile(pubPath, []byte(line+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "%s\n", line)
	fmt.Fprintf(s.err, "wrote %s (private, 0600) and %s\n", priv, pubPath)
	return nil
}
