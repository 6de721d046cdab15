package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/qscope/qscope/catalog"
	"github.com/qscope/qscope/domxml"
	"github.com/qscope/qscope/policy"
	"github.com/qscope/qscope/qemuargs"
	"github.com/qscope/qscope/qom"
	"github.com/qscope/qscope/report"
	"github.com/qscope/qscope/vm"
)

var checkCommand = &command{
	name:  "check",
	short: "judge a QEMU command line or a libvirt domain XML",
	summary: "Judge a QEMU command line: list every component it instantiates, with its\n" +
		"status, origin and deciding catalog entry, and say whether the level allows it.",
	usage: "qscope check [flags] -- qemu-system-x86_64 ARGS...\n" +
		"       qscope check [flags] --file FILE      (a shell-style command line; - for stdin)\n" +
		"       qscope check [flags] --cmdline FILE   (NUL-separated argv: /proc/PID/cmdline)\n" +
		"       qscope check [flags] --libvirt FILE   (libvirt domain XML; - for stdin)",
}

// checkOptions are the flags of check.
type checkOptions struct {
	level, format, file, cmdline, qemuVersion, target string
	libvirt, arch, libvirtVersion                     string
	qemuBinary, profile                               string
	catalogs                                          listFlag
}

func checkFlags(fs *flag.FlagSet) *checkOptions {
	o := &checkOptions{}
	fs.StringVar(&o.level, "level", string(policy.RequireSecure),
		"security `level`: accept, warn, prohibit-insecure, require-secure or reject")
	fs.Var(&o.catalogs, "catalog", "catalog `file` layered over the embedded default "+
		"(repeatable; later files win)")
	fs.StringVar(&o.format, "format", "text", "output `format`: text or json")
	fs.StringVar(&o.file, "file", "", "read the command line from `file` (- for stdin)")
	fs.StringVar(&o.cmdline, "cmdline", "", "read the argv of a running QEMU from `file`, "+
		"NUL-separated as in /proc/PID/cmdline (- for stdin)")
	fs.StringVar(&o.qemuVersion, "qemu-version", "", "check the grammar of QEMU `X.Y` "+
		"exactly (default: accept every option of QEMU 2.0 to the newest)")
	fs.StringVar(&o.target, "target", "", "QEMU `target` such as x86_64, when the binary "+
		"name does not give it")
	fs.StringVar(&o.libvirt, "libvirt", "", "judge the libvirt domain XML in `file` (- for "+
		"stdin) as the QEMU command line libvirt generates from it")
	fs.StringVar(&o.arch, "arch", "", "with --libvirt: the guest `architecture` when the XML "+
		"does not give one")
	fs.StringVar(&o.libvirtVersion, "libvirt-version", "", "with --libvirt: generate the "+
		"command line as libvirt `X.Y` does (default: the newest; 5.6 and later)")
	fs.StringVar(&o.qemuBinary, "qemu", "", "check against the QEMU `binary`: resolve machine "+
		"aliases, reject types it lacks, show QOM parents (its answers are cached)")
	fs.StringVar(&o.profile, "profile", "", "like --qemu, from a profile `file` written by "+
		"qscope types, a recorded type list or a capture folder")
	return o
}

func runCheck(e *env, args []string) int {
	fs := newFlagSet(e, checkCommand)
	o := checkFlags(fs)
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}

	level, err := policy.ParseLevel(o.level)
	if err != nil {
		return invalid(e, err)
	}
	if o.format != "text" && o.format != "json" {
		return invalid(e, fmt.Errorf("invalid format %q: want text or json", o.format))
	}
	if o.libvirt == "" && (o.arch != "" || o.libvirtVersion != "") {
		return invalid(e, errors.New("--arch and --libvirt-version apply to --libvirt; "+
			"for a command line use --target"))
	}
	if o.qemuVersion != "" && !qemuargs.KnownVersion(o.qemuVersion) {
		// A command line gets the same error from the parser, and --libvirt must not
		// fall back to guesses for a release no table covers.
		if _, err := qemuargs.ParseVersion(o.qemuVersion); err != nil {
			return invalid(e, err)
		}
		return invalid(e, fmt.Errorf("QEMU version %s is outside the releases qscope "+
			"knows the options of; leave --qemu-version out to accept every release",
			o.qemuVersion))
	}
	prof, err := loadProfile(e, o.qemuBinary, o.profile)
	if err != nil {
		return invalid(e, err)
	}
	cat, err := loadCatalogFor(o.catalogs, prof)
	if err != nil {
		return invalid(e, err)
	}

	// A profile's release selects the exact grammar when qscope's option table covers it.
	// A newer binary is checked against every release's grammar, and its version still
	// resolves machine aliases.
	version := o.qemuVersion
	if version == "" && prof != nil && qemuargs.KnownVersion(prof.Release()) {
		version = prof.Release()
	}
	var cfg *vm.Config
	var words []qemuargs.Word
	if o.libvirt != "" {
		cfg, err = libvirtInput(e, o, fs.Args(), version, prof)
		if err != nil {
			return invalid(e, err)
		}
	} else {
		var argv []string
		argv, words, err = checkInput(e, o, fs.Args())
		if err != nil {
			return invalid(e, err)
		}
		cfg, err = qemuargs.Parse(argv, qemuargs.Options{Target: o.target,
			QEMUVersion: version})
		if err != nil {
			return parseError(e, err, words)
		}
	}

	if cfg.QEMUVersion == "" && prof != nil {
		if v, err := qemuargs.ParseVersion(prof.Release()); err == nil {
			cfg.QEMUVersion = v.String()
		}
	}
	if !annotate(e, prof, cfg, cat, words) {
		return ExitInvalid
	}
	return judge(e, cfg, cat, level, o.format)
}

// judge evaluates cfg, writes the report and returns the exit code. The report is built
// in memory first, so a failure writes nothing to stdout.
func judge(e *env, cfg *vm.Config, cat *catalog.Catalog, level policy.Level,
	format string) int {
	res := policy.Evaluate(cfg, cat, level)
	rep := report.New(res)
	var buf bytes.Buffer
	var err error
	if format == "json" {
		err = report.WriteJSON(&buf, rep)
	} else {
		err = report.WriteText(&buf, rep)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "qscope: writing the report: %v\n", err)
		return ExitInvalid
	}
	if _, err := e.stdout.Write(buf.Bytes()); err != nil {
		fmt.Fprintf(e.stderr, "qscope: writing the report: %v\n", err)
		return ExitInvalid
	}
	if res.Verdict == policy.RejectedVM {
		return ExitRejected
	}
	return ExitAllowed
}

// checkInput returns the argv to check: the arguments after the flags, or the command line
// in --file. For --file it also returns the words, to locate errors by line.
func checkInput(e *env, o *checkOptions, args []string) ([]string, []qemuargs.Word, error) {
	inputs := 0
	for _, given := range []bool{o.file != "", o.cmdline != "", len(args) > 0} {
		if given {
			inputs++
		}
	}
	switch {
	case inputs > 1:
		return nil, nil, errors.New("give one of --file, --cmdline or a command line " +
			"after --")
	case inputs == 0:
		return nil, nil, errors.New("no command line: give it after --, with --file or " +
			"with --cmdline")
	case o.cmdline != "":
		return cmdlineInput(e, o.cmdline)
	case o.file == "":
		return args, nil, nil
	}
	data, err := readInput(e, o.file)
	if err != nil {
		return nil, nil, err
	}
	_, words, err := qemuargs.SplitCommandLine(string(data))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", o.file, err)
	}
	if len(words) == 0 {
		return nil, nil, fmt.Errorf("%s: no command line in the file", o.file)
	}
	argv := make([]string, len(words))
	for i, w := range words {
		argv[i] = w.Text
	}
	return argv, words, nil
}

// cmdlineInput reads a NUL-separated argv, as Linux shows a process's in
// /proc/PID/cmdline. It needs no unquoting, so JSON arguments survive intact.
func cmdlineInput(e *env, name string) ([]string, []qemuargs.Word, error) {
	data, err := readInput(e, name)
	if err != nil {
		return nil, nil, err
	}
	argv := strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00")
	if len(argv) == 0 || argv[0] == "" {
		return nil, nil, fmt.Errorf("%s: no command line in the file", name)
	}
	return argv, nil, nil
}

// libvirtInput reads the domain XML of --libvirt and returns the configuration libvirt
// would start with a QEMU of qemuVersion (empty: the domxml default). With a profile,
// libvirt's choices of devices follow the types the profiled binary has.
func libvirtInput(e *env, o *checkOptions, args []string, qemuVersion string,
	prof *qom.Profile) (*vm.Config, error) {
	if o.file != "" || o.cmdline != "" || len(args) > 0 {
		return nil, errors.New("give --libvirt alone, without --file, --cmdline or a " +
			"command line")
	}
	if o.target != "" {
		return nil, errors.New("--target applies to command lines; with --libvirt use --arch")
	}
	data, err := readInput(e, o.libvirt)
	if err != nil {
		return nil, err
	}
	opts := domxml.Options{Arch: o.arch, QEMUVersion: qemuVersion,
		LibvirtVersion: o.libvirtVersion}
	if prof != nil {
		opts.HasType = func(name string) bool { return prof.Type(name) != nil }
	}
	cfg, err := domxml.Parse(data, opts)
	if err != nil {
		return nil, err
	}
	if qemuVersion != "" && cfg.QEMUVersion == "" {
		// The version resolves machine aliases (q35 is pc-q35-X.Y of that QEMU).
		v, err := qemuargs.ParseVersion(qemuVersion)
		if err != nil {
			return nil, err
		}
		cfg.QEMUVersion = v.String()
	}
	return cfg, nil
}

func readInput(e *env, name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(e.stdin)
	}
	return os.ReadFile(name)
}

// loadCatalog builds the embedded default catalog with the user files on top, in order.
func loadCatalog(files []string) (*catalog.Catalog, error) {
	return loadCatalogFor(files, nil)
}

// invalid prints err for a usage error or invalid input and returns ExitInvalid.
func invalid(e *env, err error) int {
	fmt.Fprintf(e.stderr, "qscope: %v\n", err)
	return ExitInvalid
}

// parseError prints every command-line error, with the line and column of the argument
// when the command line came from a file.
func parseError(e *env, err error, words []qemuargs.Word) int {
	var list qemuargs.ErrorList
	if !errors.As(err, &list) {
		fmt.Fprintf(e.stderr, "qscope: %v\n", err)
		return ExitInvalid
	}
	for _, pe := range list {
		where := ""
		if pe.Arg < len(words) {
			w := words[pe.Arg]
			where = fmt.Sprintf(" (line %d, column %d)", w.Line, w.Col)
		}
		fmt.Fprintf(e.stderr, "qscope: %v%s\n", pe, where)
	}
	return ExitInvalid
}
