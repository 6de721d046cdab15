// Package report turns a [policy.Result] into qscope's versioned JSON report and its text
// form.
//
// The JSON report is an interface for other programs: fields are only ever added, and the
// meaning of an existing field never changes within a [SchemaVersion].
package report

import (
	"encoding/json"
	"io"

	"github.com/qscope/qscope/policy"
	"github.com/qscope/qscope/vm"
)

// SchemaVersion is the version of the JSON report layout written by this package.
const SchemaVersion = 1

// Report is the JSON report.
type Report struct {
	Schema      int         `json:"schema"`
	Level       string      `json:"level"`
	Verdict     string      `json:"verdict"`
	Scope       string      `json:"scope"`
	Target      string      `json:"target,omitempty"`
	Binary      string      `json:"binary,omitempty"`
	QEMUVersion string      `json:"qemu_version,omitempty"`
	Components  []Component `json:"components"`
	// ScopeDecidedBy are indexes into Components: the insecure components when the scope is
	// out, the undecided ones when it is case-by-case, empty when it is in.
	ScopeDecidedBy []int      `json:"scope_decided_by"`
	Summary        Summary    `json:"summary"`
	QEMUCompat     QEMUCompat `json:"qemu_compat"`
	Notes          []string   `json:"notes"`
}

// Component is one judged component.
type Component struct {
	Kind    string `json:"kind"`
	Type    string `json:"type"`
	Status  string `json:"status"`
	Finding string `json:"finding"`
	// Origin is the place in the input where the component was written, or null for an
	// implied component.
	Origin *Origin `json:"origin"`
	// ImpliedBy is the option or machine that created an implied component, or null when
	// Origin is set.
	ImpliedBy *string `json:"implied_by"`
	Reason    string  `json:"reason"`
	Source    string  `json:"source"`
	// Name is the spelling in the input when it differs from Type (an alias).
	Name  string            `json:"name,omitempty"`
	Rule  string            `json:"rule"`
	Entry *EntryRef         `json:"entry"`
	Alias *EntryRef         `json:"alias,omitempty"`
	Board bool              `json:"board,omitempty"`
	Props map[string]string `json:"props,omitempty"`
	// Parents is the QOM parent chain of Type, nearest first, when the QEMU binary's type
	// list is known.
	Parents []string `json:"parents,omitempty"`
}

// Origin locates a component in the input.
type Origin struct {
	Arg     int    `json:"arg,omitempty"`
	Option  string `json:"option,omitempty"`
	Text    string `json:"text,omitempty"`
	Path    string `json:"path,omitempty"`
	QOMPath string `json:"qom_path,omitempty"`
	Node    string `json:"node,omitempty"`
}

// EntryRef names the catalog entry or alias that decided: its layer, and its file and line
// when it was read from a file.
type EntryRef struct {
	Layer string `json:"layer"`
	File  string `json:"file,omitempty"`
	Line  int    `json:"line,omitempty"`
	Name  string `json:"name"`
}

// Summary counts components by status and finding.
type Summary struct {
	Secure    int `json:"secure"`
	Insecure  int `json:"insecure"`
	Undecided int `json:"undecided"`
	Warnings  int `json:"warnings"`
	Rejected  int `json:"rejected"`
}

// QEMUCompat is the verdict QEMU 11.2 or later would enforce itself with
// -compat insecure-types=, which checks only the accelerator, the machine and -device
// devices.
type QEMUCompat struct {
	// InsecureTypes is the value given on the command line, or "" when none was.
	InsecureTypes string `json:"insecure_types"`
	// Checked are indexes into Components of what QEMU checks.
	Checked []int `json:"checked"`
	// NotSecure are the checked components that QEMU would reject under reject and warn about
	// under warn, because they are not declared secure.
	NotSecure []int `json:"not_secure"`
	// WouldReject is true when InsecureTypes is reject and NotSecure is not empty.
	WouldReject bool `json:"would_reject"`
}

// New builds the report for r.
func New(r *policy.Result) *Report {
	rep := &Report{
		Schema:         SchemaVersion,
		Level:          string(r.Level),
		Verdict:        string(r.Verdict),
		Scope:          string(r.Scope),
		Target:         r.Config.Target,
		Binary:         r.Config.Binary,
		QEMUVersion:    r.Config.QEMUVersion,
		Components:     make([]Component, len(r.Judgements)),
		ScopeDecidedBy: nonNil(r.ScopeDecidedBy),
		Notes:          append([]string{}, r.Config.Notes...),
		QEMUCompat: QEMUCompat{
			InsecureTypes: r.QEMU.Policy,
			Checked:       nonNil(r.QEMU.Checked),
			NotSecure:     nonNil(r.QEMU.NotSecure),
			WouldReject:   r.QEMU.Policy == "reject" && len(r.QEMU.NotSecure) > 0,
		},
	}
	for i := range r.Judgements {
		rep.Components[i] = component(&r.Judgements[i])
		rep.Summary.add(&rep.Components[i])
	}
	return rep
}

func component(j *policy.Judgement) Component {
	c := j.Component
	out := Component{
		Kind:    string(c.Kind),
		Type:    j.Type,
		Status:  string(j.Status),
		Finding: string(j.Finding),
		Reason:  j.Reason(),
		Source:  j.Source(),
		Rule:    string(j.Rule),
		Board:   c.Board,
		Props:   c.Props,
		Parents: c.Parents,
	}
	if c.Name != j.Type {
		out.Name = c.Name
	}
	if c.Origin != nil {
		out.Origin = origin(c.Origin)
	} else {
		implied := c.ImpliedBy
		out.ImpliedBy = &implied
	}
	if e := j.Entry; e != nil {
		out.Entry = &EntryRef{Layer: e.Layer, File: e.File, Line: e.Line, Name: e.Name}
	}
	if a := j.Alias; a != nil {
		out.Alias = &EntryRef{Layer: a.Layer, File: a.File, Line: a.Line, Name: a.Alias}
	}
	return out
}

func origin(o *vm.Origin) *Origin {
	return &Origin{Arg: o.Arg, Option: o.Option, Text: o.Text, Path: o.Path,
		QOMPath: o.QOMPath, Node: o.Node}
}

func (s *Summary) add(c *Component) {
	switch c.Status {
	case "secure":
		s.Secure++
	case "insecure":
		s.Insecure++
	default:
		s.Undecided++
	}
	switch c.Finding {
	case string(policy.Warning):
		s.Warnings++
	case string(policy.Rejected):
		s.Rejected++
	}
}

func nonNil(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}

// WriteJSON writes rep as one line of JSON followed by a newline. The report is for
// programs; indenting it took a third of a check's time (pipe it through jq to read it).
func WriteJSON(w io.Writer, rep *Report) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(rep)
}
