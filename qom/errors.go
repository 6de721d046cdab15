package qom

import (
	"fmt"
	"sort"
	"strings"

	"github.com/qscope/qscope/vm"
)

// Error is a component that the QEMU binary of a profile would reject when it starts, or
// a configuration the profile cannot check (another target or QEMU version).
type Error struct {
	Kind vm.Kind
	// Name is the component's name as written; empty for an error about the whole
	// configuration.
	Name string
	// Origin locates the component in the input; nil for an implied component.
	Origin *vm.Origin
	// ImpliedBy describes the option or machine that created an implied component.
	ImpliedBy string
	// Msg is QEMU's own error message where QEMU has one for the case.
	Msg string
	// Profile describes the binary, as [Profile.Describe] does.
	Profile string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("qom: ")
	switch {
	case e.Origin != nil:
		b.WriteString(describeOrigin(e.Origin))
		b.WriteString(": ")
	case e.Name != "":
		fmt.Fprintf(&b, "%s %s (%s): ", e.Kind, e.Name, e.ImpliedBy)
	}
	if e.Name != "" {
		fmt.Fprintf(&b, "%s would fail: ", e.Profile)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// describeOrigin returns the argv index, option and text of a command line origin, and
// the file line, XML path or QOM path that other front ends fill.
func describeOrigin(o *vm.Origin) string {
	var parts []string
	if o.Option != "" || o.Arg > 0 {
		// An origin in a domain XML carries the option libvirt writes but no argv index.
		var words []string
		if o.Arg > 0 {
			words = append(words, fmt.Sprintf("argv[%d]", o.Arg))
		}
		if o.Option != "" {
			words = append(words, o.Option)
		}
		if o.Text != "" {
			words = append(words, fmt.Sprintf("%q", o.Text))
		}
		parts = append(parts, strings.Join(words, " "))
	}
	for _, p := range []string{o.Path, o.QOMPath, o.Node} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) > 1 {
		return parts[0] + " (" + strings.Join(parts[1:], ", ") + ")"
	}
	return strings.Join(parts, "")
}

// arg returns the argv index used to sort errors; errors without an origin come first.
func (e *Error) arg() int {
	if e.Origin == nil {
		return -1
	}
	return e.Origin.Arg
}

// ErrorList is a list of errors sorted by argv index.
type ErrorList []*Error

func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "qom: no errors"
	case 1:
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", l[0], len(l)-1)
}

// Err returns the sorted list as an error, or nil when it is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	sort.SliceStable(l, func(i, j int) bool { return l[i].arg() < l[j].arg() })
	return l
}
