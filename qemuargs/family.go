package qemuargs

import (
	"path"
	"strings"
)

// family describes a machine family: how to recognise its machine names and what QEMU
// creates for it by itself. The facts come from the machine class definitions and init
// functions of QEMU 7.2 and 10.0 (hw/i386/pc_piix.c, hw/i386/pc_q35.c, hw/i386/microvm.c,
// hw/arm/virt.c, hw/core/null-machine.c) and were checked against the QOM trees of paused
// QEMU 7.2 VMs.
type family struct {
	name    string
	targets []string
	// patterns are machine names and globs of the family, aliases included.
	patterns []string
	// blockDefault is the interface of -drive without if= (MachineClass block_default_type).
	blockDefault                            string
	noSerial, noParallel, noFloppy, noCdrom bool
	// nic returns the model of the default NIC and of -nic/-net nic without model=, or ""
	// when the board creates no NIC.
	nic func(m *machineState) string
	// vga returns the default -vga model ("std", "cirrus"), or "" when the board creates no
	// VGA device.
	vga func(m *machineState) string
	// vgaBus is "pci" or "isa": the bus -vga devices go on, which selects the device type;
	// "" when the board ignores -vga.
	vgaBus string
	// serial and parallel are the device types that -serial and -parallel chardevs feed;
	// "" when the board has no such port. serialMax is how many serial ports it wires.
	serial, parallel string
	serialMax        int
	// serialIsBoard is true when the first serial port is a UART the board always creates.
	serialIsBoard bool
	// drives maps each -drive interface the board accepts to how it attaches drives.
	drives map[string]string
	// board lists the devices the machine creates by itself.
	board func(p *parser) []boardDevice
	// usb returns the USB host controllers that usb=on or -usb create, or nil when the
	// board has no USB bus.
	usb func(p *parser) []string
	// ramID is the id of the RAM backend the machine creates under /objects
	// (MachineClass default_ram_id in hw/i386/pc.c, hw/i386/microvm.c, hw/arm/virt.c and
	// hw/core/null-machine.c, QEMU 7.2 and 10.0). ramNeedsSize is true when the machine has
	// no RAM unless -m gives a size (default_ram_size 0, the none machine).
	ramID        string
	ramNeedsSize bool
	// defaultIrqchip is the KVM kernel-irqchip mode when the option is not given, or empty
	// for the usual "on" (microvm.c makes split the microvm default).
	defaultIrqchip string
}

// Ways a board attaches a drive of an interface.
const (
	attachDevice = "device" // the board creates a device per drive
	attachBoard  = "board"  // the drive attaches to a device the board always has
)

// boardDevice is a device a machine creates by itself, with why it is there. count is the
// number of instances when more than one.
type boardDevice struct {
	typ   string
	why   string
	count int
}

func (f *family) matches(name, target string) bool {
	if len(f.targets) > 0 && !contains(f.targets, target) {
		return false
	}
	for _, pat := range f.patterns {
		if ok, _ := path.Match(pat, name); ok {
			return true
		}
	}
	return false
}

// hasBoard reports whether the family's board always creates a device of type typ.
func (f *family) hasBoard(p *parser, typ string) bool {
	for _, b := range f.board(p) {
		if b.typ == typ {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// lookupFamily returns the family of machine name on target, or nil when it is not
// modelled.
func lookupFamily(name, target string) *family {
	name = strings.TrimSuffix(name, "-machine")
	for _, f := range families {
		if f.matches(name, target) {
			return f
		}
	}
	return nil
}

func constant(s string) func(*machineState) string {
	return func(*machineState) string { return s }
}

var x86Targets = []string{"x86_64", "i386"}

// pcDrives are the interfaces the PC boards attach: IDE disks and CD-ROMs, floppies (q35
// creates its isa-fdc on demand), pflash for firmware and virtio-blk.
var pcDrives = map[string]string{"ide": attachDevice, "floppy": attachDevice,
	"pflash": attachDevice, "virtio": attachDevice, "none": attachDevice}

var families = []*family{
	{
		name:         "pc",
		targets:      x86Targets,
		patterns:     []string{"pc", "pc-i440fx-*", "pc-0.*", "pc-1.*"},
		blockDefault: "ide",
		nic:          constant("e1000"),
		vga: func(m *machineState) string {
			// pc-i440fx-2.1 and older have no default_display, so QEMU falls back to cirrus.
			if m.atLeast(2, 2) {
				return "std"
			}
			return "cirrus"
		},
		vgaBus:    "pci",
		serial:    "isa-serial",
		parallel:  "isa-parallel",
		serialMax: 4,
		drives:    pcDrives,
		board:     pcBoard,
		usb:       func(*parser) []string { return []string{"piix3-usb-uhci"} },
		ramID:     "pc.ram",
	},
	{
		name:         "q35",
		targets:      x86Targets,
		patterns:     []string{"q35", "pc-q35-*"},
		blockDefault: "ide",
		noFloppy:     true,
		nic: func(m *machineState) string {
			// pc_q35_2_11_machine_options sets e1000 for pc-q35-2.11 and older.
			if m.atLeast(2, 12) {
				return "e1000e"
			}
			return "e1000"
		},
		vga:       constant("std"),
		vgaBus:    "pci",
		serial:    "isa-serial",
		parallel:  "isa-parallel",
		serialMax: 4,
		drives:    pcDrives,
		board:     q35Board,
		usb: func(*parser) []string {
			return []string{"ich9-usb-ehci1", "ich9-usb-uhci1", "ich9-usb-uhci2",
				"ich9-usb-uhci3"}
		},
		ramID: "pc.ram",
	},
	{
		name:         "isapc",
		targets:      x86Targets,
		patterns:     []string{"isapc"},
		blockDefault: "ide",
		nic:          constant("ne2k_isa"),
		vga:          constant("cirrus"),
		vgaBus:       "isa",
		serial:       "isa-serial",
		parallel:     "isa-parallel",
		serialMax:    4,
		drives:       map[string]string{"ide": attachDevice, "floppy": attachDevice},
		board:        isapcBoard,
		usb:          nil,
		ramID:        "pc.ram",
	},
	{
		name:           "microvm",
		targets:        x86Targets,
		patterns:       []string{"microvm"},
		defaultIrqchip: "split",
		blockDefault:   "none",
		noFloppy:       true,
		nic:            constant(""),
		vga:            constant(""),
		serial:         "isa-serial",
		serialMax:      1,
		drives:         map[string]string{"virtio": attachDevice, "none": attachDevice},
		board:          microvmBoard,
		usb: func(p *parser) []string {
			if v, _ := p.machine.prop("acpi"); v == "off" {
				return nil
			}
			return []string{"sysbus-xhci"}
		},
		ramID: "microvm.ram",
	},
	{
		name:         "none",
		patterns:     []string{"none"},
		blockDefault: "none",
		noSerial:     true, noParallel: true, noFloppy: true, noCdrom: true,
		nic:    constant(""),
		vga:    constant(""),
		drives: map[string]string{"none": attachDevice, "virtio": attachDevice},
		board:  func(*parser) []boardDevice { return nil },
		ramID:  "ram", ramNeedsSize: true,
	},
	{
		name:          "virt",
		targets:       []string{"aarch64", "arm"},
		patterns:      []string{"virt", "virt-*"},
		blockDefault:  "virtio",
		noCdrom:       true,
		nic:           constant("virtio-net-pci"),
		vga:           constant(""),
		serial:        "pl011",
		serialMax:     1,
		serialIsBoard: true,
		drives: map[string]string{"virtio": attachDevice, "pflash": attachBoard,
			"none": attachDevice},
		board: armVirtBoard,
		ramID: "mach-virt.ram",
	},
}

// vgaDevices maps a -vga model to the device type a PCI board creates for it.
var vgaDevices = map[string]string{
	"std":    "VGA",
	"cirrus": "cirrus-vga",
	"vmware": "vmware-svga",
	"qxl":    "qxl-vga",
	"virtio": "virtio-vga",
	"xenfb":  "xenfb",
	"tcx":    "sun-tcx",
	"cg3":    "cgthree",
}

// isaVGADevices maps a -vga model to the device type an ISA board (isapc) creates; other
// models need PCI and create nothing there.
var isaVGADevices = map[string]string{"std": "isa-vga", "cirrus": "isa-cirrus-vga"}

func pcBoard(p *parser) []boardDevice {
	b := []boardDevice{
		{"i440FX-pcihost", "i440FX host bridge", 0},
		{"i440FX", "i440FX PCI function", 0},
		{"PIIX3", "PIIX3 PCI-to-ISA bridge", 0},
		{"i8257", "DMA controllers of the PIIX3", 2},
		{"mc146818rtc", "RTC", 0},
		{"piix3-ide", "PIIX3 IDE controller", 0},
		{"isa-fdc", "floppy controller, created even with -nodefaults", 0},
	}
	if on(p, "acpi") {
		b = append(b, boardDevice{"PIIX4_PM", "ACPI power management (acpi=on)", 0},
			boardDevice{"smbus-eeprom", "SPD EEPROMs on the PIIX4 SMBus (acpi=on)", 8})
	}
	return append(b, pcCommonBoard(p, true)...)
}

func q35Board(p *parser) []boardDevice {
	b := []boardDevice{
		{"q35-pcihost", "Q35 host bridge", 0},
		{"mch", "Q35 memory controller hub", 0},
		{"ICH9-LPC", "ICH9 LPC bridge with ACPI", 0},
		{"i8257", "DMA controllers of the ICH9 LPC", 2},
		{"mc146818rtc", "RTC", 0},
	}
	if on(p, "sata") {
		b = append(b, boardDevice{"ich9-ahci", "ICH9 AHCI controller (sata=on)", 0})
	}
	if on(p, "smbus") {
		b = append(b, boardDevice{"ICH9-SMB", "ICH9 SMBus controller (smbus=on)", 0},
			boardDevice{"smbus-eeprom", "SPD EEPROMs on the ICH9 SMBus (smbus=on)", 8})
	}
	if v, _ := p.machine.prop("iommu"); v == "on" {
		// QEMU 2.6 had the Intel IOMMU as a q35 machine property.
		b = append(b, boardDevice{"intel-iommu", "Intel IOMMU (iommu=on)", 0})
	}
	return append(b, pcCommonBoard(p, true)...)
}

func isapcBoard(p *parser) []boardDevice {
	b := []boardDevice{
		{"isabus-bridge", "ISA bus", 0},
		{"i8257", "DMA controllers", 2},
		{"mc146818rtc", "RTC", 0},
		{"isa-ide", "ISA IDE controllers", 2},
		{"isa-fdc", "floppy controller, created even with -nodefaults", 0},
	}
	return append(b, pcCommonBoard(p, false)...)
}

// pcCommonBoard lists the devices pc_basic_device_init and the CPUs add on every x86 PC
// board: interrupt controllers, timers, the PS/2 controller and its companions, and the
// firmware configuration device. pci is false for isapc, which has no IOAPIC, HPET or
// APIC (its default CPU is a 486).
func pcCommonBoard(p *parser, pci bool) []boardDevice {
	kvm := p.kvmIrqchip()
	b := []boardDevice{{"fw_cfg_io", "firmware configuration device", 0}}
	if pci {
		b = append(b, boardDevice{pick(kvm == "on", "kvm-ioapic", "ioapic"), "IOAPIC", 0})
		if on(p, "hpet") {
			b = append(b, boardDevice{"hpet", "HPET timer (hpet=on)", 0})
		}
		b = append(b, boardDevice{pick(kvm == "", "apic", "kvm-apic"),
			"local APIC of each CPU", 0})
		b = append(b, boardDevice{"kvmvapic", "APIC acceleration, present under TCG too", 0})
	}
	if p.firstAccel() == "kvm" {
		b = append(b, boardDevice{"kvmclock", "KVM paravirtual clock", 0})
	}
	if on(p, "pic") {
		b = append(b, boardDevice{pick(kvm == "on", "kvm-i8259", "isa-i8259"),
			"PIC (pic=on)", 2})
	}
	if on(p, "pit") {
		b = append(b, boardDevice{pick(kvm == "on", "kvm-pit", "isa-pit"), "PIT (pit=on)", 0},
			boardDevice{"isa-pcspk", "PC speaker, created with the PIT", 0})
	}
	if on(p, "i8042") {
		b = append(b, boardDevice{"i8042", "PS/2 keyboard and mouse controller", 0},
			boardDevice{"port92", "port 92 reset, created with the i8042", 0})
		if v, _ := p.machine.prop("vmport"); v != "off" && p.firstAccel() != "xen" {
			b = append(b, boardDevice{"vmport", "VMware I/O port (vmport=auto)", 0},
				boardDevice{"vmmouse", "VMware mouse on the vmport", 0})
		}
	}
	return b
}

func microvmBoard(p *parser) []boardDevice {
	kvm := p.kvmIrqchip()
	acpi := on(p, "acpi")
	b := []boardDevice{
		{"isabus-bridge", "ISA bus", 0},
		{"fw_cfg_io", "firmware configuration device", 0},
		{"ioapic", "IOAPIC", 0},
		{pick(kvm == "", "apic", "kvm-apic"), "local APIC of each CPU", 0},
		{"kvmvapic", "APIC acceleration", 0},
	}
	transports := 8
	if v, _ := p.machine.prop("ioapic2"); acpi && v != "off" {
		b = append(b, boardDevice{"ioapic", "second IOAPIC (acpi=on, ioapic2=auto)", 0})
		transports = 24
	}
	b = append(b, boardDevice{"virtio-mmio", "virtio-mmio transports", transports})
	if acpi {
		b = append(b, boardDevice{"acpi-ged-x86", "ACPI generic event device (acpi=on)", 0})
		if v, _ := p.machine.prop("pcie"); v == "on" {
			b = append(b, boardDevice{"gpex-pcihost", "PCIe host bridge (pcie=on)", 0})
		}
	}
	if p.firstAccel() == "kvm" {
		b = append(b, boardDevice{"kvmclock", "KVM paravirtual clock", 0})
	}
	if on(p, "pic") {
		b = append(b, boardDevice{"isa-i8259", "PIC (pic=on)", 2})
	}
	if on(p, "pit") {
		b = append(b, boardDevice{pick(kvm == "on", "kvm-pit", "isa-pit"), "PIT (pit=on)", 0})
	}
	if v, _ := p.machine.prop("rtc"); v == "on" || (v != "off" && p.firstAccel() != "kvm") {
		b = append(b, boardDevice{"mc146818rtc", "RTC (rtc=auto without KVM)", 0})
	}
	return b
}

func armVirtBoard(p *parser) []boardDevice {
	b := []boardDevice{
		{"cfi.pflash01", "flash devices for firmware and variables", 2},
		{"pl011", "UART, created even without a chardev", 0},
		{"pl031", "RTC", 0},
		{"gpex-pcihost", "PCIe host bridge", 0},
		{"virtio-mmio", "virtio-mmio transports", 32},
		{"fw_cfg_mem", "firmware configuration device", 0},
		{"platform-bus-device", "dynamic sysbus device container", 0},
	}
	kvm := p.firstAccel() == "kvm"
	gic, _ := p.machine.prop("gic-version")
	switch gic {
	case "3", "4", "max", "host":
		b = append(b, boardDevice{pick(kvm, "kvm-arm-gicv3", "arm-gicv3"),
			"interrupt controller (gic-version=" + gic + ")", 0})
		if its, _ := p.machine.prop("its"); its != "off" && p.machine.atLeast(2, 8) &&
			(kvm || p.machine.atLeast(6, 2)) {
			b = append(b, boardDevice{pick(kvm, "arm-its-kvm", "arm-gicv3-its"),
				"GICv3 interrupt translation service", 0})
		}
	default:
		b = append(b, boardDevice{pick(kvm, "kvm-arm-gic", "arm_gic"),
			"interrupt controller (GICv2 by default)", 0},
			boardDevice{"arm-gicv2m", "GICv2 MSI frame", 0})
	}
	// acpi-ged replaces pl061 and gpio-key only with an AArch64 CPU and firmware loaded,
	// which a command line does not show reliably. The default cortex-a15 is AArch32.
	b = append(b, boardDevice{"pl061", "GPIO controller for the power button", 0},
		boardDevice{"gpio-key", "power button", 0})
	if on(p, "secure") && p.machine.atLeast(6, 0) {
		b = append(b, boardDevice{"pl011", "secure-world UART (secure=on)", 0},
			boardDevice{"pl061", "secure-world GPIO (secure=on)", 0},
			boardDevice{"gpio-pwr", "secure-world power control (secure=on)", 0})
	}
	if v, _ := p.machine.prop("iommu"); v == "smmuv3" {
		b = append(b, boardDevice{"arm-smmuv3", "IOMMU (iommu=smmuv3)", 0})
	}
	return b
}

// machineDefaultsOn lists the machine properties that are on unless set off.
var machineDefaultsOn = map[string]bool{"acpi": true, "hpet": true, "pic": true,
	"pit": true, "i8042": true, "sata": true, "smbus": true}

// on reports whether a machine property is on: set on, or unset with a default of on
// (auto counts as on).
func on(p *parser, key string) bool {
	v, ok := p.machine.prop(key)
	if !ok {
		return machineDefaultsOn[key]
	}
	return v != "off"
}
