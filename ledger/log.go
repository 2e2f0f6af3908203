package ledger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/truce-mission/truce/store"
)

// Defaults of [Options].
const (
	// DefaultMaxBatch is the most entries the sequencer writes in one store transaction.
	// SQLite and PostgreSQL both commit ten thousand rows in a few milliseconds; an entry is
	// about three rows (leaf and two hashes on average).
	DefaultMaxBatch = 4096
	// DefaultQueueSize is how many appends may wait for the sequencer before Append blocks.
	DefaultQueueSize = 8192
	// DefaultCheckpointInterval is the least time between two new checkpoints.
	DefaultCheckpointInterval = time.Second
	// DefaultKeyCache is how many idempotency keys the sequencer remembers in memory; older
	// keys are looked up in the store.
	DefaultKeyCache = 1 << 16
	// MaxKeyLen bounds an idempotency key.
	MaxKeyLen = 256
)

// Options configure a [Log]. Origin, Signer and Authorize are required.
type Options struct {
	// Origin is the first line of every checkpoint, naming the log, e.g.
	// "truce.example/loc-2026-illustrative".
	Origin string
	// Signer signs checkpoints; see [NewNoteSigner].
	Signer note.Signer
	// Authorize accepts or refuses each entry before it is sequenced; see
	// [AuthorizeAgreement].
	Authorize Authorizer
	// Clock gives receipt times and paces checkpoints; time.Now when nil.
	Clock func() time.Time
	// MaxBatch bounds the entries of one store transaction and of one AppendBatch call;
	// DefaultMaxBatch when zero.
	MaxBatch int
	// QueueSize bounds the appends waiting for the sequencer; DefaultQueueSize when zero.
	QueueSize int
	// CheckpointInterval is the least time between two new checkpoints;
	// DefaultCheckpointInterval when zero, none when negative.
	CheckpointInterval time.Duration
	// KeyCache bounds the idempotency keys held in memory; DefaultKeyCache when zero.
	KeyCache int
	// Logger receives store failures and recoveries; slog.Default() when nil.
	Logger *slog.Logger
}

// Receipt is what a submitter gets back once its entry is durable: the entry's index in
// the log, its leaf hash (for an inclusion proof) and the log's time of receipt.
type Receipt struct {
	Index    int64
	LeafHash tlog.Hash
	Received time.Time
	// Duplicate is set when the idempotency key had already been used for this entry: the
	// receipt is the original one and nothing was appended.
	Duplicate bool
	// Entry is the entry as logged, received, with its leaf (nil for a duplicate). A whole
	// batch is logged in run form (see [BatchProof]), so its leaves differ from what
	// [Entry.Receive] would make of the entries given.
	Entry *Entry
}

// Log is the evidence ledger: an append-only Merkle log of entries over a [store.Store].
// One Log is the only writer of its store. It is safe for concurrent use.
//
// Appends go through one sequencer goroutine. It takes every append waiting in its queue
// (group commit), stamps each entry with the receipt time, computes the tree's stored hashes
// from the tree's frontier held in memory, and writes the whole batch in one store.Append
// transaction; only then does each caller get its [Receipt].
type Log struct {
	st        store.Store
	origin    string
	signer    note.Signer
	authorize Authorizer
	clock     func() time.Time
	maxBatch  int
	interval  time.Duration
	keyCache  int
	logger    *slog.Logger
	ctx       context.Context // for the sequencer's store calls; outlives Open's context

	head atomic.Pointer[treeHead] // the durable tree, published after each commit

	mu     sync.RWMutex // guards closed and sending on queue
	closed bool
	queue  chan *request
	done   chan struct{}

	// Owned by the sequencer goroutine (and by Open before it starts).
	seq struct {
		front        frontier
		hashCount    int64
		lastReceived time.Time
		keys         map[string]keyRecord // keys of entries at index >= keyFloor
		keyFloor     int64
		stale        bool // a store call failed: reload before the next batch
	}

	cpMu   sync.Mutex
	cp     store.Checkpoint // the latest checkpoint; Note nil when none
	cpTime time.Time        // when this Log signed cp
}

type treeHead struct {
	size int64
	root tlog.Hash
}

type keyRecord struct {
	receipt Receipt
	digest  [sha256.Size]byte
}

// request is one Append or AppendBatch call: its entries stay together in one store
// transaction.
type request struct {
	given    []*Entry // as the caller gave them
	entries  []*Entry // as logged: given, or for a whole batch copies in run form
	prefixes [][]byte // leaf bytes of entries up to the receipt time, with room for it
	keys     []string // nil, or parallel to prefixes
	digests  [][sha256.Size]byte

	receipts []Receipt
	err      error
	done     chan struct{}
}

// Open opens the log kept in st and starts its sequencer. It checks that the store's hash
// count fits its entry count and that the store's latest checkpoint matches the stored tree
// (else [ErrStoreMismatch]), and loads the tree's frontier. The caller keeps ownership of
// st: Close the Log, then the store.
func Open(ctx context.Context, st store.Store, opts Options) (*Log, error) {
	switch {
	case opts.Origin == "":
		return nil, errors.New("opening ledger: options: Origin is required")
	case opts.Signer == nil:
		return nil, errors.New("opening ledger: options: Signer is required")
	case opts.Authorize == nil:
		return nil, errors.New("opening ledger: options: Authorize is required (see ledger.AuthorizeAgreement)")
	}
	l := &Log{
		st:        st,
		origin:    opts.Origin,
		signer:    opts.Signer,
		authorize: opts.Authorize,
		clock:     opts.Clock,
		maxBatch:  opts.MaxBatch,
		interval:  opts.CheckpointInterval,
		keyCache:  opts.KeyCache,
		logger:    opts.Logger,
		ctx:       context.WithoutCancel(ctx),
		done:      make(chan struct{}),
	}
	if l.clock == nil {
		l.clock = time.Now
	}
	if l.maxBatch <= 0 {
		l.maxBatch = DefaultMaxBatch
	}
	if l.interval == 0 {
		l.interval = DefaultCheckpointInterval
	}
	if l.keyCache <= 0 {
		l.keyCache = DefaultKeyCache
	}
	if l.logger == nil {
		l.logger = slog.Default()
	}
	queue := opts.QueueSize
	if queue <= 0 {
		queue = DefaultQueueSize
	}
	l.queue = make(chan *request, queue)

	cp, err := st.LatestCheckpoint(ctx)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("opening ledger: reading the latest checkpoint: %w", err)
	default:
		l.cp = cp
	}
	if err := l.reload(ctx); err != nil {
		return nil, fmt.Errorf("opening ledger: %w", err)
	}
	if l.cp.Note != nil {
		if err := l.checkCheckpoint(ctx, l.cp); err != nil {
			return nil, fmt.Errorf("opening ledger: %w", err)
		}
	}
	go l.run()
	return l, nil
}

// checkCheckpoint checks a stored checkpoint against the stored tree.
func (l *Log) checkCheckpoint(ctx context.Context, cp store.Checkpoint) error {
	n, err := note.Open(cp.Note, note.VerifierList(anyVerifier{l.signer}))
	if err != nil {
		return fmt.Errorf("%w: checkpoint of size %d: %v", ErrStoreMismatch, cp.Size, err)
	}
	c, err := parseCheckpointText(n.Text, l.origin)
	if err != nil {
		return fmt.Errorf("%w: checkpoint of size %d: %v", ErrStoreMismatch, cp.Size, err)
	}
	size := l.head.Load().size
	if c.Size != cp.Size || c.Size > size {
		return fmt.Errorf("%w: checkpoint of size %d, but the store holds %d entries", ErrStoreMismatch, c.Size, size)
	}
	root, err := tlog.TreeHash(c.Size, l.reader(ctx))
	if err != nil {
		return fmt.Errorf("computing the root at size %d: %w", c.Size, err)
	}
	if root != c.Root {
		return fmt.Errorf("%w: the stored tree of size %d has root %s, the checkpoint says %s", ErrStoreMismatch, c.Size, root, c.Root)
	}
	return nil
}

// anyVerifier lets note.Open parse a note signed by the log's own key without checking the
// signature: the log holds only a note.Signer, and the note came from its own store.
type anyVerifier struct{ s note.Signer }

func (v anyVerifier) Name() string                { return v.s.Name() }
func (v anyVerifier) KeyHash() uint32             { return v.s.KeyHash() }
func (v anyVerifier) Verify(msg, sig []byte) bool { return true }

// reload rebuilds the sequencer's state from the store: at Open, and after a failed append.
func (l *Log) reload(ctx context.Context) error {
	entries, hashes, err := l.st.Size(ctx)
	if err != nil {
		return fmt.Errorf("reading the store's size: %w", err)
	}
	if want := tlog.StoredHashCount(entries); hashes != want {
		return fmt.Errorf("%w: %d stored hashes for %d entries, want %d", ErrStoreMismatch, hashes, entries, want)
	}
	l.cpMu.Lock()
	cpSize := l.cp.Size
	l.cpMu.Unlock()
	if entries < cpSize {
		return fmt.Errorf("%w: %d entries, fewer than the checkpoint of size %d", ErrStoreMismatch, entries, cpSize)
	}
	front, err := loadFrontier(ctx, l.st, entries)
	if err != nil {
		return err
	}
	var last time.Time
	if entries > 0 {
		leaves, err := l.st.Leaves(ctx, entries-1, entries)
		if err != nil {
			return fmt.Errorf("reading entry %d: %w", entries-1, err)
		}
		if len(leaves) != 1 {
			return fmt.Errorf("reading entry %d: got %d leaves", entries-1, len(leaves))
		}
		e, err := ParseLeaf(leaves[0])
		if err != nil {
			return fmt.Errorf("entry %d: %w", entries-1, err)
		}
		last = e.Received()
	}
	s := &l.seq
	s.front = front
	s.hashCount = hashes
	s.lastReceived = last
	s.keys = l.newKeyCache()
	s.keyFloor = entries
	s.stale = false
	l.head.Store(&treeHead{size: entries, root: front.root()})
	return nil
}

// Append appends e, once Authorize accepts it, and returns its receipt once it is durable.
//
// If ctx ends while the entry waits for the sequencer, Append returns ctx's error and the
// entry may still be appended; use [Log.AppendWithKey] to resubmit safely.
func (l *Log) Append(ctx context.Context, e *Entry) (Receipt, error) {
	rs, err := l.appendBatch(ctx, []*Entry{e}, nil, false)
	if err != nil {
		return Receipt{}, err
	}
	return rs[0], nil
}

// AppendWithKey is Append with an idempotency key: if key was already used for the same
// entry (same signed content), the original receipt comes back with Duplicate set and
// nothing is appended; if it was used for another entry, the error wraps [ErrKeyConflict].
// Keys are global to the log, so callers that take keys from clients should prefix them
// with the submitter, as in "monitor-1/" + key.
func (l *Log) AppendWithKey(ctx context.Context, e *Entry, key string) (Receipt, error) {
	rs, err := l.appendBatch(ctx, []*Entry{e}, []string{key}, false)
	if err != nil {
		return Receipt{}, err
	}
	return rs[0], nil
}

// AppendBatch appends entries at consecutive indexes, in order, in one store transaction:
// all or none. keys is nil or holds one idempotency key per entry ("" for none), with the
// semantics of [Log.AppendWithKey]. A refused entry fails the whole call with an error
// naming its position. At most Options.MaxBatch entries, else [ErrTooLarge].
func (l *Log) AppendBatch(ctx context.Context, es []*Entry, keys []string) ([]Receipt, error) {
	return l.appendBatch(ctx, es, keys, true)
}

func (l *Log) appendBatch(ctx context.Context, es []*Entry, keys []string, batch bool) ([]Receipt, error) {
	where := func(i int) string {
		if batch {
			return fmt.Sprintf("appending entry %d of %d: ", i, len(es))
		}
		return ""
	}
	switch {
	case len(es) == 0:
		return nil, nil
	case keys != nil && len(keys) != len(es):
		return nil, fmt.Errorf("appending: %d keys for %d entries", len(keys), len(es))
	case len(es) > l.maxBatch:
		return nil, fmt.Errorf("appending: %w: %d entries in one batch, at most %d", ErrTooLarge, len(es), l.maxBatch)
	}
	r := &request{
		given:    es,
		prefixes: make([][]byte, len(es)),
		receipts: make([]Receipt, len(es)),
		done:     make(chan struct{}),
	}
	keyed := false
	for _, k := range keys {
		keyed = keyed || k != ""
	}
	if keyed {
		r.keys = keys
		r.digests = make([][sha256.Size]byte, len(es))
	}
	for i, e := range es {
		if e == nil || !e.ok {
			return nil, fmt.Errorf("%s%w", where(i), fieldErr("entry", ErrMalformed, "not built by NewEntry or ParseLeaf"))
		}
		if e.sig == nil {
			return nil, fmt.Errorf("%s%w", where(i), fieldErr("signature", ErrBadSignature, fmt.Sprintf("missing for identity %q", e.submitter)))
		}
	}
	// A batch is logged as a run whole or not at all: anything else goes in path form.
	var logged []*Entry
	if batch && wholeBatch(es) {
		logged = inRunForm(es)
	} else {
		logged = inPathForm(es)
	}
	for i, e := range logged {
		if err := l.authorize(e); err != nil {
			if batch {
				return nil, fmt.Errorf("%s%w", where(i), err)
			}
			return nil, err
		}
		if keyed && keys[i] != "" {
			if len(keys[i]) > MaxKeyLen {
				return nil, fmt.Errorf("%sidempotency key: %w: %d bytes, at most %d", where(i), ErrMalformed, len(keys[i]), MaxKeyLen)
			}
			r.digests[i] = e.submissionDigest()
		}
	}
	r.setForm(logged)
	// The sequencer checks the keys: against those it wrote lately, held in memory, and,
	// through the store's own check of keys (store.ErrDuplicateKey), against all others as it writes (see
	// commit). Looking each key up in the store here first cost a query per entry, a tenth of
	// the intake's CPU time, to find what is almost always absent.

	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return nil, ErrClosed
	}
	select {
	case l.queue <- r:
		l.mu.RUnlock()
	case <-ctx.Done():
		l.mu.RUnlock()
		return nil, ctx.Err()
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("appending (the entry may still be appended): %w", ctx.Err())
	}
	if r.err != nil {
		return nil, r.err
	}
	return r.receipts, nil
}

// setForm makes the request log es: their leaf prefixes, in one allocation.
func (r *request) setForm(es []*Entry) {
	r.entries = es
	size := 0
	for _, e := range es {
		// Room for the receipt time (at most 35 bytes) and the closing `"}`.
		size += e.leafSizeHint() + 40
	}
	buf := make([]byte, 0, size)
	for i, e := range es {
		start := len(buf)
		buf = e.appendPrefix(buf)
		end := start + e.leafSizeHint() + 40
		if len(buf) > end { // the hint fell short: give this prefix its own array
			r.prefixes[i] = append([]byte(nil), buf[start:]...)
			buf = buf[:start]
			continue
		}
		r.prefixes[i] = buf[start:len(buf):end]
		buf = buf[:end]
	}
}

// wholeBatch reports whether es is a whole signed batch of two or more entries, in order:
// entry i of a batch of len(es), all by one submitter under one signature. Appended
// together, such entries are logged in run form.
func wholeBatch(es []*Entry) bool {
	if len(es) < 2 || es[0].batch == nil {
		return false
	}
	first := es[0]
	for i, e := range es {
		if e.batch == nil || e.batch.Size != int64(len(es)) || e.batch.Index != int64(i) ||
			e.submitter != first.submitter || !bytes.Equal(e.sig, first.sig) {
			return false
		}
	}
	return true
}

// inPathForm returns es, or copies of them in path form: with their audit paths (computed
// from the batch's digests for a whole batch signed without them) and no batch root taken
// from a run (an entry a receipt carries has one). An entry whose path stays unknown keeps
// its run-form proof, which authorization refuses alone ([ErrRunOnly]).
func inPathForm(es []*Entry) []*Entry {
	if !slices.ContainsFunc(es, func(e *Entry) bool { return e.runRoot != nil || e.batch != nil && e.batch.Run }) {
		return es
	}
	copies := make([]Entry, len(es))
	proofs := make([]BatchProof, len(es))
	out := make([]*Entry, len(es))
	for i, e := range es {
		copies[i] = *e
		copies[i].runRoot = nil
		if e.batch != nil && e.batch.Run && e.batch.Path != nil {
			proofs[i] = *e.batch
			proofs[i].Run = false
			copies[i].batch = &proofs[i]
		}
		out[i] = &copies[i]
	}
	if wholeBatch(out) && out[0].batch.Path == nil {
		setBatchPaths(out)
	}
	return out
}

// inRunForm returns copies of es, a whole batch, in run form. They share the batch root,
// computed once from their digests, so that checking each entry's signature ([Verify])
// need not walk its audit path.
func inRunForm(es []*Entry) []*Entry {
	copies := make([]Entry, len(es))
	proofs := make([]BatchProof, len(es))
	digests := make([]tlog.Hash, len(es))
	out := make([]*Entry, len(es))
	for i, e := range es {
		proofs[i] = *e.batch
		proofs[i].Run = true
		copies[i] = *e
		copies[i].batch = &proofs[i]
		out[i] = &copies[i]
		digests[i] = e.Digest()
	}
	root := BatchTreeHash(digests)
	for i := range copies {
		copies[i].runRoot = &root
	}
	return out
}

func keyConflict(key string, index int64) error {
	return fmt.Errorf("idempotency key %q: %w (entry %d)", key, ErrKeyConflict, index)
}

// storedKey looks an idempotency key up in the store and returns the original receipt and
// the digest of the original submission.
func (l *Log) storedKey(ctx context.Context, key string) (keyRecord, bool, error) {
	idx, err := l.st.IndexOfKey(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return keyRecord{}, false, nil
	}
	if err != nil {
		return keyRecord{}, false, fmt.Errorf("looking up idempotency key %q: %w", key, err)
	}
	leaves, err := l.st.Leaves(ctx, idx, idx+1)
	if err != nil {
		return keyRecord{}, false, fmt.Errorf("reading entry %d of idempotency key %q: %w", idx, key, err)
	}
	if len(leaves) != 1 {
		return keyRecord{}, false, fmt.Errorf("reading entry %d of idempotency key %q: got %d leaves", idx, key, len(leaves))
	}
	e, err := ParseLeaf(leaves[0])
	if err != nil {
		return keyRecord{}, false, fmt.Errorf("entry %d of idempotency key %q: %w", idx, key, err)
	}
	return keyRecord{
		receipt: Receipt{Index: idx, LeafHash: e.LeafHash(), Received: e.Received(), Duplicate: true},
		digest:  e.submissionDigest(),
	}, true, nil
}

// Close stops accepting appends, waits for the sequencer to write every queued one, and
// returns. It does not close the store.
func (l *Log) Close() error {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.queue)
	}
	l.mu.Unlock()
	<-l.done
	return nil
}

// Size returns the number of durable entries.
func (l *Log) Size() int64 { return l.head.Load().size }

// Head returns the number of durable entries and the root hash of their tree.
func (l *Log) Head() (size int64, root tlog.Hash) {
	h := l.head.Load()
	return h.size, h.root
}

// Origin returns the log's origin line.
func (l *Log) Origin() string { return l.origin }
