package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/truce-mission/truce/store"
	"github.com/truce-mission/truce/store/internal/pgtest"
	"github.com/truce-mission/truce/store/postgres"
	"github.com/truce-mission/truce/store/storetest"
)

func open(t testing.TB, url string) *postgres.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	pgtest.Require(t) // one skip, not one per subtest
	storetest.Run(t, storetest.PerTest(
		func(t *testing.T) string { return pgtest.Schema(t) },
		func(t *testing.T, url string) store.Store { return open(t, url) }))
}

// TestTwoNodes runs two stores over one schema, as two API nodes would: appends at the same
// position race, one wins and the other gets ErrConflict.
func TestTwoNodes(t *testing.T) {
	url := pgtest.Schema(t)
	a, b := open(t, url), open(t, url)
	defer a.Close()
	defer b.Close()
	storetest.RunTwoWriters(t, a, b)
}

// TestOpenRefusesDamage damages a stored log behind the store's back: Open must refuse it and
// say why.
func TestOpenRefusesDamage(t *testing.T) {
	tests := []struct {
		name   string
		damage string
		want   string
	}{
		// 10 entries have 18 stored hashes; 9 have 16.
		{"last hash deleted", "DELETE FROM hashes WHERE idx = 17", "torn tail: 10 entries need 18 stored hashes, found 17"},
		{"last entry deleted", "DELETE FROM entries WHERE idx = 9", "torn tail: 9 entries need 16 stored hashes, found 18"},
		{"entry in the middle deleted", "DELETE FROM entries WHERE idx = 3", "entries are not numbered 0 to 8 without gaps"},
		{"hash in the middle deleted", "DELETE FROM hashes WHERE idx = 2", "stored hashes are not numbered 0 to 16 without gaps"},
		{"size moved", "UPDATE log_size SET entries = 11", "log_size says 11 entries"},
		{"size row deleted", "DELETE FROM log_size", "log_size has no row"},
		{"newer schema", "INSERT INTO schema_version (version) VALUES (99)", "has version 99, newer than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url := pgtest.Schema(t)
			s := open(t, url)
			if _, err := storetest.Fill(t.Context(), s, 10, 4); err != nil {
				t.Fatal(err)
			}
			s.Close()
			pgtest.Exec(t, url, tc.damage)
			s, err := postgres.Open(t.Context(), url)
			if err == nil {
				s.Close()
				t.Fatalf("Open succeeded after %q", tc.damage)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open after %q: %v; want an error containing %q", tc.damage, err, tc.want)
			}
		})
	}
}

// TestOpenTwice opens one schema from several goroutines at once, as API nodes starting
// together would: the tables are created once.
func TestOpenTwice(t *testing.T) {
	url := pgtest.Schema(t)
	errs := make(chan error, 4)
	for range cap(errs) {
		go func() {
			s, err := postgres.Open(t.Context(), url)
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestOpenWithoutSchema(t *testing.T) {
	url := pgtest.Schema(t)
	url = url[:strings.LastIndex(url, "=")+1] + "truce_no_such_schema"
	_, err := postgres.Open(t.Context(), url)
	if err == nil || !strings.Contains(err.Error(), "no current schema") {
		t.Fatalf("Open with a search_path naming no schema: %v", err)
	}
	if errors.Is(err, store.ErrNotFound) {
		t.Fatal("a missing schema is not a missing entry")
	}
}
