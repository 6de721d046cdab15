package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/qscope/qscope/audit"
	"github.com/qscope/qscope/policy"
	"github.com/qscope/qscope/qmp"
)

var auditCommand = &command{
	name:  "audit",
	short: "judge a running VM over its QMP socket",
	summary: "Judge a running VM over its QMP socket, sending only queries: list what QEMU\n" +
		"really created, with status and QOM path or block node, and say whether the level\n" +
		"allows it.",
	usage: "qscope audit --qmp SOCKET [flags]\n" +
		"       (exit codes: 0 allowed, 1 rejected by the level, 2 invalid usage or a VM\n" +
		"       that cannot be queried)",
}

// auditOptions are the flags of audit.
type auditOptions struct {
	socket, level, format string
	catalogs              listFlag
	timeout               time.Duration
}

func auditFlags(fs *flag.FlagSet) *auditOptions {
	o := &auditOptions{}
	fs.StringVar(&o.socket, "qmp", "", "QMP UNIX `socket` of the running VM (required), "+
		"such as the path of -qmp unix:PATH,server=on,wait=off")
	fs.StringVar(&o.level, "level", string(policy.RequireSecure),
		"security `level`: accept, warn, prohibit-insecure, require-secure or reject")
	fs.Var(&o.catalogs, "catalog", "catalog `file` layered over the embedded default "+
		"(repeatable; later files win)")
	fs.StringVar(&o.format, "format", "text", "output `format`: text or json")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "maximum `duration` of the "+
		"whole audit, connection included")
	return o
}

func init() {
	auditCommand.run = runAudit
	register(auditCommand, func(fs *flag.FlagSet) { auditFlags(fs) })
}

func runAudit(e *env, args []string) int {
	fs := newFlagSet(e, auditCommand)
	o := auditFlags(fs)
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	level, err := checkAuditOptions(o, fs.Args())
	if err != nil {
		return invalid(e, err)
	}
	cat, err := loadCatalog(o.catalogs)
	if err != nil {
		return invalid(e, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	conn, err := qmp.Dial(ctx, o.socket)
	if err != nil {
		return invalid(e, timeoutHint(err, o.timeout))
	}
	defer conn.Close()
	cfg, err := audit.Audit(ctx, conn, audit.Options{Socket: o.socket})
	if err != nil {
		return invalid(e, timeoutHint(err, o.timeout))
	}
	return judge(e, cfg, cat, level, o.format)
}

// checkAuditOptions validates the flags of audit and returns the level.
func checkAuditOptions(o *auditOptions, rest []string) (policy.Level, error) {
	switch {
	case len(rest) > 0:
		return "", fmt.Errorf("audit takes no arguments, but %q was given; name the VM's "+
			"QMP socket with --qmp", rest[0])
	case o.socket == "":
		return "", errors.New("missing --qmp SOCKET: the QMP UNIX socket of the VM to audit")
	case o.format != "text" && o.format != "json":
		return "", fmt.Errorf("invalid format %q: want text or json", o.format)
	case o.timeout <= 0:
		return "", fmt.Errorf("invalid timeout %v: want a positive duration such as 30s",
			o.timeout)
	}
	return policy.ParseLevel(o.level)
}

// timeoutHint adds what to do when the audit ran out of time.
func timeoutHint(err error, timeout time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w (the audit did not finish within --timeout %v)", err, timeout)
	}
	return err
}
