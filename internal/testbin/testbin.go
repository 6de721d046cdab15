// Package testbin builds the qscope binary for tests and benchmarks that run it as a
// process, as a libvirt hook or a CI gate does.
package testbin

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// Build compiles cmd/qscope into a temporary directory and returns the binary's path.
func Build(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "qscope")
	build := exec.Command("go", "build", "-o", bin, "github.com/qscope/qscope/cmd/qscope")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
