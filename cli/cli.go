// Package cli implements the qscope command: its subcommands, flags, output and exit codes.
// It is the only package that talks to the terminal; the others return values and errors.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"sort"
	"strings"
)

// Exit codes of judging commands.
const (
	ExitAllowed  = 0 // the configuration is allowed at the level; other commands succeeded
	ExitRejected = 1 // the level rejects the configuration
	ExitInvalid  = 2 // invalid input or usage
)

// Version is the qscope release; builds from a checkout add the VCS revision.
const Version = "0.1.0"

// env carries the standard streams of one run.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// command is one subcommand.
type command struct {
	name string
	// short is the one-line description in the command list of "qscope help".
	short   string
	summary string
	usage   string
	run     func(e *env, args []string) int
}

// commands are the subcommands; each file that defines one adds it with register.
var commands []*command

// flagSetups add the flags of commands that have some, for "qscope help COMMAND".
var flagSetups = map[string]func(*flag.FlagSet){}

// register adds c to the subcommands. setup, when not nil, adds c's flags to a flag set.
func register(c *command, setup func(*flag.FlagSet)) {
	commands = append(commands, c)
	if setup != nil {
		flagSetups[c.name] = setup
	}
}

func init() {
	// The run functions refer to their commands for usage text, so they are set here to
	// avoid an initialization cycle.
	checkCommand.run = runCheck
	catalogCommand.run = runCatalog
	register(checkCommand, func(fs *flag.FlagSet) { checkFlags(fs) })
	register(catalogCommand, func(fs *flag.FlagSet) { catalogFlags(fs) })
	register(versionCommand, nil)
	register(helpCommand, nil)
}

// Run runs qscope with args (without the program name) and returns the exit code.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		writeHelp(e.stderr)
		return ExitInvalid
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		writeHelp(e.stdout)
		return 0
	case "-V", "--version":
		name = "version"
	}
	for _, c := range commands {
		if c.name == name {
			return c.run(e, args[1:])
		}
	}
	fmt.Fprintf(e.stderr, "qscope: unknown command %q; run \"qscope help\" for the list\n",
		name)
	return ExitInvalid
}

// newFlagSet returns a flag set for c that reports errors instead of exiting.
func newFlagSet(e *env, c *command) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: %s\n\n%s\n\nflags:\n", c.usage, c.summary)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args into fs. It returns the exit code to stop with, or -1 to go on.
func parseFlags(fs *flag.FlagSet, args []string) int {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		return ExitInvalid
	}
	return -1
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

var versionCommand = &command{
	name:    "version",
	short:   "print the qscope version",
	summary: "Print the qscope version.",
	usage:   "qscope version",
	run: func(e *env, args []string) int {
		fmt.Fprintln(e.stdout, versionString())
		return 0
	},
}

func versionString() string {
	s := "qscope " + Version
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return s
	}
	s += " (" + info.GoVersion
	for _, kv := range info.Settings {
		if kv.Key == "vcs.revision" && len(kv.Value) >= 12 {
			s += ", " + kv.Value[:12]
		}
	}
	return s + ")"
}

var helpCommand = &command{
	name:    "help",
	short:   "describe the commands, or one command and its flags",
	summary: "Describe qscope's commands, or one command and its flags.",
	usage:   "qscope help [COMMAND]",
	run: func(e *env, args []string) int {
		if len(args) == 0 {
			writeHelp(e.stdout)
			return 0
		}
		for _, c := range commands {
			if c.name == args[0] {
				fs := newFlagSet(&env{stdout: e.stdout, stderr: e.stdout}, c)
				if setup := flagSetups[c.name]; setup != nil {
					setup(fs)
				}
				fs.Usage()
				return 0
			}
		}
		fmt.Fprintf(e.stderr, "qscope: unknown command %q\n", args[0])
		return ExitInvalid
	},
}

func writeHelp(w io.Writer) {
	fmt.Fprint(w, `qscope classifies what a QEMU virtual machine is made of (machine, accelerator,
devices, block drivers, backends, displays, monitors, host-facing options) as secure,
insecure or undecided, and judges it against a security level.

usage: qscope COMMAND [flags] [arguments]

commands:
`)
	sorted := append([]*command(nil), commands...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	for _, c := range sorted {
		fmt.Fprintf(w, "  %-13s %s\n", c.name, c.short)
	}
	fmt.Fprint(w, `
levels: accept, warn, prohibit-insecure, require-secure (reject is an alias)
exit codes of check, audit and libvirt-hook: 0 allowed, 1 rejected by the level,
2 invalid input or usage

Run "qscope help COMMAND" for a command's flags.
`)
}
