package keys

import (
	"bytes"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/truce-mission/truce/agreement"
)

// TestExampleKeys loads every demo key and checks it against its public half.
func TestExampleKeys(t *testing.T) {
	files, err := filepath.Glob("../examples/keys/*.key")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example keys: %v", err)
	}
	for _, f := range files {
		priv, err := LoadPrivateKey(f)
		if err != nil {
			t.Fatal(err)
		}
		pubText, err := os.ReadFile(strings.TrimSuffix(f, ".key") + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		pub, err := agreement.ParsePublicKey(strings.TrimSpace(string(pubText)))
		if err != nil {
			t.Fatal(err)
		}
		if !pub.Equal(priv.Public()) {
			t.Errorf("%s: public key does not match %s.pub", f, strings.TrimSuffix(filepath.Base(f), ".key"))
		}
		id := strings.TrimSuffix(filepath.Base(f), ".key")
		again, err := ParsePrivateKey(FormatPrivateKey(id, priv))
		if err != nil || !again.Equal(priv) {
			t.Errorf("%s: format and parse do not round-trip: %v", f, err)
		}
	}
}

func TestParsePrivateKeyErrors(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, ed25519.SeedSize)
	good := string(FormatPrivateKey("x", ed25519.NewKeyFromSeed(seed)))
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", "no \"ed25519-private:\" line"},
		{"comments only", "# hello\n\n", "no \"ed25519-private:\" line"},
		{"other line", "# c\nssh-ed25519 AAAA\n", "line 2: want"},
		{"bad base64", "ed25519-private:!!!\n", "line 1: malformed base64"},
		{"short seed", "ed25519-private:AAAA\n", "line 1: seed of 3 bytes"},
		{"two keys", good + good, "line 4: a second key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePrivateKey([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := ParsePrivateKey([]byte(strings.ReplaceAll(good, "\n", "\r\n"))); err != nil {
		t.Errorf("CRLF line ends: %v", err)
	}
}

func FuzzParsePrivateKey(f *testing.F) {
	if b, err := os.ReadFile("../examples/keys/monitor-1.key"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("ed25519-private:AAAA\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParsePrivateKey(b)
		if err != nil {
			return
		}
		again, err := ParsePrivateKey(FormatPrivateKey("x", k))
		if err != nil || !again.Equal(k) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
