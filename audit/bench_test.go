package audit

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qscope/qscope/internal/testbin"
	"github.com/qscope/qscope/qmp"
)

// benchVM is the default q35 VM that the benchmarks share, so that audit and qom-tree
// walk the same QOM tree. Its socket is free between benchmarks.
var benchVM struct {
	once sync.Once
	p    *qmp.Process
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchVM.p != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if conn, err := qmp.Dial(ctx, benchVM.p.Socket); err == nil {
			benchVM.p.Conn = conn
		}
		cancel()
		benchVM.p.Close()
	}
	os.Exit(code)
}

// benchSocket returns the QMP socket of a paused default q35 VM (-machine q35 -accel tcg
// -S -display none), started once per test binary.
func benchSocket(b *testing.B) string {
	b.Helper()
	bin := qemuFor(b, "x86_64")
	benchVM.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		args := []string{"-machine", "q35", "-accel", "tcg", "-S", "-display", "none"}
		benchVM.p, benchVM.err = qmp.Launch(ctx, bin, args...)
		if benchVM.err == nil {
			benchVM.p.Conn.Close()
		}
	})
	if benchVM.err != nil {
		b.Fatal(benchVM.err)
	}
	return benchVM.p.Socket
}

// BenchmarkAudit runs Audit in process over one connection to the default q35 VM.
func BenchmarkAudit(b *testing.B) {
	sock := benchSocket(b)
	ctx := context.Background()
	conn, err := qmp.Dial(ctx, sock)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	b.ResetTimer()
	for range b.N {
		if _, err := Audit(ctx, conn, Options{Socket: sock}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuditProcess runs "qscope audit --format json" on the default q35 VM, as a new
// process per iteration that connects, audits and writes the report.
func BenchmarkAuditProcess(b *testing.B) {
	sock := benchSocket(b)
	bin := testbin.Build(b)
	b.ResetTimer()
	for range b.N {
		cmd := exec.Command(bin, "audit", "--qmp", sock, "--format", "json", "--level",
			"accept")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("qscope audit: %v\n%s", err, out)
		}
	}
}

// BenchmarkQOMTree runs QEMU's scripts/qmp/qom-tree on the default q35 VM, a new process
// per iteration, with the Python QMP library of the same source tree. The tree comes from
// QSCOPE_QEMU_SRC (a QEMU source tree such as the one "apt-get source qemu" unpacks);
// the benchmark skips without it.
func BenchmarkQOMTree(b *testing.B) {
	src := os.Getenv("QSCOPE_QEMU_SRC")
	script := filepath.Join(src, "scripts", "qmp", "qom-tree")
	if _, err := os.Stat(script); src == "" || err != nil {
		b.Skip("set QSCOPE_QEMU_SRC to a QEMU source tree with scripts/qmp/qom-tree " +
			"(apt-get source qemu)")
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		b.Skip("python3 not installed")
	}
	sock := benchSocket(b)
	b.ResetTimer()
	for range b.N {
		cmd := exec.Command(python, script, "-s", sock)
		cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(src, "python"))
		out, err := cmd.Output()
		if err != nil || !strings.Contains(string(out), "/machine") {
			b.Fatalf("qom-tree: %v\n%s", err, out)
		}
	}
}
