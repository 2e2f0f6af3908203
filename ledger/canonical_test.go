package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCanonicalize(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"compact", "{ \"a\" : 1 ,\n\t\"b\" : [ true , false , null ] }", `{"a":1,"b":[true,false,null]}`},
		{"sorted keys", `{"b":1,"a":{"d":2,"c":3}}`, `{"a":{"c":3,"d":2},"b":1}`},
		{"byte order of keys", `{"é":1,"z":2,"A":3,"a":4}`, `{"A":3,"a":4,"z":2,"é":1}`},
		{"numbers kept as written", `[1.0,1,-0,1e3,1E+3,0.5e-2]`, `[1.0,1,-0,1e3,1E+3,0.5e-2]`},
		{"escapes decoded", `"\u0041\/\u00e9\ud83d\ude00"`, `"A/é😀"`},
		{"escapes kept", "\"q\\\"b\\\\n\\n\\t\\u0001\\u001f\\b\\f\\r\"", "\"q\\\"b\\\\n\\n\\t\\u0001\\u001f\\b\\f\\r\""},
		{"html not escaped", `"<a&b>"`, `"<a&b>"`},
		{"line separators literal", "\"\u2028\u2029\"", "\"\u2028\u2029\""},
		{"empty containers", `{ "a" : { } , "b" : [ ] }`, `{"a":{},"b":[]}`},
		{"scalar", ` 42 `, `42`},
		{"nested sort inside unsorted", `{"z":{"y":1,"x":2},"a":[{"q":1,"p":2}]}`, `{"a":[{"p":2,"q":1}],"z":{"x":2,"y":1}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Canonicalize([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			again, err := Canonicalize(got)
			if err != nil || !bytes.Equal(again, got) {
				t.Errorf("not idempotent: %s, %v", again, err)
			}
		})
	}
}

func TestCanonicalizeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", ``, "offset 0: unexpected end of input"},
		{"trailing", `{} x`, `offset 3: unexpected 'x' after the value`},
		{"two values", `1 2`, `offset 2: unexpected '2' after the value`},
		{"duplicate key", `{"a":1,"a":2}`, `offset 7: duplicate key "a"`},
		{"duplicate key unsorted", `{"b":1,"a":1,"b":2}`, `duplicate key "b"`},
		{"duplicate via escape", `{"a":1,"\u0061":2}`, `duplicate key "a"`},
		{"bad utf8", "\"\xff\"", "offset 1: invalid UTF-8"},
		{"lone surrogate", `"\ud800"`, "lone surrogate"},
		{"low surrogate first", `"\udc00\ud800"`, "lone surrogate"},
		{"control char", "\"a\nb\"", "control character"},
		{"leading zero", `01`, `unexpected '1' after the value`},
		{"bare dot", `1.`, "want a digit after '.'"},
		{"bad exponent", `1e`, "want a digit in the exponent"},
		{"plus sign", `+1`, "unexpected '+'"},
		{"single quotes", `{'a':1}`, "want a string key"},
		{"trailing comma", `[1,]`, "unexpected ']'"},
		{"bad literal", `tru`, "unexpected 't'"},
		{"bad escape", `"\x"`, `malformed escape \x`},
		{"unterminated", `"abc`, "unexpected end of input in a string"},
		{"too deep", strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1), "nested deeper than 100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Canonicalize([]byte(tc.in))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("%v does not wrap ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := Canonicalize([]byte(strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth))); err != nil {
		t.Errorf("nesting of exactly %d: %v", maxDepth, err)
	}
}

// FuzzCanonicalize checks Canonicalize against encoding/json: it accepts only valid JSON,
// keeps the value, and is idempotent.
func FuzzCanonicalize(f *testing.F) {
	for _, s := range []string{
		`{"b":[1,2.5e3,{"d":null,"c":"x\u00e9"}],"a":true}`,
		`{"kind":"tank","count":3,"pos":[30.5,50.25],"note":"line1\nline2 \"q\" \ud83d\ude00"}`,
		`[]`, `"\u2028"`, `-0.0e-0`, `{"a":{"a":{"a":{}}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := Canonicalize(in)
		checkNewEntryJSON(t, in, out, err)
		if err != nil {
			return
		}
		if !json.Valid(in) {
			t.Fatalf("accepted invalid JSON %q", in)
		}
		again, err := Canonicalize(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", in, out, again, err)
		}
		if err := isCanonical(out); err != nil {
			t.Fatalf("isCanonical(%q) = %v, want nil", out, err)
		}
		if err := isCanonical(in); (err == nil) != bytes.Equal(in, out) {
			t.Fatalf("isCanonical(%q) = %v, but its canonical form is %q", in, err, out)
		}
		var a, b any
		da := json.NewDecoder(bytes.NewReader(in))
		da.UseNumber()
		db := json.NewDecoder(bytes.NewReader(out))
		db.UseNumber()
		if err := da.Decode(&a); err != nil {
			t.Fatal(err)
		}
		if err := db.Decode(&b); err != nil {
			t.Fatalf("output %q is not JSON: %v", out, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("value changed: %q -> %q", in, out)
		}
	})
}

// observationJSON is an intake record as a client sends it: encoding/json's field order,
// so canonicalizing it sorts keys.
const observationJSON = `{"id":"bench-000123","observed":"2026-12-10T08:15:00Z","position":{"lat":47.01571,"lon":36.40572},"category":"tank","count":3,"assessed_party":"east","source":"ground-monitor","reliability":"B","credibility":2,"text":"three tanks moving \"west\" along the road","attachments":["sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]}`

func BenchmarkCanonicalize(b *testing.B) {
	in := []byte(observationJSON)
	out, err := Canonicalize(in)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("unsorted", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			if _, err := Canonicalize(in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("check", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(out)))
		for b.Loop() {
			if err := isCanonical(out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestNewEntryJSON(t *testing.T) {
	for _, in := range []string{
		`{"b":1,  "a":"\u00e9"}`, `{}`, `[1]`, `"x"`, `{"a":`, ``,
		`{"note":"` + strings.Repeat("x", MaxPayload) + `"}`,
		`{"note":"` + strings.Repeat("x", MaxPayload-11) + `"}`,
	} {
		out, err := Canonicalize([]byte(in))
		checkNewEntryJSON(t, []byte(in), out, err)
	}
}

// checkNewEntryJSON checks that NewEntryJSON(in) is NewEntry of in canonicalized (out, err).
func checkNewEntryJSON(t *testing.T, in, out []byte, err error) {
	t.Helper()
	at := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	got, gotErr := NewEntryJSON(KindObservation, "monitor-1", at, in)
	var want *Entry
	wantErr := err
	if err == nil {
		want, wantErr = NewEntry(KindObservation, "monitor-1", at, out)
	}
	switch {
	case (gotErr == nil) != (wantErr == nil):
		t.Fatalf("NewEntryJSON(%q): %v; Canonicalize and NewEntry: %v", in, gotErr, wantErr)
	case gotErr != nil:
		if errors.Is(gotErr, ErrTooLarge) != errors.Is(wantErr, ErrTooLarge) {
			t.Fatalf("NewEntryJSON(%q): %v; Canonicalize and NewEntry: %v", in, gotErr, wantErr)
		}
	case !bytes.Equal(got.Payload(), want.Payload()) || got.Digest() != want.Digest() ||
		got.Digest() != BatchDigest(KindObservation, "monitor-1", at, out):
		t.Fatalf("NewEntryJSON(%q): payload %q, digest %x; NewEntry: %q, %x", in, got.Payload(), got.Digest(), want.Payload(), want.Digest())
	}
}
