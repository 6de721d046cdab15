package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qscope/qscope/internal/testpeer"
	"github.com/qscope/qscope/qmp"
	"github.com/qscope/qscope/report"
)

func TestAuditUsageErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no socket", []string{"audit"}, "missing --qmp SOCKET"},
		{"positional argument", []string{"audit", "--qmp", "/run/x.sock", "vm1"},
			`audit takes no arguments, but "vm1" was given`},
		{"invalid format", []string{"audit", "--qmp", "/run/x.sock", "--format", "xml"},
			`invalid format "xml"`},
		{"invalid level", []string{"audit", "--qmp", "/run/x.sock", "--level", "strict"},
			`invalid level "strict"`},
		{"invalid timeout", []string{"audit", "--qmp", "/run/x.sock", "--timeout", "0s"},
			"invalid timeout 0s"},
		{"unknown flag", []string{"audit", "--socket", "/run/x.sock"},
			"flag provided but not defined: -socket"},
		{"missing catalog file", []string{"audit", "--qmp", "/run/x.sock", "--catalog",
			"/nonexistent.yaml"}, "/nonexistent.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, "", tt.args...)
			if code != ExitInvalid {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", code, ExitInvalid, errOut)
			}
			if !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", errOut, tt.wantErr)
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
		})
	}
}

const qmpGreeting = `{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, ` +
	`"package": ""}, "capabilities": []}}` + "\n"

func TestAuditConnectionErrors(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "file")
	if err := os.WriteFile(regular, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ssh := testpeer.Listen(t, func(c net.Conn) { c.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n")) })
	silent := testpeer.Listen(t, func(c net.Conn) { time.Sleep(2 * time.Second) })
	rejects := testpeer.Listen(t, func(c net.Conn) {
		c.Write([]byte(qmpGreeting))
		var cmd struct {
			ID string `json:"id"`
		}
		json.NewDecoder(c).Decode(&cmd)
		fmt.Fprintf(c, `{"id": %q, "error": {"class": "GenericError", "desc": `+
			`"Capabilities negotiation is already complete, command ignored"}}`+"\n", cmd.ID)
	})
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"socket missing", []string{"--qmp", filepath.Join(dir, "none.sock")},
			"no such socket"},
		{"not a socket", []string{"--qmp", regular}, "connection refused"},
		{"not a QMP peer", []string{"--qmp", ssh}, "not a QMP server"},
		{"capabilities rejected", []string{"--qmp", rejects},
			"QEMU rejected capability negotiation"},
		{"no greeting in time", []string{"--qmp", silent, "--timeout", "300ms"},
			"no greeting before the deadline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, "", append([]string{"audit"}, tt.args...)...)
			if code != ExitInvalid {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", code, ExitInvalid, errOut)
			}
			if !strings.Contains(errOut, tt.wantErr) || !strings.HasPrefix(errOut, "qscope: ") {
				t.Errorf("stderr = %q, want a qscope: message containing %q", errOut,
					tt.wantErr)
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
		})
	}
}

func TestAuditPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root opens any socket, so permission cannot be denied")
	}
	path := testpeer.Listen(t, func(c net.Conn) {})
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run(t, "", "audit", "--qmp", path)
	if code != ExitInvalid || !strings.Contains(errOut, "permission denied") {
		t.Errorf("exit code %d, stderr %q; want %d and permission denied", code, errOut,
			ExitInvalid)
	}
}

// pausedVM starts a paused q35 VM without a display and returns its QMP socket, free for
// another client. The VM quits when the test ends.
func pausedVM(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		t.Skip("qemu-system-x86_64 not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	base := []string{"-machine", "q35", "-accel", "tcg", "-S", "-display", "none"}
	p, err := qmp.Launch(ctx, bin, append(base, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	// QEMU serves one QMP client at a time on a socket: the launcher's connection closes
	// here, and a new one is made to quit the VM at the end.
	p.Conn.Close()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if conn, err := qmp.Dial(ctx, p.Socket); err == nil {
			p.Conn = conn
		}
		p.Close()
	})
	return p.Socket
}

func TestAuditExitCodes(t *testing.T) {
	sock := pausedVM(t)
	tests := []struct {
		level    string
		wantCode int
		wantLast string
	}{
		{"accept", ExitAllowed, "allowed at level accept"},
		{"prohibit-insecure", ExitRejected, "rejected at level prohibit-insecure"},
		{"reject", ExitRejected, "rejected at level require-secure"},
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			code, out, errOut := run(t, "", "audit", "--qmp", sock, "--level", tt.level)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", code, tt.wantCode, errOut)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, tt.wantLast) {
				t.Errorf("last line %q, want %q", last, tt.wantLast)
			}
			if !strings.Contains(out, "/machine/unattached/device[") {
				t.Errorf("report lacks QOM paths:\n%s", out)
			}
		})
	}
}

func TestAuditJSONReport(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "disk.raw")
	if err := os.WriteFile(img, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	sock := pausedVM(t, "-nodefaults", "-drive", "file="+img+",format=raw,if=virtio",
		"-device", "ne2k_pci")
	code, out, errOut := run(t, "", "audit", "--qmp", sock, "--format", "json",
		"--level", "warn")
	if code != ExitAllowed {
		t.Fatalf("exit code = %d, want %d; stderr: %s", code, ExitAllowed, errOut)
	}

	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("output is not a JSON report: %v", err)
	}
	if rep.Schema != 1 || rep.Target != "x86_64" || rep.QEMUVersion == "" {
		t.Errorf("schema %d target %q qemu_version %q", rep.Schema, rep.Target,
			rep.QEMUVersion)
	}

	kinds := map[string]int{}
	for i, c := range rep.Components {
		kinds[c.Kind]++
		if (c.Origin == nil) == (c.ImpliedBy == nil) {
			t.Errorf("component %d: exactly one of origin and implied_by must be null", i)
		}
		switch {
		case c.Kind == "block-driver" && (c.Origin == nil || c.Origin.Node == ""):
			t.Errorf("block node %d without a node name: %+v", i, c)
		case c.Kind == "device" && (c.Origin == nil || c.Origin.QOMPath == ""):
			t.Errorf("device %d without a QOM path: %+v", i, c)
		case c.Kind == "device" && c.Type == "ne2k_pci" && c.Status != "insecure":
			t.Errorf("ne2k_pci status %q, want insecure", c.Status)
		}
	}

	for _, k := range []string{"machine", "accel", "cpu", "device", "object", "chardev",
		"monitor", "block-driver"} {
		if kinds[k] == 0 {
			t.Errorf("no %s component in the report", k)
		}
	}
	if rep.Scope != "out" {
		t.Errorf("scope %q, want out: TCG and ne2k_pci are insecure", rep.Scope)
	}
}

func TestAuditHelp(t *testing.T) {
	code, out, _ := run(t, "", "help", "audit")
	if code != 0 || !strings.Contains(out, "usage: qscope audit --qmp SOCKET") ||
		!strings.Contains(out, "-timeout") {
		t.Errorf("help audit: exit %d, output:\n%s", code, out)
	}
	_, out, _ = run(t, "", "help")
	if !strings.Contains(out, "audit ") {
		t.Errorf("help does not list audit:\n%s", out)
	}
}
