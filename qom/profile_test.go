package qom

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/qscope/qscope/vm"
)

func TestWriteRead(t *testing.T) {
	p := binaryProfile(t, "qemu-system-x86_64")
	path := filepath.Join(t.TempDir(), "p.json")
	if err := p.Write(path); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	ignore := cmpopts.IgnoreFields(Profile{}, "once", "index")
	if diff := cmp.Diff(p, got, ignore); diff != "" {
		t.Errorf("profile after Write and Read (-want +got):\n%s", diff)
	}
	again, err := got.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(path)
	if !bytes.Equal(first, again) {
		t.Error("writing a profile read back gives other bytes")
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("profile file mode = %v, %v; want 0644", st.Mode(), err)
	}
}

func TestDecodeErrors(t *testing.T) {
	valid := `"version":"7.2.22","target":"x86_64","types":[{"name":"object"}],` +
		`"machines":[{"name":"none"}]`
	tests := []struct {
		name, json, want string
	}{
		{"not JSON", `{`, "invalid profile JSON"},
		{"unknown field", `{"schema":1,"frob":1,` + valid + `}`, `unknown field "frob"`},
		{"trailing data", `{"schema":1,` + valid + `} {}`, "data after the profile"},
		{"other schema", `{"schema":2,` + valid + `}`, "unsupported profile schema 2"},
		{"bad version", `{"schema":1,"version":"seven","target":"x86_64"}`,
			`invalid QEMU version "seven"`},
		{"no target", `{"schema":1,"version":"7.2"}`, `invalid target ""`},
		{"no types", `{"schema":1,"version":"7.2","target":"arm"}`, "no types"},
		{"no machines", `{"schema":1,"version":"7.2","target":"arm","types":[{"name":"a"}]}`,
			"no machines"},
		{"duplicate type", `{"schema":1,"version":"7.2","target":"arm","types":[{"name":"a"},` +
			`{"name":"a"}],"machines":[{"name":"m"}]}`, `type "a" listed twice`},
		{"space in name", `{"schema":1,"version":"7.2","target":"arm","types":[{"name":"a b"}],` +
			`"machines":[{"name":"m"}]}`, `invalid type name "a b"`},
		{"alias twice", `{"schema":1,"version":"7.2","target":"arm","types":[{"name":"a"}],` +
			`"machines":[{"name":"m","alias":"x"},{"name":"x"}]}`, `"x" listed twice`},
		{"two defaults", `{"schema":1,"version":"7.2","target":"arm","types":[{"name":"a"}],` +
			`"machines":[{"name":"m","default":true},{"name":"n","default":true}]}`,
			"2 default machines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestReleaseAndDescribe(t *testing.T) {
	tests := []struct {
		p             *Profile
		release, desc string
	}{
		{&Profile{Version: "7.2.22", Target: "x86_64", Binary: "/usr/bin/qemu-system-x86_64"},
			"7.2", "QEMU 7.2.22 x86_64 (/usr/bin/qemu-system-x86_64)"},
		{&Profile{Version: "9.0", Target: "s390x", Sources: []string{"/c/t.tsv"}},
			"9.0", "QEMU 9.0 s390x (/c/t.tsv)"},
	}
	for _, tt := range tests {
		if got := tt.p.Release(); got != tt.release {
			t.Errorf("Release() = %q, want %q", got, tt.release)
		}
		if got := tt.p.Describe(); got != tt.desc {
			t.Errorf("Describe() = %q, want %q", got, tt.desc)
		}
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Kind: vm.KindDevice, Name: "foo", Profile: "QEMU 7.2.22 x86_64",
			Origin: &vm.Origin{Arg: 5, Option: "-device", Text: "foo,id=a"},
			Msg:    "'foo' is not a valid device model name"},
			`qom: argv[5] -device "foo,id=a": QEMU 7.2.22 x86_64 would fail: 'foo' is not ` +
				`a valid device model name`},
		{&Error{Kind: vm.KindDevice, Name: "foo", Profile: "QEMU 7.2.22 x86_64",
			Origin: &vm.Origin{Arg: 3, Option: "-readconfig", Path: "vm.cfg:12"}, Msg: "m"},
			`qom: argv[3] -readconfig (vm.cfg:12): QEMU 7.2.22 x86_64 would fail: m`},
		{&Error{Kind: vm.KindDevice, Name: "foo", Profile: "QEMU 9.0.0 x86_64",
			Origin: &vm.Origin{Path: "/domain/devices/interface[2]/model"}, Msg: "m"},
			`qom: /domain/devices/interface[2]/model: QEMU 9.0.0 x86_64 would fail: m`},
		{&Error{Kind: vm.KindMachine, Name: "pc", ImpliedBy: "default machine",
			Profile: "QEMU 7.2.22 x86_64", Msg: "m"},
			`qom: machine pc (default machine): QEMU 7.2.22 x86_64 would fail: m`},
		{&Error{Msg: "the command line is for target aarch64"},
			`qom: the command line is for target aarch64`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %s\nwant       %s", got, tt.want)
		}
	}
	list := ErrorList{tests[0].err, tests[3].err}
	if err := list.Err(); !strings.HasSuffix(err.Error(), "(and 1 more errors)") ||
		!strings.HasPrefix(err.Error(), "qom: machine pc") {
		t.Errorf("ErrorList = %v, want the implied machine first and a count", err)
	}
}
