package domxml

import "strings"

func isX86(arch string) bool { return arch == "x86_64" || arch == "i686" }

func isARM(arch string) bool {
	return arch == "aarch64" || strings.HasPrefix(arch, "armv")
}

func isPPC64(arch string) bool { return strings.HasPrefix(arch, "ppc64") }

func isS390(arch string) bool { return strings.HasPrefix(arch, "s390") }

func isRISCV(arch string) bool { return strings.HasPrefix(arch, "riscv") }

// isQ35 follows libvirt's qemuDomainMachineIsQ35.
func (b *builder) isQ35() bool {
	return isX86(b.arch) && (b.machine == "q35" || strings.HasPrefix(b.machine, "pc-q35"))
}

// isI440FX follows libvirt's qemuDomainMachineIsI440FX.
func (b *builder) isI440FX() bool {
	m := b.machine
	return isX86(b.arch) && (m == "pc" || strings.HasPrefix(m, "pc-0.") ||
		strings.HasPrefix(m, "pc-1.") || strings.HasPrefix(m, "pc-i440fx-") ||
		strings.HasPrefix(m, "rhel"))
}

func (b *builder) isARMVirt() bool {
	return isARM(b.arch) && (b.machine == "virt" || strings.HasPrefix(b.machine, "virt-"))
}

func (b *builder) isRISCVVirt() bool {
	return isRISCV(b.arch) && b.machine == "virt"
}

func (b *builder) isPSeries() bool {
	return isPPC64(b.arch) && (b.machine == "pseries" || strings.HasPrefix(b.machine,
		"pseries-"))
}

func (b *builder) isLoongArchVirt() bool {
	return b.arch == "loongarch64" && b.machine == "virt"
}

// pciRootModel returns the PCI root controller libvirt adds for the machine
// (qemuDomainDefAddDefaultDevices): pci-root, pcie-root, or "" when the machine has no
// PCI bus. The arm and riscv virt machines have a PCI Express root when QEMU has its host
// bridge, gpex-pcihost. s390 machines get a pci-root for zPCI devices when QEMU has the
// zpci device. Without a type list, qscope assumes it from libvirt 6 on.
func (b *builder) pciRootModel() string {
	a, m := b.arch, b.machine
	switch {
	case isX86(a):
		switch {
		case b.isQ35():
			return "pcie-root"
		case b.isI440FX():
			return "pci-root"
		}
	case isARM(a):
		switch {
		case m == "versatilepb":
			return "pci-root"
		case b.isARMVirt() && b.has("gpex-pcihost", true):
			return "pcie-root"
		}
	case isPPC64(a), a == "alpha", a == "ppc", a == "ppcemb", a == "sh4", a == "sh4eb",
		a == "sparc64":
		return "pci-root"
	case isRISCV(a):
		if b.isRISCVVirt() && b.has("gpex-pcihost", true) {
			return "pcie-root"
		}
	case isS390(a):
		if b.has("zpci", b.libvirtAtLeast(6, 0)) {
			return "pci-root"
		}
	case strings.HasPrefix(a, "mips"):
		if strings.HasPrefix(m, "malta") {
			return "pci-root"
		}
	case a == "loongarch64":
		return "pcie-root"
	}
	return ""
}

// rootModel returns the model of the domain's PCI controller with index 0, or "".
func (b *builder) rootModel() string {
	if b.dev != nil {
		for _, c := range b.dev.controllers {
			if c.typ == "pci" && c.index == 0 {
				return c.model
			}
		}
		return ""
	}
	return b.pciRootModel()
}

// hasPCIeRoot follows qemuDomainHasPCIeRoot.
func (b *builder) hasPCIeRoot() bool { return b.rootModel() == "pcie-root" }

// hasPCIRoot follows qemuDomainHasPCIRoot.
func (b *builder) hasPCIRoot() bool { return b.rootModel() == "pci-root" }

// supportsPCI follows qemuDomainSupportsPCI: on arm only the virt and versatilepb
// machines have PCI, on riscv only virt, elsewhere every machine.
func (b *builder) supportsPCI() bool {
	switch {
	case isARM(b.arch):
		return b.isARMVirt() || b.machine == "versatilepb"
	case isRISCV(b.arch):
		return b.isRISCVVirt()
	}
	return true
}

// hasBuiltinIDE follows libvirt's qemuDomainHasBuiltinIDE.
func (b *builder) hasBuiltinIDE() bool {
	return b.isI440FX() || b.machine == "malta" || b.machine == "sun4u" ||
		b.machine == "g3beige" || b.machine == "isapc"
}

// virtioBus returns the bus suffix of the virtio device at key, with the address addr the
// XML gives: pci, ccw or device (virtio-mmio), as qemuBuildVirtioDevGetConfig writes it.
// A device without an address gets the one libvirt's address assignment gives it.
func (b *builder) virtioBus(key string, addr *addrInfo) string {
	switch {
	case addr != nil && addr.pci:
		return "pci"
	case addr != nil && addr.ccw:
		return "ccw"
	case addr != nil && addr.mmio:
		return "device"
	case addr != nil && addr.other == "virtio-s390":
		return "s390"
	case addr != nil:
		b.errorf(errorPath(key), "address type %q cannot carry a virtio device", addr.other)
		return "pci"
	}
	switch {
	case b.primed[key] == "ccw":
		return "ccw"
	case b.primed[key] == "mmio":
		return "device"
	case b.primed[key] == "s390":
		return "s390"
	case b.onPCI[key]:
		return "pci"
	}
	b.errorf(errorPath(key), "the machine %s has no bus for this virtio device", b.machine)
	return "pci"
}

// transitional returns the driver-name suffix of a virtio model: -transitional,
// -non-transitional or nothing. QEMU has the (non-)transitional devices since 4.0; for
// older QEMU libvirt writes the plain device.
func (b *builder) transitional(model string) string {
	if !b.qemuAtLeast(4, 0) {
		return ""
	}
	switch model {
	case "virtio-transitional":
		return "-transitional"
	case "virtio-non-transitional":
		return "-non-transitional"
	}
	return ""
}

// buildMachine emits -machine with the properties that decide which devices the board
// creates, as qemuBuildMachineCommandLine writes them.
func (b *builder) buildMachine() {
	pairs := []string{"usb", "off", "dump-guest-core", "off"}
	if b.dev.ramBackend != "" {
		pairs = append(pairs, "memory-backend", b.dev.ramBackend)
	}
	f := b.dom.Features
	if b.machineHasACPI() {
		pairs = append(pairs, "acpi", onOff(f != nil && f.ACPI != nil))
	}
	if isX86(b.arch) && b.hpetOff() {
		pairs = append(pairs, "hpet", "off")
	}
	if f != nil && f.VMPort != nil && f.VMPort.State != "" {
		pairs = append(pairs, "vmport", onOff(f.VMPort.State == "on"))
	}
	if f != nil && f.PS2 != nil && f.PS2.State == "off" {
		pairs = append(pairs, "i8042", "off")
	}
	if f != nil && f.SMM != nil && f.SMM.State != "" {
		pairs = append(pairs, "smm", onOff(f.SMM.State == "on"))
	}
	if b.isARMVirt() {
		pairs = append(pairs, "gic-version", b.gicVersion())
		if b.dev.smmuv3 {
			pairs = append(pairs, "iommu", "smmuv3")
		}
	}
	if isX86(b.arch) && !b.qemuAtLeast(2, 7) && b.hasIntelIOMMU() {
		pairs = append(pairs, "iommu", "on")
	}
	if f != nil && f.IOAPIC != nil && f.IOAPIC.Driver == "qemu" {
		pairs = append(pairs, "kernel_irqchip", "split")
	}
	if b.dom.LaunchSecurity != nil {
		pairs = append(pairs, "confidential-guest-support", "lsec0")
	}
	b.emit("/domain/os/type", "-machine", kv(b.machine, pairs...))
}

// hasIntelIOMMU reports whether the domain has an Intel IOMMU.
func (b *builder) hasIntelIOMMU() bool {
	for _, io := range b.devs().IOMMUs {
		if io.Model == "intel" {
			return true
		}
	}
	return false
}

// gicVersion returns the GIC version of the arm virt machine: the one <features><gic>
// names, or libvirt's choice (qemuDomainDefEnableDefaultFeatures): GICv2 under TCG, the
// host's GIC under KVM, which qscope takes to be GICv3 as on current arm64 servers.
func (b *builder) gicVersion() string {
	if f := b.dom.Features; f != nil && f.GIC != nil && f.GIC.Version != "" {
		return f.GIC.Version
	}
	if b.accel == "kvm" {
		return "3"
	}
	return "2"
}

// machineHasACPI reports whether libvirt writes acpi= for the machine: x86 machines other
// than isapc, and the arm, riscv and loongarch virt machines.
func (b *builder) machineHasACPI() bool {
	return (isX86(b.arch) && b.machine != "isapc") || b.isARMVirt() || b.isRISCVVirt() ||
		b.isLoongArchVirt()
}

func (b *builder) hpetOff() bool {
	if b.dom.Clock == nil {
		return false
	}
	for _, t := range b.dom.Clock.Timer {
		if t.Name == "hpet" && t.Present == "no" {
			return true
		}
	}
	return false
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// buildAccel emits -accel.
func (b *builder) buildAccel() {
	b.emit("/domain", "-accel", b.accel)
}

// buildCPU emits -cpu for a CPU model or mode the XML gives.
func (b *builder) buildCPU() {
	cpu := b.dom.CPU
	if cpu == nil {
		return
	}
	switch {
	case cpu.Mode == "host-passthrough" || cpu.Mode == "host-model" && b.accel == "kvm":
		b.emit("/domain/cpu", "-cpu", "host")
	case cpu.Mode == "maximum":
		b.emit("/domain/cpu", "-cpu", "max")
	case cpu.Model != nil && cpu.Model.Value != "":
		b.emit("/domain/cpu/model", "-cpu", cpu.Model.Value)
	}
}

// buildDisplayNone emits -display none for a domain without graphics.
func (b *builder) buildDisplayNone() {
	if len(b.dev.graphics) == 0 {
		b.emitImplied("libvirt: no <graphics>", "-display", "none")
	}
}

// buildMonitor emits the QMP monitor libvirt talks to: a UNIX socket in the domain's
// private directory, which libvirt opens and passes to QEMU.
func (b *builder) buildMonitor() {
	why := "libvirt's QMP monitor"
	path := "/var/lib/libvirt/qemu/domain-" + b.dom.Name + "/monitor.sock"
	b.emitImplied(why, "-chardev", kv("socket", "id", "charmonitor", "path", path,
		"server", "on", "wait", "off"))
	b.emitImplied(why, "-mon", "chardev=charmonitor,id=monitor,mode=control")
}

// buildMasterKey emits the secret object libvirt uses to encrypt every other secret it
// passes to QEMU, when QEMU has secret objects.
func (b *builder) buildMasterKey() {
	if !b.has("secret", b.qemuAtLeast(2, 6)) {
		return
	}
	b.emitImplied("libvirt's master key secret", "-object", kv("secret", "id", "masterKey0",
		"format", "raw", "file", "/var/lib/libvirt/qemu/domain-"+b.dom.Name+
			"/master-key.aes"))
}
