package catalog

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/qscope/qscope/vm"
)

const testLayer = `schema: 1
entries:
  - kind: device
    name: e1000
    status: secure
    reason: declared secure
    source: test
  - kind: device
    name: "*"
    status: insecure
    reason: everything else
    source: test
  - kind: device
    name: "e1000*"
    status: undecided
    reason: e1000 family
    source: test
  - kind: block-driver
    name: vmdk
    status: undecided
    reason: read-write vmdk
    source: test
  - kind: block-driver
    name: vmdk
    when: ["read-only=on"]
    status: secure
    reason: read-only vmdk
    source: test
  - kind: block-driver
    name: null-co
    when: ["read-zeroes!=on"]
    status: insecure
    reason: uninitialised reads
    source: test
  - kind: machine
    name: pc-q35-*
    targets: [x86_64]
    status: secure
    reason: versioned q35
    source: test
  - kind: machine
    name: virt
    targets: [riscv64]
    status: secure
    reason: riscv virt
    source: test
aliases:
  - kind: machine
    alias: q35
    type: pc-q35-*
    targets: [x86_64]
    source: test
  - kind: device
    alias: lsi
    type: lsi53c895a
    source: test
`

func mustParse(t *testing.T, name, text string) *Layer {
	t.Helper()
	l, err := Parse(name, name+".yaml", []byte(text))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return l
}

func TestLookup(t *testing.T) {
	cat := New(mustParse(t, "default", testLayer))
	tests := []struct {
		name       string
		q          Query
		wantReason string
	}{
		{"exact beats glob", Query{Kind: vm.KindDevice, Name: "e1000"}, "declared secure"},
		{"longer glob beats star", Query{Kind: vm.KindDevice, Name: "e1000e"}, "e1000 family"},
		{"star matches the rest", Query{Kind: vm.KindDevice, Name: "ne2k_pci"},
			"everything else"},
		{"condition holds", Query{Kind: vm.KindBlockDriver, Name: "vmdk",
			Props: map[string]string{"read-only": "on"}}, "read-only vmdk"},
		{"condition with boolean spelling", Query{Kind: vm.KindBlockDriver, Name: "vmdk",
			Props: map[string]string{"read-only": "yes"}}, "read-only vmdk"},
		{"condition fails", Query{Kind: vm.KindBlockDriver, Name: "vmdk",
			Props: map[string]string{"read-only": "off"}}, "read-write vmdk"},
		{"not-equal holds when absent", Query{Kind: vm.KindBlockDriver, Name: "null-co"},
			"uninitialised reads"},
		{"machine suffix stripped", Query{Kind: vm.KindMachine, Name: "pc-q35-7.2-machine",
			Target: "x86_64"}, "versioned q35"},
		{"target matches", Query{Kind: vm.KindMachine, Name: "virt", Target: "riscv64"},
			"riscv virt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := cat.Lookup(tt.q)
			if e == nil {
				t.Fatalf("Lookup(%+v) = nil, want %q", tt.q, tt.wantReason)
			}
			if e.Reason != tt.wantReason {
				t.Errorf("Lookup(%+v) reason = %q, want %q", tt.q, e.Reason, tt.wantReason)
			}
		})
	}
}

func TestLookupNoMatch(t *testing.T) {
	cat := New(mustParse(t, "default", testLayer))
	for _, q := range []Query{
		{Kind: vm.KindBlockDriver, Name: "null-co", Props: map[string]string{"read-zeroes": "on"}},
		{Kind: vm.KindMachine, Name: "virt", Target: "aarch64"},
		{Kind: vm.KindMachine, Name: "pc-q35-7.2", Target: "aarch64"},
		{Kind: vm.KindNetdev, Name: "user"},
	} {
		if e := cat.Lookup(q); e != nil {
			t.Errorf("Lookup(%+v) = %s %q, want no entry", q, e.Where(), e.Reason)
		}
	}
}

func TestLookupLaterLayerWins(t *testing.T) {
	user := mustParse(t, "user", `schema: 1
entries:
  - kind: block-driver
    name: vmdk
    status: insecure
    reason: never vmdk here
    source: site policy
`)
	cat := New(mustParse(t, "default", testLayer), user)
	e := cat.Lookup(Query{Kind: vm.KindBlockDriver, Name: "vmdk",
		Props: map[string]string{"read-only": "on"}})
	if e == nil || e.Layer != "user" || e.Status != Insecure {
		t.Fatalf("Lookup = %+v, want the user layer's insecure entry", e)
	}
	if e.Line != 3 || e.File != "user.yaml" {
		t.Errorf("entry location = %s, want user.yaml:3", e.Where())
	}
	// The user layer has no entry for e1000, so the default layer still decides it.
	if e := cat.Lookup(Query{Kind: vm.KindDevice, Name: "e1000"}); e == nil ||
		e.Layer != "default" {
		t.Errorf("Lookup(e1000) = %+v, want the default layer", e)
	}
}

func TestResolve(t *testing.T) {
	cat := New(mustParse(t, "default", testLayer))
	tests := []struct {
		kind    vm.Kind
		name    string
		target  string
		version string
		want    string
		alias   bool
	}{
		{vm.KindMachine, "q35", "x86_64", "7.2", "pc-q35-7.2", true},
		{vm.KindMachine, "q35", "x86_64", "", "pc-q35-*", true},
		{vm.KindMachine, "q35", "aarch64", "", "q35", false},
		{vm.KindDevice, "lsi", "x86_64", "", "lsi53c895a", true},
		{vm.KindDevice, "e1000", "x86_64", "", "e1000", false},
	}
	for _, tt := range tests {
		got, a := cat.Resolve(tt.kind, tt.name, tt.target, tt.version)
		if got != tt.want || (a != nil) != tt.alias {
			t.Errorf("Resolve(%s %s %s %s) = %q, alias %v; want %q, alias %v", tt.kind,
				tt.name, tt.target, tt.version, got, a != nil, tt.want, tt.alias)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		wantLine int
		want     string
	}{
		{"missing schema", "entries: []\n", 1, "missing schema"},
		{"wrong schema", "schema: 2\n", 1, `unsupported schema "2"`},
		{"yaml syntax", "schema: 1\nentries: [\n", 2, ""},
		{"unknown field", "schema: 1\nentries:\n  - kind: device\n    nam: x\n", 4,
			`unknown field "nam"`},
		{"invalid kind", entry("kind: gadget"), 3, `invalid kind "gadget"`},
		{"invalid status", entry("status: fine"), 5, `invalid status "fine"`},
		{"missing reason", "schema: 1\nentries:\n  - kind: device\n    name: x\n" +
			"    status: secure\n    source: s\n", 3, `missing field "reason"`},
		{"empty source", entry("source: ''"), 7, `field "source" is empty`},
		{"bad glob", entry("name: 'a['"), 4, "invalid glob"},
		{"bad condition", entry("when: ['=x']"), 8, "invalid condition"},
		{"targets not a list", entry("targets: x86_64"), 8, "want a list"},
		{"entries not a list", "schema: 1\nentries: {}\n", 2, "want a list"},
		{"duplicate entry", "schema: 1\nentries:\n" + entryBody + entryBody, 8,
			"duplicates the entry at"},
		{"alias to itself", "schema: 1\naliases:\n  - kind: device\n    alias: a\n" +
			"    type: a\n    source: s\n", 3, "resolves to itself"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("user", "user.yaml", []byte(tt.text))
			ce, ok := err.(*Error)
			if !ok {
				t.Fatalf("Parse error = %v, want a *catalog.Error", err)
			}
			if ce.File != "user.yaml" {
				t.Errorf("error file = %q, want user.yaml", ce.File)
			}
			if ce.Line != tt.wantLine {
				t.Errorf("error line = %d, want %d (%v)", ce.Line, tt.wantLine, err)
			}
			if !strings.Contains(ce.Msg, tt.want) {
				t.Errorf("error = %q, want it to contain %q", ce.Msg, tt.want)
			}
		})
	}
}

const entryBody = `  - kind: device
    name: x
    status: secure
    reason: r
    source: s
`

// entry returns a one-entry catalog with one field replaced or added.
func entry(field string) string {
	key, _, _ := strings.Cut(field, ":")
	lines := []string{"schema: 1", "entries:", "  - kind: device", "    name: x",
		"    status: secure", "    reason: r", "    source: s"}
	replaced := false
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimLeft(l, " -"), key+":") {
			lines[i] = strings.Replace(l, strings.TrimLeft(l, " -"), field, 1)
			replaced = true
		}
	}
	if !replaced {
		lines = append(lines, "    "+field)
	}
	return strings.Join(lines, "\n") + "\n"
}

func TestParseCondition(t *testing.T) {
	props := map[string]string{"read-only": "on", "host": "127.0.0.1"}
	tests := []struct {
		text string
		want bool
	}{
		{"read-only", true},
		{"!read-only", false},
		{"!password", true},
		{"read-only=on", true},
		{"read-only=true", true},
		{"read-only=off", false},
		{"host=127.0.0.1|::1", true},
		{"host!=127.0.0.1|::1", false},
		{"tls-creds!=x", true},
	}
	for _, tt := range tests {
		c, err := ParseCondition(tt.text)
		if err != nil {
			t.Fatalf("ParseCondition(%q): %v", tt.text, err)
		}
		if got := c.Holds(props); got != tt.want {
			t.Errorf("%q holds = %v, want %v", tt.text, got, tt.want)
		}
	}
	for _, bad := range []string{"", "=on", "a=", "!", "a b"} {
		if _, err := ParseCondition(bad); err == nil {
			t.Errorf("ParseCondition(%q) = nil error, want an error", bad)
		}
	}
}

func TestDefaultLoads(t *testing.T) {
	l, err := Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	counts := map[vm.Kind]int{}
	for _, e := range l.Entries {
		counts[e.Kind]++
		if e.File == "" || e.Line == 0 {
			t.Errorf("entry %s %s has no location", e.Kind, e.Name)
		}
	}
	for _, k := range []vm.Kind{vm.KindMachine, vm.KindAccel, vm.KindDevice,
		vm.KindBlockDriver, vm.KindNetdev, vm.KindChardev, vm.KindDisplay, vm.KindAudiodev,
		vm.KindObject, vm.KindMonitor, vm.KindOption} {
		if counts[k] == 0 {
			t.Errorf("default catalog has no %s entries", k)
		}
	}
}

// TestDefaultFacts checks decisions that public sources state outright, so that an edit of
// the data files cannot silently flip them.
func TestDefaultFacts(t *testing.T) {
	def, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	cat := New(def)
	tests := []struct {
		kind   vm.Kind
		name   string
		target string
		props  map[string]string
		want   Status
	}{
		{vm.KindMachine, "q35", "x86_64", nil, Secure},
		{vm.KindMachine, "pc", "x86_64", nil, Secure},
		{vm.KindMachine, "isapc", "x86_64", nil, Insecure},
		{vm.KindMachine, "none", "x86_64", nil, Insecure},
		{vm.KindMachine, "virt", "aarch64", nil, Secure},
		{vm.KindMachine, "raspi3b", "aarch64", nil, Undecided},
		{vm.KindAccel, "kvm", "x86_64", nil, Secure},
		{vm.KindAccel, "tcg", "x86_64", nil, Insecure},
		{vm.KindDevice, "virtio-net-pci", "x86_64", nil, Secure},
		{vm.KindDevice, "e1000", "x86_64", nil, Secure},
		{vm.KindDevice, "ne2k_pci", "x86_64", nil, Insecure},
		{vm.KindDevice, "lsi", "x86_64", nil, Insecure},
		{vm.KindDevice, "edu", "x86_64", nil, Insecure},
		{vm.KindBlockDriver, "vvfat", "x86_64", nil, Insecure},
		{vm.KindBlockDriver, "qcow2", "x86_64", nil, Secure},
		{vm.KindBlockDriver, "null-co", "x86_64", nil, Insecure},
		{vm.KindMonitor, "qmp", "x86_64", map[string]string{"backend": "socket",
			"transport": "unix", "path": "/run/qmp.sock"}, Secure},
		{vm.KindMonitor, "hmp", "x86_64", map[string]string{"backend": "socket",
			"transport": "tcp", "host": "0.0.0.0", "port": "4444"}, Insecure},
	}
	for _, tt := range tests {
		name, _ := cat.Resolve(tt.kind, tt.name, tt.target, "")
		e := cat.Lookup(Query{Kind: tt.kind, Name: name, Target: tt.target, Props: tt.props})
		got := Undecided
		if e != nil {
			got = e.Status
		}
		if got != tt.want {
			t.Errorf("%s %s on %s = %s, want %s", tt.kind, tt.name, tt.target, got, tt.want)
		}
	}
}

// TestGeneratedDefaultIsCurrent fails when data/*.yaml changed without "go generate
// ./catalog", because qscope loads the compiled form.
func TestGeneratedDefaultIsCurrent(t *testing.T) {
	src, err := ParseDefaultSource()
	if err != nil {
		t.Fatalf("the YAML source does not load: %v", err)
	}
	def, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	opts := cmp.Options{cmpopts.IgnoreUnexported(Layer{}), cmpopts.EquateEmpty()}
	exact, globs := IndexEntries(src.Entries)
	if !slices.Equal(exact, generatedExact) || !slices.Equal(globs, generatedGlobs) {
		t.Error("the generated lookup tables are stale; run go generate ./catalog")
	}
	if diff := cmp.Diff(src.Entries, def.Entries, opts); diff != "" {
		t.Errorf("default_gen.go is stale; run go generate ./catalog (-yaml +generated):\n%s",
			diff)
	}
	if diff := cmp.Diff(src.Aliases, def.Aliases, opts); diff != "" {
		t.Errorf("default_gen.go is stale; run go generate ./catalog (-yaml +generated):\n%s",
			diff)
	}
}

// TestExampleCatalogsLoad keeps the example catalogs in docs/examples valid.
func TestExampleCatalogsLoad(t *testing.T) {
	files, err := filepath.Glob("../docs/examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example catalogs: %v", err)
	}
	for _, f := range files {
		if _, err := LoadFile(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
