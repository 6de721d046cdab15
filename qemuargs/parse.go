package qemuargs

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/qscope/qscope/vm"
)

// Options controls [Parse].
type Options struct {
	// Target overrides the QEMU target that the binary name gives (x86_64, aarch64, ...).
	Target string
	// QEMUVersion makes the check exact for that QEMU release ("7.2"): an option that release
	// lacks is an error. Empty accepts the options of every release from 2.0 to the newest
	// known one, and notes the options the newest release removed.
	QEMUVersion string
	// ReadFile reads -readconfig files; nil means os.ReadFile.
	ReadFile func(path string) ([]byte, error)
}

// record is one option of the command line after scanning.
type record struct {
	index  int    // argv index of the option word
	word   string // the option as written: -device, --device
	name   string // without dashes: device
	arg    string // the argument, when the option takes one
	hasArg bool
	// from is set for options read from a -readconfig file: "file:line".
	from string
	// set holds the pairs of later -set options that apply to this one.
	set Opts
}

// origin returns the vm.Origin of a component written in r.
func (r *record) origin() *vm.Origin {
	o := &vm.Origin{Arg: r.index, Option: r.word, Text: r.arg}
	if r.from != "" {
		o.Path = r.from
	}
	return o
}

// Parse reads a QEMU command line, argv[0] being the binary, and returns every component it
// instantiates: those written on the command line, those an option implies (a -drive's
// device, a -nic's NIC), the machine's default devices and the board devices it creates
// itself. Errors are an [ErrorList]; a command line with errors yields no configuration.
func Parse(argv []string, o Options) (*vm.Config, error) {
	if len(argv) == 0 {
		return nil, ErrorList{{Arg: 0, Offset: -1, Msg: "empty command line"}}
	}
	p := &parser{opts: o, cfg: &vm.Config{Binary: argv[0]}, def: newDefaults(),
		chardevs: map[string]int{}, chardevUsers: map[int][]int{}, chardevData: map[int]bool{},
		driveSlots: map[driveSlot]*drive{}, nextFree: map[string]int{}}
	if err := p.setTarget(argv[0]); err != nil {
		return nil, err
	}
	if o.QEMUVersion != "" {
		v, err := ParseVersion(o.QEMUVersion)
		if err != nil {
			return nil, err
		}
		oldest, newest := knownVersions()
		if v.Less(oldest) || newest.Less(v) {
			return nil, fmt.Errorf("qemuargs: QEMU version %s is outside the releases "+
				"qscope knows the options of (%s to %s); leave the version out to accept "+
				"the options of every release", v, oldest, newest)
		}
		p.version = v
		p.cfg.QEMUVersion = v.String()
	}

	if err := p.scan(argv); err != nil {
		return nil, err
	}
	p.expandReadconfig()
	p.applySet()
	if err := p.errs.Err(); err != nil {
		return nil, err
	}

	p.prepareMachine()
	if p.machine.typeRec == nil {
		p.emitMachine()
	}
	for i := range p.records {
		p.handle(&p.records[i])
	}
	if err := p.errs.Err(); err != nil {
		return nil, err
	}

	p.finish()
	p.noteUserConfig()
	if err := p.errs.Err(); err != nil {
		return nil, err
	}
	return p.cfg, nil
}

type parser struct {
	opts    Options
	cfg     *vm.Config
	version Version // zero when every release's grammar is accepted
	target  string
	arch    string
	kvmBin  bool // the binary name ends in "kvm", so QEMU tries KVM first
	records []record
	errs    ErrorList

	machine machineState
	// accelOptions counts -accel, -enable-kvm, -enable-hax and -no-kvm options.
	accelOptions int
	def          *defaults
	// chardevs maps a chardev id to its component index. QEMU creates every chardev
	// before the monitors and devices that name one, so references are resolved at the end
	// (chardevRefs), whatever the order of the options.
	chardevs    map[string]int
	chardevRefs []chardevRef
	// chardevUsers maps a chardev's component index to the monitors it carries, and
	// chardevData marks the chardevs that also carry guest data (a serial port, a device).
	chardevUsers map[int][]int
	chardevData  map[int]bool
	// driveSlots maps each used interface and index to its drive; nextFree is where the
	// search for a free index of an interface starts.
	driveSlots map[driveSlot]*drive
	nextFree   map[string]int
	// fdcImplied is set once a floppy drive made QEMU add an isa-fdc the board lacks.
	fdcImplied bool
}

func (p *parser) errorf(r *record, offset int, format string, args ...any) {
	e := &Error{Offset: offset, Msg: fmt.Sprintf(format, args...)}
	if r != nil {
		e.Arg, e.Option, e.Text = r.index, r.word, r.arg
		if r.from != "" {
			e.Msg = r.from + ": " + e.Msg
		}
	}
	p.errs = append(p.errs, e)
}

// syntax records a parse error of r's argument.
func (p *parser) syntax(r *record, err error) {
	var se *syntaxError
	if errors.As(err, &se) {
		p.errorf(r, se.Offset, "%s", se.Msg)
		return
	}
	p.errorf(r, -1, "%v", err)
}

// setTarget derives the QEMU target from the binary name: qemu-system-aarch64 is aarch64,
// and qemu-kvm (as RHEL and Debian install it) is x86_64.
func (p *parser) setTarget(bin string) error {
	base := filepath.Base(bin)
	p.kvmBin = strings.HasSuffix(base, "kvm")
	switch {
	case p.opts.Target != "":
		p.target = p.opts.Target
	case strings.HasPrefix(base, "qemu-system-"):
		p.target = strings.TrimPrefix(base, "qemu-system-")
	case base == "qemu-kvm" || base == "kvm":
		p.target = "x86_64"
	case strings.HasPrefix(bin, "-"):
		return ErrorList{{Arg: 0, Text: bin, Offset: -1, Msg: "argv[0] must be the QEMU binary " +
			"(such as qemu-system-x86_64), not an option"}}
	default:
		return ErrorList{{Arg: 0, Text: bin, Offset: -1, Msg: "cannot tell the QEMU target " +
			"from this binary name; name a qemu-system-TARGET binary or give the target"}}
	}
	if p.target == "" {
		return ErrorList{{Arg: 0, Text: bin, Offset: -1, Msg: "empty QEMU target"}}
	}
	if t, ok := targetSpellings[p.target]; ok {
		p.target = t
	}
	if !contains(qemuTargets, p.target) {
		return ErrorList{{Arg: 0, Text: bin, Offset: -1, Msg: fmt.Sprintf("unknown QEMU "+
			"target %q: want one of %s", p.target, strings.Join(qemuTargets, ", "))}}
	}
	p.cfg.Target = p.target
	p.arch = targetArch(p.target)
	return nil
}

// qemuTargets are the system emulator targets QEMU has built from 2.0 to 10.x.
var qemuTargets = []string{"aarch64", "alpha", "arm", "avr", "cris", "hppa", "i386",
	"loongarch64", "lm32", "m68k", "microblaze", "microblazeel", "mips", "mips64",
	"mips64el", "mipsel", "moxie", "nios2", "or1k", "ppc", "ppc64", "riscv32", "riscv64",
	"rx", "s390x", "sh4", "sh4eb", "sparc", "sparc64", "tricore", "unicore32", "x86_64",
	"xtensa", "xtensaeb"}

// noteUserConfig notes that QEMU reads its default config file, which can add devices
// and drives, unless -no-user-config (or the older -nodefconfig) is given
// (qemu_read_default_config_file in system/vl.c, QEMU 7.2 and 10.0).
func (p *parser) noteUserConfig() {
	for _, r := range p.records {
		if r.name == "no-user-config" || r.name == "nodefconfig" {
			return
		}
	}
	p.cfg.Note("without -no-user-config QEMU also reads qemu.conf from its configuration " +
		"directory (/etc/qemu on Debian), whose sections are not on this command line")
}

// targetSpellings maps architecture names that are not QEMU target names, as libvirt's
// test data and distributions use them in binary names, to the QEMU target.
var targetSpellings = map[string]string{
	"i486": "i386", "i586": "i386", "i686": "i386", "amd64": "x86_64", "ppc64le": "ppc64",
	"armv7l": "arm", "arm64": "aarch64",
}

// scan splits argv into option records, checking every option against the option table.
// It stops at the first unknown option or missing argument, because after it the argument
// boundaries are unknown.
func (p *parser) scan(argv []string) error {
	for i := 1; i < len(argv); i++ {
		word := argv[i]
		if !strings.HasPrefix(word, "-") || word == "-" {
			p.errs = append(p.errs, &Error{Arg: i, Text: word, Offset: -1, Msg: "stray " +
				"positional argument: QEMU would open it as the first hard disk image; " +
				"write -hda or -drive to mean that"})
			return p.errs.Err()
		}
		name := strings.TrimPrefix(word[1:], "-")
		defs, ok := optionTable()[name]
		if !ok {
			p.errs = append(p.errs, &Error{Arg: i, Option: word, Offset: -1,
				Msg: "unknown option"})
			return p.errs.Err()
		}
		def := p.pickDef(i, word, defs)
		if def == nil {
			return p.errs.Err()
		}
		r := record{index: i, word: word, name: name, hasArg: def.HasArg}
		if def.HasArg {
			if i+1 >= len(argv) {
				p.errs = append(p.errs, &Error{Arg: i, Option: word, Offset: -1,
					Msg: "missing argument"})
				return p.errs.Err()
			}
			i++
			r.arg = argv[i]
		}
		if !def.supports(p.arch) && !p.unknownArch() {
			p.errorf(&r, -1, "option not supported for target %s (QEMU accepts it for %s)",
				p.target, strings.Join(def.Arches, ", "))
		}
		p.records = append(p.records, r)
	}
	return p.errs.Err()
}

// unknownArch reports whether the target is one the option masks do not name, in which
// case masks are not checked rather than guessed.
func (p *parser) unknownArch() bool {
	switch p.arch {
	case "i386", "arm", "ppc", "riscv", "mips", "sparc", "loongarch", "xtensa", "m68k",
		"s390x", "alpha", "cris", "hppa", "microblaze", "nios2", "or1k", "rx", "sh4",
		"tricore", "avr", "lm32", "unicore32", "moxie", "tilegx":
		return false
	}
	return true
}

// pickDef returns the definition of an option that applies: the one for the requested
// QEMU version, or in the default mode the newest one that fits the target. It notes
// options that the newest release no longer has.
func (p *parser) pickDef(i int, word string, defs []optionDef) *optionDef {
	if !p.version.IsZero() {
		for k := range defs {
			if defs[k].existsIn(p.version) {
				return &defs[k]
			}
		}
		p.errs = append(p.errs, &Error{Arg: i, Option: word, Offset: -1,
			Msg: fmt.Sprintf("option does not exist in QEMU %s%s", p.version,
				lifetime(defs))})
		return nil
	}
	best := &defs[len(defs)-1]
	for k := len(defs) - 1; k >= 0; k-- {
		if defs[k].supports(p.arch) {
			best = &defs[k]
			break
		}
	}
	if removed := newestRemoval(defs); !removed.IsZero() {
		p.cfg.Note(fmt.Sprintf("option %s was removed in QEMU %s; newer QEMU rejects this "+
			"command line", word, removed))
	}
	return best
}

// lifetime describes when an option existed, for error messages.
func lifetime(defs []optionDef) string {
	first, last := defs[0], defs[len(defs)-1]
	switch {
	case !first.Since.IsZero() && !last.Removed.IsZero():
		return fmt.Sprintf(" (it exists from %s until %s)", first.Since, last.Removed)
	case !first.Since.IsZero():
		return fmt.Sprintf(" (it was added in %s)", first.Since)
	case !last.Removed.IsZero():
		return fmt.Sprintf(" (it was removed in %s)", last.Removed)
	}
	return ""
}
