package qom

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/qscope/qscope/qmp"
)

func TestFromBinary(t *testing.T) {
	tests := []struct {
		binary, target string
		alias, family  string // a machine alias and the prefix of the machine it names
		defaultAlias   string // the alias of the default machine; "" for none
		cpu, device    string
	}{
		{"qemu-system-x86_64", "x86_64", "q35", "pc-q35-", "pc", "qemu64", "virtio-net-pci"},
		{"qemu-system-aarch64", "aarch64", "virt", "virt-", "", "cortex-a57", "virtio-net-pci"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			p := binaryProfile(t, tt.binary)
			if p.Target != tt.target {
				t.Errorf("Target = %q, want %q", p.Target, tt.target)
			}
			if !filepath.IsAbs(p.Binary) || p.Size == 0 || p.ModTime.IsZero() {
				t.Errorf("binary identity = %q, %d, %v; want an absolute path, size and "+
					"mtime", p.Binary, p.Size, p.ModTime)
			}
			if !strings.HasPrefix(p.Version, p.Release()+".") {
				t.Errorf("Release() = %q, not a prefix of Version %q", p.Release(), p.Version)
			}
			if !p.AbstractTypes || !p.MachineAliases {
				t.Errorf("AbstractTypes, MachineAliases = %v, %v; want true, true",
					p.AbstractTypes, p.MachineAliases)
			}
			if m := p.Machine(tt.alias); m == nil || !strings.HasPrefix(m.Name, tt.family) {
				t.Errorf("Machine(%q) = %+v, want a %s* machine", tt.alias, m, tt.family)
			}
			def := p.DefaultMachine()
			switch {
			case tt.defaultAlias == "" && def != nil:
				t.Errorf("default machine = %+v, want none", def)
			case tt.defaultAlias != "" && (def == nil || def.Alias != tt.defaultAlias):
				t.Errorf("default machine = %+v, want alias %q", def, tt.defaultAlias)
			}
			if p.idx().cpus[tt.cpu] == nil {
				t.Errorf("CPU model %s missing", tt.cpu)
			}
			if p.isA(tt.device, "device") != yes {
				t.Errorf("%s is not a device", tt.device)
			}
			if !slices.Contains(p.ChardevBackends, "socket") {
				t.Errorf("chardev backends %v lack socket", p.ChardevBackends)
			}
			if !slices.Contains(p.Interfaces["user-creatable"], "secret") {
				t.Errorf("user-creatable types %v lack secret", p.Interfaces["user-creatable"])
			}
		})
	}
}

// TestFromBinaryChainsComplete checks that every parent a binary names is itself in the
// profile, so that every chain ends at a root.
func TestFromBinaryChainsComplete(t *testing.T) {
	for _, bin := range []string{"qemu-system-x86_64", "qemu-system-aarch64"} {
		p := binaryProfile(t, bin)
		var roots []string
		for _, typ := range p.Types {
			if typ.Parent == "" {
				roots = append(roots, typ.Name)
			} else if p.Type(typ.Parent) == nil {
				t.Errorf("%s: parent %s of %s is not in the profile", bin, typ.Parent, typ.Name)
			}
		}
		slices.Sort(roots)
		if diff := cmp.Diff([]string{"interface", "object"}, roots); diff != "" {
			t.Errorf("%s: roots (-want +got):\n%s", bin, diff)
		}
	}
}

// TestClassesMatchImplements checks the class membership that the profile derives from
// parent chains against QEMU's own reply to qom-list-types implements=CLASS.
func TestClassesMatchImplements(t *testing.T) {
	classes := []string{"device", "machine", "accel", "cpu", "chardev", "netfilter",
		"memory-backend", "pci-device", "sys-bus-device"}
	for _, bin := range []string{"qemu-system-x86_64", "qemu-system-aarch64"} {
		p := binaryProfile(t, bin)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		proc, err := qmp.Launch(ctx, p.Binary, launchArgs...)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		for _, class := range classes {
			var list []struct{ Name string }
			err := proc.Conn.Execute(ctx, "qom-list-types",
				map[string]any{"implements": class, "abstract": true}, &list)
			if err != nil {
				t.Fatal(err)
			}
			var want, got []string
			for _, typ := range list {
				want = append(want, typ.Name)
			}
			for _, typ := range p.Types {
				if p.isA(typ.Name, class) == yes {
					got = append(got, typ.Name)
				}
			}
			slices.Sort(want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: members of %s (-want +got):\n%s", bin, class, diff)
			}
		}
		proc.Close()
		cancel()
	}
}

// TestFromBinaryMatchesCapture compares the installed binaries with the saved QMP replies
// of Debian's QEMU 7.2.22: the same release must give the same profile.
func TestFromBinaryMatchesCapture(t *testing.T) {
	for bin, arch := range map[string]string{"qemu-system-x86_64": "x86_64",
		"qemu-system-aarch64": "aarch64"} {
		live := binaryProfile(t, bin)
		saved, err := FromCapture(captureDir(t, arch))
		if err != nil {
			t.Fatal(err)
		}
		if live.Version != saved.Version || live.Package != saved.Package {
			t.Logf("%s is QEMU %s (%s), the capture %s (%s): not compared", bin,
				live.Version, live.Package, saved.Version, saved.Package)
			continue
		}
		ignore := cmpopts.IgnoreFields(Profile{}, "Binary", "Size", "ModTime", "Sources",
			"Created", "once", "index")
		if diff := cmp.Diff(saved, live, ignore); diff != "" {
			t.Errorf("%s: profile (-capture +binary):\n%s", bin, diff)
		}
	}
}

func TestFromBinaryErrors(t *testing.T) {
	qemu := qemuBinary(t, "qemu-system-x86_64")
	notQEMU := writeScript(t, "qemu-system-x86_64", "echo 'usage: frob [-v]'\n")
	// A wrapper that starts the real QEMU with an option QEMU rejects: QEMU exits during
	// start-up, and its own message must reach the caller.
	early := writeScript(t, "qemu-early", `exec `+qemu+` "$@" -device no-such-device`+"\n")
	silent := writeScript(t, "qemu-silent",
		"case \"$1\" in --version) echo 'QEMU emulator version 7.2.22';; *) exec sleep 5;; esac\n")
	tests := []struct {
		name    string
		binary  string
		timeout time.Duration
		want    []string
	}{
		{"missing binary", "/nonexistent/qemu-system-x86_64", 0, []string{"not found"}},
		{"not in PATH", "qemu-system-nonexistent", 0, []string{"not found in $PATH"}},
		{"directory", t.TempDir(), 0, []string{"is a directory"}},
		{"not QEMU", notQEMU, 0, []string{"is not a QEMU system emulator",
			"usage: frob"}},
		{"QEMU exits early", early, 0, []string{"exited during start-up",
			"'no-such-device' is not a valid device model name"}},
		{"QEMU never opens its socket", silent, 500 * time.Millisecond,
			[]string{"did not open its QMP socket"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			p, err := FromBinary(ctx, tt.binary)
			if err == nil {
				t.Fatalf("FromBinary(%s) = %s, want an error", tt.binary, p.Describe())
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error = %v, want it to contain %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "qom: ") {
				t.Errorf("error = %v, want the qom: prefix", err)
			}
		})
	}
}
