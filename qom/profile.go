// Package qom holds the type graph of one QEMU binary: its QOM types with their parents,
// machines, CPU models and chardev backends, as the binary reports them over QMP or as
// recorded type lists give them. A [Profile] checks a [vm.Config] against that binary
// ([Profile.Annotate]) and contributes the binary's own security declarations to the
// catalog ([Profile.Layer]).
//
// Profiles come from a running QEMU ([FromBinary], [Cached]), from a profile file written
// earlier ([Read]), from a libvirt-style type list ([FromCorpusTypes]) or from a directory
// of saved QMP replies ([FromCapture]). [Load] picks the reader for a path.
package qom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// SchemaVersion is the version of the profile file layout written by this package.
// Within a version fields are only added.
const SchemaVersion = 1

// Profile is the record of what one QEMU system emulator binary provides.
type Profile struct {
	Schema int `json:"schema"`
	// Binary is the absolute path of the binary the profile was read from; empty for a
	// profile made from recorded files.
	Binary string `json:"binary,omitempty"`
	// Size and ModTime identify the binary's file when the profile was made; the cache
	// compares them with the file on disk.
	Size    int64     `json:"size,omitempty"`
	ModTime time.Time `json:"mtime,omitzero"`
	// Version is the QEMU version as query-version reports it ("7.2.22"); Package is the
	// distribution's package version, when the binary reports one.
	Version string `json:"version"`
	Package string `json:"package,omitempty"`
	// Target is the QEMU target architecture as query-target reports it (x86_64, aarch64).
	Target string `json:"target"`
	// Sources are the origins of the profile: the command QEMU was started with, or the
	// files that were read.
	Sources []string  `json:"sources"`
	Created time.Time `json:"created,omitzero"`
	// AbstractTypes is true when Types includes abstract types, so that every parent chain
	// reaches a root. Type lists that libvirt records hold only concrete types; their
	// chains stop at the first abstract parent.
	AbstractTypes bool `json:"abstract_types"`
	// SecureReported is true when the binary's qom-list-types has the secure member
	// (QEMU 11.2 and later). Only then does a type without Secure mean "not declared
	// secure"; otherwise nothing is known about security.
	SecureReported bool `json:"secure_reported"`
	// MachineAliases is true when Machines carries the aliases and the default machine,
	// as query-machines reports them. A plain list of machine names does not.
	MachineAliases bool   `json:"machine_aliases"`
	Types          []Type `json:"types"`
	// Interfaces maps a QOM interface name to the types that implement it, as
	// qom-list-types implements= returns them. Class membership (device, machine, accel)
	// needs no entry, because it follows from the parent chain.
	Interfaces map[string][]string `json:"interfaces,omitempty"`
	Machines   []Machine           `json:"machines"`
	// CPUs are the CPU models of query-cpu-definitions; nil when the source has none.
	CPUs []CPU `json:"cpus,omitempty"`
	// ChardevBackends are the -chardev backend names of query-chardev-backends; nil when
	// the source has none.
	ChardevBackends []string `json:"chardev_backends,omitempty"`

	once  sync.Once
	index *index
}

// Type is one QOM type.
type Type struct {
	Name     string `json:"name"`
	Parent   string `json:"parent,omitempty"`
	Abstract bool   `json:"abstract,omitempty"`
	// Secure is true when the binary declares the type secure; see
	// [Profile.SecureReported].
	Secure bool `json:"secure,omitempty"`
}

// Machine is one machine type as query-machines reports it.
type Machine struct {
	Name       string `json:"name"`
	Alias      string `json:"alias,omitempty"`
	Default    bool   `json:"default,omitempty"`
	Deprecated bool   `json:"deprecated,omitempty"`
	// Secure is the machine's secure member, nil when the binary does not report one.
	Secure *bool `json:"secure,omitempty"`
}

// CPU is one CPU model as query-cpu-definitions reports it.
type CPU struct {
	Name       string `json:"name"`
	Type       string `json:"type,omitempty"`
	AliasOf    string `json:"alias_of,omitempty"`
	Deprecated bool   `json:"deprecated,omitempty"`
}

// index holds lookup tables built once per profile.
type index struct {
	types      map[string]*Type
	machines   map[string]*Machine // by name and by alias
	cpus       map[string]*CPU
	backends   map[string]bool
	interfaces map[string]map[string]bool
}

// idx returns the lookup tables, building them on first use.
func (p *Profile) idx() *index {
	p.once.Do(func() {
		x := &index{types: make(map[string]*Type, len(p.Types)),
			machines: map[string]*Machine{}, cpus: map[string]*CPU{},
			backends: map[string]bool{}, interfaces: map[string]map[string]bool{}}
		for i := range p.Types {
			x.types[p.Types[i].Name] = &p.Types[i]
		}
		for i := range p.Machines {
			m := &p.Machines[i]
			x.machines[m.Name] = m
			if m.Alias != "" {
				x.machines[m.Alias] = m
			}
		}
		for i := range p.CPUs {
			x.cpus[p.CPUs[i].Name] = &p.CPUs[i]
		}
		for _, b := range p.ChardevBackends {
			x.backends[b] = true
		}
		for iface, names := range p.Interfaces {
			set := make(map[string]bool, len(names))
			for _, n := range names {
				set[n] = true
			}
			x.interfaces[iface] = set
		}
		p.index = x
	})
	return p.index
}

// Type returns the type named name, or nil.
func (p *Profile) Type(name string) *Type {
	return p.idx().types[name]
}

// Machine returns the machine whose name or alias is name, or nil.
func (p *Profile) Machine(name string) *Machine {
	return p.idx().machines[name]
}

// DefaultMachine returns the machine QEMU starts without -machine, or nil when the binary
// has none or the profile does not record it.
func (p *Profile) DefaultMachine() *Machine {
	for i := range p.Machines {
		if p.Machines[i].Default {
			return &p.Machines[i]
		}
	}
	return nil
}

// Release returns the QEMU release as "major.minor" ("7.2" for 7.2.22), the form
// [vm.Config.QEMUVersion] and the catalog's machine aliases use.
func (p *Profile) Release() string {
	parts := strings.SplitN(p.Version, ".", 3)
	if len(parts) < 2 {
		return p.Version
	}
	return parts[0] + "." + parts[1]
}

// Describe returns a short name for the profile in messages: "QEMU 7.2.22 x86_64
// (/usr/bin/qemu-system-x86_64)".
func (p *Profile) Describe() string {
	from := p.Binary
	if from == "" && len(p.Sources) > 0 {
		from = p.Sources[0]
	}
	s := fmt.Sprintf("QEMU %s %s", p.Version, p.Target)
	if from != "" {
		s += " (" + from + ")"
	}
	return s
}

// Read reads a profile file written by [Profile.Write] and validates it.
func Read(path string) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("qom: reading profile: %w", err)
	}
	p, err := Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("qom: %s: %w", path, err)
	}
	return p, nil
}

// Decode reads a profile in JSON from r and validates it. Unknown fields are errors, so
// that a file written by a newer schema is not read as if it were complete.
func Decode(r io.Reader) (*Profile, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("invalid profile JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("invalid profile JSON: data after the profile object")
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Write writes the profile as indented JSON to path, through a temporary file in the same
// directory that is renamed into place, so that readers never see half a file.
func (p *Profile) Write(path string) error {
	data, err := p.Marshal()
	if err != nil {
		return err
	}
	return writeAtomic(path, data)
}

// writeAtomic writes data to a temporary file beside path and renames it to path.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".qscope-profile-*")
	if err != nil {
		return fmt.Errorf("qom: writing profile: %w", err)
	}
	_, werr := tmp.Write(data)
	merr := tmp.Chmod(0o644) // a profile holds no secrets; CreateTemp makes files 0600
	cerr := tmp.Close()
	if err := errors.Join(werr, merr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("qom: writing profile %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("qom: writing profile: %w", err)
	}
	return nil
}

// Marshal returns the profile as indented JSON with a final newline.
func (p *Profile) Marshal() ([]byte, error) {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("qom: encoding profile: %w", err)
	}
	return append(data, '\n'), nil
}

var versionRE = regexp.MustCompile(`^\d+\.\d+(\.\d+)?$`)

// validName reports whether s can be a QOM type, machine or CPU model name: not empty,
// without white space or control characters. It is a loop rather than a regular
// expression because a profile has a thousand names and the cache reads it on every
// check.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || unicode.IsSpace(r) || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// validate checks what every reader and [Annotate] rely on: a known schema, a version and
// target, and unique, well-formed names.
func (p *Profile) validate() error {
	switch {
	case p.Schema != SchemaVersion:
		return fmt.Errorf("unsupported profile schema %d: want %d (run qscope types again)",
			p.Schema, SchemaVersion)
	case !versionRE.MatchString(p.Version):
		return fmt.Errorf("invalid QEMU version %q: want X.Y or X.Y.Z", p.Version)
	case !validName(p.Target):
		return fmt.Errorf("invalid target %q", p.Target)
	case len(p.Types) == 0:
		return errors.New("the profile has no types")
	case len(p.Machines) == 0:
		return errors.New("the profile has no machines")
	}
	seen := make(map[string]bool, len(p.Types))
	for _, t := range p.Types {
		if !validName(t.Name) || (t.Parent != "" && !validName(t.Parent)) {
			return fmt.Errorf("invalid type name %q or parent %q", t.Name, t.Parent)
		}
		if seen[t.Name] {
			return fmt.Errorf("type %q listed twice", t.Name)
		}
		seen[t.Name] = true
	}
	return p.validateMachines()
}

func (p *Profile) validateMachines() error {
	seen := map[string]bool{}
	defaults := 0
	for _, m := range p.Machines {
		names := []string{m.Name}
		if m.Alias != "" {
			names = append(names, m.Alias)
		}
		for _, n := range names {
			if !validName(n) {
				return fmt.Errorf("invalid machine name %q", n)
			}
			if seen[n] {
				return fmt.Errorf("machine name or alias %q listed twice", n)
			}
			seen[n] = true
		}
		if m.Default {
			defaults++
		}
	}
	if defaults > 1 {
		return fmt.Errorf("%d default machines: want at most one", defaults)
	}
	for _, c := range p.CPUs {
		if !validName(c.Name) {
			return fmt.Errorf("invalid CPU model name %q", c.Name)
		}
	}
	return nil
}

// finish sorts the lists so that profiles of one binary are byte-for-byte equal, then
// validates the result.
func (p *Profile) finish() (*Profile, error) {
	p.Schema = SchemaVersion
	sort.Slice(p.Types, func(i, j int) bool { return p.Types[i].Name < p.Types[j].Name })
	sort.Slice(p.Machines, func(i, j int) bool { return p.Machines[i].Name < p.Machines[j].Name })
	sort.Slice(p.CPUs, func(i, j int) bool { return p.CPUs[i].Name < p.CPUs[j].Name })
	sort.Strings(p.ChardevBackends)
	for _, names := range p.Interfaces {
		sort.Strings(names)
	}
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("qom: %s: %w", p.Describe(), err)
	}
	return p, nil
}

// Load reads a profile from path, choosing the reader by what path is: a directory of
// saved QMP replies ([FromCapture]), a qom-list-types_<version>_<target>.tsv type list
// with its machines_<version>_<target>.txt beside it ([FromCorpusTypes]), or a profile
// file ([Read]).
func Load(path string) (*Profile, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("qom: %w", err)
	}
	switch {
	case st.IsDir():
		return FromCapture(path)
	case strings.HasSuffix(path, ".tsv"):
		version, target, err := typesFileName(filepath.Base(path))
		if err != nil {
			return nil, err
		}
		machines := filepath.Join(filepath.Dir(path),
			"machines_"+version+"_"+target+".txt")
		return FromCorpusTypes(path, machines)
	}
	return Read(path)
}
