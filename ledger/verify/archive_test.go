package verify

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestArchiveRoundTrip(t *testing.T) {
	f := newFixture(t)
	f.grow(20)
	a := f.archive(f.leaves)
	a.Checkpoints = append(a.Checkpoints, f.checkpoint(f.leaves, 7))
	var buf bytes.Buffer
	if err := a.Write(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	if len(lines) != 1+2+20+1 || !strings.HasPrefix(lines[0], `{"format":"truce-archive/v1","origin":"truce.example/loc-2026-illustrative","verifier_key":"`) {
		t.Fatalf("unexpected layout:\n%s", buf.String()[:400])
	}
	if !strings.HasSuffix(lines[3], string(f.leaves[0])) {
		t.Errorf("entry line %q does not end with the leaf", lines[3])
	}
	b, err := Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := b.Write(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("read and written again, the archive changed")
	}
	if r := VerifyArchive(b, Options{Identities: f.keys, VerifierKey: f.vkey}); !r.OK() {
		t.Errorf("read archive does not verify:\n%s", r)
	}
}

func TestReadErrors(t *testing.T) {
	f := newFixture(t)
	f.grow(3)
	var buf bytes.Buffer
	if err := f.archive(f.leaves).Write(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	lines := strings.SplitAfter(good, "\n")
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", "line 1: malformed archive: missing header"},
		{"not JSON", "hello\n", "line 1: malformed archive: header:"},
		{"other format", strings.Replace(good, "truce-archive/v1", "truce-archive/v9", 1), `format "truce-archive/v9"`},
		{"spaced header", strings.Replace(good, `"format":`, `"format": `, 1), "header: not in the form Write gives"},
		{"unknown header field", strings.Replace(good, `{"format"`, `{"x":1,"format"`, 1), `unknown field "x"`},
		{"truncated", strings.Join(lines[:len(lines)-2], ""), "line 5: malformed archive: missing entry 2"},
		{"no final newline", strings.TrimSuffix(good, "\n"), "line 5: malformed archive: entry 2 does not end with a newline"},
		{"extra data", good + "more\n", "line 6: malformed archive: data after the 3 entries"},
		{"bad hash", strings.Replace(good, lines[3][:44], "!!!!", 1), "line 4: malformed archive: entry 1: leaf hash"},
		{"no space", strings.Replace(good, lines[3][:45], lines[3][:44], 1), "entry 1: want a leaf hash, a space and the leaf"},
		{"negative count", strings.Replace(good, `"checkpoints":1`, `"checkpoints":-1`, 1), "negative count"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tc.in))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrFormat) {
				t.Errorf("%v does not wrap ErrFormat", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q, want %q", err, tc.want)
			}
		})
	}
}

// FuzzRead demands that an archive Read accepts is written back byte for byte.
func FuzzRead(f *testing.F) {
	fx := newFixture(f)
	fx.grow(3)
	var buf bytes.Buffer
	fx.archive(fx.leaves).Write(&buf)
	f.Add(buf.Bytes())
	f.Add([]byte(`{"format":"truce-archive/v1","origin":"o","verifier_key":"k","entries":0,"checkpoints":0}` + "\n"))
	f.Add([]byte(`{"format":"truce-archive/v1","origin":"\u003c","verifier_key":"","entries":1,"checkpoints":1}` + "\n" +
		`{"checkpoint":"a\nb"}` + "\n" + "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU= x\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		a, err := Read(bytes.NewReader(in))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := a.Write(&out); err != nil {
			t.Fatalf("read but cannot write: %v", err)
		}
		if !bytes.Equal(out.Bytes(), in) {
			t.Fatalf("read %q, wrote %q", in, out.Bytes())
		}
		VerifyArchive(a, Options{}) // must not panic
	})
}
