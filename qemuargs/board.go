package qemuargs

import (
	"fmt"
	"sort"

	"github.com/qscope/qscope/vm"
)

// Machine describes a machine for [BoardDevices]: the QEMU target, the machine type as
// -machine names it (an alias such as q35 is fine), its properties and the accelerators
// QEMU tries, first one first (kvm, tcg, ...).
type Machine struct {
	Target string
	Type   string
	Props  map[string]string
	Accels []string
}

// BoardDevices returns the devices that machine m creates by itself, which -nodefaults
// does not remove, as implied components marked Board. Front ends other than the command
// line (domain XML, for one) use it to report what the same machine adds. ok is false when
// the machine's family is not modelled; the list is then empty.
func BoardDevices(m Machine) (devs []vm.Component, ok bool) {
	p := &parser{cfg: &vm.Config{Target: m.Target}, target: m.Target, def: newDefaults()}
	p.machine.name = m.Type
	for _, k := range sortedPropKeys(m.Props) {
		p.machine.opts.Set(k, m.Props[k])
	}
	p.machine.family = lookupFamily(m.Type, m.Target)
	p.machine.version, p.machine.latest = machineVersion(m.Type)
	if p.machine.family == nil {
		return nil, false
	}
	for _, a := range m.Accels {
		p.cfg.Add(vm.Component{Kind: vm.KindAccel, Name: a, ImpliedBy: "accelerator"})
	}
	for _, b := range p.machine.family.board(p) {
		devs = append(devs, boardComponent(m.Type, b))
	}
	return devs, true
}

// boardComponent returns the component of board device b of machine.
func boardComponent(machine string, b boardDevice) vm.Component {
	props := map[string]string{}
	if b.count > 1 {
		props["count"] = fmt.Sprint(b.count)
	}
	return vm.Component{Kind: vm.KindDevice, Name: b.typ, Props: props, Board: true,
		Parent:    machine,
		ImpliedBy: fmt.Sprintf("machine %s board device: %s", machine, b.why)}
}

func sortedPropKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
