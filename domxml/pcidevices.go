package domxml

import (
	"fmt"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// pciDev is one device that may take a PCI slot.
type pciDev struct {
	// key names the device: the XML path of its element, or the rule that added it.
	key   string
	flags pciFlags
	addr  *addrInfo
	// group is the isolation group: 0, or for pSeries host devices the host's IOMMU
	// group plus one.
	group uint
}

// wanted reports whether the device still needs a PCI address
// (virDeviceInfoPCIAddressIsWanted).
func (b *builder) wanted(d *pciDev) bool {
	if _, ok := b.addrs[d.key]; ok {
		return false
	}
	return d.addr == nil || d.addr.pci && !d.addr.pciPresent
}

// pciFlagSets returns the flags of a PCI Express device and of a virtio device on this
// machine (qemuDomainFillDevicePCIConnectFlagsIterInit). Virtio devices are PCI Express
// devices when QEMU has the virtio transitional models (QEMU 4.0 and later); libvirt
// 5.6 asked for virtio-pci's disable-legacy property instead.
func (b *builder) pciFlagSets() (pcie, virtio pciFlags) {
	pcie = pciDevice | pciAutoAssign
	if b.hasPCIeRoot() {
		pcie = pcieDevice | pciAutoAssign
	}
	virtio = pciDevice | pciAutoAssign
	express := b.qemuAtLeast(4, 0)
	if !b.libvirtAtLeast(6, 0) {
		// NOTE: QEMU 2.7 has disable-legacy (hw_compat_2_6 sets it); the release
		// that added it may be older.
		express = b.hasProperty("virtio-blk-pci", "disable-legacy", b.qemuAtLeast(2, 7))
	}
	if express {
		virtio = pcie
	}
	return pcie, virtio
}

// virtioModelFlags returns the flags of a virtio device with a transitional model
// attribute: transitional devices only work in conventional PCI slots.
func virtioModelFlags(model string, virtio pciFlags) pciFlags {
	if model == "virtio-transitional" {
		return pciDevice | pciAutoAssign
	}
	return virtio
}

// pciDeviceList lists every device that can take a PCI slot, grouped as
// qemuDomainAssignDevicePCISlots places them, with its connect flags
// (qemuDomainDeviceCalculatePCIConnectFlags).
type pciDeviceList struct {
	controllers, filesystems, nets, sounds, devControllers, disks, hostdevs  []*pciDev
	balloon, rngs, watchdogs, videos, shmems, inputs, serials, iommus, vsock []*pciDev
	memories, cryptos, panics, pstore                                        []*pciDev
}

// all returns the devices in assignment order.
func (l *pciDeviceList) all() []*pciDev {
	var out []*pciDev
	for _, g := range [][]*pciDev{l.controllers, l.filesystems, l.nets, l.sounds,
		l.devControllers, l.disks, l.hostdevs, l.balloon, l.rngs, l.watchdogs, l.videos,
		l.shmems, l.inputs, l.serials, l.iommus, l.vsock, l.memories, l.cryptos, l.panics,
		l.pstore} {
		out = append(out, g...)
	}
	return out
}

// pciDevices builds the device list of the domain after post-parse.
func (b *builder) pciDevices() *pciDeviceList {
	pcie, virtio := b.pciFlagSets()
	l := &pciDeviceList{}
	b.listStorageAndNetDevices(l, pcie, virtio)
	b.listOtherDevices(l, pcie, virtio)
	return l
}

// newPCIDev returns the list entry of the device at key.
func newPCIDev(key string, f pciFlags, a *libvirtxml.DomainAddress) *pciDev {
	return &pciDev{key: key, flags: f, addr: toAddr(a)}
}

// listStorageAndNetDevices lists the controllers, filesystems, interfaces, sound cards,
// virtio disks and host devices.
func (b *builder) listStorageAndNetDevices(l *pciDeviceList, pcie, virtio pciFlags) {
	dv := b.devs()
	dev := newPCIDev

	for _, c := range b.dev.controllers {
		d := &pciDev{key: c.key(), flags: b.controllerFlags(c, pcie, virtio), addr: c.addr}
		if c.typ == "pci" {
			l.controllers = append(l.controllers, d)
		} else {
			l.devControllers = append(l.devControllers, d)
		}
	}

	for i := range dv.Filesystems {
		fs := &dv.Filesystems[i]
		l.filesystems = append(l.filesystems, dev(fmt.Sprintf("/domain/devices/filesystem[%d]",
			i+1), fsFlags(fs, virtio), fs.Address))
	}

	for i := range dv.Interfaces {
		n := &dv.Interfaces[i]
		path := fmt.Sprintf("/domain/devices/interface[%d]", i+1)
		if n.Source != nil && n.Source.Hostdev != nil {
			// libvirt lists the host device of a hostdev interface before the
			// <hostdev> elements.
			d := dev(path, pcie, n.Address)
			d.group = b.isolationGroup(n.Source.Hostdev.PCI)
			l.hostdevs = append(l.hostdevs, d)
			continue
		}
		l.nets = append(l.nets, dev(path, b.netFlags(n, pcie, virtio), n.Address))
	}

	for i, s := range dv.Sounds {
		l.sounds = append(l.sounds, dev(fmt.Sprintf("/domain/devices/sound[%d]", i+1),
			soundFlags(s.Model, virtio), s.Address))
	}

	for i := range dv.Disks {
		d := &dv.Disks[i]
		if diskBus(d) == "virtio" {
			l.disks = append(l.disks, dev(fmt.Sprintf("/domain/devices/disk[%d]", i+1),
				virtioModelFlags(d.Model, virtio), d.Address))
		}
	}

	for i := range dv.Hostdevs {
		h := &dv.Hostdevs[i]
		d := dev(fmt.Sprintf("/domain/devices/hostdev[%d]", i+1), hostdevFlags(h, pcie,
			virtio), h.Address)
		if h.SubsysPCI != nil {
			d.group = b.isolationGroup(h.SubsysPCI.Source)
		}
		l.hostdevs = append(l.hostdevs, d)
	}
}

// listOtherDevices lists the balloon and the devices qemuDomainAssignDevicePCISlots
// places after the host devices.
func (b *builder) listOtherDevices(l *pciDeviceList, pcie, virtio pciFlags) {
	dv := b.devs()
	dev := newPCIDev
	pci := pciDevice | pciAutoAssign

	if m := b.dev.balloon; m != "" && m != "none" && m != "xen" {
		var a *libvirtxml.DomainAddress
		if dv.MemBalloon != nil {
			a = dv.MemBalloon.Address
		}
		l.balloon = append(l.balloon, dev(balloonKey, virtioModelFlags(m, virtio), a))
	}

	for i, r := range dv.RNGs {
		l.rngs = append(l.rngs, dev(fmt.Sprintf("/domain/devices/rng[%d]", i+1),
			virtioModelFlags(r.Model, virtio), r.Address))
	}

	for i, w := range dv.Watchdogs {
		if w.Model == "i6300esb" {
			l.watchdogs = append(l.watchdogs, dev(fmt.Sprintf("/domain/devices/watchdog[%d]",
				i+1), pci, w.Address))
		}
	}

	for _, v := range b.dev.videos {
		var a *libvirtxml.DomainAddress
		if v.x != nil {
			a = v.x.Address
		}
		l.videos = append(l.videos, dev(v.key(), videoFlags(v.model, pcie, virtio), a))
	}

	for i, sh := range dv.Shmems {
		l.shmems = append(l.shmems, dev(fmt.Sprintf("/domain/devices/shmem[%d]", i+1), pci,
			sh.Address))
	}

	for i, in := range dv.Inputs {
		if in.Bus == "virtio" {
			l.inputs = append(l.inputs, dev(fmt.Sprintf("/domain/devices/input[%d]", i+1),
				virtioModelFlags(in.Model, virtio), in.Address))
		}
	}

	for _, s := range b.dev.serials {
		if s.x != nil && s.x.Target != nil && s.x.Target.Type == "pci-serial" {
			l.serials = append(l.serials, dev(s.path, pci, s.x.Address))
		}
	}

	for i, io := range dv.IOMMUs {
		if io.Model == "virtio" {
			l.iommus = append(l.iommus, dev(fmt.Sprintf("/domain/devices/iommu[%d]", i+1),
				virtio|pciIntegrated, io.Address))
		}
	}

	if v := dv.VSock; v != nil {
		l.vsock = append(l.vsock, dev(vsockKey, virtioModelFlags(v.Model, virtio), v.Address))
	}

	for i, m := range dv.Memorydevs {
		if m.Model == "virtio-pmem" || m.Model == "virtio-mem" {
			l.memories = append(l.memories, dev(fmt.Sprintf("/domain/devices/memory[%d]", i+1),
				virtio, m.Address))
		}
	}

	for i, c := range dv.Crypto {
		l.cryptos = append(l.cryptos, dev(fmt.Sprintf("/domain/devices/crypto[%d]", i+1), pci,
			c.Address))
	}

	for _, p := range b.dev.panics {
		if p.model == "pvpanic" {
			l.panics = append(l.panics, &pciDev{key: p.key(), flags: pci | pciIntegrated,
				addr: p.addr})
		}
	}

	if p := dv.PStore; p != nil {
		l.pstore = append(l.pstore, dev(pstoreKey, pci, p.Address))
	}
}

// Keys of the devices a domain has at most one of.
const (
	balloonKey = "/domain/devices/memballoon"
	vsockKey   = "/domain/devices/vsock"
	pstoreKey  = "/domain/devices/pstore"
)

// controllerFlags returns the connect flags of a controller.
func (b *builder) controllerFlags(c *controller, pcie, virtio pciFlags) pciFlags {
	pci := pciDevice | pciAutoAssign
	switch c.typ {
	case "pci":
		return pciControllerFlags(c.model)
	case "sata", "ide":
		return pci
	case "usb":
		switch c.model {
		case "nec-xhci", "qemu-xhci":
			return pcie
		case "none", "qusb1", "qusb2":
			return 0
		}
		return pci
	case "scsi":
		switch c.model {
		case "ncr53c90", "", "auto":
			return 0
		case "virtio-scsi", "virtio-non-transitional":
			return virtio
		}
		return pci
	case "virtio-serial":
		return virtioModelFlags(c.model, virtio)
	}
	return 0
}

func fsFlags(fs *libvirtxml.DomainFilesystem, virtio pciFlags) pciFlags {
	drv := ""
	if fs.Driver != nil {
		drv = fs.Driver.Type
	}
	switch drv {
	case "", "path", "handle":
		return virtioModelFlags(fs.Model, virtio)
	case "virtiofs":
		return virtio
	}
	return 0
}

// netModelNames are the interface models libvirt has names for (virDomainNetModel in
// libvirt 11.3); others are custom models.
var netModelNames = []string{"netfront", "rtl8139", "virtio", "e1000", "e1000e", "igb",
	"virtio-transitional", "virtio-non-transitional", "usb-net", "spapr-vlan", "lan9118",
	"scm91c111", "vlance", "vmxnet", "vmxnet2", "vmxnet3", "Am79C970A", "Am79C973",
	"82540EM", "82545EM", "82543GC"}

var netModels = setOf(netModelNames...)

func (b *builder) netFlags(n *libvirtxml.DomainInterface, pcie, virtio pciFlags) pciFlags {
	switch m := b.netModel(n); {
	case m == "usb-net":
		return 0
	case m == "virtio" || m == "virtio-non-transitional":
		return virtio
	case m == "virtio-transitional":
		return pciDevice | pciAutoAssign
	case m == "e1000e" || m == "igb" || !netModels[m]:
		// libvirt treats a model it does not know by name as a PCI Express device.
		return pcie
	}
	return pciDevice | pciAutoAssign
}

func soundFlags(model string, virtio pciFlags) pciFlags {
	switch model {
	case "es1370", "ac97", "ich6", "ich9":
		return pciDevice | pciAutoAssign
	case "virtio":
		return virtio
	}
	return 0
}

// hostdevFlags returns the connect flags of a host device. libvirt reads from the host
// whether an assigned PCI device is PCI Express. qscope takes it to be, as libvirt does
// for a device it cannot find.
func hostdevFlags(h *libvirtxml.DomainHostdev, pcie, virtio pciFlags) pciFlags {
	switch {
	case h.SubsysMDev != nil, h.SubsysPCI != nil:
		return pcie
	case h.SubsysSCSIHost != nil:
		return virtioModelFlags(h.SubsysSCSIHost.Model, virtio)
	}
	return 0
}

// videoFlags returns the connect flags of a video model.
func videoFlags(model string, pcie, virtio pciFlags) pciFlags {
	switch model {
	case "virtio":
		return virtio
	case "vga", "cirrus", "vmvga", "xen", "vbox", "qxl", "parallels":
		return pciDevice | pciAutoAssign
	case "bochs":
		return pcie
	}
	return 0
}

// isolationGroup returns the isolation group of a PCI host device on pSeries: libvirt
// uses the host's IOMMU group plus one, so that host devices get PCI host bridges of
// their own. qscope cannot read the host's IOMMU groups.
// NOTE: it takes the functions of one host PCI slot to share an IOMMU group, as they
// do for a multi-function device without ACS, and every slot to have its own.
func (b *builder) isolationGroup(src *libvirtxml.DomainHostdevSubsysPCISource) uint {
	if !b.isPSeries() || src == nil || src.Address == nil {
		return 0
	}
	a := src.Address
	key := fmt.Sprintf("%04x:%02x:%02x", deref(a.Domain), deref(a.Bus), deref(a.Slot))
	if b.iommuGroups == nil {
		b.iommuGroups = map[string]uint{}
	}
	if g, ok := b.iommuGroups[key]; ok {
		return g
	}
	g := uint(len(b.iommuGroups) + 1)
	b.iommuGroups[key] = g
	return g
}

// key names a controller: its XML path, or the rule that added it with its type and
// index.
func (c *controller) key() string {
	if c.path != "" {
		return c.path
	}
	return fmt.Sprintf("%s (%s %d)", c.implied, c.typ, c.index)
}

func (v video) key() string {
	if v.path != "" {
		return v.path
	}
	return v.implied
}

func (p panicDev) key() string {
	if p.path != "" {
		return p.path
	}
	return p.implied
}

// isUSB2Companion reports whether model is one of the ICH9 USB2 controllers that share
// a slot, one function each.
func isUSB2Companion(model string) bool {
	return strings.HasPrefix(model, "ich9-")
}

// usb2Function returns the function of an ICH9 USB2 controller in its slot.
func usb2Function(model string) int {
	switch model {
	case "ich9-ehci1":
		return 7
	case "ich9-uhci2":
		return 1
	case "ich9-uhci3":
		return 2
	}
	return 0
}
