// Package golden compares test output with golden files under testdata, and rewrites them
// when a test runs with -update.
package golden

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Check compares got with the content of file. With update it writes got to file instead,
// so that "go test -update" regenerates the golden files after a reviewed change.
func Check(t testing.TB, file, got string, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs; check the change, then run go test with -update "+
			"(-want +got):\n%s", file, diff)
	}
}
