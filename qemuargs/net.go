package qemuargs

import (
	"github.com/qscope/qscope/vm"
)

// nicModel maps a -nic/-net nic model to the device type QEMU creates: "virtio" is
// virtio-net-pci (pci_nic_init_nofail in QEMU's hw/pci/pci.c); other models are device names.
func nicModel(model string) string {
	if model == "virtio" {
		return "virtio-net-pci"
	}
	return model
}

func (p *parser) handleNetdev(r *record) {
	p.def.net = false
	if opts, ok := p.addNamed(r, vm.KindNetdev, "type", true); ok {
		p.required(r, opts, "id")
		p.chardevUse(opts, r)
	}
}

func (p *parser) handleNic(r *record) {
	p.def.net = false
	opts, ok := p.parseArg(r, "type", false)
	if !ok {
		return
	}
	typ, ok := p.required(r, opts, "type")
	if !ok || typ == "none" {
		return
	}
	p.add(vm.KindNetdev, typ, propsExcept(opts, "type", "model", "mac"), r, "")
	p.addNIC(r, opts.Value("model"), impliedBy(r))
}

func (p *parser) handleNet(r *record) {
	p.def.net = false
	opts, ok := p.parseArg(r, "type", false)
	if !ok {
		return
	}
	typ, ok := p.required(r, opts, "type")
	if !ok {
		return
	}
	switch typ {
	case "none":
		return
	case "nic":
		p.addNIC(r, opts.Value("model"), impliedBy(r))
	default:
		p.add(vm.KindNetdev, typ, propsExcept(opts, "type"), r, "")
	}
}

// addNIC adds the NIC device of -nic or -net nic: the model given, or the machine's default.
func (p *parser) addNIC(r *record, model, implied string) {
	if model == "help" || model == "?" {
		p.errorf(r, -1, "asks QEMU to list NIC models; it starts no VM")
		return
	}
	if model == "" {
		if f := p.machine.family; f != nil {
			model = f.nic(&p.machine)
		}
	}
	if model == "" {
		p.cfg.Note("the default NIC model of machine " + p.machine.name +
			" is not modelled; the NIC of " + r.word + " is not reported")
		return
	}
	p.add(vm.KindDevice, nicModel(model), nil, nil, implied)
}
