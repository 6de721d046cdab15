package qemuargs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ParseJSONOpts parses an option argument written as a JSON object, which -device, -object,
// -blockdev, -netdev, -audiodev and -compat accept in place of key=value pairs when the
// argument starts with '{'. Nested objects become dotted keys (file.driver) and array
// elements get their index (server.0.host), the same keys as the key=value form. Inside
// JSON strings ",," is two commas: the QemuOpts escape does not apply. A duplicate key is an
// error, because which of the two QEMU would use is not obvious to a reader.
//
// QEMU's JSON parser also accepts strings in single quotes ('e1000'), so this function
// does too, and it limits nesting to 1024 levels as QEMU's json-streamer.c does.
func ParseJSONOpts(text string) (Opts, error) {
	standard, err := doubleQuoted(text)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(standard)))
	dec.UseNumber()
	var out Opts
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonError(dec, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, &syntaxError{0, "JSON argument is not an object"}
	}
	if err := walkObject(dec, "", 1, &out); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &syntaxError{int(dec.InputOffset()),
			fmt.Sprintf("unexpected text after the JSON object at offset %d",
				dec.InputOffset())}
	}
	return out, nil
}

// maxJSONNesting is QEMU's limit on nested JSON objects and arrays (MAX_NESTING in
// qobject/json-streamer.c).
const maxJSONNesting = 1024

func walkObject(dec *json.Decoder, prefix string, depth int, out *Opts) error {
	if depth > maxJSONNesting {
		return &syntaxError{int(dec.InputOffset()), fmt.Sprintf(
			"JSON nested deeper than %d levels at offset %d", maxJSONNesting,
			dec.InputOffset())}
	}
	seen := make(map[string]bool)
	for dec.More() {
		offset := int(dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return jsonError(dec, err)
		}
		key, ok := tok.(string)
		if !ok {
			return &syntaxError{offset, fmt.Sprintf("JSON object key is not a string at offset %d",
				offset)}
		}
		if seen[key] {
			return &syntaxError{offset, fmt.Sprintf("duplicate JSON key %q at offset %d", key,
				offset)}
		}
		seen[key] = true
		if err := walkValue(dec, prefix+key, offset, depth, out); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return jsonError(dec, err)
	}
	return nil
}

func walkValue(dec *json.Decoder, key string, offset, depth int, out *Opts) error {
	tok, err := dec.Token()
	if err != nil {
		return jsonError(dec, err)
	}
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			return walkObject(dec, key+".", depth+1, out)
		case '[':
			if depth+1 > maxJSONNesting {
				return &syntaxError{offset, fmt.Sprintf("JSON nested deeper than %d levels "+
					"at offset %d", maxJSONNesting, offset)}
			}
			for i := 0; dec.More(); i++ {
				elem := key + "." + strconv.Itoa(i)
				if err := walkValue(dec, elem, int(dec.InputOffset()), depth+1,
					out); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil { // the closing ']'
				return jsonError(dec, err)
			}
			return nil
		}
		return &syntaxError{offset, fmt.Sprintf("unexpected %q at offset %d", v, offset)}
	case string:
		*out = append(*out, Opt{Key: key, Value: v, Offset: offset})
	case json.Number:
		*out = append(*out, Opt{Key: key, Value: v.String(), Offset: offset})
	case bool:
		*out = append(*out, Opt{Key: key, Value: strconv.FormatBool(v), Offset: offset})
	case nil:
		*out = append(*out, Opt{Key: key, Value: "null", Offset: offset})
	}
	return nil
}

func jsonError(dec *json.Decoder, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &syntaxError{int(se.Offset), fmt.Sprintf("malformed JSON at offset %d: %v",
			se.Offset, se)}
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return &syntaxError{int(dec.InputOffset()), "malformed JSON: unexpected end of input"}
	}
	return &syntaxError{int(dec.InputOffset()), "malformed JSON: " + err.Error()}
}

// doubleQuoted rewrites the single-quoted strings of QEMU's JSON dialect as standard
// double-quoted ones. Inside a single-quoted string, \' is a quote and " needs no escape.
func doubleQuoted(text string) (string, error) {
	if !strings.Contains(text, "'") {
		return text, nil
	}
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch c {
		case '"':
			end := stringEnd(text, i, '"')
			if end < 0 {
				return text, nil // the JSON decoder reports the unterminated string
			}
			b.WriteString(text[i : end+1])
			i = end
		case '\'':
			end := stringEnd(text, i, '\'')
			if end < 0 {
				return "", &syntaxError{i, fmt.Sprintf("malformed JSON: unterminated "+
					"string at offset %d", i)}
			}
			b.WriteByte('"')
			for j := i + 1; j < end; j++ {
				switch {
				case text[j] == '\\' && text[j+1] == '\'':
					b.WriteByte('\'')
					j++
				case text[j] == '\\':
					b.WriteString(text[j : j+2])
					j++
				case text[j] == '"':
					b.WriteString(`\"`)
				default:
					b.WriteByte(text[j])
				}
			}
			b.WriteByte('"')
			i = end
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// stringEnd returns the index of the quote that ends the string starting at start, or -1.
func stringEnd(text string, start int, quote byte) int {
	for j := start + 1; j < len(text); j++ {
		switch text[j] {
		case '\\':
			j++
		case quote:
			return j
		}
	}
	return -1
}
