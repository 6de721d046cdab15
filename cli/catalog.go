package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"strings"

	"github.com/qscope/qscope/catalog"
	"github.com/qscope/qscope/vm"
)

var catalogCommand = &command{
	name:    "catalog",
	short:   "list the effective catalog",
	summary: "List the effective catalog: the embedded default and any --catalog files.",
	usage:   "qscope catalog [--catalog FILE]... [--kind KIND] [--format text|json]",
}

type catalogOptions struct {
	format, kind string
	catalogs     listFlag
}

func catalogFlags(fs *flag.FlagSet) *catalogOptions {
	o := &catalogOptions{}
	fs.Var(&o.catalogs, "catalog", "catalog `file` layered over the embedded default "+
		"(repeatable; later files win)")
	fs.StringVar(&o.format, "format", "text", "output `format`: text or json")
	fs.StringVar(&o.kind, "kind", "", "list only entries of this `kind`")
	return o
}

// catalogJSON is the JSON form of the catalog listing.
type catalogJSON struct {
	Schema  int              `json:"schema"`
	Entries []catalogEntryJS `json:"entries"`
	Aliases []catalogAliasJS `json:"aliases"`
}

type catalogEntryJS struct {
	Kind    string   `json:"kind"`
	Name    string   `json:"name"`
	Targets []string `json:"targets,omitempty"`
	When    []string `json:"when,omitempty"`
	Status  string   `json:"status"`
	Reason  string   `json:"reason"`
	Source  string   `json:"source"`
	Layer   string   `json:"layer"`
	File    string   `json:"file,omitempty"`
	Line    int      `json:"line,omitempty"`
}

type catalogAliasJS struct {
	Kind    string   `json:"kind"`
	Alias   string   `json:"alias"`
	Type    string   `json:"type"`
	Targets []string `json:"targets,omitempty"`
	Source  string   `json:"source"`
	Layer   string   `json:"layer"`
}

func runCatalog(e *env, args []string) int {
	fs := newFlagSet(e, catalogCommand)
	o := catalogFlags(fs)
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() > 0 {
		return invalid(e, fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if o.format != "text" && o.format != "json" {
		return invalid(e, fmt.Errorf("invalid format %q: want text or json", o.format))
	}
	if o.kind != "" && !vm.ValidKind(vm.Kind(o.kind)) {
		return invalid(e, fmt.Errorf("invalid kind %q", o.kind))
	}
	cat, err := loadCatalog(o.catalogs)
	if err != nil {
		return invalid(e, err)
	}
	var buf bytes.Buffer
	if o.format == "json" {
		err = writeCatalogJSON(&buf, cat, o.kind)
	} else {
		writeCatalogText(&buf, cat, o.kind)
	}
	if err != nil {
		return invalid(e, err)
	}
	if _, err := e.stdout.Write(buf.Bytes()); err != nil {
		return invalid(e, err)
	}
	return 0
}

func writeCatalogJSON(buf *bytes.Buffer, cat *catalog.Catalog, kind string) error {
	out := catalogJSON{Schema: catalog.SchemaVersion, Entries: []catalogEntryJS{},
		Aliases: []catalogAliasJS{}}
	for _, en := range cat.Entries() {
		if kind != "" && string(en.Kind) != kind {
			continue
		}
		out.Entries = append(out.Entries, catalogEntryJS{Kind: string(en.Kind), Name: en.Name,
			Targets: en.Targets, When: conditionTexts(en.When), Status: string(en.Status),
			Reason: en.Reason, Source: en.Source, Layer: en.Layer, File: en.File,
			Line: en.Line})
	}
	for _, a := range cat.Aliases() {
		if kind != "" && string(a.Kind) != kind {
			continue
		}
		out.Aliases = append(out.Aliases, catalogAliasJS{Kind: string(a.Kind), Alias: a.Alias,
			Type: a.Type, Targets: a.Targets, Source: a.Source, Layer: a.Layer})
	}
	enc := json.NewEncoder(buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

func conditionTexts(conds []catalog.Condition) []string {
	var out []string
	for _, c := range conds {
		out = append(out, c.Text)
	}
	return out
}

func writeCatalogText(buf *bytes.Buffer, cat *catalog.Catalog, kind string) {
	fmt.Fprintf(buf, "%-12s  %-32s  %-9s  %s\n", "KIND", "NAME", "STATUS", "REASON")
	for _, en := range cat.Entries() {
		if kind != "" && string(en.Kind) != kind {
			continue
		}
		name := en.Name
		if len(en.Targets) > 0 {
			name += " [" + strings.Join(en.Targets, ",") + "]"
		}
		if len(en.When) > 0 {
			name += " when " + strings.Join(conditionTexts(en.When), ",")
		}
		fmt.Fprintf(buf, "%-12s  %-32s  %-9s  %s\n", en.Kind, name, en.Status, en.Reason)
		fmt.Fprintf(buf, "%-12s  %-32s  %-9s  source: %s (%s)\n", "", "", "", en.Source,
			en.Where())
	}
	aliases := cat.Aliases()
	if len(aliases) > 0 {
		fmt.Fprintf(buf, "\n%-12s  %-32s  %s\n", "KIND", "ALIAS", "TYPE")
	}
	for _, a := range aliases {
		if kind != "" && string(a.Kind) != kind {
			continue
		}
		name := a.Alias
		if len(a.Targets) > 0 {
			name += " [" + strings.Join(a.Targets, ",") + "]"
		}
		fmt.Fprintf(buf, "%-12s  %-32s  %s\n", a.Kind, name, a.Type)
	}
}
