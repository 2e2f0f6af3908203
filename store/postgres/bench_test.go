package postgres_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/truce-mission/truce/store/internal/pgtest"
	"github.com/truce-mission/truce/store/postgres"
	"github.com/truce-mission/truce/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if big.drop != nil {
		if err := big.drop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
}

// big is a store of bigSize entries in a schema of its own, built once per test process by
// the first benchmark that needs it and dropped when the process ends.
var big struct {
	once sync.Once
	url  string
	drop func() error
	err  error
	log  *storetest.Frontier // the log in the store, as appended
}

const bigSize = 1_000_000

func bigStore(b *testing.B) *postgres.Store {
	b.Helper()
	big.once.Do(func() {
		if big.url, big.drop, big.err = pgtest.CreateSchema(); big.err != nil {
			return
		}
		ctx := context.Background()
		s, err := postgres.Open(ctx, big.url)
		if err != nil {
			big.err = err
			return
		}
		defer s.Close()
		start := time.Now()
		if big.log, big.err = storetest.Fill(ctx, s, bigSize, 4096); big.err == nil {
			took := time.Since(start)
			fmt.Fprintf(os.Stderr, "built a postgres store of %d entries in %v (%.0f entries/s in batches of 4096, hashing included)\n",
				bigSize, took.Round(time.Millisecond), bigSize/took.Seconds())
		}
	})
	if big.err != nil {
		pgtest.Unreachable(b, big.err)
	}
	start := time.Now()
	s := open(b, big.url)
	b.Logf("opened a store of %d entries in %v", big.log.Size(), time.Since(start).Round(time.Millisecond))
	return s
}

// BenchmarkAppend appends batches to a new store, and to the store of a million entries.
func BenchmarkAppend(b *testing.B) {
	for _, batch := range []int{256, 1024} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s := open(b, pgtest.Schema(b))
			defer s.Close()
			storetest.BenchAppend(b, s, nil, batch)
		})
	}
	b.Run("batch=1024,size=1M", func(b *testing.B) {
		s := bigStore(b)
		defer s.Close()
		storetest.BenchAppend(b, s, big.log, 1024)
	})
}

func BenchmarkReadHashes(b *testing.B) {
	s := bigStore(b)
	defer s.Close()
	storetest.BenchReadHashes(b, s)
}
