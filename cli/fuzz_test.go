package cli

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/qscope/qscope/qemuargs"
	"github.com/qscope/qscope/report"
)

// FuzzCheck feeds shell-style command lines to qscope check at require-secure. A command
// line the parser rejects must exit 2 with nothing on stdout, and exit 0 is allowed only
// when every component of the report is secure.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		kvmQ35,
		"qemu-system-x86_64 -M q35 -device e1000,netdev=n0 -netdev user,id=n0",
		"qemu-system-x86_64 -drive file=fat:rw:/x,if=virtio,format=raw",
		`qemu-system-x86_64 -device '{"driver":"virtio-net-pci","id":"a,,b"}'`,
		"LC_ALL=C qemu-system-aarch64 -M virt -serial mon:stdio \\\n -nic user,model=virtio",
		"qemu-kvm -nodefaults -vnc :0 -monitor tcp::4444,server,nowait",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		code, out, _ := run(t, line, "check", "--format", "json", "--file", "-")
		_, words, splitErr := qemuargs.SplitCommandLine(line)
		var parseErr error = splitErr
		if splitErr == nil && len(words) > 0 {
			argv := make([]string, len(words))
			for i, w := range words {
				argv[i] = w.Text
			}
			_, parseErr = qemuargs.Parse(argv, qemuargs.Options{})
		} else if splitErr == nil {
			parseErr = errors.New("empty command line")
		}
		if parseErr != nil {
			if code != ExitInvalid || out != "" {
				t.Fatalf("input the parser rejects (%v) gave exit %d and %d bytes of output",
					parseErr, code, len(out))
			}
			return
		}
		var rep report.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("exit %d with output that is not a report: %v", code, err)
		}
		if code == ExitAllowed {
			for _, c := range rep.Components {
				if c.Status != "secure" {
					t.Fatalf("allowed at require-secure with a %s %s %s: %s", c.Status, c.Kind,
						c.Type, strings.TrimSpace(line))
				}
			}
		}
		if (code == ExitAllowed) != (rep.Verdict == "allowed") {
			t.Fatalf("exit %d but verdict %s", code, rep.Verdict)
		}
	})
}
