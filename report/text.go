package report

import (
	"fmt"
	"io"
	"strings"
)

// lineWidth is the width the text report keeps to for typical VMs.
const lineWidth = 100

// WriteText writes rep as a plain-ASCII table, one component per line, followed by the
// reasons for every component that is not secure, the notes, and a one-line verdict.
func WriteText(w io.Writer, rep *Report) error {
	var b strings.Builder
	typeWidth := 4
	for _, c := range rep.Components {
		typeWidth = max(typeWidth, len(typeLabel(&c)))
	}
	typeWidth = min(typeWidth, 30)
	const indexWidth, kindWidth, statusWidth, findingWidth = 4, 12, 9, 8
	// Five columns before FROM, each followed by two spaces.
	originWidth := lineWidth - indexWidth - kindWidth - typeWidth - statusWidth -
		findingWidth - 5*2

	header := fmt.Sprintf("%-*s  %-*s  %-*s  %-*s  %-*s  %s", indexWidth, "#", kindWidth, "KIND",
		typeWidth, "TYPE", statusWidth, "STATUS", findingWidth, "FINDING", "FROM")
	b.WriteString(strings.TrimRight(header, " ") + "\n")
	for i, c := range rep.Components {
		line := fmt.Sprintf("%-*d  %-*s  %-*s  %-*s  %-*s  %s", indexWidth, i, kindWidth, c.Kind,
			typeWidth, clip(typeLabel(&c), typeWidth), statusWidth, c.Status, findingWidth,
			c.Finding, clip(from(&c), originWidth))
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}

	details := false
	for i, c := range rep.Components {
		if c.Status == "secure" {
			continue
		}
		if !details {
			b.WriteString("\nnot secure:\n")
			details = true
		}
		b.WriteString(wrap(fmt.Sprintf("[%d] %s %s: %s, %s", i, c.Kind, c.Type, c.Status,
			c.Reason), "  ", "      "))
		if c.Source != "" {
			b.WriteString(wrap("source: "+c.Source+entryWhere(c.Entry), "      ", "        "))
		}
		if len(c.Parents) > 0 {
			b.WriteString(wrap("QOM parents: "+strings.Join(c.Parents, " < "), "      ",
				"        "))
		}
	}
	if len(rep.Notes) > 0 {
		b.WriteString("\nnotes:\n")
		for _, n := range rep.Notes {
			b.WriteString(wrap(n, "  ", "    "))
		}
	}
	b.WriteString("\n")
	b.WriteString(wrap(qemuCompatLine(rep), "", "  "))
	b.WriteString(wrap(summaryLine(rep), "", "  "))
	b.WriteString(verdictLine(rep) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func typeLabel(c *Component) string {
	if c.Name != "" {
		return c.Type + " (" + c.Name + ")"
	}
	return c.Type
}

// from describes where a component came from: its argv position or path, or what implied it.
func from(c *Component) string {
	if o := c.Origin; o != nil {
		switch {
		case o.Arg > 0:
			s := fmt.Sprintf("arg %d %s", o.Arg, o.Option)
			if o.Text != "" {
				s += " " + o.Text
			}
			if o.Path != "" {
				s += " (" + o.Path + ")"
			}
			return s
		case o.Path != "":
			return o.Path
		case o.QOMPath != "":
			return o.QOMPath
		case o.Node != "":
			return "node " + o.Node
		}
	}
	if c.ImpliedBy != nil {
		return "implied: " + *c.ImpliedBy
	}
	return ""
}

func entryWhere(e *EntryRef) string {
	if e == nil {
		return ""
	}
	if e.File != "" && e.Line > 0 {
		return fmt.Sprintf(" [%s %s:%d]", e.Layer, e.File, e.Line)
	}
	return " [" + e.Layer + "]"
}

func qemuCompatLine(rep *Report) string {
	q := rep.QEMUCompat
	policy := q.InsecureTypes
	if policy == "" {
		policy = "not given (QEMU's default is accept)"
	}
	s := fmt.Sprintf("QEMU 11.2+ -compat insecure-types: %s; it checks %d of %d components, "+
		"%d not declared secure", policy, len(q.Checked), len(rep.Components), len(q.NotSecure))
	if q.WouldReject {
		s += "; QEMU itself would reject the command line"
	}
	return s
}

func summaryLine(rep *Report) string {
	s := rep.Summary
	return fmt.Sprintf("%d components: %d secure, %d undecided, %d insecure; triage scope: %s",
		len(rep.Components), s.Secure, s.Undecided, s.Insecure, rep.Scope)
}

// verdictLine is the last line of the text report.
func verdictLine(rep *Report) string {
	s := rep.Summary
	v := fmt.Sprintf("%s at level %s", rep.Verdict, rep.Level)
	var parts []string
	if s.Rejected > 0 {
		parts = append(parts, fmt.Sprintf("%d rejected", s.Rejected))
	}
	if s.Warnings == 1 {
		parts = append(parts, "1 warning")
	} else if s.Warnings > 1 {
		parts = append(parts, fmt.Sprintf("%d warnings", s.Warnings))
	}
	if len(parts) > 0 {
		v += " (" + strings.Join(parts, ", ") + ")"
	}
	return v
}

// clip shortens s to width columns, marking the cut with "...".
func clip(s string, width int) string {
	if len(s) <= width {
		return s
	}
	if width <= 3 {
		return s[:width]
	}
	return s[:width-3] + "..."
}

// wrap breaks text into lines of at most lineWidth columns at spaces; words longer than a
// line are kept whole.
func wrap(text, first, rest string) string {
	var b strings.Builder
	prefix := first
	line := ""
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = word
		case len(prefix)+len(line)+1+len(word) <= lineWidth:
			line += " " + word
		default:
			b.WriteString(prefix + line + "\n")
			prefix, line = rest, word
		}
	}
	if line != "" {
		b.WriteString(prefix + line + "\n")
	}
	return b.String()
}
