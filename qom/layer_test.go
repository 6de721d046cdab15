package qom

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/qscope/qscope/catalog"
	"github.com/qscope/qscope/policy"
	"github.com/qscope/qscope/vm"
)

func TestLayerAliases(t *testing.T) {
	p := binaryProfile(t, "qemu-system-x86_64")
	l := p.Layer(defaultCatalog(t))
	if len(l.Entries) != 0 {
		t.Errorf("%d entries from a binary that reports no security status, want 0",
			len(l.Entries))
	}
	var got []string
	for _, a := range l.Aliases {
		if a.Kind != vm.KindMachine || !slices.Equal(a.Targets, []string{"x86_64"}) {
			t.Errorf("alias %+v, want a machine alias for x86_64", a)
		}
		got = append(got, a.Alias+"="+a.Type)
	}
	want := []string{"pc=" + p.Machine("pc").Name, "q35=" + p.Machine("q35").Name}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("aliases (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(l.Name, "qemu-binary:/") {
		t.Errorf("layer name = %q, want qemu-binary: and the path", l.Name)
	}
}

// reportingProfile returns the profile of Debian's QEMU 7.2 x86_64 as a binary that
// reports security status would give it: the named types and machines declared secure,
// every other machine reported as not secure.
func reportingProfile(t *testing.T, secureTypes, secureMachines []string) *Profile {
	t.Helper()
	p, err := FromCapture(captureDir(t, "x86_64"))
	if err != nil {
		t.Fatal(err)
	}
	p = withoutTypes(p)
	p.SecureReported = true
	for i := range p.Types {
		p.Types[i].Secure = slices.Contains(secureTypes, p.Types[i].Name)
	}
	for i := range p.Machines {
		secure := slices.Contains(secureMachines, p.Machines[i].Name)
		p.Machines[i].Secure = &secure
	}
	return p
}

func TestLayerSecurity(t *testing.T) {
	p := reportingProfile(t, []string{"kvm-accel", "e1000", "ne2k_pci"},
		[]string{"pc-q35-7.2"})
	cat := withLayer(t, p)
	cfg := parse(t, p, "qemu-system-x86_64", "-M", "pc", "-nodefaults", "-display", "none",
		"-accel", "kvm", "-accel", "tcg",
		"-netdev", "user,id=n1", "-device", "e1000,netdev=n1",
		"-netdev", "user,id=n2", "-device", "ne2k_pci,netdev=n2",
		"-netdev", "user,id=n3", "-device", "virtio-net-pci,netdev=n3",
		"-object", "secret,id=s1,data=x", "-object", "tls-creds-x509,id=t1,dir=/x",
		"-object", "tls-creds-x509,id=t2,dir=/x,verify-peer=off")
	if err := p.Annotate(cfg, cat); err != nil {
		t.Fatal(err)
	}
	res := policy.Evaluate(cfg, cat, policy.RequireSecure)
	binary := p.LayerName()
	tests := []struct {
		index  int // into the configuration's components
		name   string
		status catalog.Status
		layer  string
	}{
		// Not declared, and the default's pc-i440fx-* entry declares it secure.
		{0, "pc", catalog.Undecided, binary},
		{1, "kvm", catalog.Secure, binary},
		// Not declared, and the default's insecure entry stays in force.
		{2, "tcg", catalog.Insecure, "default"},
		{4, "e1000", catalog.Secure, binary},
		// Declared secure, although the default classifies it insecure.
		{6, "ne2k_pci", catalog.Secure, binary},
		{8, "virtio-net-pci", catalog.Undecided, binary},
		// The default's undecided and conditional insecure entries stay.
		{9, "secret", catalog.Insecure, "default"},
		// Not declared. The default declares it secure, and undecided with
		// verify-peer=off, and the copy of that entry keeps deciding where it matches.
		{10, "tls-creds-x509", catalog.Undecided, binary},
		{11, "tls-creds-x509", catalog.Undecided, "default"},
	}
	for _, tt := range tests {
		j := res.Judgements[tt.index]
		layer := "no entry"
		if j.Entry != nil {
			layer = j.Entry.Layer
		}
		if j.Component.Name != tt.name || j.Status != tt.status || layer != tt.layer {
			t.Errorf("component %d, %s %s: %s from %s, want %s: %s from %s", tt.index,
				j.Component.Kind, j.Component.Name, j.Status, layer, tt.name, tt.status,
				tt.layer)
		}
	}
	wantNotes := []string{
		"does not declare machine pc-i440fx-7.2 secure, but the catalog classifies it secure",
		"declares device ne2k_pci secure, but the catalog classifies it insecure",
		"does not declare device virtio-net-pci secure, but the catalog classifies it secure",
		"does not declare object tls-creds-x509 secure, but the catalog classifies it secure",
	}
	for _, want := range wantNotes {
		if !slices.ContainsFunc(cfg.Notes, func(n string) bool {
			return strings.Contains(n, want)
		}) {
			t.Errorf("notes = %q\nwant one containing %q", cfg.Notes, want)
		}
	}
	for _, n := range cfg.Notes {
		if strings.Contains(n, "kvm") || strings.Contains(n, "e1000 ") ||
			strings.Contains(n, "secret") {
			t.Errorf("note %q about a component on which binary and catalog agree", n)
		}
	}
}

// TestLayerKeepsConditions checks that withdrawing a secure entry leaves a more specific
// insecure entry of the layer below in force.
func TestLayerKeepsConditions(t *testing.T) {
	p := reportingProfile(t, nil, nil)
	lower, err := catalog.Parse("lower", "lower.yaml", []byte(`schema: 1
entries:
  - kind: device
    name: e1000e
    status: secure
    reason: r
    source: s
  - kind: device
    name: e1000e
    status: insecure
    when: [x-test=on]
    reason: r
    source: s
`))
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.New(lower)
	cat.Push(p.Layer(cat))
	for props, want := range map[string]catalog.Status{"": catalog.Undecided,
		"x-test=on": catalog.Insecure, "x-test=off": catalog.Undecided} {
		q := catalog.Query{Kind: vm.KindDevice, Name: "e1000e", Target: "x86_64",
			Props: map[string]string{}}
		if k, v, ok := strings.Cut(props, "="); ok {
			q.Props[k] = v
		}
		if e := cat.Lookup(q); e == nil || e.Status != want {
			t.Errorf("e1000e with %q: entry %+v, want %s", props, e, want)
		}
	}
}

// TestLayerBelowUserFiles checks that a user catalog file above the binary's layer
// decides.
func TestLayerBelowUserFiles(t *testing.T) {
	p := reportingProfile(t, nil, nil)
	cat := withLayer(t, p)
	user, err := catalog.Parse("site.yaml", "site.yaml", []byte(`schema: 1
entries:
  - kind: device
    name: virtio-net-pci
    status: secure
    reason: reviewed for our hosts
    source: site review
`))
	if err != nil {
		t.Fatal(err)
	}
	cat.Push(user)
	cfg := parse(t, p, "qemu-system-x86_64", "-M", "q35", "-nodefaults",
		"-netdev", "user,id=n", "-device", "virtio-net-pci,netdev=n")
	if err := p.Annotate(cfg, cat); err != nil {
		t.Fatal(err)
	}
	res := policy.Evaluate(cfg, cat, policy.RequireSecure)
	for _, j := range res.Judgements {
		if j.Component.Name != "virtio-net-pci" {
			continue
		}
		if j.Status != catalog.Secure || j.Entry.Layer != "site.yaml" {
			t.Errorf("virtio-net-pci: %s from %s, want secure from site.yaml", j.Status,
				j.Entry.Layer)
		}
	}
}
