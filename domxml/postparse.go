package domxml

import (
	"fmt"
	"slices"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// addrInfo is the part of a device address that decides the QEMU device and the PCI bus.
type addrInfo struct {
	pci bool
	// pciPresent is set for a PCI address other than 0000:00:00.0, which libvirt
	// treats as a request to assign one (virDeviceInfoPCIAddressIsPresent).
	pciPresent          bool
	bus, slot, function uint
	multifunction       bool
	ccw, mmio           bool
	// drive addresses (disks, SCSI host devices) name their controller.
	drive      bool
	controller uint
	// virtio-serial addresses name their controller too.
	serial bool
	// other is the type of any other address (usb, spapr-vio, isa, ...).
	other string
}

// toAddr reads a libvirtxml address.
func toAddr(a *libvirtxml.DomainAddress) *addrInfo {
	if a == nil {
		return nil
	}
	switch {
	case a.PCI != nil:
		ai := &addrInfo{pci: true, bus: deref(a.PCI.Bus), slot: deref(a.PCI.Slot),
			function: deref(a.PCI.Function), multifunction: a.PCI.MultiFunction == "on"}
		ai.pciPresent = deref(a.PCI.Domain)+ai.bus+ai.slot+ai.function != 0
		return ai
	case a.CCW != nil:
		return &addrInfo{ccw: true}
	case a.VirtioMMIO != nil:
		return &addrInfo{mmio: true}
	case a.Drive != nil:
		return &addrInfo{drive: true, controller: deref(a.Drive.Controller)}
	case a.VirtioSerial != nil:
		return &addrInfo{serial: true, controller: deref(a.VirtioSerial.Controller)}
	case a.USB != nil:
		return &addrInfo{other: "usb"}
	case a.SpaprVIO != nil:
		return &addrInfo{other: "spapr-vio"}
	case a.ISA != nil:
		return &addrInfo{other: "isa"}
	case a.CCID != nil:
		return &addrInfo{other: "ccid"}
	case a.DIMM != nil:
		return &addrInfo{other: "dimm"}
	case a.VirtioS390 != nil:
		return &addrInfo{other: "virtio-s390"}
	case a.Unassigned != nil:
		return &addrInfo{other: "unassigned"}
	}
	return nil
}

func deref(p *uint) uint {
	if p == nil {
		return 0
	}
	return *p
}

// controller is one controller after libvirt's post-parse step: from the XML, or added by
// libvirt (implied is then set).
type controller struct {
	typ, model, modelName string
	index                 uint
	addr                  *addrInfo
	path, implied         string
	x                     *libvirtxml.DomainController
}

// devices is the device list after libvirt's post-parse defaults.
type devices struct {
	controllers []*controller
	graphics    []libvirtxml.DomainGraphic
	videos      []video
	serials     []serial
	balloon     string // the balloon model, "" for none
	balloonPath string
	balloonWhy  string
	panics      []panicDev
	// ramBackend is the id of the memory backend of the machine's RAM, when libvirt
	// gives the machine one.
	ramBackend string
	smmuv3     bool
	usbInputs  []usbInput
	// usbHubs is the number of USB hubs libvirt adds for lack of USB ports.
	usbHubs int
}

type video struct {
	model, path string
	// implied is set for the video device libvirt adds for <graphics>.
	implied string
	x       *libvirtxml.DomainVideo
}

type serial struct {
	path string
	x    *libvirtxml.DomainSerial
	// console is set for a serial port libvirt made from a <console>.
	console *libvirtxml.DomainConsole
}

type panicDev struct {
	model, path, implied string
	addr                 *addrInfo
}

type usbInput struct{ typ, implied string }

// postParse applies libvirt's post-parse defaults (qemuDomainDefPostParse,
// virDomainDefAddImplicitDevices) to a copy of the device list.
func (b *builder) postParse() *devices {
	d := &devices{}
	b.dev = d
	dv := b.devs()
	d.graphics = dv.Graphics
	for i := range dv.Controllers {
		b.addXMLController(d, &dv.Controllers[i], fmt.Sprintf("/domain/devices/controller[%d]",
			i+1))
	}
	b.addDiskControllers(d)
	b.addSerialControllers(d)
	b.addDefaultDevices(d)
	b.defaultVideo(d)
	b.consoleSerials(d)
	b.addUSBHubs(d)
	b.defaultRAMID(d)
	for _, io := range dv.IOMMUs {
		if io.Model == "smmuv3" {
			d.smmuv3 = true
		}
	}
	return d
}

// devs returns the device list, empty when the XML has none.
func (b *builder) devs() *libvirtxml.DomainDeviceList {
	if b.dom.Devices == nil {
		b.dom.Devices = &libvirtxml.DomainDeviceList{}
	}
	return b.dom.Devices
}

func (b *builder) addXMLController(d *devices, x *libvirtxml.DomainController, path string) {
	if !controllerTypes[x.Type] {
		// A controller type of a newer libvirt may make a device qscope does not know.
		b.errorf(path, "unknown controller type %q", x.Type)
		return
	}
	if models, ok := fixedControllerModels[x.Type]; ok && !slices.Contains(models, x.Model) {
		b.errorf(path, "unknown %s controller model %q", x.Type, x.Model)
		return
	}
	c := &controller{typ: x.Type, model: x.Model, addr: toAddr(x.Address), path: path, x: x}
	if x.Index != nil {
		c.index = *x.Index
	} else {
		c.index = b.nextControllerIndex(d, x.Type)
	}
	if x.PCI != nil && x.PCI.Model != nil {
		c.modelName = x.PCI.Model.Name
	}
	if c.index > maxControllerIndex {
		b.errorf(path, "controller index %d is too large: qscope reads indexes up to %d",
			c.index, maxControllerIndex)
		return
	}
	d.controllers = append(d.controllers, c)
}

// controllerTypes are the controller types qscope models. libvirtxml also accepts nvme,
// whose device qscope does not model, so nvme is rejected like a type of a newer libvirt.
var controllerTypes = setOf("ide", "fdc", "scsi", "sata", "virtio-serial", "ccid", "usb",
	"pci", "xenbus", "isa")

// fixedControllerModels are the models libvirt accepts for the controller types whose
// model qscope does not map to a device by name. "" is a controller without a model.
var fixedControllerModels = map[string][]string{
	"virtio-serial": {"", "virtio", "virtio-transitional", "virtio-non-transitional"},
	"ide":           {"", "piix3", "piix4", "ich6"},
	"sata":          {""},
	"fdc":           {""},
	"ccid":          {""},
	"xenbus":        {""},
	"isa":           {""},
}

// maxControllerIndex is the highest controller index qscope reads. libvirt accepts higher
// ones, but a PCI bus number is 8 bits wide, and libvirt adds every controller up to the
// highest index a device names, so a larger index would make qscope list millions of
// controllers.
const maxControllerIndex = 255

// nextControllerIndex returns the first unused index of controllers of type typ, as
// libvirt assigns one to a controller without an index attribute.
func (b *builder) nextControllerIndex(d *devices, typ string) uint {
	var n uint
	for _, c := range d.controllers {
		if c.typ == typ && c.index >= n {
			n = c.index + 1
		}
	}
	return n
}

// findController returns the controller of type typ with index idx, or nil.
func (d *devices) findController(typ string, idx uint) *controller {
	for _, c := range d.controllers {
		if c.typ == typ && c.index == idx {
			return c
		}
	}
	return nil
}

// maybeAddController adds a controller of type typ and index idx unless one exists.
func (d *devices) maybeAddController(typ string, idx uint, model, why string) *controller {
	if c := d.findController(typ, idx); c != nil {
		return c
	}
	c := &controller{typ: typ, index: idx, model: model, implied: why}
	d.controllers = append(d.controllers, c)
	return c
}

// addDiskControllers adds the controllers that disks and SCSI host devices refer to, as
// virDomainDefAddImplicitControllers does: every index from 0 to the highest one used.
func (b *builder) addDiskControllers(d *devices) {
	dv := b.devs()
	buses := map[string]string{"ide": "ide", "scsi": "scsi", "sata": "sata", "fdc": "fdc"}
	max := map[string]int{}
	for i := range dv.Disks {
		disk := &dv.Disks[i]
		bus := diskBus(disk)
		typ, ok := buses[bus]
		if !ok {
			continue
		}
		idx := diskControllerIndex(disk, bus)
		if cur, ok := max[typ]; !ok || idx > cur {
			max[typ] = idx
		}
	}
	for _, typ := range []string{"scsi", "fdc", "ide", "sata"} {
		top, ok := max[typ]
		if !ok {
			continue
		}
		if top > maxControllerIndex {
			b.errorf("/domain/devices", "a disk names %s controller %d: qscope reads "+
				"indexes up to %d", typ, top, maxControllerIndex)
			continue
		}
		for i := 0; i <= top; i++ {
			d.maybeAddController(typ, uint(i), "", "libvirt: the "+typ+
				" controller that disks refer to")
		}
	}
	b.addHostdevSCSIControllers(d)
}

// driveAddr is the address of a disk or SCSI host device on its controller.
type driveAddr struct{ controller, bus, target, unit uint }

// scsiDriveUnits is the number of units libvirt uses per SCSI controller when it assigns
// addresses (SCSI_NARROW_BUS_MAX_CONT_UNIT).
const scsiDriveUnits = 7

// addHostdevSCSIControllers gives SCSI host devices without an address the first free
// unit (virDomainHostdevAssignAddress) and adds the controllers they refer to, of the
// model of the last controller they use (virDomainDefMaybeAddHostdevSCSIcontroller).
func (b *builder) addHostdevSCSIControllers(d *devices) {
	dv := b.devs()
	used := map[driveAddr]bool{}
	for i := range dv.Disks {
		if disk := &dv.Disks[i]; diskBus(disk) == "scsi" {
			used[scsiDiskAddr(disk)] = true
		}
	}
	var addrs []driveAddr
	var unaddressed []int // indexes into addrs
	for i := range dv.Hostdevs {
		h := &dv.Hostdevs[i]
		if h.SubsysSCSI == nil {
			continue
		}
		if h.Address == nil || h.Address.Drive == nil {
			unaddressed = append(unaddressed, len(addrs))
			addrs = append(addrs, driveAddr{})
			continue
		}
		a := h.Address.Drive
		da := driveAddr{deref(a.Controller), deref(a.Bus), deref(a.Target), deref(a.Unit)}
		used[da] = true
		addrs = append(addrs, da)
	}
	for _, i := range unaddressed {
		addrs[i] = b.nextSCSIUnit(d, used)
		used[addrs[i]] = true
	}
	for _, a := range addrs {
		if a.controller > maxControllerIndex {
			b.errorf("/domain/devices", "a SCSI host device names controller %d: qscope "+
				"reads indexes up to %d", a.controller, maxControllerIndex)
			return
		}
	}
	maxCtrl, model := -1, ""
	for _, a := range addrs {
		if int(a.controller) > maxCtrl {
			maxCtrl = int(a.controller)
			if c := d.findController("scsi", a.controller); c != nil && c.model != "" {
				model = c.model
			}
		}
	}
	for i := 0; i <= maxCtrl; i++ {
		d.maybeAddController("scsi", uint(i), model, "libvirt: the SCSI controller that "+
			"SCSI host devices refer to")
	}
}

// nextSCSIUnit returns the first free unit on bus 0, target 0 of the SCSI controllers
// (virDomainControllerSCSINextUnit).
func (b *builder) nextSCSIUnit(d *devices, used map[driveAddr]bool) driveAddr {
	for ctrl := uint(0); ; ctrl++ {
		c := d.findController("scsi", ctrl)
		for unit := uint(0); unit < scsiDriveUnits; unit++ {
			a := driveAddr{controller: ctrl, unit: unit}
			if !used[a] && !scsiUnitReserved(c, unit) {
				return a
			}
		}
	}
}

// scsiUnitReserved reports whether a SCSI controller model cannot take a device at unit
// (virDomainSCSIDriveAddressIsUsed).
func scsiUnitReserved(c *controller, unit uint) bool {
	if c == nil {
		return false
	}
	switch c.model {
	case "lsisas1068":
		return unit > 1
	case "ibmvscsi", "lsilogic", "vmpvscsi", "buslogic":
		return unit == 7
	case "ncr53c90", "dc390", "am53c974":
		return unit > 6
	}
	return false
}

// scsiDiskAddr returns the drive address of a SCSI disk: its address element, or the one
// libvirt derives from the target name (virDomainDiskDefAssignAddress).
func scsiDiskAddr(disk *libvirtxml.DomainDisk) driveAddr {
	if disk.Address != nil && disk.Address.Drive != nil {
		a := disk.Address.Drive
		return driveAddr{deref(a.Controller), deref(a.Bus), deref(a.Target), deref(a.Unit)}
	}
	n := max(diskNameIndex(disk.Target.Dev), 0)
	return driveAddr{controller: uint(n / scsiDriveUnits), unit: uint(n % scsiDriveUnits)}
}

// diskBus returns the disk's target bus, or libvirt's default for its target name.
func diskBus(disk *libvirtxml.DomainDisk) string {
	if disk.Target == nil {
		return ""
	}
	if disk.Target.Bus != "" {
		return disk.Target.Bus
	}
	dev := disk.Target.Dev
	switch {
	case strings.HasPrefix(dev, "hd"):
		return "ide"
	case strings.HasPrefix(dev, "sd"):
		return "scsi"
	case strings.HasPrefix(dev, "vd"):
		return "virtio"
	case strings.HasPrefix(dev, "fd"):
		return "fdc"
	case strings.HasPrefix(dev, "xvd"):
		return "xen"
	case strings.HasPrefix(dev, "ubd"):
		return "uml"
	}
	return ""
}

// diskControllerIndex returns the controller a disk sits on: its drive address, or the
// index libvirt derives from the target name (virDomainDiskDefAssignAddress).
func diskControllerIndex(disk *libvirtxml.DomainDisk, bus string) int {
	if a := toAddr(disk.Address); a != nil && a.drive {
		return int(a.controller)
	}
	n := diskNameIndex(disk.Target.Dev)
	per := map[string]int{"ide": 4, "fdc": 2, "sata": 6, "scsi": 7}[bus]
	if n < 0 || per == 0 {
		return 0
	}
	return n / per
}

// diskNameIndex turns a disk name's letters into an index: sda is 0, sdz 25, sdaa 26.
// It returns -1 for a name libvirt would not accept.
func diskNameIndex(name string) int {
	rest := ""
	for _, prefix := range []string{"xvd", "ubd", "hd", "sd", "vd", "fd"} {
		if r, ok := strings.CutPrefix(name, prefix); ok {
			rest = r
			break
		}
	}
	if rest == "" {
		return -1
	}
	n := 0
	for _, c := range rest {
		if c < 'a' || c > 'z' {
			return -1
		}
		n = n*26 + int(c-'a') + 1
	}
	return n - 1
}

// addSerialControllers adds the virtio-serial controllers that virtio channels and
// consoles refer to, and the CCID controllers of smartcards.
func (b *builder) addSerialControllers(d *devices) {
	dv := b.devs()
	why := "libvirt: the virtio-serial controller that channels and consoles use"
	for _, ch := range dv.Channels {
		if ch.Target != nil && ch.Target.VirtIO != nil {
			d.maybeAddController("virtio-serial", serialController(ch.Address), "", why)
		}
	}
	for _, con := range dv.Consoles {
		if con.Target != nil && con.Target.Type == "virtio" {
			d.maybeAddController("virtio-serial", serialController(con.Address), "", why)
		}
	}
	for _, sc := range dv.Smartcards {
		idx := uint(0)
		if sc.Address != nil && sc.Address.CCID != nil {
			idx = deref(sc.Address.CCID.Controller)
		}
		d.maybeAddController("ccid", idx, "", "libvirt: the CCID controller of a smartcard")
	}
}

func serialController(a *libvirtxml.DomainAddress) uint {
	if a != nil && a.VirtioSerial != nil {
		return deref(a.VirtioSerial.Controller)
	}
	return 0
}
