package domxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// qemuNamespace is the namespace of libvirt's QEMU-specific elements (qemu:commandline).
const qemuNamespace = "http://libvirt.org/schemas/domain/qemu/1.0"

// node is one element of the input: its line and attributes as written.
type node struct {
	line  int
	attrs map[string]string
	// children lists the local names of the element's child elements in order.
	children []string
}

// xmlIndex maps XML paths (/domain/devices/disk[2]) to the elements of the input. Paths
// index every element among its siblings of the same name, counting from 1.
type xmlIndex struct {
	nodes map[string]*node
	order []string
}

// buildIndex reads data as XML and indexes its elements. It returns an *Error with the
// line of the first syntax error.
func buildIndex(data []byte) (*xmlIndex, error) {
	idx := &xmlIndex{nodes: map[string]*node{}}
	dec := xml.NewDecoder(bytes.NewReader(data))
	type frame struct {
		path   string
		counts map[string]int
	}
	stack := []frame{{counts: map[string]int{}}}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, syntaxError(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			top := &stack[len(stack)-1]
			name := elementName(t.Name)
			line, _ := dec.InputPos()
			if len(stack) == 1 && len(idx.order) > 0 {
				return nil, &Error{Line: line, Msg: fmt.Sprintf("a second root element "+
					"<%s> after <domain>: a domain XML has one root", name)}
			}
			if len(stack) > maxDepth {
				return nil, &Error{Line: line, Msg: fmt.Sprintf("elements nested deeper "+
					"than %d levels, which no element of a libvirt domain is", maxDepth)}
			}
			if err := checkNamespace(top.path, t.Name); err != nil {
				err.Line = line
				return nil, err
			}
			top.counts[name]++
			path := top.path + "/" + name + "[" + strconv.Itoa(top.counts[name]) + "]"
			n := &node{line: line, attrs: map[string]string{}}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
					continue
				}
				if err := attrError(a, n.attrs); err != "" {
					return nil, &Error{Path: shortPath(path), Line: line, Msg: err}
				}
				n.attrs[a.Name.Local] = a.Value
			}
			if parent := idx.nodes[top.path]; parent != nil {
				parent.children = append(parent.children, name)
			}
			idx.nodes[path] = n
			idx.order = append(idx.order, path)
			if opaque(path) {
				// The content of <metadata> makes no QEMU component, and may be large
				// and deep: it is read, not indexed.
				if err := dec.Skip(); err != nil {
					return nil, syntaxError(err)
				}
				continue
			}
			stack = append(stack, frame{path: path, counts: map[string]int{}})
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 1 && len(bytes.TrimSpace(t)) > 0 {
				line, _ := dec.InputPos()
				return nil, &Error{Line: line, Msg: "text outside the root element"}
			}
		case xml.Directive:
			// A DTD can give attributes default values that libvirt's parser applies
			// and Go's does not.
			line, _ := dec.InputPos()
			return nil, &Error{Line: line, Msg: "a <!DOCTYPE> or other declaration: " +
				"domain XML has none"}
		}
	}
	if _, ok := idx.nodes["/domain[1]"]; !ok {
		return nil, &Error{Msg: "no <domain> root element"}
	}
	return idx, nil
}

// checkNamespace rejects an element that libvirt skips but Go's decoder reads. libvirt
// reads elements without a namespace, and QEMU-namespace elements inside <qemu:*>
// children of <domain>. Go's decoder matches local names in any namespace, so a
// <model xmlns='urn:x'> would replace libvirt's <model>.
func checkNamespace(parent string, n xml.Name) *Error {
	inQEMU := strings.Contains(parent, "/qemu:")
	switch {
	case n.Space == "" && !inQEMU, n.Space == qemuNamespace && inQEMU:
		return nil
	case n.Space == qemuNamespace && parent == "/domain[1]":
		return nil
	case n.Space == "" && parent == "":
		return nil
	}
	where := "outside <metadata>"
	if inQEMU {
		where = "inside a <qemu:*> element, whose children are in the QEMU namespace"
	}
	return &Error{Path: shortPath(parent), Msg: fmt.Sprintf("element <%s> in namespace "+
		"%q %s: libvirt ignores it where qscope's decoder would read it as <%s>; remove it",
		n.Local, n.Space, where, n.Local)}
}

// attrError returns the reason libvirt would not read attribute a as qscope does, or "".
// Go's decoder takes a namespaced attribute for the plain one, and a repeated attribute
// makes the document ill-formed.
func attrError(a xml.Attr, seen map[string]string) string {
	if a.Name.Space != "" {
		return fmt.Sprintf("attribute %s in namespace %q: libvirt ignores it where "+
			"qscope's decoder would read it as %s; remove it", a.Name.Local, a.Name.Space,
			a.Name.Local)
	}
	if _, ok := seen[a.Name.Local]; ok {
		return fmt.Sprintf("attribute %s written twice", a.Name.Local)
	}
	return ""
}

// maxDepth bounds the nesting of elements outside <metadata>. It is an estimate with a
// wide margin: the deepest elements of libvirt's domain schema are about ten levels down.
const maxDepth = 32

// opaque reports whether the content of the element at path is left out of the index:
// the domain's <metadata>, whose elements belong to management applications.
func opaque(path string) bool {
	return strings.HasPrefix(path, "/domain[1]/metadata[")
}

// elementName returns the name of an element as libvirt's documentation writes it:
// qemu:commandline for the QEMU namespace, {namespace}name for other namespaces.
func elementName(n xml.Name) string {
	switch n.Space {
	case "":
		return n.Local
	case qemuNamespace:
		return "qemu:" + n.Local
	}
	return "{" + n.Space + "}" + n.Local
}

func syntaxError(err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return &Error{Line: se.Line, Msg: "invalid XML: " + se.Msg}
	}
	return &Error{Msg: "invalid XML: " + err.Error()}
}

// canonical turns a path as the generator writes it (/domain/devices/disk[2]/target) into
// the index form, in which every step has an index.
func canonical(path string) string {
	var b strings.Builder
	for _, step := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		b.WriteString("/")
		b.WriteString(step)
		if !strings.HasSuffix(step, "]") {
			b.WriteString("[1]")
		}
	}
	return b.String()
}

// lookup returns the element at path, or nil.
func (idx *xmlIndex) lookup(path string) *node {
	if idx == nil {
		return nil
	}
	return idx.nodes[canonical(path)]
}

// line returns the line of the element at path, or of its nearest ancestor in the input.
func (idx *xmlIndex) line(path string) int {
	for p := path; p != ""; p = p[:strings.LastIndex(p, "/")] {
		if n := idx.lookup(p); n != nil {
			return n.line
		}
	}
	return 0
}

// attr returns the attribute of the element at path as written.
func (idx *xmlIndex) attr(path, name string) string {
	if n := idx.lookup(path); n != nil {
		return n.attrs[name]
	}
	return ""
}

// locateValue finds the first attribute whose value is value, for errors that name only
// the value (libvirtxml's number parsing). It returns the element path (in the short form
// without [1]), the attribute name and the line.
func (idx *xmlIndex) locateValue(value string) (path, attr string, line int) {
	for _, p := range idx.order {
		n := idx.nodes[p]
		for k, v := range n.attrs {
			if v == value {
				return shortPath(p), k, n.line
			}
		}
	}
	return "", "", 0
}

// shortPath drops the [1] of steps that are the first of their name, except under
// /domain/devices, where every device keeps its index.
func shortPath(p string) string {
	steps := strings.Split(strings.TrimPrefix(p, "/"), "/")
	device := len(steps) > 2 && steps[1] == "devices[1]"
	for i, s := range steps {
		if strings.HasSuffix(s, "[1]") && !(i == 2 && device) {
			steps[i] = strings.TrimSuffix(s, "[1]")
		}
	}
	return "/" + strings.Join(steps, "/")
}

// unmarshalError turns an error of libvirtxml's decoding into an *Error that names the
// attribute and line where possible.
func unmarshalError(idx *xmlIndex, err error) error {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		if path, attr, line := idx.locateValue(ne.Num); path != "" {
			return &Error{Path: path, Line: line, Msg: fmt.Sprintf("invalid value %q for "+
				"attribute %s: %s", ne.Num, attr, numErrorText(ne))}
		}
		return &Error{Msg: fmt.Sprintf("invalid number %q: %s", ne.Num, numErrorText(ne))}
	}
	return &Error{Msg: "invalid domain XML: " + err.Error()}
}

func numErrorText(ne *strconv.NumError) string {
	switch {
	case strings.HasPrefix(ne.Func, "ParseUint") && strings.HasPrefix(ne.Num, "-"):
		return "expected a non-negative integer"
	case errors.Is(ne.Err, strconv.ErrRange):
		return "the number is out of range"
	}
	return "expected a number"
}
