package domxml

import (
	"libvirt.org/go/libvirtxml"
)

// pciDevices lists the devices that take a PCI slot, in the order in which
// qemuDomainAssignDevicePCISlots places them, with their connect types
// (qemuDomainDeviceCalculatePCIConnectFlags).
func (b *builder) pciDevices() []pciDevice {
	var out []pciDevice
	add := func(c conn, a *libvirtxml.DomainAddress) {
		if c != 0 {
			out = append(out, pciDevice{conn: c, addr: toAddr(a)})
		}
	}
	addInfo := func(c conn, a *addrInfo) {
		if c != 0 {
			out = append(out, pciDevice{conn: c, addr: a})
		}
	}
	pcie, virtio := b.pcieFlag(), b.pcieFlag()
	for _, c := range b.dev.controllers {
		if c.typ == "pci" && c.model != "pci-root" && c.model != "pcie-root" {
			addInfo(controllerConn(c.model), c.addr)
		}
	}
	dv := b.devs()
	for _, fs := range dv.Filesystems {
		add(b.fsConn(&fs, virtio), fs.Address)
	}
	for i := range dv.Interfaces {
		add(b.netConn(&dv.Interfaces[i], pcie, virtio), dv.Interfaces[i].Address)
	}
	for _, s := range dv.Sounds {
		add(soundConn(s.Model, virtio), s.Address)
	}
	for _, c := range b.dev.controllers {
		if c.typ != "pci" {
			addInfo(b.controllerConnType(c, pcie, virtio), c.addr)
		}
	}
	for i := range dv.Disks {
		d := &dv.Disks[i]
		if diskBus(d) == "virtio" {
			add(modelConn(d.Model, virtio), d.Address)
		}
	}
	for i := range dv.Hostdevs {
		add(hostdevConn(&dv.Hostdevs[i], pcie), dv.Hostdevs[i].Address)
	}
	if b.dev.balloon == "virtio" || b.dev.balloon == "virtio-transitional" ||
		b.dev.balloon == "virtio-non-transitional" {
		var a *libvirtxml.DomainAddress
		if dv.MemBalloon != nil {
			a = dv.MemBalloon.Address
		}
		add(modelConn(b.dev.balloon, virtio), a)
	}
	for _, r := range dv.RNGs {
		add(modelConn(r.Model, virtio), r.Address)
	}
	for _, w := range dv.Watchdogs {
		if w.Model == "i6300esb" {
			add(connPCI, w.Address)
		}
	}
	for i, v := range b.dev.videos {
		if i == 0 && b.primaryVideoNeedsSlot() {
			continue
		}
		var a *libvirtxml.DomainAddress
		if v.x != nil {
			a = v.x.Address
		}
		add(videoConn(v.model, pcie), a)
	}
	for _, sh := range dv.Shmems {
		add(connPCI, sh.Address)
	}
	for _, in := range dv.Inputs {
		if in.Bus == "virtio" {
			add(modelConn(in.Model, virtio), in.Address)
		}
	}
	if dv.VSock != nil {
		add(modelConn(dv.VSock.Model, virtio), dv.VSock.Address)
	}
	for _, io := range dv.IOMMUs {
		if io.Model == "virtio" {
			add(virtio, io.Address)
		}
	}
	for _, c := range dv.Crypto {
		add(connPCI, c.Address)
	}
	for _, m := range dv.Memorydevs {
		if m.Model == "virtio-pmem" || m.Model == "virtio-mem" {
			add(virtio, m.Address)
		}
	}
	for _, p := range b.dev.panics {
		if p.model == "pvpanic" {
			addInfo(connPCI, p.addr)
		}
	}
	if dv.PStore != nil {
		add(connPCI, dv.PStore.Address)
	}
	for _, s := range b.dev.serials {
		if s.x != nil && s.x.Target != nil && s.x.Target.Type == "pci-serial" {
			add(connPCI, s.x.Address)
		}
	}
	return out
}

// modelConn returns the connect type of a virtio device model: transitional devices are
// conventional PCI, the others PCI Express on a PCI Express machine.
func modelConn(model string, virtio conn) conn {
	if model == "virtio-transitional" {
		return connPCI
	}
	return virtio
}

func (b *builder) fsConn(fs *libvirtxml.DomainFilesystem, virtio conn) conn {
	drv := ""
	if fs.Driver != nil {
		drv = fs.Driver.Type
	}
	switch drv {
	case "", "path", "handle":
		return modelConn(fs.Model, virtio)
	case "virtiofs":
		return virtio
	}
	return 0
}

func (b *builder) netConn(n *libvirtxml.DomainInterface, pcie, virtio conn) conn {
	if n.Source != nil && n.Source.Hostdev != nil {
		return 0
	}
	switch m := b.netModel(n); m {
	case "usb-net":
		return 0
	case "virtio", "virtio-non-transitional":
		return virtio
	case "virtio-transitional":
		return connPCI
	case "e1000e", "igb":
		return pcie
	}
	return connPCI
}

func soundConn(model string, virtio conn) conn {
	switch model {
	case "es1370", "ac97", "ich6", "ich9":
		return connPCI
	case "virtio":
		return virtio
	}
	return 0
}

// controllerConnType returns the connect type of a controller other than a PCI one.
func (b *builder) controllerConnType(c *controller, pcie, virtio conn) conn {
	switch c.typ {
	case "sata":
		if c.index == 0 && b.isQ35() {
			return 0
		}
		return connPCI
	case "ide":
		if c.index == 0 && b.hasBuiltinIDE() {
			return 0
		}
		return connPCI
	case "usb":
		switch c.model {
		case "nec-xhci", "qemu-xhci":
			return pcie
		case "none", "qusb1", "qusb2", "":
			return 0
		}
		if c.index == 0 && c.addr == nil && (b.isI440FX() && c.model == "piix3-uhci" ||
			b.isQ35() && isICH9USB(c.model)) {
			return 0
		}
		return connPCI
	case "scsi":
		switch c.model {
		case "ncr53c90", "ibmvscsi":
			return 0
		case "virtio-scsi", "virtio-non-transitional":
			return virtio
		}
		return connPCI
	case "virtio-serial":
		return modelConn(c.model, virtio)
	}
	return 0
}

func hostdevConn(h *libvirtxml.DomainHostdev, pcie conn) conn {
	switch {
	case h.SubsysPCI != nil, h.SubsysMDev != nil:
		if h.SubsysMDev != nil && h.SubsysMDev.Model != "" && h.SubsysMDev.Model != "vfio-pci" {
			return 0
		}
		return pcie
	case h.SubsysSCSIHost != nil:
		return modelConn(h.SubsysSCSIHost.Model, pcie)
	}
	return 0
}

// videoConn returns the connect type of a video model.
func videoConn(model string, pcie conn) conn {
	switch model {
	case "virtio":
		return pcie
	case "vga", "cirrus", "vmvga", "qxl":
		return connPCI
	case "bochs":
		return pcie
	}
	return 0
}
