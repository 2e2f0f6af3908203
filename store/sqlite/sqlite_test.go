package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/truce-mission/truce/store"
	"github.com/truce-mission/truce/store/sqlite"
	"github.com/truce-mission/truce/store/storetest"
)

func open(t testing.TB, dir string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.PerTest(
		func(t *testing.T) string { return t.TempDir() },
		func(t *testing.T, dir string) store.Store { return open(t, dir) }))
}

// TestTwoProcesses runs two stores over one file, as two processes would: appends at the same
// position race, one wins and the other gets ErrConflict.
func TestTwoProcesses(t *testing.T) {
	dir := t.TempDir()
	a, b := open(t, dir), open(t, dir)
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
		{"newer schema", "INSERT INTO schema_version (version) VALUES (99)", "schema version 99 is newer than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir)
			if _, err := storetest.Fill(t.Context(), s, 10, 4); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			db, err := sql.Open("sqlite", filepath.Join(dir, sqlite.FileName))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(tc.damage); err != nil {
				t.Fatal(err)
			}
			db.Close()
			s, err = sqlite.Open(dir)
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

// TestOpenCreatesDir opens a store in a directory that does not exist yet.
func TestOpenCreatesDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "ledger")
	s := open(t, dir)
	defer s.Close()
	if n, h, err := s.Size(t.Context()); err != nil || n != 0 || h != 0 {
		t.Fatalf("Size of a new store = %d, %d, %v", n, h, err)
	}
}
