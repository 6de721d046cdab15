package domxml

import (
	"fmt"
	"sort"
)

// usbModels maps libvirt's USB controller models to QEMU devices (qemuControllerModelUSB).
var usbModels = map[string]string{
	"piix3-uhci": "piix3-usb-uhci", "piix4-uhci": "piix4-usb-uhci", "ehci": "usb-ehci",
	"ich9-ehci1": "ich9-usb-ehci1", "ich9-uhci1": "ich9-usb-uhci1",
	"ich9-uhci2": "ich9-usb-uhci2", "ich9-uhci3": "ich9-usb-uhci3",
	"vt82c686b-uhci": "vt82c686b-usb-uhci", "pci-ohci": "pci-ohci",
	"nec-xhci": "nec-usb-xhci", "qemu-xhci": "qemu-xhci",
}

// scsiModels maps libvirt's SCSI controller models to QEMU devices; virtio models are
// handled apart.
var scsiModels = map[string]string{
	"lsilogic": "lsi", "ibmvscsi": "spapr-vscsi", "lsisas1068": "mptsas1068",
	"lsisas1078": "megasas", "vmpvscsi": "pvscsi", "am53c974": "am53c974",
	"dc390": "dc-390",
}

// pciModelNames maps libvirt's PCI controller models to the QEMU device libvirt uses
// when <model name> does not name one (qemuDomainPCIControllerSetDefaultModelName).
var pciModelNames = map[string]string{
	"pci-bridge": "pci-bridge", "dmi-to-pci-bridge": "i82801b11-bridge",
	"pcie-root-port": "pcie-root-port", "pcie-switch-upstream-port": "x3130-upstream",
	"pcie-switch-downstream-port": "xio3130-downstream", "pci-expander-bus": "pxb",
	"pcie-expander-bus": "pxb-pcie", "pcie-to-pci-bridge": "pcie-pci-bridge",
	"pci-root": "spapr-pci-host-bridge",
}

// buildControllers emits the controllers in libvirt's order: PCI, USB, SCSI, IDE, SATA,
// virtio-serial (qemuBuildControllersCommandLine). The controllers libvirt's address
// assignment adds come with the PCI ones.
func (b *builder) buildControllers() {
	b.buildPCIControllers()
	for _, typ := range []string{"usb", "scsi", "ide", "sata", "virtio-serial"} {
		for _, c := range b.dev.controllers {
			if c.typ == typ {
				b.buildController(c)
			}
		}
	}
	b.buildLegacyUSB()
}

// buildLegacyUSB writes -usb for a USB controller that kept no model because QEMU has
// none of the devices libvirt would pick, when it is the only USB controller
// (qemuBuildLegacyUSBCommandLine). QEMU then creates the machine's own USB controller.
func (b *builder) buildLegacyUSB() {
	var legacy []*controller
	for _, c := range b.dev.controllers {
		switch {
		case c.typ != "usb":
		case c.model == "none":
			return
		case c.model == "":
			legacy = append(legacy, c)
		default:
			return
		}
	}
	switch {
	case len(legacy) > 1:
		b.errorf(legacy[1].where(), "multiple legacy USB controllers are not supported")
	case len(legacy) == 1:
		c := legacy[0]
		b.emitTagged(tag{path: c.path, implied: c.implied, key: c.key()}, "-usb")
	}
}

// buildPCIControllers emits the PCI controllers of the XML and those libvirt adds, by index.
func (b *builder) buildPCIControllers() {
	type pciCtrl struct {
		index int
		emit  func()
	}
	var all []pciCtrl
	for _, c := range b.dev.controllers {
		if c.typ == "pci" {
			all = append(all, pciCtrl{int(c.index), func() { b.buildController(c) }})
		}
	}
	for _, a := range b.pciAdded {
		all = append(all, pciCtrl{a.index, func() {
			why := fmt.Sprintf("libvirt's PCI address assignment: %s index %d", a.model,
				a.index)
			name, _ := b.pciModelName(a.model)
			b.emitTagged(tag{implied: why, key: a.key()}, "-device",
				kv(name, "id", fmt.Sprintf("pci.%d", a.index)))
		}})
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].index < all[j].index })
	for _, c := range all {
		c.emit()
	}
}

// controllerDriver returns the QEMU device of a controller, or "" for one that is part of
// the machine or makes nothing.
func (b *builder) controllerDriver(c *controller) string {
	switch c.typ {
	case "pci":
		return b.pciControllerDriver(c)
	case "usb":
		return usbModels[c.model]
	case "scsi":
		return b.scsiDriver(c)
	case "ide":
		if c.index == 0 && b.hasBuiltinIDE() {
			return ""
		}
		b.errorf(c.where(), "IDE controllers are unsupported for machine %s", b.machine)
	case "sata":
		if c.index == 0 && b.isQ35() {
			return ""
		}
		return "ahci"
	case "virtio-serial":
		return "virtio-serial-" + b.virtioBus(c.key(), c.addr) + b.transitional(c.model)
	case "fdc", "xenbus", "isa", "ccid":
		return ""
	default:
		b.errorf(c.where(), "unknown controller type %q", c.typ)
	}
	return ""
}

func (c *controller) where() string {
	if c.path != "" {
		return c.path
	}
	return "/domain/devices"
}

func (b *builder) pciControllerDriver(c *controller) string {
	switch c.model {
	case "pcie-root":
		return ""
	case "pci-root":
		if !b.isPSeries() || c.index == 0 {
			return ""
		}
	}
	if c.modelName != "" {
		return c.modelName
	}
	name, ok := b.pciModelName(c.model)
	if !ok {
		b.errorf(c.where(), "unknown PCI controller model %q", c.model)
	}
	return name
}

// pciModelName returns the QEMU device of a PCI controller model without <model name>.
// A QEMU without the generic pcie-root-port device gets Intel's ioh3420 root port.
func (b *builder) pciModelName(model string) (string, bool) {
	if model == "pcie-root-port" && !b.has("pcie-root-port", true) {
		return "ioh3420", true
	}
	name, ok := pciModelNames[model]
	return name, ok
}

func (b *builder) scsiDriver(c *controller) string {
	switch c.model {
	case "virtio-scsi", "virtio-transitional", "virtio-non-transitional":
		return "virtio-scsi-" + b.virtioBus(c.key(), c.addr) + b.transitional(c.model)
	case "ncr53c90":
		return ""
	case "buslogic":
		b.errorf(c.where(), "SCSI controller model buslogic is not supported by QEMU")
		return ""
	}
	name, ok := scsiModels[c.model]
	if !ok {
		b.errorf(c.where(), "unknown SCSI controller model %q", c.model)
	}
	return name
}

// buildController emits one controller.
func (b *builder) buildController(c *controller) {
	if c.typ == "usb" && (c.model == "none" || c.model == "") {
		return
	}
	if c.typ == "usb" {
		if _, ok := usbModels[c.model]; !ok {
			b.errorf(c.where(), "unknown USB controller model %q", c.model)
			return
		}
	}
	drv := b.controllerDriver(c)
	if drv == "" {
		return
	}
	id := fmt.Sprintf("%s%d", controllerAlias(c.typ), c.index)
	if c.typ == "pci" {
		id = fmt.Sprintf("pci.%d", c.index)
	}
	t := tag{path: c.path, implied: c.implied, key: c.key()}
	b.emitTagged(t, "-device", kv(drv, "id", id))
}

func controllerAlias(typ string) string {
	switch typ {
	case "virtio-serial":
		return "virtio-serial"
	case "ccid":
		return "ccid"
	}
	return typ
}

// buildCCID emits the USB CCID controllers, which libvirt writes after the USB hubs.
func (b *builder) buildCCID() {
	for _, c := range b.dev.controllers {
		if c.typ == "ccid" {
			b.emitTagged(tag{path: c.path, implied: c.implied}, "-device",
				kv("usb-ccid", "id", fmt.Sprintf("ccid%d", c.index)))
		}
	}
}

// buildHubs emits USB hubs.
func (b *builder) buildHubs() {
	for i, h := range b.devs().Hubs {
		path := fmt.Sprintf("/domain/devices/hub[%d]", i+1)
		if h.Type != "usb" {
			b.errorf(path, "unknown hub type %q", h.Type)
			continue
		}
		b.device(path, "usb-hub", "id", fmt.Sprintf("hub%d", i))
	}
	for i := range b.dev.usbHubs {
		b.emitImplied("libvirt: a USB hub for lack of USB ports", "-device",
			kv("usb-hub", "id", fmt.Sprintf("hub%d", len(b.devs().Hubs)+i)))
	}
}
