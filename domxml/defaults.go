package domxml

import (
	"fmt"
	"strings"

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
			usbModel = b.q35USBModel()
			addUSB = usbModel != ""
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
		why := "libvirt: the default USB controller of machine " + b.machine
		d.maybeAddController("usb", 0, usbModel, why)
		if usbModel == "ich9-ehci1" {
			// An EHCI controller comes with its three UHCI companions.
			for _, m := range []string{"ich9-uhci1", "ich9-uhci2", "ich9-uhci3"} {
				d.controllers = append(d.controllers, &controller{typ: "usb", model: m,
					implied: why})
			}
		}
	}
	b.addPCIRoot(d)
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

// addPCIRoot adds the machine's PCI root controller, and gives a PCI controller written
// without a model the root model when it has index 0. A PCI controller with index 0 of
// another model is an error, as in libvirt.
func (b *builder) addPCIRoot(d *devices) {
	root := b.pciRootModel()
	for _, c := range d.controllers {
		switch {
		case c.typ != "pci":
		case c.model == "" && c.index == 0 && root != "":
			c.model = root
		case c.model == "":
			b.errorf(c.where(), "missing model attribute for the PCI controller with "+
				"index %d", c.index)
		case c.index == 0 && root != "" && c.model != root:
			b.errorf(c.where(), "the PCI controller with index 0 must be model %s for "+
				"machine %s, not %s", root, b.machine, c.model)
		}
	}
	if root != "" {
		d.maybeAddController("pci", 0, root, "libvirt: the PCI root of machine "+b.machine)
	}
}

// xhciModel returns the USB 3 controller libvirt prefers: qemu-xhci, else nec-xhci, or ""
// when QEMU has neither.
func (b *builder) xhciModel() string {
	switch {
	case b.has("qemu-xhci", true):
		return "qemu-xhci"
	case b.has("nec-usb-xhci", true):
		return "nec-xhci"
	}
	return ""
}

// q35USBModel returns the USB controller libvirt adds to a q35 machine: the xHCI
// controller, else ich9-ehci1, or "" for none.
func (b *builder) q35USBModel() string {
	if m := b.xhciModel(); m != "" {
		return m
	}
	if b.has("ich9-usb-ehci1", true) {
		return "ich9-ehci1"
	}
	return ""
}

// setUSBModels gives USB controllers without a model libvirt's default for the machine
// (qemuDomainControllerDefPostParse). The default is piix3-uhci, which the QEMU builds of
// libvirt's test data have for every target but s390x, or pci-ohci on ppc64 and qemu-xhci
// (else nec-xhci) on aarch64 and loongarch64. Without the device the controller keeps no
// model and libvirt writes -usb. On s390 a controller without an address gets model none,
// and one with an address keeps no model, so libvirt writes no device for it.
func (b *builder) setUSBModels(d *devices) {
	for _, c := range d.controllers {
		if c.typ != "usb" || c.model != "" {
			continue
		}
		switch {
		case b.isQ35() && c.implied != "":
			c.model = b.q35USBModel()
		case isS390(b.arch) && c.addr == nil:
			c.model = "none"
		case isS390(b.arch):
		case isPPC64(b.arch):
			if b.has("pci-ohci", true) {
				c.model = "pci-ohci"
			}
		case b.arch == "aarch64", b.arch == "loongarch64":
			c.model = b.xhciModel()
		case b.has("piix3-usb-uhci", true):
			c.model = "piix3-uhci"
		}
	}
}

// setSCSIModels gives SCSI controllers without a model libvirt's default
// (qemuDomainGetSCSIControllerModel): lsilogic when QEMU has it, else virtio-scsi.
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
		case b.has("lsi53c895a", true):
			c.model = "lsilogic"
		case b.has("virtio-scsi-pci", true), b.has("virtio-scsi-device", true):
			c.model = "virtio-scsi"
		default:
			b.errorf(c.where(), "QEMU has neither lsi53c895a nor virtio-scsi, so libvirt "+
				"cannot pick a model for the SCSI controller with index %d", c.index)
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

// consoleSerials lists the serial ports, adding the one libvirt makes for a first
// <console> without a target type or of target type serial when the domain has no serial
// port (virDomainDefAddConsoleCompat). Such a console is otherwise an alias of the first
// serial port.
func (b *builder) consoleSerials(d *devices) {
	dv := b.devs()
	for i := range dv.Serials {
		d.serials = append(d.serials, serial{x: &dv.Serials[i],
			path: fmt.Sprintf("/domain/devices/serial[%d]", i+1)})
	}
	if len(dv.Serials) > 0 || len(dv.Consoles) == 0 || !consoleIsSerial(&dv.Consoles[0]) {
		return
	}
	d.serials = append(d.serials, serial{console: &dv.Consoles[0],
		path: "/domain/devices/console[1]"})
}

// consoleIsSerial reports whether a <console> is a serial port: one without a target type
// or of target type serial.
func consoleIsSerial(con *libvirtxml.DomainConsole) bool {
	return con.Target == nil || con.Target.Type == "" || con.Target.Type == "serial"
}

// defaultRAMID sets the id of the machine's RAM backend (QEMU's default-ram-id of the
// machine, hw/*/ in QEMU 10.0), which libvirt gives -machine memory-backend= when the
// guest has no NUMA nodes and QEMU reports the id (QEMU 5.2 and later). libvirt 5.6
// predates the id and never writes it.
func (b *builder) defaultRAMID(d *devices) {
	if b.dom.CPU != nil && b.dom.CPU.Numa != nil && len(b.dom.CPU.Numa.Cell) > 0 ||
		!b.qemuAtLeast(5, 2) || !b.libvirtAtLeast(6, 0) {
		return
	}
	m := b.machine
	switch {
	case isX86(b.arch) && m == "microvm":
		d.ramBackend = "microvm.ram"
	case isX86(b.arch):
		d.ramBackend = "pc.ram"
	case b.isARMVirt():
		d.ramBackend = "mach-virt.ram"
	case isARM(b.arch) && strings.HasPrefix(m, "vexpress-"):
		d.ramBackend = "vexpress.highmem"
	case isARM(b.arch) && (m == "versatilepb" || m == "versatileab"):
		d.ramBackend = "versatile.ram"
	case isARM(b.arch) && m == "sbsa-ref":
		d.ramBackend = "sbsa-ref.ram"
	case b.isPSeries():
		d.ramBackend = "ppc_spapr.ram"
	case isPPC64(b.arch) && strings.HasPrefix(m, "powernv"):
		d.ramBackend = "pnv.ram"
	case isS390(b.arch):
		d.ramBackend = "s390.ram"
	case b.isRISCVVirt():
		d.ramBackend = "riscv_virt_board.ram"
	case isRISCV(b.arch) && m == "spike":
		d.ramBackend = "riscv.spike.ram"
	case b.isLoongArchVirt():
		d.ramBackend = "loongarch.ram"
	case strings.HasPrefix(b.arch, "mips") && strings.HasPrefix(m, "malta"):
		d.ramBackend = "mips_malta.ram"
	}
}

// sourceType returns the type attribute of a chardev-like element.
func (b *builder) typeAttr(path string) string { return b.idx.attr(path, "type") }

var _ = libvirtxml.Domain{}

// usbHubPorts is the port count of a USB hub (VIR_DOMAIN_USB_HUB_PORTS).
const usbHubPorts = 8

// addUSBHubs counts the hubs libvirt adds when the USB devices outnumber the ports of the
// USB controllers and hubs (qemuDomainUSBAddressAddHubs). Each added hub takes a port and
// gives eight.
func (b *builder) addUSBHubs(d *devices) {
	ports := 0
	for _, c := range d.controllers {
		if c.typ == "usb" {
			ports += usbControllerPorts(c)
		}
	}
	count := 0
	dv := b.devs()
	for _, h := range dv.Hubs {
		if h.Type == "usb" {
			ports += usbHubPorts
			count++
		}
	}
	for _, h := range dv.Hostdevs {
		if h.SubsysUSB != nil {
			count++
		}
	}
	for i := range dv.Disks {
		if diskBus(&dv.Disks[i]) == "usb" {
			count++
		}
	}
	for i := range dv.Interfaces {
		if b.netModel(&dv.Interfaces[i]) == "usb-net" {
			count++
		}
	}
	for _, c := range d.controllers {
		if c.typ == "ccid" {
			count++
		}
	}
	for _, in := range dv.Inputs {
		bus := in.Bus
		if bus == "" {
			bus = b.defaultInputBus(in.Type)
		}
		if bus == "usb" {
			count++
		}
	}
	count += len(d.usbInputs)
	for _, s := range d.serials {
		if typ, _ := b.serialTarget(s); typ == "usb-serial" {
			count++
		}
	}
	for _, s := range dv.Sounds {
		if s.Model == "usb" {
			count++
		}
	}
	for _, r := range dv.RedirDevs {
		if r.Bus == "" || r.Bus == "usb" {
			count++
		}
	}
	for _, fs := range dv.Filesystems {
		if fs.Driver != nil && fs.Driver.Type == "mtp" {
			count++
		}
	}
	if count > ports {
		d.usbHubs = (count - ports + 1 + usbHubPorts - 2) / (usbHubPorts - 1)
	}
}

// usbControllerPorts returns the port count of a USB controller
// (virDomainUSBAddressControllerModelToPorts).
func usbControllerPorts(c *controller) int {
	switch c.model {
	case "", "piix3-uhci", "piix4-uhci", "vt82c686b-uhci":
		return 2
	case "ehci", "ich9-ehci1":
		return 6
	case "pci-ohci":
		return 3
	case "nec-xhci", "qemu-xhci", "qusb1", "qusb2":
		if c.x != nil && c.x.USB != nil && c.x.USB.Port != nil {
			return int(*c.x.USB.Port)
		}
		if c.model == "qusb1" || c.model == "qusb2" {
			return 8
		}
		return 4
	}
	return 0
}
