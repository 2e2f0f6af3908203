//go:build ignore

// Command gen writes the DEMO keys of the example agreements, deterministically, so anyone can
// regenerate them and check that the published files are what they claim:
//
//	go run examples/keys/gen/main.go           # from the repository root; rewrites the files
//	go run examples/keys/gen/main.go -check    # only checks the files on disk
//
// The seed of identity ID is sha256("truce-demo-key:" + ID). Anyone can derive these private
// keys: they are DEMO KEYS, published, NEVER FOR REAL USE. See examples/keys/README.md.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
)

// identities are the signers of examples/line-of-contact.yaml (the small examples reuse some).
var identities = []string{
	"east-liaison",
	"west-liaison",
	"monitor-1",
	"monitor-2",
	"uav-gs-1",
	"ais-rx-1",
	"analyst-1",
	"guarantor-a-rep",
	"guarantor-b-rep",
	"mission-head",
	"public-reader",
}

func main() {
	check := flag.Bool("check", false, "only check the files on disk, do not write")
	dir := flag.String("dir", "examples/keys", "directory of the key files")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("gen: ")

	failed := false
	for _, id := range identities {
		priv, pub := files(id)
		for _, f := range []struct {
			name string
			data []byte
			mode os.FileMode
		}{{id + ".key", priv, 0o600}, {id + ".pub", pub, 0o644}} {
			p := filepath.Join(*dir, f.name)
			if *check {
				got, err := os.ReadFile(p)
				if err != nil {
					log.Print(err)
					failed = true
				} else if !bytes.Equal(got, f.data) {
					log.Printf("%s: differs from the key derived from its seed", p)
					failed = true
				}
				continue
			}
			if err := os.WriteFile(p, f.data, f.mode); err != nil {
				log.Fatal(err)
			}
			if err := os.Chmod(p, f.mode); err != nil { // WriteFile keeps an existing file's mode
				log.Fatal(err)
			}
		}
		fmt.Printf("%-16s %s", id, pub)
	}
	if failed {
		os.Exit(1)
	}
}

// files returns the contents of ID.key and ID.pub.
func files(id string) (priv, pub []byte) {
	seed := sha256.Sum256([]byte("truce-demo-key:" + id))
	key := ed25519.NewKeyFromSeed(seed[:])
	enc := base64.StdEncoding
	priv = fmt.Appendf(nil, "# truce ed25519 private key: %s (DEMO KEY, published, never for real use)\ned25519-private:%s\n",
		id, enc.EncodeToString(seed[:]))
	pub = fmt.Appendf(nil, "ed25519:%s\n", enc.EncodeToString(key.Public().(ed25519.PublicKey)))
	return priv, pub
}
