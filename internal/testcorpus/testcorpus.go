// Package testcorpus finds the shared test corpus of real QEMU command lines and libvirt
// domain XML, which lives outside the repository in a folder named shared/corpus beside
// the checkout (or wherever QSCOPE_CORPUS points). Tests skip with a message when it is
// absent.
package testcorpus

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Dir returns the corpus directory, or skips the test when there is none.
func Dir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("QSCOPE_CORPUS"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		c := filepath.Join(d, "shared", "corpus")
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return c
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	t.Skip("test corpus not found: put it in shared/corpus beside the checkout or set " +
		"QSCOPE_CORPUS")
	return ""
}

// File is one corpus file.
type File struct {
	Name string // the file name, such as aarch64-pci-serial.aarch64-latest.args
	Path string
	Text string // the content, with symbolic-link stand-ins followed
}

// Files returns the files of corpus subdirectory sub whose names end in suffix, sorted by
// name. libvirt's test data contains symbolic links that some copies store as small text
// files naming their target; those are followed.
func Files(t testing.TB, sub, suffix string) []File {
	t.Helper()
	dir := filepath.Join(Dir(t), sub)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Skipf("test corpus folder %s not readable: %v", dir, err)
	}
	var out []File
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), suffix) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		text, err := readFollowing(dir, path)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, File{Name: e.Name(), Path: path, Text: text})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// readFollowing reads path; when the whole file is the name of another file in dir, it
// reads that one instead.
func readFollowing(dir, path string) (string, error) {
	for range 4 {
		data, err := os.ReadFile(path)
		if err != nil {
			return "", err
		}
		text := string(data)
		name := strings.TrimSpace(text)
		if name == "" || strings.ContainsAny(name, " \n/") || strings.HasPrefix(name, "<") {
			return text, nil
		}
		next := filepath.Join(dir, name)
		if _, err := os.Stat(next); err != nil {
			return text, nil
		}
		path = next
	}
	return "", os.ErrInvalid
}

// QEMURejects maps the corpus command lines that QEMU itself rejects to the text of the error
// qscope must give for each. libvirt's pass-through tests add an unknown option or a
// positional argument, some old tests pass -no-acpi to targets without ACPI, and a few put
// SD card drives on a PC, which has no SD slot.
var QEMURejects = map[string]string{
	"libvirt-10.1/disk-serial.x86_64-latest.args":                    "does not support if=sd",
	"libvirt-10.1/qemu-ns-alt.x86_64-latest.args":                    "-unknown: unknown option",
	"libvirt-10.1/qemu-ns-commandline-ns0.x86_64-latest.args":        "stray positional argument",
	"libvirt-10.1/qemu-ns-commandline-ns1.x86_64-latest.args":        "stray positional argument",
	"libvirt-10.1/qemu-ns-domain-commandline-ns0.x86_64-latest.args": "stray positional argument",
	"libvirt-10.1/qemu-ns-domain-commandline.x86_64-latest.args":     "stray positional argument",
	"libvirt-10.1/qemu-ns-domain-ns0.x86_64-latest.args":             "stray positional argument",
	"libvirt-10.1/qemu-ns-no-env.x86_64-latest.args":                 "-unknown: unknown option",
	"libvirt-10.1/qemu-ns.x86_64-latest.args":                        "-unknown: unknown option",
	"libvirt-5.6/disk-cdrom-bus-other.x86_64-latest.args":            "does not support if=sd",
	"libvirt-5.6/disk-serial.args":                                   "does not support if=sd",
	"libvirt-5.6/machine-aeskeywrap-off-argv.args":                   "not supported for target s390x",
	"libvirt-5.6/machine-aeskeywrap-on-argv.args":                    "not supported for target s390x",
	"libvirt-5.6/machine-deakeywrap-off-argv.args":                   "not supported for target s390x",
	"libvirt-5.6/machine-deakeywrap-on-argv.args":                    "not supported for target s390x",
	"libvirt-5.6/machine-keywrap-none-argv.args":                     "not supported for target s390x",
	"libvirt-5.6/pseries-disk.args":                                  "not supported for target ppc64",
	"libvirt-5.6/qemu-ns-alt.args":                                   "-unknown: unknown option",
	"libvirt-5.6/qemu-ns-commandline-ns0.args":                       "stray positional argument",
	"libvirt-5.6/qemu-ns-commandline-ns1.args":                       "stray positional argument",
	"libvirt-5.6/qemu-ns-commandline.args":                           "stray positional argument",
	"libvirt-5.6/qemu-ns-domain-commandline-ns0.args":                "stray positional argument",
	"libvirt-5.6/qemu-ns-domain-ns0.args":                            "stray positional argument",
	"libvirt-5.6/qemu-ns-no-env.args":                                "-unknown: unknown option",
	"libvirt-5.6/qemu-ns.x86_64-4.0.0.args":                          "-unknown: unknown option",
	"libvirt-5.6/qemu-ns.x86_64-latest.args":                         "-unknown: unknown option",
}
