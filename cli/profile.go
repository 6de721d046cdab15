package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/qscope/qscope/catalog"
	"github.com/qscope/qscope/qemuargs"
	"github.com/qscope/qscope/qom"
	"github.com/qscope/qscope/vm"
)

// profileTimeout is the max time check waits for a QEMU binary's replies when its profile
// is not cached.
const profileTimeout = 60 * time.Second

// loadProfile returns the type profile that --qemu or --profile names, or nil when neither
// is given. A profile from --qemu comes from the cache when the binary has not changed.
func loadProfile(e *env, binary, file string) (*qom.Profile, error) {
	switch {
	case binary != "" && file != "":
		return nil, errors.New("give either --qemu or --profile, not both")
	case file != "":
		return qom.Load(file)
	case binary == "":
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), profileTimeout)
	defer cancel()
	p, res, err := qom.Cached(ctx, binary, "")
	if err != nil {
		return nil, err
	}
	if res.WriteErr != nil {
		fmt.Fprintf(e.stderr, "qscope: warning: the profile of %s was not cached: %v\n",
			binary, res.WriteErr)
	}
	return p, nil
}

// loadCatalogFor builds the catalog of a check: the embedded default, then what the QEMU
// binary of prof reports about itself (when prof is not nil), then the user files in
// order.
func loadCatalogFor(files []string, prof *qom.Profile) (*catalog.Catalog, error) {
	def, err := catalog.Default()
	if err != nil {
		return nil, err
	}
	cat := catalog.New(def)
	if prof != nil {
		cat.Push(prof.Layer(cat))
	}
	for _, f := range files {
		l, err := catalog.LoadFile(f)
		if err != nil {
			return nil, err
		}
		cat.Push(l)
	}
	return cat, nil
}

// annotate checks cfg against the QEMU binary of prof and fills in QOM parent chains. It
// prints each component the binary would reject and returns false when there is one.
func annotate(e *env, prof *qom.Profile, cfg *vm.Config, cat *catalog.Catalog,
	words []qemuargs.Word) bool {
	if prof == nil {
		return true
	}
	err := prof.Annotate(cfg, cat)
	if err == nil {
		return true
	}
	var list qom.ErrorList
	if !errors.As(err, &list) {
		fmt.Fprintf(e.stderr, "qscope: %v\n", err)
		return false
	}
	for _, qe := range list {
		fmt.Fprintf(e.stderr, "qscope: %v%s\n", qe, wordPosition(qe.Origin, words))
	}
	return false
}

// wordPosition returns " (line L, column C)" for a command-line origin when the command
// line came from a file, and "" otherwise.
func wordPosition(o *vm.Origin, words []qemuargs.Word) string {
	if o == nil || o.Option == "" || o.Arg <= 0 || o.Arg >= len(words) {
		return ""
	}
	w := words[o.Arg]
	return fmt.Sprintf(" (line %d, column %d)", w.Line, w.Col)
}
