package qemuargs

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestSplitCommandLine(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		wantEnv  []string
		wantArgv []string
	}{
		{"plain", "qemu-system-x86_64 -m 512", nil,
			[]string{"qemu-system-x86_64", "-m", "512"}},
		{"environment assignments", "LC_ALL=C \\\nPATH=/bin \\\n/usr/bin/qemu-system-x86_64 -S",
			[]string{"LC_ALL=C", "PATH=/bin"}, []string{"/usr/bin/qemu-system-x86_64", "-S"}},
		{"continuation inside a word", "qemu -drive file=a,\\\nreadonly=on", nil,
			[]string{"qemu", "-drive", "file=a,readonly=on"}},
		{"single quotes keep everything", `qemu -device '{"driver":"e1000","id":"a b"}'`, nil,
			[]string{"qemu", "-device", `{"driver":"e1000","id":"a b"}`}},
		{"double quotes with escapes", `qemu -name "a \"b\" \\c"`, nil,
			[]string{"qemu", "-name", `a "b" \c`}},
		{"backslash escapes a space", `qemu -name a\ b`, nil, []string{"qemu", "-name", "a b"}},
		{"adjacent quoted parts join", `qemu -name 'a'"b"c`, nil,
			[]string{"qemu", "-name", "abc"}},
		{"comment lines", "# a comment\nqemu -S # trailing\n", nil, []string{"qemu", "-S"}},
		{"assignment after the binary is an argument", "qemu A=B", nil,
			[]string{"qemu", "A=B"}},
		{"quoted name is no assignment", "'A=B' qemu", nil, []string{"A=B", "qemu"}},
		{"quoted value is an assignment", "A='b c' qemu", []string{"A=b c"},
			[]string{"qemu"}},
		{"quoted glob characters stay", `qemu -name '*' -drive "file=a?.img"`, nil,
			[]string{"qemu", "-name", "*", "-drive", "file=a?.img"}},
		{"dollar in single quotes is literal", "qemu -name '$x'", nil,
			[]string{"qemu", "-name", "$x"}},
		{"empty quoted argument", "qemu -name ''", nil, []string{"qemu", "-name", ""}},
		{"crlf line ends", "qemu \\\r\n-S\r\n", nil, []string{"qemu", "-S"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, words, err := SplitCommandLine(tt.text)
			if err != nil {
				t.Fatalf("SplitCommandLine error: %v", err)
			}
			var argv []string
			for _, w := range words {
				argv = append(argv, w.Text)
			}
			if diff := cmp.Diff(tt.wantEnv, env, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("env (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantArgv, argv); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSplitCommandLinePositions(t *testing.T) {
	_, words, err := SplitCommandLine("A=1 \\\n  qemu \\\n  -device e1000")
	if err != nil {
		t.Fatal(err)
	}
	want := []Word{{"qemu", 2, 3}, {"-device", 3, 3}, {"e1000", 3, 11}}
	if diff := cmp.Diff(want, words); diff != "" {
		t.Errorf("words (-want +got):\n%s", diff)
	}
}

func TestSplitCommandLineErrors(t *testing.T) {
	tests := []struct {
		text     string
		want     string
		wantLine int
	}{
		{"qemu -name 'abc", "unterminated single quote", 1},
		{"qemu -name \"abc", "unterminated double quote", 1},
		{"qemu -name $HOME", "shell expansion", 1},
		{"qemu -name \"$HOME\"", "shell expansion", 1},
		{"qemu -name `id`", "shell expansion", 1},
		{"qemu -S | tee log", "shell operator", 1},
		{"qemu -S > log", "shell operator", 1},
		{"qemu -S; qemu -S", "shell operator", 1},
		{"qemu -S\nqemu -S", "second command", 2},
		{"qemu -S \\", "backslash at the end", 1},
		{"qemu -name *", "unquoted '*'", 1},
		{"qemu -drive file=a?.img", "unquoted '?'", 1},
		{"qemu -name x[1]", "unquoted '['", 1},
	}
	for _, tt := range tests {
		_, _, err := SplitCommandLine(tt.text)
		se, ok := err.(*ShellError)
		if !ok {
			t.Errorf("SplitCommandLine(%q) error = %v, want a ShellError", tt.text, err)
			continue
		}
		if !strings.Contains(se.Msg, tt.want) {
			t.Errorf("SplitCommandLine(%q) error = %q, want %q", tt.text, se.Msg, tt.want)
		}
		if se.Line != tt.wantLine {
			t.Errorf("SplitCommandLine(%q) error line = %d, want %d", tt.text, se.Line,
				tt.wantLine)
		}
	}
}

func FuzzSplitCommandLine(f *testing.F) {
	for _, s := range []string{"A=1 qemu -S", "qemu -drive 'file=a,,b' \\\n-S", `"a\"b"`,
		"qemu $x", "# c\nq"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		env, words, err := SplitCommandLine(text)
		if err != nil {
			return
		}
		for _, e := range env {
			if !isAssignment(e) {
				t.Fatalf("environment entry %q is not an assignment", e)
			}
		}
		for _, w := range words {
			if w.Line < 1 || w.Col < 1 {
				t.Fatalf("word %q at line %d column %d", w.Text, w.Line, w.Col)
			}
		}
	})
}
