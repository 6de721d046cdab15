package qom

import (
	"fmt"
	"path"
	"strings"

	"github.com/qscope/qscope/catalog"
	"github.com/qscope/qscope/vm"
)

// LayerName returns the name of the profile's catalog layer: "qemu-binary:" and the
// binary's path, or "qemu-profile:" and the first source for a profile made from files.
func (p *Profile) LayerName() string {
	if p.Binary != "" {
		return "qemu-binary:" + p.Binary
	}
	if len(p.Sources) > 0 {
		return "qemu-profile:" + p.Sources[0]
	}
	return "qemu-profile:QEMU " + p.Version + " " + p.Target
}

// Layer returns what the binary reports as a catalog layer, to be pushed above the
// embedded default and below user catalog files. lower is the catalog below the layer.
//
// The layer always has the machine aliases of query-machines (q35 is pc-q35-7.2 on QEMU
// 7.2), limited to the profile's target. When the binary reports security status (QEMU
// 11.2 and later) it also has:
//
//   - a secure entry for every machine, accelerator, CPU model, device, -object type and
//     chardev backend the binary declares secure;
//   - for every such component that the binary does not declare secure while an entry of
//     lower declares it secure: an undecided entry with that entry's conditions. Copies
//     of lower's insecure and undecided entries for the component follow, so that they
//     keep deciding where their conditions are more specific.
//
// QEMU's secure flag has two states: declared secure, or not. "Not" covers both declared
// insecure and never reviewed, and QEMU's -compat insecure-types=reject rejects both. So
// the layer never makes a component insecure: it leaves lower's insecure and undecided
// entries in force and only withdraws the secure entries that the binary does not back.
func (p *Profile) Layer(lower *catalog.Catalog) *catalog.Layer {
	l := &catalog.Layer{Name: p.LayerName()}
	l.Aliases = p.machineAliases(l.Name)
	if !p.reportsSecurity() {
		return l
	}
	below := indexEntries(lower, p.Target)
	seen := map[string]bool{}
	add := func(e catalog.Entry) {
		key := fmt.Sprintf("%s\x00%s\x00%v", e.Kind, e.Name, conditionTexts(e.When))
		if !seen[key] {
			seen[key] = true
			l.Entries = append(l.Entries, e)
		}
	}
	for _, c := range p.components() {
		if c.secure {
			add(p.entry(l.Name, c, catalog.Secure, nil))
			continue
		}
		matches := below.matching(c.kind, c.name)
		var notSecure []catalog.Entry
		for _, e := range matches {
			if e.Status == catalog.Secure {
				add(p.entry(l.Name, c, catalog.Undecided, e.When))
			} else {
				notSecure = append(notSecure, *e)
			}
		}
		if len(notSecure) < len(matches) {
			for _, e := range notSecure {
				add(e)
			}
		}
	}
	return l
}

// reportsSecurity reports whether the binary states security status for types or
// machines.
func (p *Profile) reportsSecurity() bool {
	if p.SecureReported {
		return true
	}
	for _, m := range p.Machines {
		if m.Secure != nil {
			return true
		}
	}
	return false
}

func (p *Profile) machineAliases(layer string) []catalog.Alias {
	var out []catalog.Alias
	for _, m := range p.Machines {
		if m.Alias == "" {
			continue
		}
		out = append(out, catalog.Alias{Kind: vm.KindMachine, Alias: m.Alias, Type: m.Name,
			Targets: []string{p.Target}, Source: "query-machines of " + p.Describe(),
			Layer: layer})
	}
	return out
}

// component is a type of the profile as a catalog entry names it.
type component struct {
	kind   vm.Kind
	name   string
	typ    string // the QOM type name
	secure bool
}

// components returns the concrete types of the profile that are components, with the
// kind and name a catalog entry uses for them.
func (p *Profile) components() []component {
	var out []component
	for _, m := range p.Machines {
		secure := false
		if m.Secure != nil {
			secure = *m.Secure
		} else if t := p.Type(m.Name + "-machine"); t != nil {
			secure = t.Secure
		}
		out = append(out, component{vm.KindMachine, m.Name, m.Name + "-machine", secure})
	}
	for i := range p.Types {
		t := &p.Types[i]
		if t.Abstract || p.isA(t.Name, "machine") != no {
			continue
		}
		if kind, name := p.componentName(t.Name); kind != "" {
			out = append(out, component{kind, name, t.Name, t.Secure})
		}
	}
	return out
}

// componentName returns the kind and catalog name of a concrete type, or "" for a type
// that qscope does not classify (a bus, an interface, a memory region).
func (p *Profile) componentName(typ string) (vm.Kind, string) {
	switch {
	case p.isA(typ, "accel") == yes:
		return vm.KindAccel, typ
	case p.isA(typ, "cpu") == yes:
		if model := p.cpuModel(typ); model != "" {
			return vm.KindCPU, model
		}
		return "", ""
	case p.isA(typ, "chardev") == yes:
		return vm.KindChardev, strings.TrimPrefix(typ, "chardev-")
	case p.isA(typ, "device") == yes:
		return vm.KindDevice, typ
	case p.implements(typ, "user-creatable") == yes:
		return vm.KindObject, typ
	}
	return "", ""
}

func (p *Profile) entry(layer string, c component, status catalog.Status,
	when []catalog.Condition) catalog.Entry {
	e := catalog.Entry{Kind: c.kind, Name: c.name, Targets: []string{p.Target},
		Status: status, When: when, Layer: layer,
		Source: "qom-list-types and query-machines of " + p.Describe()}
	if status == catalog.Secure {
		e.Reason = fmt.Sprintf("QEMU %s declares type %s secure", p.Version, c.typ)
	} else {
		e.Reason = fmt.Sprintf("QEMU %s does not declare type %s secure, so its "+
			"-compat insecure-types=reject rejects it; no source decides whether it is "+
			"insecure", p.Version, c.typ)
	}
	return e
}

// entryIndex holds the entries of a catalog for one target, by kind.
type entryIndex struct {
	exact map[vm.Kind]map[string][]*catalog.Entry
	globs map[vm.Kind][]*catalog.Entry
}

func indexEntries(c *catalog.Catalog, target string) *entryIndex {
	x := &entryIndex{exact: map[vm.Kind]map[string][]*catalog.Entry{},
		globs: map[vm.Kind][]*catalog.Entry{}}
	if c == nil {
		return x
	}
	entries := c.Entries()
	for i := range entries {
		e := &entries[i]
		if !catalog.TargetMatches(e.Targets, target) {
			continue
		}
		if strings.ContainsAny(e.Name, "*?[") {
			x.globs[e.Kind] = append(x.globs[e.Kind], e)
			continue
		}
		if x.exact[e.Kind] == nil {
			x.exact[e.Kind] = map[string][]*catalog.Entry{}
		}
		x.exact[e.Kind][e.Name] = append(x.exact[e.Kind][e.Name], e)
	}
	return x
}

// matching returns the entries whose name matches name, exact names first.
func (x *entryIndex) matching(kind vm.Kind, name string) []*catalog.Entry {
	out := append([]*catalog.Entry(nil), x.exact[kind][name]...)
	for _, e := range x.globs[kind] {
		if ok, _ := path.Match(e.Name, name); ok {
			out = append(out, e)
		}
	}
	return out
}

func conditionTexts(conds []catalog.Condition) []string {
	out := make([]string, len(conds))
	for i, c := range conds {
		out[i] = c.Text
	}
	return out
}
