package qemuargs

import (
	"fmt"
	"sort"
	"strings"
)

// Error is a problem with one command-line argument. Arg is the argv index of the option
// word (the binary is argv[0]); Offset is a byte offset into Text, or -1.
type Error struct {
	Arg    int
	Option string
	Text   string
	Offset int
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "qemuargs: argv[%d]", e.Arg)
	if e.Option != "" {
		fmt.Fprintf(&b, " %s", e.Option)
	}
	if e.Text != "" {
		fmt.Fprintf(&b, " %q", e.Text)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is a list of errors sorted by argv index.
type ErrorList []*Error

func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "qemuargs: no errors"
	case 1:
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", l[0], len(l)-1)
}

// Sort orders the list by argv index, keeping the order of errors at one index.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool { return l[i].Arg < l[j].Arg })
}

// Err returns the list as an error, or nil when it is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	l.Sort()
	return l
}
