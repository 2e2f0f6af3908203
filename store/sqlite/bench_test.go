package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/truce-mission/truce/store/sqlite"
	"github.com/truce-mission/truce/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if big.dir != "" {
		os.RemoveAll(big.dir)
	}
	os.Exit(code)
}

// big is a store of bigSize entries, built once per test process by the first benchmark that
// needs it and removed when the process ends.
var big struct {
	once sync.Once
	dir  string
	err  error
	log  *storetest.Frontier // the log in the store, as appended
}

// bigSize is over a million entries and past the first complete block of leaf_index (2^20
// entries), so that the appends measured on it also merge that block, as at any larger size.
const bigSize = 1<<20 + 1<<16

func bigStore(b *testing.B) *sqlite.Store {
	b.Helper()
	big.once.Do(func() {
		if big.dir, big.err = os.MkdirTemp("", "truce-sqlite-bench-"); big.err != nil {
			return
		}
		s, err := sqlite.Open(big.dir)
		if err != nil {
			big.err = err
			return
		}
		defer s.Close()
		start := time.Now()
		if big.log, big.err = storetest.Fill(context.Background(), s, bigSize, 4096); big.err == nil {
			took := time.Since(start)
			fmt.Fprintf(os.Stderr, "built a sqlite store of %d entries in %v (%.0f entries/s in batches of 4096, hashing included)\n",
				bigSize, took.Round(time.Millisecond), bigSize/took.Seconds())
		}
	})
	if big.err != nil {
		b.Fatal(big.err)
	}
	start := time.Now()
	s, err := sqlite.Open(big.dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("opened a store of %d entries in %v", big.log.Size(), time.Since(start).Round(time.Millisecond))
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkAppend appends batches to a new store, and to the store of 1.1 million entries,
// where each append also merges a slice of the first block into leaf_index.
func BenchmarkAppend(b *testing.B) {
	for _, batch := range []int{256, 1024} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s, err := sqlite.Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			storetest.BenchAppend(b, s, nil, batch)
		})
	}
	b.Run("batch=1024,size=1.1M", func(b *testing.B) {
		s := bigStore(b)
		storetest.BenchAppend(b, s, big.log, 1024)
	})
}

func BenchmarkReadHashes(b *testing.B) {
	storetest.BenchReadHashes(b, bigStore(b))
}
