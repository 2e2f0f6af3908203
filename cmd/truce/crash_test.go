package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/truce-mission/truce/client"
	"github.com/truce-mission/truce/keys"
	"github.com/truce-mission/truce/ledger"
)

// crashCycles is how many times each crash test kills the server mid-stream.
const crashCycles = 20

const pgURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// buildTruce builds the binary once per test run, as a user would run it.
var buildTruce = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "truce-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "truce")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// server is one `truce serve` process.
type server struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
}

func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	bin, err := buildTruce()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var logs bytes.Buffer
	cmd := exec.Command(bin, append([]string{"serve", "--agreement", "../../examples/line-of-contact.yaml", "--addr", addr}, args...)...)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, url: "http://" + addr, logs: &logs}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			return s
		}
		if time.Now().After(deadline) {
			s.kill()
			t.Fatalf("server did not come up: %v\n%s", err, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *server) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_ = s.cmd.Wait()
}

type receipt struct {
	index int64
	hash  string
}

// TestCrashSQLite and TestCrashPostgres stream appends from several clients into a real
// `truce serve`, SIGKILL it mid-stream, restart it, and check that every entry that got a
// receipt is there, unchanged, and that the whole log still verifies against a new checkpoint.
func TestCrashSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	dir := t.TempDir()
	crashTest(t, "--data", dir)
}

func TestCrashPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		if os.Getenv("TRUCE_REQUIRE_DB") == "1" {
			t.Fatalf("PostgreSQL not reachable at 127.0.0.1:5432: %v", err)
		}
		t.Skipf("PostgreSQL not reachable at 127.0.0.1:5432: %v", err)
	}
	schema := fmt.Sprintf("truce_crash_%d", rand.Uint32())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(context.Background())
	})
	key := filepath.Join(t.TempDir(), "log.key")
	_, k, _ := ed25519.GenerateKey(nil)
	if err := os.WriteFile(key, keys.FormatPrivateKey("mission-log", k), 0o600); err != nil {
		t.Fatal(err)
	}
	crashTest(t, "--store", pgURL+"&search_path="+schema, "--log-key", key)
}

func crashTest(t *testing.T, storeArgs ...string) {
	signers := map[string]ed25519.PrivateKey{}
	for _, id := range []string{"monitor-1", "monitor-2", "uav-gs-1", "east-liaison"} {
		k, err := keys.LoadPrivateKey("../../examples/keys/" + id + ".key")
		if err != nil {
			t.Fatal(err)
		}
		signers[id] = k
	}
	var receipts []receipt
	rng := rand.New(rand.NewPCG(1, 2))
	for cycle := range crashCycles {
		s := startServer(t, storeArgs...)
		cl, err := client.New(s.url, readerIdentity(t))
		if err != nil {
			t.Fatal(err)
		}
		checkReceipts(t, cl, receipts, cycle)

		// Stream from four clients until the kill; keep every receipt that came back.
		var mu sync.Mutex
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for id, k := range signers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					payload := fmt.Appendf(nil, `{"cycle":%d,"n":%d,"text":%q}`, cycle, n, "patrol report from "+id)
					e, err := client.SignedEntry(ledger.KindObservation, id, time.Now().UTC(), payload, k)
					if err != nil {
						t.Error(err)
						return
					}
					rec, err := cl.Append(context.Background(), e, "")
					if err != nil {
						return // the server is gone: this append has no receipt
					}
					mu.Lock()
					receipts = append(receipts, receipt{rec.Index, rec.LeafHash})
					mu.Unlock()
				}
			}()
		}
		time.Sleep(time.Duration(50+rng.IntN(250)) * time.Millisecond)
		s.kill()
		close(stop)
		wg.Wait()
	}
	s := startServer(t, storeArgs...)
	defer s.kill()
	cl, _ := client.New(s.url, readerIdentity(t))
	checkReceipts(t, cl, receipts, crashCycles)
	t.Logf("%d kills, %d receipts checked", crashCycles, len(receipts))
}

// checkReceipts fetches the whole log, checks each receipted entry's leaf hash, and checks the
// tree the entries make against the server's signed checkpoint.
func checkReceipts(t *testing.T, cl *client.Client, receipts []receipt, cycle int) {
	t.Helper()
	ctx := context.Background()
	note, err := cl.Checkpoint(ctx)
	if err != nil {
		t.Fatalf("cycle %d: checkpoint: %v", cycle, err)
	}
	cp, err := parseCheckpointText(note)
	if err != nil {
		t.Fatalf("cycle %d: %v", cycle, err)
	}
	leaves, err := cl.Entries(ctx, 0, cp.size)
	if err != nil {
		t.Fatalf("cycle %d: entries: %v", cycle, err)
	}
	hashes := make([]tlog.Hash, len(leaves))
	for i, l := range leaves {
		hashes[i] = tlog.RecordHash(l)
	}
	for _, r := range receipts {
		if r.index >= cp.size {
			t.Fatalf("cycle %d: entry %d got a receipt but the log has %d entries after restart", cycle, r.index, cp.size)
		}
		if got := base64.StdEncoding.EncodeToString(hashes[r.index][:]); got != r.hash {
			t.Fatalf("cycle %d: entry %d changed: leaf hash %s, receipt said %s", cycle, r.index, got, r.hash)
		}
	}
	root, err := tlog.TreeHash(cp.size, hashReader(hashes))
	if err != nil {
		t.Fatal(err)
	}
	if root != cp.root {
		t.Fatalf("cycle %d: the entries' tree root %x differs from the checkpoint's %x", cycle, root, cp.root)
	}
}

type checkpointText struct {
	size int64
	root tlog.Hash
}

// parseCheckpointText reads the body of a C2SP checkpoint (origin, size, root); the signature
// is checked by `truce log verify`, not here.
func parseCheckpointText(note []byte) (checkpointText, error) {
	var origin, rootB64 string
	var cp checkpointText
	if _, err := fmt.Sscanf(string(note), "%s\n%d\n%s\n", &origin, &cp.size, &rootB64); err != nil {
		return cp, fmt.Errorf("checkpoint %q: %v", note, err)
	}
	b, err := base64.StdEncoding.DecodeString(rootB64)
	if err != nil || len(b) != 32 {
		return cp, fmt.Errorf("checkpoint root %q", rootB64)
	}
	copy(cp.root[:], b)
	return cp, nil
}

// hashReader serves the stored hashes of a tree built in memory from its leaf hashes.
type hashReader []tlog.Hash

func (h hashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	// Build the stored hashes lazily: tlog numbers them as StoredHashes would.
	stored := make([]tlog.Hash, 0, 2*len(h))
	for i, lh := range h {
		hs, err := tlog.StoredHashesForRecordHash(int64(i), lh, hashSlice(stored))
		if err != nil {
			return nil, err
		}
		stored = append(stored, hs...)
	}
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = stored[x]
	}
	return out, nil
}

type hashSlice []tlog.Hash

func (h hashSlice) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = h[x]
	}
	return out, nil
}

// readerIdentity signs a test client's requests as the mission's analyst, who may read the
// log's entries.
func readerIdentity(t *testing.T) client.Option {
	t.Helper()
	k, err := keys.LoadPrivateKey("../../examples/keys/analyst-1.key")
	if err != nil {
		t.Fatal(err)
	}
	return client.WithIdentity("analyst-1", k)
}
