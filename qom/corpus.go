package qom

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// FromCorpusTypes makes a profile from a type list and a machine list of the form that
// libvirt's capability dumps record: tsvPath is qom-list-types_<version>_<target>.tsv
// (see [ParseTypesTSV]) and machinesPath one machine name a line (see
// [ParseMachineList]). The version and target come from the type list's file name.
//
// Such lists have no abstract types, no machine aliases, no CPU models and no chardev
// backends, so the profile checks less than one read from the binary: see
// [Profile.AbstractTypes] and [Profile.MachineAliases].
func FromCorpusTypes(tsvPath, machinesPath string) (*Profile, error) {
	version, target, err := typesFileName(filepath.Base(tsvPath))
	if err != nil {
		return nil, err
	}
	p := &Profile{Version: version, Target: target}
	if p.Types, err = readWith(tsvPath, ParseTypesTSV); err != nil {
		return nil, err
	}
	if p.Machines, err = readWith(machinesPath, ParseMachineList); err != nil {
		return nil, err
	}
	for _, path := range []string{tsvPath, machinesPath} {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fmt.Errorf("qom: %w", err)
		}
		p.Sources = append(p.Sources, abs)
	}
	for _, t := range p.Types {
		if t.Abstract {
			p.AbstractTypes = true
		}
	}
	return p.finish()
}

// readWith opens path and parses it with parse, naming the file in errors.
func readWith[T any](path string, parse func(io.Reader) (T, error)) (T, error) {
	var zero T
	f, err := os.Open(path)
	if err != nil {
		return zero, fmt.Errorf("qom: %w", err)
	}
	defer f.Close()
	v, err := parse(f)
	if err != nil {
		return zero, fmt.Errorf("qom: %s: %w", path, err)
	}
	return v, nil
}

var typesFileRE = regexp.MustCompile(`^qom-list-types_(\d+\.\d+(?:\.\d+)?)_([A-Za-z0-9_]+)\.tsv$`)

// typesFileName returns the version and target in a type list's file name.
func typesFileName(name string) (version, target string, err error) {
	m := typesFileRE.FindStringSubmatch(name)
	if m == nil {
		return "", "", fmt.Errorf("qom: %s: the QEMU version and target are not in the "+
			"file name: want qom-list-types_<version>_<target>.tsv", name)
	}
	return m[1], m[2], nil
}

// maxLine bounds one line of a type or machine list; QOM names are far shorter.
const maxLine = 4096

// ParseTypesTSV reads a tab-separated type list. A header line "name<TAB>parent<TAB>
// abstract" comes first. Each further line is one type: its name, its parent (empty for
// a root) and "true" for an abstract type or "" or "false" for a concrete one. Empty
// lines are skipped. A duplicate name, a missing column or a name with white space
// is an error naming the line.
func ParseTypesTSV(r io.Reader) ([]Type, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), maxLine)
	var types []Type
	seen := map[string]bool{}
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSuffix(sc.Text(), "\r")
		if line == 1 {
			if text != "name\tparent\tabstract" {
				return nil, fmt.Errorf("line 1: header %q: want name<TAB>parent<TAB>abstract",
					text)
			}
			continue
		}
		if text == "" {
			continue
		}
		t, err := parseTypeLine(text)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if seen[t.Name] {
			return nil, fmt.Errorf("line %d: type %q listed twice", line, t.Name)
		}
		seen[t.Name] = true
		types = append(types, t)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	if len(types) == 0 {
		return nil, errors.New("no types")
	}
	return types, nil
}

func parseTypeLine(text string) (Type, error) {
	f := strings.Split(text, "\t")
	if len(f) != 3 {
		return Type{}, fmt.Errorf("%d columns: want name, parent and abstract", len(f))
	}
	t := Type{Name: f[0], Parent: f[1]}
	if !validName(t.Name) {
		return Type{}, fmt.Errorf("invalid type name %q", t.Name)
	}
	if t.Parent != "" && !validName(t.Parent) {
		return Type{}, fmt.Errorf("invalid parent name %q", t.Parent)
	}
	switch f[2] {
	case "", "false":
	case "true":
		t.Abstract = true
	default:
		return Type{}, fmt.Errorf("abstract column %q: want empty, false or true", f[2])
	}
	return t, nil
}

// ParseMachineList reads one machine name a line, as -machine takes it. Empty lines are
// skipped; a duplicate or a name with white space is an error naming the line.
func ParseMachineList(r io.Reader) ([]Machine, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), maxLine)
	var machines []Machine
	seen := map[string]bool{}
	line := 0
	for sc.Scan() {
		line++
		name := strings.TrimSuffix(sc.Text(), "\r")
		if name == "" {
			continue
		}
		if !validName(name) {
			return nil, fmt.Errorf("line %d: invalid machine name %q", line, name)
		}
		if seen[name] {
			return nil, fmt.Errorf("line %d: machine %q listed twice", line, name)
		}
		seen[name] = true
		machines = append(machines, Machine{Name: name})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	if len(machines) == 0 {
		return nil, errors.New("no machines")
	}
	return machines, nil
}

// captureFiles are the files of a capture directory and the replies they contain. Each file
// is a QMP reply object, {"return": ...}.
var captureFiles = []struct {
	name     string
	required bool
	dst      func(*replies) *json.RawMessage
}{
	{"query-version.json", true, func(a *replies) *json.RawMessage { return &a.version }},
	{"query-target.json", true, func(a *replies) *json.RawMessage { return &a.target }},
	{"qom-list-types-abstract.json", true, func(a *replies) *json.RawMessage { return &a.types }},
	{"query-machines.json", true, func(a *replies) *json.RawMessage { return &a.machines }},
	{"query-cpu-definitions.json", false, func(a *replies) *json.RawMessage { return &a.cpus }},
	{"query-chardev-backends.json", false,
		func(a *replies) *json.RawMessage { return &a.backends }},
	{"query-qmp-schema.json", false, func(a *replies) *json.RawMessage { return &a.schema }},
}

// FromCapture makes a profile from a directory of saved QMP replies, one file per query:
// query-version.json, query-target.json, qom-list-types-abstract.json (qom-list-types
// with abstract=true) and query-machines.json are required; query-cpu-definitions.json,
// query-chardev-backends.json, query-qmp-schema.json and qom-list-types-implements.json
// (an object mapping "INTERFACE|abstract=True" to the reply of qom-list-types
// implements=INTERFACE abstract=true) are read when present.
func FromCapture(dir string) (*Profile, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("qom: %w", err)
	}
	a := &replies{sources: []string{abs}}
	for _, f := range captureFiles {
		raw, err := readReply(filepath.Join(dir, f.name))
		switch {
		case errors.Is(err, os.ErrNotExist) && !f.required:
			continue
		case err != nil:
			return nil, err
		}
		*f.dst(a) = raw
	}
	if a.interfaces, err = readImplements(filepath.Join(dir, "qom-list-types-implements.json")); err != nil {
		return nil, err
	}
	p, err := a.profile()
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, dir)
	}
	return p.finish()
}

// readReply reads a file holding one QMP reply and returns its "return" value.
func readReply(path string) (json.RawMessage, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("qom: %w", err)
	}
	var reply struct {
		Return json.RawMessage `json:"return"`
	}
	if err := json.Unmarshal(data, &reply); err != nil {
		return nil, fmt.Errorf("qom: %s: invalid JSON: %w", path, err)
	}
	if reply.Return == nil || bytes.Equal(reply.Return, []byte("null")) {
		return nil, fmt.Errorf("qom: %s: no \"return\" member", path)
	}
	return reply.Return, nil
}

// readImplements reads the implements= replies of a capture directory, keeping the
// interfaces in [interfaceQueries]. A missing file yields no interfaces.
func readImplements(path string) (map[string]json.RawMessage, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("qom: %w", err)
	}
	var all map[string]struct {
		Return json.RawMessage `json:"return"`
	}
	if err := json.Unmarshal(data, &all); err != nil {
		return nil, fmt.Errorf("qom: %s: invalid JSON: %w", path, err)
	}
	out := map[string]json.RawMessage{}
	for _, iface := range interfaceQueries {
		if r, ok := all[iface+"|abstract=True"]; ok && r.Return != nil {
			out[iface] = r.Return
		}
	}
	return out, nil
}
