package reqauth

import (
	"crypto/ed25519"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	c := &Checker{Keys: func(id string) (ed25519.PublicKey, bool) { return pub, id == "monitor-1" }, Now: func() time.Time { return now }}
	body := []byte(`{"a":1}`)
	signed := func() *http.Request {
		r, _ := http.NewRequest("POST", "http://x/v1/observations?dry=1", nil)
		Sign(r, body, "monitor-1", priv, now)
		return r
	}
	r := signed()
	if id, err := c.Check(r, body); err != nil || id != "monitor-1" {
		t.Fatalf("genuine: %q %v", id, err)
	}
	if _, err := c.Check(r, body); !errors.Is(err, ErrReplayed) {
		t.Errorf("replay: %v", err)
	}
	for name, c2 := range map[string]struct {
		mutate func(*http.Request) []byte
		want   error
	}{
		"body":    {func(r *http.Request) []byte { return []byte(`{"a":2}`) }, ErrBadSignature},
		"target":  {func(r *http.Request) []byte { r.URL.RawQuery = "dry=0"; return body }, ErrBadSignature},
		"method":  {func(r *http.Request) []byte { r.Method = "PUT"; return body }, ErrBadSignature},
		"who":     {func(r *http.Request) []byte { r.Header.Set(HeaderIdentity, "monitor-2"); return body }, ErrUnknownIdentity},
		"date":    {func(r *http.Request) []byte { r.Header.Set(HeaderDate, "2026-11-22T09:00:00Z"); return body }, ErrStale},
		"nonce":   {func(r *http.Request) []byte { r.Header.Set(HeaderNonce, "short"); return body }, ErrMalformed},
		"missing": {func(r *http.Request) []byte { r.Header = http.Header{}; return body }, ErrUnsigned},
	} {
		r := signed()
		b := c2.mutate(r)
		_, err := c.Check(r, b)
		if !errors.Is(err, c2.want) {
			t.Errorf("%s: %v, want %v", name, err, c2.want)
		}
		var he *HeaderError
		if !errors.As(err, &he) || !strings.HasPrefix(he.Header, "Truce-") {
			t.Errorf("%s: error %v names no header", name, err)
		}
	}
}
