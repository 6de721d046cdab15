package qemuargs

import (
	"fmt"
	"strings"
)

// Opt is one key=value pair of an option argument. Offset is the byte offset of the pair in
// the argument text, for error messages.
type Opt struct {
	Key    string
	Value  string
	Offset int
}

// Opts is an option argument parsed into its pairs, in the order written.
type Opts []Opt

// Get returns the value of the last pair named key, as QemuOpts does for repeated keys.
func (o Opts) Get(key string) (string, bool) {
	for i := len(o) - 1; i >= 0; i-- {
		if o[i].Key == key {
			return o[i].Value, true
		}
	}
	return "", false
}

// Value returns the value of key, or "" when it is not set.
func (o Opts) Value(key string) string {
	v, _ := o.Get(key)
	return v
}

// Map returns the pairs as a map; later pairs override earlier ones.
func (o Opts) Map() map[string]string {
	m := make(map[string]string, len(o))
	for _, p := range o {
		m[p.Key] = p.Value
	}
	return m
}

// Set replaces the value of key, or appends the pair when key is not set.
func (o *Opts) Set(key, value string) {
	for i := len(*o) - 1; i >= 0; i-- {
		if (*o)[i].Key == key {
			(*o)[i].Value = value
			return
		}
	}
	*o = append(*o, Opt{Key: key, Value: value, Offset: -1})
}

// syntaxError is a problem at a byte offset of an option argument.
type syntaxError struct {
	Offset int
	Msg    string
}

func (e *syntaxError) Error() string { return e.Msg }

// ParseOpts parses an option argument in QEMU's QemuOpts syntax, the one that -machine,
// -device, -chardev, -netdev and most other options use: comma-separated key=value pairs,
// where ",," is a literal comma inside a value. When implied is not empty, a first pair
// without "=" is the value of that key (-device e1000 is driver=e1000). Any other pair without
// "=" is a boolean flag: "foo" is foo=on and "nofoo" is foo=off, as in QEMU before the flag
// form was deprecated. A trailing comma is ignored, as QEMU ignores it.
func ParseOpts(text, implied string) (Opts, error) {
	var out Opts
	first := true
	for p := 0; p < len(text); {
		start := p
		n := strings.IndexAny(text[p:], "=,")
		if n < 0 {
			n = len(text) - p
		}
		if p+n < len(text) && text[p+n] == '=' {
			key := text[p : p+n]
			if key == "" {
				return nil, &syntaxError{start, fmt.Sprintf(
					"empty parameter name before '=' at offset %d", start)}
			}
			value, next := optValue(text, p+n+1)
			out = append(out, Opt{Key: key, Value: value, Offset: start})
			p = next
		} else if first && implied != "" {
			value, next := optValue(text, p)
			out = append(out, Opt{Key: implied, Value: value, Offset: start})
			p = next
		} else {
			name := text[p : p+n]
			if name == "" {
				return nil, &syntaxError{start, fmt.Sprintf(
					"empty parameter at offset %d", start)}
			}
			key, value := name, "on"
			if strings.HasPrefix(name, "no") && len(name) > 2 {
				key, value = name[2:], "off"
			}
			out = append(out, Opt{Key: key, Value: value, Offset: start})
			p += n
			if p < len(text) {
				p++ // the comma
			}
		}
		first = false
	}
	return out, nil
}

// optValue reads a value starting at p up to the next single comma, turning ",," into ",".
// It returns the value and the offset after the terminating comma.
func optValue(text string, p int) (string, int) {
	var b strings.Builder
	for p < len(text) {
		c := text[p]
		if c == ',' {
			if p+1 < len(text) && text[p+1] == ',' {
				b.WriteByte(',')
				p += 2
				continue
			}
			return b.String(), p + 1
		}
		b.WriteByte(c)
		p++
	}
	return b.String(), p
}

// isHelp reports whether opts asks QEMU for help ("help" or "?" as a flag or as the implied
// first value), which makes QEMU print a list and exit instead of starting a VM.
func isHelp(opts Opts, implied string) bool {
	for i, o := range opts {
		if (o.Key == "help" || o.Key == "?") && o.Value == "on" {
			return true
		}
		if i == 0 && implied != "" && o.Key == implied && (o.Value == "help" || o.Value == "?") {
			return true
		}
	}
	return false
}
