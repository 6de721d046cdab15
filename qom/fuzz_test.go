package qom

import (
	"bytes"
	"strings"
	"testing"

	"github.com/qscope/qscope/qemuargs"
)

// FuzzParseTypesTSV feeds arbitrary text to the type list parser. It must never panic,
// and a list it accepts has unique, well-formed names.
func FuzzParseTypesTSV(f *testing.F) {
	for _, s := range []string{
		"name\tparent\tabstract\nvirtio-net-pci\tvirtio-net-pci-base\t\n",
		"name\tparent\tabstract\r\nobject\t\ttrue\r\ndevice\tobject\ttrue\r\n\r\n",
		"name\tparent\tabstract\na\tb\tmaybe\n",
		"name\tparent\tabstract\na\tb\n",
		"name\tparent\tabstract\na b\tc\t\n",
		"name\tparent\tabstract\na\t\t\na\t\t\n",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		types, err := ParseTypesTSV(strings.NewReader(text))
		if err != nil {
			if types != nil {
				t.Errorf("ParseTypesTSV returned types with error %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, typ := range types {
			if !validName(typ.Name) || seen[typ.Name] {
				t.Errorf("accepted invalid or duplicate name %q", typ.Name)
			}
			seen[typ.Name] = true
		}
	})
}

// FuzzParseMachineList feeds arbitrary text to the machine list parser.
func FuzzParseMachineList(f *testing.F) {
	for _, s := range []string{"pc-q35-9.0\nnone\n", "none\r\n\r\nvirt\n", "a b\n",
		"x\nx\n", "\n\n", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		machines, err := ParseMachineList(strings.NewReader(text))
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, m := range machines {
			if !validName(m.Name) || seen[m.Name] {
				t.Errorf("accepted invalid or duplicate name %q", m.Name)
			}
			seen[m.Name] = true
		}
	})
}

// FuzzDecode feeds arbitrary JSON to the profile reader and annotates a configuration with
// what it accepts: neither may panic, a cycle in the parent chains included.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"schema":1,"version":"7.2.22","target":"x86_64","sources":[],` +
			`"abstract_types":true,"secure_reported":true,"machine_aliases":true,` +
			`"types":[{"name":"object","abstract":true},{"name":"a","parent":"b"},` +
			`{"name":"b","parent":"a","secure":true}],` +
			`"machines":[{"name":"pc-1.0","alias":"pc","default":true}]}`,
		`{"schema":1,"version":"9.0","target":"aarch64","types":[{"name":"x"}],` +
			`"machines":[{"name":"virt","secure":false}],"cpus":[{"name":"max"}]}`,
		`{"schema":2}`,
		`{"schema":1,"version":"7.2","target":"x86_64","types":[{"name":"x"},{"name":"x"}],` +
			`"machines":[{"name":"m"}]}`,
		`{}`, `[]`, `{"schema":1} {}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		p, err := Decode(bytes.NewReader([]byte(text)))
		if err != nil {
			return
		}
		for _, typ := range p.Types {
			if len(p.Parents(typ.Name)) > maxDepth {
				t.Errorf("chain of %s longer than %d", typ.Name, maxDepth)
			}
		}
		cat := defaultCatalog(t)
		cat.Push(p.Layer(cat))
		cfg, err := qemuargs.Parse([]string{"qemu-system-x86_64", "-M", "pc", "-device", "a",
			"-object", "b,id=o", "-cpu", "max", "-chardev", "null,id=c"}, qemuargs.Options{})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Target = p.Target
		_ = p.Annotate(cfg, cat)
	})
}
