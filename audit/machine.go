package audit

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/qscope/qscope/vm"
)

// machineInfo is the running machine.
type machineInfo struct {
	typ   string // the QOM type, such as pc-q35-7.2-machine
	name  string // the machine name as -machine and query-machines spell it: pc-q35-7.2
	alias string // q35, when this version is the one the alias names
	// ramID is the id of the RAM backend the machine creates when -machine
	// memory-backend= names none (query-machines default-ram-id).
	ramID string
	props map[string]string
}

// machineProps are the machine properties that decide which devices a board creates by
// itself. Those the machine has are read and reported.
var machineProps = []string{
	"acpi", "hpet", "pic", "pit", "i8042", "vmport", "sata", "smbus", "usb", "smm",
	"ioapic2", "rtc", "pcie", "isa-serial", "gic-version", "its", "secure",
	"virtualization", "iommu", "ras", "graphics", "memory-backend",
}

func (a *auditor) queryMachine() error {
	m := &a.machine
	m.typ = a.tree.byPath["/machine"].typ
	m.name = strings.TrimSuffix(m.typ, "-machine")
	var list []struct {
		Name         string `json:"name"`
		Alias        string `json:"alias"`
		DefaultRAMID string `json:"default-ram-id"`
	}
	if err := a.execute("query-machines", nil, &list); err != nil {
		return err
	}
	for _, info := range list {
		if info.Name == m.name {
			m.alias, m.ramID = info.Alias, info.DefaultRAMID
		}
	}
	m.props = map[string]string{}
	have := map[string]bool{}
	for _, p := range a.tree.props["/machine"] {
		have[p.Name] = true
	}
	for _, key := range machineProps {
		if !have[key] {
			continue
		}
		v, err := a.qomGet("/machine", key)
		if err != nil {
			return err
		}
		if v != "" {
			m.props[key] = v
		}
	}
	return nil
}

// qomGet reads one property and renders it as text: booleans as on and off, strings as
// they are, other values as JSON. A property that cannot be read (write-only, or gone)
// gives "".
func (a *auditor) qomGet(path, name string) (string, error) {
	var raw json.RawMessage
	err := a.conn.Execute(a.ctx, "qom-get", map[string]any{"path": path, "property": name},
		&raw)
	if isNotFound(err) || isGenericError(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("audit: reading %s property %s: %w", path, name, err)
	}
	return renderJSON(raw), nil
}

// renderJSON renders a JSON value as a property value.
func renderJSON(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	switch x := v.(type) {
	case bool:
		if x {
			return "on"
		}
		return "off"
	case string:
		return x
	case nil:
		return ""
	}
	return string(raw)
}

func (a *auditor) addMachine() {
	m := &a.machine
	props := map[string]string{}
	for k, v := range m.props {
		props[k] = v
	}
	if m.alias != "" {
		props["alias"] = m.alias
	}
	a.cfg.Add(vm.Component{Kind: vm.KindMachine, Name: m.name, Props: props,
		Origin: &vm.Origin{QOMPath: "/machine"}, Parents: a.types.parents(m.typ)})
}

// queryAccel finds the running accelerator. QEMU 7.2 has no QOM object or query for it,
// but query-kvm reports whether KVM is enabled, and x-query-jit succeeds only under TCG.
func (a *auditor) queryAccel() error {
	var kvm struct {
		Enabled bool `json:"enabled"`
	}
	if err := a.execute("query-kvm", nil, &kvm); err != nil {
		return err
	}
	switch {
	case kvm.Enabled:
		a.accel = "kvm"
	case a.has("x-query-jit"):
		err := a.conn.Execute(a.ctx, "x-query-jit", nil, nil)
		switch {
		case err == nil:
			a.accel = "tcg"
		case !isGenericError(err):
			return fmt.Errorf("audit: %w", err)
		}
	}
	return nil
}

func (a *auditor) addAccel() {
	c := vm.Component{Kind: vm.KindAccel, Name: a.accel, Props: map[string]string{}}
	switch a.accel {
	case "kvm":
		c.ImpliedBy = "query-kvm (KVM enabled)"
	case "tcg":
		c.ImpliedBy = "x-query-jit (TCG running)"
	default:
		c.Name = "unknown"
		c.ImpliedBy = "query-kvm, x-query-jit (neither KVM nor TCG)"
		a.cfg.Note("the accelerator is neither KVM nor TCG (it may be Xen, HVF, WHPX or " +
			"qtest), and QEMU has no query that names it; it is reported as unknown")
	}
	a.cfg.Add(c)
}
