package ledger

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strings"

	fmtlog "github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// ErrBadCheckpoint marks a checkpoint that is malformed, is for another log, or whose
// signature does not verify.
var ErrBadCheckpoint = errors.New("bad checkpoint")

// Checkpoint is the body of a signed checkpoint (C2SP tlog-checkpoint): the log's origin, a
// tree size and the RFC 6962 root hash of the tree of that size.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
}

// Text returns the checkpoint body as signed: origin, size and base64 root, one per line.
func (c Checkpoint) Text() []byte {
	return fmtlog.Checkpoint{Origin: c.Origin, Size: uint64(c.Size), Hash: c.Root[:]}.Marshal()
}

// SignCheckpoint returns c as a signed note.
func SignCheckpoint(c Checkpoint, s note.Signer) ([]byte, error) {
	if c.Origin == "" || strings.ContainsAny(c.Origin, "\n") || c.Size < 0 {
		return nil, fmt.Errorf("%w: signing: invalid origin %q or size %d", ErrBadCheckpoint, c.Origin, c.Size)
	}
	return note.Sign(&note.Note{Text: string(c.Text())}, s)
}

// OpenCheckpoint checks that msg is a checkpoint of the log origin signed by v (other
// signatures, e.g. witnesses', are ignored) and returns its body. Errors wrap
// [ErrBadCheckpoint].
func OpenCheckpoint(msg []byte, origin string, v note.Verifier) (Checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		var inv *note.InvalidSignatureError
		var unv *note.UnverifiedNoteError
		switch {
		case errors.As(err, &inv):
			return Checkpoint{}, fmt.Errorf("%w: signature by %q does not verify", ErrBadCheckpoint, inv.Name)
		case errors.As(err, &unv):
			return Checkpoint{}, fmt.Errorf("%w: no signature by %q", ErrBadCheckpoint, v.Name())
		default:
			return Checkpoint{}, fmt.Errorf("%w: %v", ErrBadCheckpoint, err)
		}
	}
	return parseCheckpointText(n.Text, origin)
}

// parseCheckpointText parses a checkpoint body without checking any signature.
func parseCheckpointText(text, origin string) (Checkpoint, error) {
	var c fmtlog.Checkpoint
	if _, err := c.Unmarshal([]byte(text)); err != nil {
		return Checkpoint{}, fmt.Errorf("%w: malformed: %v", ErrBadCheckpoint, err)
	}
	if origin != "" && c.Origin != origin {
		return Checkpoint{}, fmt.Errorf("%w: origin %q, want %q", ErrBadCheckpoint, c.Origin, origin)
	}
	if len(c.Hash) != tlog.HashSize {
		return Checkpoint{}, fmt.Errorf("%w: root hash of %d bytes, want %d", ErrBadCheckpoint, len(c.Hash), tlog.HashSize)
	}
	if c.Size > math.MaxInt64 {
		return Checkpoint{}, fmt.Errorf("%w: size %d too large", ErrBadCheckpoint, c.Size)
	}
	return Checkpoint{Origin: c.Origin, Size: int64(c.Size), Root: tlog.Hash(c.Hash)}, nil
}

// NewNoteSigner returns a signer of checkpoints for the log origin with the mission's
// ed25519 key. The key name is the origin, as C2SP tlog-checkpoint recommends, so a standard
// note verifier built from [VerifierKey] checks its signatures.
func NewNoteSigner(origin string, priv ed25519.PrivateKey) (note.Signer, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("checkpoint signer: private key has %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	vkey, err := VerifierKey(origin, priv.Public().(ed25519.PublicKey))
	if err != nil {
		return nil, err
	}
	// vkey is name+hash+base64(alg||pub) (the name has no '+', base64 may); the signer key
	// is PRIVATE+KEY+name+hash+base64(alg||seed).
	_, rest, _ := strings.Cut(vkey, "+")
	hash, _, _ := strings.Cut(rest, "+")
	skey := "PRIVATE+KEY+" + origin + "+" + hash + "+" + base64.StdEncoding.EncodeToString(append([]byte{1}, priv.Seed()...))
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("checkpoint signer: %v", err)
	}
	return s, nil
}

// VerifierKey returns the standard note verifier key ("name+hash+base64", as read by
// note.NewVerifier in golang.org/x/mod/sumdb/note) of the checkpoints of origin signed with
// the ed25519 key pub. Parties publish and keep this string.
func VerifierKey(origin string, pub ed25519.PublicKey) (string, error) {
	if origin == "" || strings.ContainsAny(origin, "+ \t\n\r") {
		return "", fmt.Errorf("checkpoint origin %q: must be non-empty without '+' or spaces to name a note key", origin)
	}
	vkey, err := note.NewEd25519VerifierKey(origin, pub)
	if err != nil {
		return "", fmt.Errorf("checkpoint verifier key: %v", err)
	}
	return vkey, nil
}
