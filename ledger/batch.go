package ledger

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/transparency-dev/merkle"
	"github.com/transparency-dev/merkle/proof"
	"golang.org/x/mod/sumdb/tlog"
)

// MaxBatchSize is the most entries one batch signature may cover. It bounds the audit path
// an entry carries to 12 hashes, which keeps the leaf of an entry with a full payload within
// [MaxLeafSize].
const MaxBatchSize = 4096

// BatchSignedMessagePrefix starts the message a submitter signs for a batch (see
// [BatchSignedMessage]). It differs from [SignedMessagePrefix], so that an entry signature
// can never be read as a batch signature nor the other way round; its version changes with
// any change to what is signed.
const BatchSignedMessagePrefix = "truce/batch/v1\n"

// BatchProof places one entry in a signed batch: the submitter signed the root of an
// RFC 6962 Merkle tree over the batch's item digests ([BatchDigest]), and the proof leads
// from the entry's digest to that root.
//
// A leaf carries the proof in one of two forms. In the path form the leaf holds the audit
// path, and the entry can be checked alone ([Verify]). In the run form (Run set) it holds
// only n and i: the batch was logged whole, its n entries at consecutive indexes in order,
// and those entries are the proof, their digests giving the root ([VerifyRun]). The log
// writes the run form when a whole batch of two or more entries is appended together, as the
// intake does; it saves the path's ~47 bytes per level in every leaf (half of a typical
// observation's leaf at a batch of 1,000).
type BatchProof struct {
	Size  int64       // N, entries in the batch
	Index int64       // this entry's position, 0-based
	Path  []tlog.Hash // audit path from the entry's digest to the batch root; nil when unknown (a parsed run-form leaf)
	Run   bool        // the leaf is in run form: no path in it; its batch's entries are the proof
}

// BatchDigest returns the item digest of a would-be entry: the RFC 6962 leaf hash of its
// signed message (SHA-256 of 0x00 and [Entry.SignedMessage]). It takes raw parts and
// computes the digest even when [NewEntry] would refuse them, so that a server can compute
// the root of a batch one of whose records is invalid and still append the others.
func BatchDigest(k Kind, submitter string, submitted time.Time, payload []byte) tlog.Hash {
	return itemDigest(k, submitter, submitted.UTC().Round(0), payload)
}

// itemDigest is tlog.RecordHash(signedMessage(...)), with the message built in a pooled
// buffer: the intake takes two digests of every record (the handler's and the log's), and
// each was an allocation the size of the record.
func itemDigest(k Kind, submitter string, submitted time.Time, payload []byte) tlog.Hash {
	bp := messageBuffers.Get().(*[]byte)
	b := append((*bp)[:0], 0x00) // RFC 6962's leaf prefix, as tlog.RecordHash adds
	b = appendSignedMessage(b, k, submitter, submitted, payload)
	d := tlog.Hash(sha256.Sum256(b))
	if cap(b) <= 1<<16+1024 { // keep buffers of ordinary records only
		*bp = b
		messageBuffers.Put(bp)
	}
	return d
}

var messageBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// Digest returns e's item digest, [BatchDigest] of its parts.
func (e *Entry) Digest() tlog.Hash {
	if e.hasDigest {
		return e.digest
	}
	return itemDigest(e.kind, e.submitter, e.submitted, e.payload)
}

// BatchRoot returns the RFC 6962 Merkle tree hash of digests (the tree of the log itself,
// with the digests as leaf hashes) and, for each digest, its proof. It takes any number of
// digests; [SignBatch] and [Entry.SetBatchSignature] refuse more than [MaxBatchSize]. With
// no digest it returns the empty tree's hash and no proof.
func BatchRoot(digests []tlog.Hash) (tlog.Hash, []BatchProof) {
	n := len(digests)
	if n == 0 {
		root, _ := tlog.TreeHash(0, nil) // the hash of the empty string
		return root, nil
	}
	// Every path shares one backing array; a path is at most ceil(log2 n) hashes.
	depth := bits.Len(uint(n - 1))
	backing := make([]tlog.Hash, n*depth)
	paths := make([][]tlog.Hash, n)
	for i := range paths {
		paths[i] = backing[i*depth : i*depth : (i+1)*depth]
	}
	root := subtreeProofs(digests, paths)
	proofs := make([]BatchProof, n)
	for i := range proofs {
		proofs[i] = BatchProof{Size: int64(n), Index: int64(i), Path: paths[i]}
	}
	return root, proofs
}

// subtreeProofs returns the RFC 6962 tree hash of leaf hashes d, appending to paths[i] the
// audit path of leaf i within that tree. It follows RFC 6962's definitions of MTH and PATH
// (section 2.1): split at the largest power of two below n, and a leaf's path is its path in
// its half followed by the other half's hash. So each node is hashed once: 2n hashes for all
// the paths, where a proof per leaf (tlog.ProveRecord) rehashed the incomplete subtrees each
// time.
//
// With paths nil it computes the tree hash alone.
func subtreeProofs(d []tlog.Hash, paths [][]tlog.Hash) tlog.Hash {
	n := len(d)
	if n == 1 {
		return d[0]
	}
	k := 1 << (bits.Len(uint(n-1)) - 1)
	var lp, rp [][]tlog.Hash
	if paths != nil {
		lp, rp = paths[:k], paths[k:]
	}
	left := subtreeProofs(d[:k], lp)
	right := subtreeProofs(d[k:], rp)
	for i := range lp {
		lp[i] = append(lp[i], right)
	}
	for i := range rp {
		rp[i] = append(rp[i], left)
	}
	return tlog.NodeHash(left, right)
}

// BatchTreeHash returns the root [BatchRoot] gives, without the proofs: what a batch's
// signature covers.
func BatchTreeHash(digests []tlog.Hash) tlog.Hash {
	if len(digests) == 0 {
		root, _ := tlog.TreeHash(0, nil)
		return root
	}
	return subtreeProofs(digests, nil)
}

// BatchSignedMessage returns the bytes a submitter signs for a batch of n entries whose
// digests have the Merkle tree hash root:
//
//	"truce/batch/v1\n" + submitter + "\n" + n in decimal + "\n" + root in padded base64
//
// The submitter and n are signed so that neither the signer nor the tree's shape can be
// changed under the signature.
func BatchSignedMessage(submitter string, n int64, root tlog.Hash) []byte {
	b := make([]byte, 0, len(BatchSignedMessagePrefix)+len(submitter)+64)
	b = append(b, BatchSignedMessagePrefix...)
	b = append(b, submitter...)
	b = append(b, '\n')
	b = strconv.AppendInt(b, n, 10)
	b = append(b, '\n')
	return base64.StdEncoding.AppendEncode(b, root[:])
}

// SignBatch signs es, all by one submitter, 1 to [MaxBatchSize] of them and none received,
// with one signature over [BatchSignedMessage], and sets each entry's batch proof and
// signature (replacing any). It changes no entry when it fails. A batch of one is valid (its
// root is the entry's digest, its path empty), but [Sign] gives the normal form of an entry
// signed alone.
func SignBatch(es []*Entry, priv ed25519.PrivateKey) error {
	switch {
	case len(es) == 0:
		return fieldErr("batch.n", ErrMalformed, "no entry to sign")
	case len(es) > MaxBatchSize:
		return fieldErr("batch.n", ErrTooLarge, fmt.Sprintf("%d entries in one batch, at most %d", len(es), MaxBatchSize))
	case len(priv) != ed25519.PrivateKeySize:
		return fieldErr("signature", ErrMalformed, fmt.Sprintf("private key has %d bytes, want %d", len(priv), ed25519.PrivateKeySize))
	}
	digests := make([]tlog.Hash, len(es))
	for i, e := range es {
		if err := e.mutable(); err != nil {
			return fmt.Errorf("batch entry %d: %w", i, err)
		}
		if e.submitter != es[0].submitter {
			return fmt.Errorf("batch entry %d: %w", i, fieldErr("submitter", ErrMalformed,
				fmt.Sprintf("%q in a batch by %q: a batch has one submitter", e.submitter, es[0].submitter)))
		}
		digests[i] = e.Digest()
	}
	root, proofs := BatchRoot(digests)
	sig := ed25519.Sign(priv, BatchSignedMessage(es[0].submitter, int64(len(es)), root))
	for i, e := range es {
		// The entries share sig: no code changes a signature in place.
		e.batch, e.sig = &proofs[i], sig
	}
	return nil
}

// SetBatchSignature sets e's batch proof and the batch's signature, made elsewhere over
// [BatchSignedMessage]. It checks shapes only (the size, the index within it, the path's
// length for that index, the signature's length); [Verify] checks the signature. Errors are
// *[FieldError] naming "batch.n", "batch.i", "batch.path" or "signature".
//
// A proof with Run set and no path is for an entry that will be appended with its whole
// batch ([Log.AppendBatch] of all its entries, in order), which logs them in run form: the
// path, which the log would not write, need not be computed. Such an entry cannot be
// appended or checked alone until [SetBatchPaths] gives it its path.
func (e *Entry) SetBatchSignature(p BatchProof, sig []byte) error {
	if err := e.mutable(); err != nil {
		return err
	}
	if err := checkBatchShape(p); err != nil {
		return err
	}
	if p.Run && p.Path != nil {
		return fieldErr("batch.path", ErrMalformed, "a proof in run form carries no path")
	}
	if len(sig) != ed25519.SignatureSize {
		return fieldErr("signature", ErrMalformed, fmt.Sprintf("%d bytes, want %d", len(sig), ed25519.SignatureSize))
	}
	e.batch = &BatchProof{Size: p.Size, Index: p.Index, Path: slices.Clone(p.Path), Run: p.Run}
	e.sig = bytes.Clone(sig)
	return nil
}

// SetBatchPaths gives the entries of a whole batch signed without paths (see
// [Entry.SetBatchSignature]) their audit paths, computed from their digests, so that each
// can be appended and checked alone. es must be all the batch's entries, in order, not yet
// received.
func SetBatchPaths(es []*Entry) error {
	for i, e := range es {
		if err := e.mutable(); err != nil {
			return fmt.Errorf("batch entry %d: %w", i, err)
		}
	}
	if !wholeBatch(es) {
		return fieldErr("batch", ErrMalformed, fmt.Sprintf("%d entries are not a whole signed batch, in order", len(es)))
	}
	setBatchPaths(es)
	return nil
}

// setBatchPaths sets the path-form proofs of es, a whole batch.
func setBatchPaths(es []*Entry) {
	digests := make([]tlog.Hash, len(es))
	for i, e := range es {
		digests[i] = e.Digest()
	}
	_, proofs := BatchRoot(digests)
	for i, e := range es {
		e.batch = &proofs[i]
	}
}

// Batch returns e's batch proof, and false for an entry signed alone (or not signed). The
// path is nil for an entry parsed from a leaf in run form.
func (e *Entry) Batch() (BatchProof, bool) {
	if e.batch == nil {
		return BatchProof{}, false
	}
	p := *e.batch
	p.Path = slices.Clone(p.Path)
	return p, true
}

// checkBatchShape checks that p can be a proof: 1 <= Size <= MaxBatchSize, 0 <= Index <
// Size, and Path as long as an RFC 6962 audit path of that index in that tree.
func checkBatchShape(p BatchProof) error {
	switch {
	case p.Size < 1:
		return fieldErr("batch.n", ErrMalformed, fmt.Sprintf("batch of %d entries, want at least 1", p.Size))
	case p.Size > MaxBatchSize:
		return fieldErr("batch.n", ErrTooLarge, fmt.Sprintf("batch of %d entries, at most %d", p.Size, MaxBatchSize))
	case p.Index < 0 || p.Index >= p.Size:
		return fieldErr("batch.i", ErrMalformed, fmt.Sprintf("entry %d of a batch of %d", p.Index, p.Size))
	case p.Run && p.Path == nil:
		if p.Size == 1 {
			return fieldErr("batch.path", ErrMalformed, "missing (a batch of one entry carries its empty path)")
		}
		return nil
	}
	if want := batchPathLen(p.Index, p.Size); len(p.Path) != want {
		return fieldErr("batch.path", ErrMalformed, fmt.Sprintf("%d hashes, want %d for entry %d of a batch of %d", len(p.Path), want, p.Index, p.Size))
	}
	return nil
}

// batchPathLen is the length of the RFC 6962 audit path of leaf i in a tree of n leaves,
// 0 <= i < n: the levels below the point where the paths to i and to n-1 part (each has a
// sibling), plus the complete left subtrees on the right border above it. It is the sum
// that transparency-dev/merkle's proof.RootFromInclusionProof demands.
func batchPathLen(i, n int64) int {
	inner := bits.Len64(uint64(i) ^ uint64(n-1))
	return inner + bits.OnesCount64(uint64(i)>>inner)
}

// batchRoot recomputes the root of e's batch from its digest and audit path.
func (e *Entry) batchRoot() (tlog.Hash, error) {
	p := e.batch
	if p.Path == nil && p.Run {
		return tlog.Hash{}, fieldErr("batch", ErrRunOnly, fmt.Sprintf("entry %d of a batch of %d logged as a run carries no path: check it with the batch's entries (ledger.VerifyRun)", p.Index, p.Size))
	}
	if err := checkBatchShape(*p); err != nil {
		return tlog.Hash{}, err
	}
	path := make([][]byte, len(p.Path))
	for i := range p.Path {
		path[i] = p.Path[i][:]
	}
	d := e.Digest()
	root, err := proof.RootFromInclusionProof(tlogHasher{}, uint64(p.Index), uint64(p.Size), d[:], path)
	if err != nil || len(root) != tlog.HashSize {
		// checkBatchShape makes this unreachable.
		return tlog.Hash{}, fieldErr("batch.path", ErrMalformed, fmt.Sprintf("entry %d of a batch of %d: %v", p.Index, p.Size, err))
	}
	return tlog.Hash(root), nil
}

// tlogHasher is RFC 6962 hashing through tlog, as a merkle.LogHasher. It gives the same
// hashes as rfc6962.DefaultHasher (the tests check) but hashes a node on the stack, where
// DefaultHasher allocates a SHA-256 state, a buffer and a sum: on the path of every batch
// entry's verification, that was a third of its cost.
type tlogHasher struct{}

var _ merkle.LogHasher = tlogHasher{}

func (tlogHasher) EmptyRoot() []byte {
	h, _ := tlog.TreeHash(0, nil)
	return h[:]
}

func (tlogHasher) HashLeaf(leaf []byte) []byte {
	h := tlog.RecordHash(leaf)
	return h[:]
}

// HashChildren hashes two nodes; each must be tlog.HashSize bytes, as
// proof.RootFromInclusionProof ensures for the leaf and batchRoot for the path.
func (tlogHasher) HashChildren(l, r []byte) []byte {
	h := tlog.NodeHash(tlog.Hash(l), tlog.Hash(r))
	return h[:]
}

func (tlogHasher) Size() int { return tlog.HashSize }

// appendBatch appends the leaf's batch field, `,"batch":{"n":N,"i":I,"path":[...]}`, or
// `,"batch":{"n":N,"i":I}` in run form, or nothing for an entry signed alone.
func (e *Entry) appendBatch(b []byte) []byte {
	p := e.batch
	if p == nil {
		return b
	}
	b = append(b, `,"batch":{"n":`...)
	b = strconv.AppendInt(b, p.Size, 10)
	b = append(b, `,"i":`...)
	b = strconv.AppendInt(b, p.Index, 10)
	if p.Run {
		return append(b, '}')
	}
	b = append(b, `,"path":[`...)
	for i, h := range p.Path {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, h[:])
		b = append(b, '"')
	}
	return append(b, "]}"...)
}

// batchLeafSize is the most bytes appendBatch adds for e.
func (e *Entry) batchLeafSize() int {
	switch {
	case e.batch == nil:
		return 0
	case e.batch.Run:
		return 64
	}
	return 64 + len(e.batch.Path)*47 // 44 base64 characters, quotes and a comma per hash
}

// rawBatch is the leaf's batch field as encoding/json decodes it.
type rawBatch struct {
	N    *int64    `json:"n"`
	I    *int64    `json:"i"`
	Path *[]string `json:"path"`
}

// parse checks the decoded batch field and returns the proof.
func (r *rawBatch) parse() (*BatchProof, error) {
	switch {
	case r.N == nil:
		return nil, fieldErr("batch.n", ErrMalformed, "missing")
	case r.I == nil:
		return nil, fieldErr("batch.i", ErrMalformed, "missing")
	case r.Path == nil:
		return parseRun(*r.N, *r.I)
	}
	p := &BatchProof{Size: *r.N, Index: *r.I, Path: make([]tlog.Hash, len(*r.Path))}
	for i, s := range *r.Path {
		// 44 characters decode to at most 33 bytes; check the length before decoding.
		var buf [33]byte
		if len(s) != 44 {
			return nil, fieldErr("batch.path", ErrMalformed, fmt.Sprintf("hash %d is not the padded base64 of %d bytes", i, tlog.HashSize))
		}
		if n, err := base64.StdEncoding.Strict().Decode(buf[:], []byte(s)); err != nil || n != tlog.HashSize {
			return nil, fieldErr("batch.path", ErrMalformed, fmt.Sprintf("hash %d is not the padded base64 of %d bytes", i, tlog.HashSize))
		}
		p.Path[i] = tlog.Hash(buf[:tlog.HashSize])
	}
	if err := checkBatchShape(*p); err != nil {
		return nil, err
	}
	return p, nil
}

// parseRun checks the batch field of a leaf in run form. A batch of one has no run form: its
// path is empty, so the path form is as short and the entry stays checkable alone.
func parseRun(n, i int64) (*BatchProof, error) {
	p := &BatchProof{Size: n, Index: i, Run: true}
	if err := checkBatchShape(*p); err != nil {
		return nil, err
	}
	return p, nil
}

// IsRun reports whether e's leaf is in run form: an entry of a batch logged whole, whose
// signature is checked with all the batch's entries ([VerifyRun]).
func (e *Entry) IsRun() bool { return e.batch != nil && e.batch.Run }

// RunStart returns the log index of the first entry of the run that the entry at log index
// idx belongs to, and the run's length: the entries to read for [VerifyRun]. ok is false for
// an entry not in run form.
func (e *Entry) RunStart(idx int64) (first, n int64, ok bool) {
	if !e.IsRun() {
		return 0, 0, false
	}
	return idx - e.batch.Index, e.batch.Size, true
}

// VerifyRun checks the signature of a batch logged as a run: es must be its entries, as read
// from consecutive log indexes, entry i of the batch at es[i], all in run form, by one
// submitter, with one signature. It recomputes the batch root from their digests and checks
// the signature over [BatchSignedMessage] with pub, remembering it as [Verify] does. An
// error is a *[RunError] naming the entry at fault (0 when the signature fails).
func VerifyRun(es []*Entry, pub ed25519.PublicKey) error {
	return verifyRun(es, pub, &batchSigs)
}

func verifyRun(es []*Entry, pub ed25519.PublicKey, c *batchCache) error {
	if len(es) == 0 {
		return &RunError{0, fieldErr("batch", ErrMalformed, "no entry")}
	}
	first := es[0]
	if first == nil || !first.ok || !first.IsRun() {
		return &RunError{0, fieldErr("batch", ErrMalformed, "not an entry of a batch logged as a run")}
	}
	n := first.batch.Size
	if first.batch.Index != 0 {
		return &RunError{0, fieldErr("batch.i", ErrMalformed, fmt.Sprintf("entry %d of a batch of %d where its entry 0 belongs", first.batch.Index, n))}
	}
	if int64(len(es)) != n {
		return &RunError{min(int64(len(es)), n) - 1, fieldErr("batch.n", ErrMalformed, fmt.Sprintf("the run of a batch of %d has %d entries here", n, len(es)))}
	}
	if len(pub) != ed25519.PublicKeySize {
		return &RunError{0, fieldErr("signature", ErrBadSignature, fmt.Sprintf("public key of identity %q has %d bytes, want %d", first.submitter, len(pub), ed25519.PublicKeySize))}
	}
	digests := make([]tlog.Hash, n)
	for i, e := range es {
		switch {
		case e == nil || !e.ok || !e.IsRun():
			return &RunError{int64(i), fieldErr("batch", ErrMalformed, fmt.Sprintf("not in run form, inside the run of a batch of %d", n))}
		case e.batch.Size != n || e.batch.Index != int64(i):
			return &RunError{int64(i), fieldErr("batch.i", ErrMalformed, fmt.Sprintf("entry %d of a batch of %d where entry %d of a batch of %d belongs", e.batch.Index, e.batch.Size, i, n))}
		case e.submitter != first.submitter:
			return &RunError{int64(i), fieldErr("submitter", ErrMalformed, fmt.Sprintf("%q in a batch by %q", e.submitter, first.submitter))}
		case !bytes.Equal(e.sig, first.sig):
			return &RunError{int64(i), fieldErr("sig", ErrBadSignature, "differs from the signature of the batch's first entry")}
		}
		digests[i] = e.Digest()
	}
	root := BatchTreeHash(digests)
	if !c.verify(pub, BatchSignedMessage(first.submitter, n, root), first.sig) {
		return &RunError{0, fieldErr("signature", ErrBadSignature, fmt.Sprintf("does not verify for identity %q over the %d entries of the run", first.submitter, n))}
	}
	return nil
}

// RunError is a failed check of a run ([VerifyRun]): Entry is the position in the run of the
// entry at fault.
type RunError struct {
	Entry int64
	Err   error
}

func (e *RunError) Error() string { return fmt.Sprintf("entry %d of the run: %v", e.Entry, e.Err) }
func (e *RunError) Unwrap() error { return e.Err }
