package ledger_test

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/truce-mission/truce/ledger"
	"github.com/truce-mission/truce/store"
	"github.com/truce-mission/truce/store/postgres"
	"github.com/truce-mission/truce/store/sqlite"
	"github.com/truce-mission/truce/store/storetest"
)

// Benchmarks on large stores build them first, which takes minutes, so they run only when
// asked: TRUCE_BENCH_1M=1 for the appends to stores of 1.1 million entries, TRUCE_BENCH_10M=1
// for the proofs in a tree of ten million. A large store is built once per test process, under
// os.TempDir() (a 10M SQLite store is about 5 GB), and removed when the process ends.
//
//	TRUCE_BENCH_1M=1 go test -run XXX -bench 'Append(SQLite|Postgres)' -count 6 ./ledger/
//	TRUCE_BENCH_10M=1 go test -run XXX -bench InclusionProof10M -count 6 -timeout 60m ./ledger/

// pgServer is the test PostgreSQL server of store/internal/pgtest (which ledger cannot
// import): trust authentication, user postgres, database test.
const pgServer = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable&connect_timeout=5"

// cleanups run when the test process ends: they remove the large stores.
var (
	cleanupMu sync.Mutex
	cleanups  []func()
)

func TestMain(m *testing.M) {
	code := m.Run()
	cleanupMu.Lock()
	for _, f := range slices.Backward(cleanups) {
		f()
	}
	cleanupMu.Unlock()
	os.Exit(code)
}

func atExit(f func()) {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	cleanups = append(cleanups, f)
}

// benchEntries returns n distinct signed observations of 200-byte payloads.
func benchEntries(b *testing.B, n int) []*ledger.Entry {
	b.Helper()
	ids := []string{"monitor-1", "monitor-2", "uav-gs-1", "ais-rx-1"}
	es := make([]*ledger.Entry, n)
	for i := range es {
		head := fmt.Sprintf(`{"n":%d,"pad":"`, i)
		payload := head + strings.Repeat("x", 200-len(head)-2) + `"}`
		id := ids[i%len(ids)]
		e, err := ledger.NewEntry(ledger.KindObservation, id, baseTime.Add(time.Duration(i)*time.Millisecond), []byte(payload))
		if err != nil {
			b.Fatal(err)
		}
		if err := ledger.Sign(e, demoKey(b, id)); err != nil {
			b.Fatal(err)
		}
		es[i] = e
	}
	return es
}

// benchBatchSignedEntries is benchEntries signed in batches of size consecutive entries, each
// batch by one submitter with one signature, as sensors and the intake sign.
func benchBatchSignedEntries(b *testing.B, n, size int) []*ledger.Entry {
	b.Helper()
	ids := []string{"monitor-1", "monitor-2", "uav-gs-1", "ais-rx-1"}
	es := make([]*ledger.Entry, n)
	for start := 0; start < n; start += size {
		id := ids[(start/size)%len(ids)]
		for i := start; i < min(n, start+size); i++ {
			head := fmt.Sprintf(`{"n":%d,"pad":"`, i)
			payload := head + strings.Repeat("x", 200-len(head)-2) + `"}`
			e, err := ledger.NewEntry(ledger.KindObservation, id, baseTime.Add(time.Duration(i)*time.Millisecond), []byte(payload))
			if err != nil {
				b.Fatal(err)
			}
			es[i] = e
		}
		if err := ledger.SignBatch(es[start:min(n, start+size)], demoKey(b, id)); err != nil {
			b.Fatal(err)
		}
	}
	return es
}

// realLeaf returns the leaf bytes of one entry as a Log writes them, for the end of a store
// filled by storetest.Fill: ledger.Open parses the last entry of the store it opens.
func realLeaf(b *testing.B) []byte {
	b.Helper()
	l := openLog(b, newMemStore(), nil)
	defer l.Close()
	ctx := context.Background()
	if _, err := l.Append(ctx, signed(b, "monitor-1", 0)); err != nil {
		b.Fatal(err)
	}
	leaves, err := l.Entries(ctx, 0, 1)
	if err != nil {
		b.Fatal(err)
	}
	return leaves[0]
}

// fill fills the empty store st with n entries: n-1 by storetest.Fill (leaves of
// storetest.LeafSize bytes, storetest.FillLeaf), then one entry written by a Log.
func fill(b *testing.B, st store.Store, n int64) {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	f, err := storetest.Fill(ctx, st, n-1, 4096)
	if err != nil {
		b.Fatal(err)
	}
	bt := f.Batch([][]byte{realLeaf(b)}, nil)
	if err := st.Append(ctx, bt); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	fmt.Fprintf(os.Stderr, "built a %T of %d entries in %v (%.0f entries/s in batches of 4096, hashing included)\n",
		st, n, took.Round(time.Millisecond), float64(n)/took.Seconds())
}

// bigSQLite returns the directory of a SQLite store of n entries, built once per process
// and size.
var bigSQLite = sync.OnceValues(func() (map[int64]string, *sync.Mutex) { return map[int64]string{}, new(sync.Mutex) })

func sqliteStoreOf(b *testing.B, n int64) *sqlite.Store {
	b.Helper()
	dirs, mu := bigSQLite()
	mu.Lock()
	dir, ok := dirs[n]
	if !ok {
		var err error
		if dir, err = os.MkdirTemp("", fmt.Sprintf("truce-ledger-bench-%d-", n)); err != nil {
			mu.Unlock()
			b.Fatal(err)
		}
		atExit(func() { os.RemoveAll(dir) })
		st, err := sqlite.Open(dir)
		if err != nil {
			mu.Unlock()
			b.Fatal(err)
		}
		fill(b, st, n)
		st.Close()
		dirs[n] = dir
	}
	mu.Unlock()
	st, err := sqlite.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// pgSchema creates a schema of its own on the test server and returns the URL of a store in
// it; the schema is dropped when the test process ends. Without a server the benchmark
// skips, unless TRUCE_REQUIRE_DB=1.
func pgSchema(b *testing.B) string {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgServer)
	if err != nil {
		if os.Getenv("TRUCE_REQUIRE_DB") == "1" {
			b.Fatal(err)
		}
		b.Skipf("PostgreSQL not reachable at 127.0.0.1:5432: %v", err)
	}
	defer conn.Close(ctx)
	var r [8]byte
	crand.Read(r[:])
	schema := "truce_bench_" + hex.EncodeToString(r[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		b.Fatal(err)
	}
	atExit(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if conn, err := pgx.Connect(ctx, pgServer); err == nil {
			conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			conn.Close(ctx)
		}
	})
	return pgServer + "&search_path=" + schema
}

var bigPostgres = sync.OnceValues(func() (map[int64]string, *sync.Mutex) { return map[int64]string{}, new(sync.Mutex) })

func postgresStoreOf(b *testing.B, n int64) *postgres.Store {
	b.Helper()
	ctx := context.Background()
	var url string
	if n == 0 {
		url = pgSchema(b)
	} else {
		urls, mu := bigPostgres()
		mu.Lock()
		var ok bool
		if url, ok = urls[n]; !ok {
			url = pgSchema(b)
			st, err := postgres.Open(ctx, url)
			if err != nil {
				mu.Unlock()
				b.Fatal(err)
			}
			fill(b, st, n)
			st.Close()
			urls[n] = url
		}
		mu.Unlock()
	}
	st, err := postgres.Open(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// bigAppendSize is the size of the large store the append benchmarks start from: over a
// million entries, and past the first complete block of the SQLite store's leaf_index (2^20
// entries), so that appends also merge that block, as they do at any larger size.
const bigAppendSize = 1<<20 + 1<<16

// sizes are the store sizes the append benchmarks start from; the large one only with
// TRUCE_BENCH_1M=1.
func sizes(b *testing.B, run func(b *testing.B, size int64)) {
	for _, size := range []int64{0, bigAppendSize} {
		name := "size=0"
		if size > 0 {
			name = fmt.Sprintf("size=%.1fM", float64(size)/1e6)
		}
		b.Run(name, func(b *testing.B) {
			if size > 0 && os.Getenv("TRUCE_BENCH_1M") != "1" {
				b.Skip("set TRUCE_BENCH_1M=1 to build a store of a million entries first")
			}
			run(b, size)
		})
	}
}

// BenchmarkAppendSQLite measures durable appends (SQLite in WAL mode, synchronous=FULL: one
// fsync per store transaction) from 16 concurrent writers of 200-byte payloads, in entries
// per second, into a new store and into one of 1.1 million entries.
func BenchmarkAppendSQLite(b *testing.B) {
	sizes(b, func(b *testing.B, size int64) {
		benchAppend(b, func(b *testing.B) store.Store {
			if size == 0 {
				st, err := sqlite.Open(b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { st.Close() })
				return st
			}
			return sqliteStoreOf(b, size)
		})
	})
}

// BenchmarkAppendPostgres is BenchmarkAppendSQLite on PostgreSQL (synchronous_commit on: a
// commit returns once its WAL is flushed).
func BenchmarkAppendPostgres(b *testing.B) {
	sizes(b, func(b *testing.B, size int64) {
		benchAppend(b, func(b *testing.B) store.Store { return postgresStoreOf(b, size) })
	})
}

// benchAppend runs 16 concurrent writers on a Log over the store open returns.
// authorize=agreement checks every entry's identity and ed25519 signature, as the server
// does; authorize=none skips that to show the sequencer and store alone. batch=1 writers call
// Append (one entry in flight each); batch=64 and 256 writers call AppendBatch.
// authorize=batchsig is authorize=agreement on entries signed 256 to a signature (each
// writer's entries are one signed batch), which the intake does: one ed25519 check per
// batch instead of one per entry.
func benchAppend(b *testing.B, open func(b *testing.B) store.Store) {
	const writers = 16
	single := benchEntries(b, 4096)
	batched := benchBatchSignedEntries(b, 4096, 4096/writers)
	noop := func(*ledger.Entry) error { return nil }
	for _, auth := range []string{"agreement", "batchsig", "none"} {
		for _, batch := range []int{1, 64, 256} {
			es := single
			if auth == "batchsig" {
				if batch == 1 {
					continue
				}
				es = batched
			}
			b.Run(fmt.Sprintf("authorize=%s/batch=%d", auth, batch), func(b *testing.B) {
				spy := &spyStore{Store: open(b)}
				l := openLog(b, spy, func(o *ledger.Options) {
					if auth == "none" {
						o.Authorize = noop
					}
				})
				perWriter := 4096 / writers // entries each writer appends per iteration
				ctx := context.Background()
				total := 0
				for b.Loop() {
					var wg sync.WaitGroup
					for w := range writers {
						mine := es[w*perWriter : (w+1)*perWriter]
						wg.Go(func() {
							for i := 0; i < len(mine); i += batch {
								var err error
								if batch == 1 {
									_, err = l.Append(ctx, mine[i])
								} else {
									_, err = l.AppendBatch(ctx, mine[i:i+batch], nil)
								}
								if err != nil {
									b.Error(err)
									return
								}
							}
						})
					}
					wg.Wait()
					total += writers * perWriter
				}
				b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "entries/s")
				b.ReportMetric(float64(spy.entries.Load())/float64(spy.appends.Load()), "entries/txn")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

// BenchmarkInclusionProof measures inclusion proofs of random entries in a tree of 2^18
// entries in SQLite: one ReadHashes of about 18 hashes each.
func BenchmarkInclusionProof(b *testing.B) {
	const size = 1 << 18
	st, err := sqlite.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	l := openLog(b, st, func(o *ledger.Options) { o.Authorize = func(*ledger.Entry) error { return nil } })
	es := benchEntries(b, 4096)
	ctx := context.Background()
	start := time.Now()
	for l.Size() < size {
		if _, err := l.AppendBatch(ctx, es, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("built a tree of %d entries in %v", l.Size(), time.Since(start).Round(time.Millisecond))
	rng := rand.New(rand.NewPCG(1, 2))
	for b.Loop() {
		idx := rng.Int64N(size)
		p, err := l.InclusionProof(ctx, idx, size)
		if err != nil || len(p) != 18 {
			b.Fatalf("proof of %d: %d hashes, %v", idx, len(p), err)
		}
	}
}

// BenchmarkInclusionProof10M measures, in a SQLite store of 10,000,000 entries, an inclusion
// proof of a random entry by index (one ReadHashes of 24 hashes) and by leaf hash (a lookup,
// then the same proof), through a Log, as the API serves them. Each op is one proof of a new
// random entry, so the median over -count runs is a median over many random entries. Only
// with TRUCE_BENCH_10M=1: building the store takes minutes and about 5 GB under os.TempDir().
func BenchmarkInclusionProof10M(b *testing.B) {
	if os.Getenv("TRUCE_BENCH_10M") != "1" {
		b.Skip("set TRUCE_BENCH_10M=1 to build a store of ten million entries first")
	}
	const size = 10_000_000
	st := sqliteStoreOf(b, size)
	l := openLog(b, st, func(o *ledger.Options) { o.Authorize = func(*ledger.Entry) error { return nil } })
	if l.Size() != size {
		b.Fatalf("the store holds %d entries, want %d", l.Size(), size)
	}
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	b.Run("by=index", func(b *testing.B) {
		var lat latencies
		for b.Loop() {
			idx := rng.Int64N(size)
			start := time.Now()
			p, err := l.InclusionProof(ctx, idx, size)
			lat = append(lat, time.Since(start))
			if err != nil || len(p) == 0 {
				b.Fatalf("proof of %d: %d hashes, %v", idx, len(p), err)
			}
		}
		lat.report(b)
	})
	b.Run("by=leafhash", func(b *testing.B) {
		var lat latencies
		for b.Loop() {
			b.StopTimer()
			want := rng.Int64N(size - 1) // the last entry is not a FillLeaf
			h := tlog.RecordHash(storetest.FillLeaf(want))
			b.StartTimer()
			start := time.Now()
			idx, p, err := l.InclusionProofByHash(ctx, h, size)
			lat = append(lat, time.Since(start))
			if err != nil || idx != want || len(p) == 0 {
				b.Fatalf("proof of leaf %d: index %d, %d hashes, %v", want, idx, len(p), err)
			}
		}
		lat.report(b)
	})
}

// latencies are the times of single operations, reported as their median and 99th percentile
// (ns/op is their mean).
type latencies []time.Duration

func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	slices.Sort(l)
	b.ReportMetric(float64(l[len(l)/2].Microseconds()), "µs-p50")
	b.ReportMetric(float64(l[len(l)*99/100].Microseconds()), "µs-p99")
}
