package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qscope/qscope/internal/golden"
	"github.com/qscope/qscope/internal/testcorpus"
	"github.com/qscope/qscope/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// run runs qscope with args and stdin and returns the exit code and both outputs.
func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

const kvmQ35 = "qemu-system-x86_64 -machine q35,accel=kvm -nodefaults -cpu host " +
	"-m 2048 -display none -device virtio-net-pci,netdev=n0 " +
	"-netdev tap,id=n0,ifname=tap0,script=no,downscript=no " +
	"-blockdev driver=qcow2,node-name=d0,file.driver=file,file.filename=/vm/disk.qcow2 " +
	"-device virtio-blk-pci,drive=d0 -qmp unix:/run/vm1.qmp,server=on,wait=off"

func TestCheckExitCodes(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		wantErr  string
	}{
		{"accepted at accept", []string{"check", "--level", "accept", "--",
			"qemu-system-x86_64", "-M", "isapc"}, "", ExitAllowed, ""},
		{"insecure rejected at prohibit-insecure", []string{"check", "--level",
			"prohibit-insecure", "--", "qemu-system-x86_64", "-M", "isapc"}, "",
			ExitRejected, ""},
		{"reject is require-secure", []string{"check", "--level", "reject", "--",
			"qemu-system-x86_64", "-M", "q35", "-nodefaults", "-display", "none",
			"-device", "ne2k_pci"}, "", ExitRejected, ""},
		{"file from stdin", []string{"check", "--level", "accept", "--file", "-"},
			"LC_ALL=C \\\n/usr/bin/qemu-system-x86_64 \\\n-M q35 -nodefaults\n", ExitAllowed, ""},
		{"invalid level", []string{"check", "--level", "strict", "--", "qemu-system-x86_64"},
			"", ExitInvalid, `invalid level "strict"`},
		{"invalid format", []string{"check", "--format", "xml", "--", "qemu-system-x86_64"},
			"", ExitInvalid, `invalid format "xml"`},
		{"no command line", []string{"check"}, "", ExitInvalid, "no command line"},
		{"arch without libvirt", []string{"check", "--arch", "aarch64", "--",
			"qemu-system-x86_64"}, "", ExitInvalid, "--arch and --libvirt-version apply to"},
		{"unknown QEMU release", []string{"check", "--libvirt", "-", "--qemu-version", "99.0"},
			"", ExitInvalid, "QEMU version 99.0 is outside the releases"},
		{"both file and argv", []string{"check", "--file", "x", "--", "qemu-system-x86_64"},
			"", ExitInvalid, "give one of --file, --cmdline"},
		{"cmdline from stdin", []string{"check", "--level", "accept", "--cmdline", "-"},
			"/usr/bin/qemu-system-x86_64\x00-M\x00q35\x00-nodefaults\x00-device\x00" +
				`{"driver":"virtio-net-pci","id":"a b"}` + "\x00", ExitAllowed, ""},
		{"unknown option in argv", []string{"check", "--", "qemu-system-x86_64", "-bogus"},
			"", ExitInvalid, "argv[1] -bogus: unknown option"},
		{"shell error with position", []string{"check", "--file", "-"},
			"qemu-system-x86_64 -name 'x\n", ExitInvalid, "line 1, column 26"},
		{"parse error with line", []string{"check", "--file", "-"},
			"qemu-system-x86_64 \\\n -device e1000 \\\n -device\n", ExitInvalid,
			"(line 3, column 2)"},
		{"missing catalog file", []string{"check", "--catalog", "/nonexistent.yaml", "--",
			"qemu-system-x86_64"}, "", ExitInvalid, "/nonexistent.yaml"},
		{"unknown command", []string{"frob"}, "", ExitInvalid, `unknown command "frob"`},
		{"no arguments", nil, "", ExitInvalid, "usage: qscope COMMAND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, tt.stdin, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", code, tt.wantCode, errOut)
			}
			if !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", errOut, tt.wantErr)
			}
			if tt.wantCode == ExitInvalid && out != "" {
				t.Errorf("stdout = %q, want nothing on invalid input", out)
			}
		})
	}
}

func TestCheckLibvirt(t *testing.T) {
	dir := filepath.Join(testcorpus.Dir(t), "libvirt-10.1")
	xml, err := os.ReadFile(filepath.Join(dir, "x86_64-q35-headless.xml"))
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, string(xml), "check", "--level", "accept", "--format", "json",
		"--libvirt", "-")
	if code != ExitAllowed {
		t.Fatalf("exit code %d, want 0: %s", code, errOut)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	machines := 0
	for _, c := range rep.Components {
		if c.Kind != "machine" {
			continue
		}
		machines++
		if c.Origin == nil || !strings.HasPrefix(c.Origin.Path, "/domain/os/type") {
			t.Errorf("machine origin = %+v, want a path under /domain/os/type", c.Origin)
		}
	}
	if machines != 1 {
		t.Errorf("%d machine components, want 1", machines)
	}

	for _, name := range []string{"vhost_queues-invalid.xml", "pci-bridge-negative-index-invalid.xml"} {
		code, out, errOut = run(t, "", "check", "--libvirt", filepath.Join(dir, name))
		if code != ExitInvalid || out != "" || !strings.Contains(errOut, "domxml: line") {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 with the XML error", name, code, errOut)
		}
	}
	code, out, errOut = run(t, string(xml), "check", "--level", "accept", "--format", "json",
		"--libvirt", "-", "--qemu-version", "8.0", "--libvirt-version", "9.0")
	if code != ExitAllowed || !strings.Contains(out, `"type":"pc-q35-8.0"`) {
		t.Errorf("--qemu-version 8.0: exit %d, stderr %q; want q35 resolved to pc-q35-8.0",
			code, errOut)
	}
	code, _, errOut = run(t, "", "check", "--libvirt", "x.xml", "--", "qemu-system-x86_64")
	if code != ExitInvalid || !strings.Contains(errOut, "--libvirt alone") {
		t.Errorf("--libvirt with argv: exit %d, stderr %q", code, errOut)
	}
}

func TestCheckJSONContract(t *testing.T) {
	code, out, errOut := run(t, "", append([]string{"check", "--format", "json", "--level",
		"prohibit-insecure", "--"}, strings.Fields(kvmQ35)...)...)
	if code != ExitAllowed {
		t.Fatalf("exit code = %d, want %d; stderr: %s", code, ExitAllowed, errOut)
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	for _, key := range []string{"schema", "level", "verdict", "scope", "components"} {
		if _, ok := raw[key]; !ok {
			t.Errorf("report lacks %q", key)
		}
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Schema != 1 || rep.Level != "prohibit-insecure" || rep.Verdict != "allowed" {
		t.Errorf("schema %d level %q verdict %q", rep.Schema, rep.Level, rep.Verdict)
	}
	for i, c := range raw["components"].([]any) {
		m := c.(map[string]any)
		for _, key := range []string{"kind", "type", "status", "finding", "origin",
			"implied_by", "reason", "source"} {
			if _, ok := m[key]; !ok {
				t.Errorf("component %d lacks %q", i, key)
			}
		}
		if (m["origin"] == nil) == (m["implied_by"] == nil) {
			t.Errorf("component %d: exactly one of origin and implied_by must be null", i)
		}
	}
	first := rep.Components[0]
	if first.Kind != "machine" || first.Origin == nil || first.Origin.Arg != 1 ||
		first.Origin.Option != "-machine" || first.Origin.Text != "q35,accel=kvm" {
		t.Errorf("first component = %+v, want the machine at argv 1", first)
	}
}

func TestCheckTextFitsWidth(t *testing.T) {
	code, out, _ := run(t, "", append([]string{"check", "--"},
		strings.Fields(kvmQ35+" -device ne2k_pci -chardev pty,id=c0 -device isa-serial,chardev=c0")...)...)
	if code != ExitRejected {
		t.Errorf("exit code = %d, want %d (the default require-secure rejects the insecure "+
			"NIC and the undecided pty)", code, ExitRejected)
	}
	for i, line := range strings.Split(out, "\n") {
		if len(line) > 100 {
			t.Errorf("line %d is %d columns wide:\n%s", i+1, len(line), line)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; last != "rejected at level require-secure (3 rejected)" {
		t.Errorf("last line = %q, want the verdict", last)
	}
}

func TestCatalogCommand(t *testing.T) {
	code, out, errOut := run(t, "", "catalog", "--format", "json", "--kind", "accel")
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, errOut)
	}
	var got catalogJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range got.Entries {
		if e.Kind != "accel" {
			t.Errorf("entry of kind %q listed with --kind accel", e.Kind)
		}
		if e.Name == "kvm-accel" && e.Status == "secure" && e.Source != "" {
			found = true
		}
	}
	if !found {
		t.Error("kvm-accel secure entry with a source not listed")
	}

	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("schema: 1\nentries:\n  - kind: device\n    name: x\n"+
		"    status: maybe\n    reason: r\n    source: s\n"), 0o644)
	code, out, errOut = run(t, "", "catalog", "--catalog", bad)
	if code != ExitInvalid || !strings.Contains(errOut, bad+":5") || out != "" {
		t.Errorf("bad catalog: code %d stderr %q stdout %q, want exit 2 naming %s:5", code,
			errOut, out, bad)
	}
}

func TestCheckUserCatalogOverrides(t *testing.T) {
	dir := t.TempDir()
	overlay := filepath.Join(dir, "site.yaml")
	os.WriteFile(overlay, []byte(`schema: 1
entries:
  - kind: device
    name: ne2k_pci
    status: secure
    reason: accepted by this site
    source: site security review 2026-11
`), 0o644)
	args := []string{"check", "--level", "prohibit-insecure", "--format", "json",
		"--catalog", overlay, "--", "qemu-system-x86_64", "-M", "q35,accel=kvm", "-nodefaults",
		"-display", "none", "-device", "ne2k_pci"}
	code, out, errOut := run(t, "", args...)
	if code != ExitAllowed {
		t.Fatalf("exit code %d, want 0: %s", code, errOut)
	}
	var rep report.Report
	json.Unmarshal([]byte(out), &rep)
	for _, c := range rep.Components {
		if c.Type == "ne2k_pci" && (c.Entry == nil || c.Entry.Layer != overlay) {
			t.Errorf("ne2k_pci decided by %+v, want the overlay", c.Entry)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"help", "check"},
		{"help", "catalog"}, {"version"}} {
		code, out, errOut := run(t, "", args...)
		if code != 0 || out == "" || errOut != "" {
			t.Errorf("%v: code %d stdout %q stderr %q", args, code, out, errOut)
		}
	}
	_, out, _ := run(t, "", "version")
	if !strings.HasPrefix(out, "qscope "+Version) {
		t.Errorf("version = %q", out)
	}
}

// goldenFiles are representative corpus command lines whose JSON reports are kept in
// testdata/golden: x86 pc and q35, aarch64 virt, s390x, ppc64 and riscv64, with network
// disks, displays, chardevs, passthrough, 9p, TPM, sound, USB and memory devices.
var goldenFiles = []string{
	"libvirt-10.1/aarch64-pci-serial.aarch64-latest.args",
	"libvirt-10.1/aarch64-gic-v3.aarch64-latest.args",
	"libvirt-10.1/console-compat.x86_64-latest.args",
	"libvirt-10.1/controller-virtio-scsi.x86_64-latest.args",
	"libvirt-10.1/disk-cdrom.x86_64-latest.args",
	"libvirt-10.1/disk-floppy-q35.x86_64-latest.args",
	"libvirt-10.1/disk-network-nbd.x86_64-latest.args",
	"libvirt-10.1/disk-network-rbd.x86_64-latest.args",
	"libvirt-10.1/fs9p.x86_64-latest.args",
	"libvirt-10.1/fs9p-ccw.s390x-latest.args",
	"libvirt-10.1/graphics-spice.x86_64-latest.args",
	"libvirt-10.1/graphics-vnc-tls.x86_64-latest.args",
	"libvirt-10.1/graphics-vnc-websocket.x86_64-latest.args",
	"libvirt-10.1/hostdev-pci-address.x86_64-latest.args",
	"libvirt-10.1/input-usbtablet.x86_64-latest.args",
	"libvirt-10.1/iothreads-disk.x86_64-latest.args",
	"libvirt-10.1/launch-security-sev-missing-platform-info.x86_64-6.0.0.args",
	"libvirt-10.1/memory-hotplug-dimm.x86_64-latest.args",
	"libvirt-10.1/net-user-passt.x86_64-latest.args",
	"libvirt-10.1/pseries-basic.ppc64-latest.args",
	"libvirt-10.1/riscv64-virt-headless.riscv64-latest.args",
	"libvirt-10.1/serial-tcp-telnet-chardev.x86_64-latest.args",
	"libvirt-10.1/smartcard-passthrough-tcp.x86_64-latest.args",
	"libvirt-10.1/tpm-passthrough.x86_64-latest.args",
	"libvirt-10.1/vhost-user-fs-sock.x86_64-latest.args",
	"libvirt-10.1/video-qxl-device.x86_64-latest.args",
	"libvirt-10.1/x86_64-q35-headless.x86_64-latest.args",
	"libvirt-5.6/minimal.args",
	"libvirt-5.6/graphics-vnc.args",
	"libvirt-5.6/net-user.args",
	"libvirt-5.6/sound-device.args",
	"libvirt-5.6/usb-controller.args",
}

func TestGoldenReports(t *testing.T) {
	dir := testcorpus.Dir(t)
	for _, name := range goldenFiles {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := run(t, "", "check", "--level", "accept", "--format", "json",
				"--file", filepath.Join(dir, name))
			if code != ExitAllowed {
				t.Fatalf("exit code %d: %s", code, errOut)
			}
			// The golden files are indented so that a diff shows the changed fields.
			var indented bytes.Buffer
			if err := json.Indent(&indented, []byte(out), "", "  "); err != nil {
				t.Fatal(err)
			}
			out = indented.String()
			golden.Check(t, filepath.Join("testdata", "golden",
				strings.ReplaceAll(name, "/", "_")+".json"), out, *update)
		})
	}
}

// TestCorpusExitCodes runs every corpus command line through qscope check at level
// accept: each exits 0, except the ones QEMU itself rejects, which exit 2 with nothing on
// stdout.
func TestCorpusExitCodes(t *testing.T) {
	for _, sub := range []string{"libvirt-10.1", "libvirt-5.6"} {
		for _, f := range testcorpus.Files(t, sub, ".args") {
			key := sub + "/" + f.Name
			want, rejected := testcorpus.QEMURejects[key]
			code, out, errOut := run(t, f.Text, "check", "--level", "accept", "--format",
				"json", "--file", "-")
			switch {
			case rejected && (code != ExitInvalid || out != "" || !strings.Contains(errOut, want)):
				t.Errorf("%s: exit %d, stdout %d bytes, stderr %q; want exit 2 with an "+
					"error containing %q only", key, code, len(out), errOut, want)
			case !rejected && code != ExitAllowed:
				t.Errorf("%s: exit %d, want 0; stderr: %s", key, code, errOut)
			}
		}
	}
}
