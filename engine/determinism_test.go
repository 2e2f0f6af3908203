package engine_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/truce-mission/truce/engine"
	"github.com/truce-mission/truce/engine/enginetest"
	"github.com/truce-mission/truce/ledger"
	"github.com/truce-mission/truce/store/sqlite"
)

// determinismN is the default size of TestDeterminism's log: a few seconds under -race.
// TRUCE_DETERMINISM_N=1000000 runs the million-entry version.
const determinismN = 3000

// TestDeterminism appends a generated stream (enginetest) to a real log (SQLite store,
// agreement signatures checked), applies each entry to a live engine as its receipt comes
// back, then rebuilds a fresh engine from the stored leaves alone and requires the same
// state hash at every quarter of the log and at its end.
func TestDeterminism(t *testing.T) {
	n := determinismN
	if s := os.Getenv("TRUCE_DETERMINISM_N"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			t.Fatalf("TRUCE_DETERMINISM_N=%q: want a positive number", s)
		}
		n = v
	}
	ctx := context.Background()
	a := enginetest.Agreement(t, "../examples/line-of-contact.yaml")
	ks, err := enginetest.LoadKeys("../examples/keys")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var mu sync.Mutex
	var clock time.Time
	lg, err := ledger.Open(ctx, st, ledger.Options{
		Origin: "truce/determinism", Signer: noteSigner(t), Authorize: ledger.AuthorizeAgreement(a), CheckpointInterval: -1,
		Clock: func() time.Time { mu.Lock(); defer mu.Unlock(); return clock },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()

	marks := []int{n / 4, n / 2, 3 * n / 4, n}
	want := map[int][32]byte{}
	live, err := engine.New(a)
	if err != nil {
		t.Fatal(err)
	}
	gen := enginetest.New(enginetest.Config{Seed: 42, N: n, DDay: a.DDay})
	start := time.Now()
	var applyTime time.Duration
	for done, m := 0, 0; done < n; {
		for marks[m] <= done {
			m++
		}
		items := make([]enginetest.Item, min(ledger.MaxBatchSize, marks[m]-done))
		for i := range items {
			items[i] = gen.Next()
		}
		signed, err := enginetest.Sign(items, ks)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		clock = items[len(items)-1].Time
		mu.Unlock()
		rcs, err := lg.AppendBatch(ctx, signed, nil)
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		for i, rc := range rcs {
			en, err := signed[i].Receive(rc.Received)
			if err != nil {
				t.Fatal(err)
			}
			if en.LeafHash() != rc.LeafHash {
				t.Fatalf("entry %d: leaf hash %x, the log's %x", rc.Index, en.LeafHash(), rc.LeafHash)
			}
			if _, err := live.Apply(rc.Index, en); err != nil {
				t.Fatal(err)
			}
		}
		applyTime += time.Since(t0)
		done += len(items)
		if done == marks[m] {
			want[done] = live.StateHash()
		}
	}
	liveTime := time.Since(start)

	start = time.Now()
	re, err := engine.New(a)
	if err != nil {
		t.Fatal(err)
	}
	const chunk = 4096
	for from := int64(0); from < int64(n); from += chunk {
		leaves, err := lg.Entries(ctx, from, min(int64(n), from+chunk))
		if err != nil {
			t.Fatal(err)
		}
		for j, leaf := range leaves {
			en, err := ledger.ParseLeaf(leaf)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := re.Apply(from+int64(j), en); err != nil {
				t.Fatal(err)
			}
			if w, ok := want[int(re.Size())]; ok {
				if got := re.StateHash(); got != w {
					t.Fatalf("after %d entries: rebuilt state hash %x, live %x", re.Size(), got, w)
				}
				t.Logf("after %d entries: state hash %x (live and rebuilt)", re.Size(), w)
			}
		}
	}
	rebuildTime := time.Since(start)

	s := re.State()
	verdicts := map[engine.Verdict]int{}
	for _, inc := range s.Incidents {
		verdicts[inc.Verdict]++
	}
	t.Logf("%d entries: appended and applied live in %s (engine %s), rebuilt in %s; %d incidents %v, %d notifications, %d ignored",
		n, liveTime.Round(time.Millisecond), applyTime.Round(time.Millisecond), rebuildTime.Round(time.Millisecond), len(s.Incidents), verdicts, len(s.Notifications), len(s.Ignored))
	// The stream must exercise the engine, not only agree with itself.
	if verdicts[engine.VerdictInfraction] == 0 || verdicts[engine.VerdictNotified]+verdicts[engine.VerdictWithinLimit] == 0 || len(s.Notifications) == 0 || len(s.Ignored) == 0 {
		t.Errorf("the stream does not exercise the engine: %v, %d notifications, %d ignored", verdicts, len(s.Notifications), len(s.Ignored))
	}
}

// noteSigner is a fixed checkpoint signer, so that the log is the same on every run.
func noteSigner(t testing.TB) note.Signer {
	t.Helper()
	seed := sha256.Sum256([]byte("truce determinism checkpoint key"))
	s, err := ledger.NewNoteSigner("truce/determinism", ed25519.NewKeyFromSeed(seed[:]))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
