package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/qscope/qscope/qom"
)

var typesCommand = &command{
	name:  "types",
	short: "write the type profile of a QEMU binary",
	summary: "Ask a QEMU binary for its types, machines, CPU models and chardev backends\n" +
		"and write them as a profile that check can use without starting QEMU.",
	usage: "qscope types --qemu BINARY [--out FILE] [--format json|text]\n" +
		"       qscope types --from PATH [--out FILE] [--format json|text]",
}

func init() {
	typesCommand.run = runTypes
	register(typesCommand, func(fs *flag.FlagSet) { typesFlags(fs) })
}

// typesOptions are the flags of types.
type typesOptions struct {
	qemu, from, out, format string
}

func typesFlags(fs *flag.FlagSet) *typesOptions {
	o := &typesOptions{}
	fs.StringVar(&o.qemu, "qemu", "", "QEMU system emulator `binary` to ask (a path or a "+
		"name in $PATH); it starts with no guest and no display and stops again")
	fs.StringVar(&o.from, "from", "", "read the profile from `path` instead: a profile "+
		"file, a qom-list-types_VERSION_TARGET.tsv type list with its machines_VERSION_"+
		"TARGET.txt beside it, or a directory of saved QMP replies")
	fs.StringVar(&o.out, "out", "", "write to `file` instead of stdout")
	fs.StringVar(&o.format, "format", "json", "output `format`: json (the profile) or "+
		"text (a summary)")
	return o
}

func runTypes(e *env, args []string) int {
	fs := newFlagSet(e, typesCommand)
	o := typesFlags(fs)
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	switch {
	case fs.NArg() > 0:
		return invalid(e, fmt.Errorf("unexpected argument %q: give the binary with "+
			"--qemu", fs.Arg(0)))
	case (o.qemu == "") == (o.from == ""):
		return invalid(e, errors.New("give either --qemu BINARY or --from PATH"))
	case o.format != "json" && o.format != "text":
		return invalid(e, fmt.Errorf("invalid format %q: want json or text", o.format))
	}
	p, err := typesProfile(o)
	if err != nil {
		return invalid(e, err)
	}

	data, err := p.Marshal()
	if o.format == "text" {
		data, err = []byte(typesSummary(p)), nil
	}
	if err != nil {
		return invalid(e, err)
	}

	if o.out != "" {
		err = os.WriteFile(o.out, data, 0o644)
	} else {
		_, err = e.stdout.Write(data)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "qscope: writing the profile: %v\n", err)
		return ExitInvalid
	}
	return 0
}

// typesProfile queries the binary of --qemu, or reads --from.
func typesProfile(o *typesOptions) (*qom.Profile, error) {
	if o.from != "" {
		return qom.Load(o.from)
	}
	return qom.FromBinary(context.Background(), o.qemu)
}

// typesSummary describes a profile in a few lines.
func typesSummary(p *qom.Profile) string {
	var b bytes.Buffer
	fmt.Fprintln(&b, p.Describe())
	if p.Package != "" {
		fmt.Fprintf(&b, "package:          %s\n", p.Package)
	}
	abstract := 0
	for _, t := range p.Types {
		if t.Abstract {
			abstract++
		}
	}
	fmt.Fprintf(&b, "types:            %d (%d abstract)\n", len(p.Types), abstract)

	fmt.Fprintf(&b, "machines:         %d", len(p.Machines))
	if m := p.DefaultMachine(); m != nil {
		fmt.Fprintf(&b, ", default %s", m.Name)
	}
	var aliases []string
	for _, m := range p.Machines {
		if m.Alias != "" {
			aliases = append(aliases, m.Alias+"="+m.Name)
		}
	}
	if len(aliases) > 0 {
		fmt.Fprintf(&b, ", aliases %s", strings.Join(aliases, " "))
	}

	fmt.Fprintf(&b, "\nCPU models:       %d\n", len(p.CPUs))
	fmt.Fprintf(&b, "chardev backends: %d\n", len(p.ChardevBackends))
	status := "not reported"
	if p.SecureReported {
		status = "reported"
	}
	fmt.Fprintf(&b, "security status:  %s\n", status)
	for _, s := range p.Sources {
		fmt.Fprintf(&b, "source:           %s\n", s)
	}
	return b.String()
}
