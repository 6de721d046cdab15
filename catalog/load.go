package catalog

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/qscope/qscope/vm"
)

// SchemaVersion is the catalog file format version this package reads.
const SchemaVersion = 1

// DefaultLayerName names the embedded default layer in reports.
const DefaultLayerName = "default"

//go:embed data/*.yaml
var defaultData embed.FS

// Error is a problem in a catalog file, located by file and line.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("catalog: %s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("catalog: %s: %s", e.File, e.Msg)
}

//go:generate go run ./internal/gencatalog default_gen.go

// Default returns the embedded default layer. It is compiled from data/*.yaml into Go
// source by go generate (see internal/gencatalog), so that no YAML is parsed at start-up;
// a test checks that the compiled form matches the YAML.
//
// Every call returns the same layer, which callers must not change.
func Default() (*Layer, error) {
	defaultOnce.Do(func() {
		defaultLayer = &Layer{Name: DefaultLayerName, Entries: generatedEntries,
			Aliases: generatedAliases, exact: generatedExact, globs: generatedGlobs,
			indexed: true}
	})
	return defaultLayer, nil
}

var (
	defaultOnce  sync.Once
	defaultLayer *Layer
)

// ParseDefaultSource parses and validates the embedded YAML files of the default layer.
func ParseDefaultSource() (*Layer, error) {
	names, err := fs.Glob(defaultData, "data/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	merged := &Layer{Name: DefaultLayerName}
	for _, name := range names {
		data, err := defaultData.ReadFile(name)
		if err != nil {
			return nil, err
		}
		l, err := Parse(DefaultLayerName, "catalog/"+name, data)
		if err != nil {
			return nil, err
		}
		merged.Entries = append(merged.Entries, l.Entries...)
		merged.Aliases = append(merged.Aliases, l.Aliases...)
	}
	if err := checkDuplicates(merged); err != nil {
		return nil, err
	}
	return merged, nil
}

// LoadFile reads and validates the catalog file at path as a layer named after the path.
func LoadFile(path string) (*Layer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	return Parse(path, path, data)
}

// Parse reads a catalog file. layer names the layer; file is used in error messages and in
// each entry's location.
func Parse(layer, file string, data []byte) (*Layer, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(file, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, &Error{File: file, Msg: "empty file: want a mapping with schema and entries"}
	}
	p := parser{file: file, layer: &Layer{Name: layer}}
	if err := p.document(doc.Content[0]); err != nil {
		return nil, err
	}
	if err := checkDuplicates(p.layer); err != nil {
		return nil, err
	}
	return p.layer, nil
}

// yamlError turns a yaml.v3 syntax error ("yaml: line 3: ...") into an [Error].
func yamlError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		_, rest, _ := strings.Cut(msg, ":")
		return &Error{File: file, Line: line, Msg: strings.TrimSpace(rest)}
	}
	return &Error{File: file, Msg: msg}
}

type parser struct {
	file  string
	layer *Layer
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) error {
	return &Error{File: p.file, Line: n.Line, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) document(root *yaml.Node) error {
	fields, err := p.mapping(root, "schema", "entries", "aliases")
	if err != nil {
		return err
	}
	schema, ok := fields["schema"]
	if !ok {
		return p.errorf(root, "missing schema: want schema: %d", SchemaVersion)
	}
	if schema.Value != fmt.Sprint(SchemaVersion) {
		return p.errorf(schema, "unsupported schema %q: want %d", schema.Value, SchemaVersion)
	}
	if n, ok := fields["entries"]; ok {
		if err := p.list(n, p.entry); err != nil {
			return err
		}
	}
	if n, ok := fields["aliases"]; ok {
		if err := p.list(n, p.alias); err != nil {
			return err
		}
	}
	return nil
}

// mapping checks that n is a mapping whose keys are all in allowed, and returns its values.
func (p *parser) mapping(n *yaml.Node, allowed ...string) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errorf(n, "want a mapping, found %s", nodeKind(n))
	}
	out := make(map[string]*yaml.Node)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !contains(allowed, k.Value) {
			return nil, p.errorf(k, "unknown field %q: want one of %s", k.Value,
				strings.Join(allowed, ", "))
		}
		if _, dup := out[k.Value]; dup {
			return nil, p.errorf(k, "field %q given twice", k.Value)
		}
		out[k.Value] = v
	}
	return out, nil
}

func (p *parser) list(n *yaml.Node, item func(*yaml.Node) error) error {
	if n.Kind != yaml.SequenceNode {
		return p.errorf(n, "want a list, found %s", nodeKind(n))
	}
	for _, c := range n.Content {
		if err := item(c); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) scalar(fields map[string]*yaml.Node, parent *yaml.Node, key string,
	required bool) (string, error) {
	n, ok := fields[key]
	if !ok {
		if required {
			return "", p.errorf(parent, "missing field %q", key)
		}
		return "", nil
	}
	if n.Kind != yaml.ScalarNode {
		return "", p.errorf(n, "field %q: want a string, found %s", key, nodeKind(n))
	}
	v := strings.TrimSpace(n.Value)
	if required && v == "" {
		return "", p.errorf(n, "field %q is empty", key)
	}
	return v, nil
}

func (p *parser) strings(fields map[string]*yaml.Node, key string) ([]string, []*yaml.Node,
	error) {
	n, ok := fields[key]
	if !ok {
		return nil, nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, nil, p.errorf(n, "field %q: want a list of strings, found %s", key,
			nodeKind(n))
	}
	var out []string
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode || strings.TrimSpace(c.Value) == "" {
			return nil, nil, p.errorf(c, "field %q: want non-empty strings", key)
		}
		out = append(out, strings.TrimSpace(c.Value))
	}
	return out, n.Content, nil
}

func (p *parser) kind(fields map[string]*yaml.Node, n *yaml.Node) (vm.Kind, error) {
	s, err := p.scalar(fields, n, "kind", true)
	if err != nil {
		return "", err
	}
	k := vm.Kind(s)
	if !vm.ValidKind(k) {
		names := make([]string, len(vm.Kinds))
		for i, known := range vm.Kinds {
			names[i] = string(known)
		}
		return "", p.errorf(fields["kind"], "invalid kind %q: want one of %s", s,
			strings.Join(names, ", "))
	}
	return k, nil
}

func (p *parser) entry(n *yaml.Node) error {
	fields, err := p.mapping(n, "kind", "name", "targets", "status", "reason", "source", "when")
	if err != nil {
		return err
	}
	e := Entry{Layer: p.layer.Name, File: p.file, Line: n.Line}
	if e.Kind, err = p.kind(fields, n); err != nil {
		return err
	}
	if e.Name, err = p.scalar(fields, n, "name", true); err != nil {
		return err
	}
	if _, err := path.Match(e.Name, ""); err != nil {
		return p.errorf(fields["name"], "invalid glob %q: %v", e.Name, err)
	}
	e.Name = canonicalName(e.Kind, e.Name)

	status, err := p.scalar(fields, n, "status", true)
	if err != nil {
		return err
	}
	if e.Status, err = ParseStatus(status); err != nil {
		return p.errorf(fields["status"], "%v", err)
	}
	if e.Reason, err = p.scalar(fields, n, "reason", true); err != nil {
		return err
	}
	if e.Source, err = p.scalar(fields, n, "source", true); err != nil {
		return err
	}
	if e.Targets, _, err = p.strings(fields, "targets"); err != nil {
		return err
	}

	when, nodes, err := p.strings(fields, "when")
	if err != nil {
		return err
	}
	for i, text := range when {
		c, err := ParseCondition(text)
		if err != nil {
			return p.errorf(nodes[i], "%v", err)
		}
		e.When = append(e.When, c)
	}
	p.layer.Entries = append(p.layer.Entries, e)
	return nil
}

func (p *parser) alias(n *yaml.Node) error {
	fields, err := p.mapping(n, "kind", "alias", "type", "targets", "source")
	if err != nil {
		return err
	}
	a := Alias{Layer: p.layer.Name, File: p.file, Line: n.Line}
	if a.Kind, err = p.kind(fields, n); err != nil {
		return err
	}
	if a.Alias, err = p.scalar(fields, n, "alias", true); err != nil {
		return err
	}
	if a.Type, err = p.scalar(fields, n, "type", true); err != nil {
		return err
	}
	if a.Source, err = p.scalar(fields, n, "source", true); err != nil {
		return err
	}
	if a.Targets, _, err = p.strings(fields, "targets"); err != nil {
		return err
	}
	if a.Alias == a.Type {
		return p.errorf(n, "alias %q resolves to itself", a.Alias)
	}
	p.layer.Aliases = append(p.layer.Aliases, a)
	return nil
}

// checkDuplicates rejects two entries of one layer that match exactly the same components,
// and two aliases with the same spelling on a shared target, because then file order alone
// would decide and an edit elsewhere could silently change a verdict.
func checkDuplicates(l *Layer) error {
	seen := make(map[string]*Entry)
	for i := range l.Entries {
		e := &l.Entries[i]
		key := fmt.Sprintf("%s\x00%s\x00%s\x00%s", e.Kind, e.Name, sortedJoin(e.Targets),
			sortedJoin(conditionTexts(e.When)))
		if prev, ok := seen[key]; ok {
			return &Error{File: e.File, Line: e.Line, Msg: fmt.Sprintf(
				"%s %q duplicates the entry at %s", e.Kind, e.Name, prev.Where())}
		}
		seen[key] = e
	}
	for i := range l.Aliases {
		a := &l.Aliases[i]
		for j := 0; j < i; j++ {
			b := &l.Aliases[j]
			if a.Kind == b.Kind && a.Alias == b.Alias && targetsOverlap(a.Targets, b.Targets) {
				return &Error{File: a.File, Line: a.Line, Msg: fmt.Sprintf(
					"%s alias %q duplicates the alias at %s:%d", a.Kind, a.Alias, b.File,
					b.Line)}
			}
		}
	}
	return nil
}

func targetsOverlap(a, b []string) bool {
	if len(a) == 0 || len(b) == 0 {
		return true
	}
	for _, t := range a {
		if contains(b, t) {
			return true
		}
	}
	return false
}

func conditionTexts(conds []Condition) []string {
	out := make([]string, len(conds))
	for i, c := range conds {
		out[i] = strings.TrimSpace(c.Text)
	}
	return out
}

func sortedJoin(s []string) string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return strings.Join(c, ",")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "a YAML alias"
	}
	return "nothing"
}
