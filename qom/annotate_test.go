package qom

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/qscope/qscope/policy"
	"github.com/qscope/qscope/vm"
)

func TestAnnotate(t *testing.T) {
	x86 := []string{"qemu-system-x86_64", "-nodefaults", "-display", "none"}
	arm := []string{"qemu-system-aarch64", "-M", "virt", "-nodefaults", "-display", "none"}
	virtioNetPCI := []string{"virtio-net-pci-base", "virtio-pci", "pci-device", "device",
		"object"}
	tests := []struct {
		name    string
		binary  string
		argv    []string
		errs    []string            // each error's message, in argv order
		notes   []string            // texts some note must contain
		parents map[string][]string // "kind name" to the component's parent chain
	}{
		{name: "machine alias", binary: "qemu-system-x86_64",
			argv: append(x86, "-M", "q35"),
			parents: map[string][]string{"machine q35": {"generic-pc-machine",
				"x86-machine", "machine", "object"}}},
		{name: "default machine", binary: "qemu-system-x86_64", argv: x86,
			parents: map[string][]string{"machine pc": {"generic-pc-machine",
				"x86-machine", "machine", "object"}}},
		{name: "device alias", binary: "qemu-system-x86_64",
			argv:    append(x86, "-device", "virtio-net,netdev=n", "-netdev", "user,id=n"),
			parents: map[string][]string{"device virtio-net": virtioNetPCI}},
		{name: "device alias on arm", binary: "qemu-system-aarch64",
			argv:    append(arm, "-device", "virtio-net-pci,netdev=n", "-netdev", "user,id=n"),
			parents: map[string][]string{"device virtio-net-pci": virtioNetPCI}},
		{name: "object, chardev, CPU", binary: "qemu-system-x86_64",
			argv: append(x86, "-object", "secret,id=s,file=/k", "-chardev",
				"socket,id=c,path=/s", "-cpu", "host"),
			parents: map[string][]string{
				"object secret":  {"secret_common", "object"},
				"chardev socket": {"chardev", "object"},
				"cpu host": {"max-x86_64-cpu", "x86_64-cpu", "cpu", "device",
					"object"}}},
		{name: "arm CPU", binary: "qemu-system-aarch64",
			argv: append(arm, "-cpu", "cortex-a57"),
			parents: map[string][]string{"cpu cortex-a57": {"aarch64-cpu", "arm-cpu",
				"cpu", "device", "object"}}},
		{name: "unknown device", binary: "qemu-system-x86_64",
			argv: append(x86, "-device", "no-such-nic"),
			errs: []string{"'no-such-nic' is not a valid device model name"}},
		{name: "type that is no device", binary: "qemu-system-x86_64",
			argv: append(x86, "-device", "secret"),
			errs: []string{"'secret' is not a valid device model name"}},
		{name: "abstract device", binary: "qemu-system-x86_64",
			argv: append(x86, "-device", "pci-device"),
			errs: []string{"Parameter 'driver' expects a non-abstract device type"}},
		{name: "device of another target", binary: "qemu-system-aarch64",
			argv: append(arm, "-device", "isa-serial"),
			errs: []string{"'isa-serial' is not a valid device model name"}},
		{name: "unknown machine", binary: "qemu-system-x86_64",
			argv: append(x86, "-M", "pc-q35-1.0"),
			errs: []string{"unsupported machine type"}},
		{name: "QOM machine type name", binary: "qemu-system-x86_64",
			argv: append(x86, "-M", "none-machine"),
			errs: []string{"unsupported machine type"}},
		{name: "unknown object", binary: "qemu-system-x86_64",
			argv: append(x86, "-object", "no-such-object,id=o"),
			errs: []string{"invalid object type: no-such-object"}},
		{name: "object not user-creatable", binary: "qemu-system-x86_64",
			argv: append(x86, "-object", "pci-device,id=o"),
			errs: []string{"object type 'pci-device' isn't supported by object-add"}},
		{name: "abstract object", binary: "qemu-system-x86_64",
			argv: append(x86, "-object", "memory-backend,id=m"),
			errs: []string{"object type 'memory-backend' is abstract"}},
		{name: "unknown CPU", binary: "qemu-system-x86_64",
			argv: append(x86, "-cpu", "cortex-a57"),
			errs: []string{"unable to find CPU model 'cortex-a57'"}},
		{name: "unknown chardev backend", binary: "qemu-system-x86_64",
			argv: append(x86, "-chardev", "no-such-backend,id=c"),
			errs: []string{"'no-such-backend' is not a valid char driver name"}},
		{name: "only accelerator missing", binary: "qemu-system-x86_64",
			argv: append(x86, "-accel", "no-such-accel"),
			errs: []string{"invalid accelerator no-such-accel"}},
		{name: "missing accelerator with a fallback", binary: "qemu-system-x86_64",
			argv:  append(x86, "-machine", "accel=no-such-accel:tcg"),
			notes: []string{`QEMU prints "invalid accelerator no-such-accel" and tries`},
			parents: map[string][]string{"accel tcg": {"accel", "object"},
				"accel no-such-accel": nil}},
		{name: "errors in argv order", binary: "qemu-system-x86_64",
			argv: append(x86, "-device", "nic-b", "-M", "bogus", "-device", "nic-a"),
			errs: []string{"'nic-b' is not", "unsupported machine type",
				"'nic-a' is not"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := binaryProfile(t, tt.binary)
			cfg := parse(t, p, tt.argv...)
			err := p.Annotate(cfg, withLayer(t, p))
			checkErrors(t, err, tt.errs)
			for _, want := range tt.notes {
				if !slices.ContainsFunc(cfg.Notes, func(n string) bool {
					return strings.Contains(n, want)
				}) {
					t.Errorf("notes = %q, want one containing %q", cfg.Notes, want)
				}
			}
			for key, want := range tt.parents {
				c := findComponent(t, cfg, key)
				if diff := cmp.Diff(want, c.Parents); diff != "" {
					t.Errorf("%s parents (-want +got):\n%s", key, diff)
				}
			}
			if cfg.QEMUVersion != p.Release() {
				t.Errorf("QEMUVersion = %q, want %q", cfg.QEMUVersion, p.Release())
			}
		})
	}
}

// checkErrors checks that err is an ErrorList whose messages contain want, in order.
func checkErrors(t *testing.T, err error, want []string) {
	t.Helper()
	var list ErrorList
	if err != nil && !errors.As(err, &list) {
		t.Fatalf("error = %v (%T), want an ErrorList", err, err)
	}
	if len(list) != len(want) {
		t.Fatalf("errors = %v, want %d", err, len(want))
	}
	for i, e := range list {
		if !strings.Contains(e.Msg, want[i]) {
			t.Errorf("error %d = %v, want %q", i, e, want[i])
		}
		if !strings.HasPrefix(e.Error(), "qom: argv[") {
			t.Errorf("error %d = %q, want it located by argv index", i, e)
		}
	}
}

// findComponent returns the component named "kind name", failing the test when there is none.
func findComponent(t *testing.T, cfg *vm.Config, key string) *vm.Component {
	t.Helper()
	kind, name, _ := strings.Cut(key, " ")
	found := cfg.Find(vm.Kind(kind), name)
	if len(found) == 0 {
		t.Fatalf("no component %s", key)
	}
	return found[0]
}

// TestAnnotateResolvesLikePolicy checks that the report names the machine type the binary
// resolves an alias to, through the profile's catalog layer.
func TestAnnotateResolvesLikePolicy(t *testing.T) {
	p := binaryProfile(t, "qemu-system-x86_64")
	cat := withLayer(t, p)
	cfg := parse(t, p, "qemu-system-x86_64", "-M", "q35", "-nodefaults")
	if err := p.Annotate(cfg, cat); err != nil {
		t.Fatal(err)
	}
	res := policy.Evaluate(cfg, cat, policy.RequireSecure)
	j := res.Judgements[0]
	want := p.Machine("q35").Name
	if j.Type != want || j.Alias == nil || j.Alias.Layer != p.LayerName() {
		t.Errorf("machine type = %s by alias %+v, want %s by the layer %s", j.Type, j.Alias,
			want, p.LayerName())
	}
	if j.Status != "secure" || j.Entry == nil || j.Entry.Name != "pc-q35-*" {
		t.Errorf("status = %s by %+v, want secure by the default pc-q35-* entry", j.Status,
			j.Entry)
	}
}

func TestAnnotateMismatch(t *testing.T) {
	p := binaryProfile(t, "qemu-system-x86_64")
	tests := []struct {
		name    string
		argv    []string
		version string
		want    string
	}{
		{"other target", []string{"qemu-system-aarch64", "-M", "virt"}, "",
			"the configuration is for target aarch64"},
		{"other release", []string{"qemu-system-x86_64"}, "6.2",
			"the configuration was checked against QEMU 6.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := parse(t, p, tt.argv...)
			if tt.version != "" {
				cfg.QEMUVersion = tt.version
			}
			err := p.Annotate(cfg, withLayer(t, p))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestAnnotateImplied checks that a board device the binary lacks is a note, not an
// error: the board model, not the input, then differs from the binary.
func TestAnnotateImplied(t *testing.T) {
	p, err := FromCapture(captureDir(t, "x86_64"))
	if err != nil {
		t.Fatal(err)
	}
	p = withoutTypes(p, "vmport")
	cfg := parse(t, p, "qemu-system-x86_64", "-M", "pc", "-nodefaults")
	if err := p.Annotate(cfg, withLayer(t, p)); err != nil {
		t.Fatalf("Annotate: %v, want no error", err)
	}
	want := "device vmport (machine pc board device"
	if !slices.ContainsFunc(cfg.Notes, func(n string) bool {
		return strings.Contains(n, want) && strings.Contains(n, "is not provided by")
	}) {
		t.Errorf("notes = %q, want one about vmport", cfg.Notes)
	}
}

// TestAnnotateGenerated checks that a device a generator wrote by itself, such as
// libvirt's default balloon, must exist in the binary: QEMU would refuse to start.
func TestAnnotateGenerated(t *testing.T) {
	p, err := FromCapture(captureDir(t, "x86_64"))
	if err != nil {
		t.Fatal(err)
	}
	p = withoutTypes(p, "virtio-balloon-pci")
	cfg := parse(t, p, "qemu-system-x86_64", "-M", "pc", "-nodefaults", "-device",
		"virtio-balloon-pci")
	for i := range cfg.Components {
		if c := &cfg.Components[i]; c.Name == "virtio-balloon-pci" {
			c.Origin, c.ImpliedBy, c.Generated = nil, "libvirt: the default memory balloon", true
		}
	}
	err = p.Annotate(cfg, withLayer(t, p))
	if err == nil || !strings.Contains(err.Error(),
		"device virtio-balloon-pci (libvirt: the default memory balloon)") {
		t.Errorf("Annotate = %v, want an error naming the generated balloon", err)
	}
}

// withoutTypes returns a copy of p without the named types.
func withoutTypes(p *Profile, names ...string) *Profile {
	data, err := p.Marshal()
	if err != nil {
		panic(err)
	}
	q, err := Decode(bytes.NewReader(data))
	if err != nil {
		panic(err)
	}
	q.Types = slices.DeleteFunc(q.Types, func(t Type) bool {
		return slices.Contains(names, t.Name)
	})
	return q
}

// TestAnnotateCorpusAliases checks machine aliases on a type list without them, where
// the catalog's alias, resolved for the list's release, is used instead.
func TestAnnotateCorpusAliases(t *testing.T) {
	p, err := Load(corpusTypes(t, "9.0.0", "x86_64"))
	if err != nil {
		t.Fatal(err)
	}
	for alias, want := range map[string]error{"q35": nil, "pc": nil,
		"microvm": nil, "pc-q35-42.0": fmt.Errorf("unsupported machine type")} {
		cfg := parse(t, p, "qemu-system-x86_64", "-M", alias, "-nodefaults")
		err := p.Annotate(cfg, withLayer(t, p))
		if (err == nil) != (want == nil) || (err != nil &&
			!strings.Contains(err.Error(), want.Error())) {
			t.Errorf("-M %s: error = %v, want %v", alias, err, want)
		}
	}
}

// TestAnnotateDefaultAccelerator checks the accelerator QEMU picks without -accel on
// builds that lack TCG, or both TCG and KVM.
func TestAnnotateDefaultAccelerator(t *testing.T) {
	full, err := FromCapture(captureDir(t, "x86_64"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		missing []string
		err     string
		note    string
	}{
		{"KVM only", []string{"tcg-accel"}, "",
			"has no accelerator tcg, so without -accel QEMU starts with the accelerator"},
		{"no accelerator", []string{"tcg-accel", "kvm-accel"},
			"No accelerator selected and no default accelerator available", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := withoutTypes(full, tt.missing...)
			cfg := parse(t, p, "qemu-system-x86_64", "-M", "q35", "-nodefaults")
			err := p.Annotate(cfg, withLayer(t, p))
			if (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Errorf("error = %v, want %q", err, tt.err)
			}
			if tt.note != "" && !slices.ContainsFunc(cfg.Notes, func(n string) bool {
				return strings.Contains(n, tt.note)
			}) {
				t.Errorf("notes = %q, want one containing %q", cfg.Notes, tt.note)
			}
		})
	}
}

func TestDescribeOrigin(t *testing.T) {
	tests := []struct {
		name string
		o    vm.Origin
		want string
	}{
		{"command line", vm.Origin{Arg: 3, Option: "-device", Text: "e1000"},
			`argv[3] -device "e1000"`},
		{"domain XML", vm.Origin{Option: "-device", Text: "e1000",
			Path: "/domain/devices/interface[1]/model"},
			`-device "e1000" (/domain/devices/interface[1]/model)`},
		{"live VM", vm.Origin{QOMPath: "/machine/peripheral/net0"},
			"/machine/peripheral/net0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describeOrigin(&tt.o); got != tt.want {
				t.Errorf("describeOrigin = %q, want %q", got, tt.want)
			}
		})
	}
}
