package sqlite_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/truce-mission/truce/store/sqlite"
	"github.com/truce-mission/truce/store/storetest"
)

// Appends far below the writer's autocheckpoint threshold still reach the database file: the
// background checkpointer copies them out of the WAL, off the writer's path.
func TestBackgroundCheckpoint(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	path := filepath.Join(dir, sqlite.FileName)
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	f, err := storetest.Fill(t.Context(), s, 5000, 500)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for size() == before {
		if time.Now().After(deadline) {
			t.Fatalf("database file still %d bytes 20 s after the appends: no checkpoint ran", before)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The store goes on appending and closes cleanly with the checkpointer running.
	if err := s.Append(t.Context(), f.Batch([][]byte{storetest.FillLeaf(f.Size())}, nil)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
