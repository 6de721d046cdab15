package cli

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qscope/qscope/internal/testbin"
	"github.com/qscope/qscope/internal/testcorpus"
)

// BenchmarkCorpus judges every libvirt command line of the corpus in one iteration, in
// process, as qscope check --level accept --format json does for each.
func BenchmarkCorpus(b *testing.B) {
	var files []testcorpus.File
	for _, sub := range []string{"libvirt-10.1", "libvirt-5.6"} {
		files = append(files, testcorpus.Files(b, sub, ".args")...)
	}
	b.ResetTimer()
	for range b.N {
		for _, f := range files {
			Run([]string{"check", "--level", "accept", "--format", "json", "--file", "-"},
				strings.NewReader(f.Text), io.Discard, io.Discard)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(files)), "ns/cmdline")
}

// BenchmarkCheckProcess runs the qscope binary once per iteration on one libvirt command
// line, as a libvirt hook or a CI gate would. BenchmarkQEMUStart is its baseline.
func BenchmarkCheckProcess(b *testing.B) {
	file := filepath.Join(testcorpus.Dir(b), "libvirt-10.1", "x86_64-q35-headless.x86_64-latest.args")
	bin := testbin.Build(b)
	b.ResetTimer()
	for range b.N {
		cmd := exec.Command(bin, "check", "--level", "accept", "--format", "json", "--file",
			file)
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQEMUStart starts QEMU with no machine, no devices and no display, negotiates
// QMP on stdio and quits: the least QEMU does before it can report anything about itself.
func BenchmarkQEMUStart(b *testing.B) {
	qemu := os.Getenv("QSCOPE_BENCH_QEMU")
	if qemu == "" {
		qemu = "qemu-system-x86_64"
	}
	if _, err := exec.LookPath(qemu); err != nil {
		b.Skipf("%s not installed", qemu)
	}
	const qmp = `{"execute":"qmp_capabilities"}` + "\n" + `{"execute":"quit"}` + "\n"
	for range b.N {
		cmd := exec.Command(qemu, "-machine", "none", "-nodefaults", "-display", "none",
			"-S", "-qmp", "stdio")
		cmd.Stdin = strings.NewReader(qmp)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%s: %v\n%s", qemu, err, out)
		}
	}
}
