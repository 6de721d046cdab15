package qemuargs

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// optionsTSV is the table of every option in qemu-options.hx of QEMU 2.0 to the newest
// release read, with the versions that added and removed it and its target mask. Its
// header comment names the QEMU commits it was read from.
//
//go:embed data/options.tsv
var optionsTSV string

// Version is a QEMU release number: major.minor.
type Version struct {
	Major, Minor int
}

// knownVersions are the QEMU releases the option table covers: 2.0 to the newest release
// it was read from.
var knownVersions = func() (oldest, newest Version) {
	oldest = Version{2, 0}
	for _, defs := range optionTable() {
		for _, d := range defs {
			for _, v := range []Version{d.Since, d.Removed} {
				if newest.Less(v) {
					newest = v
				}
			}
		}
	}
	return oldest, newest
}

// KnownVersion reports whether the option table covers QEMU release v ("7.2", "10.0.13").
func KnownVersion(v string) bool {
	ver, err := ParseVersion(v)
	if err != nil {
		return false
	}
	oldest, newest := knownVersions()
	return !ver.Less(oldest) && !newest.Less(ver)
}

// ParseVersion parses "X.Y" (a third component, as in 7.2.22, is ignored).
func ParseVersion(s string) (Version, error) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return Version{}, fmt.Errorf("qemuargs: invalid QEMU version %q: want X.Y", s)
	}
	var v Version
	var err error
	if v.Major, err = strconv.Atoi(parts[0]); err != nil || v.Major < 0 {
		return Version{}, fmt.Errorf("qemuargs: invalid QEMU version %q: want X.Y", s)
	}
	if v.Minor, err = strconv.Atoi(parts[1]); err != nil || v.Minor < 0 {
		return Version{}, fmt.Errorf("qemuargs: invalid QEMU version %q: want X.Y", s)
	}
	return v, nil
}

// Less reports whether v is older than w.
func (v Version) Less(w Version) bool {
	if v.Major != w.Major {
		return v.Major < w.Major
	}
	return v.Minor < w.Minor
}

// IsZero reports whether v is unset.
func (v Version) IsZero() bool { return v == Version{} }

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// optionDef is one line of the option table: an option that exists, with the given
// argument-taking and target mask, from Since (inclusive) to Removed (exclusive).
type optionDef struct {
	Name    string
	HasArg  bool
	Since   Version // zero: in the oldest release read
	Removed Version // zero: still present
	Arches  []string
}

func (d *optionDef) existsIn(v Version) bool {
	if !d.Since.IsZero() && v.Less(d.Since) {
		return false
	}
	return d.Removed.IsZero() || v.Less(d.Removed)
}

func (d *optionDef) supports(arch string) bool {
	for _, a := range d.Arches {
		if a == "all" || a == arch {
			return true
		}
	}
	return false
}

// optionTable returns the definitions of every option by name, oldest first. The table is
// parsed on first use, so that qscope commands that read no command line do not pay for it.
var optionTable = sync.OnceValue(func() map[string][]optionDef {
	return mustParseOptions(optionsTSV)
})

func mustParseOptions(tsv string) map[string][]optionDef {
	table, err := parseOptions(tsv)
	if err != nil {
		panic(err)
	}
	return table
}

func parseOptions(tsv string) (map[string][]optionDef, error) {
	table := make(map[string][]optionDef)
	for n, line := range strings.Split(tsv, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 5 {
			return nil, fmt.Errorf("qemuargs: options.tsv:%d: want 6 columns", n+1)
		}
		d := optionDef{Name: f[0], HasArg: f[1] == "arg", Arches: strings.Split(f[4], "|")}
		if f[1] != "arg" && f[1] != "none" {
			return nil, fmt.Errorf("qemuargs: options.tsv:%d: arg column %q", n+1, f[1])
		}
		var err error
		if f[2] != "-" {
			if d.Since, err = ParseVersion(f[2]); err != nil {
				return nil, fmt.Errorf("options.tsv:%d: %w", n+1, err)
			}
		}
		if f[3] != "-" {
			if d.Removed, err = ParseVersion(f[3]); err != nil {
				return nil, fmt.Errorf("options.tsv:%d: %w", n+1, err)
			}
		}
		table[d.Name] = append(table[d.Name], d)
	}
	return table, nil
}

// newestRemoval returns the version that removed the option for good, or zero when the
// newest release read still has it.
func newestRemoval(defs []optionDef) Version {
	var newest Version
	for _, d := range defs {
		if d.Removed.IsZero() {
			return Version{}
		}
		if newest.Less(d.Removed) {
			newest = d.Removed
		}
	}
	return newest
}

// targetArch maps a QEMU target name to the QEMU_ARCH_* family that option masks use.
func targetArch(target string) string {
	switch target {
	case "x86_64", "i386":
		return "i386"
	case "aarch64", "arm":
		return "arm"
	case "ppc", "ppc64":
		return "ppc"
	case "riscv32", "riscv64":
		return "riscv"
	case "mips", "mipsel", "mips64", "mips64el":
		return "mips"
	case "sparc", "sparc64":
		return "sparc"
	case "loongarch64":
		return "loongarch"
	case "xtensa", "xtensaeb":
		return "xtensa"
	case "microblaze", "microblazeel":
		return "microblaze"
	case "sh4", "sh4eb":
		return "sh4"
	}
	return target
}
