package domxml

import "fmt"

// conn is a bit set of libvirt's PCI connect types: what a device plugs into a bus as, or
// what a bus accepts (virDomainPCIConnectFlags).
type conn uint

const (
	connPCI conn = 1 << iota
	connPCIe
	connRootPort
	connSwitchUp
	connSwitchDown
	connDMIBridge
	connPCIeToPCIBridge
	connPCIBridge
	connPCIExpander
	connPCIeExpander
	connAuto // the bus takes devices without an address
)

// pciBus is one PCI bus: the root, or the bus behind a PCI controller.
type pciBus struct {
	model            string
	accepts          conn
	minSlot, maxSlot int
	// used marks the functions taken in each slot.
	used [32]uint8
}

// addedController is a PCI controller that libvirt's address assignment adds.
type addedController struct {
	model string
	index int
}

// pciSet is libvirt's virDomainPCIAddressSet for the domain, reduced to what decides the
// controllers libvirt adds: which slots are taken on which bus.
type pciSet struct {
	buses []*pciBus
	added []addedController
	// pcieToPCI tells whether a conventional PCI device on a PCI Express machine goes
	// behind a pcie-to-pci-bridge (QEMU 2.12 and later) or a dmi-to-pci-bridge.
	pcieToPCI bool
	// multiRoot is set for pSeries, which adds PCI host bridges instead of bridges.
	multiRoot bool
}

// busModel sets the bus's accepted connect types and slot range
// (virDomainPCIAddressBusSetModel).
func newBus(model string) *pciBus {
	b := &pciBus{model: model, minSlot: 1, maxSlot: 31}
	switch model {
	case "pci-root":
		b.accepts = connAuto | connPCI | connPCIBridge | connPCIExpander
	case "pci-bridge", "pcie-to-pci-bridge":
		b.accepts = connAuto | connPCI | connPCIBridge
	case "pci-expander-bus":
		b.accepts, b.minSlot = connAuto|connPCI|connPCIBridge, 0
	case "pcie-root":
		b.accepts = connPCIe | connRootPort | connDMIBridge | connPCIeExpander
	case "dmi-to-pci-bridge":
		b.accepts, b.minSlot = connPCI|connPCIBridge, 0
	case "pcie-root-port", "pcie-switch-downstream-port":
		b.accepts, b.minSlot, b.maxSlot = connAuto|connPCIe|connSwitchUp|connPCIeToPCIBridge,
			0, 0
	case "pcie-switch-upstream-port":
		b.accepts, b.minSlot = connSwitchDown, 0
	case "pcie-expander-bus":
		b.accepts, b.minSlot = connRootPort|connDMIBridge, 0
	}
	return b
}

// controllerConn returns what a PCI controller model plugs in as.
func controllerConn(model string) conn {
	switch model {
	case "pci-bridge":
		return connPCIBridge
	case "dmi-to-pci-bridge":
		return connDMIBridge
	case "pcie-root-port":
		return connRootPort
	case "pcie-switch-upstream-port":
		return connSwitchUp
	case "pcie-switch-downstream-port":
		return connSwitchDown
	case "pci-expander-bus":
		return connPCIExpander
	case "pcie-expander-bus":
		return connPCIeExpander
	case "pcie-to-pci-bridge":
		return connPCIeToPCIBridge
	}
	return 0
}

// pciDevice is one device that takes a PCI slot.
type pciDevice struct {
	conn conn
	addr *addrInfo
}

// assignPCI places every PCI device as qemuDomainAssignPCIAddresses does and records the
// controllers it has to add.
func (b *builder) assignPCI() *pciSet {
	s := &pciSet{pcieToPCI: true, multiRoot: b.isPSeries()}
	if !b.supportsPCI() {
		return s
	}
	maxIdx := b.pciBuses(s)
	b.reserveBoardSlots(s)
	devs := b.pciDevices()
	for _, d := range devs {
		if d.addr != nil && d.addr.pci {
			s.reserveExplicit(d)
		}
	}
	if b.hasPCIRoot() && !s.multiRoot {
		s.reserveNext(connPCI, false)
	}
	for _, d := range devs {
		if d.addr == nil || !d.addr.pci {
			s.reserveNext(d.conn, true)
		}
	}
	if maxIdx <= 0 && len(s.added) > 0 && b.hasPCIeRoot() {
		s.reserveNext(connPCIe, true)
	}
	return s
}

// pciBuses creates the buses of the PCI controllers in the XML and returns the highest
// controller index.
func (b *builder) pciBuses(s *pciSet) int {
	root := "pci-root"
	if b.hasPCIeRoot() {
		root = "pcie-root"
	}
	maxIdx := -1
	byIndex := map[int]string{0: root}
	for _, c := range b.dev.controllers {
		if c.typ != "pci" {
			continue
		}
		m := c.model
		if m == "" {
			m = b.defaultPCIModel(c.index)
			c.model = m
		}
		byIndex[int(c.index)] = m
		maxIdx = max(maxIdx, int(c.index))
	}
	for i := 0; i <= max(maxIdx, 0); i++ {
		m, ok := byIndex[i]
		if !ok {
			m = "pci-bridge"
		}
		s.buses = append(s.buses, newBus(m))
	}
	return maxIdx
}

// defaultPCIModel returns the model of a PCI controller written without one.
func (b *builder) defaultPCIModel(index uint) string {
	switch {
	case index == 0 && b.hasPCIeRoot():
		return "pcie-root"
	case index == 0:
		return "pci-root"
	case b.hasPCIeRoot():
		return "pcie-root-port"
	}
	return "pci-bridge"
}

// reserveBoardSlots takes the slots of the chipset's own functions and the slot libvirt
// keeps for the primary video device.
func (b *builder) reserveBoardSlots(s *pciSet) {
	root := s.buses[0]
	switch {
	case b.isI440FX():
		root.used[1] = 0xff
		if b.primaryVideoNeedsSlot() {
			root.used[2] = 0xff
		}
	case b.isQ35():
		root.used[0x1f] = 0xff
		if b.primaryVideoNeedsSlot() {
			root.used[1] = 0xff
		}
		for _, c := range b.dev.controllers {
			if c.typ == "usb" && c.index == 0 && c.addr == nil && isICH9USB(c.model) {
				root.used[0x1d] = 0xff
			}
		}
	}
}

func isICH9USB(model string) bool {
	return model == "ich9-ehci1" || model == "ich9-uhci1" || model == "ich9-uhci2" ||
		model == "ich9-uhci3"
}

// primaryVideoNeedsSlot reports whether the first video device is a PCI device without
// an address, which libvirt places in slot 2 (i440fx) or 1 (q35) of the root bus.
func (b *builder) primaryVideoNeedsSlot() bool {
	if len(b.dev.videos) == 0 {
		return false
	}
	v := b.dev.videos[0]
	if v.x != nil && v.x.Address != nil {
		return false
	}
	return videoConn(v.model, b.pcieFlag()) != 0
}

// pcieFlag is the connect type of a PCI Express device on this machine: PCIe behind a
// PCI Express root, conventional PCI otherwise.
func (b *builder) pcieFlag() conn {
	if b.hasPCIeRoot() {
		return connPCIe
	}
	return connPCI
}

// reserveExplicit takes the slot of a device with a PCI address, adding buses up to the
// one it names.
func (s *pciSet) reserveExplicit(d pciDevice) {
	for int(d.addr.bus) >= len(s.buses) {
		if !s.grow(d.conn) {
			return
		}
	}
	if d.addr.slot < 32 && d.addr.function < 8 {
		s.buses[d.addr.bus].used[d.addr.slot] |= 1 << d.addr.function
	}
}

// reserveNext places a device without an address on the first bus that takes it, adding
// controllers when none has room (virDomainPCIAddressReserveNextAddr).
func (s *pciSet) reserveNext(c conn, auto bool) {
	if c == 0 {
		return
	}
	for range 64 {
		if bus, slot := s.findFree(c, auto); bus >= 0 {
			s.buses[bus].used[slot] = 0xff
			return
		}
		if !s.grow(c) {
			return
		}
	}
}

// findFree returns a bus and slot that take a device of connect type c.
func (s *pciSet) findFree(c conn, auto bool) (int, int) {
	for i, bus := range s.buses {
		if bus.accepts&c == 0 || auto && bus.accepts&connAuto == 0 && c&(connPCI|connPCIe) != 0 {
			continue
		}
		for slot := bus.minSlot; slot <= bus.maxSlot; slot++ {
			if bus.used[slot] == 0 {
				return i, slot
			}
		}
	}
	return -1, 0
}

// grow adds the controllers that give a device of connect type c a bus, as
// virDomainPCIAddressSetGrow does, and places each new controller. It returns false when
// libvirt cannot add a bus for c.
func (s *pciSet) grow(c conn) bool {
	var models []string
	switch {
	case c&connPCI != 0 && s.multiRoot:
		models = []string{"pci-root"}
	case c&connPCI != 0:
		models = []string{"pci-bridge"}
		if !s.hasBusAccepting(connPCIBridge) {
			if s.pcieToPCI {
				models = []string{"pcie-root-port", "pcie-to-pci-bridge"}
			} else {
				models = []string{"dmi-to-pci-bridge", "pci-bridge"}
			}
		}
	case c&(connPCIe|connSwitchUp) != 0:
		models = []string{"pcie-root-port"}
	default:
		return false
	}
	for _, m := range models {
		s.addBus(m)
	}
	return true
}

func (s *pciSet) hasBusAccepting(c conn) bool {
	for _, bus := range s.buses {
		if bus.accepts&c != 0 {
			return true
		}
	}
	return false
}

// addBus adds a controller of model m and takes a slot for it on a bus that accepts it.
func (s *pciSet) addBus(m string) {
	idx := len(s.buses)
	bus := newBus(m)
	s.buses = append(s.buses, bus)
	s.added = append(s.added, addedController{model: m, index: idx})
	if m == "pci-root" {
		return
	}
	c := controllerConn(m)
	if bi, slot, fn := s.findController(c, idx); bi >= 0 {
		s.buses[bi].used[slot] |= 1 << fn
	}
}

// findController returns a bus, slot and function for a new controller: root ports are
// packed into the functions of one slot, as libvirt does.
func (s *pciSet) findController(c conn, self int) (int, int, int) {
	for i, bus := range s.buses {
		if i == self || bus.accepts&c == 0 {
			continue
		}
		for slot := bus.minSlot; slot <= bus.maxSlot; slot++ {
			u := bus.used[slot]
			if c == connRootPort && u != 0xff && u != 0 && bus.model == "pcie-root" {
				for fn := 0; fn < 8; fn++ {
					if u&(1<<fn) == 0 {
						return i, slot, fn
					}
				}
			}
			if u == 0 {
				return i, slot, 0
			}
		}
	}
	return -1, 0, 0
}

// String describes the set for test failures.
func (s *pciSet) String() string {
	return fmt.Sprintf("%d buses, added %v", len(s.buses), s.added)
}
