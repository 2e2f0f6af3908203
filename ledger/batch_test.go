package ledger

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/tlog"
)

var testPub = testKey.Public().(ed25519.PublicKey)

// testBatch returns n observations by monitor-1, with payloads {"n":0} to {"n":n-1}, signed
// as one batch.
func testBatch(t testing.TB, n int) []*Entry { return batchFrom(t, n, 0) }

// batchFrom returns n observations by monitor-1, with payloads {"n":first} and on, signed as
// one batch.
func batchFrom(t testing.TB, n, first int) []*Entry {
	t.Helper()
	es := make([]*Entry, n)
	for i := range es {
		e, err := NewEntry(KindObservation, "monitor-1", testTime.Add(time.Duration(i)*time.Millisecond), fmt.Appendf(nil, `{"n":%d}`, first+i))
		if err != nil {
			t.Fatal(err)
		}
		es[i] = e
	}
	if err := SignBatch(es, testKey); err != nil {
		t.Fatal(err)
	}
	return es
}

// TestBatchRootVectors checks BatchRoot against the RFC 6962 test vectors: the item digests
// play the leaf hashes.
func TestBatchRootVectors(t *testing.T) {
	v := loadVectors(t)
	var digests []tlog.Hash
	for _, in := range v.LeafInputs {
		data, _ := hex.DecodeString(in)
		digests = append(digests, tlog.RecordHash(data))
	}
	for size, want := range v.Roots {
		root, proofs := BatchRoot(digests[:size])
		if root != hexHash(t, want) {
			t.Errorf("root of %d digests = %x, want %s", size, root, want)
		}
		if len(proofs) != size {
			t.Errorf("%d proofs for %d digests", len(proofs), size)
		}
	}
	for _, c := range v.Inclusion {
		if c.LeafIndex == nil {
			continue
		}
		_, proofs := BatchRoot(digests[:c.TreeSize])
		p := proofs[*c.LeafIndex]
		if p.Size != c.TreeSize || p.Index != *c.LeafIndex || !slices.Equal(p.Path, hexHashes(t, c.Proof)) {
			t.Errorf("proof of %d in %d = %+v, want %s", *c.LeafIndex, c.TreeSize, p, c.Proof)
		}
	}
}

// TestBatchRootProofs checks every proof of batches of 1 to 140 entries with
// transparency-dev/merkle, which shares no code with tlog, and the path length formula.
// tlogBatchRoot is BatchRoot by way of package tlog's stored hashes and ProveRecord: slower,
// but an independent computation to compare with.
func tlogBatchRoot(t *testing.T, digests []tlog.Hash) (tlog.Hash, []BatchProof) {
	n := int64(len(digests))
	var stored []tlog.Hash
	read := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			out[i] = stored[x]
		}
		return out, nil
	})
	for i, d := range digests {
		hs, err := tlog.StoredHashesForRecordHash(int64(i), d, read)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, hs...)
	}
	root, err := tlog.TreeHash(n, read)
	if err != nil {
		t.Fatal(err)
	}
	var proofs []BatchProof
	for i := range n {
		p, err := tlog.ProveRecord(n, i, read)
		if err != nil {
			t.Fatal(err)
		}
		proofs = append(proofs, BatchProof{Size: n, Index: i, Path: p})
	}
	return root, proofs
}

func TestBatchRootProofs(t *testing.T) {
	var digests []tlog.Hash
	for n := range MaxBatchSize {
		digests = append(digests, tlog.RecordHash([]byte{byte(n), byte(n >> 8)}))
	}
	sizes := []int{1000, 1023, 1024, 1025, 2047, 3001, MaxBatchSize}
	for n := 1; n <= 140; n++ {
		sizes = append(sizes, n)
	}
	for _, n := range sizes {
		root, proofs := BatchRoot(digests[:n])
		wantRoot, wantProofs := tlogBatchRoot(t, digests[:n])
		if root != wantRoot || !reflect.DeepEqual(proofs, wantProofs) {
			t.Fatalf("batch of %d: root or proofs differ from tlog's", n)
		}
		for i, p := range proofs {
			if p.Size != int64(n) || p.Index != int64(i) {
				t.Fatalf("proof %d of %d: %+v", i, n, p)
			}
			if got := batchPathLen(int64(i), int64(n)); got != len(p.Path) {
				t.Fatalf("path of %d in %d: %d hashes, batchPathLen says %d", i, n, len(p.Path), got)
			}
			if err := checkBatchShape(p); err != nil {
				t.Fatal(err)
			}
			path := make([][]byte, len(p.Path))
			for j := range p.Path {
				path[j] = p.Path[j][:]
			}
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(i), uint64(n), digests[i][:], path, root[:]); err != nil {
				t.Fatalf("proof of %d in %d: %v", i, n, err)
			}
		}
	}
	empty, _ := tlog.TreeHash(0, nil)
	if root, proofs := BatchRoot(nil); root != empty || proofs != nil {
		t.Errorf("empty batch: %x, %v", root, proofs)
	}
}

// TestTlogHasher checks the hasher batchRoot gives proof.RootFromInclusionProof against
// transparency-dev/merkle's own.
func TestTlogHasher(t *testing.T) {
	var h tlogHasher
	d := rfc6962.DefaultHasher
	l, r := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	if !bytes.Equal(h.EmptyRoot(), d.EmptyRoot()) || !bytes.Equal(h.HashLeaf([]byte("x")), d.HashLeaf([]byte("x"))) ||
		!bytes.Equal(h.HashChildren(l, r), d.HashChildren(l, r)) || h.Size() != d.Size() {
		t.Error("tlogHasher differs from rfc6962.DefaultHasher")
	}
}

func TestBatchSignedMessage(t *testing.T) {
	var root tlog.Hash
	root[0], root[31] = 0xfb, 0x01
	got := string(BatchSignedMessage("monitor-1", 1000, root))
	want := "truce/batch/v1\nmonitor-1\n1000\n+wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE="
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if strings.HasPrefix(got, SignedMessagePrefix) || strings.HasPrefix(SignedMessagePrefix, BatchSignedMessagePrefix) {
		t.Error("batch and entry messages share a prefix")
	}
}

func TestBatchDigest(t *testing.T) {
	e := testEntry(t)
	tz := time.FixedZone("x", 3600)
	if d := BatchDigest(e.Kind(), e.Submitter(), e.Submitted().In(tz), e.Payload()); d != e.Digest() {
		t.Errorf("BatchDigest %s, Digest %s", d, e.Digest())
	}
	if e.Digest() != sha256.Sum256(append([]byte{0}, e.SignedMessage()...)) {
		t.Error("digest is not SHA-256(0x00 || signed message)")
	}
	// Parts NewEntry refuses still have a digest.
	_ = BatchDigest(Kind(99), "Not An Id", time.Time{}, []byte("nope"))
}

func TestSignBatch(t *testing.T) {
	es := testBatch(t, 5)
	for i, e := range es {
		p, ok := e.Batch()
		if !ok || p.Size != 5 || p.Index != int64(i) || len(p.Path) != batchPathLen(int64(i), 5) {
			t.Fatalf("entry %d: batch proof %+v, %v", i, p, ok)
		}
		if !bytes.Equal(e.Signature(), es[0].Signature()) {
			t.Errorf("entry %d: signature differs from entry 0's", i)
		}
		if err := Verify(e, testPub); err != nil {
			t.Errorf("entry %d: %v", i, err)
		}
		if s := e.String(); !strings.Contains(s, fmt.Sprintf("entry %d of a signed batch of 5", i)) {
			t.Errorf("String: %s", s)
		}
		// The proof leads to the signed root.
		root, _ := e.batchRoot()
		if !ed25519.Verify(testPub, BatchSignedMessage("monitor-1", 5, root), e.Signature()) {
			t.Errorf("entry %d: signature is not over the batch message", i)
		}
	}
	// Signing alone drops the batch proof.
	if err := Sign(es[1], testKey); err != nil {
		t.Fatal(err)
	}
	if _, ok := es[1].Batch(); ok || Verify(es[1], testPub) != nil {
		t.Error("an entry signed alone again keeps its batch proof or does not verify")
	}
	if err := es[2].SetSignature(es[1].Signature()); err != nil {
		t.Fatal(err)
	}
	if _, ok := es[2].Batch(); ok {
		t.Error("SetSignature keeps the batch proof")
	}
	// Batch returns a copy.
	p, _ := es[0].Batch()
	p.Path[0][0] ^= 1
	if Verify(es[0], testPub) != nil {
		t.Error("changing the proof Batch returned changed the entry")
	}

	// A batch of one is a tree of one leaf: the root is the digest and the path is empty.
	one := testBatch(t, 1)[0]
	if p, ok := one.Batch(); !ok || p.Size != 1 || p.Index != 0 || len(p.Path) != 0 {
		t.Errorf("batch of one: %+v", p)
	}
	if !ed25519.Verify(testPub, BatchSignedMessage("monitor-1", 1, one.Digest()), one.Signature()) {
		t.Error("batch of one: not signed over its digest")
	}
}

func TestSignBatchErrors(t *testing.T) {
	other, _ := NewEntry(KindNote, "monitor-2", testTime, []byte(`{}`))
	received, _ := testEntry(t).Receive(testTime)
	fresh := func() *Entry {
		e, _ := NewEntry(KindNote, "monitor-1", testTime, []byte(`{}`))
		return e
	}
	for _, tc := range []struct {
		name     string
		es       []*Entry
		priv     ed25519.PrivateKey
		sentinel error
		want     string
	}{
		{"empty", nil, testKey, ErrMalformed, "batch.n: no entry to sign"},
		{"too many", make([]*Entry, MaxBatchSize+1), testKey, ErrTooLarge, "batch.n: 4097 entries in one batch, at most 4096"},
		{"bad key", []*Entry{fresh()}, testKey[:10], ErrMalformed, "signature: private key has 10 bytes"},
		{"two submitters", []*Entry{fresh(), other}, testKey, ErrMalformed, `batch entry 1: submitter: "monitor-2" in a batch by "monitor-1"`},
		{"received", []*Entry{fresh(), received}, testKey, ErrMalformed, "batch entry 1: entry: already received"},
		{"nil", []*Entry{fresh(), nil}, testKey, ErrMalformed, "batch entry 1: entry: not built by NewEntry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := SignBatch(tc.es, tc.priv)
			if !errors.Is(err, tc.sentinel) || !strings.Contains(fmt.Sprint(err), tc.want) {
				t.Errorf("got %v, want %v %q", err, tc.sentinel, tc.want)
			}
			for _, e := range tc.es {
				if e != nil && e.leaf == nil && e.sig != nil {
					t.Error("a failed SignBatch signed an entry")
				}
			}
		})
	}
}

func TestSetBatchSignatureErrors(t *testing.T) {
	sig := make([]byte, ed25519.SignatureSize)
	path := func(n int) []tlog.Hash { return make([]tlog.Hash, n) }
	for _, tc := range []struct {
		name     string
		p        BatchProof
		sig      []byte
		sentinel error
		want     string
	}{
		{"zero size", BatchProof{Size: 0, Index: 0, Path: nil}, sig, ErrMalformed, "batch.n: batch of 0 entries, want at least 1"},
		{"negative size", BatchProof{Size: -1, Index: 0, Path: nil}, sig, ErrMalformed, "batch.n:"},
		{"too large", BatchProof{Size: MaxBatchSize + 1, Index: 0, Path: path(13)}, sig, ErrTooLarge, "batch.n: batch of 4097 entries, at most 4096"},
		{"index past the end", BatchProof{Size: 4, Index: 4, Path: path(2)}, sig, ErrMalformed, "batch.i: entry 4 of a batch of 4"},
		{"negative index", BatchProof{Size: 4, Index: -1, Path: path(2)}, sig, ErrMalformed, "batch.i: entry -1 of a batch of 4"},
		{"path too short", BatchProof{Size: 4, Index: 1, Path: path(1)}, sig, ErrMalformed, "batch.path: 1 hashes, want 2 for entry 1 of a batch of 4"},
		{"path too long", BatchProof{Size: 1, Index: 0, Path: path(1)}, sig, ErrMalformed, "batch.path: 1 hashes, want 0 for entry 0 of a batch of 1"},
		{"short signature", BatchProof{Size: 4, Index: 1, Path: path(2)}, sig[:63], ErrMalformed, "signature: 63 bytes, want 64"},
		{"run form with a path", BatchProof{Size: 4, Index: 1, Path: path(2), Run: true}, sig, ErrMalformed, "batch.path: a proof in run form carries no path"},
		{"run form of one", BatchProof{Size: 1, Index: 0, Run: true}, sig, ErrMalformed, "batch.path: missing (a batch of one entry carries its empty path)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := NewEntry(KindNote, "monitor-1", testTime, []byte(`{}`))
			err := e.SetBatchSignature(tc.p, tc.sig)
			var fe *FieldError
			if !errors.Is(err, tc.sentinel) || !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %v %q", err, tc.sentinel, tc.want)
			}
			if _, ok := e.Batch(); ok || e.Signature() != nil {
				t.Error("a refused batch signature was set")
			}
		})
	}
	received, _ := testEntry(t).Receive(testTime)
	if err := received.SetBatchSignature(BatchProof{Size: 1, Index: 0, Path: nil}, sig); !errors.Is(err, ErrMalformed) {
		t.Errorf("received entry: %v", err)
	}
}

// TestBatchTamper changes each part of a batch entry, keeping its proof's shape valid so
// that only the signature can catch it.
func TestBatchTamper(t *testing.T) {
	es := testBatch(t, 8)
	victim := es[5]
	good, _ := victim.Batch()
	sig := victim.Signature()
	otherBatch := batchFrom(t, 8, 100)
	for _, tc := range []struct {
		name    string
		kind    Kind
		sub     string
		at      time.Time
		payload string
		p       func(BatchProof) BatchProof
		sig     func([]byte) []byte
		want    string
	}{
		{name: "payload byte", payload: `{"n":6}`},
		{name: "kind", kind: KindNote},
		{name: "submitted", at: victim.Submitted().Add(time.Nanosecond)},
		{name: "submitter", sub: "monitor-2"},
		{name: "path hash", p: func(p BatchProof) BatchProof { p.Path[1][7] ^= 0x20; return p }},
		{name: "path order", p: func(p BatchProof) BatchProof { p.Path[0], p.Path[1] = p.Path[1], p.Path[0]; return p }},
		{name: "index", p: func(p BatchProof) BatchProof { p.Index = 4; return p }},
		{name: "size", p: func(p BatchProof) BatchProof { p.Size = 7; return p }},
		{name: "signature", sig: func(s []byte) []byte { s[10] ^= 1; return s }},
		{name: "another batch's signature", sig: func([]byte) []byte { return bytes.Clone(otherBatch[5].Signature()) }},
		{name: "another batch's proof", p: func(BatchProof) BatchProof { p, _ := otherBatch[3].Batch(); return p }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, sub, at, payload := victim.Kind(), victim.Submitter(), victim.Submitted(), string(victim.Payload())
			if tc.kind != 0 {
				k = tc.kind
			}
			if tc.sub != "" {
				sub = tc.sub
			}
			if !tc.at.IsZero() {
				at = tc.at
			}
			if tc.payload != "" {
				payload = tc.payload
			}
			p := BatchProof{Size: good.Size, Index: good.Index, Path: slices.Clone(good.Path)}
			if tc.p != nil {
				p = tc.p(p)
			}
			s := bytes.Clone(sig)
			if tc.sig != nil {
				s = tc.sig(s)
			}
			e, err := NewEntry(k, sub, at, []byte(payload))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.SetBatchSignature(p, s); err != nil {
				t.Fatalf("shape refused: %v", err)
			}
			// With the cache warm from the genuine batch, and with a cold one.
			for _, c := range []*batchCache{&batchSigs, new(batchCache)} {
				if err := verifyEntry(victim, testPub, c); err != nil {
					t.Fatalf("genuine entry: %v", err)
				}
				err := verifyEntry(e, testPub, c)
				var fe *FieldError
				if !errors.Is(err, ErrBadSignature) || !errors.As(err, &fe) || fe.Field != "signature" {
					t.Fatalf("tampered entry: %v", err)
				}
			}
			if got, want := Verify(e, testPub).Error(), `signature: does not verify for identity "`+sub+`" (entry `; !strings.HasPrefix(got, want) {
				t.Errorf("got %q, want %q…", got, want)
			}
		})
	}
	// The genuine batch verifies with its key only.
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32)).Public().(ed25519.PublicKey)
	if err := Verify(victim, other); !errors.Is(err, ErrBadSignature) {
		t.Errorf("another key: %v", err)
	}
}

// TestBatchLeafTamper flips one bit of each byte of a batch entry's leaf in turn: the leaf
// must then fail to parse or to verify, except in the receipt time, which is not signed.
func TestBatchLeafTamper(t *testing.T) {
	es := testBatch(t, 8)
	r, err := es[5].Receive(testTime.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	leaf := r.Leaf()
	signedEnd := bytes.Index(leaf, []byte(`,"received":"`))
	counts := map[string]int{}
	for pos := range leaf {
		b := bytes.Clone(leaf)
		b[pos] ^= 0x01
		e, err := ParseLeaf(b)
		switch {
		case err != nil:
			counts["malformed"]++
		case Verify(e, testPub) != nil:
			counts["signature"]++
		case pos > signedEnd:
			counts["receipt"]++
		default:
			t.Fatalf("byte %d (%q) changed to %q: leaf still verifies:\n%s", pos, leaf[pos], b[pos], b)
		}
	}
	t.Logf("%d bytes changed one at a time: %v", len(leaf), counts)
	if counts["signature"] == 0 || counts["malformed"] == 0 {
		t.Errorf("expected both kinds of detection, got %v", counts)
	}
}

func TestBatchLeaf(t *testing.T) {
	es := testBatch(t, 3)
	r, err := es[2].Receive(testTime.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := es[2].Batch()
	want := `{"v":1,"kind":"observation","submitter":"monitor-1","submitted":"2026-03-01T10:00:00.002Z",` +
		`"payload":{"n":2},"batch":{"n":3,"i":2,"path":["` + b64(p.Path[0][:]) + `"]},` +
		`"sig":"` + b64(es[2].Signature()) + `","received":"2026-03-01T10:00:01Z"}`
	if string(r.Leaf()) != want {
		t.Errorf("leaf\n got %s\nwant %s", r.Leaf(), want)
	}
	parsed, err := ParseLeaf(r.Leaf())
	if err != nil {
		t.Fatal(err)
	}
	if q, ok := parsed.Batch(); !ok || q.Size != 3 || q.Index != 2 || !slices.Equal(q.Path, p.Path) {
		t.Errorf("parsed batch proof %+v", q)
	}
	if err := Verify(parsed, testPub); err != nil {
		t.Error(err)
	}

	one := testBatch(t, 1)[0]
	r, _ = one.Receive(testTime.Add(time.Second))
	if !bytes.Contains(r.Leaf(), []byte(`"payload":{"n":0},"batch":{"n":1,"i":0,"path":[]},"sig":"`)) {
		t.Errorf("batch of one: %s", r.Leaf())
	}
	if parsed, err := ParseLeaf(r.Leaf()); err != nil || Verify(parsed, testPub) != nil {
		t.Errorf("batch of one: %v", err)
	}
}

// TestBatchLeafLimit builds the largest leaf there can be: a full payload and submitter,
// the longest kind and times, and an entry of the largest batch with the longest path.
func TestBatchLeafLimit(t *testing.T) {
	head := `{"x":"`
	payload := head + strings.Repeat("a", MaxPayload-len(head)-2) + `"}`
	sub := "m" + strings.Repeat("-", maxSubmitterLen-1)
	at := time.Date(9999, 12, 31, 23, 59, 59, 123456789, time.UTC)
	e, err := NewEntry(KindAcknowledgement, sub, at, []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	p := BatchProof{Size: MaxBatchSize, Index: 1234, Path: make([]tlog.Hash, batchPathLen(1234, MaxBatchSize))}
	if len(p.Path) != 12 {
		t.Fatalf("path of %d hashes", len(p.Path))
	}
	if err := e.SetBatchSignature(p, make([]byte, ed25519.SignatureSize)); err != nil {
		t.Fatal(err)
	}
	r, err := e.Receive(at)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("largest leaf: %d bytes, MaxLeafSize %d", len(r.Leaf()), MaxLeafSize)
	if _, err := ParseLeaf(r.Leaf()); err != nil {
		t.Error(err)
	}
	if len(r.Leaf()) > e.leafSizeHint()+40 {
		t.Errorf("leaf of %d bytes, over the size hint %d", len(r.Leaf()), e.leafSizeHint()+40)
	}
}

func TestParseBatchLeafErrors(t *testing.T) {
	r, _ := testBatch(t, 3)[2].Receive(testTime.Add(time.Second))
	good := string(r.Leaf())
	p, _ := r.Batch()
	h := `"` + b64(p.Path[0][:]) + `"`
	field := good[strings.Index(good, `,"batch"`):strings.Index(good, `,"sig"`)]
	for _, tc := range []struct {
		name, leaf, want string
	}{
		{"size zero", strings.Replace(good, `"n":3`, `"n":0`, 1), "parsing leaf: batch.n: batch of 0 entries"},
		{"size too large", strings.Replace(good, `"n":3`, `"n":5000`, 1), "parsing leaf: batch.n: batch of 5000 entries, at most 4096"},
		{"size not an integer", strings.Replace(good, `"n":3`, `"n":3.0`, 1), "parsing leaf: entry: not a JSON object"},
		{"size as a string", strings.Replace(good, `"n":3`, `"n":"3"`, 1), "parsing leaf: entry: not a JSON object"},
		{"size leading zero", strings.Replace(good, `"n":3`, `"n":03`, 1), "parsing leaf: entry: not a JSON object"},
		{"size huge", strings.Replace(good, `"n":3`, `"n":99999999999999999999`, 1), "parsing leaf: entry: not a JSON object"},
		{"index out of range", strings.Replace(good, `"i":2`, `"i":3`, 1), "parsing leaf: batch.i: entry 3 of a batch of 3"},
		{"negative index", strings.Replace(good, `"i":2`, `"i":-2`, 1), "parsing leaf: batch.i:"},
		{"negative zero", strings.Replace(good, `"i":2`, `"i":-0`, 1), "parsing leaf: batch.path: 1 hashes, want 2 for entry 0"}, // -0 decodes as 0
		{"path too long", strings.Replace(good, h, h+","+h, 1), "parsing leaf: batch.path: 2 hashes, want 1 for entry 2 of a batch of 3"},
		{"path missing from a batch of one", strings.Replace(good, `"n":3,"i":2,"path":[`+h+`]`, `"n":1,"i":0`, 1), "parsing leaf: batch.path: missing (a batch of one entry carries its empty path)"},
		{"run form too large", strings.Replace(good, `"n":3,"i":2,"path":[`+h+`]`, `"n":5000,"i":0`, 1), "parsing leaf: batch.n: batch of 5000 entries, at most 4096"},
		{"run form index out of range", strings.Replace(good, `"i":2,"path":[`+h+`]`, `"i":3`, 1), "parsing leaf: batch.i: entry 3 of a batch of 3"},
		{"path null", strings.Replace(good, `[`+h+`]`, `null`, 1), "not in canonical leaf form"},
		{"size missing", strings.Replace(good, `"n":3,`, ``, 1), "parsing leaf: batch.n: missing"},
		{"index missing", strings.Replace(good, `"i":2,`, ``, 1), "parsing leaf: batch.i: missing"},
		{"short hash", strings.Replace(good, h, `"AAAA"`, 1), "parsing leaf: batch.path: hash 0 is not the padded base64 of 32 bytes"},
		{"unpadded hash", strings.Replace(good, h, h[:len(h)-2]+`"`, 1), "parsing leaf: batch.path: hash 0"},
		{"hash not base64", strings.Replace(good, h, `"`+strings.Repeat("!", 43)+`="`, 1), "parsing leaf: batch.path: hash 0"},
		{"hash as a number", strings.Replace(good, h, `7`, 1), "parsing leaf: entry: not a JSON object"},
		{"batch null", strings.Replace(good, field, `,"batch":null`, 1), "not in canonical leaf form"},
		{"batch without", strings.Replace(good, field, ``, 1), ""}, // a valid leaf, singly signed
		{"batch after sig", strings.Replace(strings.Replace(good, field, ``, 1), `,"received"`, field+`,"received"`, 1), "not in canonical leaf form"},
		{"unknown batch field", strings.Replace(good, `"i":2,`, `"i":2,"x":1,`, 1), `unknown field "x"`},
		{"spacing", strings.Replace(good, `"i":2,`, `"i": 2,`, 1), "not in canonical leaf form"},
		{"upper-case key", strings.Replace(good, `"i":2,`, `"I":2,`, 1), "not in canonical leaf form"},
		{"field order", strings.Replace(good, `"n":3,"i":2,`, `"i":2,"n":3,`, 1), "not in canonical leaf form"},
		{"duplicate batch", strings.Replace(good, field, field+field, 1), "not in canonical leaf form"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := ParseLeaf([]byte(tc.leaf))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := e.Batch(); ok || Verify(e, testPub) == nil {
					t.Error("a batch leaf without its batch field verifies as a single entry")
				}
				return
			}
			if err == nil {
				t.Fatalf("no error for %s", tc.leaf)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Errorf("%v wraps neither ErrMalformed nor ErrTooLarge", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q, want %q", err, tc.want)
			}
		})
	}
}

// TestBatchVerifiesOnce verifies a batch of 1000 entries, before and after receipt, with
// exactly one ed25519 verification.
func TestBatchVerifiesOnce(t *testing.T) {
	es := testBatch(t, 1000)
	var c batchCache
	for i, e := range es {
		if err := verifyEntry(e, testPub, &c); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		r, _ := e.Receive(testTime.Add(time.Minute))
		p, err := ParseLeaf(r.Leaf())
		if err != nil {
			t.Fatal(err)
		}
		if err := verifyEntry(p, testPub, &c); err != nil {
			t.Fatalf("parsed entry %d: %v", i, err)
		}
	}
	if v, h := c.verifies.Load(), c.hits.Load(); v != 1 || h != 1999 {
		t.Errorf("%d ed25519 verifications and %d cache hits, want 1 and 1999", v, h)
	}
	// Verify uses the shared cache.
	fresh := batchFrom(t, 1000, rand.Int()) // not in the shared cache, even with -count
	before := batchSigs.verifies.Load()
	for _, e := range fresh {
		if err := Verify(e, testPub); err != nil {
			t.Fatal(err)
		}
	}
	if n := batchSigs.verifies.Load() - before; n != 1 {
		t.Errorf("Verify did %d ed25519 verifications for a batch of 1000, want 1", n)
	}
	// A signature that fails is not remembered.
	bad, _ := NewEntry(KindNote, "monitor-1", testTime, []byte(`{}`))
	p, _ := es[0].Batch()
	bad.SetBatchSignature(p, es[0].Signature())
	for range 3 {
		if verifyEntry(bad, testPub, &c) == nil {
			t.Fatal("tampered entry verifies")
		}
	}
	if v := c.verifies.Load(); v != 4 {
		t.Errorf("%d verifications, want 4 (one per failed attempt)", v)
	}
}

func TestBatchCacheBounded(t *testing.T) {
	var c batchCache
	key := func(i int) [sha256.Size]byte { return sha256.Sum256(fmt.Appendf(nil, "%d", i)) }
	const n = 3 * batchCacheSlots
	for i := range n {
		c.add(key(i))
		c.add(key(i)) // again: no second slot
		if !c.lookup(key(i)) {
			t.Fatalf("key %d not found just after adding it", i)
		}
	}
	if s := c.size(); s > batchCacheSlots || s < batchCacheSlots*9/10 {
		t.Errorf("cache holds %d keys, want at most and near %d", s, batchCacheSlots)
	}
	if c.lookup(key(0)) {
		t.Error("the oldest key was not evicted")
	}
	if !c.lookup(key(n - 1)) {
		t.Error("the newest key was evicted")
	}
}

// TestBatchConcurrent verifies several batches from many goroutines with one cache (run
// with -race).
func TestBatchConcurrent(t *testing.T) {
	var batches [][]*Entry
	for k := range 4 {
		batches = append(batches, batchFrom(t, 200, 1000*k))
	}
	var c batchCache
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				e := batches[(g+i)%len(batches)][(i*7+g)%200]
				if err := verifyEntry(e, testPub, &c); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if v := c.verifies.Load(); v < 4 || v > 4*8 {
		t.Errorf("%d verifications for 4 batches by 8 goroutines", v)
	}
}

// BenchmarkVerifySingle verifies 1000 entries each signed alone; see ns/entry.
func BenchmarkVerifySingle(b *testing.B) {
	es := make([]*Entry, 1000)
	for i := range es {
		e, err := NewEntry(KindObservation, "monitor-1", testTime.Add(time.Duration(i)*time.Millisecond), benchPayload(i))
		if err != nil {
			b.Fatal(err)
		}
		if err := Sign(e, testKey); err != nil {
			b.Fatal(err)
		}
		es[i] = e
	}
	benchVerify(b, es)
}

// BenchmarkVerifyBatch verifies a batch of 1000 entries under one signature, from a cold
// cache each time, so the one ed25519 verification is counted; see ns/entry.
func BenchmarkVerifyBatch(b *testing.B) {
	for _, n := range []int{1000} {
		b.Run(fmt.Sprintf("size=%d", n), func(b *testing.B) {
			es := make([]*Entry, n)
			for i := range es {
				e, err := NewEntry(KindObservation, "monitor-1", testTime.Add(time.Duration(i)*time.Millisecond), benchPayload(i))
				if err != nil {
					b.Fatal(err)
				}
				es[i] = e
			}
			if err := SignBatch(es, testKey); err != nil {
				b.Fatal(err)
			}
			benchVerify(b, es)
		})
	}
}

func benchVerify(b *testing.B, es []*Entry) {
	n := 0
	for b.Loop() {
		c := new(batchCache)
		for _, e := range es {
			if err := verifyEntry(e, testPub, c); err != nil {
				b.Fatal(err)
			}
		}
		n += len(es)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/entry")
}

// BenchmarkBatchRoot measures what a server spends per entry to rebuild a batch's proofs.
func BenchmarkBatchRoot(b *testing.B) {
	digests := make([]tlog.Hash, 1000)
	for i := range digests {
		digests[i] = BatchDigest(KindObservation, "monitor-1", testTime, benchPayload(i))
	}
	n := 0
	for b.Loop() {
		BatchRoot(digests)
		n += len(digests)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/entry")
}

// benchPayload is a 200-byte observation, as in BenchmarkAppendSQLite.
func benchPayload(i int) []byte {
	head := fmt.Sprintf(`{"n":%d,"pad":"`, i)
	return []byte(head + strings.Repeat("x", 200-len(head)-2) + `"}`)
}
