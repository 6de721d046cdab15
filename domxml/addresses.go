package domxml

import (
	"fmt"
	"strings"
)

// addedController is a PCI controller that libvirt's address assignment adds.
type addedController struct {
	model string
	index int
}

// key names an added controller.
func (a addedController) key() string {
	return fmt.Sprintf("libvirt's PCI address assignment (%s %d)", a.model, a.index)
}

// assignAddresses decides the bus of every device and the PCI controllers libvirt adds,
// as qemuDomainAssignAddresses does. Virtio devices without an address go to the CCW bus
// on s390, to virtio-mmio on arm and riscv machines that use it, and to PCI otherwise.
// PCI address assignment then adds the controllers the devices need.
func (b *builder) assignAddresses() {
	b.addrs = map[string]string{}
	b.primed = map[string]string{}
	b.onPCI = map[string]bool{}
	b.assignVirtioSerial()
	l := b.pciDevices()
	b.primeAddresses()
	b.assignPCI(l)
	if b.pciBusCount() == 0 || !b.supportsPCI() {
		return
	}
	for _, a := range b.pciAdded {
		b.onPCI[a.key()] = a.model != "pci-root"
	}
	for _, d := range l.all() {
		if d.addr != nil && d.addr.pci || b.addrs[d.key] == "pci" {
			b.onPCI[d.key] = true
		}
	}
}

// pciBusCount returns the number of PCI buses: the PCI controllers of the domain after
// post-parse and address assignment.
func (b *builder) pciBusCount() int {
	n := len(b.pciAdded)
	for _, c := range b.dev.controllers {
		if c.typ == "pci" {
			n++
		}
	}
	return n
}

// primeAddresses gives virtio devices without an address the address type libvirt
// chooses for them (qemuDomainAssignS390Addresses, qemuDomainAssignVirtioMMIOAddresses).
func (b *builder) primeAddresses() {
	switch {
	case b.isS390CCW() && b.has("virtual-css-bridge", true):
		b.primeVirtio("ccw")
	case isS390(b.arch) && !b.libvirtAtLeast(6, 0) && b.has("virtio-blk-s390", true):
		// libvirt 5.6 still placed virtio devices of the s390-virtio machine on its
		// virtio-s390 bus.
		b.primeVirtio("s390")
	case !b.usesVirtioMMIO():
	case b.hasPCIeRoot() && !b.hasMMIOAddress():
		// libvirt prefers virtio-pci on PCI Express machines unless the domain already
		// has a virtio-mmio device; PCI address assignment places these devices.
	default:
		b.primeVirtio("mmio")
	}
}

// usesVirtioMMIO reports whether the machine can place virtio devices on virtio-mmio:
// the arm vexpress boards and the arm and riscv virt machines.
func (b *builder) usesVirtioMMIO() bool {
	if !isARM(b.arch) && !isRISCV(b.arch) || b.arch == "armv7b" {
		return false
	}
	return strings.HasPrefix(b.machine, "vexpress-") || b.isARMVirt() || b.isRISCVVirt()
}

// hasMMIOAddress reports whether any device of the XML has a virtio-mmio address.
func (b *builder) hasMMIOAddress() bool {
	for _, p := range b.idx.order {
		if strings.HasPrefix(p, "/domain[1]/devices[1]/") &&
			strings.HasSuffix(p, "]") && strings.Contains(p, "/address[") &&
			b.idx.nodes[p].attrs["type"] == "virtio-mmio" {
			return true
		}
	}
	return false
}

// primeVirtio gives the virtio devices without an address the address type typ
// (qemuDomainPrimeVirtioDeviceAddresses).
func (b *builder) primeVirtio(typ string) {
	dv := b.devs()
	prime := func(key string, a *addrInfo) {
		if a == nil {
			b.primed[key] = typ
		}
	}

	for i := range dv.Disks {
		if diskBus(&dv.Disks[i]) == "virtio" {
			prime(fmt.Sprintf("/domain/devices/disk[%d]", i+1), toAddr(dv.Disks[i].Address))
		}
	}

	for i := range dv.Interfaces {
		n := &dv.Interfaces[i]
		if isVirtioModel(b.netModel(n)) && (n.Source == nil || n.Source.Hostdev == nil) {
			prime(fmt.Sprintf("/domain/devices/interface[%d]", i+1), toAddr(n.Address))
		}
	}

	for _, v := range b.dev.videos {
		if v.model == "virtio" {
			var a *addrInfo
			if v.x != nil {
				a = toAddr(v.x.Address)
			}
			prime(v.key(), a)
		}
	}

	for i, in := range dv.Inputs {
		if in.Bus == "virtio" {
			prime(fmt.Sprintf("/domain/devices/input[%d]", i+1), toAddr(in.Address))
		}
	}

	for _, c := range b.dev.controllers {
		if c.typ == "virtio-serial" || c.typ == "scsi" {
			prime(c.key(), c.addr)
		}
	}

	for i, h := range dv.Hostdevs {
		key := fmt.Sprintf("/domain/devices/hostdev[%d]", i+1)
		switch {
		case h.SubsysSCSIHost != nil:
			prime(key, toAddr(h.Address))
		case typ == "ccw" && h.SubsysMDev != nil && h.SubsysMDev.Model == "vfio-ccw":
			prime(key, toAddr(h.Address))
		}
	}

	if m := b.dev.balloon; m != "" && m != "none" {
		var a *addrInfo
		if dv.MemBalloon != nil {
			a = toAddr(dv.MemBalloon.Address)
		}
		prime(balloonKey, a)
	}

	for i, r := range dv.RNGs {
		prime(fmt.Sprintf("/domain/devices/rng[%d]", i+1), toAddr(r.Address))
	}

	for i, m := range dv.Memorydevs {
		if m.Model == "virtio-pmem" || m.Model == "virtio-mem" {
			prime(fmt.Sprintf("/domain/devices/memory[%d]", i+1), toAddr(m.Address))
		}
	}

	if typ == "ccw" {
		for i, fs := range dv.Filesystems {
			prime(fmt.Sprintf("/domain/devices/filesystem[%d]", i+1), toAddr(fs.Address))
		}
		if dv.VSock != nil {
			prime(vsockKey, toAddr(dv.VSock.Address))
		}
	}

	for i, c := range dv.Crypto {
		prime(fmt.Sprintf("/domain/devices/crypto[%d]", i+1), toAddr(c.Address))
	}

	for i, s := range dv.Sounds {
		if s.Model == "virtio" {
			prime(fmt.Sprintf("/domain/devices/sound[%d]", i+1), toAddr(s.Address))
		}
	}
}

// isS390CCW follows qemuDomainIsS390CCW.
func (b *builder) isS390CCW() bool {
	return isS390(b.arch) && strings.HasPrefix(b.machine, "s390-ccw")
}

// assignPCI runs the first pass of qemuDomainAssignPCIAddresses, which decides the PCI
// controllers libvirt adds: it places every device on the buses of the PCI controllers
// the domain has, and adds a bus whenever a device finds no free slot.
func (b *builder) assignPCI(l *pciDeviceList) {
	maxIdx := -1
	byIndex := map[int]*controller{}

	for _, c := range b.dev.controllers {
		if c.typ == "pci" {
			maxIdx = max(maxIdx, int(c.index))
			byIndex[int(c.index)] = c
		}
	}

	if maxIdx < 0 {
		return
	}
	s := &pciSet{multiRoot: b.isPSeries(), pcieToPCIBridge: b.has("pcie-pci-bridge",
		b.qemuAtLeast(2, 12))}
	defaultModel := "pci-bridge"

	switch {
	case b.isPSeries():
		defaultModel = "pci-root"
	case b.hasPCIeRoot():
		defaultModel = "pcie-root-port"
	}

	for i := 0; i <= maxIdx; i++ {
		m, hotplug := defaultModel, true
		if c := byIndex[i]; c != nil {
			m = c.model
			hotplug = c.x == nil || c.x.PCI == nil || c.x.PCI.Target == nil ||
				c.x.PCI.Target.Hotplug != "off"
		}
		bus, err := newPCIBus(m, hotplug)
		if err != nil {
			b.errorf("/domain/devices", "%v", err)
			return
		}
		s.buses = append(s.buses, bus)
	}

	if b.isPSeries() {
		// Host devices never go to the default PCI host bridge.
		s.buses[0].groupLocked = true
	}
	b.collectPCIAddresses(s, l)
	b.reserveChipsetSlots(s, l)

	if b.hasPCIRoot() && !allFullyReserved(s) {
		b.reserveNext(s, "/domain/devices", pciDevice|pciAutoAssign, 0, -1)
	}
	b.assignPCISlots(s, l)

	if maxIdx <= 0 && len(s.buses) > maxIdx+1 && b.hasPCIeRoot() {
		// libvirt leaves one free pcie-root-port for hotplug when it added controllers.
		b.reserveNext(s, "/domain/devices", pcieDevice|pciAutoAssign, 0, -1)
	}

	for i := 1; i < len(s.buses); i++ {
		if byIndex[i] != nil {
			continue
		}
		m := s.buses[i].model
		b.pciAdded = append(b.pciAdded, addedController{model: m, index: i})
		if m != "pci-root" && m != "pcie-root" {
			b.reserveNext(s, "/domain/devices", pciControllerFlags(m), 0, -1)
		}
	}
}

func allFullyReserved(s *pciSet) bool {
	for _, bus := range s.buses {
		if !bus.fullyReserved() {
			return false
		}
	}
	return true
}

// reserveNext reserves the next free address for the device at key and records an error
// when libvirt would fail.
func (b *builder) reserveNext(s *pciSet, key string, flags pciFlags, group uint,
	function int) (pciAddr, bool) {
	a, err := s.reserveNext(flags, group, function)
	if err != nil {
		b.errorf(errorPath(key), "PCI address assignment failed: %v", err)
		return a, false
	}
	return a, true
}

// errorPath returns key when it is an XML path, or /domain/devices for a device libvirt
// added.
func errorPath(key string) string {
	if strings.HasPrefix(key, "/domain") {
		return key
	}
	return "/domain/devices"
}

// collectPCIAddresses reserves the PCI addresses the XML gives (qemuDomainCollectPCIAddress).
func (b *builder) collectPCIAddresses(s *pciSet, l *pciDeviceList) {
	for _, d := range l.all() {
		a := d.addr
		if a == nil || !a.pciPresent {
			continue
		}
		flags := d.flags
		if flags == 0 {
			flags = pciDevice
		}
		// libvirt checks the ranges while it parses the address (virPCIDeviceAddressIsValid).
		if a.bus > 0xff || a.slot > 0x1f || a.function > 7 {
			b.errorf(errorPath(d.key), "invalid PCI address bus='0x%x' slot='0x%x' "+
				"function='0x%x': bus must be <= 0xFF, slot <= 0x1F, function <= 7",
				a.bus, a.slot, a.function)
			continue
		}
		if a.bus == 0 && a.slot == 1 && b.isPIIX3Function(d.key, int(a.function)) {
			continue
		}
		addr := pciAddr{bus: int(a.bus), slot: int(a.slot), function: int(a.function)}
		if err := s.reserve(addr, flags, d.group, true); err != nil {
			b.errorf(errorPath(d.key), "%v", err)
		}
	}
}

// isPIIX3Function reports whether the controller at key is the IDE or USB function of the
// PIIX3 that libvirt reserves with the chipset.
func (b *builder) isPIIX3Function(key string, function int) bool {
	for _, c := range b.dev.controllers {
		if c.key() != key || c.index != 0 {
			continue
		}
		return c.typ == "ide" && function == 1 ||
			c.typ == "usb" && (c.model == "piix3-uhci" || c.model == "") && function == 2
	}
	return false
}

// reserveChipsetSlots reserves the functions of the chipset and places its integrated
// controllers and the primary video device (qemuDomainValidateDevicePCISlotsChipsets).
func (b *builder) reserveChipsetSlots(s *pciSet, l *pciDeviceList) {
	switch {
	case b.isI440FX():
		b.reservePIIX3(s, l)
	case b.isQ35():
		b.reserveQ35(s, l)
	}
}

func (b *builder) reservePIIX3(s *pciSet, l *pciDeviceList) {
	flags := pciDevice | pciAutoAssign
	for _, c := range b.dev.controllers {
		fn := 0
		switch {
		case c.typ == "ide" && c.index == 0:
			fn = 1
		case c.typ == "usb" && c.index == 0 && (c.model == "piix3-uhci" || c.model == ""):
			fn = 2
		default:
			continue
		}
		if c.addr != nil && c.addr.pciPresent {
			if c.addr.bus != 0 || c.addr.slot != 1 || int(c.addr.function) != fn {
				b.errorf(c.where(), "the PIIX3 %s controller must have PCI address "+
					"0000:00:01.%d", strings.ToUpper(c.typ), fn)
				continue
			}
		}
		b.addrs[c.key()] = "pci"
		if err := s.reserve(pciAddr{0, 1, fn}, flags, 0, true); err != nil {
			b.errorf(c.where(), "%v", err)
		}
	}
	for _, fn := range []int{0, 3} {
		if err := s.reserve(pciAddr{0, 1, fn}, flags, 0, true); err != nil {
			b.errorf("/domain/devices", "%v", err)
		}
	}
	b.reservePrimaryVideo(s, l, 2, flags)
}

// reservePrimaryVideo puts the primary video device in the slot of the root bus where
// QEMU's firmware expects it, or the next free slot when that is taken.
func (b *builder) reservePrimaryVideo(s *pciSet, l *pciDeviceList, slot int,
	flags pciFlags) {
	if len(l.videos) == 0 {
		return
	}
	v := l.videos[0]
	if m := b.dev.videos[0].model; m == "none" || m == "ramfb" || !b.wanted(v) ||
		b.primed[v.key] != "" {
		return
	}
	addr := pciAddr{0, slot, 0}
	if err := s.validate(addr, flags, true); err != nil {
		b.errorf(errorPath(v.key), "%v", err)
		return
	}
	if s.slotInUse(addr) {
		b.reserveDevice(s, v, -1)
		return
	}
	if err := s.reserve(addr, flags, 0, true); err != nil {
		b.errorf(errorPath(v.key), "%v", err)
	}
	b.addrs[v.key] = "pci"
}

func (b *builder) reserveQ35(s *pciSet, l *pciDeviceList) {
	flags := pcieDevice
	for _, c := range b.dev.controllers {
		switch {
		case c.typ == "sata" && c.index == 0:
			b.addrs[c.key()] = "pci"
		case c.typ == "usb" && c.model == "ich9-uhci1" && c.addr == nil:
			for _, slot := range []int{0x1d, 0x1a} {
				a := pciAddr{0, slot, 0}
				if s.slotInUse(a) {
					continue
				}
				if err := s.reserve(a, flags, 0, true); err != nil {
					b.errorf(c.where(), "%v", err)
				}
				b.addrs[c.key()] = "pci"
				b.usb2Slots[c.index] = a
				break
			}
		case c.typ == "pci" && c.model == "dmi-to-pci-bridge" && c.addr == nil:
			a := pciAddr{0, 0x1e, 0}
			if !s.slotInUse(a) {
				if err := s.reserve(a, flags, 0, true); err != nil {
					b.errorf(c.where(), "%v", err)
				}
				b.addrs[c.key()] = "pci"
			}
		}
	}
	for _, fn := range []int{0, 3} {
		if err := s.reserve(pciAddr{0, 0x1f, fn}, flags, 0, true); err != nil {
			b.errorf("/domain/devices", "%v", err)
		}
	}
	b.reservePrimaryVideo(s, l, 1, flags)
	a := pciAddr{0, 0x1b, 0}
	if s.slotInUse(a) {
		return
	}
	dv := b.devs()
	for i, snd := range dv.Sounds {
		key := fmt.Sprintf("/domain/devices/sound[%d]", i+1)
		if snd.Model != "ich9" || !b.wanted(&pciDev{key: key, addr: toAddr(snd.Address)}) {
			continue
		}
		if err := s.reserve(a, flags, 0, true); err != nil {
			b.errorf(key, "%v", err)
		}
		b.addrs[key] = "pci"
		break
	}
}

// assignPCISlots places every device without an address in libvirt's order
// (qemuDomainAssignDevicePCISlots).
func (b *builder) assignPCISlots(s *pciSet, l *pciDeviceList) {
	for _, d := range l.controllers {
		c := b.controllerByKey(d.key)
		if c.model == "pci-root" || c.model == "pcie-root" {
			continue
		}
		b.assignOne(s, d)
	}

	for i, d := range l.filesystems {
		fs := b.devs().Filesystems[i]
		if fs.Driver != nil && fs.Driver.Type == "mtp" {
			continue
		}
		b.assignOne(s, d)
	}
	b.assignAll(s, l.nets)

	for i, d := range l.sounds {
		switch b.devs().Sounds[i].Model {
		case "sb16", "pcspk", "usb":
			continue
		}
		b.assignOne(s, d)
	}

	for _, d := range l.devControllers {
		b.assignDeviceController(s, d)
	}
	b.assignAll(s, l.disks)

	for _, d := range l.hostdevs {
		if d.addr != nil && d.addr.other == "unassigned" || d.flags == 0 ||
			!b.hostdevTakesPCISlot(d.key) {
			continue
		}
		b.assignOne(s, d)
	}

	for _, g := range [][]*pciDev{l.balloon, l.rngs, l.watchdogs} {
		b.assignAll(s, g)
	}

	for i, d := range l.videos {
		if m := b.dev.videos[i].model; m == "none" || m == "ramfb" {
			continue
		}
		b.assignOne(s, d)
	}

	for _, g := range [][]*pciDev{l.shmems, l.inputs, l.serials, l.iommus, l.vsock,
		l.memories, l.cryptos, l.panics, l.pstore} {
		b.assignAll(s, g)
	}
}

func (b *builder) assignAll(s *pciSet, devs []*pciDev) {
	for _, d := range devs {
		b.assignOne(s, d)
	}
}

// assignOne reserves the next free address for a device that needs one.
func (b *builder) assignOne(s *pciSet, d *pciDev) {
	if !b.wanted(d) || b.primed[d.key] != "" {
		return
	}
	if d.flags == 0 {
		b.errorf(errorPath(d.key), "the device cannot have a PCI address")
		return
	}
	b.reserveDevice(s, d, -1)
}

// reserveDevice reserves the next free address for d and records that it is on PCI. Like
// libvirt's first pass, it leaves the device without an address, so a later step may
// place it again.
func (b *builder) reserveDevice(s *pciSet, d *pciDev, function int) {
	if _, ok := b.reserveNext(s, d.key, d.flags, d.group, function); ok {
		b.onPCI[d.key] = true
	}
}

// hostdevTakesPCISlot reports whether the host device at key is a PCI device: a PCI
// host device, a hostdev interface, vhost-scsi or a vfio-pci mediated device.
func (b *builder) hostdevTakesPCISlot(key string) bool {
	if strings.Contains(key, "/interface[") {
		return true
	}
	var i int
	if _, err := fmt.Sscanf(key, "/domain/devices/hostdev[%d]", &i); err != nil {
		return false
	}
	h := b.devs().Hostdevs[i-1]
	return h.SubsysPCI != nil || h.SubsysSCSIHost != nil ||
		h.SubsysMDev != nil && h.SubsysMDev.Model == "vfio-pci"
}

// assignDeviceController places a controller other than a PCI one; the ICH9 USB2
// controllers of one index share a slot, one function each.
func (b *builder) assignDeviceController(s *pciSet, d *pciDev) {
	c := b.controllerByKey(d.key)
	switch {
	case c.typ == "usb" && c.model == "none", c.typ == "fdc", c.typ == "ccid",
		c.typ == "ide" && c.index == 0, c.typ == "scsi" && c.model == "ncr53c90":
		return
	}
	if !b.wanted(d) || b.primed[d.key] != "" {
		return
	}
	if d.flags == 0 {
		return
	}
	if !(c.typ == "usb" && isUSB2Companion(c.model)) {
		b.reserveDevice(s, d, -1)
		return
	}
	fn := usb2Function(c.model)
	if a, ok := b.usb2Slot(c.index); ok {
		a.function = fn
		if err := s.reserve(a, d.flags, d.group, true); err != nil {
			b.errorf(c.where(), "%v", err)
		}
		b.onPCI[d.key] = true
		return
	}
	b.reserveDevice(s, d, fn)
}

// usb2Slot returns the slot of an ICH9 USB2 controller of index idx that has an address.
func (b *builder) usb2Slot(idx uint) (pciAddr, bool) {
	for _, c := range b.dev.controllers {
		if c.typ == "usb" && c.index == idx && isUSB2Companion(c.model) && c.addr != nil &&
			c.addr.pciPresent {
			return pciAddr{int(c.addr.bus), int(c.addr.slot), 0}, true
		}
	}
	a, ok := b.usb2Slots[idx]
	return a, ok
}

func (b *builder) controllerByKey(key string) *controller {
	for _, c := range b.dev.controllers {
		if c.key() == key {
			return c
		}
	}
	return &controller{}
}
