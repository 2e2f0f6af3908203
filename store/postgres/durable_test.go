package postgres

import (
	"testing"

	"github.com/truce-mission/truce/store/internal/pgtest"
)

// TestKeepsCommitsDurable opens a store over connections whose synchronous_commit is off: the
// store must turn it back on, or Append could return before its commit is flushed.
func TestKeepsCommitsDurable(t *testing.T) {
	url := pgtest.Schema(t) + "&synchronous_commit=off"
	s, err := Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 3 { // several connections of the pool
		var v string
		if err := s.pool.QueryRow(t.Context(), "SHOW synchronous_commit").Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v != "on" {
			t.Fatalf("synchronous_commit = %q, want on", v)
		}
	}
}
