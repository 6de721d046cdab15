package domxml

import (
	"fmt"

	"libvirt.org/go/libvirtxml"
)

// chardev emits -chardev for the chardev source of the element at path (a serial port,
// channel, console, smartcard, redirdev or RNG backend) and returns false on an error.
// parallel selects the host parallel port backend for type dev.
func (b *builder) chardev(path string, src *libvirtxml.DomainChardevSource,
	proto *libvirtxml.DomainChardevProtocol, id string, parallel bool) bool {
	typ := b.typeAttr(path)
	if typ == "" {
		typ = "pty"
	}
	backend, pairs, ok := b.chardevBackend(path, typ, src, proto, parallel)
	if !ok {
		return false
	}
	b.emit(path, "-chardev", kv(backend, append([]string{"id", id}, pairs...)...))
	if src != nil && src.TCP != nil && src.TCP.TLS == "yes" {
		b.object(path+"/source", "tls-creds-x509", "id", "obj"+id+"_tls0", "endpoint",
			pick(src.TCP.Mode == "bind", "server", "client"))
	}
	return true
}

// chardevBackend maps a libvirt chardev type to the QEMU backend and the properties that
// decide its catalog entry (qemuBuildChardevCommand).
func (b *builder) chardevBackend(path, typ string, src *libvirtxml.DomainChardevSource,
	proto *libvirtxml.DomainChardevProtocol, parallel bool) (string, []string, bool) {
	if src == nil {
		src = &libvirtxml.DomainChardevSource{}
	}
	switch typ {
	case "null", "vc", "pty", "stdio", "spicevmc", "qemu-vdagent":
		if typ == "spicevmc" {
			return typ, []string{"name", "vdagent"}, true
		}
		return typ, nil, true
	case "dev":
		p := ""
		if src.Dev != nil {
			p = src.Dev.Path
		}
		return pick(parallel, "parallel", "serial"), []string{"path", p}, true
	case "file":
		if src.File != nil {
			return "file", []string{"path", src.File.Path}, true
		}
	case "pipe":
		if src.Pipe != nil {
			return "pipe", []string{"path", src.Pipe.Path}, true
		}
	case "udp":
		if u := src.UDP; u != nil {
			return "udp", []string{"host", u.ConnectHost, "port", u.ConnectService,
				"localaddr", u.BindHost, "localport", u.BindService}, true
		}
	case "tcp":
		if t := src.TCP; t != nil {
			telnet := proto != nil && (proto.Type == "telnet" || proto.Type == "telnets")
			return "socket", []string{"host", t.Host, "port", t.Service, "server",
				onOff(t.Mode == "bind"), "telnet", pick(telnet, "on", "")}, true
		}
	case "unix":
		if u := src.UNIX; u != nil {
			p := u.Path
			if p == "" {
				p = "/var/lib/libvirt/qemu/channel/target/" + b.dom.Name + ".sock"
			}
			return "socket", []string{"path", p, "server", onOff(u.Mode != "connect")}, true
		}
	case "spiceport":
		if src.SpicePort != nil {
			return "spiceport", []string{"name", src.SpicePort.Channel}, true
		}
	case "dbus":
		if src.DBus != nil {
			return "dbus", []string{"name", src.DBus.Channel}, true
		}
	case "nmdm":
		b.errorf(path, "chardev type nmdm exists only for bhyve, not QEMU")
		return "", nil, false
	default:
		b.errorf(path, "unknown chardev type %q", typ)
		return "", nil, false
	}
	b.errorf(path, "missing <source> for chardev type %q", typ)
	return "", nil, false
}

// buildSerials emits serial ports (qemuBuildSerialCommandLine).
func (b *builder) buildSerials() {
	spice := false
	for _, g := range b.devs().Graphics {
		spice = spice || g.Spice != nil
	}
	for i, s := range b.dev.serials {
		id := fmt.Sprintf("charserial%d", i)
		src, proto := s.source()
		if src != nil && src.SpicePort != nil && !spice {
			// libvirt leaves out a serial port on a SPICE port when the domain has no
			// SPICE display.
			continue
		}
		if !b.chardev(s.path, src, proto, id, false) {
			continue
		}
		b.serialDevice(s, id, i)
	}
}

func (s serial) source() (*libvirtxml.DomainChardevSource, *libvirtxml.DomainChardevProtocol) {
	if s.console != nil {
		return s.console.Source, s.console.Protocol
	}
	return s.x.Source, s.x.Protocol
}

// serialDevice emits the device of a serial port for its target type and model.
func (b *builder) serialDevice(s serial, id string, n int) {
	typ, model := b.serialTarget(s)
	path := s.path + "/target"
	switch typ {
	case "system", "16550a":
		b.emit(path, "-serial", "chardev:"+id)
		return
	case "sclp":
		b.device(path, pick(model == "sclplmconsole", "sclplmconsole", "sclpconsole"),
			"chardev", id)
		return
	}
	driver := map[string]string{"isa-serial": "isa-serial", "usb-serial": "usb-serial",
		"pci-serial": "pci-serial", "spapr-vio-serial": "spapr-vty",
		"isa-debug": "isa-debugcon"}[typ]
	if model != "" {
		driver = model
	}
	if driver == "" {
		b.errorf(path, "unknown serial target type %q", typ)
		return
	}
	b.device(path, driver, "chardev", id, "id", fmt.Sprintf("serial%d", n))
}

// serialTarget returns the target type and model of a serial port, with libvirt's
// defaults for the machine (qemuDomainChrDefPostParse).
func (b *builder) serialTarget(s serial) (string, string) {
	typ, model := "", ""
	if s.x != nil && s.x.Target != nil {
		typ = s.x.Target.Type
		if s.x.Target.Model != nil {
			model = s.x.Target.Model.Name
		}
	}
	if typ == "isa-serial" {
		// libvirt reads isa-serial as the machine's default, for compatibility
		// (qemuDomainChrDefPostParse).
		typ = ""
	}
	if model != "" && typ == "" {
		typ = map[string]string{"isa-serial": "isa-serial", "usb-serial": "usb-serial",
			"pci-serial": "pci-serial", "spapr-vty": "spapr-vio-serial",
			"pl011": "system", "sclpconsole": "sclp", "sclplmconsole": "sclp",
			"16550a": "system", "isa-debugcon": "isa-debug"}[model]
	}
	if typ == "" {
		switch {
		case isX86(b.arch):
			typ = "isa-serial"
		case b.isARMVirt(), b.isRISCVVirt(), b.isLoongArchVirt():
			typ = "system"
		case b.isPSeries():
			typ = "spapr-vio-serial"
		case isS390(b.arch):
			typ = "sclp"
		default:
			typ = "system"
		}
	}
	return typ, model
}

// buildParallels emits parallel ports.
func (b *builder) buildParallels() {
	for i, p := range b.devs().Parallels {
		path := fmt.Sprintf("/domain/devices/parallel[%d]", i+1)
		id := fmt.Sprintf("charparallel%d", i)
		if b.chardev(path, p.Source, p.Protocol, id, true) {
			b.device(path, "isa-parallel", "chardev", id, "id", fmt.Sprintf("parallel%d", i))
		}
	}
}

// buildChannels emits channels: virtio-serial ports, or a guestfwd rule of a user
// network backend (qemuBuildChannelsCommandLine).
func (b *builder) buildChannels() {
	for i, ch := range b.devs().Channels {
		path := fmt.Sprintf("/domain/devices/channel[%d]", i+1)
		id := fmt.Sprintf("charchannel%d", i)
		switch {
		case ch.Target == nil:
			b.errorf(path, "missing <target>")
		case ch.Target.GuestFWD != nil:
			if b.chardev(path, ch.Source, ch.Protocol, id, false) {
				b.emit(path+"/target", "-netdev", kv("user", "guestfwd", "tcp:"+
					ch.Target.GuestFWD.Address+":"+ch.Target.GuestFWD.Port+"-chardev:"+id,
					"id", fmt.Sprintf("channel%d", i)))
			}
		case ch.Target.VirtIO != nil:
			if b.chardev(path, ch.Source, ch.Protocol, id, false) {
				b.device(path+"/target", "virtserialport", "chardev", id, "name",
					ch.Target.VirtIO.Name)
			}
		default:
			b.errorf(path+"/target", "channel target type %q is not supported by QEMU",
				b.typeAttr(path+"/target"))
		}
	}
}

// buildConsoles emits the consoles other than a first console that is a serial port.
func (b *builder) buildConsoles() {
	for i := range b.devs().Consoles {
		con := &b.devs().Consoles[i]
		path := fmt.Sprintf("/domain/devices/console[%d]", i+1)
		if i == 0 && consoleIsSerial(con) {
			continue
		}
		t := ""
		if con.Target != nil {
			t = con.Target.Type
		}
		id := fmt.Sprintf("charconsole%d", i)
		switch t {
		case "virtio":
			if b.chardev(path, con.Source, con.Protocol, id, false) {
				b.device(path+"/target", "virtconsole", "chardev", id)
			}
		case "sclp", "sclplm":
			if b.chardev(path, con.Source, con.Protocol, id, false) {
				b.device(path+"/target", pick(t == "sclp", "sclpconsole", "sclplmconsole"),
					"chardev", id)
			}
		case "", "serial":
			b.errorf(path+"/target", "only the first console can be a serial port")
		default:
			b.errorf(path+"/target", "console target type %q is not supported by QEMU", t)
		}
	}
}
