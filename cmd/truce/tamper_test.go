package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"

	"github.com/truce-mission/truce/client"
	"github.com/truce-mission/truce/keys"
	"github.com/truce-mission/truce/ledger"
	"github.com/truce-mission/truce/store/sqlite"
)

// tamperedIndex is the entry whose stored leaf the tamper tests change.
const tamperedIndex = 7

// fillLog appends n signed notes to a running server and returns its checkpoint, written to
// a file in dir, as a party keeping it would.
func fillLog(t *testing.T, s *server, dir, text string, n int) string {
	t.Helper()
	k, err := keys.LoadPrivateKey("../../examples/keys/monitor-1.key")
	if err != nil {
		t.Fatal(err)
	}
	cl, _ := client.New(s.url)
	ctx := context.Background()
	for i := range n {
		e, err := client.SignedEntry(ledger.KindNote, "monitor-1", time.Now().UTC(), fmt.Appendf(nil, `{"n":%d,"text":%q}`, i, text), k)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cl.Append(ctx, e, ""); err != nil {
			t.Fatal(err)
		}
	}
	cp, err := cl.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(cp, fmt.Appendf(nil, "\n%d\n", n)) {
		t.Fatalf("checkpoint is not at size %d:\n%s", n, cp)
	}
	path := filepath.Join(dir, fmt.Sprintf("checkpoint-%d-%s.txt", n, strings.ReplaceAll(text, " ", "-")))
	if err := os.WriteFile(path, cp, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// flipByte changes one byte of the payload text in leaf: the JSON stays valid, so only the
// hash and the signature can tell.
func flipByte(t *testing.T, leaf []byte) []byte {
	t.Helper()
	i := bytes.Index(leaf, []byte("patrol"))
	if i < 0 {
		t.Fatalf("leaf has no payload text to change: %s", leaf)
	}
	out := bytes.Clone(leaf)
	out[i] = 'P'
	return out
}

// truceRun runs the built binary and returns its exit code and combined output.
func truceRun(t *testing.T, args ...string) (int, string) {
	t.Helper()
	bin, err := buildTruce()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	}
	t.Fatalf("truce %s: %v", strings.Join(args, " "), err)
	return 0, ""
}

func wantBadEntry(t *testing.T, code int, out string, index int) {
	t.Helper()
	if code != 1 {
		t.Fatalf("exit %d, want 1; output:\n%s", code, out)
	}
	if want := fmt.Sprintf("first bad entry %d:", index); !strings.Contains(out, want) {
		t.Fatalf("output does not name entry %d (%q):\n%s", index, want, out)
	}
}

// TestTamperSQLite changes one byte of one stored entry in the SQLite file, behind the
// server's back, and checks that both an exported archive and the store itself fail to
// verify, naming that entry; then that a log rewritten with the same key and size is caught
// against the checkpoint a party kept from the original.
func TestTamperSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("tamper test skipped in -short mode")
	}
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")
	s := startServer(t, "--data", data)
	kept := fillLog(t, s, tmp, "patrol report", 12)
	s.kill()

	const ag = "../../examples/line-of-contact.yaml"
	if code, out := truceRun(t, "log", "verify", "--data", data, "--agreement", ag, "--checkpoint", kept); code != 0 {
		t.Fatalf("the untouched log does not verify (exit %d):\n%s", code, out)
	}

	db, err := sql.Open("sqlite", filepath.Join(data, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	var leaf []byte
	if err := db.QueryRow("SELECT leaf FROM entries WHERE idx = ?", tamperedIndex).Scan(&leaf); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE entries SET leaf = ? WHERE idx = ?", flipByte(t, leaf), tamperedIndex); err != nil {
		t.Fatal(err)
	}
	db.Close()

	archive := filepath.Join(tmp, "log.archive")
	if code, out := truceRun(t, "log", "export", "--data", data, archive); code != 0 {
		t.Fatalf("export (exit %d):\n%s", code, out)
	}
	code, out := truceRun(t, "log", "verify", "--agreement", ag, "--checkpoint", kept, archive)
	wantBadEntry(t, code, out, tamperedIndex)
	code, out = truceRun(t, "log", "verify", "--data", data, "--agreement", ag)
	wantBadEntry(t, code, out, tamperedIndex)

	// A rewritten history: the same mission key signs another log of the same size. On its
	// own it verifies; against the checkpoint kept from the first log it does not.
	other := filepath.Join(tmp, "other")
	if err := os.MkdirAll(other, 0o700); err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(data, "log.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "log.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	s = startServer(t, "--data", other)
	fillLog(t, s, tmp, "patrol report rewritten", 12)
	s.kill()
	if code, out := truceRun(t, "log", "verify", "--data", other, "--agreement", ag); code != 0 {
		t.Fatalf("the rewritten log alone should verify (exit %d):\n%s", code, out)
	}
	code, out = truceRun(t, "log", "verify", "--data", other, "--agreement", ag, "--checkpoint", kept)
	if code != 1 || !strings.Contains(out, "rewritten") {
		t.Fatalf("a rewritten history was not caught against the kept checkpoint (exit %d):\n%s", code, out)
	}
}

// TestTamperPostgres changes one byte of one entry's row in PostgreSQL.
func TestTamperPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("tamper test skipped in -short mode")
	}
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		if os.Getenv("TRUCE_REQUIRE_DB") == "1" {
			t.Fatalf("PostgreSQL not reachable at 127.0.0.1:5432: %v", err)
		}
		t.Skipf("PostgreSQL not reachable at 127.0.0.1:5432: %v", err)
	}
	schema := fmt.Sprintf("truce_tamper_%d", rand.Uint32())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(context.Background())
	})
	tmp := t.TempDir()
	key := filepath.Join(tmp, "log.key")
	_, k, _ := ed25519.GenerateKey(nil)
	if err := os.WriteFile(key, keys.FormatPrivateKey("mission-log", k), 0o600); err != nil {
		t.Fatal(err)
	}
	url := pgURL + "&search_path=" + schema
	s := startServer(t, "--store", url, "--log-key", key)
	kept := fillLog(t, s, tmp, "patrol report", 12)
	cl, _ := client.New(s.url)
	vkey, err := cl.VerifierKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.kill()

	const ag = "../../examples/line-of-contact.yaml"
	args := []string{"log", "verify", "--store", url, "--verifier-key", vkey, "--agreement", ag, "--checkpoint", kept}
	if code, out := truceRun(t, args...); code != 0 {
		t.Fatalf("the untouched log does not verify (exit %d):\n%s", code, out)
	}
	var leaf []byte
	if err := conn.QueryRow(ctx, "SELECT leaf FROM "+schema+".entries WHERE idx = $1", tamperedIndex).Scan(&leaf); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "UPDATE "+schema+".entries SET leaf = $1 WHERE idx = $2", flipByte(t, leaf), tamperedIndex); err != nil {
		t.Fatal(err)
	}
	code, out := truceRun(t, args...)
	wantBadEntry(t, code, out, tamperedIndex)
}
