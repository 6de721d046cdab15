package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qscope/qscope/catalog"
	"github.com/qscope/qscope/internal/golden"
	"github.com/qscope/qscope/policy"
	"github.com/qscope/qscope/vm"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func testResult(t *testing.T) *policy.Result {
	t.Helper()
	l, err := catalog.Parse("default", "test.yaml", []byte(`schema: 1
entries:
  - {kind: machine, name: pc-q35-*, status: secure, reason: versioned q35 machines are declared secure, source: "qemu-devel <20250926140144.1998694-15-berrange@redhat.com>"}
  - {kind: accel, name: kvm-accel, status: secure, reason: KVM is declared secure, source: "qemu-devel <20250926140144.1998694-18-berrange@redhat.com>"}
  - {kind: device, name: ne2k_pci, status: insecure, reason: the series marks most non-virtio NICs insecure, source: "qemu-devel <20250926140144.1998694-25-berrange@redhat.com>"}
aliases:
  - {kind: machine, alias: q35, type: pc-q35-*, source: s}
  - {kind: accel, alias: kvm, type: kvm-accel, source: s}
`))
	if err != nil {
		t.Fatal(err)
	}
	long := "a-very-long-device-name-that-does-not-fit-the-type-column"
	cfg := &vm.Config{Target: "x86_64", Binary: "qemu-system-x86_64",
		CompatInsecureTypes: "reject",
		Notes:               []string{"option -soundhw was removed in QEMU 7.1"},
		Components: []vm.Component{
			{Kind: vm.KindMachine, Name: "q35", Origin: &vm.Origin{Arg: 1, Option: "-machine",
				Text: "q35,accel=kvm"}},
			{Kind: vm.KindAccel, Name: "kvm", Origin: &vm.Origin{Arg: 1, Option: "-machine",
				Text: "q35,accel=kvm"}},
			{Kind: vm.KindDevice, Name: "ne2k_pci", Origin: &vm.Origin{Arg: 3,
				Option: "-device", Text: "ne2k_pci,netdev=n0,id=nic0,mac=52:54:00:12:34:56,addr=0x3"}},
			{Kind: vm.KindDevice, Name: long, Origin: &vm.Origin{Arg: 5, Option: "-device",
				Text: long}},
			{Kind: vm.KindDevice, Name: "ICH9-LPC", Board: true,
				ImpliedBy: "machine q35 board device: ICH9 LPC bridge with ACPI"},
		}}
	return policy.Evaluate(cfg, catalog.New(l), policy.ProhibitInsecure)
}

func TestWriteText(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, New(testResult(t))); err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(buf.String(), "\n") {
		if len(line) > lineWidth {
			t.Errorf("line %d is %d columns wide: %q", i+1, len(line), line)
		}
	}
	golden.Check(t, filepath.Join("testdata", "text.golden"), buf.String(), *update)
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	rep := New(testResult(t))
	if err := WriteJSON(&buf, rep); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 1 {
		t.Errorf("JSON report has %d lines, want one", n)
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, buf.Bytes(), "", "  "); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "report.json.golden"), indented.String(),
		*update)
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !back.QEMUCompat.WouldReject || back.Verdict != "rejected" || back.Scope != "out" {
		t.Errorf("round trip: %+v", back.QEMUCompat)
	}
	if back.Summary != (Summary{Secure: 3, Insecure: 1, Undecided: 1, Warnings: 1,
		Rejected: 1}) {
		t.Errorf("summary = %+v", back.Summary)
	}
}
