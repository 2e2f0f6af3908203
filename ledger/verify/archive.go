package verify

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/truce-mission/truce/ledger"
)

// Format is the first field of an archive's header. It changes with any change to the
// archive format.
const Format = "truce-archive/v1"

// Limits on archive lines.
const (
	maxHeaderLine     = 8 << 10
	maxCheckpointLine = 64 << 10
	maxEntryLine      = 45 + ledger.MaxLeafSize + 1 // base64 hash, space, leaf
)

// Archive is a portable copy of a ledger: every entry's leaf bytes with the leaf hash the
// log stored for it, and signed checkpoints. Anyone holding an archive, the log's verifier
// key and the agreement's identities can check it offline with [VerifyArchive].
//
// # File format
//
// An archive file is UTF-8 text, one record per line, each line ending with "\n":
//
//	{"format":"truce-archive/v1","origin":"…","verifier_key":"…","entries":N,"checkpoints":K}
//	{"checkpoint":"<signed note, as a JSON string>"}      K lines
//	<leaf hash> <leaf>                                    N lines, entry 0 first
//
// The leaf hash is the standard padded base64 of the 32-byte RFC 6962 leaf hash; the leaf
// is the entry's leaf bytes verbatim (one line of JSON, see ledger.Entry), so each line can
// be checked with sha256 and read with any JSON tool. The header and checkpoint lines are
// written by encoding/json with the fields in this order; [Read] accepts exactly what
// [Archive.Write] writes.
type Archive struct {
	Origin      string      // the log's origin line
	VerifierKey string      // the log's note verifier key, as the archive's writer claims it
	Leaves      [][]byte    // leaf bytes of entries 0 to N-1
	LeafHashes  []tlog.Hash // the leaf hashes the log stored, parallel to Leaves
	Checkpoints [][]byte    // signed checkpoints (notes)
}

type header struct {
	Format      string `json:"format"`
	Origin      string `json:"origin"`
	VerifierKey string `json:"verifier_key"`
	Entries     int64  `json:"entries"`
	Checkpoints int64  `json:"checkpoints"`
}

type checkpointLine struct {
	Checkpoint string `json:"checkpoint"`
}

// Write writes the archive in the file format above.
func (a *Archive) Write(w io.Writer) error {
	if len(a.LeafHashes) != len(a.Leaves) {
		return fmt.Errorf("writing archive: %d leaf hashes for %d leaves", len(a.LeafHashes), len(a.Leaves))
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	h, err := json.Marshal(header{Format, a.Origin, a.VerifierKey, int64(len(a.Leaves)), int64(len(a.Checkpoints))})
	if err != nil {
		return fmt.Errorf("writing archive: %w", err)
	}
	if len(h) >= maxHeaderLine {
		return fmt.Errorf("writing archive: header of %d bytes, at most %d", len(h), maxHeaderLine-1)
	}
	bw.Write(h)
	bw.WriteByte('\n')
	for i, c := range a.Checkpoints {
		b, err := json.Marshal(checkpointLine{string(c)})
		if err != nil {
			return fmt.Errorf("writing archive: checkpoint %d: %w", i, err)
		}
		if len(b) >= maxCheckpointLine {
			return fmt.Errorf("writing archive: checkpoint %d: %d bytes, at most %d", i, len(b), maxCheckpointLine-1)
		}
		bw.Write(b)
		bw.WriteByte('\n')
	}
	var line []byte
	for i, leaf := range a.Leaves {
		if bytes.IndexByte(leaf, '\n') >= 0 {
			return fmt.Errorf("writing archive: entry %d: leaf holds a newline", i)
		}
		line = base64.StdEncoding.AppendEncode(line[:0], a.LeafHashes[i][:])
		line = append(line, ' ')
		line = append(line, leaf...)
		line = append(line, '\n')
		if len(line) > maxEntryLine {
			return fmt.Errorf("writing archive: entry %d: leaf of %d bytes, at most %d", i, len(leaf), ledger.MaxLeafSize)
		}
		if _, err := bw.Write(line); err != nil {
			return fmt.Errorf("writing archive: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing archive: %w", err)
	}
	return nil
}

// ReadError is an error in an archive file, at a line (1-based).
type ReadError struct {
	Line int
	Err  error
}

// Error returns "reading archive: line N: " and the cause.
func (e *ReadError) Error() string { return fmt.Sprintf("reading archive: line %d: %v", e.Line, e.Err) }

// Unwrap returns the cause.
func (e *ReadError) Unwrap() error { return e.Err }

// ErrFormat marks an archive file that does not follow the format.
var ErrFormat = errors.New("malformed archive")

// Read reads an archive written by [Archive.Write]. It checks the file's structure only;
// [VerifyArchive] checks its contents.
func Read(r io.Reader) (*Archive, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	lineNo := 0
	bad := func(format string, args ...any) error {
		return &ReadError{lineNo, fmt.Errorf("%w: "+format, append([]any{ErrFormat}, args...)...)}
	}
	readLine := func(max int, what string) ([]byte, error) {
		lineNo++
		var line []byte
		for {
			chunk, err := br.ReadSlice('\n')
			line = append(line, chunk...)
			if len(line) > max {
				return nil, bad("%s longer than %d bytes", what, max)
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err == io.EOF {
				if len(line) == 0 {
					return nil, bad("missing %s: unexpected end of file", what)
				}
				return nil, bad("%s does not end with a newline", what)
			}
			if err != nil {
				return nil, &ReadError{lineNo, err}
			}
			return line[:len(line)-1], nil
		}
	}

	line, err := readLine(maxHeaderLine, "header")
	if err != nil {
		return nil, err
	}
	var h header
	if err := strictJSON(line, &h); err != nil {
		return nil, bad("header: %v", err)
	}
	if h.Format != Format {
		return nil, bad("header: format %q, want %q", h.Format, Format)
	}
	if h.Entries < 0 || h.Checkpoints < 0 {
		return nil, bad("header: negative count")
	}
	if again, _ := json.Marshal(h); !bytes.Equal(again, line) {
		return nil, bad("header: not in the form Write gives (field order, spacing or escapes)")
	}
	a := &Archive{Origin: h.Origin, VerifierKey: h.VerifierKey}
	for i := int64(0); i < h.Checkpoints; i++ {
		line, err := readLine(maxCheckpointLine, fmt.Sprintf("checkpoint %d", i))
		if err != nil {
			return nil, err
		}
		var c checkpointLine
		if err := strictJSON(line, &c); err != nil {
			return nil, bad("checkpoint %d: %v", i, err)
		}
		if again, _ := json.Marshal(c); !bytes.Equal(again, line) {
			return nil, bad("checkpoint %d: not in the form Write gives", i)
		}
		a.Checkpoints = append(a.Checkpoints, []byte(c.Checkpoint))
	}
	for i := int64(0); i < h.Entries; i++ {
		line, err := readLine(maxEntryLine, fmt.Sprintf("entry %d", i))
		if err != nil {
			return nil, err
		}
		hash64, leaf, ok := bytes.Cut(line, []byte{' '})
		if !ok {
			return nil, bad("entry %d: want a leaf hash, a space and the leaf", i)
		}
		// 44 characters decode to at most 33 bytes; Decode panics when its output does not
		// fit, so check the length first and decode into 33.
		if len(hash64) != 44 {
			return nil, bad("entry %d: leaf hash is not the padded base64 of 32 bytes", i)
		}
		var buf [33]byte
		if n, err := base64.StdEncoding.Strict().Decode(buf[:], hash64); err != nil || n != tlog.HashSize {
			return nil, bad("entry %d: leaf hash is not the padded base64 of 32 bytes", i)
		}
		hash := tlog.Hash(buf[:tlog.HashSize])
		a.LeafHashes = append(a.LeafHashes, hash)
		a.Leaves = append(a.Leaves, bytes.Clone(leaf))
	}
	if _, err := br.ReadByte(); err != io.EOF {
		lineNo++
		return nil, bad("data after the %d entries the header announces", h.Entries)
	}
	return a, nil
}

func strictJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("data after the JSON object")
	}
	return nil
}

// Source is what [Export] reads from a log; *ledger.Log implements it.
type Source interface {
	Origin() string
	Checkpoint(ctx context.Context) ([]byte, error)
	Entries(ctx context.Context, start, end int64) ([][]byte, error)
	LeafHashes(ctx context.Context, start, end int64) ([]tlog.Hash, error)
}

// exportChunk is how many entries Export reads at a time.
const exportChunk = 4096

// Export makes an archive of a log: its latest checkpoint and every entry up to the
// checkpoint's size, with the leaf hashes the log stored. verifierKey is the log's note
// verifier key (ledger.VerifierKey); the checkpoint must verify with it.
func Export(ctx context.Context, src Source, verifierKey string) (*Archive, error) {
	v, err := note.NewVerifier(verifierKey)
	if err != nil {
		return nil, fmt.Errorf("exporting archive: verifier key: %w", err)
	}
	cpNote, err := src.Checkpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("exporting archive: %w", err)
	}
	cp, err := ledger.OpenCheckpoint(cpNote, src.Origin(), v)
	if err != nil {
		return nil, fmt.Errorf("exporting archive: the log's checkpoint: %w", err)
	}
	a := &Archive{Origin: src.Origin(), VerifierKey: verifierKey, Checkpoints: [][]byte{cpNote}}
	for start := int64(0); start < cp.Size; start += exportChunk {
		end := min(start+exportChunk, cp.Size)
		leaves, err := src.Entries(ctx, start, end)
		if err != nil {
			return nil, fmt.Errorf("exporting archive: %w", err)
		}
		hashes, err := src.LeafHashes(ctx, start, end)
		if err != nil {
			return nil, fmt.Errorf("exporting archive: %w", err)
		}
		if len(leaves) != int(end-start) || len(hashes) != int(end-start) {
			return nil, fmt.Errorf("exporting archive: entries [%d, %d): got %d leaves and %d hashes", start, end, len(leaves), len(hashes))
		}
		a.Leaves = append(a.Leaves, leaves...)
		a.LeafHashes = append(a.LeafHashes, hashes...)
	}
	return a, nil
}
