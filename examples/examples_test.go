// Package examples_test checks the example agreements' demo keys and file references. The
// agreement package validates the agreements themselves.
package examples_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

var agreements = []string{"line-of-contact.yaml", "minimal.yaml", "planar.yaml"}

type agreement struct {
	Identities []struct {
		ID  string `yaml:"id"`
		Key string `yaml:"key"`
	} `yaml:"identities"`
	Zones []struct {
		ID           string `yaml:"id"`
		GeometryFile string `yaml:"geometry_file"`
	} `yaml:"zones"`
}

func load(t *testing.T, name string) agreement {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var a agreement
	if err := yaml.Unmarshal(data, &a); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return a
}

// TestKeysDerived checks every key file against its published seed derivation, as
// keys/gen/main.go writes it, and that each .key holds the private half of its .pub.
func TestKeysDerived(t *testing.T) {
	pubs, err := filepath.Glob("keys/*.pub")
	if err != nil || len(pubs) == 0 {
		t.Fatalf("no keys/*.pub (%v)", err)
	}
	enc := base64.StdEncoding
	for _, p := range pubs {
		id := strings.TrimSuffix(filepath.Base(p), ".pub")
		seed := sha256.Sum256([]byte("truce-demo-key:" + id))
		pub := ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey)
		want := map[string]string{
			id + ".pub": "ed25519:" + enc.EncodeToString(pub) + "\n",
			id + ".key": "# truce ed25519 private key: " + id + " (DEMO KEY, published, never for real use)\n" +
				"ed25519-private:" + enc.EncodeToString(seed[:]) + "\n",
		}
		for name, w := range want {
			got, err := os.ReadFile(filepath.Join("keys", name))
			if err != nil {
				t.Error(err)
				continue
			}
			if !bytes.Equal(got, []byte(w)) {
				t.Errorf("keys/%s = %q, want %q (go run examples/keys/gen/main.go)", name, got, w)
			}
		}
	}
}

// TestAgreementKeys checks that every identity's key is its keys/<id>.pub.
func TestAgreementKeys(t *testing.T) {
	for _, name := range agreements {
		a := load(t, name)
		if len(a.Identities) == 0 {
			t.Errorf("%s: no identities", name)
		}
		for _, id := range a.Identities {
			pub, err := os.ReadFile(filepath.Join("keys", id.ID+".pub"))
			if err != nil {
				t.Errorf("%s: identity %q: %v", name, id.ID, err)
				continue
			}
			if want := strings.TrimSpace(string(pub)); id.Key != want {
				t.Errorf("%s: identity %q: key %q, want %q from keys/%s.pub", name, id.ID, id.Key, want, id.ID)
			}
		}
	}
}

// TestGeometryFiles checks that every referenced geometry file exists.
func TestGeometryFiles(t *testing.T) {
	for _, name := range agreements {
		for _, z := range load(t, name).Zones {
			if z.GeometryFile == "" {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(name), z.GeometryFile)); err != nil {
				t.Errorf("%s: zone %q: %v", name, z.ID, err)
			}
		}
	}
}
