package qemuargs

import (
	"fmt"
	"strings"

	"github.com/qscope/qscope/vm"
)

// defaults tracks which default devices QEMU will add, as the default_* flags of QEMU's
// system/vl.c do: each starts set, -nodefaults clears all, and options that configure a
// device of the same kind clear one.
type defaults struct {
	serial, parallel, monitor, net, vga, floppy, cdrom bool

	nographic bool
	// displaySet is true when -display, -nographic, -sdl or -curses was given.
	displaySet bool
	// remoteDisplay is true when -vnc or -spice was given; QEMU then opens no local
	// display.
	remoteDisplay bool
	vgaModel      string
	vgaRecord     *record
}

func newDefaults() *defaults {
	return &defaults{serial: true, parallel: true, monitor: true, net: true, vga: true,
		floppy: true, cdrom: true}
}

func (d *defaults) disableAll() {
	d.serial, d.parallel, d.monitor, d.net, d.vga = false, false, false, false, false
	d.floppy, d.cdrom = false, false
}

// clearFor clears the default that a -device or -global of driver replaces. QEMU compares
// the driver name as written, so an alias clears nothing.
func (d *defaults) clearFor(driver string) {
	switch defaultDrivers[driver] {
	case "serial":
		d.serial = false
	case "parallel":
		d.parallel = false
	case "floppy":
		d.floppy = false
	case "cdrom":
		d.cdrom = false
	case "vga":
		d.vga = false
	}
}

// firstAccel returns the accelerator QEMU tries first, without the -accel suffix.
func (p *parser) firstAccel() string {
	if c := p.firstAccelComponent(); c != nil {
		return strings.TrimSuffix(c.Name, "-accel")
	}
	return ""
}

// firstAccelComponent returns the accelerator QEMU tries first, or nil.
func (p *parser) firstAccelComponent() *vm.Component {
	for i := range p.cfg.Components {
		if p.cfg.Components[i].Kind == vm.KindAccel {
			return &p.cfg.Components[i]
		}
	}
	return nil
}

// kvmIrqchip returns how KVM emulates the interrupt controllers: "on" when KVM runs them
// in the kernel, "split" when only the local APIC is in the kernel, and "" when QEMU
// emulates them (TCG, or kernel-irqchip=off). pc-q35-4.0 defaulted to split.
func (p *parser) kvmIrqchip() string {
	accel := p.firstAccelComponent()
	if accel == nil || strings.TrimSuffix(accel.Name, "-accel") != "kvm" {
		return ""
	}
	// kernel-irqchip is a property of the KVM accelerator; -machine still accepts it.
	v, ok := accel.Props["kernel-irqchip"]
	if ok {
		v = vm.NormalizeBool(v)
	} else if v, ok = p.machine.prop("kernel-irqchip"); !ok {
		v, ok = p.machine.prop("kernel_irqchip")
	}
	f := p.machine.family
	switch {
	case ok && v == "off":
		return ""
	case ok && v == "split":
		return "split"
	case ok:
		return "on"
	case f != nil && f.defaultIrqchip != "":
		return f.defaultIrqchip
	case f != nil && f.name == "q35" && !p.machine.latest &&
		p.machine.version == (Version{4, 0}):
		return "split"
	}
	return "on"
}

// finish adds what QEMU adds after reading the command line: the default accelerator, the
// machine's default devices and backends, USB controllers and board devices.
func (p *parser) finish() {
	p.resolveChardevRefs()
	p.defaultAccels()
	f := p.machine.family
	if f == nil {
		p.markMonitorTransports()
		return
	}
	d := p.def
	d.serial = d.serial && !f.noSerial
	d.parallel = d.parallel && !f.noParallel
	d.floppy = d.floppy && !f.noFloppy
	d.cdrom = d.cdrom && !f.noCdrom

	p.defaultPorts()
	if d.net {
		p.defaultNIC(f)
	}
	p.addVGA(f)
	p.defaultDrives(f)
	p.addUSB(f)
	p.defaultDisplay()
	p.markMonitorTransports()

	for _, b := range f.board(p) {
		p.cfg.Add(boardComponent(p.machine.name, b))
	}
	p.defaultRAM(f)
}

// defaultRAM adds the RAM backend that the machine creates under /objects when neither
// -machine memory-backend= nor -numa memdev= provides guest RAM: memory-backend-ram, or
// memory-backend-file with -mem-path (create_default_memdev and machine_run_board_init in
// hw/core/machine.c, QEMU 7.2 and 10.0). The QOM trees of paused QEMU 7.2 VMs show it as
// /objects/pc.ram on pc and q35 and /objects/mach-virt.ram on arm virt, also with
// -nodefaults, so it is a board component.
func (p *parser) defaultRAM(f *family) {
	if f.ramID == "" {
		return
	}
	if _, ok := p.machine.prop("memory-backend"); ok {
		return
	}
	typ, sized := "memory-backend-ram", !f.ramNeedsSize
	for _, r := range p.records {
		switch {
		case r.name == "mem-path":
			typ = "memory-backend-file"
		case r.name == "m":
			sized = true
		case r.name == "numa" && strings.Contains(r.arg, "memdev="):
			return
		}
	}
	if !sized {
		return
	}
	p.cfg.Add(vm.Component{Kind: vm.KindObject, Name: typ,
		Props: map[string]string{"id": f.ramID}, Board: true, Parent: p.machine.name,
		ImpliedBy: "machine " + p.machine.name + " default RAM backend " + f.ramID})
}

// defaultPorts adds the default serial port, parallel port and monitor with their
// chardevs. With -nographic, serial and monitor go to stdio (multiplexed when both are
// defaults) and the parallel port to null. Otherwise each gets a virtual console. QEMU
// creates the chardev even when the board has no port to connect it to.
func (p *parser) defaultPorts() {
	d := p.def
	implied := "machine " + p.machine.name + " default "
	port := func(kind, backend string, props map[string]string, what string) int {
		ci := p.add(vm.KindChardev, backend, props, nil, implied+what)
		p.chardevData[ci] = true
		p.portDevice(kind, implied+kind+" port")
		return ci
	}
	if d.nographic {
		if d.parallel {
			port("parallel", "null", nil, "parallel port (-nographic)")
		}
		switch {
		case d.serial && d.monitor:
			ci := port("serial", "stdio", map[string]string{"mux": "on"},
				"serial port and monitor on stdio (-nographic)")
			p.addMonitorImplied(ci, implied+"monitor on stdio (-nographic)")
		case d.serial:
			port("serial", "stdio", nil, "serial port on stdio (-nographic)")
		case d.monitor:
			ci := p.add(vm.KindChardev, "stdio", nil, nil, implied+"monitor on stdio (-nographic)")
			p.addMonitorImplied(ci, implied+"monitor on stdio (-nographic)")
		}
		return
	}
	if d.serial {
		port("serial", "vc", nil, "serial port on a virtual console")
	}
	if d.parallel {
		port("parallel", "vc", nil, "parallel port on a virtual console")
	}
	if d.monitor {
		ci := p.add(vm.KindChardev, "vc", nil, nil, implied+"monitor on a virtual console")
		p.addMonitorImplied(ci, implied+"monitor on a virtual console")
	}
}

func (p *parser) addMonitorImplied(ci int, implied string) {
	ch := &p.cfg.Components[ci]
	mi := p.add(vm.KindMonitor, "hmp", map[string]string{"backend": ch.Name,
		"mode": "readline"}, nil, implied)
	p.chardevUsers[ci] = append(p.chardevUsers[ci], mi)
}

// defaultNIC adds QEMU's implicit "-net nic -net user": the board's NIC, when it creates
// one, and the user-mode netdev, which QEMU creates even on boards without a NIC.
func (p *parser) defaultNIC(f *family) {
	implied := "machine " + p.machine.name + " default NIC"
	if model := f.nic(&p.machine); model != "" {
		p.add(vm.KindDevice, nicModel(model), nil, nil, implied)
	}
	p.add(vm.KindNetdev, "user", nil, nil, implied+" backend (-net user)")
}

// addVGA adds the -vga device or the machine's default one.
func (p *parser) addVGA(f *family) {
	d := p.def
	model, implied := d.vgaModel, ""
	switch {
	case model == "none":
		return
	case model != "":
		implied = impliedBy(d.vgaRecord)
	case d.vga:
		model = f.vga(&p.machine)
		implied = "machine " + p.machine.name + " default VGA (-vga " + model + ")"
	}
	if model == "" {
		return
	}
	var dev string
	switch f.vgaBus {
	case "pci":
		dev = vgaDevices[model]
	case "isa":
		dev = isaVGADevices[model]
	}
	if dev == "" {
		if d.vgaModel != "" {
			p.cfg.Note(fmt.Sprintf("machine %s creates no device for -vga %s", p.machine.name,
				model))
		}
		return
	}
	p.add(vm.KindDevice, dev, nil, nil, implied)
}

// defaultDrives adds the devices of the default CD-ROM (index 2 of the machine's default
// interface) and floppy (floppy index 0), unless a drive already uses that slot. Both are
// empty, so they open no block driver; on a board that does not attach them QEMU leaves the
// drive unused without an error.
func (p *parser) defaultDrives(f *family) {
	d := p.def
	implied := "machine " + p.machine.name + " default "
	if d.cdrom && p.driveAt(f.blockDefault, 2) == nil {
		dr := &drive{iface: f.blockDefault, index: 2, media: "cdrom", isDefault: true}
		p.addDriveSlot(dr)
		p.addDriveDevice(dr, implied+"CD-ROM drive")
	}
	if d.floppy && p.driveAt("floppy", 0) == nil {
		dr := &drive{iface: "floppy", index: 0, media: "disk", isDefault: true}
		p.addDriveSlot(dr)
		p.addDriveDevice(dr, implied+"floppy drive")
	}
}

// addUSB adds the USB host controllers when the machine property usb is on, which
// -machine usb=on, -usb and -usbdevice set in command-line order.
func (p *parser) addUSB(f *family) {
	if v, _ := p.machine.prop("usb"); v != "on" {
		return
	}
	if f.usb == nil {
		p.cfg.Note("machine " + p.machine.name + " has no USB bus; QEMU ignores -usb")
		return
	}
	implied := "machine property usb=on"
	if r := p.machine.usbRec; r != nil && r.name != "machine" && r.name != "M" {
		implied = impliedBy(r)
	}
	for _, c := range f.usb(p) {
		p.add(vm.KindDevice, c, nil, nil, implied)
	}
}

// defaultDisplay adds the display QEMU opens when no -display, -nographic, -vnc or -spice
// is given: the first of gtk, sdl and cocoa built into the binary, or else a VNC server on
// localhost:0 without authentication.
func (p *parser) defaultDisplay() {
	d := p.def
	if d.displaySet || d.nographic || d.remoteDisplay {
		return
	}
	p.add(vm.KindDisplay, "default", map[string]string{"candidates": "gtk,sdl,cocoa,vnc"},
		nil, "default display (no -display, -nographic, -vnc or -spice given)")
}
