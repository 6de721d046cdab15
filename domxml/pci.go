package domxml

import "fmt"

// pciFlags is libvirt's virDomainPCIConnectFlags (src/conf/domain_addr.h): for a device,
// how it plugs into a bus; for a bus, what it accepts.
type pciFlags uint

const (
	pciAutoAssign pciFlags = 1 << iota // a bus takes devices without an address
	pciHotpluggable
	pciIntegrated // the device sits on the root bus (bus 0) only
	pciAggregateSlot
	pciDevice
	pcieDevice
	pcieRootPort
	pcieSwitchUpstreamPort
	pcieSwitchDownstreamPort
	pciDMIToPCIBridge
	pciExpanderBus
	pcieExpanderBus
	pciBridge
	pcieToPCIBridge
)

// pciConnectTypes are the connection types, without the modifiers.
const pciConnectTypes = pciDevice | pcieDevice | pcieRootPort | pcieSwitchUpstreamPort |
	pcieSwitchDownstreamPort | pciDMIToPCIBridge | pciExpanderBus | pcieExpanderBus |
	pciBridge | pcieToPCIBridge

const pciEndpoints = pciDevice | pcieDevice

// pciAddr is a PCI address in domain 0.
type pciAddr struct{ bus, slot, function int }

func (a pciAddr) String() string {
	return fmt.Sprintf("0000:%02x:%02x.%x", a.bus, a.slot, a.function)
}

// pciBus is one PCI bus: the root, or the bus behind a PCI controller
// (virDomainPCIAddressBus).
type pciBus struct {
	model            string
	flags            pciFlags
	minSlot, maxSlot int
	functions        [32]uint8 // reserved functions per slot
	aggregate        [32]bool  // slots whose functions take separate controllers
	group            uint      // isolation group
	groupLocked      bool
}

// pciSet is libvirt's virDomainPCIAddressSet in its first ("dry run") pass, which grows
// the set of buses whenever a device finds no free slot. The buses it adds are the PCI
// controllers libvirt adds to the domain.
type pciSet struct {
	buses []*pciBus
	// multiRoot is set for pSeries, which adds PCI host bridges instead of bridges.
	multiRoot bool
	// pcieToPCIBridge is set when QEMU has pcie-pci-bridge (QEMU 2.12 and later).
	pcieToPCIBridge bool
}

// newPCIBus returns a bus behind a controller of model (virDomainPCIAddressBusSetModel).
func newPCIBus(model string, hotplug bool) (*pciBus, error) {
	b := &pciBus{model: model, minSlot: 1, maxSlot: 31}
	hp := pciFlags(0)
	if hotplug {
		hp = pciHotpluggable
	}
	switch model {
	case "pci-root":
		b.flags = pciAutoAssign | pciDevice | pciBridge | pciExpanderBus | hp
	case "pci-bridge", "pcie-to-pci-bridge":
		b.flags = pciAutoAssign | pciDevice | pciBridge | hp
	case "pci-expander-bus":
		b.flags, b.minSlot = pciAutoAssign|pciDevice|pciBridge|hp, 0
	case "pcie-root":
		b.flags = pcieDevice | pcieRootPort | pciDMIToPCIBridge | pcieExpanderBus
	case "dmi-to-pci-bridge":
		b.flags, b.minSlot = pciDevice|pciBridge, 0
	case "pcie-root-port", "pcie-switch-downstream-port":
		b.flags = pciAutoAssign | pcieDevice | pcieSwitchUpstreamPort | pcieToPCIBridge | hp
		b.minSlot, b.maxSlot = 0, 0
	case "pcie-switch-upstream-port":
		b.flags, b.minSlot = pcieSwitchDownstreamPort, 0
	case "pcie-expander-bus":
		b.flags, b.minSlot = pcieRootPort|pciDMIToPCIBridge, 0
	default:
		return nil, fmt.Errorf("unknown PCI controller model %q", model)
	}
	return b, nil
}

// pciControllerFlags returns how a PCI controller of model plugs into its parent bus
// (virDomainPCIControllerModelToConnectType); 0 for the root buses.
func pciControllerFlags(model string) pciFlags {
	switch model {
	case "pci-bridge":
		return pciBridge
	case "pci-expander-bus":
		return pciExpanderBus
	case "pcie-expander-bus":
		return pcieExpanderBus
	case "dmi-to-pci-bridge":
		return pciDMIToPCIBridge
	case "pcie-to-pci-bridge":
		return pcieToPCIBridge
	case "pcie-root-port":
		return pcieRootPort | pciAggregateSlot
	case "pcie-switch-upstream-port":
		return pcieSwitchUpstreamPort
	case "pcie-switch-downstream-port":
		return pcieSwitchDownstreamPort
	}
	return 0
}

// compatible reports whether a device with flags dev can use addr on bus
// (virDomainPCIAddressFlagsCompatible). fromConfig relaxes the rules for addresses the
// XML gives.
func compatible(addr pciAddr, bus pciFlags, dev pciFlags, fromConfig bool) bool {
	if dev&pciIntegrated != 0 {
		if addr.bus != 0 {
			return false
		}
		bus |= pciDevice | pciAutoAssign
	}
	if fromConfig {
		if bus&pciEndpoints != 0 {
			bus |= pciEndpoints
		}
		if dev&pciBridge != 0 {
			dev |= pciDevice
		}
	} else if dev&pciAutoAssign != 0 && bus&pciAutoAssign == 0 {
		return false
	}
	if dev&pciHotpluggable != 0 && bus&pciHotpluggable == 0 {
		return false
	}
	return dev&bus&pciConnectTypes != 0
}

// validate checks that addr exists and fits a device with flags
// (virDomainPCIAddressValidate).
func (s *pciSet) validate(addr pciAddr, flags pciFlags, fromConfig bool) error {
	if addr.bus >= len(s.buses) {
		return fmt.Errorf("invalid PCI address %s: only PCI buses up to %d are available",
			addr, len(s.buses)-1)
	}
	bus := s.buses[addr.bus]
	if !compatible(addr, bus.flags, flags, fromConfig) {
		return fmt.Errorf("the device at PCI address %s cannot be plugged into the PCI "+
			"controller with index %d (%s)", addr, addr.bus, bus.model)
	}
	if addr.slot < bus.minSlot || addr.slot > bus.maxSlot {
		return fmt.Errorf("invalid PCI address %s: slot must be in %d..%d", addr,
			bus.minSlot, bus.maxSlot)
	}
	if addr.function > 7 {
		return fmt.Errorf("invalid PCI address %s: function must be <= 7", addr)
	}
	return nil
}

// grow adds the buses that give addr a place for a device with flags
// (virDomainPCIAddressSetGrow). It may move addr to a later bus.
func (s *pciSet) grow(addr *pciAddr, flags pciFlags) error {
	add := addr.bus - len(s.buses) + 1
	if add <= 0 {
		return nil
	}
	model := ""
	needDMI, needPCIe := false, false

	switch {
	case flags&pciDevice != 0 && s.multiRoot:
		model = "pci-root"
	case flags&pciDevice != 0:
		model = "pci-bridge"
		if !s.hasBusAccepting(pciBridge) {
			needDMI, needPCIe = !s.pcieToPCIBridge, s.pcieToPCIBridge
			if add == 1 {
				add++
				addr.bus++
			}
		}
	case flags&(pcieDevice|pcieSwitchUpstreamPort) != 0:
		model = "pcie-root-port"
	default:
		return fmt.Errorf("no PCI slot is free for the device and libvirt cannot add a " +
			"PCI controller for it")
	}
	var models []string

	if needDMI {
		models = append(models, "dmi-to-pci-bridge")
	}

	if needPCIe {
		models = append(models, "pcie-root-port", "pcie-to-pci-bridge")
	}

	for len(models) < add {
		models = append(models, model)
	}

	for i, m := range models {
		bus, _ := newPCIBus(m, m != "dmi-to-pci-bridge")
		if needPCIe && i == 0 {
			// This root port only takes the pcie-to-pci-bridge, so that a device
			// looking for a free PCI Express slot later gets a root port of its own.
			bus.flags = pcieToPCIBridge
		}
		s.buses = append(s.buses, bus)
	}
	return nil
}

func (s *pciSet) hasBusAccepting(f pciFlags) bool {
	for _, bus := range s.buses {
		if bus.flags&f != 0 {
			return true
		}
	}
	return false
}

func (bus *pciBus) empty() bool {
	for slot := bus.minSlot; slot <= bus.maxSlot; slot++ {
		if bus.functions[slot] != 0 {
			return false
		}
	}
	return true
}

func (bus *pciBus) fullyReserved() bool {
	for slot := bus.minSlot; slot <= bus.maxSlot; slot++ {
		if bus.functions[slot] == 0 {
			return false
		}
	}
	return true
}

// slotInUse reports whether any function of addr's slot is reserved.
func (s *pciSet) slotInUse(addr pciAddr) bool {
	return addr.bus < len(s.buses) && s.buses[addr.bus].functions[addr.slot] != 0
}

// reserve takes one function for a device with flags (virDomainPCIAddressReserveAddr),
// adding buses up to the one addr names.
func (s *pciSet) reserve(addr pciAddr, flags pciFlags, group uint, fromConfig bool) error {
	if err := s.grow(&addr, flags); err != nil {
		return err
	}
	if err := s.validate(addr, flags, fromConfig); err != nil {
		return err
	}
	bus := s.buses[addr.bus]
	if bus.functions[addr.slot]&(1<<addr.function) != 0 {
		return fmt.Errorf("PCI address %s is used twice", addr)
	}
	if bus.functions[addr.slot] == 0 && flags&pciAggregateSlot != 0 {
		bus.aggregate[addr.slot] = true
	}
	if bus.empty() && !bus.groupLocked {
		bus.group = group
	} else if bus.group != group && fromConfig {
		bus.group = 0
	}
	bus.functions[addr.slot] |= 1 << addr.function
	return nil
}

// freeFunction finds a free slot on bus i for a device with flags, starting at its first
// slot (virDomainPCIAddressFindUnusedFunctionOnBus). function is the function to take, or
// -1 for any.
func (s *pciSet) freeFunction(i int, flags pciFlags, function int) (pciAddr, bool) {
	bus := s.buses[i]
	a := pciAddr{bus: i, slot: bus.minSlot, function: max(function, 0)}
	if !compatible(a, bus.flags, flags, false) {
		return a, false
	}
	for ; a.slot <= bus.maxSlot; a.slot++ {
		used := bus.functions[a.slot]
		if used == 0 {
			return a, true
		}
		if flags&pciAggregateSlot == 0 || !bus.aggregate[a.slot] {
			continue
		}
		if used&(1<<a.function) == 0 {
			return a, true
		}
		if function == -1 {
			for a.function = 0; a.function < 8; a.function++ {
				if used&(1<<a.function) == 0 {
					return a, true
				}
			}
			a.function = 0
		}
	}
	return a, false
}

// reserveNext places a device without an address on the first bus that takes it, growing
// the set when none has room (virDomainPCIAddressReserveNextAddr).
func (s *pciSet) reserveNext(flags pciFlags, group uint, function int) (pciAddr, error) {
	if len(s.buses) == 0 {
		return pciAddr{}, fmt.Errorf("the machine has no PCI bus for the device")
	}
	for i, bus := range s.buses {
		if bus.group != group {
			continue
		}
		if a, ok := s.freeFunction(i, flags, function); ok {
			return a, s.reserve(a, flags, group, false)
		}
	}
	for i, bus := range s.buses {
		if !bus.empty() || bus.groupLocked {
			continue
		}
		if a, ok := s.freeFunction(i, flags, function); ok {
			return a, s.reserve(a, flags, group, false)
		}
	}
	a := pciAddr{bus: len(s.buses), function: max(function, 0)}
	if err := s.grow(&a, flags); err != nil {
		return a, err
	}
	a.slot = s.buses[a.bus].minSlot
	return a, s.reserve(a, flags, group, false)
}
