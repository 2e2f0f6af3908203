package validate

import (
	"errors"
	"strings"
	"testing"

	"github.com/truce-mission/truce/store"
	"golang.org/x/mod/sumdb/tlog"
)

func TestBatch(t *testing.T) {
	leaves := [][]byte{[]byte("a"), []byte("b")}
	hashes := make([]tlog.Hash, 2)
	tests := []struct {
		name string
		b    *store.Batch
		want string // "" for no error
		is   error
	}{
		{"nil", nil, "malformed batch: nil", nil},
		{"ok", &store.Batch{Leaves: leaves, LeafHash: hashes}, "", nil},
		{"ok with keys", &store.Batch{Leaves: leaves, LeafHash: hashes, Keys: []string{"", ""}}, "", nil},
		{"negative first", &store.Batch{First: -1}, "malformed batch: first entry -1", nil},
		{"leaf hashes", &store.Batch{Leaves: leaves, LeafHash: hashes[:1]}, "2 leaves but 1 leaf hashes", nil},
		{"keys", &store.Batch{Leaves: leaves, LeafHash: hashes, Keys: []string{"k"}}, "2 leaves but 1 keys", nil},
		{"key twice", &store.Batch{First: 5, Leaves: leaves, LeafHash: hashes, Keys: []string{"k", "k"}},
			`"k" given to entries 5 and 6`, store.ErrDuplicateKey},
	}
	for _, tc := range tests {
		err := Batch(tc.b)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		case tc.is != nil && !errors.Is(err, tc.is):
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.is)
		}
	}
}

func TestPosition(t *testing.T) {
	b := &store.Batch{First: 3, HashFirst: 4, Leaves: make([][]byte, 2), Hashes: make([]tlog.Hash, 4)}
	// 3 entries have 4 stored hashes, 5 have 8.
	if err := Position(b, 3, 4); err != nil {
		t.Errorf("Position at the end of the log: %v", err)
	}
	for _, size := range [][2]int64{{2, 2}, {4, 7}, {3, 5}} {
		if err := Position(b, size[0], size[1]); !errors.Is(err, store.ErrConflict) {
			t.Errorf("Position against %v: %v, want ErrConflict", size, err)
		}
	}
	b.Hashes = b.Hashes[:3]
	if err := Position(b, 3, 4); err == nil || errors.Is(err, store.ErrConflict) {
		t.Errorf("Position of a batch short of hashes: %v, want a malformed batch", err)
	}
}

func TestRange(t *testing.T) {
	for _, tc := range []struct {
		start, end, size int64
		want             error // nil, ErrNotFound, or errAny
	}{
		{0, 0, 0, nil}, {0, 5, 5, nil}, {5, 5, 5, nil}, {2, 3, 5, nil},
		{0, 6, 5, store.ErrNotFound}, {6, 6, 5, store.ErrNotFound},
		{3, 2, 5, errAny}, {-1, 2, 5, errAny},
	} {
		err := Range(tc.start, tc.end, tc.size)
		if (tc.want == nil) != (err == nil) || (tc.want == store.ErrNotFound) != errors.Is(err, store.ErrNotFound) {
			t.Errorf("Range(%d, %d, %d) = %v, want %v", tc.start, tc.end, tc.size, err, tc.want)
		}
	}
}

var errAny = errors.New("any error")

func TestSizes(t *testing.T) {
	for _, tc := range []struct {
		n, nMin, nEnd, h, hMin, hEnd int64
		want                         string
	}{
		{0, 0, 0, 0, 0, 0, ""},
		{10, 0, 10, 18, 0, 18, ""},
		{10, 0, 10, 17, 0, 17, "torn tail: 10 entries need 18 stored hashes, found 17"},
		{9, 0, 10, 18, 0, 18, "entries are not numbered 0 to 8 without gaps"},
		{10, 1, 11, 18, 0, 18, "entries are not numbered 0 to 9 without gaps"},
		{10, 0, 10, 17, 0, 18, "stored hashes are not numbered 0 to 16 without gaps"},
	} {
		err := Sizes(tc.n, tc.nMin, tc.nEnd, tc.h, tc.hMin, tc.hEnd)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Sizes%v = %v, want %q", []int64{tc.n, tc.nMin, tc.nEnd, tc.h, tc.hMin, tc.hEnd}, err, tc.want)
		}
	}
}
