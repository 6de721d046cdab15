package domxml

import (
	"fmt"

	"libvirt.org/go/libvirtxml"
)

// addDefaultDevices adds what qemuDomainDefAddDefaultDevices adds for the architecture
// and machine: the USB controller, the implicit SATA controller of q35, the PCI root, the
// memory balloon, USB input devices of ppc64 and the default panic device.
func (b *builder) addDefaultDevices(d *devices) {
	dv := b.devs()
	addUSB, usbModel := false, ""
	balloon, panic := false, false
	switch {
	case isX86(b.arch):
		balloon = true
		if b.machine == "isapc" {
			break
		}
		addUSB = true
		if b.isQ35() {
			usbModel = "qemu-xhci"
			d.maybeAddController("sata", 0, "", "libvirt: the SATA controller of q35")
		}
	case isARM(b.arch):
		if b.machine == "versatilepb" || len(b.machine) > 7 && b.machine[:8] == "realview" {
			addUSB, usbModel = true, "pci-ohci"
		}
	case isPPC64(b.arch):
		addUSB, balloon = true, true
		panic = b.isPSeries()
		b.ppcUSBInputs(d)
	case b.arch == "alpha", b.arch == "ppc", b.arch == "sparc64", b.arch == "sh4",
		b.arch == "sh4eb", b.arch == "mips", b.arch == "mipsel", b.arch == "mips64",
		b.arch == "mips64el":
		addUSB, balloon = true, true
	case isRISCV(b.arch):
		balloon = true
	case isS390(b.arch):
		balloon, panic = true, true
	}
	if addUSB && d.findController("usb", 0) == nil {
		d.maybeAddController("usb", 0, usbModel, "libvirt: the default USB controller of "+
			"machine "+b.machine)
	}
	b.setUSBModels(d)
	b.setSCSIModels(d)
	if balloon && dv.MemBalloon == nil {
		d.balloon = "virtio"
		d.balloonWhy = "libvirt: the default memory balloon"
	} else if dv.MemBalloon != nil {
		d.balloon = dv.MemBalloon.Model
		d.balloonPath = "/domain/devices/memballoon"
	}
	b.collectPanics(d, panic)
}

// setUSBModels gives USB controllers without a model libvirt's default for the machine
// (qemuDomainControllerDefPostParse).
func (b *builder) setUSBModels(d *devices) {
	for _, c := range d.controllers {
		if c.typ != "usb" || c.model != "" {
			continue
		}
		switch {
		case b.isQ35() && c.implied != "":
			c.model = "qemu-xhci"
		case isS390(b.arch) && c.addr == nil:
			c.model = "none"
		case isPPC64(b.arch):
			c.model = "pci-ohci"
		case b.arch == "aarch64":
			c.model = "qemu-xhci"
		default:
			c.model = "piix3-uhci"
		}
	}
}

// setSCSIModels gives SCSI controllers without a model libvirt's default
// (qemuDomainGetSCSIControllerModel).
func (b *builder) setSCSIModels(d *devices) {
	for _, c := range d.controllers {
		if c.typ != "scsi" || c.model != "" && c.model != "auto" {
			continue
		}
		switch {
		case b.isPSeries():
			c.model = "ibmvscsi"
		case isS390(b.arch), b.isLoongArchVirt():
			c.model = "virtio-scsi"
		default:
			c.model = "lsilogic"
		}
	}
}

// ppcUSBInputs adds the USB keyboard and mouse libvirt gives ppc64 guests with graphics.
func (b *builder) ppcUSBInputs(d *devices) {
	if len(b.devs().Graphics) == 0 {
		return
	}
	hasKbd, hasMouse, hasTablet := false, false, false
	for _, in := range b.devs().Inputs {
		if in.Bus == "usb" {
			hasKbd = hasKbd || in.Type == "keyboard"
			hasMouse = hasMouse || in.Type == "mouse"
			hasTablet = hasTablet || in.Type == "tablet"
		}
	}
	why := "libvirt: the default USB %s of ppc64 guests with graphics"
	if !hasKbd {
		d.usbInputs = append(d.usbInputs, usbInput{"keyboard", fmt.Sprintf(why, "keyboard")})
	}
	if !hasMouse && !hasTablet {
		d.usbInputs = append(d.usbInputs, usbInput{"mouse", fmt.Sprintf(why, "mouse")})
	}
}

// collectPanics lists the panic devices, adding the default one where libvirt does.
func (b *builder) collectPanics(d *devices, addDefault bool) {
	def := b.defaultPanicModel()
	found := false
	for i, p := range b.devs().Panics {
		m := p.Model
		if m == "" {
			m = def
		}
		found = found || m == def
		d.panics = append(d.panics, panicDev{model: m, addr: toAddr(p.Address),
			path: fmt.Sprintf("/domain/devices/panic[%d]", i+1)})
	}
	if addDefault && !found {
		d.panics = append(d.panics, panicDev{model: def,
			implied: "libvirt: the default panic device of machine " + b.machine})
	}
}

// defaultPanicModel follows qemuDomainDefaultPanicModel.
func (b *builder) defaultPanicModel() string {
	switch {
	case b.isPSeries():
		return "pseries"
	case isS390(b.arch):
		return "s390"
	case isX86(b.arch):
		return "isa"
	case b.isARMVirt():
		return "pvpanic"
	}
	return ""
}

// defaultVideo lists the video devices, giving a model to those without one and adding
// one when the domain has graphics but no video (virDomainDefAddImplicitVideo).
func (b *builder) defaultVideo(d *devices) {
	dv := b.devs()
	for i := range dv.Videos {
		v := &dv.Videos[i]
		m := v.Model.Type
		if m == "" {
			m = b.defaultVideoModel()
		}
		d.videos = append(d.videos, video{model: m, x: v,
			path: fmt.Sprintf("/domain/devices/video[%d]", i+1)})
	}
	if len(dv.Videos) == 0 && len(dv.Graphics) > 0 && b.needsVideo() {
		d.videos = append(d.videos, video{model: b.defaultVideoModel(),
			implied: "libvirt: the default video device for <graphics>"})
	}
}

// needsVideo reports whether libvirt adds a video device for graphics: every graphics
// type but rdp.
func (b *builder) needsVideo() bool {
	for _, g := range b.devs().Graphics {
		if g.VNC != nil || g.Spice != nil || g.SDL != nil || g.Desktop != nil ||
			g.DBus != nil || g.EGLHeadless != nil {
			return true
		}
	}
	return false
}

// defaultVideoModel follows qemuDomainDefaultVideoDevice.
func (b *builder) defaultVideoModel() string {
	switch {
	case isPPC64(b.arch):
		return "vga"
	case b.isARMVirt(), b.isRISCVVirt(), b.isLoongArchVirt(), isS390(b.arch):
		return "virtio"
	}
	return "cirrus"
}

// consoleSerials lists the serial ports, adding the one libvirt makes for a <console> of
// target type serial when the domain has no serial port (virDomainDefAddConsoleCompat).
func (b *builder) consoleSerials(d *devices) {
	dv := b.devs()
	for i := range dv.Serials {
		d.serials = append(d.serials, serial{x: &dv.Serials[i],
			path: fmt.Sprintf("/domain/devices/serial[%d]", i+1)})
	}
	if len(dv.Serials) > 0 || len(dv.Consoles) == 0 {
		return
	}
	con := &dv.Consoles[0]
	t := ""
	if con.Target != nil {
		t = con.Target.Type
	}
	if t == "" || t == "serial" {
		if t == "" && (isS390(b.arch) || !b.consoleDefaultsToSerial()) {
			return
		}
		d.serials = append(d.serials, serial{console: con,
			path: "/domain/devices/console[1]"})
	}
}

// consoleDefaultsToSerial reports whether a console without a target type is a serial
// port on this machine; on s390 it is an SCLP console.
func (b *builder) consoleDefaultsToSerial() bool {
	return !isS390(b.arch)
}

// memoryBackend decides the id of the machine's RAM backend, which libvirt gives
// -machine memory-backend= when the guest has no NUMA nodes.
func (b *builder) memoryBackend(d *devices) {
	if b.dom.CPU != nil && b.dom.CPU.Numa != nil && len(b.dom.CPU.Numa.Cell) > 0 {
		return
	}
	switch {
	case isX86(b.arch):
		d.ramBackend = "pc.ram"
	case b.isARMVirt():
		d.ramBackend = "mach-virt.ram"
	case b.isPSeries():
		d.ramBackend = "ppc_spapr.ram"
	case isS390(b.arch):
		d.ramBackend = "s390.ram"
	case b.isRISCVVirt():
		d.ramBackend = "riscv_virt_board.ram"
	}
}

// sourceType returns the type attribute of a chardev-like element.
func (b *builder) typeAttr(path string) string { return b.idx.attr(path, "type") }

var _ = libvirtxml.Domain{}
