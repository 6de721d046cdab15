package qom

import (
	"encoding/json"
	"errors"
	"fmt"
)

// replies are the QMP replies a profile is made from, as raw JSON "return" values. A
// running binary ([FromBinary]) and a directory of saved replies ([FromCapture]) fill it
// the same way, so both go through one decoder.
type replies struct {
	version  json.RawMessage // query-version
	target   json.RawMessage // query-target
	types    json.RawMessage // qom-list-types abstract=true
	machines json.RawMessage // query-machines
	cpus     json.RawMessage // query-cpu-definitions; nil when the binary lacks it
	backends json.RawMessage // query-chardev-backends
	schema   json.RawMessage // query-qmp-schema; nil when unknown
	// interfaces maps an interface to the reply of qom-list-types implements=IFACE
	// abstract=true.
	interfaces map[string]json.RawMessage
	sources    []string
}

// interfaceQueries are the QOM interfaces whose implementers a profile records. Only
// -object needs one: QEMU creates an object only when its type implements
// user-creatable (QEMU 7.2 qom/object_interfaces.c, user_creatable_add_type).
var interfaceQueries = []string{"user-creatable"}

// profile decodes the replies into a profile; the caller fills the binary's identity and
// calls finish.
func (a *replies) profile() (*Profile, error) {
	p := &Profile{Sources: a.sources, AbstractTypes: true, MachineAliases: true}
	steps := []struct {
		name   string
		raw    json.RawMessage
		decode func(json.RawMessage) error
	}{
		{"query-version", a.version, p.decodeVersion},
		{"query-target", a.target, p.decodeTarget},
		{"qom-list-types", a.types, p.decodeTypes},
		{"query-machines", a.machines, p.decodeMachines},
	}
	for _, s := range steps {
		if s.raw == nil {
			return nil, fmt.Errorf("qom: no %s reply", s.name)
		}
		if err := s.decode(s.raw); err != nil {
			return nil, fmt.Errorf("qom: invalid %s reply: %w", s.name, err)
		}
	}
	if err := a.optional(p); err != nil {
		return nil, err
	}
	return p, nil
}

// optional decodes the replies a profile can do without.
func (a *replies) optional(p *Profile) error {
	if a.cpus != nil {
		if err := p.decodeCPUs(a.cpus); err != nil {
			return fmt.Errorf("qom: invalid query-cpu-definitions reply: %w", err)
		}
	}
	if a.backends != nil {
		if err := p.decodeBackends(a.backends); err != nil {
			return fmt.Errorf("qom: invalid query-chardev-backends reply: %w", err)
		}
	}
	if a.schema != nil {
		reported, err := returnsMember(a.schema, "qom-list-types", "secure")
		if err != nil {
			return fmt.Errorf("qom: invalid query-qmp-schema reply: %w", err)
		}
		p.SecureReported = reported
	}
	for iface, raw := range a.interfaces {
		var list []struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(raw, &list); err != nil {
			return fmt.Errorf("qom: invalid qom-list-types implements=%s reply: %w",
				iface, err)
		}
		if p.Interfaces == nil {
			p.Interfaces = map[string][]string{}
		}
		names := make([]string, 0, len(list))
		for _, t := range list {
			names = append(names, t.Name)
		}
		p.Interfaces[iface] = names
	}
	return nil
}

func (p *Profile) decodeVersion(raw json.RawMessage) error {
	var v struct {
		QEMU *struct {
			Major, Minor, Micro int
		} `json:"qemu"`
		Package string `json:"package"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	if v.QEMU == nil {
		return errors.New("no qemu member")
	}
	p.Version = fmt.Sprintf("%d.%d.%d", v.QEMU.Major, v.QEMU.Minor, v.QEMU.Micro)
	p.Package = v.Package
	return nil
}

func (p *Profile) decodeTarget(raw json.RawMessage) error {
	var t struct {
		Arch string `json:"arch"`
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return err
	}
	p.Target = t.Arch
	return nil
}

func (p *Profile) decodeTypes(raw json.RawMessage) error {
	return json.Unmarshal(raw, &p.Types)
}

func (p *Profile) decodeMachines(raw json.RawMessage) error {
	var list []struct {
		Name       string `json:"name"`
		Alias      string `json:"alias"`
		IsDefault  bool   `json:"is-default"`
		Deprecated bool   `json:"deprecated"`
		Secure     *bool  `json:"secure"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return err
	}
	for _, m := range list {
		p.Machines = append(p.Machines, Machine{Name: m.Name, Alias: m.Alias,
			Default: m.IsDefault, Deprecated: m.Deprecated, Secure: m.Secure})
	}
	return nil
}

func (p *Profile) decodeCPUs(raw json.RawMessage) error {
	var list []struct {
		Name       string `json:"name"`
		Typename   string `json:"typename"`
		AliasOf    string `json:"alias-of"`
		Deprecated bool   `json:"deprecated"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return err
	}
	p.CPUs = make([]CPU, 0, len(list))
	for _, c := range list {
		p.CPUs = append(p.CPUs, CPU{Name: c.Name, Type: c.Typename, AliasOf: c.AliasOf,
			Deprecated: c.Deprecated})
	}
	return nil
}

func (p *Profile) decodeBackends(raw json.RawMessage) error {
	var list []struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return err
	}
	p.ChardevBackends = make([]string, 0, len(list))
	for _, b := range list {
		p.ChardevBackends = append(p.ChardevBackends, b.Name)
	}
	return nil
}

// schemaEntry is one entry of query-qmp-schema. Only commands keep their names there;
// types are named by opaque strings, so a return type is found through its command.
type schemaEntry struct {
	Name        string `json:"name"`
	MetaType    string `json:"meta-type"`
	RetType     string `json:"ret-type"`
	ElementType string `json:"element-type"`
	Members     []struct {
		Name string `json:"name"`
	} `json:"members"`
}

// returnsMember reports whether the return value of command, or the elements of a
// returned list, has a member named member in the schema.
func returnsMember(raw json.RawMessage, command, member string) (bool, error) {
	var entries []schemaEntry
	if err := json.Unmarshal(raw, &entries); err != nil {
		return false, err
	}
	byName := make(map[string]*schemaEntry, len(entries))
	for i := range entries {
		byName[entries[i].Name] = &entries[i]
	}
	cmd := byName[command]
	if cmd == nil || cmd.MetaType != "command" {
		return false, fmt.Errorf("no command %s", command)
	}
	ret := byName[cmd.RetType]
	if ret != nil && ret.MetaType == "array" {
		ret = byName[ret.ElementType]
	}
	if ret == nil {
		return false, fmt.Errorf("no return type of %s", command)
	}
	for _, m := range ret.Members {
		if m.Name == member {
			return true, nil
		}
	}
	return false, nil
}
