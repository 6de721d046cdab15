package domxml

import (
	"flag"
	"fmt"
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
		o := Options{LibvirtVersion: corpusLibvirt[sub]}
		if m := argsSuffix.FindStringSubmatch(a.Name); m != nil {
			name, arch = m[1], m[2]
			o.Arch, o.QEMUVersion = arch, m[3]
			if m[3] == "latest" {
				o.QEMUVersion = latestQEMU[sub][arch]
			}
		}
		x, ok := xmls[name+".xml"]
		if !ok {
			continue
		}
		out = append(out, corpusPair{key: sub + "/" + a.Name, arch: arch, options: o, xml: x,
			args: a})
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
// description of the difference.
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

// capabilityDevices are the components libvirt 5.6 chose by the QEMU capabilities and
// parse flags each of its tests declared. They are the PCI Express root ports and bridges
// (ioh3420, i82801b11-bridge), legacy device assignment (pci-assign) and the default USB
// controller (qemu-xhci for new ppc64 domains). They are also the IDE and video models,
// virtio-mmio on arm and riscv, zPCI on s390, and the secrets that newer QEMU versions
// take instead of passwords in the drive URL.
var capabilityDevices = []string{"device ioh3420", "device i82801b11-bridge",
	"device pci-bridge", "device pcie-pci-bridge", "device pcie-root-port",
	"device pci-assign", "device vfio-pci", "device nec-usb-xhci", "device qemu-xhci",
	"device ich9-usb-ehci1", "device ich9-usb-uhci1", "device ich9-usb-uhci2",
	"device ich9-usb-uhci3", "device ide-drive", "device ide-hd", "device virtio-gpu-pci",
	"device virtio-vga", "device virtio-vga-gl", "device cirrus-vga", "device zpci",
	"device virtio-balloon-pci", "device virtio-balloon-ccw", "device virtio-balloon-device",
	"device virtio-blk-device", "device virtio-blk-pci", "device virtio-net-device",
	"device virtio-net-pci", "device virtio-rng-device", "device virtio-rng-pci",
	"device virtio-serial-device", "device virtio-serial-pci", "device intel-iommu",
	"device lsi53c895a", "device virtio-scsi-pci", "device isa-serial", "chardev spiceport",
	"object secret", "device kvm-arm-gic", "device arm-gicv2m", "device kvm-arm-gicv3",
	"device arm-its-kvm", "device virtio-balloon-s390", "device pci-ohci"}

// differences are the categories of expected differences, most specific first. Each
// matches on the components that differ and on what the domain XML requests.
var differences = []difference{
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
	{"args: -usb on machines the parser gives no USB controller",
		"libvirt wrote -usb; QEMU creates the machine's USB controller for it on pseries, " +
			"ppce500 and xenfv, which the command-line parser does not model",
		func(p corpusPair, missing, extra []string, _ string) bool {
			return strings.Contains(p.args.Text, "\n-usb") && len(missing) == 0 &&
				onlyOf(extra, "device piix3-usb-uhci", "device pci-ohci")
		}},
	{"args: rejected by the parser",
		"the command line itself is rejected by the command-line parser (-no-acpi, which " +
			"QEMU accepts only for x86 and arm, written by libvirt 5.6 for the capabilities " +
			"a test declared)",
		func(_ corpusPair, _, _ []string, diff string) bool {
			return strings.HasPrefix(diff, "args error:")
		}},
	{"libvirt 5.6: capability-dependent generation",
		"libvirt 5.6 chose these devices by the QEMU capabilities each test declared " +
			"(ioh3420 root ports, dmi-to-pci bridges, pci-assign, the default USB, IDE and " +
			"video models, virtio-mmio, zPCI, passwords in drive URLs), not by the XML",
		func(p corpusPair, missing, extra []string, diff string) bool {
			if !strings.HasPrefix(p.key, "libvirt-5.6/") {
				return false
			}
			if strings.Contains(diff, "invalid PCI address") {
				// The buses libvirt 5.6 added depended on the root port models.
				return true
			}
			return onlyOf(missing, capabilityDevices...) && onlyOf(extra, capabilityDevices...)
		}},
	{"generator gap",
		"a libvirt rule qscope does not model",
		func(corpusPair, []string, []string, string) bool { return true }},
}

var update = flag.Bool("update", false, "rewrite testdata/corpus-differences.golden")

// agreementFloor is the share of pairs per corpus folder that must agree exactly. Every
// other pair must fall into an explained category of differences.
var agreementFloor = map[string]float64{"libvirt-10.1": 95, "libvirt-5.6": 84}

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
