package domxml

import (
	"fmt"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// tag records where one argv word came from.
type tag struct {
	// path is the XML path of the element that generated the option.
	path string
	// implied describes what libvirt added by itself; empty for what the XML states.
	implied string
	// key names the device the option creates when path does not: see deviceKey.
	key string
}

// deviceKey returns the key of the device an option creates: the element path without
// the child element (target, model) the option was tagged with.
func (t tag) deviceKey() string {
	if t.key != "" {
		return t.key
	}
	p := t.path
	for _, child := range []string{"/target", "/model", "/source", "/backend"} {
		p = strings.TrimSuffix(p, child)
	}
	return p
}

// where returns the description of the tag that implied-by texts use.
func (t tag) where() string {
	if t.implied != "" {
		return t.implied
	}
	return t.path
}

// builder generates the QEMU argv of one domain, as libvirt's qemuBuildCommandLine does.
type builder struct {
	dom    *libvirtxml.Domain
	idx    *xmlIndex
	accel  string // tcg, kvm or hvf
	arch   string // libvirt's architecture name
	target string // QEMU target
	// machine is the machine type as the XML names it (or libvirt's default).
	machine string
	// qemu and libvirt are the versions whose command line the builder writes.
	qemu, libvirt version
	// hasType and hasProp are [Options.HasType] and [Options.HasProperty].
	hasType func(string) bool
	hasProp func(string, string) bool
	argv    []string
	tags    []tag
	errs    ErrorList
	// notes are facts for the report that no component carries.
	notes []string
	// pciAdded lists the PCI controllers libvirt's address assignment adds.
	pciAdded []addedController
	// addrs maps device keys to the address type libvirt's chipset rules gave them.
	addrs map[string]string
	// primed maps device keys to the address type (ccw or mmio) libvirt gives virtio
	// devices without an address.
	primed map[string]string
	// onPCI marks the devices that end up with a PCI address, by key.
	onPCI map[string]bool
	// usb2Slots are the slots of ICH9 USB2 controllers placed with the q35 chipset.
	usb2Slots map[uint]pciAddr
	// iommuGroups numbers the host PCI slots of pSeries host devices.
	iommuGroups map[string]uint
	// dev is the domain's device list after libvirt's post-parse defaults.
	dev *devices
}

// fail returns an *Error for the element at path.
func (b *builder) fail(path, format string, args ...any) *Error {
	return &Error{Path: path, Line: b.idx.line(path), Msg: fmt.Sprintf(format, args...)}
}

// errorf records an error for the element at path.
func (b *builder) errorf(path, format string, args ...any) {
	b.errs = append(b.errs, b.fail(path, format, args...))
}

// emit appends option (with its argument, when given) as written by the element at path.
func (b *builder) emit(path, option string, arg ...string) {
	b.emitTagged(tag{path: path}, option, arg...)
}

// emitImplied appends an option that libvirt adds by itself; why names the rule.
func (b *builder) emitImplied(why, option string, arg ...string) {
	b.emitTagged(tag{implied: why}, option, arg...)
}

func (b *builder) emitTagged(t tag, option string, arg ...string) {
	if len(b.argv) == 0 {
		b.argv = append(b.argv, b.binary())
		b.tags = append(b.tags, tag{path: "/domain/devices/emulator"})
	}
	if option == "-device" && isS390(b.arch) && b.onPCI[t.deviceKey()] {
		// libvirt gives every PCI device of an s390 guest its zPCI device
		// (qemuBuildExtensionCommandLine).
		b.argv = append(b.argv, option, kv("zpci", "target", idOf(arg)))
		b.tags = append(b.tags, t, t)
	}
	b.argv = append(b.argv, option)
	b.tags = append(b.tags, t)
	for _, a := range arg {
		b.argv = append(b.argv, a)
		b.tags = append(b.tags, t)
	}
}

// binary returns argv[0]: the emulator, or qemu-system-TARGET when the XML names none.
func (b *builder) binary() string {
	if e := b.emulator(); e != "" {
		return e
	}
	return "/usr/bin/qemu-system-" + b.target
}

// kv formats QemuOpts: first (an implied key's value) followed by key=value pairs, with
// commas in values doubled. Pairs with an empty value are left out.
func kv(first string, pairs ...string) string {
	var b strings.Builder
	b.WriteString(escape(first))
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(pairs[i])
		b.WriteByte('=')
		b.WriteString(escape(pairs[i+1]))
	}
	return b.String()
}

// idOf returns the id property of a -device argument, or "".
func idOf(arg []string) string {
	if len(arg) == 0 {
		return ""
	}
	for _, p := range strings.Split(arg[0], ",") {
		if v, ok := strings.CutPrefix(p, "id="); ok {
			return v
		}
	}
	return ""
}

func escape(s string) string { return strings.ReplaceAll(s, ",", ",,") }

// device emits -device DRIVER,pairs... for the element at path.
func (b *builder) device(path, driver string, pairs ...string) {
	b.emit(path, "-device", kv(driver, pairs...))
}

// object emits -object TYPE,pairs... for the element at path.
func (b *builder) object(path, typ string, pairs ...string) {
	b.emit(path, "-object", kv(typ, pairs...))
}

// build generates the whole command line in libvirt's order.
func (b *builder) build() {
	b.dev = b.postParse()
	if len(b.errs) > 0 {
		return
	}
	b.usb2Slots = map[uint]pciAddr{}
	b.assignAddresses()
	if len(b.errs) > 0 {
		return
	}
	b.buildMasterKey()
	b.buildPRManager()
	b.buildPflash()
	b.buildMachine()
	b.buildAccel()
	b.buildCPU()
	b.buildMemory()
	b.buildIOThreads()
	b.buildNUMA()
	b.buildVMGenID()
	b.buildDisplayNone()
	b.buildSGA()
	b.emitImplied("libvirt's defaults", "-nodefaults")
	b.buildMonitor()
	b.buildIOMMU()
	b.buildControllers()
	b.buildMemoryDevices()
	b.buildHubs()
	b.buildCCID()
	b.buildDisks()
	b.buildFilesystems()
	b.buildInterfaces()
	b.buildSmartcards()
	b.buildSerials()
	b.buildParallels()
	b.buildChannels()
	b.buildConsoles()
	b.buildTPMs()
	b.buildInputs()
	b.buildAudio()
	b.buildGraphics()
	b.buildVideos()
	b.buildSounds()
	b.buildWatchdogs()
	b.buildRedirdevs()
	b.buildHostdevs()
	b.buildMemballoon()
	b.buildRNGs()
	b.buildNVRAM()
	b.buildVMCoreInfo()
	b.buildLaunchSecurity()
	b.buildCommandline()
	b.buildPanics()
	b.buildShmems()
	b.buildVsock()
	b.buildCrypto()
	b.buildPstore()
}
