package qemuargs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// ParseJSONOpts parses an option argument written as a JSON object, which -device, -object,
// -blockdev, -netdev, -audiodev and -compat accept in place of key=value pairs when the
// argument starts with '{'. Nested objects become dotted keys (file.driver) and array
// elements get their index (server.0.host), the same keys as the key=value form. Inside
// JSON strings ",," is two commas: the QemuOpts escape does not apply. A duplicate key is an
// error, because which of the two QEMU would use is not obvious to a reader.
func ParseJSONOpts(text string) (Opts, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.UseNumber()
	var out Opts
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonError(dec, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, &syntaxError{0, "JSON argument is not an object"}
	}
	if err := walkObject(dec, "", &out); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &syntaxError{int(dec.InputOffset()),
			fmt.Sprintf("unexpected text after the JSON object at offset %d",
				dec.InputOffset())}
	}
	return out, nil
}

func walkObject(dec *json.Decoder, prefix string, out *Opts) error {
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
		if err := walkValue(dec, prefix+key, offset, out); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return jsonError(dec, err)
	}
	return nil
}

func walkValue(dec *json.Decoder, key string, offset int, out *Opts) error {
	tok, err := dec.Token()
	if err != nil {
		return jsonError(dec, err)
	}
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			return walkObject(dec, key+".", out)
		case '[':
			for i := 0; dec.More(); i++ {
				elem := key + "." + strconv.Itoa(i)
				if err := walkValue(dec, elem, int(dec.InputOffset()), out); err != nil {
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
