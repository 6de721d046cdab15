package domxml

import (
	"fmt"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// netModel returns an interface's model, or libvirt's default for the machine
// (qemuDomainDeviceNetDefPostParse): virtio for vdpa and vhost-user interfaces, the
// machine's default (qemuDomainDefaultNetModel) for the others.
func (b *builder) netModel(n *libvirtxml.DomainInterface) string {
	if n.Model != nil && n.Model.Type != "" {
		// libvirt matches the models it has names for without regard to case and writes their
		// canonical spelling (virDomainNetSetModelString).
		for _, m := range netModelNames {
			if strings.EqualFold(m, n.Model.Type) {
				return m
			}
		}
		return n.Model.Type
	}
	if s := n.Source; s != nil && (s.VDPA != nil || s.VHostUser != nil) {
		return "virtio"
	}
	switch {
	case isS390(b.arch), b.isLoongArchVirt(), b.isRISCVVirt(), b.isARMVirt():
		return "virtio"
	case isARM(b.arch) && b.machine == "versatilepb":
		return "smc91c111"
	case isARM(b.arch):
		return "lan9118"
	case b.isPSeries():
		return "spapr-vlan"
	}
	return "rtl8139"
}

// netdevType returns the QEMU network backend of an interface type
// (qemuBuildHostNetProps), or "" for a type that has none.
func (b *builder) netdevType(path string, n *libvirtxml.DomainInterface) string {
	s := n.Source
	switch {
	case s == nil:
	case s.User != nil:
		if n.Backend != nil && n.Backend.Type == "passt" {
			return "stream"
		}
		return "user"
	case s.Ethernet != nil, s.Network != nil, s.Bridge != nil, s.Direct != nil:
		return "tap"
	case s.VHostUser != nil:
		return "vhost-user"
	case s.Server != nil, s.Client != nil, s.MCast != nil, s.UDP != nil:
		return "socket"
	case s.VDPA != nil:
		return "vhost-vdpa"
	case s.Hostdev != nil:
		return ""
	}
	b.errorf(path, "interface type %q is not supported by QEMU", b.typeAttr(path))
	return ""
}

// buildInterfaces emits each interface's backend and NIC (qemuBuildInterfaceCommandLine).
func (b *builder) buildInterfaces() {
	for i := range b.devs().Interfaces {
		n := &b.devs().Interfaces[i]
		path := fmt.Sprintf("/domain/devices/interface[%d]", i+1)
		if n.Source != nil && n.Source.Hostdev != nil {
			var drv *libvirtxml.DomainHostdevSubsysPCIDriver
			if n.Driver != nil {
				drv = &libvirtxml.DomainHostdevSubsysPCIDriver{Name: n.Driver.Name}
			}
			b.device(path, b.pciHostdevDriver(drv), "id", fmt.Sprintf("hostdev-net%d", i))
			continue
		}
		typ := b.netdevType(path, n)
		if typ == "" {
			continue
		}
		id := fmt.Sprintf("hostnet%d", i)
		if typ == "vhost-user" {
			b.vhostUserChardev(path, n.Source.VHostUser, "charnet"+fmt.Sprint(i))
		}
		b.emit(path, "-netdev", kv(typ, "id", id, "chardev", pick(typ == "vhost-user",
			"charnet"+fmt.Sprint(i), "")))
		b.nic(path, n, id)
	}
}

// vhostUserChardev emits the UNIX socket chardev of a vhost-user interface.
func (b *builder) vhostUserChardev(path string, s *libvirtxml.DomainInterfaceSourceVHostUser,
	id string) {
	p, mode := "", ""
	if s != nil && s.Chardev != nil && s.Chardev.UNIX != nil {
		p, mode = s.Chardev.UNIX.Path, s.Chardev.UNIX.Mode
	}
	b.emit(path+"/source", "-chardev", kv("socket", "id", id, "path", p, "server",
		onOff(mode == "server")))
}

// nic emits the guest device of an interface.
func (b *builder) nic(path string, n *libvirtxml.DomainInterface, netdev string) {
	model := b.netModel(n)
	driver := model
	if isVirtioModel(model) {
		driver = "virtio-net-" + b.virtioBus(path, toAddr(n.Address)) + b.transitional(model)
	}
	p := path + "/model"
	if n.Model == nil {
		p = path
	}
	if strings.Trim(model, netModelChars) != "" {
		// libvirt refuses a model with other characters, such as a comma, which would
		// add properties to the -device option.
		b.errorf(p, "NIC model %q has characters other than letters, digits, _ and -",
			model)
		return
	}
	b.device(p, driver, "netdev", netdev)
}

// netModelChars are the characters qscope allows in a NIC model name: those of every
// model libvirt and QEMU name.
const netModelChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"

// isVirtioModel reports whether an interface model is a virtio NIC
// (virDomainNetIsVirtioModel).
func isVirtioModel(model string) bool {
	return model == "virtio" || model == "virtio-transitional" ||
		model == "virtio-non-transitional"
}
