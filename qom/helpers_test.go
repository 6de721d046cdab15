package qom

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/qscope/qscope/catalog"
	"github.com/qscope/qscope/internal/testcorpus"
	"github.com/qscope/qscope/qemuargs"
	"github.com/qscope/qscope/vm"
)

// debianPackages names the Debian package of each QEMU binary the tests start.
var debianPackages = map[string]string{
	"qemu-system-x86_64":  "qemu-system-x86",
	"qemu-system-aarch64": "qemu-system-arm",
}

// qemuBinary returns the path of a QEMU system emulator, or skips the test when it is not
// installed (.ci/run installs Debian's packages).
func qemuBinary(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (Debian package %s)", name, debianPackages[name])
	}
	return path
}

var (
	profilesMu sync.Mutex
	profiles   = map[string]*Profile{}
)

// binaryProfile returns the profile of an installed QEMU binary, asking it once per test
// process.
func binaryProfile(t testing.TB, name string) *Profile {
	t.Helper()
	bin := qemuBinary(t, name)
	profilesMu.Lock()
	defer profilesMu.Unlock()
	if p := profiles[bin]; p != nil {
		return p
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, err := FromBinary(ctx, bin)
	if err != nil {
		t.Fatalf("FromBinary(%s): %v", bin, err)
	}
	profiles[bin] = p
	return p
}

// captureDir returns the directory of saved QMP replies of Debian's QEMU 7.2 for arch, or
// skips the test when the corpus is absent.
func captureDir(t testing.TB, arch string) string {
	t.Helper()
	dir := filepath.Join(testcorpus.Dir(t), "qemu-7.2", arch)
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("corpus folder %s not readable: %v", dir, err)
	}
	return dir
}

// defaultCatalog returns a catalog of the embedded default layer.
func defaultCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	def, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	return catalog.New(def)
}

// withLayer returns the default catalog with the profile's layer on top.
func withLayer(t testing.TB, p *Profile) *catalog.Catalog {
	t.Helper()
	cat := defaultCatalog(t)
	cat.Push(p.Layer(cat))
	return cat
}

// parse parses a command line for the profile's release, failing the test on errors.
func parse(t testing.TB, p *Profile, argv ...string) *vm.Config {
	t.Helper()
	cfg, err := qemuargs.Parse(argv, qemuargs.Options{QEMUVersion: p.Release()})
	if err != nil {
		t.Fatalf("qemuargs.Parse(%q): %v", argv, err)
	}
	return cfg
}

// writeScript writes an executable shell script into the test's temporary directory.
func writeScript(t testing.TB, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// corpusTypes returns the path of the recorded type list of QEMU version on target.
func corpusTypes(t testing.TB, version, target string) string {
	t.Helper()
	return filepath.Join(testcorpus.Dir(t), "qemu-types",
		"qom-list-types_"+version+"_"+target+".tsv")
}
