package qom

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/qscope/qscope/policy"
	"github.com/qscope/qscope/qemuargs"
	"github.com/qscope/qscope/report"
)

// benchArgv is a KVM q35 VM as a cloud would start it.
var benchArgv = []string{"qemu-system-x86_64", "-machine", "q35,accel=kvm", "-cpu", "host",
	"-m", "4096", "-nodefaults", "-display", "none",
	"-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no",
	"-device", "virtio-net-pci,netdev=n0",
	"-blockdev", "driver=qcow2,node-name=disk0,file.driver=file,file.filename=/vm1.qcow2",
	"-device", "virtio-blk-pci,drive=disk0",
	"-qmp", "unix:/run/vm1.qmp,server=on,wait=off"}

// checkWithProfile does in process what qscope check --qemu does with a cached profile:
// it reads the profile from the cache, builds the catalog with the profile's layer,
// parses the command line, annotates it, judges it and writes the JSON report.
func checkWithProfile(b *testing.B, bin, cacheDir string) {
	p, res, err := Cached(context.Background(), bin, cacheDir)
	if err != nil || !res.Hit {
		b.Fatalf("Cached: hit %v, %v", res.Hit, err)
	}
	cat := defaultCatalog(b)
	cat.Push(p.Layer(cat))
	cfg, err := qemuargs.Parse(benchArgv, qemuargs.Options{QEMUVersion: p.Release()})
	if err != nil {
		b.Fatal(err)
	}
	if err := p.Annotate(cfg, cat); err != nil {
		b.Fatal(err)
	}
	rep := report.New(policy.Evaluate(cfg, cat, policy.RequireSecure))
	if err := report.WriteJSON(io.Discard, rep); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkCheckCachedProfile measures checkWithProfile: no QEMU starts.
func BenchmarkCheckCachedProfile(b *testing.B) {
	bin := qemuBinary(b, "qemu-system-x86_64")
	dir := b.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, _, err := Cached(ctx, bin, dir); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		checkWithProfile(b, bin, dir)
	}
}

// BenchmarkCheckWithoutProfile is checkWithProfile without the profile: the baseline
// for what reading, layering and annotating with a profile add.
func BenchmarkCheckWithoutProfile(b *testing.B) {
	for range b.N {
		cat := defaultCatalog(b)
		cfg, err := qemuargs.Parse(benchArgv, qemuargs.Options{})
		if err != nil {
			b.Fatal(err)
		}
		rep := report.New(policy.Evaluate(cfg, cat, policy.RequireSecure))
		if err := report.WriteJSON(io.Discard, rep); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFromBinary queries QEMU itself: it starts the binary, runs the profile's queries
// and stops it, as qscope types and a cache miss do.
func BenchmarkFromBinary(b *testing.B) {
	bin := qemuBinary(b, "qemu-system-x86_64")
	for range b.N {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if _, err := FromBinary(ctx, bin); err != nil {
			b.Fatal(err)
		}
		cancel()
	}
}
