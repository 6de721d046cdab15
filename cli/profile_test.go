package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/qscope/qscope/internal/testcorpus"
	"github.com/qscope/qscope/qom"
	"github.com/qscope/qscope/report"
)

func TestCheckWithQEMU(t *testing.T) {
	qemu := installedQEMU(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	code, out, errOut := run(t, "", "check", "--qemu", qemu, "--level", "accept", "--format",
		"json", "--", "qemu-system-x86_64", "-M", "q35", "-nodefaults", "-device",
		"virtio-net-pci")
	if code != ExitAllowed {
		t.Fatalf("exit code %d: %s", code, errOut)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	m := rep.Components[0]
	if m.Kind != "machine" || !strings.HasPrefix(m.Type, "pc-q35-") || strings.Contains(m.Type, "*") {
		t.Errorf("machine type = %q, want the binary's versioned pc-q35", m.Type)
	}
	if rep.QEMUVersion == "" {
		t.Error("report has no QEMU version")
	}
	found := false
	for _, c := range rep.Components {
		if c.Type == "virtio-net-pci" {
			found = true
			if len(c.Parents) == 0 || c.Parents[len(c.Parents)-1] != "object" {
				t.Errorf("virtio-net-pci parents = %v, want a chain ending in object", c.Parents)
			}
		}
	}
	if !found {
		t.Error("virtio-net-pci missing")
	}

	code, out, errOut = run(t, "qemu-system-x86_64 -M q35 \\\n  -device no-such-nic\n", "check",
		"--qemu", qemu, "--file", "-")
	if code != ExitInvalid || out != "" {
		t.Errorf("unknown device: exit %d, %d bytes on stdout; want exit 2 and nothing", code,
			len(out))
	}
	for _, want := range []string{"'no-such-nic' is not a valid device model name",
		"(line 2, column 3)"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr %q lacks %q", errOut, want)
		}
	}
}

func TestCheckWithProfileFile(t *testing.T) {
	capture := filepath.Join(testcorpus.Dir(t), "qemu-7.2", "x86_64")
	code, out, errOut := run(t, "", "check", "--profile", capture, "--level", "accept",
		"--format", "json", "--", "qemu-system-x86_64", "-M", "pc", "-nodefaults")
	if code != ExitAllowed {
		t.Fatalf("exit code %d: %s", code, errOut)
	}
	var rep report.Report
	json.Unmarshal([]byte(out), &rep)
	if rep.Components[0].Type != "pc-i440fx-7.2" {
		t.Errorf("machine type = %q, want pc-i440fx-7.2 from the capture", rep.Components[0].Type)
	}
	code, _, errOut = run(t, "", "check", "--profile", capture, "--qemu", "/usr/bin/true",
		"--", "qemu-system-x86_64")
	if code != ExitInvalid || !strings.Contains(errOut, "either --qemu or --profile") {
		t.Errorf("both flags: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = run(t, "", "check", "--qemu", "/bin/true", "--", "qemu-system-x86_64")
	if code != ExitInvalid || !strings.Contains(errOut, "not a QEMU system emulator") {
		t.Errorf("not QEMU: exit %d, stderr %q", code, errOut)
	}
}

// TestCheckWithNewerProfile checks a profile of a QEMU newer than qscope's option table,
// which reports secure flags as QEMU 11.2 does: the command line is still checked against
// every release's grammar, and the binary's layer decides.
func TestCheckWithNewerProfile(t *testing.T) {
	p, err := qom.Load(filepath.Join(testcorpus.Dir(t), "qemu-7.2", "x86_64"))
	if err != nil {
		t.Fatal(err)
	}
	p.Version, p.SecureReported = "11.2.0", true
	for i := range p.Types {
		if p.Types[i].Name == "virtio-net-pci" {
			p.Types[i].Secure = true
		}
	}
	file := filepath.Join(t.TempDir(), "profile.json")
	if err := p.Write(file); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "", "check", "--profile", file, "--level", "accept",
		"--format", "json", "--", "qemu-system-x86_64", "-M", "pc", "-nodefaults",
		"-device", "virtio-net-pci", "-device", "e1000")
	if code != ExitAllowed {
		t.Fatalf("exit code %d: %s", code, errOut)
	}
	var rep report.Report
	json.Unmarshal([]byte(out), &rep)
	for _, c := range rep.Components {
		switch c.Type {
		case "virtio-net-pci":
			if c.Status != "secure" {
				t.Errorf("virtio-net-pci = %s, want secure as the binary declares", c.Status)
			}
		case "e1000":
			// The default catalog rates e1000 secure, but the binary does not declare it.
			if c.Status != "undecided" {
				t.Errorf("e1000 = %s, want undecided: the binary does not declare it secure",
					c.Status)
			}
		}
	}
	if rep.QEMUVersion != "11.2" {
		t.Errorf("report version %q, want 11.2", rep.QEMUVersion)
	}
}

// writeDomain writes a TCG domain of machine without devices and returns its path.
func writeDomain(t *testing.T, machine string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), machine+".xml")
	xml := `<domain type='qemu'><name>d</name><memory unit='MiB'>512</memory>` +
		`<os><type arch='x86_64' machine='` + machine + `'>hvm</type></os><devices>` +
		`<memballoon model='none'/></devices></domain>`
	if err := os.WriteFile(path, []byte(xml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeProfileWithout writes the profile of the recorded QEMU 7.2 x86_64 without the
// named types and returns its path.
func writeProfileWithout(t *testing.T, types ...string) string {
	t.Helper()
	p, err := qom.Load(filepath.Join(testcorpus.Dir(t), "qemu-7.2", "x86_64"))
	if err != nil {
		t.Fatal(err)
	}
	p.Types = slices.DeleteFunc(p.Types, func(ty qom.Type) bool {
		return slices.Contains(types, ty.Name)
	})
	path := filepath.Join(t.TempDir(), "profile.json")
	if err := p.Write(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCheckLibvirtFollowsProfileTypes checks that libvirt's choice of devices follows
// the types of the profiled binary: without pcie-root-port and qemu-xhci, libvirt gives
// a q35 domain Intel's ioh3420 root ports and the NEC xHCI controller.
func TestCheckLibvirtFollowsProfileTypes(t *testing.T) {
	domain := writeDomain(t, "q35")
	tests := []struct {
		name    string
		drop    []string
		want    []string
		missing []string
	}{
		{"every type", nil, []string{"pcie-root-port", "qemu-xhci"},
			[]string{"ioh3420", "nec-usb-xhci"}},
		{"older types", []string{"pcie-root-port", "qemu-xhci"},
			[]string{"ioh3420", "nec-usb-xhci"}, []string{"pcie-root-port", "qemu-xhci"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writeProfileWithout(t, tt.drop...)
			code, out, errOut := run(t, "", "check", "--libvirt", domain, "--profile", file,
				"--level", "accept", "--format", "json")
			if code != ExitAllowed {
				t.Fatalf("exit code %d: %s", code, errOut)
			}
			var rep report.Report
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, c := range rep.Components {
				got[c.Type] = true
			}
			for _, w := range tt.want {
				if !got[w] {
					t.Errorf("%s missing from the report", w)
				}
			}
			for _, m := range tt.missing {
				if got[m] {
					t.Errorf("%s in the report, want it absent", m)
				}
			}
		})
	}
}

// TestCheckLibvirtGeneratedTypeMissing checks that a device libvirt makes QEMU create
// must exist in the profiled binary: without any USB controller type, libvirt writes -usb
// for a pc domain, and QEMU fails to make its piix3-usb-uhci.
func TestCheckLibvirtGeneratedTypeMissing(t *testing.T) {
	file := writeProfileWithout(t, "qemu-xhci", "nec-usb-xhci", "ich9-usb-ehci1",
		"piix3-usb-uhci", "pci-ohci")
	code, out, errOut := run(t, "", "check", "--libvirt", writeDomain(t, "pc"), "--profile",
		file, "--level", "accept")
	if code != ExitInvalid {
		t.Errorf("exit code %d, want %d", code, ExitInvalid)
	}
	if out != "" {
		t.Errorf("stdout = %q, want nothing", out)
	}
	if !strings.Contains(errOut, "device piix3-usb-uhci (-usb") {
		t.Errorf("stderr = %q, want the missing piix3-usb-uhci of -usb", errOut)
	}
}
