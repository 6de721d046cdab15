package qemuargs

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseJSONOpts(t *testing.T) {
	tests := []struct {
		name string
		text string
		want map[string]string
	}{
		{"flat", `{"driver":"e1000","id":"n0"}`, map[string]string{"driver": "e1000",
			"id": "n0"}},
		{"nested object becomes dotted keys",
			`{"driver":"qcow2","file":{"driver":"nbd","server":{"type":"inet"}}}`,
			map[string]string{"driver": "qcow2", "file.driver": "nbd",
				"file.server.type": "inet"}},
		{"array elements get indexes", `{"a":["x",{"b":1}]}`,
			map[string]string{"a.0": "x", "a.1.b": "1"}},
		{"double comma stays literal", `{"id":"a,,b"}`, map[string]string{"id": "a,,b"}},
		{"numbers booleans and null", `{"n":1.5e3,"t":true,"f":false,"z":null}`,
			map[string]string{"n": "1.5e3", "t": "true", "f": "false", "z": "null"}},
		{"empty object", `{}`, map[string]string{}},
		{"single-quoted strings", `{'driver':'e1000','id':'a"b','x':'it\'s'}`,
			map[string]string{"driver": "e1000", "id": `a"b`, "x": "it's"}},
		{"single quote inside a double-quoted string", `{"id":"it's"}`,
			map[string]string{"id": "it's"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := ParseJSONOpts(tt.text)
			if err != nil {
				t.Fatalf("ParseJSONOpts(%s) error: %v", tt.text, err)
			}
			if diff := cmp.Diff(tt.want, opts.Map(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ParseJSONOpts(%s) (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

func TestParseJSONOptsErrors(t *testing.T) {
	tests := []struct {
		text string
		want string
	}{
		{`["a"]`, "not an object"},
		{`"x"`, "not an object"},
		{`{"a":1`, "malformed JSON"},
		{`{"a" 1}`, "malformed JSON"},
		{`{"a":1,"a":2}`, `duplicate JSON key "a"`},
		{`{"a":{"b":1,"b":2}}`, `duplicate JSON key "b"`},
		{`{"a":1} x`, "after the JSON object"},
		{`{"a":1}{}`, "after the JSON object"},
		{``, "malformed JSON"},
		{`{a:1}`, "malformed JSON"},
		{`{'a:1}`, "unterminated string"},
		{`{"a":` + strings.Repeat("[", 1100) + strings.Repeat("]", 1100) + `}`,
			"nested deeper than 1024"},
		{strings.Repeat(`{"a":`, 1100) + "1" + strings.Repeat("}", 1100), "nested deeper"},
	}
	for _, tt := range tests {
		_, err := ParseJSONOpts(tt.text)
		if err == nil {
			t.Errorf("ParseJSONOpts(%s) = nil error, want %q", tt.text, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseJSONOpts(%s) error = %q, want it to contain %q", tt.text, err,
				tt.want)
		}
	}
}

func FuzzParseJSONOpts(f *testing.F) {
	for _, s := range []string{`{"driver":"e1000"}`, `{"a":{"b":[1,2]}}`, `{"a":1,"a":2}`,
		`{`, `[]`, `{"x":"a,,b"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		opts, err := ParseJSONOpts(text)
		if err != nil {
			return
		}
		if !strings.HasPrefix(strings.TrimLeft(text, " \t\r\n"), "{") {
			t.Fatalf("ParseJSONOpts(%q) accepted input that is not an object", text)
		}
		seen := map[string]bool{}
		for _, o := range opts {
			if seen[o.Key] {
				t.Fatalf("ParseJSONOpts(%q) returned key %q twice", text, o.Key)
			}
			seen[o.Key] = true
		}
	})
}
