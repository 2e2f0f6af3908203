// Package refdata finds the real reference data the tests read (AIS logs, ADS-B tracks, CAP
// files and schema): the workspace's shared/data folder, which sits next to the checkout
// (../shared/data from the module root) and is not part of the repository.
//
// A clone elsewhere (CI clones main into a fresh folder) finds it by $TRUCE_SHARED_DATA, by
// a shared/data folder next to any folder above the module, or at /work/shared/data, in that
// order. A test that needs a file that none of them holds fails with the paths it tried:
// reference data that silently goes missing would turn real-data tests into empty ones.
package refdata

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// EnvVar names the environment variable that points at the reference data folder.
const EnvVar = "TRUCE_SHARED_DATA"

var (
	once  sync.Once
	dir   string
	tried []string
)

// Dir returns the reference data folder, or "" and the paths tried.
func Dir() (string, []string) {
	once.Do(func() {
		var candidates []string
		if d := os.Getenv(EnvVar); d != "" {
			candidates = append(candidates, d)
		}
		if wd, err := os.Getwd(); err == nil {
			for d := wd; ; d = filepath.Dir(d) {
				candidates = append(candidates, filepath.Join(d, "..", "shared", "data"))
				if filepath.Dir(d) == d {
					break
				}
			}
		}
		candidates = append(candidates, "/work/shared/data")
		for _, c := range candidates {
			c = filepath.Clean(c)
			tried = append(tried, c)
			if st, err := os.Stat(filepath.Join(c, "README.md")); err == nil && !st.IsDir() {
				dir = c
				return
			}
		}
	})
	return dir, tried
}

// Path returns the path of rel (slash-separated, e.g. "ais/gpsd/sample.aivdm") in the
// reference data, failing tb when the folder or the file is missing.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	d, tried := Dir()
	if d == "" {
		tb.Fatalf("reference data folder not found (set $%s); tried %s", EnvVar, strings.Join(tried, ", "))
	}
	p := filepath.Join(d, filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("reference data missing: %v (see %s)", err, filepath.Join(d, "README.md"))
	}
	return p
}

// Read returns the bytes of rel in the reference data, failing tb when it is missing.
func Read(tb testing.TB, rel string) []byte {
	tb.Helper()
	b, err := os.ReadFile(Path(tb, rel))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
