// Package keys reads and writes the private key files of truce identities: one line
// "ed25519-private:" followed by the standard padded base64 of the 32-byte RFC 8032 seed,
// after optional comment lines starting with '#' and blank lines (examples/keys/README.md).
// Public keys are written as in the agreement; see agreement.ParsePublicKey.
//
// The package only parses and formats. It does not generate keys, protect them in memory
// or check file permissions.
package keys

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
)

// PrivatePrefix starts the key line of a private key file.
const PrivatePrefix = "ed25519-private:"

// maxFile bounds a key file; real ones are under 200 bytes.
const maxFile = 64 << 10

// ParsePrivateKey parses the contents of a private key file. Errors give the line number.
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	if len(data) > maxFile {
		return nil, fmt.Errorf("private key file of %d bytes, at most %d", len(data), maxFile)
	}
	var key ed25519.PrivateKey
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 1024), maxFile)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		b64, ok := strings.CutPrefix(line, PrivatePrefix)
		if !ok {
			return nil, fmt.Errorf("line %d: want %q followed by base64, or a '#' comment", n, PrivatePrefix)
		}
		if key != nil {
			return nil, fmt.Errorf("line %d: a second key", n)
		}
		seed, err := base64.StdEncoding.Strict().DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("line %d: malformed base64", n)
		}
		if len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("line %d: seed of %d bytes, want %d", n, len(seed), ed25519.SeedSize)
		}
		key = ed25519.NewKeyFromSeed(seed)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if key == nil {
		return nil, fmt.Errorf("no %q line", PrivatePrefix)
	}
	return key, nil
}

// LoadPrivateKey reads a private key file; errors start with the file name.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// FormatPrivateKey returns a private key file for the identity id: a comment line naming it
// and the key line, each ending with a newline.
func FormatPrivateKey(id string, k ed25519.PrivateKey) []byte {
	return fmt.Appendf(nil, "# truce ed25519 private key: %s\n%s%s\n", id, PrivatePrefix, base64.StdEncoding.EncodeToString(k.Seed()))
}
