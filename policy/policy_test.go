package policy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/qscope/qscope/catalog"
	"github.com/qscope/qscope/vm"
)

func TestFindingFor(t *testing.T) {
	tests := []struct {
		level                       Level
		secure, undecided, insecure Finding
	}{
		{Accept, OK, OK, OK},
		{Warn, OK, Warning, Warning},
		{ProhibitInsecure, OK, Warning, Rejected},
		{RequireSecure, OK, Rejected, Rejected},
	}
	for _, tt := range tests {
		for status, want := range map[catalog.Status]Finding{catalog.Secure: tt.secure,
			catalog.Undecided: tt.undecided, catalog.Insecure: tt.insecure} {
			if got := FindingFor(tt.level, status); got != want {
				t.Errorf("FindingFor(%s, %s) = %s, want %s", tt.level, status, got, want)
			}
		}
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]Level{"accept": Accept, "warn": Warn,
		"prohibit-insecure": ProhibitInsecure, "require-secure": RequireSecure,
		"reject": RequireSecure} {
		got, err := ParseLevel(in)
		if err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "strict", "Accept", "prohibit_insecure"} {
		if _, err := ParseLevel(bad); err == nil {
			t.Errorf("ParseLevel(%q) = nil error, want an error", bad)
		}
	}
}

const testCatalog = `schema: 1
entries:
  - {kind: machine, name: pc-q35-*, status: secure, reason: r, source: s}
  - {kind: accel, name: kvm-accel, status: secure, reason: r, source: s}
  - {kind: accel, name: tcg-accel, status: insecure, reason: r, source: s}
  - {kind: device, name: virtio-net-pci, status: secure, reason: r, source: s}
  - {kind: device, name: ne2k_pci, status: insecure, reason: r, source: s}
  - {kind: device, name: ich9-ahci, status: undecided, reason: own entry, source: s}
aliases:
  - {kind: machine, alias: q35, type: pc-q35-*, source: s}
  - {kind: accel, alias: kvm, type: kvm-accel, source: s}
  - {kind: accel, alias: tcg, type: tcg-accel, source: s}
`

func testCat(t *testing.T) *catalog.Catalog {
	t.Helper()
	l, err := catalog.Parse("default", "test.yaml", []byte(testCatalog))
	if err != nil {
		t.Fatal(err)
	}
	return catalog.New(l)
}

func device(name string, board bool) vm.Component {
	c := vm.Component{Kind: vm.KindDevice, Name: name, Board: board}
	if board {
		c.ImpliedBy = "machine q35 board device"
	} else {
		c.Origin = &vm.Origin{Arg: 5, Option: "-device", Text: name}
	}
	return c
}

func config(components ...vm.Component) *vm.Config {
	machine := vm.Component{Kind: vm.KindMachine, Name: "q35",
		Origin: &vm.Origin{Arg: 1, Option: "-machine", Text: "q35"}}
	accel := vm.Component{Kind: vm.KindAccel, Name: "kvm",
		Origin: &vm.Origin{Arg: 3, Option: "-accel", Text: "kvm"}}
	return &vm.Config{Target: "x86_64",
		Components: append([]vm.Component{machine, accel}, components...)}
}

func TestEvaluateScopeAndVerdict(t *testing.T) {
	cat := testCat(t)
	tests := []struct {
		name        string
		cfg         *vm.Config
		level       Level
		wantVerdict Verdict
		wantScope   Scope
		wantDecided []int
	}{
		{"all secure is in scope", config(device("virtio-net-pci", false)), RequireSecure,
			Allowed, InScope, nil},
		{"one insecure is out of scope", config(device("ne2k_pci", false),
			device("unknown-dev", false)), ProhibitInsecure, RejectedVM, OutOfScope, []int{2}},
		{"undecided is case by case", config(device("unknown-dev", false)), ProhibitInsecure,
			Allowed, CaseByCase, []int{2}},
		{"require-secure rejects undecided", config(device("unknown-dev", false)),
			RequireSecure, RejectedVM, CaseByCase, []int{2}},
		{"accept allows insecure", config(device("ne2k_pci", false)), Accept, Allowed,
			OutOfScope, []int{2}},
		{"warn allows insecure", config(device("ne2k_pci", false)), Warn, Allowed,
			OutOfScope, []int{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Evaluate(tt.cfg, cat, tt.level)
			if r.Verdict != tt.wantVerdict {
				t.Errorf("verdict = %s, want %s", r.Verdict, tt.wantVerdict)
			}
			if r.Scope != tt.wantScope {
				t.Errorf("scope = %s, want %s", r.Scope, tt.wantScope)
			}
			if diff := cmp.Diff(tt.wantDecided, r.ScopeDecidedBy,
				cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("scope decided by (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvaluateBoardDevices(t *testing.T) {
	cfg := config(device("ICH9-LPC", true), device("ich9-ahci", true),
		device("unknown-dev", false), device("ne2k_pci", true))
	r := Evaluate(cfg, testCat(t), RequireSecure)
	tests := []struct {
		index      int
		wantStatus catalog.Status
		wantRule   Rule
	}{
		{2, catalog.Secure, RuleBoard},      // no entry of its own: the machine's status
		{3, catalog.Secure, RuleBoard},      // an undecided entry does not override it
		{4, catalog.Undecided, RuleNoEntry}, // not a board device: no entry, undecided
		{0, catalog.Secure, RuleEntry},      // the machine, through the q35 alias
		{1, catalog.Secure, RuleEntry},      // kvm through its alias
		{5, catalog.Insecure, RuleEntry},    // an insecure entry of its own wins
	}
	for _, tt := range tests {
		j := r.Judgements[tt.index]
		if j.Status != tt.wantStatus || j.Rule != tt.wantRule {
			t.Errorf("component %d (%s): status %s rule %q, want %s %q", tt.index,
				j.Component.Name, j.Status, j.Rule, tt.wantStatus, tt.wantRule)
		}
	}
	if r.Judgements[0].Type != "pc-q35-*" || r.Judgements[0].Alias == nil {
		t.Errorf("machine type = %q alias %v, want pc-q35-* through an alias",
			r.Judgements[0].Type, r.Judgements[0].Alias)
	}
}

func TestEvaluateQEMUCompat(t *testing.T) {
	cfg := config(device("ne2k_pci", false), device("virtio-net-pci", false),
		device("ICH9-LPC", true))
	cfg.Components[1].Name = "tcg"
	cfg.CompatInsecureTypes = "reject"
	r := Evaluate(cfg, testCat(t), Accept)
	if diff := cmp.Diff([]int{0, 1, 2, 3}, r.QEMU.Checked); diff != "" {
		t.Errorf("checked (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{1, 2}, r.QEMU.NotSecure); diff != "" {
		t.Errorf("not secure (-want +got):\n%s", diff)
	}
	if r.QEMU.Policy != "reject" {
		t.Errorf("policy = %q, want reject", r.QEMU.Policy)
	}
}

func TestEvaluateCPUTakesAccelStatus(t *testing.T) {
	cpu := vm.Component{Kind: vm.KindCPU, Name: "host",
		Origin: &vm.Origin{Arg: 5, Option: "-cpu", Text: "host"}}
	tests := []struct {
		name   string
		accels []string
		want   catalog.Status
	}{
		{"kvm", []string{"kvm"}, catalog.Secure},
		{"tcg", []string{"tcg"}, catalog.Insecure},
		{"kvm with tcg fallback takes the worst", []string{"kvm", "tcg"}, catalog.Insecure},
		{"unknown accelerator", []string{"whpx"}, catalog.Undecided},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config(cpu)
			cfg.Components[1].Name = tt.accels[0]
			for _, a := range tt.accels[1:] {
				cfg.Components = append(cfg.Components, vm.Component{Kind: vm.KindAccel,
					Name: a, ImpliedBy: "fallback"})
			}
			r := Evaluate(cfg, testCat(t), RequireSecure)
			j := r.Judgements[2]
			if j.Status != tt.want {
				t.Errorf("cpu status = %s, want %s", j.Status, tt.want)
			}
			if tt.want != catalog.Undecided && j.Rule != RuleCPU {
				t.Errorf("cpu rule = %q, want %q", j.Rule, RuleCPU)
			}
		})
	}
}

func TestEvaluateMonitorTransport(t *testing.T) {
	extra, err := catalog.Parse("extra", "e.yaml", []byte(`schema: 1
entries:
  - {kind: monitor, name: qmp, when: [transport=unix], status: secure, reason: unix, source: s}
  - {kind: monitor, name: hmp, when: [transport=tcp], status: insecure, reason: tcp, source: s}
`))
	if err != nil {
		t.Fatal(err)
	}
	cat := testCat(t)
	cat.Push(extra)
	chardev := vm.Component{Kind: vm.KindChardev, Name: "socket", Carries: []int{3},
		Origin: &vm.Origin{Arg: 5, Option: "-chardev"}}
	mon := vm.Component{Kind: vm.KindMonitor, Name: "qmp",
		Props: map[string]string{"transport": "unix"}, Origin: &vm.Origin{Arg: 7}}
	dataChardev := vm.Component{Kind: vm.KindChardev, Name: "socket",
		Origin: &vm.Origin{Arg: 9}}
	r := Evaluate(config(chardev, mon, dataChardev), cat, RequireSecure)
	if j := r.Judgements[2]; j.Status != catalog.Secure || j.Rule != RuleTransport {
		t.Errorf("monitor chardev = %s %q, want secure %q", j.Status, j.Rule, RuleTransport)
	}
	if j := r.Judgements[4]; j.Status != catalog.Undecided || j.Rule != RuleNoEntry {
		t.Errorf("data chardev = %s %q, want undecided with no entry", j.Status, j.Rule)
	}
}
