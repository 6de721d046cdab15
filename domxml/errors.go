package domxml

import (
	"fmt"
	"strings"
)

// Error is a problem with one element or attribute of a domain XML. Path is the XML path
// (/domain/devices/disk[2]/target); Line is the line in the input, or 0 when unknown.
type Error struct {
	Path string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("domxml: ")
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found in one domain XML, in document order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "domxml: no errors"
	case 1:
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", l[0], len(l)-1)
}

// Err returns the list as an error, or nil when it is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}
