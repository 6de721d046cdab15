package qom

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qscope/qscope/internal/testcorpus"
	"github.com/qscope/qscope/qemuargs"
)

func TestFromCorpusTypes(t *testing.T) {
	tests := map[string]struct {
		version, target string
		types, machines int
	}{
		"qom-list-types_7.1.0_ppc64.tsv":   {"7.1.0", "ppc64", 857, 42},
		"qom-list-types_8.0.0_riscv64.tsv": {"8.0.0", "riscv64", 500, 8},
		"qom-list-types_8.1.0_s390x.tsv":   {"8.1.0", "s390x", 330, 26},
		"qom-list-types_8.2.0_aarch64.tsv": {"8.2.0", "aarch64", 1121, 118},
		"qom-list-types_9.0.0_x86_64.tsv":  {"9.0.0", "x86_64", 672, 63},
	}
	files := testcorpus.Files(t, "qemu-types", ".tsv")
	loaded := 0
	for _, f := range files {
		if !strings.HasPrefix(f.Name, "qom-list-types_") {
			continue
		}
		loaded++
		t.Run(f.Name, func(t *testing.T) {
			want, ok := tests[f.Name]
			if !ok {
				t.Fatalf("no expectations for %s: add them to the table", f.Name)
			}
			p, err := Load(f.Path)
			if err != nil {
				t.Fatal(err)
			}
			if p.Version != want.version || p.Target != want.target {
				t.Errorf("version, target = %s, %s; want %s, %s", p.Version, p.Target,
					want.version, want.target)
			}
			if len(p.Types) != want.types || len(p.Machines) != want.machines {
				t.Errorf("%d types, %d machines; want %d, %d", len(p.Types), len(p.Machines),
					want.types, want.machines)
			}
			if p.AbstractTypes || p.MachineAliases || p.SecureReported {
				t.Errorf("AbstractTypes, MachineAliases, SecureReported = %v, %v, %v; "+
					"want all false", p.AbstractTypes, p.MachineAliases, p.SecureReported)
			}
			for _, m := range p.Machines {
				if p.Type(m.Name+"-machine") == nil {
					t.Errorf("machine %s has no type %s-machine", m.Name, m.Name)
				}
			}
			if len(p.Sources) != 2 || !filepath.IsAbs(p.Sources[0]) {
				t.Errorf("Sources = %q, want the two absolute file paths", p.Sources)
			}
		})
	}
	if loaded != len(tests) {
		t.Errorf("loaded %d type lists, want %d", loaded, len(tests))
	}
}

func TestFromCapture(t *testing.T) {
	tests := []struct {
		arch                            string
		types, abstract, machines, cpus int
		backends, userCreatable         int
		defaultMachine                  string
		alias, aliasTarget              string
	}{
		{"x86_64", 754, 139, 59, 132, 21, 47, "pc-i440fx-7.2", "q35", "pc-q35-7.2"},
		{"aarch64", 1216, 165, 109, 42, 21, 45, "", "virt", "virt-7.2"},
	}
	for _, tt := range tests {
		t.Run(tt.arch, func(t *testing.T) {
			p, err := Load(captureDir(t, tt.arch))
			if err != nil {
				t.Fatal(err)
			}
			abstract := 0
			for _, typ := range p.Types {
				if typ.Abstract {
					abstract++
				}
			}
			got := []int{len(p.Types), abstract, len(p.Machines), len(p.CPUs),
				len(p.ChardevBackends), len(p.Interfaces["user-creatable"])}
			want := []int{tt.types, tt.abstract, tt.machines, tt.cpus, tt.backends,
				tt.userCreatable}
			if !equalInts(got, want) {
				t.Errorf("types, abstract, machines, CPUs, backends, user-creatable = %v, "+
					"want %v", got, want)
			}
			if p.Version != "7.2.22" || p.Target != tt.arch || p.SecureReported {
				t.Errorf("version, target, secure = %s, %s, %v; want 7.2.22, %s, false",
					p.Version, p.Target, p.SecureReported, tt.arch)
			}
			def := ""
			if m := p.DefaultMachine(); m != nil {
				def = m.Name
			}
			if def != tt.defaultMachine {
				t.Errorf("default machine = %q, want %q", def, tt.defaultMachine)
			}
			if m := p.Machine(tt.alias); m == nil || m.Name != tt.aliasTarget {
				t.Errorf("Machine(%q) = %+v, want %s", tt.alias, m, tt.aliasTarget)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// corpusRejects are the libvirt 10.1 command lines that the recorded type list of their
// QEMU release shows QEMU would reject, with QEMU's message. libvirt's tests never start
// QEMU, so nothing there catches them.
var corpusRejects = map[string]string{
	// spapr-vscsi is a ppc device; x86_64 does not build it.
	"disk-scsi.x86_64-latest.args": "'spapr-vscsi' is not a valid device model name",
	// The test feeds an unknown NIC model through on purpose.
	"net-many-models.x86_64-latest.args": "'idontexist' is not a valid device model name",
	// QEMU registers vhost-vsock-pci and vhost-vsock-pci-non-transitional only.
	"virtio-transitional.x86_64-latest.args": "'vhost-vsock-pci-transitional' is not a " +
		"valid device model name",
}

// TestCorpusCommandLines checks every libvirt 10.1 command line of the "latest" QEMU of a
// target against the type list of that QEMU release.
func TestCorpusCommandLines(t *testing.T) {
	lists := map[string]string{
		"x86_64": "9.0.0", "aarch64": "8.2.0", "s390x": "8.1.0", "ppc64": "7.1.0",
		"riscv64": "8.0.0",
	}
	dir := testcorpus.Dir(t)
	for target, version := range lists {
		p, err := Load(filepath.Join(dir, "qemu-types",
			"qom-list-types_"+version+"_"+target+".tsv"))
		if err != nil {
			t.Fatal(err)
		}
		cat := withLayer(t, p)
		checked := 0
		for _, f := range testcorpus.Files(t, "libvirt-10.1", "."+target+"-latest.args") {
			_, words, err := qemuargs.SplitCommandLine(f.Text)
			if err != nil {
				continue
			}
			argv := make([]string, len(words))
			for i, w := range words {
				argv[i] = w.Text
			}
			cfg, err := qemuargs.Parse(argv, qemuargs.Options{QEMUVersion: p.Release()})
			if err != nil {
				continue // the grammar check is qemuargs' test
			}
			checked++
			err = p.Annotate(cfg, cat)
			want, reject := corpusRejects[f.Name]
			switch {
			case reject && (err == nil || !strings.Contains(err.Error(), want)):
				t.Errorf("%s: error = %v, want %q", f.Name, err, want)
			case !reject && err != nil:
				t.Errorf("%s: %v", f.Name, err)
			}
			var list ErrorList
			if reject && errors.As(err, &list) && list[0].Origin.Option != "-device" {
				t.Errorf("%s: error origin = %+v, want the -device option", f.Name,
					list[0].Origin)
			}
		}
		if checked == 0 {
			t.Errorf("%s: no command line checked", target)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := "name\tparent\tabstract\nnone-machine\tmachine\t\n"
	noMachines := write("qom-list-types_9.0.0_x86_64.tsv", good)
	badName := write("types.tsv", good)
	write("qom-list-types_8.0.0_arm.tsv", "name\tparent\n")
	badHeader := filepath.Join(dir, "qom-list-types_8.0.0_arm.tsv")
	write("machines_8.0.0_arm.txt", "none\n")
	write("qom-list-types_7.0.0_arm.tsv", good+"x\ty\tmaybe\n")
	badAbstract := filepath.Join(dir, "qom-list-types_7.0.0_arm.tsv")
	write("machines_7.0.0_arm.txt", "none\n")
	notJSON := write("profile.json", "{")
	emptyCapture := t.TempDir()
	tests := []struct {
		name, path, want string
	}{
		{"missing file", filepath.Join(dir, "nope.json"), "no such file"},
		{"no version in name", badName, "not in the file name"},
		{"no machines file", noMachines, "machines_9.0.0_x86_64.txt"},
		{"bad header", badHeader, "line 1: header"},
		{"bad abstract column", badAbstract, `line 3: abstract column "maybe"`},
		{"not JSON", notJSON, "invalid profile JSON"},
		{"empty capture", emptyCapture, "query-version.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load(%s) error = %v, want %q", tt.path, err, tt.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "qom: ") {
				t.Errorf("error = %v, want the qom: prefix", err)
			}
		})
	}
}
