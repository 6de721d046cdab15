package qom

import "strings"

// maxDepth bounds parent chains. QEMU 7.2's deepest chain has 8 types; the bound only
// stops a cycle in a damaged profile file.
const maxDepth = 64

// Parents returns the parent chain of the type named name, nearest first. When a parent
// is not in the profile (a type list without abstract types), the chain ends with that
// parent's name. It returns nil for a type the profile does not have.
func (p *Profile) Parents(name string) []string {
	t := p.Type(name)
	if t == nil {
		return nil
	}
	var chain []string
	for t != nil && t.Parent != "" && len(chain) < maxDepth {
		chain = append(chain, t.Parent)
		t = p.Type(t.Parent)
	}
	return chain
}

// membership is whether a type belongs to a class or implements an interface.
type membership int

const (
	no      membership = iota
	yes                // the chain or the interface list proves it
	unknown            // the chain stops at a parent the profile does not have
)

// isA reports whether the type named name is the class class or derives from it.
func (p *Profile) isA(name, class string) membership {
	if name == class {
		return yes
	}
	chain := p.Parents(name)
	for _, parent := range chain {
		if parent == class {
			return yes
		}
	}
	if n := len(chain); n > 0 && p.Type(chain[n-1]) == nil {
		return unknown
	}
	return no
}

// implements reports whether the type named name implements the QOM interface iface,
// from the replies of qom-list-types implements=.
func (p *Profile) implements(name, iface string) membership {
	set, ok := p.idx().interfaces[iface]
	if !ok {
		return unknown
	}
	if set[name] {
		return yes
	}
	return no
}

// cpuTypeSuffixes maps a target to the suffix its CPU model names take as QOM type names.
// It lists the targets whose class_by_name function is exactly "model name + suffix", in
// QEMU 7.2 target/i386/cpu.c, target/arm/cpu.c, target/riscv/cpu.c and
// target/s390x/cpu_models.c (X86_CPU_TYPE_SUFFIX, ARM_CPU_TYPE_SUFFIX,
// RISCV_CPU_TYPE_SUFFIX, S390_CPU_TYPE_SUFFIX). Other targets accept aliases or spellings
// that the type list does not show: ppc lowercases the name and looks it up in an alias
// table. Their CPU models are checked against query-cpu-definitions only.
var cpuTypeSuffixes = map[string]string{
	"x86_64":  "-x86_64-cpu",
	"i386":    "-i386-cpu",
	"aarch64": "-arm-cpu",
	"arm":     "-arm-cpu",
	"riscv32": "-riscv-cpu",
	"riscv64": "-riscv-cpu",
	"s390x":   "-s390x-cpu",
}

// cpuModel returns the CPU model name of a CPU type, or "" when the target's rule is not
// known or the type does not follow it.
func (p *Profile) cpuModel(typeName string) string {
	for i := range p.CPUs {
		if p.CPUs[i].Type == typeName {
			return p.CPUs[i].Name
		}
	}
	suffix, ok := cpuTypeSuffixes[p.Target]
	if !ok || !strings.HasSuffix(typeName, suffix) {
		return ""
	}
	return strings.TrimSuffix(typeName, suffix)
}
