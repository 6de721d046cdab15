package domxml

import (
	"flag"
	"fmt"
	"os"
	"path"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/qscope/qscope/catalog"
	"github.com/qscope/qscope/internal/testcorpus"
	"github.com/qscope/qscope/qemuargs"
	"github.com/qscope/qscope/vm"
)

// corpusPair is one input domain XML and a command line libvirt generated for it.
type corpusPair struct {
	key  string // libvirt-10.1/NAME.x86_64-latest.args
	arch string // from the .args name, "" when it gives none
	xml  testcorpus.File
	args testcorpus.File
}

var argsSuffix = regexp.MustCompile(`^(.*)\.([a-z0-9_]+)-(latest|[0-9.]+)\.args$`)

// corpusPairs returns every (input XML, .args) pair of a corpus folder.
func corpusPairs(t testing.TB, sub string) []corpusPair {
	xmls := map[string]testcorpus.File{}
	for _, f := range testcorpus.Files(t, sub, ".xml") {
		xmls[f.Name] = f
	}
	var out []corpusPair
	for _, a := range testcorpus.Files(t, sub, ".args") {
		name, arch := strings.TrimSuffix(a.Name, ".args"), ""
		if m := argsSuffix.FindStringSubmatch(a.Name); m != nil {
			name, arch = m[1], m[2]
		}
		x, ok := xmls[name+".xml"]
		if !ok {
			continue
		}
		out = append(out, corpusPair{key: sub + "/" + a.Name, arch: arch, xml: x, args: a})
	}
	return out
}

// comparedKinds are the kinds whose components the corpus test compares.
var comparedKinds = map[vm.Kind]bool{vm.KindMachine: true, vm.KindAccel: true,
	vm.KindDevice: true, vm.KindObject: true, vm.KindChardev: true, vm.KindNetdev: true,
	vm.KindBlockDriver: true}

// libvirtInternal reports whether c is an object that libvirt adds for itself and whose
// presence depends on the QEMU version rather than on the XML: the master key secret and
// the backend of the machine's RAM.
func libvirtInternal(c *vm.Component) bool {
	if c.Kind != vm.KindObject {
		return false
	}
	id := c.Props["id"]
	return id == "masterKey0" || strings.HasSuffix(id, ".ram") && strings.HasPrefix(c.Name,
		"memory-backend-")
}

// componentSet returns the compared components of cfg as sorted "kind name" lines, with
// names resolved through the catalog's aliases.
func componentSet(cfg *vm.Config, cat *catalog.Catalog) []string {
	var out []string
	for i := range cfg.Components {
		c := &cfg.Components[i]
		if !comparedKinds[c.Kind] || libvirtInternal(c) {
			continue
		}
		name, _ := cat.Resolve(c.Kind, c.Name, cfg.Target, "")
		out = append(out, string(c.Kind)+" "+name)
	}
	sort.Strings(out)
	return out
}

// canonicalMachines replaces a machine family of got (pc-i440fx-*, the resolution of the
// alias pc) by the versioned machine of want that it matches. libvirt writes the
// versioned name that the alias stands for in the QEMU binary it probed, which the XML
// alone cannot give.
func canonicalMachines(got, want []string) []string {
	out := append([]string(nil), got...)
	for i, g := range out {
		family, ok := strings.CutPrefix(g, "machine ")
		if !ok || !strings.Contains(family, "*") {
			continue
		}
		for _, w := range want {
			if m, ok := strings.CutPrefix(w, "machine "); ok {
				if match, _ := path.Match(family, m); match {
					out[i] = w
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// parseArgs parses a corpus command line.
func parseArgs(text string) (*vm.Config, error) {
	_, words, err := qemuargs.SplitCommandLine(text)
	if err != nil {
		return nil, err
	}
	argv := make([]string, len(words))
	for i, w := range words {
		argv[i] = w.Text
	}
	return qemuargs.Parse(argv, qemuargs.Options{})
}

// diffSets returns the lines only in want and only in got.
func diffSets(want, got []string) (missing, extra []string) {
	count := map[string]int{}
	for _, w := range want {
		count[w]++
	}
	for _, g := range got {
		count[g]--
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for n := count[k]; n > 0; n-- {
			missing = append(missing, k)
		}
		for n := count[k]; n < 0; n++ {
			extra = append(extra, k)
		}
	}
	return missing, extra
}

// comparePair returns "" when the XML and the .args of p give the same components, or a
// description of the difference.
func comparePair(p corpusPair, cat *catalog.Catalog) string {
	want, werr := parseArgs(p.args.Text)
	got, gerr := Parse([]byte(p.xml.Text), Options{Arch: p.arch})
	switch {
	case werr != nil && gerr != nil:
		return ""
	case werr != nil:
		return "args error: " + werr.Error()
	case gerr != nil:
		return "xml error: " + gerr.Error()
	}
	wantSet := componentSet(want, cat)
	missing, extra := diffSets(wantSet, canonicalMachines(componentSet(got, cat), wantSet))
	if len(missing) == 0 && len(extra) == 0 {
		return ""
	}
	return fmt.Sprintf("missing %v, extra %v", missing, extra)
}

// difference is one category of expected differences between a domain XML and the
// command line libvirt generated for it.
type difference struct {
	name   string
	reason string
	// match reports whether a pair's difference belongs to the category.
	match func(p corpusPair, missing, extra []string, diff string) bool
}

// onlyKinds reports whether every line of lines is one of names.
func onlyOf(lines []string, names ...string) bool {
	for _, l := range lines {
		ok := false
		for _, n := range names {
			if l == n {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// differences are the categories of expected differences, most specific first.
var differences = []difference{
	{"args: -usb after -machine usb=off",
		"the command-line parser omits the USB controller that -usb creates after " +
			"-machine usb=off; QEMU 7.2 creates it (query-pci shows it)",
		func(p corpusPair, missing, extra []string, _ string) bool {
			return strings.Contains(p.args.Text, "\n-usb") && len(missing) == 0 &&
				onlyOf(extra, "device piix3-usb-uhci", "device pci-ohci")
		}},
	{"host: qemu.conf TLS and secrets",
		"TLS credentials and their secrets come from qemu.conf settings, not the XML",
		func(_ corpusPair, missing, extra []string, _ string) bool {
			return len(extra) == 0 && len(missing) > 0 &&
				onlyOf(missing, "object tls-creds-x509", "object secret")
		}},
	{"host: thread-context objects",
		"libvirt adds thread-context objects from the host's NUMA nodes for preallocation",
		func(_ corpusPair, missing, extra []string, _ string) bool {
			return len(extra) == 0 && onlyOf(missing, "object thread-context")
		}},
	{"host: nbdkit",
		"libvirt serves curl and ssh disks through nbdkit when the host has it, which " +
			"turns the protocol driver into nbd",
		func(_ corpusPair, missing, _ []string, _ string) bool {
			for _, m := range missing {
				if m == "block-driver nbd" {
					return true
				}
			}
			return false
		}},
	{"host: storage pools",
		"a volume source names a storage pool whose definition lives on the host",
		func(_ corpusPair, _, _ []string, diff string) bool {
			return strings.Contains(diff, "cannot resolve pool volumes")
		}},
	{"args: rejected by the parser",
		"the command line itself is rejected by the command-line parser",
		func(_ corpusPair, _, _ []string, diff string) bool {
			return strings.HasPrefix(diff, "args error:")
		}},
	{"libvirt 5.6: capability-dependent generation",
		"libvirt 5.6 chose devices by the QEMU capabilities of each test (ioh3420 root " +
			"ports, ich9 USB on q35, -drive floppies, pci-assign), which the XML does not give",
		func(p corpusPair, _, _ []string, _ string) bool {
			return strings.HasPrefix(p.key, "libvirt-5.6/")
		}},
	{"generator gap",
		"a libvirt rule qscope does not model yet: PCI placement corner cases, " +
			"virtio-mmio defaults, memory backend choice, LUKS and s390 zPCI details",
		func(corpusPair, []string, []string, string) bool { return true }},
}

var update = flag.Bool("update", false, "rewrite testdata/corpus-differences.golden")

// TestCorpusAgreement parses every corpus domain XML and compares its components with
// those of the command line libvirt generated for it. Every pair that differs is recorded
// with its category in testdata/corpus-differences.golden.
func TestCorpusAgreement(t *testing.T) {
	def, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.New(def)
	var table strings.Builder
	for _, sub := range []string{"libvirt-10.1", "libvirt-5.6"} {
		pairs := corpusPairs(t, sub)
		agree := 0
		counts := map[string]int{}
		for _, p := range pairs {
			diff := comparePair(p, cat)
			if diff == "" {
				agree++
				continue
			}
			missing, extra := splitDiff(p, cat)
			for _, d := range differences {
				if d.match(p, missing, extra, diff) {
					counts[d.name]++
					fmt.Fprintf(&table, "%s\t%s\t%s\n", p.key, d.name, diff)
					break
				}
			}
		}
		pct := 100 * float64(agree) / float64(len(pairs))
		t.Logf("%s: %d of %d pairs agree exactly (%.1f%%)", sub, agree, len(pairs), pct)
		for _, d := range differences {
			if counts[d.name] > 0 {
				t.Logf("  %4d %s: %s", counts[d.name], d.name, d.reason)
			}
		}
		// TODO: the goal is 95% exact agreement for libvirt 10.1; the generator reaches
		// 91.0%, so this floor guards against regressions until the gaps listed in the
		// golden file are closed. libvirt 5.6 has no floor (see docs/libvirt.md).
		if sub == "libvirt-10.1" && pct < 90 {
			t.Errorf("%s: %.1f%% of pairs agree, want at least 90%%", sub, pct)
		}
	}
	checkGolden(t, "testdata/corpus-differences.golden", table.String())
}

// splitDiff returns the missing and extra components of a pair, or nothing when either
// side has an error.
func splitDiff(p corpusPair, cat *catalog.Catalog) ([]string, []string) {
	want, werr := parseArgs(p.args.Text)
	got, gerr := Parse([]byte(p.xml.Text), Options{Arch: p.arch})
	if werr != nil || gerr != nil {
		return nil, nil
	}
	wantSet := componentSet(want, cat)
	return diffSets(wantSet, canonicalMachines(componentSet(got, cat), wantSet))
}

// checkGolden compares got with the golden file, or rewrites it with -update.
func checkGolden(t *testing.T, file, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got); run go test -update after checking:\n%s", file,
			diff)
	}
}

var outputXML = regexp.MustCompile(`\.[a-z0-9_]+-(latest|[0-9.]+)\.xml$`)
