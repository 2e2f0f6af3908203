package verify

import (
	"cmp"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/truce-mission/truce/ledger"
)

// Sentinels for the problems a [Report] lists; entry problems also wrap the ledger's
// (ledger.ErrMalformed, ledger.ErrBadSignature, ledger.ErrUnknownIdentity).
var (
	// ErrRewritten marks a signed checkpoint that the archive's entries contradict, or two
	// signed checkpoints of one size with different roots: the log signed two histories.
	ErrRewritten = errors.New("history rewritten")
	// ErrLeafMismatch marks an entry whose leaf hash is not the one the signed tree holds.
	ErrLeafMismatch = errors.New("leaf hash does not match the tree")
	// ErrUnsigned marks an archive with entries but no checkpoint that verifies.
	ErrUnsigned = errors.New("no verified checkpoint")
	// ErrOrder marks receipt times that go back from one entry to the next.
	ErrOrder = errors.New("receipt times out of order")
	// ErrKey marks a verifier key that is malformed or differs from the trusted one.
	ErrKey = errors.New("verifier key")
)

// MaxProblems bounds the problems a Report lists; the rest are counted in Omitted.
const MaxProblems = 1000

// Options say what VerifyArchive trusts.
type Options struct {
	// Identities gives each identity's public key, typically ledger.AgreementKeys of the
	// agreement. When nil, entry signatures are not checked and the report says so.
	Identities ledger.KeyFunc
	// VerifierKey is the log's note verifier key as the user knows it (from the agreement
	// or the mission), not as the archive claims it. When empty the archive's own key is
	// used, which proves only that the archive is self-consistent, and the report says so.
	VerifierKey string
	// Checkpoints are signed checkpoints the user kept from earlier archives or from the
	// log's server. Each is checked against the archive; a kept checkpoint the archive's
	// entries contradict proves the history was rewritten.
	Checkpoints [][]byte
}

// CheckpointStatus is the outcome of checking one checkpoint.
type CheckpointStatus int

// The outcomes of checking a checkpoint.
const (
	CheckpointVerified     CheckpointStatus = iota // signed by the log; its root is the archive's tree at its size
	CheckpointUnverifiable                         // signed by the log, but larger than the archive
	CheckpointMismatch                             // signed by the log, but the archive's tree at its size has another root
	CheckpointBad                                  // malformed, for another log, or its signature does not verify
)

var statusNames = []string{"verified", "unverifiable", "mismatch", "bad"}

// String returns the status in a word.
func (s CheckpointStatus) String() string {
	if int(s) >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("CheckpointStatus(%d)", int(s))
}

// CheckpointResult is the outcome for one checkpoint.
type CheckpointResult struct {
	Source string // "archive checkpoint 1" or "kept checkpoint 2" (1-based)
	Size   int64  // -1 when it could not be read
	Root   tlog.Hash
	Status CheckpointStatus
	Detail string // why, for any status but verified
}

// Problem is one thing wrong with an archive.
type Problem struct {
	Entry int64 // the entry at fault, or -1 when the problem is not one entry's
	Err   error
}

// Error prints the problem, starting with "entry N: " for an entry's.
func (p Problem) Error() string {
	if p.Entry >= 0 {
		return fmt.Sprintf("entry %d: %v", p.Entry, p.Err)
	}
	return p.Err.Error()
}

// Unwrap returns the cause.
func (p Problem) Unwrap() error { return p.Err }

// Report is the outcome of [VerifyArchive].
type Report struct {
	Origin            string
	Size              int64     // entries in the archive
	Root              tlog.Hash // the root recomputed from the archive's leaves
	VerifierKey       string    // the key checkpoints were checked with
	KeyTrusted        bool      // false when that key came from the archive itself
	SignaturesChecked bool      // false when no identities were given
	// Covered is the largest size of a verified checkpoint: entries below it are proved to
	// be the ones the log signed.
	Covered     int64
	Checkpoints []CheckpointResult
	// Problems lists entry problems by entry index, then the others.
	Problems []Problem
	Omitted  int // problems beyond MaxProblems, not listed
}

// OK reports whether the archive has no problem.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Err returns the first problem, or nil.
func (r *Report) Err() error {
	if len(r.Problems) == 0 {
		return nil
	}
	return r.Problems[0]
}

// FirstBadEntry returns the index of the first entry at fault, if any.
func (r *Report) FirstBadEntry() (int64, bool) {
	if len(r.Problems) > 0 && r.Problems[0].Entry >= 0 {
		return r.Problems[0].Entry, true
	}
	return 0, false
}

// String summarizes the report for people, one fact per line.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "log %s: %d entries, root %s\n", r.Origin, r.Size, r.Root)
	if !r.KeyTrusted {
		b.WriteString("warning: checkpoints checked with the archive's own verifier key; give the trusted key to prove who signed them\n")
	}
	if !r.SignaturesChecked {
		b.WriteString("warning: entry signatures not checked (no identities given)\n")
	}
	for _, c := range r.Checkpoints {
		fmt.Fprintf(&b, "%s: size %d: %s", c.Source, c.Size, c.Status)
		if c.Detail != "" {
			fmt.Fprintf(&b, ": %s", c.Detail)
		}
		b.WriteByte('\n')
	}
	if r.Covered < r.Size {
		fmt.Fprintf(&b, "entries %d to %d are not covered by a verified checkpoint\n", r.Covered, r.Size-1)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "error: %v\n", p)
	}
	if r.Omitted > 0 {
		fmt.Fprintf(&b, "error: %d more problems not listed\n", r.Omitted)
	}
	if r.OK() {
		b.WriteString("ok\n")
	}
	return b.String()
}

// VerifyArchive checks an archive offline:
//
//   - every leaf parses (ledger.ParseLeaf) and, given identities, its submitter is known and
//     its signature verifies (ledger.Verify: for an entry signed in a batch, the batch
//     signature over the root its audit path leads to, checked once per batch); receipt
//     times never go back;
//   - the Merkle tree is recomputed from the leaves (RFC 6962);
//   - every checkpoint, the archive's and the user's, is signed by the log's verifier key,
//     and its root is the recomputed tree's at its size; a checkpoint larger than the
//     archive is reported unverifiable; two signed checkpoints of one size must agree;
//   - when a checkpoint's root differs, the leaf hashes the archive carries say whether one
//     entry was changed (they still give the signed root: that entry is named) or the
//     history was rewritten (they do not: the report names the checkpoint and the range of
//     entries after the last checkpoint that verifies).
//
// Entry problems come first in the report, by index, so the first one is the first bad
// entry.
func VerifyArchive(a *Archive, opts Options) *Report {
	r := &Report{
		Origin:            a.Origin,
		Size:              int64(len(a.Leaves)),
		SignaturesChecked: opts.Identities != nil,
		KeyTrusted:        opts.VerifierKey != "",
		VerifierKey:       opts.VerifierKey,
	}
	var entryProblems, otherProblems []Problem
	other := func(err error) { otherProblems = append(otherProblems, Problem{Entry: -1, Err: err}) }

	if r.VerifierKey == "" {
		r.VerifierKey = a.VerifierKey
	} else if a.VerifierKey != "" && a.VerifierKey != opts.VerifierKey {
		other(fmt.Errorf("%w: the archive names %q, the trusted key is %q", ErrKey, a.VerifierKey, opts.VerifierKey))
	}
	verifier, keyErr := note.NewVerifier(r.VerifierKey)
	if keyErr != nil {
		other(fmt.Errorf("%w %q: %v", ErrKey, r.VerifierKey, keyErr))
	}
	claimed := a.LeafHashes
	if claimed != nil && len(claimed) != len(a.Leaves) {
		other(fmt.Errorf("%w: %d leaf hashes for %d entries", ErrFormat, len(claimed), len(a.Leaves)))
		claimed = nil
	}

	// Entries, in parallel chunks.
	actual := make([]tlog.Hash, len(a.Leaves))
	entryProblems = checkEntries(a.Leaves, actual, opts.Identities)

	// Checkpoints.
	type opened struct {
		res     *CheckpointResult
		cp      ledger.Checkpoint
		matches bool // the archive's tree at its size has its root
	}
	var cps []opened
	add := func(source string, msg []byte) {
		res := CheckpointResult{Source: source, Size: -1}
		if keyErr != nil {
			res.Status, res.Detail = CheckpointBad, "no usable verifier key"
		} else if cp, err := ledger.OpenCheckpoint(msg, a.Origin, verifier); err != nil {
			res.Status, res.Detail = CheckpointBad, err.Error()
			other(fmt.Errorf("%s: %w", source, err))
		} else {
			res.Size, res.Root = cp.Size, cp.Root
			cps = append(cps, opened{cp: cp})
		}
		r.Checkpoints = append(r.Checkpoints, res)
	}
	for i, c := range a.Checkpoints {
		add(fmt.Sprintf("archive checkpoint %d", i+1), c)
	}
	for i, c := range opts.Checkpoints {
		add(fmt.Sprintf("kept checkpoint %d", i+1), c)
	}
	// Results were appended in order; point each opened checkpoint at its result.
	j := 0
	for i := range r.Checkpoints {
		if r.Checkpoints[i].Size >= 0 {
			cps[j].res = &r.Checkpoints[i]
			j++
		}
	}

	// Roots of the recomputed tree, and of the claimed leaf hashes, at every size asked.
	sizes := []int64{r.Size}
	for _, c := range cps {
		if c.cp.Size <= r.Size {
			sizes = append(sizes, c.cp.Size)
		}
	}
	actualRoots := rootsAt(actual, sizes)
	r.Root = actualRoots[r.Size]
	var claimedRoots map[int64]tlog.Hash
	if claimed != nil {
		claimedRoots = rootsAt(claimed, sizes)
	}

	slices.SortStableFunc(cps, func(x, y opened) int { return cmp.Compare(x.cp.Size, y.cp.Size) })
	leafMismatch := map[int64]bool{}
	for i := range cps {
		c := &cps[i]
		if c.cp.Size <= r.Size && actualRoots[c.cp.Size] == c.cp.Root {
			c.matches = true
			r.Covered = max(r.Covered, c.cp.Size)
		}
	}
	for i, c := range cps {
		switch {
		case c.matches:
			c.res.Status = CheckpointVerified
		case c.cp.Size > r.Size:
			c.res.Status = CheckpointUnverifiable
			c.res.Detail = fmt.Sprintf("larger than the archive's %d entries", r.Size)
			if i > 0 && cps[i-1].cp.Size == c.cp.Size && cps[i-1].cp.Root != c.cp.Root {
				other(fmt.Errorf("%w: %s and %s are both signed for size %d with different roots", ErrRewritten, cps[i-1].res.Source, c.res.Source, c.cp.Size))
			}
		default:
			c.res.Status = CheckpointMismatch
			if claimed != nil && claimedRoots[c.cp.Size] == c.cp.Root {
				// The archive's leaf hashes are the signed tree's: the entries that differ
				// from them were changed.
				first := int64(-1)
				for k := int64(0); k < c.cp.Size; k++ {
					if actual[k] != claimed[k] {
						first = k
						break
					}
				}
				c.res.Detail = fmt.Sprintf("entry %d does not match the signed tree", first)
				if !leafMismatch[first] {
					leafMismatch[first] = true
					entryProblems = append(entryProblems, Problem{first, fmt.Errorf("%w at checkpoint size %d (%s)", ErrLeafMismatch, c.cp.Size, c.res.Source)})
				}
				continue
			}
			after := int64(0)
			for _, p := range cps[:i] {
				if p.matches {
					after = max(after, p.cp.Size)
				}
			}
			c.res.Detail = fmt.Sprintf("signed root %s, the archive's entries give %s", c.cp.Root, actualRoots[c.cp.Size])
			other(fmt.Errorf("%w: %s of size %d has root %s, but the archive's entries give %s; the first difference is among entries %d to %d",
				ErrRewritten, c.res.Source, c.cp.Size, c.cp.Root, actualRoots[c.cp.Size], after, c.cp.Size-1))
		}
	}
	if r.Size > 0 && r.Covered == 0 && keyErr == nil {
		other(fmt.Errorf("%w: no checkpoint signed by %q covers the archive's entries", ErrUnsigned, verifier.Name()))
	}
	// Claimed leaf hashes that differ from their leaves, not already explained above.
	if claimed != nil {
		for k := range actual {
			if actual[k] != claimed[k] && !leafMismatch[int64(k)] {
				entryProblems = append(entryProblems, Problem{int64(k), fmt.Errorf("%w: the leaf hashes to %s, the archive lists %s", ErrLeafMismatch, actual[k], claimed[k])})
			}
		}
	}

	slices.SortStableFunc(entryProblems, func(x, y Problem) int { return cmp.Compare(x.Entry, y.Entry) })
	r.Problems = append(entryProblems, otherProblems...)
	if len(r.Problems) > MaxProblems {
		r.Omitted = len(r.Problems) - MaxProblems
		r.Problems = r.Problems[:MaxProblems]
	}
	return r
}

// checkEntries parses and checks every leaf, filling in its hash, on every CPU. Each
// worker takes consecutive entries, so the entries of a batch mostly share one worker and
// ledger.Verify's cache of batch signatures: a batch costs one ed25519 verification, or
// one per worker it spans.
//
// An entry in run form is checked with its whole batch (ledger.VerifyRun) once every leaf
// is parsed, since the run may span two workers' shares.
func checkEntries(leaves [][]byte, hashes []tlog.Hash, keys ledger.KeyFunc) []Problem {
	n := len(leaves)
	workers := min(runtime.GOMAXPROCS(0), max(1, n/256))
	chunk := (n + workers - 1) / max(workers, 1)
	results := make([][]Problem, workers)
	received := make([]time.Time, n)   // for the order check; zero if unparsed
	parsed := make([]*ledger.Entry, n) // entries in run form, for checkRuns
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var ps []Problem
			for i := w * chunk; i < min(n, (w+1)*chunk); i++ {
				hashes[i] = tlog.RecordHash(leaves[i])
				if len(ps) > MaxProblems {
					continue // enough to report; keep hashing
				}
				e, err := ledger.ParseLeaf(leaves[i])
				if err != nil {
					ps = append(ps, Problem{int64(i), err})
					continue
				}
				received[i] = e.Received()
				if keys == nil {
					continue
				}
				if e.IsRun() {
					parsed[i] = e
					continue
				}
				pub, ok := keys(e.Submitter())
				if !ok {
					ps = append(ps, Problem{int64(i), &ledger.FieldError{Field: "submitter", Msg: fmt.Sprintf("unknown identity %q", e.Submitter()), Err: ledger.ErrUnknownIdentity}})
					continue
				}
				if err := ledger.Verify(e, pub); err != nil {
					ps = append(ps, Problem{int64(i), err})
				}
			}
			results[w] = ps
		})
	}
	wg.Wait()
	var out []Problem
	for _, ps := range results {
		out = append(out, ps...)
	}
	if keys != nil {
		out = append(out, checkRuns(parsed, keys)...)
	}
	var last time.Time
	for i, t := range received {
		if t.IsZero() {
			continue
		}
		if t.Before(last) {
			out = append(out, Problem{int64(i), fmt.Errorf("%w: received at %s, before an earlier entry (%s)", ErrOrder, t.Format(time.RFC3339Nano), last.Format(time.RFC3339Nano))})
			continue
		}
		last = t
	}
	return out
}

// checkRuns checks the batches logged in run form: runs[i] is the parsed entry at index i
// when it is in run form, else nil. Each run must be whole, n consecutive entries from its
// entry 0; an entry outside a whole run is a problem of its own. The runs are checked on
// every CPU.
func checkRuns(runs []*ledger.Entry, keys ledger.KeyFunc) []Problem {
	type span struct{ first, n int64 }
	var spans []span
	var out []Problem
	for i := int64(0); i < int64(len(runs)); {
		e := runs[i]
		if e == nil {
			i++
			continue
		}
		first, n, _ := e.RunStart(i)
		if first != i || i+n > int64(len(runs)) {
			// Not the start of a run, or a run cut short: report the entry and go on.
			out = append(out, Problem{i, fmt.Errorf("%w: entry %d of a batch of %d logged as a run, whose entries %d to %d are not all here", ledger.ErrBadSignature, i-first, n, first, first+n-1)})
			i++
			continue
		}
		spans = append(spans, span{first, n})
		i += n
	}
	workers := min(runtime.GOMAXPROCS(0), max(1, len(spans)))
	results := make([][]Problem, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for k := w; k < len(spans); k += workers {
				sp := spans[k]
				es := runs[sp.first : sp.first+sp.n]
				pub, ok := keys(es[0].Submitter())
				if !ok {
					results[w] = append(results[w], Problem{sp.first, &ledger.FieldError{Field: "submitter", Msg: fmt.Sprintf("unknown identity %q", es[0].Submitter()), Err: ledger.ErrUnknownIdentity}})
					continue
				}
				if err := ledger.VerifyRun(es, pub); err != nil {
					var re *ledger.RunError
					at := sp.first
					if errors.As(err, &re) {
						at += re.Entry
					}
					results[w] = append(results[w], Problem{at, fmt.Errorf("batch logged as a run at entries %d to %d: %w", sp.first, sp.first+sp.n-1, err)})
				}
			}
		})
	}
	wg.Wait()
	for _, ps := range results {
		out = append(out, ps...)
	}
	return out
}

// rootsAt returns the RFC 6962 root of the first n leaf hashes for each n in sizes, in one
// pass over a compact range (the roots of the complete subtrees on the tree's right edge).
func rootsAt(hashes []tlog.Hash, sizes []int64) map[int64]tlog.Hash {
	want := map[int64]bool{}
	for _, s := range sizes {
		want[s] = true
	}
	roots := map[int64]tlog.Hash{}
	var stack []tlog.Hash
	root := func() tlog.Hash {
		if len(stack) == 0 {
			h, _ := tlog.TreeHash(0, nil)
			return h
		}
		h := stack[len(stack)-1]
		for i := len(stack) - 2; i >= 0; i-- {
			h = tlog.NodeHash(stack[i], h)
		}
		return h
	}
	if want[0] {
		roots[0] = root()
	}
	for n, h := range hashes {
		stack = append(stack, h)
		for s := n; s&1 == 1; s >>= 1 {
			k := len(stack)
			stack[k-2] = tlog.NodeHash(stack[k-2], stack[k-1])
			stack = stack[:k-1]
		}
		if want[int64(n+1)] {
			roots[int64(n+1)] = root()
		}
	}
	return roots
}
