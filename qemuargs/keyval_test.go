package qemuargs

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseOpts(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		implied string
		want    Opts
	}{
		{"implied first key", "e1000,netdev=n0", "driver",
			Opts{{"driver", "e1000", 0}, {"netdev", "n0", 6}}},
		{"implied key given explicitly", "driver=e1000", "driver",
			Opts{{"driver", "e1000", 0}}},
		{"no implied key makes a flag", "readonly,file=x", "",
			Opts{{"readonly", "on", 0}, {"file", "x", 9}}},
		{"no prefix flag", "socket,id=c,server,nowait", "backend",
			Opts{{"backend", "socket", 0}, {"id", "c", 7}, {"server", "on", 12},
				{"wait", "off", 19}}},
		{"double comma in value", "file=a,,b.img,if=virtio", "",
			Opts{{"file", "a,b.img", 0}, {"if", "virtio", 14}}},
		{"double comma in implied value", "e1000,,x", "driver",
			Opts{{"driver", "e1000,x", 0}}},
		{"equals sign in value", "append=root=/dev/vda", "",
			Opts{{"append", "root=/dev/vda", 0}}},
		{"dotted key", "file.driver=nbd,file.host=h", "",
			Opts{{"file.driver", "nbd", 0}, {"file.host", "h", 16}}},
		{"trailing comma ignored", "q35,", "type", Opts{{"type", "q35", 0}}},
		{"empty value", "id=", "", Opts{{"id", "", 0}}},
		{"empty text", "", "type", nil},
		{"implied only for the first pair", "pc,accel", "type",
			Opts{{"type", "pc", 0}, {"accel", "on", 3}}},
		{"bare no is the empty key off", "a=1,nox", "", Opts{{"a", "1", 0}, {"x", "off", 4}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOpts(tt.text, tt.implied)
			if err != nil {
				t.Fatalf("ParseOpts(%q) error: %v", tt.text, err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ParseOpts(%q) (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

func TestParseOptsErrors(t *testing.T) {
	tests := []struct {
		text       string
		wantOffset int
	}{
		{"=x", 0},
		{"a=1,=2", 4},
		{",a=1", 0},
		{"a=1,,", -1},
	}
	for _, tt := range tests {
		_, err := ParseOpts(tt.text, "")
		if tt.wantOffset < 0 {
			if err != nil {
				t.Errorf("ParseOpts(%q) error %v, want none", tt.text, err)
			}
			continue
		}
		se, ok := err.(*syntaxError)
		if !ok {
			t.Errorf("ParseOpts(%q) error = %v, want a syntax error", tt.text, err)
			continue
		}
		if se.Offset != tt.wantOffset {
			t.Errorf("ParseOpts(%q) error offset = %d, want %d", tt.text, se.Offset,
				tt.wantOffset)
		}
	}
}

func TestOptsGetLastWins(t *testing.T) {
	opts, err := ParseOpts("type=pc,type=q35", "")
	if err != nil {
		t.Fatal(err)
	}
	if v := opts.Value("type"); v != "q35" {
		t.Errorf("Value(type) = %q, want q35", v)
	}
}

func TestIsHelp(t *testing.T) {
	tests := []struct {
		text    string
		implied string
		want    bool
	}{
		{"help", "driver", true},
		{"?", "driver", true},
		{"e1000,help", "driver", true},
		{"e1000", "driver", false},
		{"help=x", "", false},
	}
	for _, tt := range tests {
		opts, err := ParseOpts(tt.text, tt.implied)
		if err != nil {
			t.Fatal(err)
		}
		if got := isHelp(opts, tt.implied); got != tt.want {
			t.Errorf("isHelp(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

func FuzzParseOpts(f *testing.F) {
	for _, s := range []string{"e1000,netdev=n0", "a,,b", "socket,nowait,server", "=",
		",", "file.driver=nbd,file.host=x", "a=b=c"} {
		f.Add(s, "driver")
	}
	f.Fuzz(func(t *testing.T, text, implied string) {
		opts, err := ParseOpts(text, implied)
		if err != nil {
			return
		}
		for _, o := range opts {
			if o.Key == "" {
				t.Fatalf("ParseOpts(%q) returned an empty key", text)
			}
			if o.Offset < 0 || o.Offset > len(text) {
				t.Fatalf("ParseOpts(%q) offset %d out of range", text, o.Offset)
			}
		}
	})
}
