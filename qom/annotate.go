package qom

import (
	"fmt"
	"sort"
	"strings"

	"github.com/qscope/qscope/catalog"
	"github.com/qscope/qscope/vm"
)

// Annotate checks cfg against the binary of the profile, as QEMU would when it starts,
// and records what the binary reports about each component. cat is the catalog that will
// judge the configuration. Annotate resolves aliases through it, as the policy engine
// does, and compares its entries with the binary's security flags.
//
// For each machine, accelerator, CPU model, device, -object type and chardev backend it:
//
//   - resolves the name to the binary's type (a machine alias such as q35 to
//     pc-q35-7.2) and sets [vm.Component.Parents] to the type's parent chain;
//   - returns an error for a name the binary does not provide, with the message QEMU
//     itself prints ("'foo' is not a valid device model name", "unsupported machine
//     type", "invalid object type: foo"), located at the component's origin.
//
// A component that the configuration implies (a board device, a default chardev) and
// that the binary lacks is a note instead, because qscope's model of the board, not the
// input, is then what differs from the binary. Netdev backends, block drivers, displays,
// audio backends and monitors are not QOM types and are not checked.
//
// Annotate sets cfg.QEMUVersion to the profile's release. It adds notes to cfg for
// deprecated machines and CPU models and for checks the profile cannot make. It also adds
// one for every component whose security flag in the binary and status in the catalog
// below the profile's layer disagree. Errors are an [ErrorList].
func (p *Profile) Annotate(cfg *vm.Config, cat *catalog.Catalog) error {
	if err := p.checkConfig(cfg); err != nil {
		return err
	}
	cfg.QEMUVersion = p.Release()
	cfg.Note("component types checked against " + p.Describe())
	if cat == nil {
		cat = catalog.New()
	}
	a := &annotator{p: p, cfg: cfg, cat: cat, unverified: map[string][]string{},
		types: make([]string, len(cfg.Components))}
	for i := range cfg.Components {
		a.types[i] = a.component(&cfg.Components[i])
	}
	a.accelerators()
	a.noteUnverified()
	if p.reportsSecurity() {
		a.disagreements()
	}
	return a.errs.Err()
}

// checkConfig rejects a configuration for another target or QEMU release, because every
// other check would then compare against the wrong binary.
func (p *Profile) checkConfig(cfg *vm.Config) error {
	if cfg.Target != "" && cfg.Target != p.Target {
		return ErrorList{{Profile: p.Describe(), Msg: fmt.Sprintf(
			"the configuration is for target %s, but the profile is of %s",
			cfg.Target, p.Describe())}}
	}
	if cfg.QEMUVersion != "" && cfg.QEMUVersion != p.Release() {
		return ErrorList{{Profile: p.Describe(), Msg: fmt.Sprintf(
			"the configuration was checked against QEMU %s, but the profile is of %s",
			cfg.QEMUVersion, p.Describe())}}
	}
	return nil
}

// annotator carries the state of one Annotate call.
type annotator struct {
	p    *Profile
	cfg  *vm.Config
	cat  *catalog.Catalog
	errs ErrorList
	// accels are the accelerators in configuration order, with the problem of each.
	accels []accelResult
	// unverified maps a claim ("are devices") to the names the profile could not check
	// it for.
	unverified map[string][]string
	// types are the QOM types of the components, "" where none was found.
	types []string
}

type accelResult struct {
	c       *vm.Component
	problem string
}

// component checks one component, sets its parent chain and returns its QOM type.
func (a *annotator) component(c *vm.Component) string {
	var typ, problem string
	switch c.Kind {
	case vm.KindMachine:
		typ, problem = a.machine(c)
	case vm.KindAccel:
		typ = c.Name + "-accel"
		problem = a.accel(c, typ)
		a.accels = append(a.accels, accelResult{c, problem})
		if problem != "" {
			return ""
		}
	case vm.KindCPU:
		typ, problem = a.cpu(c)
	case vm.KindDevice:
		typ, problem = a.device(c)
	case vm.KindObject:
		typ, problem = a.object(c)
	case vm.KindChardev:
		typ, problem = a.chardev(c)
	default:
		return ""
	}
	if problem != "" {
		a.fail(c, problem)
		return ""
	}
	if typ != "" {
		c.Parents = a.p.Parents(typ)
	}
	return typ
}

// fail records a problem: an error for a written or generated component or the machine,
// a note for a component the configuration implies.
func (a *annotator) fail(c *vm.Component, msg string) {
	if c.Origin != nil || c.Generated || c.Kind == vm.KindMachine {
		a.errs = append(a.errs, &Error{Kind: c.Kind, Name: c.Name, Origin: c.Origin,
			ImpliedBy: c.ImpliedBy, Msg: msg, Profile: a.p.Describe()})
		return
	}
	a.cfg.Note(fmt.Sprintf("%s %s (%s) is not provided by %s: %s", c.Kind, c.Name,
		c.ImpliedBy, a.p.Describe(), msg))
}

// unsure records a name for which the profile cannot prove claim ("are devices").
func (a *annotator) unsure(claim, name string) {
	a.unverified[claim] = append(a.unverified[claim], name)
}

func (a *annotator) noteUnverified() {
	claims := make([]string, 0, len(a.unverified))
	for c := range a.unverified {
		claims = append(claims, c)
	}
	sort.Strings(claims)
	for _, c := range claims {
		a.cfg.Note(fmt.Sprintf("%s lists no abstract types or interfaces, so whether "+
			"%s %s was not checked", a.p.Describe(), strings.Join(a.unverified[c], ", "), c))
	}
}

// machine resolves a machine name as QEMU's find_machine does (a name or an alias of
// query-machines) and returns its QOM type.
func (a *annotator) machine(c *vm.Component) (string, string) {
	p := a.p
	m := p.Machine(c.Name)
	if m == nil && !p.MachineAliases {
		// A bare machine list has no aliases, so the catalog's aliases, resolved for the
		// profile's release, are used instead.
		if resolved, alias := a.cat.Resolve(vm.KindMachine, c.Name, p.Target,
			p.Release()); alias != nil {
			m = p.Machine(resolved)
		}
	}
	if m == nil {
		if c.Origin == nil && p.MachineAliases && p.DefaultMachine() == nil {
			return "", "No machine specified, and there is no default"
		}
		return "", "unsupported machine type (Use -machine help to list supported machines)"
	}
	if c.Origin == nil && p.MachineAliases {
		if def := p.DefaultMachine(); def != nil && def != m {
			a.cfg.Note(fmt.Sprintf("%s starts machine %s when no -machine is given; the "+
				"report assumes %s", p.Describe(), def.Name, c.Name))
		}
	}
	if m.Deprecated {
		a.cfg.Note(fmt.Sprintf("machine %s is deprecated in %s", m.Name, p.Describe()))
	}
	return m.Name + "-machine", ""
}

// accel checks an accelerator as QEMU's accel_find does: its type is the name with
// "-accel" appended.
func (a *annotator) accel(c *vm.Component, typ string) string {
	t := a.p.Type(typ)
	if t == nil || t.Abstract || a.p.isA(typ, "accel") == no {
		return "invalid accelerator " + c.Name
	}
	if a.p.isA(typ, "accel") == unknown {
		a.unsure("are accelerators", c.Name)
	}
	return ""
}

// accelerators turns the accelerators' problems into errors or notes. QEMU tries the
// accelerators in order and prints "invalid accelerator NAME" for each it does not have.
// It exits only when none is left (QEMU 7.2 softmmu/vl.c, configure_accelerators).
// Without -accel, QEMU picks among tcg and kvm those the binary has, so implied
// accelerators the binary lacks are notes while it has one of them.
func (a *annotator) accelerators() {
	usable, written := false, false
	for _, r := range a.accels {
		if r.problem == "" {
			usable = true
		}
		if r.c.Origin != nil {
			written = true
		}
	}
	if !written {
		usable = a.p.Type("tcg-accel") != nil || a.p.Type("kvm-accel") != nil
	}
	for _, r := range a.accels {
		switch {
		case r.problem == "":
		case usable && r.c.Origin == nil:
			a.cfg.Note(fmt.Sprintf("%s has no accelerator %s, so without -accel QEMU "+
				"starts with the accelerator it has", a.p.Describe(), r.c.Name))
		case usable:
			a.cfg.Note(fmt.Sprintf("%s has no accelerator %s: QEMU prints \"%s\" and "+
				"tries the next one", a.p.Describe(), r.c.Name, r.problem))
		case r.c.Origin == nil:
			a.errs = append(a.errs, &Error{Kind: r.c.Kind, Name: r.c.Name,
				ImpliedBy: r.c.ImpliedBy, Profile: a.p.Describe(),
				Msg: "No accelerator selected and no default accelerator available"})
		default:
			a.errs = append(a.errs, &Error{Kind: r.c.Kind, Name: r.c.Name,
				Origin: r.c.Origin, Msg: r.problem, Profile: a.p.Describe()})
		}
	}
}

// cpu resolves a CPU model as the target's class_by_name function does.
func (a *annotator) cpu(c *vm.Component) (string, string) {
	p := a.p
	problem := fmt.Sprintf("unable to find CPU model '%s'", c.Name)
	if suffix, ok := cpuTypeSuffixes[p.Target]; ok {
		typ := c.Name + suffix
		t := p.Type(typ)
		if t == nil || t.Abstract || p.isA(typ, "cpu") == no {
			return "", problem
		}
		if p.isA(typ, "cpu") == unknown {
			a.unsure("are CPU models", c.Name)
		}
		a.noteDeprecatedCPU(c.Name)
		return typ, ""
	}
	if cpu := p.idx().cpus[c.Name]; cpu != nil {
		a.noteDeprecatedCPU(c.Name)
		return cpu.Type, ""
	}
	a.cfg.Note(fmt.Sprintf("CPU model %s was not checked: QEMU's %s target resolves "+
		"CPU model names through aliases that %s does not list", c.Name, p.Target,
		p.Describe()))
	return "", ""
}

func (a *annotator) noteDeprecatedCPU(name string) {
	if cpu := a.p.idx().cpus[name]; cpu != nil && cpu.Deprecated {
		a.cfg.Note(fmt.Sprintf("CPU model %s is deprecated in %s", name, a.p.Describe()))
	}
}

// device resolves a -device driver as QEMU's qdev_get_device_class does: the type of that
// name, or else the type of the alias. The catalog's device aliases are QEMU's alias
// table.
func (a *annotator) device(c *vm.Component) (string, string) {
	p := a.p
	typ := c.Name
	if p.Type(typ) == nil {
		if resolved, alias := a.cat.Resolve(vm.KindDevice, c.Name, p.Target,
			p.Release()); alias != nil {
			typ = resolved
		}
	}
	t := p.Type(typ)
	if t == nil || p.isA(typ, "device") == no {
		if typ != c.Name {
			return "", fmt.Sprintf("'%s' (alias '%s') is not a valid device model name",
				c.Name, typ)
		}
		return "", fmt.Sprintf("'%s' is not a valid device model name", c.Name)
	}
	if t.Abstract {
		return "", "Parameter 'driver' expects a non-abstract device type"
	}
	if p.isA(typ, "device") == unknown {
		a.unsure("are devices", c.Name)
	}
	return typ, ""
}

// object checks a -object type as QEMU's user_creatable_add_type does.
func (a *annotator) object(c *vm.Component) (string, string) {
	p := a.p
	t := p.Type(c.Name)
	if t == nil {
		return "", "invalid object type: " + c.Name
	}
	switch p.implements(c.Name, "user-creatable") {
	case no:
		return "", fmt.Sprintf("object type '%s' isn't supported by object-add", c.Name)
	case unknown:
		a.unsure("can be created with -object", c.Name)
	}
	if t.Abstract {
		return "", fmt.Sprintf("object type '%s' is abstract", c.Name)
	}
	return c.Name, ""
}

// chardev checks a chardev backend as QEMU's char_get_class does: its type is
// "chardev-" and the backend name. query-chardev-backends leaves out the internal
// backends that -chardev does not take, so it decides when the profile has it.
func (a *annotator) chardev(c *vm.Component) (string, string) {
	p := a.p
	typ := "chardev-" + c.Name
	problem := fmt.Sprintf("'%s' is not a valid char driver name", c.Name)
	if p.ChardevBackends != nil {
		if !p.idx().backends[c.Name] {
			return "", problem
		}
		return typ, ""
	}
	t := p.Type(typ)
	if t == nil || t.Abstract || p.isA(typ, "chardev") == no {
		return "", problem
	}
	if p.isA(typ, "chardev") == unknown {
		a.unsure("are chardev backends", c.Name)
	}
	return typ, ""
}
