package domxml

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"

	"github.com/qscope/qscope/qemuargs"
	"github.com/qscope/qscope/vm"
)

// Options controls [Parse].
type Options struct {
	// Arch is the guest architecture in libvirt's spelling (x86_64, aarch64, ...) for a
	// domain whose <os><type> has no arch attribute. It overrides nothing the XML states.
	Arch string
	// QEMUVersion is the version of the QEMU binary libvirt starts, such as "9.0.0".
	// libvirt writes different devices for different QEMU versions (the virtio
	// transitional models since 4.0, thread-context objects since 7.2). Empty means
	// QEMU 9.0, or QEMU 4.1 with a LibvirtVersion before 6.0.
	QEMUVersion string
	// LibvirtVersion selects the command-line generation of an older libvirt, such as
	// "5.6": -drive instead of -blockdev, no thread-context objects. Empty means the
	// libvirt whose source the rules follow (11.3); versions before 5.6 are rejected.
	LibvirtVersion string
	// HasType, when set, reports whether the QEMU binary has a QOM type, as its
	// qom-list-types lists it. libvirt picks some devices by the types the binary has.
	// These are the PCIe root port model and the bridge for conventional PCI devices on
	// PCI Express, the default USB and SCSI controllers, vfio-pci or pci-assign, and
	// virtio-vga or virtio-gpu-pci. They also include the PCI Express root of arm and riscv virt
	// machines (gpex-pcihost), the CCW bus and zPCI root of s390, and secret objects.
	// Without HasType these choices follow QEMUVersion.
	HasType func(name string) bool
	// HasProperty, when set, reports whether a device type of the QEMU binary has a
	// property, as device-list-properties lists them. libvirt 5.6 put virtio devices into
	// PCI Express slots only when virtio-blk-pci has disable-legacy. Without HasProperty
	// this follows QEMUVersion.
	HasProperty func(typ, prop string) bool
}

// Parse reads a libvirt domain XML and returns the components of the QEMU command line that
// libvirt generates for it. Every component's origin is the XML path of the element it
// comes from. What libvirt adds by itself (default controllers, PCI buses, the monitor, the
// master key secret) and what the machine creates is implied. Errors are an [ErrorList] or an
// *[Error]; a domain with errors yields no configuration.
func Parse(data []byte, o Options) (*vm.Config, error) {
	idx, err := buildIndex(data)
	if err != nil {
		return nil, err
	}
	if err := checkElements(idx); err != nil {
		return nil, err
	}
	var dom libvirtxml.Domain
	if err := dom.Unmarshal(string(data)); err != nil {
		return nil, unmarshalError(idx, err)
	}
	if err := checkRepeats(idx, &dom); err != nil {
		return nil, err
	}
	b, err := newBuilder(&dom, idx, o)
	if err != nil {
		return nil, err
	}
	b.build()
	if err := b.errs.Err(); err != nil {
		return nil, err
	}
	cfg, err := b.parse()
	if err != nil {
		return nil, err
	}
	for _, n := range b.notes {
		cfg.Note(n)
	}
	return cfg, nil
}

// newBuilder checks the domain's type, architecture and machine and returns a builder for
// its command line.
func newBuilder(dom *libvirtxml.Domain, idx *xmlIndex, o Options) (*builder, error) {
	b := &builder{dom: dom, idx: idx}
	if err := b.setVersions(o); err != nil {
		return nil, err
	}

	accel, ok := accelerators[dom.Type]
	if !ok {
		return nil, b.fail("/domain", "domain type %q is not a QEMU domain: want kvm, qemu or "+
			"hvf", dom.Type)
	}
	b.accel = accel
	if dom.OS == nil || dom.OS.Type == nil {
		return nil, b.fail("/domain/os", "missing <os><type>: libvirt needs the guest "+
			"architecture and machine")
	}
	if t := dom.OS.Type.Type; t != "hvm" {
		return nil, b.fail("/domain/os/type", "OS type %q is not hvm: QEMU runs only hvm "+
			"guests", t)
	}
	b.arch = dom.OS.Type.Arch
	if b.arch == "" {
		b.arch = o.Arch
	}
	if b.arch == "" {
		b.arch = archFromBinary(b.emulator())
	}
	if b.arch == "" {
		return nil, b.fail("/domain/os/type", "missing arch attribute: give the guest "+
			"architecture with --arch")
	}
	b.target = qemuTarget(b.arch)
	b.machine = dom.OS.Type.Machine
	if b.machine == "" {
		b.machine = defaultMachine(b.arch)
	}
	if b.machine == "" {
		return nil, b.fail("/domain/os/type", "missing machine attribute and no default "+
			"machine is known for arch %s", b.arch)
	}
	return b, nil
}

// accelerators maps the domain type to the QEMU accelerator libvirt selects.
var accelerators = map[string]string{"kvm": "kvm", "qemu": "tcg", "hvf": "hvf"}

// emulator returns the QEMU binary of the domain, or "" when <emulator> is missing.
func (b *builder) emulator() string {
	if b.dom.Devices != nil {
		return strings.TrimSpace(b.dom.Devices.Emulator)
	}
	return ""
}

// archFromBinary returns the architecture a qemu-system-ARCH binary name gives.
func archFromBinary(bin string) string {
	base := filepath.Base(bin)
	if arch, ok := strings.CutPrefix(base, "qemu-system-"); ok {
		return arch
	}
	return ""
}

// qemuTarget maps libvirt's architecture names to QEMU targets.
func qemuTarget(arch string) string {
	switch arch {
	case "i686", "i586", "i486", "i386":
		return "i386"
	case "armv6l", "armv7l", "armv7b":
		return "arm"
	case "ppc64le":
		return "ppc64"
	case "mipsel":
		return "mipsel"
	}
	return arch
}

// defaultMachine returns the machine libvirt picks when <os><type> names none: QEMU's
// default machine, or libvirt's preferred one where QEMU has no default.
func defaultMachine(arch string) string {
	switch arch {
	case "x86_64", "i686":
		return "pc"
	case "aarch64", "armv7l", "riscv64", "riscv32", "loongarch64":
		return "virt"
	case "ppc64", "ppc64le":
		return "pseries"
	case "s390x":
		return "s390-ccw-virtio"
	}
	return ""
}

// parse runs the generated command line through the command-line parser and rewrites
// every origin into the XML path it was generated from.
func (b *builder) parse() (*vm.Config, error) {
	cfg, err := qemuargs.Parse(b.argv, qemuargs.Options{Target: b.target})
	if err != nil {
		return nil, b.argvError(err)
	}
	for i := range cfg.Components {
		b.relocate(&cfg.Components[i])
	}
	return cfg, nil
}

var argvRef = regexp.MustCompile(`\(argv (\d+)\)`)

// relocate replaces a component's argv origin by the XML path of the element that
// generated the option, and marks what libvirt added by itself as implied.
func (b *builder) relocate(c *vm.Component) {
	if c.Origin != nil && c.Origin.Arg > 0 && c.Origin.Arg < len(b.tags) {
		t := b.tags[c.Origin.Arg]
		if t.implied != "" {
			c.ImpliedBy = t.implied
			c.Origin = nil
			c.Generated = true
			return
		}
		c.Origin = &vm.Origin{Path: t.path, Option: c.Origin.Option, Text: c.Origin.Text}
		return
	}
	c.ImpliedBy = argvRef.ReplaceAllStringFunc(c.ImpliedBy, func(m string) string {
		n, err := strconv.Atoi(argvRef.FindStringSubmatch(m)[1])
		if err != nil || n >= len(b.tags) {
			return m
		}
		if b.tags[n].implied != "" && !c.Board {
			// QEMU makes the component for an option libvirt added by itself, such as
			// the USB controller of -usb.
			c.Generated = true
		}
		return "(" + b.tags[n].where() + ")"
	})
}

// argvError maps the command-line parser's errors to the XML elements the arguments came
// from.
func (b *builder) argvError(err error) error {
	var list qemuargs.ErrorList
	if !errors.As(err, &list) {
		return &Error{Msg: err.Error()}
	}
	var out ErrorList
	for _, e := range list {
		path := ""
		if e.Arg > 0 && e.Arg < len(b.tags) {
			path = b.tags[e.Arg].path
		}
		msg := e.Msg
		if e.Option != "" {
			msg = fmt.Sprintf("%s %q: %s", e.Option, e.Text, e.Msg)
		} else if e.Text != "" {
			msg = fmt.Sprintf("%q: %s", e.Text, e.Msg)
		}
		out = append(out, &Error{Path: path, Line: b.idx.line(path), Msg: msg})
	}
	return out
}
