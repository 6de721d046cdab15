package qemuargs

import (
	"strings"

	"github.com/qscope/qscope/vm"
)

// machineState is the machine as the merged -machine/-M options give it.
type machineState struct {
	name    string  // as written, or the target's default
	opts    Opts    // merged properties, later options overriding earlier ones
	typeRec *record // the option that set the type; nil when implied
	accRec  *record // the option that set accel=; nil when none did
	usbRec  *record // the option that last set usb (-machine, -usb or -usbdevice)
	family  *family
	version Version // the machine type version (pc-q35-4.2 is 4.2); zero for the newest
	latest  bool    // an unversioned alias (q35, pc, virt) naming the newest version
}

// prop returns a merged machine property, boolean spellings normalised to on and off.
func (m *machineState) prop(key string) (string, bool) {
	v, ok := m.opts.Get(key)
	if !ok {
		return "", false
	}
	return vm.NormalizeBool(v), true
}

// defaultMachines is the machine QEMU picks when no -machine is given. Targets missing here
// (aarch64 and arm among them) have no default, and QEMU does not start without -machine.
var defaultMachines = map[string]string{
	"x86_64":  "pc",
	"i386":    "pc",
	"ppc64":   "pseries",
	"s390x":   "s390-ccw-virtio",
	"riscv64": "spike",
	"riscv32": "spike",
	"mips":    "malta",
	"mipsel":  "malta",
	"mips64":  "malta",
	"sparc":   "SS-5",
	"sparc64": "sun4u",
}

// prepareMachine merges every -machine and -M option before the other options are handled,
// because QEMU also applies the machine options after reading the whole command line and
// the machine type decides the defaults of other options.
func (p *parser) prepareMachine() {
	m := &p.machine
	for i := range p.records {
		r := &p.records[i]
		switch r.name {
		case "accel":
			p.accelOptions++
			continue
		case "enable-kvm", "enable-hax", "no-kvm":
			// QEMU turns these into the machine property accel= where they stand
			// (system/vl.c), so the last of them and -machine accel= wins.
			m.opts.Set("accel", map[string]string{"enable-kvm": "kvm",
				"enable-hax": "hax", "no-kvm": "tcg"}[r.name])
			m.accRec = r
			continue
		case "no-hpet":
			m.opts.Set("hpet", "off")
			continue
		case "no-acpi":
			m.opts.Set("acpi", "off")
			continue
		case "usb", "usbdevice":
			// QEMU turns these into the machine property usb=on where they stand, so a
			// later -machine usb=off wins over them and they win over an earlier one.
			m.opts.Set("usb", "on")
			m.usbRec = r
			continue
		case "machine", "M":
		default:
			continue
		}
		opts, err := ParseOpts(r.arg, "type")
		if err != nil {
			p.syntax(r, err)
			continue
		}
		opts = append(opts, r.set...)
		if isHelp(opts, "type") {
			p.errorf(r, -1, "asks QEMU to list machines; it starts no VM")
			continue
		}
		for _, o := range opts {
			m.opts.Set(o.Key, o.Value)
			switch o.Key {
			case "type":
				m.typeRec = r
			case "accel":
				m.accRec = r
			case "usb":
				m.usbRec = r
			}
		}
	}
	if v, ok := m.opts.Get("type"); ok {
		m.name = v
	} else if def, ok := defaultMachines[p.target]; ok {
		m.name = def
	}
	m.family = lookupFamily(m.name, p.target)
	m.version, m.latest = machineVersion(m.name)
}

// machineVersion returns the version in a versioned machine name (pc-q35-7.2,
// pc-q35-4.0.1), or latest for a name without one (q35).
func machineVersion(name string) (Version, bool) {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return Version{}, true
	}
	parts := strings.Split(name[i+1:], ".")
	if len(parts) < 2 || len(parts) > 3 {
		return Version{}, true
	}
	for _, part := range parts {
		if part == "" || strings.Trim(part, "0123456789") != "" {
			return Version{}, true
		}
	}
	v, err := ParseVersion(parts[0] + "." + parts[1])
	if err != nil {
		return Version{}, true
	}
	return v, false
}

// atLeast reports whether the machine version is v or newer; an unversioned alias is the
// newest version.
func (m *machineState) atLeast(major, minor int) bool {
	return m.latest || !m.version.Less(Version{major, minor})
}

// emitMachine adds the machine component, at the option that set its type or, when no
// option did, as implied by the target's default.
func (p *parser) emitMachine() {
	m := &p.machine
	if m.name == "" {
		p.errs = append(p.errs, &Error{Arg: 0, Text: p.cfg.Binary, Offset: -1,
			Msg: "no -machine given and qemu-system-" + p.target + " has no default " +
				"machine; QEMU does not start without one"})
		return
	}
	props := map[string]string{}
	for _, o := range m.opts {
		if o.Key != "type" {
			props[o.Key] = o.Value
		}
	}
	c := vm.Component{Kind: vm.KindMachine, Name: m.name, Props: props}
	if m.typeRec != nil {
		c.Origin = m.typeRec.origin()
	} else {
		c.ImpliedBy = "default machine of qemu-system-" + p.target
	}
	p.cfg.Add(c)
	if m.family == nil {
		p.cfg.Note("the devices that machine " + m.name + " creates by itself are not " +
			"modelled; only what the command line adds is reported")
	}
}

// handleAccel adds the accelerator of an -accel option; QEMU tries the -accel options in
// order. -enable-kvm and -machine accel= are handled with the machine.
func (p *parser) handleAccel(r *record) {
	opts, err := ParseOpts(r.arg, "accel")
	if err != nil {
		p.syntax(r, err)
		return
	}
	if isHelp(opts, "accel") {
		p.errorf(r, -1, "asks QEMU to list accelerators; it starts no VM")
		return
	}
	name, ok := opts.Get("accel")
	if !ok || name == "" {
		p.errorf(r, -1, "missing accelerator name")
		return
	}
	p.addAccel(name, opts, r, "")
}

// machineAccels adds the accelerators of -machine accel=a:b, which QEMU tries in order.
func (p *parser) machineAccels() {
	v, ok := p.machine.opts.Get("accel")
	if !ok {
		return
	}
	r := p.machine.accRec
	if p.accelOptions > 0 {
		p.errorf(r, -1, "-machine accel= (which -enable-kvm also sets) cannot be combined "+
			"with -accel; QEMU rejects the command line")
		return
	}
	for _, name := range strings.Split(v, ":") {
		if name == "" {
			p.errorf(r, -1, "empty accelerator name in accel=%s", v)
			continue
		}
		p.addAccel(name, nil, r, "")
	}
}

func (p *parser) addAccel(name string, opts Opts, r *record, implied string) {
	props := map[string]string{}
	for _, o := range opts {
		if o.Key != "accel" {
			props[o.Key] = o.Value
		}
	}
	c := vm.Component{Kind: vm.KindAccel, Name: name, Props: props, ImpliedBy: implied}
	if r != nil {
		c.Origin = r.origin()
	}
	p.cfg.Add(c)
}

// defaultAccels adds the accelerators QEMU picks when none is given: qemu-system-* tries
// TCG first, and a binary whose name ends in "kvm" tries KVM and falls back to TCG when KVM
// is unavailable.
func (p *parser) defaultAccels() {
	if _, ok := p.machine.opts.Get("accel"); ok || p.accelOptions > 0 {
		return
	}
	bin := "qemu-system-" + p.target
	if p.kvmBin {
		p.addAccel("kvm", nil, nil, "default accelerator of a binary named *kvm")
		p.addAccel("tcg", nil, nil, "fallback accelerator of a binary named *kvm "+
			"when KVM is unavailable")
		return
	}
	p.addAccel("tcg", nil, nil, "default accelerator of "+bin+" (QEMU tries tcg, then kvm)")
}
