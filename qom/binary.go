package qom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/qscope/qscope/qmp"
)

// launchArgs start QEMU with no guest: no machine, no default devices, no display, no
// user configuration file, and the CPU paused.
var launchArgs = []string{"-machine", "none", "-nodefaults", "-display", "none",
	"-no-user-config", "-S"}

// defaultTimeout bounds FromBinary when ctx has no deadline. QEMU 7.2 replies to every
// query within about 100 ms on a 2-core VM, and the margin covers loaded CI machines.
const defaultTimeout = 30 * time.Second

// FromBinary starts binary with no guest and a QMP socket in a private directory, queries
// its types, machines, CPU models and chardev backends, and returns the profile. binary
// is a path or a name looked up in $PATH.
func FromBinary(ctx context.Context, binary string) (*Profile, error) {
	path, info, err := locate(binary)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}
	proc, err := qmp.Launch(ctx, path, launchArgs...)
	if err != nil {
		return nil, fmt.Errorf("qom: %w", err)
	}
	defer proc.Close()

	a := &replies{sources: []string{"qmp: " + path + " " + strings.Join(launchArgs, " ")}}
	if err := a.ask(ctx, proc.Conn); err != nil {
		return nil, fmt.Errorf("qom: asking %s: %w", path, err)
	}
	p, err := a.profile()
	if err != nil {
		return nil, err
	}
	p.Binary, p.Size, p.ModTime = path, info.Size(), info.ModTime().UTC()
	p.Created = time.Now().UTC().Truncate(time.Second)
	return p.finish()
}

// locate returns the absolute path of binary, looked up in $PATH when it has no slash,
// with its symbolic links resolved, and the file's information.
func locate(binary string) (string, os.FileInfo, error) {
	path := binary
	if !strings.Contains(binary, "/") {
		found, err := exec.LookPath(binary)
		if err != nil {
			return "", nil, fmt.Errorf("qom: %s: not found in $PATH", binary)
		}
		path = found
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", nil, fmt.Errorf("qom: %w", err)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	info, err := os.Stat(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", nil, fmt.Errorf("qom: %s: not found", binary)
	case err != nil:
		return "", nil, fmt.Errorf("qom: %w", err)
	case info.IsDir():
		return "", nil, fmt.Errorf("qom: %s is a directory, not a QEMU binary", binary)
	}
	return abs, info, nil
}

// ask runs the queries a profile needs on conn.
func (a *replies) ask(ctx context.Context, conn *qmp.Conn) error {
	required := []struct {
		dst  *json.RawMessage
		cmd  string
		args any
	}{
		{&a.version, "query-version", nil},
		{&a.target, "query-target", nil},
		{&a.types, "qom-list-types", map[string]any{"abstract": true}},
		{&a.machines, "query-machines", nil},
		{&a.backends, "query-chardev-backends", nil},
		{&a.schema, "query-qmp-schema", nil},
	}
	for _, q := range required {
		raw, err := conn.ExecuteRaw(ctx, q.cmd, q.args)
		if err != nil {
			return err
		}
		*q.dst = raw
	}

	// QEMU 7.2 has query-cpu-definitions only for ppc, arm, i386, s390x, mips and
	// loongarch64 targets (qapi/machine-target.json). The others reply CommandNotFound,
	// and their profiles have no CPU list.
	raw, err := conn.ExecuteRaw(ctx, "query-cpu-definitions", nil)
	var qe *qmp.Error
	switch {
	case errors.As(err, &qe) && qe.Class == "CommandNotFound":
	case err != nil:
		return err
	default:
		a.cpus = raw
	}

	a.interfaces = map[string]json.RawMessage{}
	for _, iface := range interfaceQueries {
		raw, err := conn.ExecuteRaw(ctx, "qom-list-types",
			map[string]any{"implements": iface, "abstract": true})
		if err != nil {
			return err
		}
		a.interfaces[iface] = raw
	}
	return nil
}
