package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qscope/qscope/internal/testcorpus"
	"github.com/qscope/qscope/qom"
)

// installedQEMU returns the path of qemu-system-x86_64, or skips the test when it is not
// installed (Debian package qemu-system-x86).
func installedQEMU(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Skip("qemu-system-x86_64 not installed (Debian package qemu-system-x86)")
	}
	return path
}

func TestTypesBinary(t *testing.T) {
	qemu := installedQEMU(t)
	code, out, errOut := run(t, "", "types", "--qemu", qemu)
	if code != 0 {
		t.Fatalf("exit code %d, stderr:\n%s", code, errOut)
	}
	p, err := qom.Decode(strings.NewReader(out))
	if err != nil {
		t.Fatalf("stdout is no profile: %v", err)
	}
	if p.Target != "x86_64" || p.Machine("q35") == nil || p.Binary == "" {
		t.Errorf("profile of %s %s, q35 %+v; want x86_64 with q35", p.Binary, p.Target,
			p.Machine("q35"))
	}
}

func TestTypesOutAndFormats(t *testing.T) {
	dir := testcorpus.Dir(t)
	capture := filepath.Join(dir, "qemu-7.2", "x86_64")
	tsv := filepath.Join(dir, "qemu-types", "qom-list-types_9.0.0_x86_64.tsv")
	tests := []struct {
		name string
		args []string
		want []string // texts stdout or the output file must contain
	}{
		{"capture as JSON", []string{"--from", capture}, []string{`"version": "7.2.22"`,
			`"alias": "q35"`}},
		{"type list as JSON", []string{"--from", tsv}, []string{`"version": "9.0.0"`,
			`"abstract_types": false`}},
		{"capture as text", []string{"--from", capture, "--format", "text"},
			[]string{"QEMU 7.2.22 x86_64", "types:            754 (139 abstract)",
				"default pc-i440fx-7.2", "q35=pc-q35-7.2", "security status:  not reported"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, "", append([]string{"types"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit code %d, stderr:\n%s", code, errOut)
			}
			file := filepath.Join(t.TempDir(), "out")
			code, fileOut, errOut := run(t, "", append([]string{"types", "--out", file},
				tt.args...)...)
			data, err := os.ReadFile(file)
			if code != 0 || err != nil || fileOut != "" {
				t.Fatalf("--out: exit code %d, read error %v, stdout %q, stderr:\n%s", code,
					err, fileOut, errOut)
			}
			if string(data) != out {
				t.Errorf("--out file differs from stdout")
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%.600s", w, out)
				}
			}
		})
	}
}

func TestTypesErrors(t *testing.T) {
	qemu := installedQEMU(t)
	dir := t.TempDir()
	early := filepath.Join(dir, "qemu-early")
	script := "#!/bin/sh\nexec " + qemu + ` "$@" -device no-such-device` + "\n"
	if err := os.WriteFile(early, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"no source", nil, []string{"give either --qemu BINARY or --from PATH"}},
		{"both sources", []string{"--qemu", qemu, "--from", dir},
			[]string{"give either --qemu"}},
		{"stray argument", []string{"--qemu", qemu, "extra"},
			[]string{`unexpected argument "extra"`}},
		{"invalid format", []string{"--qemu", qemu, "--format", "yaml"},
			[]string{`invalid format "yaml"`}},
		{"missing binary", []string{"--qemu", "/nonexistent/qemu-system-x86_64"},
			[]string{"qscope: qom: /nonexistent/qemu-system-x86_64: not found"}},
		{"not QEMU", []string{"--qemu", "/bin/true"},
			[]string{"is not a QEMU system emulator"}},
		{"QEMU exits early", []string{"--qemu", early}, []string{"exited during start-up",
			"'no-such-device' is not a valid device model name"}},
		{"missing --from file", []string{"--from", "/nonexistent.json"},
			[]string{"no such file"}},
		{"output in a missing folder", []string{"--qemu", qemu, "--out",
			filepath.Join(dir, "no", "p.json")}, []string{"writing the profile"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, "", append([]string{"types"}, tt.args...)...)
			if code != ExitInvalid {
				t.Errorf("exit code = %d, want %d", code, ExitInvalid)
			}
			if out != "" {
				t.Errorf("stdout = %.200q, want nothing", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr = %q, want it to contain %q", errOut, w)
				}
			}
		})
	}
}

func TestTypesHelp(t *testing.T) {
	code, out, _ := run(t, "", "help", "types")
	if code != 0 || !strings.Contains(out, "-qemu binary") || !strings.Contains(out, "-from path") {
		t.Errorf("help types: exit code %d, output:\n%s", code, out)
	}
	_, out, _ = run(t, "", "help")
	if !strings.Contains(out, "  types ") {
		t.Errorf("help lacks the types command:\n%s", out)
	}
}
