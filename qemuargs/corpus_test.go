package qemuargs_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/qscope/qscope/internal/testcorpus"
	"github.com/qscope/qscope/qemuargs"
	"github.com/qscope/qscope/vm"
)

// TestCorpusComponents parses every libvirt-generated command line and checks, against a
// separate reading of the same argv, that every -device driver, -object qom-type, -blockdev
// driver, -netdev type, -chardev backend, machine and accelerator is a component.
func TestCorpusComponents(t *testing.T) {
	seen := 0
	for _, sub := range []string{"libvirt-10.1", "libvirt-5.6"} {
		for _, f := range testcorpus.Files(t, sub, ".args") {
			key := sub + "/" + f.Name
			seen++
			t.Run(key, func(t *testing.T) {
				_, words, err := qemuargs.SplitCommandLine(f.Text)
				if err != nil {
					t.Fatalf("SplitCommandLine: %v", err)
				}
				argv := make([]string, len(words))
				for i, w := range words {
					argv[i] = w.Text
				}
				cfg, err := qemuargs.Parse(argv, qemuargs.Options{})
				if want, reject := testcorpus.QEMURejects[key]; reject {
					var list qemuargs.ErrorList
					if !errors.As(err, &list) || !strings.Contains(err.Error(), want) {
						t.Fatalf("Parse error = %v, want one containing %q", err, want)
					}
					return
				}
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				have := map[string]bool{}
				for _, c := range cfg.Components {
					have[string(c.Kind)+" "+c.Name] = true
				}
				for _, w := range expectedComponents(t, argv) {
					if !have[w] {
						t.Errorf("component %q missing", w)
					}
				}
			})
		}
	}
	if seen < 1000 {
		t.Errorf("read %d corpus command lines, want the whole corpus (over 1000)", seen)
	}
}

// expectedComponents reads argv independently of the parser under test: it takes the
// driver, type, backend or accelerator of the options that name one, from JSON or from
// the first comma-separated field.
func expectedComponents(t *testing.T, argv []string) []string {
	var out []string
	for i := 1; i+1 < len(argv); i++ {
		opt, arg := strings.TrimPrefix(argv[i], "-"), argv[i+1]
		switch opt {
		case "device":
			out = append(out, "device "+field(t, arg, "driver"))
		case "object":
			out = append(out, "object "+field(t, arg, "qom-type"))
		case "netdev":
			out = append(out, "netdev "+field(t, arg, "type"))
		case "chardev":
			b := field(t, arg, "backend")
			if alias, ok := map[string]string{"tty": "serial", "parport": "parallel"}[b]; ok {
				b = alias
			}
			out = append(out, "chardev "+b)
		case "machine", "M":
			if m := field(t, arg, "type"); m != "" && !strings.Contains(m, "=") {
				out = append(out, "machine "+m)
			}
			for _, kv := range strings.Split(arg, ",") {
				if acc, ok := strings.CutPrefix(kv, "accel="); ok {
					for _, a := range strings.Split(acc, ":") {
						out = append(out, "accel "+a)
					}
				}
			}
		case "accel":
			out = append(out, "accel "+field(t, arg, "accel"))
		case "blockdev":
			for _, d := range blockdevDrivers(t, arg) {
				out = append(out, "block-driver "+d)
			}
		default:
			continue
		}
		i++
	}
	for _, w := range argv {
		if w == "-enable-kvm" {
			out = append(out, "accel kvm")
		}
	}
	return out
}

func field(t *testing.T, arg, key string) string {
	if strings.HasPrefix(arg, "{") {
		var m map[string]any
		if err := json.Unmarshal([]byte(arg), &m); err != nil {
			t.Fatalf("corpus JSON %s: %v", arg, err)
		}
		s, _ := m[key].(string)
		return s
	}
	parts := strings.Split(arg, ",")
	for _, p := range parts {
		if v, ok := strings.CutPrefix(p, key+"="); ok {
			return v
		}
	}
	return parts[0]
}

func blockdevDrivers(t *testing.T, arg string) []string {
	var out []string
	if strings.HasPrefix(arg, "{") {
		var m map[string]any
		if err := json.Unmarshal([]byte(arg), &m); err != nil {
			t.Fatalf("corpus JSON %s: %v", arg, err)
		}
		var walk func(map[string]any)
		walk = func(m map[string]any) {
			if d, ok := m["driver"].(string); ok {
				out = append(out, d)
			}
			for _, v := range m {
				if sub, ok := v.(map[string]any); ok {
					walk(sub)
				}
			}
		}
		walk(m)
		return out
	}
	for _, kv := range strings.Split(arg, ",") {
		k, v, _ := strings.Cut(kv, "=")
		if k == "driver" || strings.HasSuffix(k, ".driver") {
			out = append(out, v)
		}
	}
	return out
}

// TestCorpusImpliedHaveNoOrigin checks the origin contract over the whole corpus: a
// component has an origin or says what implied it, never both.
func TestCorpusImpliedHaveNoOrigin(t *testing.T) {
	for _, f := range testcorpus.Files(t, "libvirt-10.1", ".args") {
		_, words, err := qemuargs.SplitCommandLine(f.Text)
		if err != nil {
			t.Fatal(err)
		}
		argv := make([]string, len(words))
		for i, w := range words {
			argv[i] = w.Text
		}
		cfg, err := qemuargs.Parse(argv, qemuargs.Options{})
		if err != nil {
			continue
		}
		for _, c := range cfg.Components {
			if (c.Origin == nil) == (c.ImpliedBy == "") {
				t.Errorf("%s: component %s %s has origin %v and implied-by %q", f.Name,
					c.Kind, c.Name, c.Origin, c.ImpliedBy)
			}
			if c.Origin != nil && (c.Origin.Arg < 1 || c.Origin.Arg >= len(argv) ||
				argv[c.Origin.Arg] != c.Origin.Option) {
				t.Errorf("%s: component %s %s origin %+v does not point at its option",
					f.Name, c.Kind, c.Name, c.Origin)
			}
			if c.Kind == vm.KindMachine && c.Origin == nil {
				t.Errorf("%s: libvirt always names the machine, got an implied one", f.Name)
			}
		}
	}
}
