package sqlite

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// TestSettings checks what durability and the read/write split rest on.
func TestSettings(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	for _, tc := range []struct {
		db     *sql.DB
		pragma string
		want   string
	}{
		{s.w, "journal_mode", "wal"},
		{s.w, "synchronous", "2"}, // FULL: every commit fsyncs the WAL
		{s.w, "busy_timeout", "5000"},
		{s.w, "wal_autocheckpoint", "2560"}, // 40 MiB of 16 KiB pages
		{s.w, "page_size", "16384"},
		{s.r, "page_size", "16384"},
		{s.r, "query_only", "1"},
		{s.r, "busy_timeout", "5000"},
	} {
		var got string
		if err := tc.db.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("PRAGMA %s = %s, want %s", tc.pragma, got, tc.want)
		}
	}
	if _, err := s.r.ExecContext(ctx, "DELETE FROM entries"); err == nil {
		t.Error("a reader connection could write")
	}
}

// TestQueryPlans checks that lookups use the indexes, not a scan of the log.
func TestQueryPlans(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h := []byte("0123456789abcdef0123456789abcdef")
	for _, tc := range []struct {
		query string
		args  []any
		want  []string
	}{
		{leafHashQuery, []any{h}, []string{
			"SEARCH l USING PRIMARY KEY (prefix=?)",
			"SEARCH e USING INDEX entries_leaf_recent (epoch=? AND prefix=?)",
		}},
		{mergeChunkQuery, []any{0, 15, h[:8], h[8:16]}, []string{
			"SEARCH e USING COVERING INDEX entries_leaf_recent (epoch=? AND prefix>? AND prefix<?)",
		}},
		{keyQuery, []any{"k", h[:8]}, []string{
			"SEARCH k USING PRIMARY KEY (prefix=?)",
			"SEARCH e USING INDEX entries_key_recent (epoch=? AND key_prefix=?)",
		}},
		{mergeKeyChunkQuery, []any{0, 15, h[:8], h[8:16]}, []string{
			"SEARCH e USING COVERING INDEX entries_key_recent (epoch=? AND key_prefix>? AND key_prefix<?)",
		}},
		{"SELECT leaf FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx", []any{1, 2}, []string{"USING INTEGER PRIMARY KEY"}},
		{"SELECT idx, hash FROM hashes WHERE idx IN (?, ?)", []any{1, 2}, []string{"USING INTEGER PRIMARY KEY"}},
	} {
		rows, err := s.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+tc.query, tc.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		for _, want := range tc.want {
			if p := strings.Join(plan, "; "); !strings.Contains(p, want) {
				t.Errorf("plan of %q: %s; want %s", tc.query, p, want)
			}
		}
	}
}

// TestOlderPageSize opens a file made with SQLite's default 4 KiB pages, as stores were
// before PageSize: it keeps them, and the autocheckpoint is still about 40 MiB of WAL.
func TestOlderPageSize(t *testing.T) {
	dir := t.TempDir()
	db, err := sql.Open("sqlite", filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; CREATE TABLE made_before (x)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for pragma, want := range map[string]string{"page_size": "4096", "wal_autocheckpoint": "10240"} {
		var got string
		if err := s.w.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
}
