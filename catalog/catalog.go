// Package catalog holds qscope's classification of QEMU components: for each kind and name
// (exact or glob), a status with its reason and source, optionally conditioned on the
// component's properties.
//
// A [Catalog] is a stack of layers. The embedded default layer comes first, then what a QEMU
// binary reports about itself, then user files in command-line order. When several entries
// match a component, the highest layer that has a match decides. Within that layer the most
// specific entry wins: an exact name beats a glob, and more conditions beat fewer. Then a
// glob with more literal characters beats a looser one, an entry limited to targets beats
// one for all targets, and a later entry beats an earlier one. No matching entry means the
// component is undecided.
package catalog

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/qscope/qscope/vm"
)

// Status is a component's security classification.
type Status string

// Statuses. Undecided is also the status of a component that no entry matches.
const (
	Secure    Status = "secure"
	Insecure  Status = "insecure"
	Undecided Status = "undecided"
)

// ParseStatus returns the Status named s.
func ParseStatus(s string) (Status, error) {
	switch Status(s) {
	case Secure, Insecure, Undecided:
		return Status(s), nil
	}
	return "", fmt.Errorf("invalid status %q: want secure, insecure or undecided", s)
}

// Entry is one classification: components of Kind whose name matches Name, on one of
// Targets, whose properties satisfy every condition in When, have Status.
type Entry struct {
	Kind    vm.Kind
	Name    string
	Targets []string
	Status  Status
	Reason  string
	Source  string
	When    []Condition

	// Layer names the layer the entry belongs to; File and Line locate it in that layer's
	// file (Line is 0 for entries that were not read from a file).
	Layer string
	File  string
	Line  int
}

// isGlob reports whether an entry name is a glob pattern.
func isGlob(name string) bool { return strings.ContainsAny(name, "*?[") }

// Where returns "file:line" for entries read from a file, or the layer name otherwise.
func (e *Entry) Where() string {
	if e.File != "" && e.Line > 0 {
		return fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	return e.Layer
}

// Alias maps another spelling of a name to the QEMU type name it stands for. For machine
// families the type may be a glob such as "pc-q35-*", which stands for the newest version.
type Alias struct {
	Kind    vm.Kind
	Alias   string
	Type    string
	Targets []string
	Source  string

	Layer string
	File  string
	Line  int
}

// Layer is one set of entries and aliases, such as the embedded default or a user file.
// A layer must not be changed after it is added to a [Catalog].
type Layer struct {
	Name    string
	Entries []Entry
	Aliases []Alias

	// exact lists the positions in Entries of the entries without glob characters,
	// sorted by kind and name for binary search. globs lists the other positions, sorted
	// by kind and in file order within a kind. The embedded default layer comes with both
	// precomputed, so a qscope process neither builds them nor writes to its entries.
	exact, globs []int32
	indexed      bool
}

// index builds the lookup tables once; later calls do nothing.
func (l *Layer) index() {
	if l.indexed {
		return
	}
	l.indexed = true
	l.exact, l.globs = IndexEntries(l.Entries)
}

// IndexEntries returns the lookup tables of a layer with these entries, as [Layer] keeps
// them: the positions of exact names sorted by kind and name, and the positions of globs
// sorted by kind in file order.
func IndexEntries(entries []Entry) (exact, globs []int32) {
	for i := range entries {
		if isGlob(entries[i].Name) {
			globs = append(globs, int32(i))
		} else {
			exact = append(exact, int32(i))
		}
	}
	slices.SortStableFunc(exact, func(a, b int32) int {
		ea, eb := &entries[a], &entries[b]
		if c := strings.Compare(string(ea.Kind), string(eb.Kind)); c != 0 {
			return c
		}
		return strings.Compare(ea.Name, eb.Name)
	})
	slices.SortStableFunc(globs, func(a, b int32) int {
		return strings.Compare(string(entries[a].Kind), string(entries[b].Kind))
	})
	return exact, globs
}

// Catalog is a stack of layers; later layers override earlier ones.
type Catalog struct {
	layers []*Layer
}

// New returns a catalog made of layers, the first being the lowest.
func New(layers ...*Layer) *Catalog {
	c := &Catalog{}
	for _, l := range layers {
		c.Push(l)
	}
	return c
}

// Push adds l on top of the catalog.
func (c *Catalog) Push(l *Layer) {
	l.index()
	c.layers = append(c.layers, l)
}

// Layers returns the layers, lowest first.
func (c *Catalog) Layers() []*Layer {
	return c.layers
}

// Query describes one component to classify.
type Query struct {
	Kind   vm.Kind
	Name   string // resolved QEMU name, see [Catalog.Resolve]
	Target string // QEMU target such as x86_64; empty matches only target-independent entries
	Props  map[string]string
}

// Lookup returns the deciding entry for q, or nil when no entry matches.
func (c *Catalog) Lookup(q Query) *Entry {
	name := canonicalName(q.Kind, q.Name)
	for i := len(c.layers) - 1; i >= 0; i-- {
		if e := c.layers[i].lookup(q, name); e != nil {
			return e
		}
	}
	return nil
}

func (l *Layer) lookup(q Query, name string) *Entry {
	best := -1
	consider := func(i int) {
		e := &l.Entries[i]
		if !TargetMatches(e.Targets, q.Target) || !conditionsHold(e.When, q.Props) {
			return
		}
		if best < 0 || moreSpecific(l.Entries, i, best) {
			best = i
		}
	}
	lo := sort.Search(len(l.exact), func(k int) bool {
		e := &l.Entries[l.exact[k]]
		return e.Kind > q.Kind || (e.Kind == q.Kind && e.Name >= name)
	})
	for k := lo; k < len(l.exact); k++ {
		e := &l.Entries[l.exact[k]]
		if e.Kind != q.Kind || e.Name != name {
			break
		}
		consider(int(l.exact[k]))
	}
	lo = sort.Search(len(l.globs), func(k int) bool {
		return l.Entries[l.globs[k]].Kind >= q.Kind
	})
	for k := lo; k < len(l.globs) && l.Entries[l.globs[k]].Kind == q.Kind; k++ {
		if ok, _ := path.Match(l.Entries[l.globs[k]].Name, name); ok {
			consider(int(l.globs[k]))
		}
	}
	if best < 0 {
		return nil
	}
	return &l.Entries[best]
}

// moreSpecific reports whether entries[i] should win over entries[j].
func moreSpecific(entries []Entry, i, j int) bool {
	a, b := &entries[i], &entries[j]
	ga, gb := isGlob(a.Name), isGlob(b.Name)
	if ga != gb {
		return !ga
	}
	if len(a.When) != len(b.When) {
		return len(a.When) > len(b.When)
	}
	if ga {
		la, lb := literalLen(a.Name), literalLen(b.Name)
		if la != lb {
			return la > lb
		}
	}
	if (len(a.Targets) > 0) != (len(b.Targets) > 0) {
		return len(a.Targets) > 0
	}
	return i > j
}

func literalLen(pattern string) int {
	n := 0
	for _, r := range pattern {
		if !strings.ContainsRune("*?[]", r) {
			n++
		}
	}
	return n
}

// TargetMatches reports whether an entry or alias limited to targets applies to target;
// an empty list applies to every target.
func TargetMatches(targets []string, target string) bool {
	if len(targets) == 0 {
		return true
	}
	for _, t := range targets {
		if t == target {
			return true
		}
	}
	return false
}

// canonicalName strips the QOM "-machine" suffix, because machine entries use the names
// that -machine and query-machines use.
func canonicalName(k vm.Kind, name string) string {
	if k == vm.KindMachine {
		return strings.TrimSuffix(name, "-machine")
	}
	return name
}

// Resolve maps name through the aliases of kind on target. When the alias points to a
// machine family glob and version is known ("7.2"), the glob's "*" becomes the version, so
// q35 on QEMU 7.2 resolves to pc-q35-7.2. It returns the resolved name and the alias used,
// or name and nil when no alias applies.
func (c *Catalog) Resolve(kind vm.Kind, name, target, version string) (string, *Alias) {
	name = canonicalName(kind, name)
	for i := len(c.layers) - 1; i >= 0; i-- {
		l := c.layers[i]
		for j := range l.Aliases {
			a := &l.Aliases[j]
			if a.Kind != kind || a.Alias != name || !TargetMatches(a.Targets, target) {
				continue
			}
			typ := a.Type
			if version != "" && strings.Count(typ, "*") == 1 {
				typ = strings.Replace(typ, "*", version, 1)
			}
			return typ, a
		}
	}
	return name, nil
}

// Entries returns every entry of every layer, lowest layer first, sorted by kind and name
// within a layer.
func (c *Catalog) Entries() []Entry {
	var out []Entry
	for _, l := range c.layers {
		start := len(out)
		out = append(out, l.Entries...)
		part := out[start:]
		sort.SliceStable(part, func(i, j int) bool {
			if part[i].Kind != part[j].Kind {
				return kindIndex(part[i].Kind) < kindIndex(part[j].Kind)
			}
			return part[i].Name < part[j].Name
		})
	}
	return out
}

// Aliases returns every alias of every layer, lowest layer first.
func (c *Catalog) Aliases() []Alias {
	var out []Alias
	for _, l := range c.layers {
		out = append(out, l.Aliases...)
	}
	return out
}

func kindIndex(k vm.Kind) int {
	for i, known := range vm.Kinds {
		if k == known {
			return i
		}
	}
	return len(vm.Kinds)
}
