package catalog

import (
	"fmt"
	"strings"

	"github.com/qscope/qscope/vm"
)

// Op is the test a [Condition] applies to a property.
type Op int

// Condition operators.
const (
	OpPresent  Op = iota // key
	OpAbsent             // !key
	OpEqual              // key=v1|v2
	OpNotEqual           // key!=v1|v2
)

// Condition is one test on a component property, written as `key`, `!key`, `key=v1|v2` or
// `key!=v1|v2`. Boolean spellings compare normalised (yes, true and y equal on).
type Condition struct {
	Key    string
	Op     Op
	Values []string
	Text   string
}

// ParseCondition parses the text form of a condition.
func ParseCondition(text string) (Condition, error) {
	c := Condition{Text: text}
	s := strings.TrimSpace(text)
	switch {
	case s == "":
		return c, fmt.Errorf("empty condition")
	case strings.Contains(s, "!="):
		key, vals, _ := strings.Cut(s, "!=")
		c.Key, c.Op, c.Values = key, OpNotEqual, splitValues(vals)
	case strings.Contains(s, "="):
		key, vals, _ := strings.Cut(s, "=")
		c.Key, c.Op, c.Values = key, OpEqual, splitValues(vals)
	case strings.HasPrefix(s, "!"):
		c.Key, c.Op = s[1:], OpAbsent
	default:
		c.Key, c.Op = s, OpPresent
	}
	if c.Key == "" || strings.ContainsAny(c.Key, "!= ") {
		return c, fmt.Errorf("invalid condition %q: want key, !key, key=v1|v2 or key!=v1|v2", text)
	}
	if (c.Op == OpEqual || c.Op == OpNotEqual) && len(c.Values) == 0 {
		return c, fmt.Errorf("invalid condition %q: no value after the operator", text)
	}
	return c, nil
}

func splitValues(s string) []string {
	var out []string
	for _, v := range strings.Split(s, "|") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, vm.NormalizeBool(v))
		}
	}
	return out
}

// Holds reports whether the condition is true for props.
func (c Condition) Holds(props map[string]string) bool {
	v, ok := props[c.Key]
	switch c.Op {
	case OpPresent:
		return ok
	case OpAbsent:
		return !ok
	case OpEqual:
		return ok && c.matches(v)
	case OpNotEqual:
		return !ok || !c.matches(v)
	}
	return false
}

func (c Condition) matches(v string) bool {
	v = vm.NormalizeBool(v)
	for _, want := range c.Values {
		if v == want {
			return true
		}
	}
	return false
}

func conditionsHold(conds []Condition, props map[string]string) bool {
	for _, c := range conds {
		if !c.Holds(props) {
			return false
		}
	}
	return true
}
