package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
	"libvirt.org/go/libvirtxml"

	"github.com/qscope/qscope/catalog"
	"github.com/qscope/qscope/domxml"
	"github.com/qscope/qscope/policy"
	"github.com/qscope/qscope/qemuargs"
	"github.com/qscope/qscope/qom"
)

// DefaultHookConfig is the configuration file of libvirt-hook; QSCOPE_CONFIG overrides it.
const DefaultHookConfig = "/etc/qscope/config.yaml"

var libvirtHookCommand = &command{
	name:  "libvirt-hook",
	short: "reject VM starts as libvirt's QEMU hook",
	summary: "Run as libvirt's QEMU hook (/etc/libvirt/hooks/qemu): judge the domain XML on\n" +
		"stdin when libvirt prepares a start and reject the start when the level rejects it.",
	usage: "qscope libvirt-hook DOMAIN OPERATION SUB-OPERATION EXTRA",
}

func init() {
	libvirtHookCommand.run = runLibvirtHook
	register(libvirtHookCommand, nil)
}

// hookConfig is the YAML configuration of libvirt-hook.
type hookConfig struct {
	// Level is the level starts are judged against; require-secure when empty.
	Level string `yaml:"level"`
	// Catalogs are catalog files layered over the embedded default, in order.
	Catalogs []string `yaml:"catalogs"`
	// ProfileCache, when set, is a directory for profiles of the domains' emulators. The
	// hook then judges each domain against its <emulator> as check --qemu does: with the
	// binary's types, QEMU version and secure flags, and a type the binary lacks rejects
	// the start. A profile is made once per binary file (path, size and modification
	// time) by starting the binary with -machine none.
	ProfileCache string `yaml:"profile_cache"`
	// Emulators lists the binaries the hook may start to profile. The hook runs as root
	// and trusts the secure flags a binary reports, so it never starts a binary that only
	// a domain XML names.
	Emulators []string `yaml:"emulators"`
}

// runLibvirtHook follows libvirt's hook protocol: libvirt runs the hook with the domain
// name, the operation, the sub-operation and an extra argument, and writes the domain XML
// to stdin. A non-zero exit of the "prepare" operation makes libvirt abort the start and
// show stderr; every other operation passes.
func runLibvirtHook(e *env, args []string) int {
	// libvirt writes the whole XML to stdin for every operation, so the hook reads it all
	// to avoid a broken pipe on libvirt's side.
	data, readErr := io.ReadAll(e.stdin)

	if len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprintf(e.stdout, "usage: %s\n\n%s\n", libvirtHookCommand.usage,
			libvirtHookCommand.summary)
		return 0
	}
	if len(args) < 2 {
		fmt.Fprintf(e.stderr, "qscope: libvirt-hook needs at least DOMAIN and OPERATION "+
			"(usage: %s)\n", libvirtHookCommand.usage)
		return ExitInvalid
	}
	if args[1] != "prepare" {
		return ExitAllowed
	}

	if readErr != nil {
		return hookFail(e, ExitInvalid, "reading the domain XML from stdin: %v", readErr)
	}
	level, cat, hc, err := loadHookConfig()
	if err != nil {
		return hookFail(e, ExitInvalid, "%v; every start is rejected until the configuration "+
			"is fixed", err)
	}
	var opts domxml.Options
	var prof *qom.Profile
	if hc.ProfileCache != "" {
		prof, err = emulatorProfile(data, hc)
		if err != nil {
			return hookFail(e, ExitInvalid, "domain %s: %v", args[0], err)
		}
		if cat, err = loadCatalogFor(hc.Catalogs, prof); err != nil {
			return hookFail(e, ExitInvalid, "domain %s: %v", args[0], err)
		}
		opts.HasType = func(name string) bool { return prof.Type(name) != nil }
		if qemuargs.KnownVersion(prof.Release()) {
			opts.QEMUVersion = prof.Release()
		}
	}
	cfg, err := domxml.Parse(data, opts)
	if err != nil {
		return hookFail(e, ExitInvalid, "domain %s: %v", args[0], err)
	}
	if prof != nil {
		if err := prof.Annotate(cfg, cat); err != nil {
			return hookFail(e, ExitInvalid, "domain %s: %v", args[0], err)
		}
	}

	res := policy.Evaluate(cfg, cat, level)
	if res.Verdict != policy.RejectedVM {
		return ExitAllowed
	}
	return hookFail(e, ExitRejected, "domain %s rejected at level %s: %s", args[0], level,
		rejectedList(res))
}

// emulatorProfile returns the profile of the domain's <emulator> from the profile cache,
// making it when the cache has none for that binary file. The emulator must be one of
// the configured emulators.
func emulatorProfile(data []byte, hc hookConfig) (*qom.Profile, error) {
	var dom libvirtxml.Domain
	if err := dom.Unmarshal(string(data)); err != nil {
		return nil, fmt.Errorf("reading the domain XML: %v", err)
	}
	if dom.Devices == nil || dom.Devices.Emulator == "" {
		return nil, errors.New("the domain XML names no <emulator> to profile")
	}
	emulator := dom.Devices.Emulator
	if !slices.Contains(hc.Emulators, emulator) {
		return nil, fmt.Errorf("emulator %s is not listed under emulators in %s, so the "+
			"hook does not start it", emulator, hookConfigPath())
	}
	ctx, cancel := context.WithTimeout(context.Background(), hookProbeTimeout)
	defer cancel()
	prof, _, err := qom.Cached(ctx, emulator, hc.ProfileCache)
	if err != nil {
		return nil, fmt.Errorf("profiling emulator %s: %v", emulator, err)
	}
	return prof, nil
}

// checkProfileConfig checks profile_cache and emulators: the cache must be a directory
// only this user can change, and emulators are absolute paths that need the cache.
func checkProfileConfig(hc hookConfig) error {
	for _, em := range hc.Emulators {
		if !filepath.IsAbs(em) {
			return fmt.Errorf("emulator %q is not an absolute path", em)
		}
	}
	switch {
	case hc.ProfileCache == "" && len(hc.Emulators) > 0:
		return errors.New("emulators are listed but profile_cache is not set")
	case hc.ProfileCache == "":
		return nil
	case len(hc.Emulators) == 0:
		return errors.New("profile_cache is set but emulators lists no binary the hook " +
			"may start")
	}
	return qom.CheckCacheDir(hc.ProfileCache)
}

// hookProbeTimeout bounds the start of an emulator for its profile. libvirt waits for
// the hook, so a binary that hangs must not hold the start forever.
const hookProbeTimeout = 30 * time.Second

// hookFail writes one line to stderr, which libvirt includes in its error message.
func hookFail(e *env, code int, format string, args ...any) int {
	// The message may quote what a broken emulator printed. libvirt shows it to the user,
	// so control characters become spaces and the line stays short.
	msg := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, fmt.Sprintf(format, args...))
	if len(msg) > maxHookMessage {
		msg = strings.ToValidUTF8(msg[:maxHookMessage], "") + " ..."
	}
	fmt.Fprintf(e.stderr, "qscope: %s\n", msg)
	return code
}

// maxHookMessage bounds the bytes of the one line the hook writes to stderr.
const maxHookMessage = 4096

// rejectedList names every rejected component as "kind type (status)".
func rejectedList(res *policy.Result) string {
	var parts []string
	for _, j := range res.Judgements {
		if j.Finding == policy.Rejected {
			parts = append(parts, fmt.Sprintf("%s %s (%s)", j.Component.Kind, j.Type, j.Status))
		}
	}
	return strings.Join(parts, ", ")
}

// hookConfigPath returns the configuration file: $QSCOPE_CONFIG or the default.
func hookConfigPath() string {
	if p := os.Getenv("QSCOPE_CONFIG"); p != "" {
		return p
	}
	return DefaultHookConfig
}

// loadHookConfig reads the configuration. A missing file gives the defaults: level
// require-secure and the embedded catalog. A file that does not parse, has unknown fields,
// names an invalid level or names a catalog that does not load is an error.
func loadHookConfig() (policy.Level, *catalog.Catalog, hookConfig, error) {
	path := hookConfigPath()
	var hc hookConfig
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return "", nil, hc, fmt.Errorf("configuration %s: %w", path, err)
	default:
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&hc); err != nil && !errors.Is(err, io.EOF) {
			return "", nil, hc, fmt.Errorf("configuration %s: invalid: %v", path, err)
		}
		// Decode ignores a second document, so a "level: accept" after a "---" would look
		// set but have no effect. A second document is an error instead.
		var more yaml.Node
		if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
			return "", nil, hc, fmt.Errorf("configuration %s: invalid: more than one YAML "+
				"document; write one mapping", path)
		}
	}
	if hc.Level == "" {
		hc.Level = string(policy.RequireSecure)
	}
	level, err := policy.ParseLevel(hc.Level)
	if err != nil {
		return "", nil, hc, fmt.Errorf("configuration %s: %w", path, err)
	}
	cat, err := loadCatalog(hc.Catalogs)
	if err != nil {
		return "", nil, hc, fmt.Errorf("configuration %s: %w", path, err)
	}
	if err := checkProfileConfig(hc); err != nil {
		return "", nil, hc, fmt.Errorf("configuration %s: %w", path, err)
	}
	return level, cat, hc, nil
}
