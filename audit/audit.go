// Package audit lists what a running QEMU VM is made of, over its QMP socket, as a
// [vm.Config] that the policy engine judges like a parsed command line.
//
// It sends only queries, and none of them changes the VM. qom-list and qom-get read the QOM
// composition tree from "/". qom-list-types, query-machines, query-kvm, x-query-jit,
// query-chardev, query-named-block-nodes, query-block, query-display-options,
// query-vnc-servers, query-spice, query-tpm, query-audiodevs (QEMU 8.0 and later),
// query-commands and query-target read the rest. Netdev backends come from the HMP command
// "info network" through human-monitor-command, because QEMU 7.2 has no QMP query for
// them. The "data" property of secret objects, which holds the secret, is never read.
//
// Every component's origin is its QOM path ([vm.Origin.QOMPath]) or block node name
// ([vm.Origin.Node]). Netdevs, displays, audio and TPM backends and the accelerator have
// neither in QEMU 7.2, so their ImpliedBy names the query that showed them.
package audit

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/qscope/qscope/qmp"
	"github.com/qscope/qscope/vm"
)

// Options controls [Audit].
type Options struct {
	// Socket is the path of the QMP socket the connection uses. The chardev that listens on
	// it carries this connection's monitor, so it is reported as a QMP monitor. When Socket
	// is empty, that chardev is reported like the other monitors QEMU created.
	Socket string
}

// parallelQueries is how many QOM queries the tree walk keeps in flight. QEMU runs QMP
// commands one at a time, but commands already waiting in the socket spare it a round
// trip to the client per object.
const parallelQueries = 8

// auditor holds what one audit has learnt so far.
type auditor struct {
	ctx      context.Context
	conn     *qmp.Conn
	opts     Options
	cfg      *vm.Config
	commands map[string]bool
	types    typeTree
	tree     *tree
	machine  machineInfo
	accel    string
}

// Audit queries the VM behind conn and returns its components: the machine, the
// accelerator, CPUs, every device and object of the QOM tree, chardevs and the monitors
// QMP can identify, netdev backends, block nodes, displays, audio backends (QEMU 8.0 and
// later) and TPM backends. Board-internal objects (memory regions, IRQ lines, buses,
// clocks, consoles) are grouped by type. Errors start with "audit: ". A failed query fails
// the whole audit, because a partial inventory could hide an insecure component.
func Audit(ctx context.Context, conn *qmp.Conn, o Options) (*vm.Config, error) {
	if o.Socket != "" {
		if abs, err := filepath.Abs(o.Socket); err == nil {
			o.Socket = abs
		}
	}
	a := &auditor{ctx: ctx, conn: conn, opts: o, cfg: &vm.Config{}}
	steps := []func() error{
		a.queryCommands, a.queryTarget, a.queryTypes, a.walkTree, a.queryMachine,
		a.queryAccel,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	a.addMachine()
	a.addAccel()
	for _, step := range []func() error{a.addQOMObjects, a.addChardevs, a.addNetdevs,
		a.addBlockNodes, a.addDisplays, a.addAudiodevs, a.addTPMs} {
		if err := step(); err != nil {
			return nil, err
		}
	}
	a.addInternalGroups()
	a.noteLimits()
	return a.cfg, nil
}

// execute runs a query and decodes its result, wrapping errors with the audit prefix.
func (a *auditor) execute(command string, args, result any) error {
	if err := a.conn.Execute(a.ctx, command, args, result); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// has reports whether QEMU offers command.
func (a *auditor) has(command string) bool {
	return a.commands[command]
}

// queryCommands learns which commands QEMU offers and checks that it is a system emulator
// with a QOM tree.
func (a *auditor) queryCommands() error {
	var list []struct {
		Name string `json:"name"`
	}
	if err := a.execute("query-commands", nil, &list); err != nil {
		return err
	}
	a.commands = map[string]bool{}
	for _, c := range list {
		a.commands[c.Name] = true
	}
	for _, need := range []string{"qom-list", "qom-list-types", "query-machines"} {
		if !a.has(need) {
			return fmt.Errorf("audit: the QMP peer has no %s command; it is not a QEMU "+
				"system emulator (qemu-storage-daemon and other tools have no VM to audit)",
				need)
		}
	}
	return nil
}

func (a *auditor) queryTarget() error {
	var t struct {
		Arch string `json:"arch"`
	}
	if err := a.execute("query-target", nil, &t); err != nil {
		return err
	}
	a.cfg.Target = t.Arch
	g := a.conn.Greeting()
	v := g.QMP.Version.QEMU
	a.cfg.QEMUVersion = fmt.Sprintf("%d.%d", v.Major, v.Minor)
	about := "QEMU " + g.Version()
	if g.QMP.Version.Package != "" {
		about += " (" + g.QMP.Version.Package + ")"
	}
	where := "the running VM"
	if a.opts.Socket != "" {
		where = "the VM at " + a.opts.Socket
	}
	a.cfg.Note("live audit over QMP of " + where + ": " + about + ", target " + t.Arch)
	return nil
}

// isNotFound reports whether err is QEMU's error reply for an object or command that does
// not exist, because the object went away during the audit or the build lacks the command.
func isNotFound(err error) bool {
	var qe *qmp.Error
	return errors.As(err, &qe) && (qe.Class == "DeviceNotFound" || qe.Class ==
		"CommandNotFound")
}

// noteLimits records what QMP does not show, so that a reader does not take the report
// for more than it is.
func (a *auditor) noteLimits() {
	hidden := "fsdev (9p) backends"
	if !a.has("query-audiodevs") {
		hidden = "audio backends (QEMU 8.0 added query-audiodevs), " + hidden
	}
	a.cfg.Note("not visible over QMP and not reported: " + hidden + ", host-facing " +
		"options such as -gdb, -kernel or -plugin, and monitors on chardevs that QEMU did " +
		"not name compat_monitorN (such as -mon chardev=ID), unless the chardev is this " +
		"connection's")
}

// isGenericError reports whether err is QEMU's GenericError reply, which it gives for a
// query that does not apply to the running VM.
func isGenericError(err error) bool {
	var qe *qmp.Error
	return errors.As(err, &qe) && qe.Class == "GenericError"
}
