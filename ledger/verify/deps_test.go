package verify

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the verifier free of storage and server code, so that parties can
// build it into their own tools.
func TestDependencies(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{
			"database/sql", "net/http", "github.com/truce-mission/truce/store/",
			"github.com/truce-mission/truce/api", "modernc.org/", "github.com/jackc/",
		} {
			if dep == banned || strings.HasPrefix(dep, banned) {
				t.Errorf("ledger/verify depends on %s", dep)
			}
		}
	}
}
