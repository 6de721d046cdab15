package cli

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// readmeExample returns the arguments of the README's first check command and the
// component count the README states for it.
func readmeExample(t *testing.T) ([]string, int) {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	const prefix = "    go run ./cmd/qscope check -- "
	start := strings.Index(text, prefix)
	if start < 0 {
		t.Fatalf("README.md has no line starting with %q", prefix)
	}
	block, _, _ := strings.Cut(text[start+len("    go run ./cmd/qscope "):], "\n\n")
	args := strings.Fields(strings.ReplaceAll(block, "\\\n", " "))

	count := regexp.MustCompile(`\((\d+) here`).FindStringSubmatch(text[start:])
	if count == nil {
		t.Fatal(`README.md states no component count "(N here" after the first command`)
	}
	n, err := strconv.Atoi(count[1])
	if err != nil {
		t.Fatal(err)
	}
	return args, n
}

func TestReadmeFirstCommand(t *testing.T) {
	args, want := readmeExample(t)

	code, out, errOut := run(t, "", args...)
	if code != ExitAllowed {
		t.Errorf("exit code = %d, want %d; stderr:\n%s", code, ExitAllowed, errOut)
	}
	if !strings.Contains(out, strconv.Itoa(want)+" components:") {
		t.Errorf("output does not count %d components as README.md states:\n%s", want, out)
	}
	if !strings.HasSuffix(out, "allowed at level require-secure\n") {
		t.Errorf("output does not end with the verdict README.md states:\n%s", out)
	}

	code, out, _ = run(t, "", append(args, "-device", "ne2k_pci")...)
	if code != ExitRejected {
		t.Errorf("with ne2k_pci: exit code = %d, want %d", code, ExitRejected)
	}
	if !strings.Contains(out, "rejected at level require-secure (1 rejected)") {
		t.Errorf("with ne2k_pci: output lacks the verdict README.md states:\n%s", out)
	}
}
