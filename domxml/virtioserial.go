package domxml

import "libvirt.org/go/libvirtxml"

// defaultVirtioSerialPorts is the port count of a virtio-serial controller without a
// ports attribute (libvirt's VIR_DOMAIN_DEFAULT_VIRTIO_SERIAL_PORTS).
const defaultVirtioSerialPorts = 31

// assignVirtioSerial gives every virtio console and channel a port, adding a
// virtio-serial controller when all ports are taken (qemuDomainAssignVirtioSerialAddresses).
// Port 0 of a controller is for consoles only.
func (b *builder) assignVirtioSerial() {
	ports := map[uint]*serialPorts{}
	var order []uint
	add := func(c *controller) {
		n := uint(defaultVirtioSerialPorts)
		if c.x != nil && c.x.VirtIOSerial != nil && c.x.VirtIOSerial.Ports != nil {
			n = *c.x.VirtIOSerial.Ports
		}
		ports[c.index] = &serialPorts{count: n, used: map[uint]bool{}}
		order = insertSorted(order, c.index)
	}

	for _, c := range b.dev.controllers {
		if c.typ == "virtio-serial" {
			add(c)
		}
	}
	dv := b.devs()
	var consoles, channels []*libvirtxml.DomainAddress

	for _, con := range dv.Consoles {
		if con.Target != nil && con.Target.Type == "virtio" {
			consoles = append(consoles, con.Address)
		}
	}

	for _, ch := range dv.Channels {
		if ch.Target != nil && ch.Target.VirtIO != nil {
			channels = append(channels, ch.Address)
		}
	}

	for _, a := range append(append([]*libvirtxml.DomainAddress{}, consoles...), channels...) {
		if c, p, ok := serialPort(a); ok && p != 0 && ports[c] != nil {
			ports[c].used[p] = true
		}
	}
	next := func(allowZero bool) {
		first := uint(1)
		if allowZero {
			first = 0
		}
		for _, idx := range order {
			if ports[idx].take(first) {
				return
			}
		}
		var idx uint
		for ports[idx] != nil {
			idx++
		}
		add(b.dev.maybeAddController("virtio-serial", idx, "",
			"libvirt's virtio-serial port assignment"))
		ports[idx].take(first)
	}
	assign := func(a *libvirtxml.DomainAddress, allowZero bool) {
		c, p, ok := serialPort(a)
		switch {
		case ok && p != 0:
		case ok && ports[c] != nil:
			ports[c].take(1)
		default:
			next(allowZero)
		}
	}

	for _, a := range consoles {
		assign(a, true)
	}

	for _, a := range channels {
		assign(a, false)
	}
}

// serialPorts are the ports of one virtio-serial controller.
type serialPorts struct {
	count uint
	// low[0] and low[1] are the lowest ports, counting from 0 and from 1, that may be
	// free. Ports are only ever taken, so a search starts there, and a full controller
	// costs no scan once found full: a domain may have many thousands of channels.
	low  [2]uint
	used map[uint]bool
}

// take marks the first free port from first (0 or 1) on and reports whether there was
// one.
func (p *serialPorts) take(first uint) bool {
	for n := max(first, p.low[first]); n < p.count; n++ {
		if !p.used[n] {
			p.used[n] = true
			p.low[first] = n + 1
			return true
		}
	}
	p.low[first] = p.count
	return false
}

// serialPort returns the controller and port of a virtio-serial address.
func serialPort(a *libvirtxml.DomainAddress) (controller, port uint, ok bool) {
	if a == nil || a.VirtioSerial == nil {
		return 0, 0, false
	}
	return deref(a.VirtioSerial.Controller), deref(a.VirtioSerial.Port), true
}

func insertSorted(s []uint, v uint) []uint {
	i := 0
	for i < len(s) && s[i] < v {
		i++
	}
	s = append(s, 0)
	copy(s[i+1:], s[i:])
	s[i] = v
	return s
}
