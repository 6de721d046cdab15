package qemuargs

import (
	"fmt"
	"strings"

	"github.com/qscope/qscope/vm"
)

// handler turns one option into components.
type handler func(p *parser, r *record)

// handlers maps option names to what they create. Options missing here create nothing that
// qscope judges (-m, -smp, -name, -uuid, -boot, -rtc, ...).
var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		"machine": (*parser).handleMachineRecord, "M": (*parser).handleMachineRecord,
		"accel":      (*parser).handleAccel,
		"enable-kvm": (*parser).handleMachineRecord, "enable-hax": (*parser).handleMachineRecord,
		"no-kvm": (*parser).handleMachineRecord,
		"cpu":    (*parser).handleCPU, "device": (*parser).handleDevice,
		"object": (*parser).handleObject, "global": (*parser).handleGlobal,
		"nodefaults": (*parser).handleNodefaults,

		"drive": (*parser).handleDrive, "blockdev": (*parser).handleBlockdev,
		"hda": (*parser).handleDiskShorthand, "hdb": (*parser).handleDiskShorthand,
		"hdc": (*parser).handleDiskShorthand, "hdd": (*parser).handleDiskShorthand,
		"cdrom": (*parser).handleDiskShorthand, "fda": (*parser).handleDiskShorthand,
		"fdb": (*parser).handleDiskShorthand, "sd": (*parser).handleDiskShorthand,
		"mtdblock": (*parser).handleDiskShorthand, "pflash": (*parser).handleDiskShorthand,

		"netdev": (*parser).handleNetdev, "nic": (*parser).handleNic,
		"net": (*parser).handleNet,

		"chardev": (*parser).handleChardev, "serial": (*parser).handleSerial,
		"parallel": (*parser).handleSerial, "debugcon": (*parser).handleSerial,
		"monitor": (*parser).handleMonitor, "qmp": (*parser).handleMonitor,
		"qmp-pretty": (*parser).handleMonitor, "mon": (*parser).handleMon,
		"virtioconsole": (*parser).handleVirtioconsole,

		"vga": (*parser).handleVGA, "display": (*parser).handleDisplay,
		"nographic": (*parser).handleDisplay, "sdl": (*parser).handleDisplay,
		"curses": (*parser).handleDisplay, "vnc": (*parser).handleVNC,
		"spice": (*parser).handleSpice,

		"audiodev": (*parser).handleAudiodev, "audio": (*parser).handleAudio,
		"soundhw": (*parser).handleSoundhw,

		"usbdevice": (*parser).handleUSBDevice,
		"fsdev":     (*parser).handleFsdev, "virtfs": (*parser).handleVirtfs,
		"virtfs_synth": (*parser).handleVirtfs,
		"tpmdev":       (*parser).handleTpmdev, "watchdog": (*parser).handleWatchdog,
		"balloon": (*parser).handleBalloon,
		"compat":  (*parser).handleCompat,

		"gdb": (*parser).handleGDB, "s": (*parser).handleGDB,
		"plugin": (*parser).handleHostOption, "incoming": (*parser).handleHostOption,
		"loadvm": (*parser).handleHostOption, "fw_cfg": (*parser).handleHostOption,
		"kernel": (*parser).handleHostOption, "initrd": (*parser).handleHostOption,
		"dtb": (*parser).handleHostOption, "qtest": (*parser).handleHostOption,
		"bios": (*parser).handleHostOption, "option-rom": (*parser).handleHostOption,
		"acpitable": (*parser).handleHostOption, "smbios": (*parser).handleHostOption,
		"semihosting":        (*parser).handleSemihosting,
		"semihosting-config": (*parser).handleSemihosting,
		"bt":                 (*parser).handleUnmodelled,
	}
}

func (p *parser) handle(r *record) {
	if h, ok := handlers[r.name]; ok {
		h(p, r)
	}
}

// add appends a component written by r, or implied by it when implied is not empty, and
// returns its index.
func (p *parser) add(kind vm.Kind, name string, props map[string]string, r *record,
	implied string) int {
	c := vm.Component{Kind: kind, Name: name, Props: props}
	switch {
	case implied != "":
		c.ImpliedBy = implied
	case r != nil:
		c.Origin = r.origin()
	}
	p.cfg.Add(c)
	return len(p.cfg.Components) - 1
}

// impliedBy describes r as the option that implied a component: "-nic user,model=virtio
// (argv 5)".
func impliedBy(r *record) string {
	s := r.word
	if r.arg != "" {
		s += " " + r.arg
	}
	if r.from != "" {
		return fmt.Sprintf("%s (%s, -readconfig at argv %d)", s, r.from, r.index)
	}
	return fmt.Sprintf("%s (argv %d)", s, r.index)
}

// parseArg parses r's argument as JSON when it starts with '{' and json is true, otherwise
// as QemuOpts with the implied first key. It reports errors and help requests itself and
// returns ok=false for them.
func (p *parser) parseArg(r *record, implied string, json bool) (Opts, bool) {
	var opts Opts
	var err error
	// QEMU takes an argument as JSON when its first character is '{'.
	if json && strings.HasPrefix(r.arg, "{") {
		opts, err = ParseJSONOpts(r.arg)
	} else {
		opts, err = ParseOpts(r.arg, implied)
	}
	if err != nil {
		p.syntax(r, err)
		return nil, false
	}
	for _, o := range r.set {
		opts.Set(o.Key, o.Value)
	}
	if isHelp(opts, implied) {
		p.errorf(r, -1, "asks QEMU for help; it starts no VM")
		return nil, false
	}
	return opts, true
}

// addNamed handles the options whose argument names the component in key, which is also
// the implied first key (-device driver, -object qom-type, -netdev type, ...). It parses
// the argument and adds a component of kind named by key, with the other keys as
// properties. It returns the options, or ok=false after reporting an error.
func (p *parser) addNamed(r *record, kind vm.Kind, key string, json bool) (Opts, bool) {
	opts, ok := p.parseArg(r, key, json)
	if !ok {
		return nil, false
	}
	name, ok := p.required(r, opts, key)
	if !ok {
		return nil, false
	}
	p.add(kind, name, propsExcept(opts, key), r, "")
	return opts, true
}

// required returns the value of key, reporting an error when it is missing or empty.
func (p *parser) required(r *record, opts Opts, key string) (string, bool) {
	v, ok := opts.Get(key)
	if !ok || v == "" {
		p.errorf(r, -1, "missing %s", key)
		return "", false
	}
	return v, true
}

// propsExcept returns opts as properties without the keys in skip.
func propsExcept(opts Opts, skip ...string) map[string]string {
	m := make(map[string]string, len(opts))
	for _, o := range opts {
		if !contains(skip, o.Key) {
			m[o.Key] = o.Value
		}
	}
	return m
}

func (p *parser) handleMachineRecord(r *record) {
	if r == p.machine.typeRec {
		p.emitMachine()
	}
	if r == p.machine.accRec {
		p.machineAccels()
	}
}

func (p *parser) handleCPU(r *record) {
	model, features, _ := strings.Cut(r.arg, ",")
	if model == "" {
		p.errorf(r, 0, "missing CPU model")
		return
	}
	if model == "help" || model == "?" {
		p.errorf(r, -1, "asks QEMU to list CPU models; it starts no VM")
		return
	}
	props := map[string]string{}
	if features != "" {
		props["features"] = features
	}
	p.add(vm.KindCPU, model, props, r, "")
}

// defaultDrivers are the -device drivers whose presence stops QEMU from adding the matching
// default device (default_list in QEMU's system/vl.c).
var defaultDrivers = map[string]string{
	"isa-serial": "serial", "isa-parallel": "parallel", "isa-fdc": "floppy",
	"floppy": "floppy", "ide-cd": "cdrom", "ide-hd": "cdrom", "scsi-cd": "cdrom",
	"scsi-hd": "cdrom", "VGA": "vga", "isa-vga": "vga", "cirrus-vga": "vga",
	"isa-cirrus-vga": "vga", "vmware-svga": "vga", "qxl-vga": "vga", "virtio-vga": "vga",
	"ati-vga": "vga", "vhost-user-vga": "vga", "virtio-vga-gl": "vga",
}

func (p *parser) handleDevice(r *record) {
	if opts, ok := p.addNamed(r, vm.KindDevice, "driver", true); ok {
		p.def.clearFor(opts.Value("driver"))
		p.chardevUse(opts, r)
	}
}

// chardevUse records the chardev that a -device, -netdev or -object names in chardev=.
func (p *parser) chardevUse(opts Opts, r *record) {
	if id, ok := opts.Get("chardev"); ok && id != "" {
		p.refChardev(id, r, -1)
	}
}

func (p *parser) handleGlobal(r *record) {
	// -global driver.property=value, or driver=,property=,value=.
	var driver string
	if strings.Contains(r.arg, "driver=") {
		opts, ok := p.parseArg(r, "", false)
		if !ok {
			return
		}
		driver = opts.Value("driver")
	} else {
		lhs, _, ok := strings.Cut(r.arg, "=")
		d, _, dot := strings.Cut(lhs, ".")
		if !ok || !dot {
			p.errorf(r, -1, "invalid -global: want driver.property=value")
			return
		}
		driver = d
	}
	p.def.clearFor(driver)
}

func (p *parser) handleObject(r *record) {
	if opts, ok := p.addNamed(r, vm.KindObject, "qom-type", true); ok {
		p.chardevUse(opts, r)
	}
}

func (p *parser) handleNodefaults(*record) {
	p.def.disableAll()
}

func (p *parser) handleCompat(r *record) {
	opts, ok := p.parseArg(r, "", true)
	if !ok {
		return
	}
	if v, ok := opts.Get("insecure-types"); ok {
		switch v {
		case "accept", "warn", "reject":
			p.cfg.CompatInsecureTypes = v
		default:
			p.errorf(r, -1, "invalid insecure-types=%s: want accept, warn or reject", v)
		}
	}
}

// handleHostOption records host-facing options: each is a component of kind option named
// after the option, with the argument as property arg.
func (p *parser) handleHostOption(r *record) {
	props := map[string]string{"arg": r.arg}
	switch r.name {
	case "plugin", "fw_cfg", "option-rom", "acpitable", "smbios":
		implied := map[string]string{"plugin": "file", "fw_cfg": "name",
			"option-rom": "romfile"}[r.name]
		opts, ok := p.parseArg(r, implied, false)
		if !ok {
			return
		}
		for k, v := range opts.Map() {
			props[k] = v
		}
		// -acpitable and -smbios read a host file only with file= (or data= for ACPI);
		// otherwise they only set fields of tables QEMU builds itself.
		if (r.name == "acpitable" || r.name == "smbios") && !hasKey(opts, "file") &&
			!(r.name == "acpitable" && hasKey(opts, "data")) {
			return
		}
	case "incoming":
		scheme, _, _ := strings.Cut(r.arg, ":")
		props["transport"] = scheme
	}
	p.add(vm.KindOption, r.name, props, r, "")
}

func (p *parser) handleSemihosting(r *record) {
	props := map[string]string{}
	if r.name == "semihosting-config" {
		opts, ok := p.parseArg(r, "enable", false)
		if !ok {
			return
		}
		if v, ok := opts.Get("enable"); ok && vm.NormalizeBool(v) == "off" {
			return
		}
		props = propsExcept(opts, "enable")
	}
	p.add(vm.KindOption, "semihosting", props, r, "")
}

func (p *parser) handleGDB(r *record) {
	spec := r.arg
	if r.name == "s" {
		spec = "tcp::1234"
	}
	if spec == "none" {
		return
	}
	props := map[string]string{"arg": spec}
	if opts, err := parseChardevSpec(spec); err == nil {
		for k, v := range chardevProps(opts) {
			props[k] = v
		}
	}
	p.add(vm.KindOption, "gdb", props, r, "")
}

// handleUnmodelled records an option whose effects qscope does not model as an option
// component, so that it is judged rather than silently ignored.
func (p *parser) handleUnmodelled(r *record) {
	p.add(vm.KindOption, r.name, map[string]string{"arg": r.arg}, r, "")
	p.cfg.Note(fmt.Sprintf("the devices that %s creates are not modelled", r.word))
}

func (p *parser) handleTpmdev(r *record) {
	p.addNamed(r, vm.KindTpmdev, "type", false)
}

// watchdogDevices maps -watchdog models to device types.
var watchdogDevices = map[string]string{
	"i6300esb": "i6300esb", "ib700": "ib700", "diag288": "diag288",
}

func (p *parser) handleWatchdog(r *record) {
	model := strings.ToLower(r.arg)
	if model == "help" || model == "?" {
		p.errorf(r, -1, "asks QEMU to list watchdog models; it starts no VM")
		return
	}
	dev, ok := watchdogDevices[model]
	if !ok {
		dev = r.arg
	}
	p.add(vm.KindDevice, dev, nil, nil, impliedBy(r))
}

func (p *parser) handleBalloon(r *record) {
	model, rest, _ := strings.Cut(r.arg, ",")
	switch model {
	case "none":
		return
	case "virtio":
		props := map[string]string{}
		if rest != "" {
			opts, err := ParseOpts(rest, "")
			if err != nil {
				p.syntax(r, err)
				return
			}
			props = opts.Map()
		}
		p.add(vm.KindDevice, "virtio-balloon-pci", props, nil, impliedBy(r))
	default:
		p.errorf(r, 0, "unknown balloon model %q: want none or virtio", model)
	}
}

// usbDevices maps -usbdevice names to device types.
var usbDevices = map[string]string{
	"tablet": "usb-tablet", "mouse": "usb-mouse", "keyboard": "usb-kbd",
	"braille": "usb-braille", "wacom-tablet": "usb-wacom-tablet", "ccid": "usb-ccid",
	"audio": "usb-audio", "bt": "usb-bt-dongle",
}

func (p *parser) handleUSBDevice(r *record) {
	name, rest, _ := strings.Cut(r.arg, ":")
	implied := impliedBy(r)
	switch name {
	case "disk":
		d := p.addDrive(r, "none", Opts{{Key: "file", Value: rest, Offset: 5}}, implied)
		if d != nil {
			p.add(vm.KindDevice, "usb-storage", nil, nil, implied)
		}
	case "host":
		p.add(vm.KindDevice, "usb-host", map[string]string{"host": rest}, nil, implied)
	case "serial":
		if ci := p.addChardevSpec(r, rest, implied); ci >= 0 {
			p.chardevData[ci] = true
		}
		p.add(vm.KindDevice, "usb-serial", nil, nil, implied)
	case "net":
		p.add(vm.KindDevice, "usb-net", nil, nil, implied)
	default:
		dev, ok := usbDevices[name]
		if !ok {
			p.errorf(r, 0, "unknown -usbdevice %q", r.arg)
			return
		}
		p.add(vm.KindDevice, dev, nil, nil, implied)
	}
}

func (p *parser) handleFsdev(r *record) {
	p.addNamed(r, vm.KindFsdev, "fsdriver", false)
}

func (p *parser) handleVirtfs(r *record) {
	implied := impliedBy(r)
	if r.name == "virtfs_synth" {
		p.add(vm.KindFsdev, "synth", nil, r, "")
		p.add(vm.KindDevice, "virtio-9p-pci", nil, nil, implied)
		return
	}
	opts, ok := p.addNamed(r, vm.KindFsdev, "fsdriver", false)
	if !ok {
		return
	}
	if _, ok := p.required(r, opts, "mount_tag"); !ok {
		return
	}
	p.add(vm.KindDevice, "virtio-9p-pci", map[string]string{"mount_tag": opts.Value("mount_tag")},
		nil, implied)
}
