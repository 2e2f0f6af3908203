package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/truce-mission/truce/client"
	"github.com/truce-mission/truce/keys"
	"github.com/truce-mission/truce/ledger"
	"github.com/truce-mission/truce/ledger/verify"
	"github.com/truce-mission/truce/store"
	"github.com/truce-mission/truce/store/postgres"
	"github.com/truce-mission/truce/store/sqlite"
)

// logSource says where a log is read from: a server, or the store a server keeps.
type logSource struct {
	Server      string `xor:"source" help:"Read the log from a truce server, e.g. http://127.0.0.1:8080." env:"TRUCE_SERVER"`
	Data        string `xor:"source" type:"existingdir" help:"Read the log from the embedded store in this data directory (works while the server runs)."`
	Store       string `xor:"source" help:"Read the log from a PostgreSQL store (postgres://…)."`
	VerifierKey string `name:"verifier-key" help:"The log's verifier key (name+hash+key, as GET /v1/log/verifier serves it), or a file holding it. Default: the server's, or the one of DATA/log.key."`
	Key         string `help:"With --server: private key file of an identity that may read the log's entries (any role but public)."`
	As          string `help:"With --server: identity id to sign as. Default: from the key file."`
}

// open returns the log to read and the verifier key the user trusts ("" when none was given
// and none can be derived from a key the user holds).
func (s *logSource) open(ctx context.Context) (verify.Source, string, func(), error) {
	vkey, err := readVerifierKey(s.VerifierKey)
	if err != nil {
		return nil, "", nil, err
	}
	switch {
	case s.Server != "":
		var opts []client.Option
		if s.Key != "" {
			priv, err := keys.LoadPrivateKey(s.Key)
			if err != nil {
				return nil, "", nil, err
			}
			who := s.As
			if who == "" {
				who = identityOfKeyFile(s.Key)
			}
			opts = append(opts, client.WithIdentity(who, priv))
		}
		cl, err := client.New(s.Server, opts...)
		if err != nil {
			return nil, "", nil, err
		}
		src := &serverSource{cl: cl}
		return src, vkey, func() {}, nil
	case s.Data != "" || s.Store != "":
		var st store.Store
		if s.Store != "" {
			st, err = postgres.Open(ctx, s.Store)
		} else {
			st, err = sqlite.Open(s.Data)
		}
		if err != nil {
			return nil, "", nil, err
		}
		src := &storeSource{st: st}
		if vkey == "" && s.Data != "" {
			vkey, err = verifierKeyOfLogKey(ctx, st, filepath.Join(s.Data, "log.key"))
			if err != nil {
				st.Close()
				return nil, "", nil, err
			}
		}
		return src, vkey, func() { st.Close() }, nil
	}
	return nil, "", nil, errors.New("say where the log is: --server URL, --data DIR or --store postgres://…")
}

// readVerifierKey takes a verifier key itself or a file holding one.
func readVerifierKey(arg string) (string, error) {
	if arg == "" {
		return "", nil
	}
	k := arg
	if data, err := os.ReadFile(arg); err == nil {
		k = strings.TrimSpace(string(data))
	}
	if _, err := note.NewVerifier(k); err != nil {
		return "", fmt.Errorf("--verifier-key: %w (want name+hash+key as GET /v1/log/verifier serves it, or a file holding it)", err)
	}
	return k, nil
}

// verifierKeyOfLogKey derives the verifier key from the data directory's checkpoint signing
// key, under the origin of the latest checkpoint.
func verifierKeyOfLogKey(ctx context.Context, st store.Store, keyFile string) (string, error) {
	priv, err := keys.LoadPrivateKey(keyFile)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	cp, err := st.LatestCheckpoint(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return "", errors.New("the store has no checkpoint yet: nothing to export")
	}
	if err != nil {
		return "", err
	}
	return ledger.VerifierKey(noteOrigin(cp.Note), priv.Public().(ed25519.PublicKey))
}

// noteOrigin is the first line of a checkpoint: the log's origin.
func noteOrigin(n []byte) string {
	origin, _, _ := strings.Cut(string(n), "\n")
	return origin
}

// storeSource reads a log straight from its store, as of its latest stored checkpoint.
type storeSource struct {
	st store.Store
	cp store.Checkpoint
}

func (s *storeSource) latest(ctx context.Context) (store.Checkpoint, error) {
	if s.cp.Note == nil {
		cp, err := s.st.LatestCheckpoint(ctx)
		if errors.Is(err, store.ErrNotFound) {
			return cp, errors.New("the store has no checkpoint yet: nothing to export")
		}
		if err != nil {
			return cp, err
		}
		s.cp = cp
	}
	return s.cp, nil
}

func (s *storeSource) Origin() string { return noteOrigin(s.cp.Note) }

func (s *storeSource) Checkpoint(ctx context.Context) ([]byte, error) {
	cp, err := s.latest(ctx)
	return cp.Note, err
}

func (s *storeSource) Entries(ctx context.Context, start, end int64) ([][]byte, error) {
	return s.st.Leaves(ctx, start, end)
}

func (s *storeSource) LeafHashes(ctx context.Context, start, end int64) ([]tlog.Hash, error) {
	idx := make([]int64, 0, end-start)
	for i := start; i < end; i++ {
		idx = append(idx, tlog.StoredHashIndex(0, i))
	}
	return s.st.ReadHashes(ctx, idx)
}

// serverSource reads a log from a server. A server does not send stored leaf hashes, so they
// are recomputed from the leaves: the archive then cannot tell a changed entry from a
// rewritten history, but either is still caught.
type serverSource struct {
	cl *client.Client
	cp []byte
}

func (s *serverSource) Origin() string { return noteOrigin(s.cp) }

func (s *serverSource) Checkpoint(ctx context.Context) ([]byte, error) {
	if s.cp == nil {
		cp, err := s.cl.Checkpoint(ctx)
		if err != nil {
			return nil, err
		}
		s.cp = cp
	}
	return s.cp, nil
}

func (s *serverSource) Entries(ctx context.Context, start, end int64) ([][]byte, error) {
	var out [][]byte
	for start < end {
		leaves, err := s.cl.Entries(ctx, start, end)
		if err != nil {
			return nil, err
		}
		if len(leaves) == 0 {
			return nil, fmt.Errorf("entries [%d, %d): the server sent none", start, end)
		}
		out = append(out, leaves...)
		start += int64(len(leaves))
	}
	return out, nil
}

func (s *serverSource) LeafHashes(ctx context.Context, start, end int64) ([]tlog.Hash, error) {
	leaves, err := s.Entries(ctx, start, end)
	if err != nil {
		return nil, err
	}
	hs := make([]tlog.Hash, len(leaves))
	for i, l := range leaves {
		hs[i] = tlog.RecordHash(l)
	}
	return hs, nil
}

// export reads the whole log up to its latest checkpoint.
func (s *logSource) export(ctx context.Context) (*verify.Archive, string, error) {
	src, vkey, closeFn, err := s.open(ctx)
	if err != nil {
		return nil, "", err
	}
	defer closeFn()
	if _, err := src.Checkpoint(ctx); err != nil {
		return nil, "", err
	}
	exportKey := vkey
	if exportKey == "" {
		ss, ok := src.(*serverSource)
		if !ok {
			return nil, "", errors.New("--verifier-key is required: the store's directory holds no log.key to derive it from")
		}
		if exportKey, err = ss.cl.VerifierKey(ctx); err != nil {
			return nil, "", err
		}
	}
	a, err := verify.Export(ctx, src, exportKey)
	return a, vkey, err
}

type logExportCmd struct {
	logSource
	Out string `arg:"" help:"Archive file to write; - for standard output."`
}

func (c *logExportCmd) Help() string {
	return `Writes a portable archive (entries with their leaf hashes, and the latest signed
checkpoint) that anyone can check offline with 'truce log verify'.

Examples:
  truce log export --server http://127.0.0.1:8080 log.archive
  truce log export --data ./data log.archive`
}

func (c *logExportCmd) Run(s streams) error {
	ctx := context.Background()
	a, _, err := c.export(ctx)
	if err != nil {
		return err
	}
	if c.Out == "-" {
		w := bufio.NewWriter(s.out)
		if err := a.Write(w); err != nil {
			return err
		}
		return w.Flush()
	}
	tmp := c.Out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = a.Write(w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, c.Out)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	fmt.Fprintf(s.err, "wrote %s: %d entries, checkpoint at size %d\n", c.Out, len(a.Leaves), len(a.Leaves))
	return nil
}

type logVerifyCmd struct {
	Archive     string   `arg:"" optional:"" help:"Archive file written by 'truce log export'; - for standard input. Or give --server, --data or --store."`
	Server      string   `help:"Verify the log a truce server holds, read in full." env:"TRUCE_SERVER"`
	Data        string   `type:"existingdir" help:"Verify the embedded store in this data directory."`
	Store       string   `help:"Verify a PostgreSQL store (postgres://…)."`
	VerifierKey string   `name:"verifier-key" help:"The log's verifier key you trust, or a file holding it. Without it checkpoints are only checked against the key the log itself claims."`
	Key         string   `help:"With --server: private key file of an identity that may read the log's entries."`
	As          string   `help:"With --server: identity id to sign as. Default: from the key file."`
	Agreement   string   `type:"existingfile" help:"Agreement file whose identities' keys check every entry's signature."`
	Checkpoints []string `name:"checkpoint" type:"existingfile" help:"A checkpoint you kept earlier (the text of GET /v1/log/checkpoint); repeat for several. Each must be consistent with the log."`
}

func (c *logVerifyCmd) Help() string {
	return `Recomputes the Merkle tree from every entry, checks each entry's signature against the
agreement's identities, each checkpoint's signature against the verifier key, and that the log
is consistent with every checkpoint you kept. Exit 0 only when all of it holds; otherwise the
first bad entry is named with why.

Examples:
  truce log verify --agreement agreement.yaml --verifier-key "$(cat mission.vkey)" \
      --checkpoint monday.cp --checkpoint tuesday.cp log.archive
  truce log verify --server http://127.0.0.1:8080 --agreement agreement.yaml`
}

func (c *logVerifyCmd) Run(s streams) error {
	ctx := context.Background()
	sources := 0
	for _, v := range []string{c.Archive, c.Server, c.Data, c.Store} {
		if v != "" {
			sources++
		}
	}
	if sources != 1 {
		return errors.New("give exactly one log to verify: an ARCHIVE file, --server URL, --data DIR or --store postgres://…")
	}
	trusted, err := readVerifierKey(c.VerifierKey)
	if err != nil {
		return err
	}
	var a *verify.Archive
	if c.Archive != "" {
		in := s.in
		if c.Archive != "-" {
			f, err := os.Open(c.Archive)
			if err != nil {
				return err
			}
			defer f.Close()
			in = f
		}
		if a, err = verify.Read(bufio.NewReaderSize(in, 1<<20)); err != nil {
			return fmt.Errorf("%s: %w", c.Archive, err)
		}
	} else {
		src := logSource{Server: c.Server, Data: c.Data, Store: c.Store, VerifierKey: c.VerifierKey, Key: c.Key, As: c.As}
		var derived string
		if a, derived, err = src.export(ctx); err != nil {
			return err
		}
		if trusted == "" {
			trusted = derived
		}
	}
	opts := verify.Options{VerifierKey: trusted}
	if c.Agreement != "" {
		ag, err := loadAgreement(c.Agreement)
		if err != nil {
			return err
		}
		opts.Identities = ledger.AgreementKeys(ag)
	}
	for _, path := range c.Checkpoints {
		cp, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		opts.Checkpoints = append(opts.Checkpoints, cp)
	}
	rep := verify.VerifyArchive(a, opts)
	fmt.Fprint(s.out, rep.String())
	if !rep.OK() {
		if i, ok := rep.FirstBadEntry(); ok {
			return fmt.Errorf("the log does not verify: first bad entry %d: %w", i, rep.Err())
		}
		return fmt.Errorf("the log does not verify: %w", rep.Err())
	}
	return nil
}

type logCheckpointCmd struct {
	Server string `required:"" help:"Server URL." env:"TRUCE_SERVER"`
}

func (c *logCheckpointCmd) Help() string {
	return `Prints the log's latest signed checkpoint. Keep it: a later 'truce log verify
--checkpoint FILE' proves the log still contains exactly what this checkpoint committed to.`
}

func (c *logCheckpointCmd) Run(s streams) error {
	cl, err := client.New(c.Server)
	if err != nil {
		return err
	}
	cp, err := cl.Checkpoint(context.Background())
	if err != nil {
		return err
	}
	_, err = s.out.Write(cp)
	return err
}
