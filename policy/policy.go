// Package policy judges a [vm.Config] against a [catalog.Catalog] at a [Level]: it gives each
// component a status, a finding and the catalog entry that decided it, then a verdict and a
// triage scope for the whole configuration.
//
// The package does not depend on any input syntax: every front end produces a vm.Config,
// and every verdict comes from [Evaluate].
package policy

import (
	"fmt"
	"strings"

	"github.com/qscope/qscope/catalog"
	"github.com/qscope/qscope/vm"
)

// Level is the strictness of a judgement.
type Level string

// Levels, from the most permissive. QEMU's own -compat insecure-types= knob has accept, warn
// and reject; reject is require-secure here.
const (
	Accept           Level = "accept"
	Warn             Level = "warn"
	ProhibitInsecure Level = "prohibit-insecure"
	RequireSecure    Level = "require-secure"
)

// Levels lists the levels from the most permissive to the strictest.
var Levels = []Level{Accept, Warn, ProhibitInsecure, RequireSecure}

// ParseLevel returns the level named s; "reject" is an alias of require-secure.
func ParseLevel(s string) (Level, error) {
	if s == "reject" {
		return RequireSecure, nil
	}
	for _, l := range Levels {
		if Level(s) == l {
			return l, nil
		}
	}
	return "", fmt.Errorf("policy: invalid level %q: want accept, warn, prohibit-insecure, "+
		"require-secure or reject", s)
}

// Finding is the outcome for one component's status at a level.
type Finding string

// Findings.
const (
	OK       Finding = "ok"
	Warning  Finding = "warning"
	Rejected Finding = "rejected"
)

// FindingFor returns the finding for status at level l:
//
//	level               secure  undecided  insecure
//	accept              ok      ok         ok
//	warn                ok      warning    warning
//	prohibit-insecure   ok      warning    rejected
//	require-secure      ok      rejected   rejected
func FindingFor(l Level, s catalog.Status) Finding {
	if s == catalog.Secure || l == Accept {
		return OK
	}
	switch l {
	case Warn:
		return Warning
	case ProhibitInsecure:
		if s == catalog.Insecure {
			return Rejected
		}
		return Warning
	}
	return Rejected
}

// Verdict is the outcome for a whole configuration.
type Verdict string

// Verdicts.
const (
	Allowed    Verdict = "allowed"
	RejectedVM Verdict = "rejected"
)

// Scope is the security-report triage outcome: a report whose configuration has an insecure
// component is out of scope for CVE handling, one made only of secure components is in
// scope, and anything else needs case-by-case analysis.
type Scope string

// Scopes.
const (
	InScope    Scope = "in"
	OutOfScope Scope = "out"
	CaseByCase Scope = "case-by-case"
)

// Rule names the step that decided a component's status.
type Rule string

// Rules.
const (
	// RuleEntry: a catalog entry matched the component.
	RuleEntry Rule = "catalog entry"
	// RuleNoEntry: no entry matched, so the component is undecided.
	RuleNoEntry Rule = "no catalog entry"
	// RuleBoard: a device the machine creates by itself takes the machine's status unless
	// an entry of its own declares it secure or insecure, because QEMU's security policy
	// covers a listed machine type as a whole. An undecided entry records that no source
	// decides, so it does not override the machine.
	RuleBoard Rule = "board device takes the machine's status"
	// RuleCPU: a CPU model that no entry declares secure or insecure takes the status of
	// the least secure accelerator QEMU may use. Under KVM or HVF the CPU model only
	// selects which host CPU features the accelerator exposes. QEMU's
	// docs/system/security.rst scopes the virtualization use case by accelerator and
	// machine type, not by CPU model, and under TCG the accelerator is insecure anyway.
	RuleCPU Rule = "CPU model takes the accelerator's status"
	// RuleTransport: a chardev whose only users are monitors, and that no entry declares
	// secure or insecure, takes the monitors' status, because security.rst judges a monitor
	// together with the transport it is exposed on.
	RuleTransport Rule = "monitor transport takes the monitor's status"
)

// Judgement is the result for one component.
type Judgement struct {
	Component vm.Component
	// Type is the resolved QEMU name (an alias such as lsi becomes lsi53c895a).
	Type string
	// Alias is the alias that resolved the name, or nil.
	Alias   *catalog.Alias
	Status  catalog.Status
	Finding Finding
	Rule    Rule
	// Entry is the catalog entry that decided the status: the component's own, or for
	// RuleBoard the machine's. Nil for RuleNoEntry.
	Entry *catalog.Entry
}

// Reason returns the one-line reason for the status.
func (j *Judgement) Reason() string {
	switch {
	case j.Entry == nil:
		return "no catalog entry classifies this " + string(j.Component.Kind)
	case j.Rule == RuleBoard:
		return "created by the machine itself; takes the machine's status: " + j.Entry.Reason
	case j.Rule == RuleCPU:
		return "a CPU model takes the accelerator's status: " + j.Entry.Reason
	case j.Rule == RuleTransport:
		return "carries only monitors and takes their status: " + j.Entry.Reason
	}
	return j.Entry.Reason
}

// Source returns the source of the deciding entry, or "" when there is none.
func (j *Judgement) Source() string {
	if j.Entry == nil {
		return ""
	}
	return j.Entry.Source
}

// Result is the judgement of one configuration.
type Result struct {
	Config     *vm.Config
	Level      Level
	Verdict    Verdict
	Scope      Scope
	Judgements []Judgement
	// ScopeDecidedBy lists the indexes into Judgements of the components that decided the
	// scope: the insecure ones for out, the undecided ones for case-by-case, none for in.
	ScopeDecidedBy []int
	// QEMU describes the check that QEMU 11.2 or later would itself enforce.
	QEMU QEMUCompat
}

// QEMUCompat describes QEMU's own check, -compat insecure-types=accept|warn|reject (QEMU 11.2
// and later). QEMU checks only the accelerator, the machine type and devices added with
// -device, and treats every type that is not declared secure alike.
type QEMUCompat struct {
	// Policy is the insecure-types value on the command line, or "" when none was given
	// (QEMU's default is accept).
	Policy string
	// Checked are the indexes into Judgements of the components QEMU would check.
	Checked []int
	// NotSecure are the indexes of checked components that are not secure in the catalog:
	// QEMU would reject them under reject and warn about them under warn.
	NotSecure []int
}

// Evaluate judges cfg against cat at level.
func Evaluate(cfg *vm.Config, cat *catalog.Catalog, level Level) *Result {
	r := &Result{Config: cfg, Level: level, Verdict: Allowed, Scope: InScope}
	r.Judgements = make([]Judgement, len(cfg.Components))
	machine := -1
	for i := range cfg.Components {
		r.Judgements[i] = judge(cfg, cat, &cfg.Components[i])
		if cfg.Components[i].Kind == vm.KindMachine && machine < 0 {
			machine = i
		}
	}
	var accels []int
	for i, j := range r.Judgements {
		if j.Component.Kind == vm.KindAccel {
			accels = append(accels, i)
		}
	}
	for i := range r.Judgements {
		j := &r.Judgements[i]
		switch {
		case j.Status != catalog.Undecided:
		case j.Component.Board && machine >= 0:
			inherit(j, r.Judgements, []int{machine}, RuleBoard)
		case j.Component.Kind == vm.KindCPU:
			inherit(j, r.Judgements, accels, RuleCPU)
		case j.Component.Kind == vm.KindChardev && len(j.Component.Carries) > 0:
			inherit(j, r.Judgements, j.Component.Carries, RuleTransport)
		}
	}
	for i := range r.Judgements {
		j := &r.Judgements[i]
		j.Finding = FindingFor(level, j.Status)
		if j.Finding == Rejected {
			r.Verdict = RejectedVM
		}
	}
	r.Scope, r.ScopeDecidedBy = scope(r.Judgements)
	r.QEMU = qemuCompat(cfg, r.Judgements)
	return r
}

// inherit gives j the least secure status among the judgements at from, when every one of
// them was decided by a catalog entry of its own, with that entry and rule.
func inherit(j *Judgement, all []Judgement, from []int, rule Rule) {
	var worst *Judgement
	for _, i := range from {
		if i < 0 || i >= len(all) || all[i].Rule != RuleEntry {
			return
		}
		if worst == nil || rank(all[i].Status) > rank(worst.Status) {
			worst = &all[i]
		}
	}
	if worst != nil {
		j.Status, j.Rule, j.Entry = worst.Status, rule, worst.Entry
	}
}

// rank orders statuses from the most to the least secure.
func rank(s catalog.Status) int {
	switch s {
	case catalog.Secure:
		return 0
	case catalog.Undecided:
		return 1
	}
	return 2
}

func judge(cfg *vm.Config, cat *catalog.Catalog, c *vm.Component) Judgement {
	typ, alias := cat.Resolve(c.Kind, c.Name, cfg.Target, cfg.QEMUVersion)
	j := Judgement{Component: *c, Type: typ, Alias: alias, Status: catalog.Undecided,
		Rule: RuleNoEntry}
	e := cat.Lookup(catalog.Query{Kind: c.Kind, Name: typ, Target: cfg.Target, Props: c.Props})
	if e != nil {
		j.Status, j.Rule, j.Entry = e.Status, RuleEntry, e
	}
	return j
}

func scope(js []Judgement) (Scope, []int) {
	var insecure, undecided []int
	for i, j := range js {
		switch j.Status {
		case catalog.Insecure:
			insecure = append(insecure, i)
		case catalog.Undecided:
			undecided = append(undecided, i)
		}
	}
	switch {
	case len(insecure) > 0:
		return OutOfScope, insecure
	case len(undecided) > 0:
		return CaseByCase, undecided
	}
	return InScope, nil
}

func qemuCompat(cfg *vm.Config, js []Judgement) QEMUCompat {
	q := QEMUCompat{Policy: cfg.CompatInsecureTypes}
	for i, j := range js {
		c := j.Component
		checked := c.Kind == vm.KindMachine || c.Kind == vm.KindAccel ||
			(c.Kind == vm.KindDevice && c.Origin != nil && isDeviceOption(c.Origin.Option))
		if !checked {
			continue
		}
		q.Checked = append(q.Checked, i)
		if j.Status != catalog.Secure {
			q.NotSecure = append(q.NotSecure, i)
		}
	}
	return q
}

// isDeviceOption reports whether an origin is an explicit device addition that QEMU's
// insecure-types check covers: -device on the command line, or device_add over a monitor.
func isDeviceOption(option string) bool {
	return option == "-device" || strings.HasSuffix(option, "device_add")
}
