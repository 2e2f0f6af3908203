package agreement

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"strings"
)

// KeyPrefix starts every public key in an agreement.
const KeyPrefix = "ed25519:"

// ParsePublicKey parses a public key written as "ed25519:" followed by the
// standard, padded base64 of the 32-byte ed25519 public key.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b64, ok := strings.CutPrefix(s, KeyPrefix)
	if !ok {
		return nil, fmt.Errorf("malformed public key %q: missing %q prefix", s, KeyPrefix)
	}
	b, err := base64.StdEncoding.Strict().DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("malformed public key %q: bad base64", s)
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("malformed public key %q: %d bytes, want %d", s, len(b), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// FormatPublicKey writes k as ParsePublicKey reads it.
func FormatPublicKey(k ed25519.PublicKey) string {
	return KeyPrefix + base64.StdEncoding.EncodeToString(k)
}
