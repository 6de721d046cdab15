package domxml

import (
	"flag"
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/qscope/qscope/catalog"
	"github.com/qscope/qscope/internal/golden"
	"github.com/qscope/qscope/internal/testcorpus"
	"github.com/qscope/qscope/qemuargs"
	"github.com/qscope/qscope/vm"
)

// corpusPair is one input domain XML and a command line libvirt generated for it.
type corpusPair struct {
	key  string // libvirt-10.1/NAME.x86_64-latest.args
	arch string // from the .args name, "" when it gives none
	// options are the parse options the .args name and the corpus folder give.
	options Options
	xml     testcorpus.File
	args    testcorpus.File
	// caseless is set for a libvirt 5.6 command line that no test case of that release
	// generates: a file left over from an older release.
	caseless bool
}

// corpusLibvirt is the libvirt version that generated each corpus folder.
var corpusLibvirt = map[string]string{"libvirt-10.1": "10.1", "libvirt-5.6": "5.6"}

// latestQEMU is the QEMU version of the newest capabilities each libvirt's tests had per
// architecture: a .args name ending in ARCH-latest was generated for it. libvirt 10.1's
// are those its test data names; libvirt 5.6 had QEMU 4.1.0 data for x86_64 and 4.0.0
// for the others.
var latestQEMU = map[string]map[string]string{
	"libvirt-10.1": {"x86_64": "9.0.0", "aarch64": "8.2.0", "s390x": "8.1.0",
		"ppc64": "7.1.0", "riscv64": "8.0.0"},
	"libvirt-5.6": {"x86_64": "4.1.0", "aarch64": "4.0.0", "s390x": "4.0.0",
		"ppc64": "4.0.0", "riscv64": "4.0.0"},
}

// capabilityTypes maps libvirt's capability flags to the QOM types libvirt probes for
// them (virQEMUCapsObjectTypes). It covers the flags whose types domxml looks up through
// [Options.HasType] and [Options.HasProperty].
var capabilityTypes = map[string]string{
	"QEMU_CAPS_DEVICE_PCIE_ROOT_PORT":  "pcie-root-port",
	"QEMU_CAPS_DEVICE_PCIE_PCI_BRIDGE": "pcie-pci-bridge",
	"QEMU_CAPS_DEVICE_QEMU_XHCI":       "qemu-xhci",
	"QEMU_CAPS_NEC_USB_XHCI":           "nec-usb-xhci",
	"QEMU_CAPS_ICH9_USB_EHCI1":         "ich9-usb-ehci1",
	"QEMU_CAPS_PCI_OHCI":               "pci-ohci",
	"QEMU_CAPS_PIIX3_USB_UHCI":         "piix3-usb-uhci",
	"QEMU_CAPS_DEVICE_VFIO_PCI":        "vfio-pci",
	"QEMU_CAPS_OBJECT_SECRET":          "secret",
	"QEMU_CAPS_DEVICE_VIRTIO_VGA":      "virtio-vga",
	"QEMU_CAPS_OBJECT_GPEX":            "gpex-pcihost",
	"QEMU_CAPS_DEVICE_ZPCI":            "zpci",
	"QEMU_CAPS_CCW":                    "virtual-css-bridge",
	"QEMU_CAPS_VIRTIO_S390":            "virtio-blk-s390",
	"QEMU_CAPS_SCSI_LSI":               "lsi53c895a",
	"QEMU_CAPS_VIRTIO_SCSI":            "virtio-scsi-pci",
	// A device property rather than a type: TYPE.PROPERTY.
	"QEMU_CAPS_VIRTIO_PCI_DISABLE_LEGACY": "virtio-blk-pci.disable-legacy",
}

// declaredTypes reads testdata/libvirt-5.6-capabilities.tsv and returns, for each test
// case of libvirt 5.6 without a QEMU version, the QOM types its capabilities give. libvirt
// generated those command lines for a QEMU with only the capabilities the case declared.
func declaredTypes(t testing.TB) map[string]map[string]bool {
	data, err := os.ReadFile("testdata/libvirt-5.6-capabilities.tsv")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]bool{}
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, flags, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("libvirt-5.6-capabilities.tsv:%d: want NAME<TAB>FLAGS: %q", i+1, line)
		}
		types := map[string]bool{}
		for _, f := range strings.Fields(flags) {
			typ, ok := capabilityTypes[f]
			if !ok {
				t.Fatalf("libvirt-5.6-capabilities.tsv:%d: unknown flag %s", i+1, f)
			}
			types[typ] = true
		}
		out[name] = types
	}
	return out
}

var argsSuffix = regexp.MustCompile(`^(.*)\.([a-z0-9_]+)-(latest|[0-9.]+)\.args$`)

// corpusPairs returns every (input XML, .args) pair of a corpus folder.
func corpusPairs(t testing.TB, sub string) []corpusPair {
	xmls := map[string]testcorpus.File{}
	for _, f := range testcorpus.Files(t, sub, ".xml") {
		xmls[f.Name] = f
	}
	var declared map[string]map[string]bool
	if sub == "libvirt-5.6" {
		declared = declaredTypes(t)
	}
	var out []corpusPair
	for _, a := range testcorpus.Files(t, sub, ".args") {
		name, arch := strings.TrimSuffix(a.Name, ".args"), ""
		o := Options{LibvirtVersion: corpusLibvirt[sub]}
		caseless := false
		if m := argsSuffix.FindStringSubmatch(a.Name); m != nil {
			name, arch = m[1], m[2]
			o.Arch, o.QEMUVersion = arch, m[3]
			if m[3] == "latest" {
				o.QEMUVersion = latestQEMU[sub][arch]
			}
		} else if declared != nil {
			types, ok := declared[name]
			if ok {
				o.HasType = func(n string) bool { return types[n] }
				o.HasProperty = func(typ, prop string) bool { return types[typ+"."+prop] }
			}
			caseless = !ok
		}
		x, ok := xmls[name+".xml"]
		if !ok {
			continue
		}
		out = append(out, corpusPair{key: sub + "/" + a.Name, arch: arch, options: o, xml: x,
			args: a, caseless: caseless})
	}
	return out
}

// comparedKinds are the kinds whose components the corpus test compares.
var comparedKinds = map[vm.Kind]bool{vm.KindMachine: true, vm.KindAccel: true,
	vm.KindDevice: true, vm.KindObject: true, vm.KindChardev: true, vm.KindNetdev: true,
	vm.KindBlockDriver: true}

// libvirtInternal reports whether c is an object that libvirt adds for itself and whose
// presence depends on the QEMU version rather than on the XML. These are the master key
// secret and ramID, the backend of the machine's RAM that -machine memory-backend names.
func libvirtInternal(c *vm.Component, ramID string) bool {
	if c.Kind != vm.KindObject {
		return false
	}
	id := c.Props["id"]
	return id == "masterKey0" || id != "" && id == ramID
}

// componentSet returns the compared components of cfg as sorted "kind name" lines, with
// names resolved through the catalog's aliases.
func componentSet(cfg *vm.Config, cat *catalog.Catalog) []string {
	ramID := ""
	for i := range cfg.Components {
		if c := &cfg.Components[i]; c.Kind == vm.KindMachine {
			ramID = c.Props["memory-backend"]
		}
	}
	var out []string
	for i := range cfg.Components {
		c := &cfg.Components[i]
		if !comparedKinds[c.Kind] || libvirtInternal(c, ramID) {
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

// parseArgs parses a corpus command line. libvirt's test suite wraps long lines of its
// .args files at 80 columns with a backslash-newline, also inside quoted arguments where a
// shell would keep them. The wrapping is not part of the command line, so it is joined
// first.
func parseArgs(text string) (*vm.Config, error) {
	text = strings.ReplaceAll(text, "\\\n", "")
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
// description of the difference. A pair whose XML and .args are both rejected agrees: the
// verdict is the same error exit. These are options passed through <qemu:commandline> or
// drives that QEMU rejects.
func comparePair(p corpusPair, cat *catalog.Catalog) string {
	want, werr := parseArgs(p.args.Text)
	got, gerr := Parse([]byte(p.xml.Text), p.options)
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

// onlyOf reports whether every line of lines is one of names.
func onlyOf(lines []string, names ...string) bool {
	for _, l := range lines {
		if !slices.Contains(names, l) {
			return false
		}
	}
	return true
}

// anyOf reports whether some line of lines is one of names.
func anyOf(lines []string, names ...string) bool {
	for _, l := range lines {
		if slices.Contains(names, l) {
			return true
		}
	}
	return false
}

// xmlHas reports whether the pair's domain XML matches the regular expression re.
func xmlHas(p corpusPair, re string) bool {
	return regexp.MustCompile(re).MatchString(p.xml.Text)
}

var differences = []difference{
	{"libvirt 5.6: command line of no test case",
		"the .args file is left over in libvirt 5.6's test data from an older release: no " +
			"test case of 5.6 generates it, so it need not be what libvirt 5.6 writes",
		func(p corpusPair, _, _ []string, _ string) bool { return p.caseless }},
	{"host: GIC version of the KVM host",
		"libvirt gives a KVM guest of the arm virt machine without <gic version> the GIC " +
			"version of the host; qscope assumes GICv3",
		func(p corpusPair, missing, extra []string, _ string) bool {
			return xmlHas(p, `<domain type=['"]kvm`) && !xmlHas(p, `<gic version=`) &&
				anyOf(missing, "device kvm-arm-gic") && anyOf(extra, "device kvm-arm-gicv3")
		}},
	{"host: qemu.conf TLS and secrets",
		"TLS credentials and their secrets come from qemu.conf settings, not the XML",
		func(_ corpusPair, missing, extra []string, _ string) bool {
			return len(extra) == 0 && len(missing) > 0 &&
				onlyOf(missing, "object tls-creds-x509", "object secret")
		}},
	{"host: nbdkit",
		"libvirt serves curl and ssh disks through nbdkit when the host has it and " +
			"qemu.conf allows it, which turns the protocol driver into nbd",
		func(_ corpusPair, missing, extra []string, _ string) bool {
			return anyOf(missing, "block-driver nbd") && anyOf(extra, "block-driver http",
				"block-driver https", "block-driver ftp", "block-driver ftps",
				"block-driver ssh", "block-driver file")
		}},
	{"host: storage pools",
		"a volume source names a storage pool whose definition lives on the host",
		func(_ corpusPair, _, _ []string, diff string) bool {
			return strings.Contains(diff, "cannot resolve pool volumes")
		}},
	{"host: guest architecture",
		"the domain names no architecture and libvirt takes the host's",
		func(_ corpusPair, _, _ []string, diff string) bool {
			return strings.Contains(diff, "missing arch attribute")
		}},
	{"host: CD-ROM detection",
		"libvirt queries the host kernel whether a block device is a CD-ROM drive (driver " +
			"host_cdrom); qscope goes by the device name",
		func(_ corpusPair, missing, extra []string, _ string) bool {
			return len(missing) > 0 && len(missing) == len(extra) &&
				onlyOf(missing, "block-driver host_device") &&
				onlyOf(extra, "block-driver host_cdrom")
		}},
	{"host: NUMA nodes of pinned emulator CPUs",
		"with pinned vCPUs or emulator threads libvirt keeps a thread-context object only " +
			"when the pinned host CPUs share a NUMA node with the memory",
		func(p corpusPair, missing, extra []string, _ string) bool {
			return len(missing) == 0 && onlyOf(extra, "object thread-context") &&
				xmlHas(p, `cpuset=|<emulatorpin`)
		}},
	{"host: libvirt network definitions",
		"an interface of type network takes its backend from a network defined on the " +
			"host, which may be a pool of host devices",
		func(p corpusPair, missing, _ []string, _ string) bool {
			return xmlHas(p, `<interface type=['"]network`) &&
				anyOf(missing, "device vfio-pci")
		}},
	{"libvirt: transient disks hot-plugged at start",
		"libvirt adds a transient disk with shareBacking='yes' by hotplug after QEMU " +
			"starts; qscope reports it with the VM",
		func(p corpusPair, missing, _ []string, _ string) bool {
			return len(missing) == 0 && xmlHas(p, `shareBacking=['"]yes`)
		}},
	{"args: machine the parser does not model",
		"libvirt 5.6 wrote -vga cirrus for the RHEL machine rhel6.1.0, whose devices the " +
			"command-line parser does not model",
		func(p corpusPair, missing, extra []string, _ string) bool {
			return strings.Contains(p.args.Text, "-machine rhel") && len(missing) == 0 &&
				onlyOf(extra, "device cirrus-vga")
		}},
	{"libvirt: USB controller of a new ppc64 domain",
		"libvirt gives a ppc64 domain qemu-xhci instead of pci-ohci only when the domain is " +
			"being defined (VIR_DOMAIN_DEF_PARSE_ABI_UPDATE); qscope reads a domain as defined",
		func(p corpusPair, missing, extra []string, _ string) bool {
			return p.arch == "" && onlyOf(missing, "device qemu-xhci") && len(extra) == 0 &&
				xmlHas(p, `arch=['"]ppc64`)
		}},
	{"libvirt 5.6: riscv64 QEMU 4.0 without virtio-vga",
		"libvirt's recorded capabilities of QEMU 4.0 for riscv64 have no virtio-vga, so " +
			"libvirt 5.6 wrote virtio-gpu-pci; qscope has no type list of that QEMU and no " +
			"source for the release that gave riscv virt machines virtio-vga",
		func(p corpusPair, missing, extra []string, _ string) bool {
			return p.arch == "riscv64" && onlyOf(missing, "device virtio-gpu-pci") &&
				onlyOf(extra, "device virtio-vga")
		}},
	{"generator gap",
		"a libvirt rule qscope does not model",
		func(corpusPair, []string, []string, string) bool { return true }},
}

var update = flag.Bool("update", false, "rewrite testdata/corpus-differences.golden")

// agreementFloor is the share of pairs per corpus folder that must agree exactly. Every
// other pair must fall into an explained category of differences.
var agreementFloor = map[string]float64{"libvirt-10.1": 95, "libvirt-5.6": 95}

// TestCorpusAgreement parses every corpus domain XML and compares its components with
// those of the command line libvirt generated for it. Every pair that differs is recorded
// with its category in testdata/corpus-differences.golden.
func TestCorpusAgreement(t *testing.T) {
	cat := defaultCatalog(t)
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
		if floor := agreementFloor[sub]; pct < floor {
			t.Errorf("%s: %.1f%% of pairs agree, want at least %.0f%%", sub, pct, floor)
		}
		if n := counts["generator gap"]; n > 0 {
			t.Errorf("%s: %d pairs differ for no known reason; see the generator gap lines "+
				"of testdata/corpus-differences.golden", sub, n)
		}
	}
	golden.Check(t, "testdata/corpus-differences.golden", table.String(), *update)
}

// splitDiff returns the missing and extra components of a pair, or nothing when either
// side has an error.
func splitDiff(p corpusPair, cat *catalog.Catalog) ([]string, []string) {
	want, werr := parseArgs(p.args.Text)
	got, gerr := Parse([]byte(p.xml.Text), p.options)
	if werr != nil || gerr != nil {
		return nil, nil
	}
	wantSet := componentSet(want, cat)
	return diffSets(wantSet, canonicalMachines(componentSet(got, cat), wantSet))
}

var outputXML = regexp.MustCompile(`\.[a-z0-9_]+-(latest|[0-9.]+)\.xml$`)
