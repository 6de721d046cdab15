package audit

import (
	"context"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/qscope/qscope/qmp"
	"github.com/qscope/qscope/vm"
)

// qemuFor returns the system emulator of target, or skips the test when it is not
// installed (.ci/run installs Debian's qemu-system-x86 and qemu-system-arm).
func qemuFor(t testing.TB, target string) string {
	t.Helper()
	bin, err := exec.LookPath("qemu-system-" + target)
	if err != nil {
		t.Skipf("qemu-system-%s not installed", target)
	}
	return bin
}

// startVM starts a paused QEMU of target with args and a private QMP socket, and stops it
// when the test ends.
func startVM(t testing.TB, target string, args ...string) *qmp.Process {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := qmp.Launch(ctx, qemuFor(t, target), args...)
	if err != nil {
		t.Fatalf("starting QEMU: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// auditVM audits the VM p.
func auditVM(t testing.TB, p *qmp.Process) *vm.Config {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := Audit(ctx, p.Conn, Options{Socket: p.Socket})
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	return cfg
}

// makeImages creates the placeholder disk images that test command lines name as
// {raw}, {qcow2}, {overlay} (a qcow2 image whose backing file is {qcow2}), {iso}, and
// {flash64} and {flash64b} (64 MiB each, the size of an arm virt flash bank) in dir, and returns a function
// that puts their paths, and dir for {dir}, into an argument.
func makeImages(t testing.TB, dir string) func(string) string {
	t.Helper()
	paths := map[string]string{
		"{raw}":      filepath.Join(dir, "disk.raw"),
		"{qcow2}":    filepath.Join(dir, "disk.qcow2"),
		"{overlay}":  filepath.Join(dir, "overlay.qcow2"),
		"{iso}":      filepath.Join(dir, "cd.iso"),
		"{flash64}":  filepath.Join(dir, "flash0.raw"),
		"{flash64b}": filepath.Join(dir, "flash1.raw"),
		"{dir}":      dir,
	}
	runs := [][]string{
		{"create", "-q", "-f", "raw", paths["{raw}"], "1M"},
		{"create", "-q", "-f", "qcow2", paths["{qcow2}"], "16M"},
		{"create", "-q", "-f", "qcow2", "-b", paths["{qcow2}"], "-F", "qcow2",
			paths["{overlay}"]},
		{"create", "-q", "-f", "raw", paths["{iso}"], "1M"},
		{"create", "-q", "-f", "raw", paths["{flash64}"], "64M"},
		{"create", "-q", "-f", "raw", paths["{flash64b}"], "64M"},
	}
	img, err := exec.LookPath("qemu-img")
	if err != nil {
		t.Skip("qemu-img not installed")
	}
	for _, args := range runs {
		if out, err := exec.Command(img, args...).CombinedOutput(); err != nil {
			t.Fatalf("qemu-img %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return func(arg string) string {
		for _, k := range keys {
			arg = strings.ReplaceAll(arg, k, paths[k])
		}
		return arg
	}
}

// find returns the components of kind k named name.
func find(cfg *vm.Config, k vm.Kind, name string) []*vm.Component {
	return cfg.Find(k, name)
}

// findOne returns the only component of kind k named name, failing the test otherwise.
func findOne(t *testing.T, cfg *vm.Config, k vm.Kind, name string) *vm.Component {
	t.Helper()
	got := find(cfg, k, name)
	if len(got) != 1 {
		t.Fatalf("%d components %s %s, want 1; components:\n%s", len(got), k, name,
			describe(cfg))
	}
	return got[0]
}

// describe lists cfg's components one per line, for failure messages.
func describe(cfg *vm.Config) string {
	var b strings.Builder
	for _, c := range cfg.Components {
		where := c.ImpliedBy
		if c.Origin != nil {
			where = c.Origin.QOMPath + c.Origin.Node
		}
		b.WriteString(string(c.Kind) + " " + c.Name + " " + where + "\n")
	}
	return b.String()
}
