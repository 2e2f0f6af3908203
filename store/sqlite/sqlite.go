// Package sqlite is the embedded [store.Store]: one SQLite file, dir/ledger.db, through the pure
// Go driver modernc.org/sqlite, with no server to run.
//
// # Durability
//
// The database runs in WAL mode with synchronous=FULL, so a commit fsyncs the write-ahead log
// before it returns: Append and PutCheckpoint return only once their transaction is durable, and
// a batch is one transaction (one fsync however many entries it holds). Group commit is the
// caller's job; the store makes each batch cheap to commit, with multi-row INSERT statements
// prepared once. Copying the WAL back into the database file (checkpointing) is done by a
// goroutine of the store on a connection of its own, off the writer's path (see
// [CheckpointInterval]).
//
// # Concurrency
//
// One writer connection takes Append and PutCheckpoint, each in a BEGIN IMMEDIATE transaction
// that also checks the log size, so a second process sharing the file cannot interleave (it
// waits up to [BusyTimeout] for the lock). A pool of read-only connections serves the reads;
// in WAL mode they see the last committed batch and never block the writer.
//
// # Consistency
//
// Open refuses a file whose tables do not describe a whole log: entries not numbered 0..n-1,
// stored hashes not numbered 0..h-1, or h not tlog.StoredHashCount(n). Appends write entries and
// hashes in one transaction, so such a torn tail means the file was changed outside truce or
// damaged; the error says so instead of repairing silently. The check counts rows, about half
// a second per million entries, less than replaying the log costs.
//
// # Lookups by leaf hash
//
// Leaf hashes are random, so a plain index on them turns every appended entry into a write to
// a page of its own once the index outgrows a batch: in version 1 of the schema appends fell
// from about 50,000 to 28,000 entries/s between an empty store and one of a million entries.
// Version 2 (migrations/0002_leaf_index.sql, leafindex.go) indexes the first 8 bytes of the
// leaf hash twice over:
//
//   - by epoch of 16,384 entries (entries_leaf_recent on (epoch, prefix); 65,536 in stores
//     created before migration 0004): appends only write to the newest epoch's few dozen
//     pages, whatever the size of the log;
//   - in leaf_index, sorted by prefix alone, for every complete block of 2^20 entries. Each
//     Append merges a slice of the last complete block's prefix range, in proportion to its
//     entry count, so the merge is spread over the appends and has no pause of its own.
//
// A lookup makes one search of leaf_index and one per epoch not yet merged (at most 128),
// comparing the whole hash of each candidate.
//
// # Idempotency keys
//
// Keys are looked up the same way, by the first 8 bytes of their SHA-256 (migration 0006,
// keyindex.go): a unique index on the keys themselves, random as submitters' ids are, made
// each key of a commit a write to an index page of its own (88,800 observations/s through the
// intake with ordered ids, 49,600 with random ones). Append keeps keys unique itself: a Bloom
// filter in memory of every stored key's prefix (about 1.8 MB per million keys, loaded at the
// first Append, 0.1% false positives per filter) clears almost every new key at once, and
// the key it may hold is looked up in the transaction.
//
// # Performance
//
// See BENCHMARKS.md (issue 3) for the figures and how they were measured. On a shared 2-core
// VM, appends through ledger.Log from 16 writers of batches of 256 ran at 66,000 entries/s
// into a new store and 73,000 into one of 1.1 million entries (with a block being merged), and
// an inclusion proof in a tree of ten million entries took 85 µs (median), 175 µs by leaf
// hash.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/truce-mission/truce/store"
	"github.com/truce-mission/truce/store/internal/validate"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// FileName is the database file Open creates in its directory.
const FileName = "ledger.db"

// BusyTimeout is how long a connection waits for a lock another connection or process holds
// before failing with SQLITE_BUSY.
const BusyTimeout = 5 * time.Second

// Store is a [store.Store] over one SQLite database file. It is safe for concurrent use.
type Store struct {
	path string
	w    *sql.DB // exactly one connection: Append and PutCheckpoint
	r    *sql.DB // read-only connections

	wSize          *sql.Stmt   // sizes and leaf_index_state
	insertEntries  []*sql.Stmt // [k] inserts 1<<k rows
	insertHashes   []*sql.Stmt // [k] inserts 1<<k rows
	mergeChunk     *sql.Stmt
	mergeKeyChunk  *sql.Stmt
	wKey           keyStmts // in Append's transaction
	updateMerge    *sql.Stmt
	putCheckpoint  *sql.Stmt
	rSize          *sql.Stmt
	rLeaves        *sql.Stmt
	rLeafHash      *sql.Stmt
	rKey           keyStmts
	rCheckpoint    *sql.Stmt
	rLatest        *sql.Stmt
	readHashesMu   sync.Mutex
	readHashesStmt map[int]*sql.Stmt // by number of indexes, up to readHashesChunk

	// The background checkpointer (see checkpointLoop): its connection, Append's nudge, and
	// the loop's stop and end.
	ckpt     *sql.DB
	ckptKick chan struct{}
	ckptStop chan struct{}
	ckptDone chan struct{}

	// appendMu serializes Append (it takes the one writer connection anyway), the only
	// writer of keys once preloadKeys has closed keysLoaded; keysMu guards keys against the
	// readers (IndexOfKey).
	appendMu   sync.Mutex
	keysMu     sync.RWMutex
	keys       keyFilter
	keysLoaded chan struct{}

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Writer settings, measured with BenchmarkAppend and larger logs (see the package's bench_test.go):
//   - synchronous(FULL): in WAL mode, every commit fsyncs the log (NORMAL would not).
//   - cache_size, in KiB when negative: 64 MiB hold the pages appends write (the newest epoch
//     of entries_leaf_recent, the tails of the tables) and the slice of leaf_index a merge
//     touches, at any size of the log.
//   - wal_autocheckpoint, in pages (set from [walAutocheckpointBytes] and the file's page
//     size): checkpoints every ~40 MB of WAL instead of SQLite's 4 MB. A page dirtied by
//     several commits (an epoch's index pages) is then copied back once; the WAL file stays
//     near 40 MB.
//   - temp_store(MEMORY): statement journals, if any, stay off the disk (see insertQuery).
const writerPragmas = "_txlock=immediate" +
	"&_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(FULL)" +
	"&_pragma=cache_size(-65536)" +
	"&_pragma=temp_store(MEMORY)"

// walAutocheckpointBytes is the WAL size at which the writer checkpoints, if the background
// checkpointer has fallen behind.
const walAutocheckpointBytes = 40 << 20

// PageSize is the page size of a database file Open creates. SQLite's default, 4 KiB, made
// the WAL of an intake commit (about a thousand leaves of ~500 bytes, and the index pages
// they touch) some 600 pages, each written with two pwrite calls: system calls were a tenth
// of the intake's CPU on these VMs, and 16 KiB pages took `truce bench ingest` from ~49,600
// to ~57,000 observations/s (BENCHMARKS.md). Larger pages gained little more, and each
// random read (a proof's hashes, an entry by index) reads a whole page. A file keeps the
// page size it was created with: stores made before keep 4 KiB pages.
const PageSize = 16 << 10

// Reader settings: query_only makes a stray write on a reader fail instead of taking the lock.
const readerPragmas = "_pragma=query_only(1)"

// Checkpointer settings: it copies the WAL into the database file and fsyncs it.
const checkpointerPragmas = "_pragma=synchronous(FULL)"

// CheckpointInterval is the least time between two background checkpoints.
//
// A checkpoint copies the pages committed to the WAL back into the database file and fsyncs
// it. Run by the writer (wal_autocheckpoint), it happens inside an Append, every ~40 MB of
// WAL, and holds that Append and every entry waiting behind it for as long as the copy takes:
// at intake rates, a stall of a few hundred milliseconds every few seconds, which is the
// tail latency of every receipt due meanwhile. So a goroutine of the store, on a connection
// of its own, runs a PASSIVE checkpoint (it never waits for the writer or readers) at most
// this often while appends come in, and the writer's own autocheckpoint only fires if that
// one falls behind. The work is the same; it leaves the writer's path, and runs on another
// core.
const CheckpointInterval = 200 * time.Millisecond

// Open opens the store in dir, creating the directory, the database file and its tables as
// needed, and applying the embedded migrations a file of an older version lacks.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("opening sqlite store: %w", err)
	}
	path := filepath.Join(dir, FileName)
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("opening sqlite store: path %q contains '?'", path)
	}
	s := &Store{path: path, readHashesStmt: make(map[int]*sql.Stmt), keys: newKeyFilter(firstFilterKeys)}
	if err := s.open(context.Background()); err != nil {
		s.Close()
		return nil, fmt.Errorf("opening sqlite store %s: %w", path, err)
	}
	return s, nil
}

func (s *Store) open(ctx context.Context) error {
	var err error
	busy := fmt.Sprintf("&_pragma=busy_timeout(%d)", BusyTimeout.Milliseconds())
	pageSize, err := createFile(ctx, s.path, busy)
	if err != nil {
		return err
	}
	autocheckpoint := fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)", max(1000, walAutocheckpointBytes/pageSize))
	if s.w, err = sql.Open("sqlite", s.path+"?"+writerPragmas+autocheckpoint+busy); err != nil {
		return err
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, not WAL (does the file system support shared memory?)", mode)
	}
	if err := migrate(ctx, s.w); err != nil {
		return err
	}
	if err := checkSizes(ctx, s.w); err != nil {
		return err
	}

	if s.r, err = sql.Open("sqlite", s.path+"?"+readerPragmas+busy); err != nil {
		return err
	}
	readers := max(4, 2*runtime.GOMAXPROCS(0))
	s.r.SetMaxOpenConns(readers)
	s.r.SetMaxIdleConns(readers)
	s.r.SetConnMaxLifetime(0)
	s.r.SetConnMaxIdleTime(0)
	if err := s.prepare(ctx); err != nil {
		return err
	}
	s.keysLoaded = make(chan struct{})
	go s.preloadKeys()

	if s.ckpt, err = sql.Open("sqlite", s.path+"?"+checkpointerPragmas+busy); err != nil {
		return err
	}
	s.ckpt.SetMaxOpenConns(1)
	s.ckpt.SetMaxIdleConns(1)
	s.ckpt.SetConnMaxLifetime(0)
	s.ckpt.SetConnMaxIdleTime(0)
	s.ckptKick = make(chan struct{}, 1)
	s.ckptStop = make(chan struct{})
	s.ckptDone = make(chan struct{})
	go s.checkpointLoop()
	return nil
}

// createFile gives a database file that holds nothing yet (new, or empty) [PageSize] pages
// and WAL mode, and returns the file's page size. It runs before the store's connections
// open: the driver applies a DSN's pragmas in alphabetical order, so journal_mode(WAL) would
// come first and fix the page size at SQLite's default.
func createFile(ctx context.Context, path, busy string) (int64, error) {
	db, err := sql.Open("sqlite", path+"?"+strings.TrimPrefix(busy, "&"))
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var pages, size int64
	if err := db.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		return 0, err
	}
	if pages == 0 {
		if _, err := db.ExecContext(ctx, fmt.Sprintf("PRAGMA page_size = %d; PRAGMA journal_mode = WAL", PageSize)); err != nil {
			return 0, fmt.Errorf("creating the database: %w", err)
		}
	}
	if err := db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&size); err != nil {
		return 0, err
	}
	if size <= 0 {
		return 0, fmt.Errorf("page size %d", size)
	}
	return size, db.Close()
}

// checkpointLoop runs a PASSIVE checkpoint after Append nudges it, at most once per
// CheckpointInterval, until Close. A failed or partial checkpoint is harmless: the next one
// goes on from there, and the writer's autocheckpoint stays the backstop.
func (s *Store) checkpointLoop() {
	defer close(s.ckptDone)
	for {
		select {
		case <-s.ckptStop:
			return
		case <-s.ckptKick:
		}
		var busy, walFrames, copied int64
		_ = s.ckpt.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &walFrames, &copied)
		t := time.NewTimer(CheckpointInterval)
		select {
		case <-s.ckptStop:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// kickCheckpoint nudges the background checkpointer after a commit.
func (s *Store) kickCheckpoint() {
	select {
	case s.ckptKick <- struct{}{}:
	default:
	}
}

// sizeQuery reads both sizes in one statement, hence from one snapshot. Open has checked that
// indexes are dense, so the highest index plus one is the count (and costs one B-tree descent).
const sizeQuery = `SELECT (SELECT coalesce(max(idx) + 1, 0) FROM entries),
	(SELECT coalesce(max(idx) + 1, 0) FROM hashes)`

// appendStateQuery is sizeQuery and how far leaf_index is merged, for Append.
const appendStateQuery = `SELECT (SELECT coalesce(max(idx) + 1, 0) FROM entries),
	(SELECT coalesce(max(idx) + 1, 0) FROM hashes), epoch_bits, block_bits, blocks, cursor FROM leaf_index_state`

// Rows per multi-row INSERT, at most: 5 and 2 parameters a row stay well under SQLite's limit
// of 32766 parameters a statement. Chunks of 64, 256 and 1024 entries measured alike (within
// the noise of a shared machine): binding and B-tree work, not statement count, is the cost.
const (
	maxEntryRows = 256
	maxHashRows  = 512
)

func (s *Store) prepare(ctx context.Context) error {
	var err error
	prep := func(db *sql.DB, query string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = db.PrepareContext(ctx, query)
		return st
	}
	s.wSize = prep(s.w, appendStateQuery)
	for n := 1; n <= maxEntryRows; n *= 2 {
		s.insertEntries = append(s.insertEntries, prep(s.w, insertQuery("entries (idx, leaf, leaf_hash, key, epoch, prefix, key_prefix)", 7, n)))
	}
	for n := 1; n <= maxHashRows; n *= 2 {
		s.insertHashes = append(s.insertHashes, prep(s.w, insertQuery("hashes (idx, hash)", 2, n)))
	}
	s.mergeChunk = prep(s.w, mergeChunkQuery)
	s.mergeKeyChunk = prep(s.w, mergeKeyChunkQuery)
	s.wKey = keyStmts{prep(s.w, keyQuery), prep(s.w, keyProbeQuery)}
	s.updateMerge = prep(s.w, updateMergeQuery)
	s.putCheckpoint = prep(s.w, "INSERT INTO checkpoints (size, note) VALUES (?, ?) ON CONFLICT (size) DO NOTHING")
	s.rSize = prep(s.r, sizeQuery)
	s.rLeaves = prep(s.r, "SELECT leaf FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx")
	s.rLeafHash = prep(s.r, leafHashQuery)
	s.rKey = keyStmts{prep(s.r, keyQuery), prep(s.r, keyProbeQuery)}
	s.rCheckpoint = prep(s.r, "SELECT note FROM checkpoints WHERE size = ?")
	s.rLatest = prep(s.r, "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1")
	return err
}

// insertQuery returns "INSERT OR ROLLBACK INTO table VALUES (?, ?), (?, ?)..." for rows rows of
// cols values. OR ROLLBACK: a constraint violation ends the whole transaction, which is what
// Append wants (the batch is atomic), and it spares SQLite the statement journal it otherwise
// keeps to undo one failed multi-row statement: a copy of every page the statement touches,
// a fifth of Append's time when measured. (An index on an expression brings the statement
// journal back whatever the conflict clause: hence entries.prefix, migration 0005.)
func insertQuery(table string, cols, rows int) string {
	row := "(?" + strings.Repeat(", ?", cols-1) + ")"
	return "INSERT OR ROLLBACK INTO " + table + " VALUES " + row + strings.Repeat(", "+row, rows-1)
}

// Close closes the database. Closing twice is harmless.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.ckptStop != nil {
			close(s.ckptStop)
			<-s.ckptDone
		}
		if s.keysLoaded != nil {
			<-s.keysLoaded
		}
		var errs []error
		// The writer last: closing the last connection checkpoints the WAL into the file.
		for _, db := range []*sql.DB{s.r, s.ckpt, s.w} { // closing a DB closes its statements
			if db != nil {
				errs = append(errs, db.Close())
			}
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// checkSizes refuses a database whose tables do not hold a whole log.
func checkSizes(ctx context.Context, db *sql.DB) error {
	var n, nMin, nEnd, h, hMin, hEnd int64
	err := db.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM entries), (SELECT coalesce(min(idx), 0) FROM entries), (SELECT coalesce(max(idx) + 1, 0) FROM entries),
		(SELECT count(*) FROM hashes), (SELECT coalesce(min(idx), 0) FROM hashes), (SELECT coalesce(max(idx) + 1, 0) FROM hashes)`).
		Scan(&n, &nMin, &nEnd, &h, &hMin, &hEnd)
	if err != nil {
		return fmt.Errorf("checking sizes: %w", err)
	}
	return validate.Sizes(n, nMin, nEnd, h, hMin, hEnd)
}
