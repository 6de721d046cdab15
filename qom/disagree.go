package qom

import (
	"fmt"
	"strings"

	"github.com/qscope/qscope/catalog"
	"github.com/qscope/qscope/vm"
)

// disagreements notes every component whose security flag in the binary differs from its
// status in the catalog below the profile's layer. Either the binary declares it secure
// and the catalog does not, or the catalog classifies it secure and the binary does not.
func (a *annotator) disagreements() {
	lower := a.lowerCatalog()
	for i := range a.cfg.Components {
		c := &a.cfg.Components[i]
		if a.types[i] == "" || !a.classified(c.Kind, a.types[i]) {
			continue
		}
		name, _ := a.cat.Resolve(c.Kind, c.Name, a.p.Target, a.p.Release())
		e := lower.Lookup(catalog.Query{Kind: c.Kind, Name: name, Target: a.p.Target,
			Props: c.Props})
		if note := a.p.disagreement(c.Kind, name, a.types[i], e); note != "" {
			a.cfg.Note(note)
		}
	}
}

// classified reports whether the binary's security flag covers a component of kind with
// QOM type typ: the components [Profile.Layer] makes entries for.
func (a *annotator) classified(kind vm.Kind, typ string) bool {
	if kind == vm.KindMachine {
		return true
	}
	k, _ := a.p.componentName(typ)
	return k == kind
}

// disagreement returns the note for a component whose binary flag and catalog entry e
// disagree, or "".
func (p *Profile) disagreement(kind vm.Kind, name, typ string, e *catalog.Entry) string {
	catalogSecure := e != nil && e.Status == catalog.Secure
	binarySecure := p.secureFlag(kind, typ)
	switch {
	case binarySecure == catalogSecure:
		return ""
	case !binarySecure:
		return fmt.Sprintf("%s does not declare %s %s secure, but the catalog classifies "+
			"it secure (%s)", p.Describe(), kind, name, e.Where())
	case e == nil:
		return fmt.Sprintf("%s declares %s %s secure, but no catalog entry classifies it",
			p.Describe(), kind, name)
	}
	return fmt.Sprintf("%s declares %s %s secure, but the catalog classifies it %s (%s)",
		p.Describe(), kind, name, e.Status, e.Where())
}

// secureFlag returns the binary's secure flag for a component: query-machines' for a
// machine when the binary reports it there, else qom-list-types'.
func (p *Profile) secureFlag(kind vm.Kind, typ string) bool {
	if kind == vm.KindMachine {
		if m := p.Machine(strings.TrimSuffix(typ, "-machine")); m != nil && m.Secure != nil {
			return *m.Secure
		}
	}
	t := p.Type(typ)
	return t != nil && t.Secure
}

// lowerCatalog returns the layers of the annotator's catalog below the profile's layer,
// or all of them when the catalog does not have that layer.
func (a *annotator) lowerCatalog() *catalog.Catalog {
	layers := a.cat.Layers()
	for i, l := range layers {
		if l.Name == a.p.LayerName() {
			return catalog.New(layers[:i]...)
		}
	}
	return catalog.New(layers...)
}
