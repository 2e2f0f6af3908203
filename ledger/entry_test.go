package ledger

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

var (
	testSeed = sha256.Sum256([]byte("truce-demo-key:monitor-1")) // examples/keys/monitor-1.key
	testKey  = ed25519.NewKeyFromSeed(testSeed[:])
	testTime = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
)

func testEntry(t testing.TB) *Entry {
	t.Helper()
	e, err := NewEntry(KindObservation, "monitor-1", testTime, []byte(`{"count":3,"what":"tank"}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := Sign(e, testKey); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEntryLeaf(t *testing.T) {
	e := testEntry(t)
	if e.Leaf() != nil {
		t.Fatal("unreceived entry has a leaf")
	}
	r, err := e.Receive(testTime.Add(1500 * time.Millisecond).In(time.FixedZone("x", 3600)))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"v":1,"kind":"observation","submitter":"monitor-1","submitted":"2026-03-01T10:00:00Z",` +
		`"payload":{"count":3,"what":"tank"},"sig":"` + b64(e.Signature()) + `","received":"2026-03-01T10:00:01.5Z"}`
	if string(r.Leaf()) != want {
		t.Errorf("leaf\n got %s\nwant %s", r.Leaf(), want)
	}
	if r.LeafHash() != sha256.Sum256(append([]byte{0}, r.Leaf()...)) {
		t.Error("leaf hash is not SHA-256(0x00 || leaf)")
	}
	p, err := ParseLeaf(r.Leaf())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.Leaf(), r.Leaf()) || p.LeafHash() != r.LeafHash() || p.Kind() != KindObservation ||
		p.Submitter() != "monitor-1" || !p.Submitted().Equal(testTime) || !p.Received().Equal(r.Received()) {
		t.Errorf("parsed entry differs: %v", p)
	}
	if err := Verify(p, testKey.Public().(ed25519.PublicKey)); err != nil {
		t.Errorf("parsed entry does not verify: %v", err)
	}
	if _, err := r.Receive(testTime); err == nil {
		t.Error("a received entry was received again")
	}
	if err := Sign(r, testKey); err == nil {
		t.Error("a received entry was re-signed")
	}
}

func TestSignedMessage(t *testing.T) {
	e := testEntry(t)
	want := "truce/entry/v1\nobservation\nmonitor-1\n2026-03-01T10:00:00Z\n{\"count\":3,\"what\":\"tank\"}"
	if string(e.SignedMessage()) != want {
		t.Errorf("signed message %q, want %q", e.SignedMessage(), want)
	}
}

func TestVerify(t *testing.T) {
	e := testEntry(t)
	pub := testKey.Public().(ed25519.PublicKey)
	if err := Verify(e, pub); err != nil {
		t.Fatal(err)
	}
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32)).Public().(ed25519.PublicKey)
	err := Verify(e, other)
	if !errors.Is(err, ErrBadSignature) || err.Error() != `signature: does not verify for identity "monitor-1"` {
		t.Errorf("wrong key: %v", err)
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "signature" {
		t.Errorf("not a FieldError naming the signature: %#v", err)
	}
	// Changing anything signed breaks the signature; the receipt time is not signed.
	tampered, _ := NewEntry(KindObservation, "monitor-1", testTime, []byte(`{"count":4,"what":"tank"}`))
	tampered.SetSignature(e.Signature())
	if err := Verify(tampered, pub); !errors.Is(err, ErrBadSignature) {
		t.Errorf("tampered payload: %v", err)
	}
	r1, _ := e.Receive(testTime.Add(time.Second))
	r2, _ := e.Receive(testTime.Add(time.Hour))
	if Verify(r1, pub) != nil || Verify(r2, pub) != nil || r1.LeafHash() == r2.LeafHash() {
		t.Error("receipt time should be in the leaf but not in the signature")
	}
	unsigned, _ := NewEntry(KindNote, "monitor-1", testTime, []byte(`{}`))
	if err := Verify(unsigned, pub); !errors.Is(err, ErrBadSignature) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("unsigned: %v", err)
	}
}

func TestNewEntryErrors(t *testing.T) {
	big := []byte(`{"x":"` + strings.Repeat("a", MaxPayload) + `"}`)
	for _, tc := range []struct {
		name      string
		kind      Kind
		submitter string
		at        time.Time
		payload   string
		sentinel  error
		want      string
	}{
		{"zero kind", 0, "monitor-1", testTime, `{}`, ErrMalformed, "kind: invalid kind 0"},
		{"kind out of range", 99, "monitor-1", testTime, `{}`, ErrMalformed, "kind: invalid kind 99"},
		{"no submitter", KindNote, "", testTime, `{}`, ErrMalformed, "submitter: missing"},
		{"bad submitter", KindNote, "Monitor 1", testTime, `{}`, ErrMalformed, `submitter: malformed identity id "Monitor 1"`},
		{"submitter with quote", KindNote, `a"b`, testTime, `{}`, ErrMalformed, "submitter: malformed identity id"},
		{"no time", KindNote, "monitor-1", time.Time{}, `{}`, ErrMalformed, "submitted: missing"},
		{"far future", KindNote, "monitor-1", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), `{}`, ErrMalformed, "submitted: year 10000"},
		{"not an object", KindNote, "monitor-1", testTime, `[1]`, ErrMalformed, "payload: not a JSON object"},
		{"not JSON", KindNote, "monitor-1", testTime, `{"a":}`, ErrMalformed, "payload: not valid JSON: offset 5"},
		{"not canonical", KindNote, "monitor-1", testTime, `{"b":1,"a":2}`, ErrMalformed, "payload: not in canonical form"},
		{"whitespace", KindNote, "monitor-1", testTime, `{"a": 2}`, ErrMalformed, "payload: not in canonical form"},
		{"too large", KindNote, "monitor-1", testTime, string(big), ErrTooLarge, "payload: 65544 bytes, at most 65536"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewEntry(tc.kind, tc.submitter, tc.at, []byte(tc.payload))
			if !errors.Is(err, tc.sentinel) {
				t.Fatalf("got %v, want %v", err, tc.sentinel)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q, want %q", err, tc.want)
			}
		})
	}
}

func TestParseLeafErrors(t *testing.T) {
	r, _ := testEntry(t).Receive(testTime.Add(time.Second))
	good := string(r.Leaf())
	for _, tc := range []struct {
		name, leaf, want string
	}{
		{"not JSON", `nope`, "parsing leaf: entry: not a JSON object"},
		{"unknown field", strings.Replace(good, `{"v":1,`, `{"v":1,"x":2,`, 1), `unknown field "x"`},
		{"missing field", strings.Replace(good, `"kind":"observation",`, ``, 1), "parsing leaf: kind: missing"},
		{"version", strings.Replace(good, `"v":1`, `"v":2`, 1), "parsing leaf: v: unknown leaf version 2"},
		{"unknown kind", strings.Replace(good, `"observation"`, `"rumour"`, 1), `parsing leaf: kind: unknown kind "rumour"`},
		{"bad time", strings.Replace(good, `"2026-03-01T10:00:00Z"`, `"yesterday"`, 1), `parsing leaf: submitted: "yesterday" is not an RFC 3339 time`},
		{"offset time", strings.Replace(good, `"2026-03-01T10:00:00Z"`, `"2026-03-01T11:00:00+01:00"`, 1), `submitted: "2026-03-01T11:00:00+01:00" is not in canonical form`},
		{"trailing zeros", strings.Replace(good, `10:00:01Z`, `10:00:01.000Z`, 1), `received: "2026-03-01T10:00:01.000Z" is not in canonical form`},
		{"bad sig", strings.Replace(good, `"sig":"`, `"sig":"AA`, 1), "parsing leaf: sig: not the padded base64 of 64 bytes"},
		{"payload spacing", strings.Replace(good, `{"count":3,`, `{"count": 3,`, 1), "parsing leaf: payload: not in canonical form"},
		{"field order", strings.Replace(good, `"v":1,`, ``, 1)[:len(good)-7] + `,"v":1}`, "not in canonical leaf form"},
		{"escaped key", strings.Replace(good, `"kind"`, `"\u006bind"`, 1), "not in canonical leaf form"},
		{"duplicate field", strings.Replace(good, `{"v":1,`, `{"v":1,"v":1,`, 1), "not in canonical leaf form"},
		{"trailing newline", good + "\n", "not in canonical leaf form"},
		{"trailing data", good + "{}", "data after the leaf object"},
		{"too large", strings.Repeat(" ", MaxLeafSize+1), "parsing leaf: entry: 66561 bytes, at most 66560"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseLeaf([]byte(tc.leaf))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Errorf("%v wraps neither ErrMalformed nor ErrTooLarge", err)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("not a *ParseError: %#v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q, want %q", err, tc.want)
			}
		})
	}
}

func TestKinds(t *testing.T) {
	names := map[string]bool{}
	for _, k := range Kinds() {
		s := k.String()
		names[s] = true
		p, err := ParseKind(s)
		if err != nil || p != k {
			t.Errorf("ParseKind(%q) = %v, %v", s, p, err)
		}
		var u Kind
		if b, err := k.MarshalText(); err != nil || u.UnmarshalText(b) != nil || u != k {
			t.Errorf("text round trip of %v", k)
		}
	}
	for _, want := range []string{"observation", "notification", "hotline", "acknowledgement", "vote", "dispatch", "review", "note", "tick", "agreement"} {
		if !names[want] {
			t.Errorf("kind %q missing", want)
		}
	}
	if len(names) != 10 {
		t.Errorf("%d kinds, want 10", len(names))
	}
	if _, err := ParseKind("Observation"); !errors.Is(err, ErrMalformed) {
		t.Errorf("ParseKind is case-sensitive: %v", err)
	}
	if _, err := Kind(0).MarshalText(); err == nil {
		t.Error("the zero kind marshals")
	}
	if s := Kind(42).String(); s != "Kind(42)" {
		t.Errorf("String of an invalid kind: %q", s)
	}
}

// FuzzParseLeaf demands that every leaf ParseLeaf accepts re-encodes to the same bytes
// (age's FuzzMalleability), so one entry has exactly one leaf hash.
func FuzzParseLeaf(f *testing.F) {
	e := testEntry(f)
	for _, d := range []time.Duration{0, time.Nanosecond, 1500 * time.Millisecond} {
		r, _ := e.Receive(testTime.Add(d))
		f.Add(r.Leaf())
	}
	for _, p := range []string{`{}`, `{"a":[1,2,{"b":null}],"c":"\u0000é\\\""}`} {
		e, _ := NewEntry(KindTick, "clock.1", testTime, []byte(p))
		Sign(e, testKey)
		r, _ := e.Receive(testTime.Add(time.Minute))
		f.Add(r.Leaf())
	}
	// Entries of signed batches: of one (an empty path), of three and of eight.
	for _, n := range []int{1, 3, 8} {
		es := testBatch(f, n)
		r, _ := es[n-1].Receive(testTime.Add(time.Second))
		f.Add(r.Leaf())
		if n > 1 { // and in run form
			r, _ := inRunForm(es)[n-1].Receive(testTime.Add(time.Second))
			f.Add(r.Leaf())
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseLeaf(b)
		if err != nil {
			return
		}
		if !bytes.Equal(e.Leaf(), b) {
			t.Fatalf("leaf %q re-encodes as %q", b, e.Leaf())
		}
		// Rebuilding the entry from its parts gives the same leaf.
		n, err := NewEntry(e.Kind(), e.Submitter(), e.Submitted(), e.Payload())
		if err != nil {
			t.Fatalf("parsed entry's parts refused: %v", err)
		}
		if e.IsRun() {
			// Run form has no constructor outside the log: the leaf must re-encode, and an
			// entry alone must not verify.
			if err := Verify(e, testPub); !errors.Is(err, ErrRunOnly) {
				t.Fatalf("run-form entry checked alone: %v", err)
			}
			_ = VerifyRun([]*Entry{e}, testPub)
			return
		}
		if p, ok := e.Batch(); ok {
			if err := n.SetBatchSignature(p, e.Signature()); err != nil {
				t.Fatalf("parsed batch proof refused: %v", err)
			}
		} else if err := n.SetSignature(e.Signature()); err != nil {
			t.Fatal(err)
		}
		r, err := n.Receive(e.Received())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(r.Leaf(), b) || r.LeafHash() != e.LeafHash() {
			t.Fatalf("rebuilt leaf %q differs from %q", r.Leaf(), b)
		}
		// Verifying never panics, whatever the proof.
		_ = Verify(e, testPub)
	})
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
