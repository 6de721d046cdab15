// Package vm is the configuration model that every qscope front end produces and the policy
// engine judges: a list of components, each with its kind, QEMU name, properties and origin.
//
// The package imports nothing else of qscope, so front ends (command line, domain XML, live
// QMP) and the policy engine can share it without depending on each other.
package vm

import (
	"sort"
	"strings"
)

// Kind is the category of a [Component]. Kinds follow how QEMU itself groups things: QOM
// types (machine, accel, cpu, device, object) and the non-QOM subsystems.
type Kind string

// Component kinds.
const (
	KindMachine     Kind = "machine"
	KindAccel       Kind = "accel"
	KindCPU         Kind = "cpu"
	KindDevice      Kind = "device"
	KindObject      Kind = "object"
	KindChardev     Kind = "chardev"
	KindNetdev      Kind = "netdev"
	KindBlockDriver Kind = "block-driver"
	KindDisplay     Kind = "display"
	KindAudiodev    Kind = "audiodev"
	KindMonitor     Kind = "monitor"
	KindFsdev       Kind = "fsdev"
	KindTpmdev      Kind = "tpmdev"
	KindOption      Kind = "option"
)

// Kinds lists every kind in report order.
var Kinds = []Kind{
	KindMachine, KindAccel, KindCPU, KindDevice, KindObject, KindChardev, KindNetdev,
	KindBlockDriver, KindDisplay, KindAudiodev, KindMonitor, KindFsdev, KindTpmdev, KindOption,
}

// ValidKind reports whether k is one of [Kinds].
func ValidKind(k Kind) bool {
	for _, known := range Kinds {
		if k == known {
			return true
		}
	}
	return false
}

// Origin is the place in the input that a component comes from. Each front end fills the
// fields that fit its input: Arg, Option and Text for a QEMU command line, Path for domain
// XML, QOMPath or Node for a live VM.
type Origin struct {
	// Arg is the argv index of the option word (the binary is argv[0]); 0 when not from argv.
	Arg int
	// Option is the option as written, such as "-device".
	Option string
	// Text is the option's argument as written.
	Text string
	// Path is an XML path such as /domain/devices/interface[2]/model.
	Path string
	// QOMPath is the object's path in a live VM's QOM composition tree.
	QOMPath string
	// Node is a block node name in a live VM.
	Node string
}

// Component is one thing a configuration instantiates or exposes.
type Component struct {
	Kind Kind
	// Name is the QEMU name as the input spells it: a type, driver, backend or option name.
	// Aliases (lsi, q35, kvm) are resolved later, against the catalog.
	Name string
	// Props are the component's properties, with dotted keys for nested options
	// (file.driver=nbd). Values are strings as written; JSON values are rendered as text.
	Props map[string]string
	// Origin is the place in the input the component comes from, or nil for an implied
	// component.
	Origin *Origin
	// ImpliedBy describes what created an implied component, such as "machine pc default
	// NIC" or "-drive if=virtio". It is empty when Origin is set.
	ImpliedBy string
	// Board is true for a device that the machine creates by itself and that -nodefaults
	// does not remove.
	Board bool
	// Generated is true for an implied component that an option of a generated command
	// line creates, such as a device libvirt adds by itself: QEMU refuses to start
	// without its type, as for a written component.
	Generated bool
	// Parent is the name of the component this one belongs to, such as the machine that
	// owns a board device.
	Parent string
	// Carries lists, for a chardev whose only users are monitors, the indexes of those
	// monitor components in [Config.Components]. It is empty for every other component.
	Carries []int
	// Parents is the QOM parent chain of the component's type, nearest first, when a type
	// list of the QEMU binary is known (virtio-net-pci: virtio-net-pci-base, virtio-pci,
	// pci-device, device, object).
	Parents []string
}

// Prop returns the property value for key and whether it is set.
func (c *Component) Prop(key string) (string, bool) {
	v, ok := c.Props[key]
	return v, ok
}

// PropKeys returns the property keys in sorted order.
func (c *Component) PropKeys() []string {
	keys := make([]string, 0, len(c.Props))
	for k := range c.Props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Config is one VM configuration as a front end understood it.
type Config struct {
	// Target is the QEMU target architecture (x86_64, aarch64, ...), from the binary name or
	// the domain XML.
	Target string
	// Binary is the QEMU binary path or name as given; empty when unknown.
	Binary string
	// QEMUVersion is the QEMU version the input was checked against ("7.2"), or empty when
	// the check accepted every version's grammar.
	QEMUVersion string
	// Components are listed in input order, implied components after what implied them.
	Components []Component
	// Compat is the value of -compat insecure-types= (accept, warn, reject), or empty.
	CompatInsecureTypes string
	// Notes are facts about the input that a reader of the report needs, such as "the
	// devices machine raspi3b creates by itself are not modelled".
	Notes []string
}

// Add appends c and returns a pointer to the stored copy.
func (cfg *Config) Add(c Component) *Component {
	cfg.Components = append(cfg.Components, c)
	return &cfg.Components[len(cfg.Components)-1]
}

// Note appends a note unless an equal note is already present.
func (cfg *Config) Note(text string) {
	for _, n := range cfg.Notes {
		if n == text {
			return
		}
	}
	cfg.Notes = append(cfg.Notes, text)
}

// Find returns the components of kind k whose Name is name.
func (cfg *Config) Find(k Kind, name string) []*Component {
	var out []*Component
	for i := range cfg.Components {
		c := &cfg.Components[i]
		if c.Kind == k && c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// NormalizeBool maps QEMU's boolean spellings to "on" and "off" and returns other values
// unchanged. QemuOpts accepts on/off, yes/no, true/false and y/n.
func NormalizeBool(v string) string {
	switch strings.ToLower(v) {
	case "on", "yes", "true", "y":
		return "on"
	case "off", "no", "false", "n":
		return "off"
	}
	return v
}
