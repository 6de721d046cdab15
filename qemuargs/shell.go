package qemuargs

import (
	"fmt"
	"strings"
)

// Word is one shell word of a command line, with the line and column (both from 1) where it
// starts in the text.
type Word struct {
	Text string
	Line int
	Col  int
}

// ShellError is a problem in shell-style command line text, located by line and column.
type ShellError struct {
	Line int
	Col  int
	Msg  string
}

func (e *ShellError) Error() string {
	return fmt.Sprintf("qemuargs: line %d, column %d: %s", e.Line, e.Col, e.Msg)
}

// SplitCommandLine splits one shell-style command line, as people paste it and as libvirt
// writes it into its .args files, into environment assignments and argv words. It follows
// POSIX shell quoting: single quotes, double quotes, backslash escapes, and backslash-newline
// continuations (also in the middle of a word). Leading NAME=value words before the first
// other word are environment assignments. A '#' at the start of a word begins a comment.
//
// Anything a shell would expand or interpret ($, backquotes, |, &, ;, <, >, parentheses) is
// an error, as is a second command on a later line: qscope cannot know what the shell would
// have run.
func SplitCommandLine(text string) (env []string, argv []Word, err error) {
	words, plainNames, err := shellWords(text)
	if err != nil {
		return nil, nil, err
	}
	i := 0
	for i < len(words) && plainNames[i] && isAssignment(words[i].Text) {
		env = append(env, words[i].Text)
		i++
	}
	return env, words[i:], nil
}

func isAssignment(w string) bool {
	name, _, ok := strings.Cut(w, "=")
	if !ok || name == "" {
		return false
	}
	for i, r := range name {
		letter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// shellScanner walks the text byte by byte, tracking line and column.
type shellScanner struct {
	text      string
	pos       int
	line, col int
}

func (s *shellScanner) errorf(line, col int, format string, args ...any) error {
	return &ShellError{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

func (s *shellScanner) advance() {
	if s.text[s.pos] == '\n' {
		s.line++
		s.col = 1
	} else {
		s.col++
	}
	s.pos++
}

// shellWords returns the words of text and, for each, whether everything before its first
// '=' was unquoted, which the shell requires of an assignment's name.
func shellWords(text string) ([]Word, []bool, error) {
	// Files written on Windows end lines with CRLF; a backslash before CRLF still continues
	// the line.
	text = strings.ReplaceAll(text, "\r\n", "\n")
	s := &shellScanner{text: text, line: 1, col: 1}
	var words []Word
	var plainNames []bool
	commandEnded := false
	for s.pos < len(text) {
		c := text[s.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			s.advance()
		case c == '\n':
			if len(words) > 0 {
				commandEnded = true
			}
			s.advance()
		case c == '\\' && s.pos+1 < len(text) && text[s.pos+1] == '\n':
			s.advance()
			s.advance()
		case c == '#':
			for s.pos < len(text) && text[s.pos] != '\n' {
				s.advance()
			}
		default:
			if commandEnded {
				return nil, nil, s.errorf(s.line, s.col, "a second command starts here; "+
					"give one command line, with backslash-newline between its lines")
			}
			w, plainName, err := s.word()
			if err != nil {
				return nil, nil, err
			}
			words = append(words, w)
			plainNames = append(plainNames, plainName)
		}
	}
	return words, plainNames, nil
}

// word reads one word starting at the current position. plainName reports whether no
// quoting or escape came before the word's first '='.
func (s *shellScanner) word() (w Word, plainName bool, err error) {
	w = Word{Line: s.line, Col: s.col}
	var b strings.Builder
	plainName, sawEquals := true, false
	for s.pos < len(s.text) {
		c := s.text[s.pos]
		if c == '=' {
			sawEquals = true
		}
		if !sawEquals && strings.IndexByte("\\'\"", c) >= 0 {
			plainName = false
		}
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			w.Text = b.String()
			return w, plainName, nil
		case c == '\\':
			if s.pos+1 >= len(s.text) {
				return w, false, s.errorf(s.line, s.col, "backslash at the end of the text")
			}
			s.advance()
			if s.text[s.pos] != '\n' {
				b.WriteByte(s.text[s.pos])
			}
			s.advance()
		case c == '\'':
			if err := s.singleQuoted(&b); err != nil {
				return w, false, err
			}
		case c == '"':
			if err := s.doubleQuoted(&b); err != nil {
				return w, false, err
			}
		case strings.IndexByte("$`", c) >= 0:
			return w, false, s.errorf(s.line, s.col, "shell expansion %q is not supported; "+
				"give the expanded command line", c)
		case strings.IndexByte("|&;<>()", c) >= 0:
			return w, false, s.errorf(s.line, s.col, "shell operator %q is not supported; "+
				"give a single command without pipes, redirections or lists", c)
		case strings.IndexByte("*?[", c) >= 0:
			return w, false, s.errorf(s.line, s.col, "unquoted %q: the shell would expand it "+
				"to matching file names; quote the word", c)
		default:
			b.WriteByte(c)
			s.advance()
		}
	}
	w.Text = b.String()
	return w, plainName, nil
}

func (s *shellScanner) singleQuoted(b *strings.Builder) error {
	line, col := s.line, s.col
	s.advance()
	for s.pos < len(s.text) {
		if s.text[s.pos] == '\'' {
			s.advance()
			return nil
		}
		b.WriteByte(s.text[s.pos])
		s.advance()
	}
	return s.errorf(line, col, "unterminated single quote")
}

func (s *shellScanner) doubleQuoted(b *strings.Builder) error {
	line, col := s.line, s.col
	s.advance()
	for s.pos < len(s.text) {
		c := s.text[s.pos]
		switch {
		case c == '"':
			s.advance()
			return nil
		case c == '\\' && s.pos+1 < len(s.text) &&
			strings.IndexByte("$`\"\\\n", s.text[s.pos+1]) >= 0:
			s.advance()
			if s.text[s.pos] != '\n' {
				b.WriteByte(s.text[s.pos])
			}
			s.advance()
		case c == '$' || c == '`':
			return s.errorf(s.line, s.col, "shell expansion %q inside double quotes is not "+
				"supported; give the expanded command line", c)
		default:
			b.WriteByte(c)
			s.advance()
		}
	}
	return s.errorf(line, col, "unterminated double quote")
}
