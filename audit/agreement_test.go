package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/qscope/qscope/catalog"
	"github.com/qscope/qscope/internal/testcorpus"
	"github.com/qscope/qscope/policy"
	"github.com/qscope/qscope/qemuargs"
	"github.com/qscope/qscope/vm"
)

// comparedKinds are the kinds a user configures and both front ends report.
var comparedKinds = map[vm.Kind]bool{
	vm.KindMachine: true, vm.KindAccel: true, vm.KindDevice: true, vm.KindObject: true,
	vm.KindChardev: true, vm.KindNetdev: true, vm.KindBlockDriver: true,
}

// ruleCategories are differences that follow from what each front end can observe, applied
// to every command line. Any other difference must be listed, with its reason, in the
// command line's row of agreementCases.
var ruleCategories = map[string]string{
	"part": "a composition child of a device (ps2-kbd in i8042, serial in isa-serial, " +
		"virtio-net-device in virtio-net-pci, rng-builtin in virtio-rng-pci): the live VM " +
		"has it as its own QOM object, the static model reports only the device that owns it",
	"per-cpu": "a device that each CPU has (the local APIC): the static model lists it " +
		"once for any number of CPUs",
	"probed-format": "an image without format=: QEMU read its header and opened the " +
		"format it found, which the static model cannot know and reports as probe",
	"ram-backend": "the RAM backend QEMU creates when -machine memory-backend= names " +
		"none is a board component statically; over QMP it looks like a -object with " +
		"the same id, so the live report does not mark it as board",
}

// agreementCase is one command line that runs as a paused VM and is parsed statically.
type agreementCase struct {
	name   string
	target string // QEMU target; x86_64 when empty
	// args are the QEMU arguments after the binary, separated by spaces. {raw}, {qcow2},
	// {overlay} (a qcow2 image backed by {qcow2}), {iso}, {flash64} (64 MiB of zeros),
	// {dir} and {port} are replaced by placeholder files, a private directory and a free
	// TCP port.
	args string
	// corpus, instead of args, names a corpus file whose command line is adapted with
	// replace (pairs of old and new text) and corpusRewrites.
	corpus  string
	replace []string
	// explained lists the differences that no rule category covers, one per occurrence:
	// "+kind type: reason" for what only the live VM has, "-kind type: reason" for what
	// only the static model predicts.
	explained []string
}

const (
	backingChain = "+block-driver %s: the backing chain is recorded in the qcow2 image, " +
		"so QEMU opens nodes the command line does not name"
	pxbHost = "+device pxb-host: a pxb device creates a pxb-host host bridge for its bus " +
		"(pxb_dev_realize_common in hw/pci-bridge/pci_expander_bridge.c, QEMU 7.2), " +
		"which the static model does not list"
	pxbBridge = "+device pci-bridge: a pxb device (not pxb-pcie) also creates a " +
		"pci-bridge on its internal bus (pxb_dev_realize_common), which the static " +
		"model does not list"
	snapshotFile = "+block-driver file: -drive snapshot=on puts a temporary qcow2 overlay " +
		"in a file, and QEMU opens that file with the file driver; the static model " +
		"reports the overlay's qcow2 node only"
)

var agreementCases = []agreementCase{
	// x86_64 pc
	{name: "pc defaults", args: "-machine pc"},
	{name: "pc nodefaults", args: "-machine pc -nodefaults"},
	{name: "pc versioned 2.0", args: "-machine pc-i440fx-2.0"},
	{name: "pc properties off", args: "-machine pc,hpet=off,vmport=off,i8042=off " +
		"-nodefaults"},
	{name: "pc acpi off", args: "-machine pc,acpi=off -nodefaults"},
	{name: "pc no-hpet option", args: "-machine pc -no-hpet -nodefaults"},
	{name: "pc hda", args: "-machine pc -hda {raw}"},
	{name: "pc cdrom", args: "-machine pc -cdrom {iso}"},
	{name: "pc fda", args: "-machine pc -nodefaults -fda {raw}"},
	{name: "pc drive ide raw", args: "-machine pc -nodefaults " +
		"-drive file={raw},format=raw,if=ide,index=1"},
	{name: "pc drive virtio qcow2", args: "-machine pc -nodefaults " +
		"-drive file={qcow2},format=qcow2,if=virtio"},
	{name: "pc drive backing chain", args: "-machine pc -nodefaults " +
		"-drive file={overlay},format=qcow2,if=virtio",
		explained: []string{fmt.Sprintf(backingChain, "qcow2"),
			fmt.Sprintf(backingChain, "file")}},
	{name: "pc drive snapshot", args: "-machine pc -nodefaults " +
		"-drive file={raw},format=raw,if=ide,snapshot=on",
		explained: []string{snapshotFile}},
	{name: "pc drive if=none and device", args: "-machine pc -nodefaults " +
		"-drive file={qcow2},format=qcow2,if=none,id=d0,readonly=on " +
		"-device virtio-blk-pci,drive=d0"},
	{name: "pc blockdev", args: "-machine pc -nodefaults " +
		"-blockdev driver=file,node-name=f0,filename={qcow2} " +
		"-blockdev driver=qcow2,node-name=q0,file=f0 -device virtio-blk-pci,drive=q0"},
	{name: "pc blockdev null-co", args: "-machine pc -nodefaults " +
		"-blockdev driver=null-co,node-name=z0,read-zeroes=on " +
		"-device ide-hd,drive=z0,bus=ide.0"},
	{name: "pc nic default model", args: "-machine pc -nodefaults -nic user"},
	{name: "pc nic model", args: "-machine pc -nodefaults -nic user,model=rtl8139"},
	{name: "pc net nic and user", args: "-machine pc -nodefaults " +
		"-net nic,model=virtio -net user"},
	{name: "pc net none", args: "-machine pc -net none"},
	{name: "pc netdev and device", args: "-machine pc -nodefaults " +
		"-netdev user,id=n0 -device e1000,netdev=n0 " +
		"-netdev socket,id=n1,listen=127.0.0.1:{port} -device ne2k_pci,netdev=n1"},
	{name: "pc serial backends", args: "-machine pc -nodefaults -serial null " +
		"-serial pty -serial file:{dir}/serial.log " +
		"-serial tcp:127.0.0.1:{port},server=on,wait=off"},
	{name: "pc parallel", args: "-machine pc -nodefaults -parallel null"},
	{name: "pc chardev isa-serial", args: "-machine pc -nodefaults " +
		"-chardev socket,id=c0,path={dir}/c0.sock,server=on,wait=off " +
		"-device isa-serial,chardev=c0"},
	{name: "pc monitor", args: "-machine pc -nodefaults " +
		"-monitor unix:{dir}/hmp.sock,server=on,wait=off"},
	{name: "pc nographic", args: "-machine pc -nographic"},
	{name: "pc vga cirrus", args: "-machine pc -nodefaults -vga cirrus"},
	{name: "pc vga virtio", args: "-machine pc -nodefaults -vga virtio"},
	{name: "pc vga none", args: "-machine pc -vga none"},
	{name: "pc usb", args: "-machine pc -nodefaults -usb -usbdevice tablet"},
	{name: "pc virtio-serial", args: "-machine pc -nodefaults " +
		"-device virtio-serial-pci " +
		"-chardev socket,id=ch0,path={dir}/ch0.sock,server=on,wait=off " +
		"-device virtserialport,chardev=ch0,name=org.qemu.guest_agent.0"},
	{name: "pc rng and balloon", args: "-machine pc -nodefaults " +
		"-object rng-random,id=rng0,filename=/dev/urandom " +
		"-device virtio-rng-pci,rng=rng0 -device virtio-rng-pci " +
		"-device virtio-balloon-pci"},
	{name: "pc sound", args: "-machine pc -nodefaults -audiodev none,id=a0 " +
		"-device AC97,audiodev=a0 -audio none,model=hda"},
	{name: "pc objects", args: "-machine pc -nodefaults " +
		"-object secret,id=s0,data=x -object iothread,id=io0 " +
		"-object tls-creds-anon,id=t0,endpoint=server " +
		"-object throttle-group,id=tg0,x-bps-total=1000000"},
	{name: "pc virtfs", args: "-machine pc -nodefaults " +
		"-virtfs local,path={dir},mount_tag=m0,security_model=mapped-xattr"},
	{name: "pc mem-path", args: "-machine pc -nodefaults -m 64 -mem-path {dir}"},
	{name: "pc memory-backend", args: "-machine pc,memory-backend=pc.ram -nodefaults " +
		"-object memory-backend-ram,id=pc.ram,size=128M"},
	{name: "pc numa memdev", args: "-machine pc -nodefaults -m 128 " +
		"-object memory-backend-ram,id=m0,size=128M -numa node,memdev=m0"},
	{name: "pc smp 2", args: "-machine pc -nodefaults -smp 2"},

	// x86_64 q35
	{name: "q35 defaults", args: "-machine q35"},
	{name: "q35 nodefaults", args: "-machine q35 -nodefaults"},
	{name: "q35 versioned 2.4", args: "-machine pc-q35-2.4"},
	{name: "q35 properties off", args: "-machine q35,sata=off,smbus=off,vmport=off " +
		"-nodefaults"},
	{name: "q35 hda", args: "-machine q35 -hda {raw}"},
	{name: "q35 fda", args: "-machine q35 -nodefaults -fda {raw}"},
	{name: "q35 cdrom drive", args: "-machine q35 -nodefaults " +
		"-drive file={iso},format=raw,media=cdrom,if=ide"},
	{name: "q35 usb", args: "-machine q35 -nodefaults -usb -device usb-tablet"},
	{name: "q35 xhci", args: "-machine q35 -nodefaults -device qemu-xhci " +
		"-device usb-kbd"},
	{name: "q35 nic", args: "-machine q35 -nodefaults -nic user"},
	{name: "q35 root port", args: "-machine q35 -nodefaults " +
		"-device pcie-root-port,id=rp1,chassis=1 -netdev user,id=n0 " +
		"-device virtio-net-pci,bus=rp1,netdev=n0"},
	{name: "q35 scsi", args: "-machine q35 -nodefaults -device virtio-scsi-pci " +
		"-drive file={raw},format=raw,if=none,id=d0 -device scsi-hd,drive=d0"},
	{name: "q35 vga std", args: "-machine q35 -nodefaults -vga std"},
	{name: "q35 pflash", args: "-machine q35 -nodefaults " +
		"-drive if=pflash,format=raw,file={raw}"},
	{name: "q35 isa-serial and ide-cd", args: "-machine q35 " +
		"-device isa-serial,chardev=c0 -chardev null,id=c0 -device ide-cd,bus=ide.1"},

	// other x86_64 machines
	{name: "isapc defaults", args: "-machine isapc"},
	{name: "microvm defaults", args: "-machine microvm"},
	{name: "microvm virtio-mmio", args: "-machine microvm -nodefaults " +
		"-drive file={raw},format=raw,if=none,id=d0 -device virtio-blk-device,drive=d0"},
	{name: "none with memory", args: "-machine none -m 64"},

	// aarch64 virt
	{name: "virt defaults", target: "aarch64", args: "-machine virt"},
	{name: "virt nodefaults", target: "aarch64", args: "-machine virt -nodefaults"},
	{name: "virt gic 3", target: "aarch64", args: "-machine virt,gic-version=3 " +
		"-cpu max -nodefaults"},
	{name: "virt secure", target: "aarch64", args: "-machine virt,secure=on " +
		"-cpu cortex-a15 -nodefaults"},
	{name: "virt smmuv3", target: "aarch64", args: "-machine virt,iommu=smmuv3 " +
		"-nodefaults"},
	{name: "virt drive and cdrom", target: "aarch64", args: "-machine virt " +
		"-drive file={qcow2},format=qcow2 -cdrom {iso}"},
	{name: "virt nic", target: "aarch64", args: "-machine virt -nodefaults " +
		"-nic user,model=virtio"},
	{name: "virt serial", target: "aarch64", args: "-machine virt -nodefaults " +
		"-serial null"},
	{name: "virt pflash", target: "aarch64", args: "-machine virt -nodefaults " +
		"-drive if=pflash,format=raw,file={flash64}"},
	{name: "virt xhci", target: "aarch64", args: "-machine virt -nodefaults " +
		"-device qemu-xhci -device usb-tablet -device virtio-gpu-pci"},

	// libvirt 10.1's generated command lines, with placeholder files
	{name: "libvirt q35 headless", corpus: "libvirt-10.1/x86_64-q35-headless.x86_64-latest.args",
		replace: []string{"/var/lib/libvirt/images/guest.qcow2", "{qcow2}"}},
	{name: "libvirt q35 default devices",
		corpus: "libvirt-10.1/q35-default-devices-only.x86_64-latest.args"},
	{name: "libvirt q35 tcg 4.2",
		corpus:  "libvirt-10.1/x86_64-default-cpu-tcg-q35-4.2.x86_64-latest.args",
		replace: []string{"/var/lib/libvirt/images/guest.qcow2", "{qcow2}"}},
	{name: "libvirt pci bridges", corpus: "libvirt-10.1/pci-bridge.x86_64-latest.args",
		replace: []string{"/var/iso/f18kde.iso", "{iso}"}},
	{name: "libvirt pci expander bus",
		corpus:    "libvirt-10.1/pci-expander-bus.x86_64-latest.args",
		explained: []string{pxbHost, pxbHost, pxbBridge, pxbBridge}},
	{name: "libvirt usb hubs",
		corpus: "libvirt-10.1/usb-hub-autoadd-deluxe.x86_64-latest.args"},
	{name: "libvirt ich9 usb companions",
		corpus: "libvirt-10.1/usb-controller-ich9-companion.x86_64-latest.args"},
	{name: "libvirt q35 floppy boot",
		corpus:  "libvirt-10.1/boot-floppy-q35.x86_64-latest.args",
		replace: []string{"/tmp/firmware.img", "{raw}"}},
	{name: "libvirt q35 floppies",
		corpus:  "libvirt-10.1/disk-floppy-q35.x86_64-latest.args",
		replace: []string{"/tmp/firmware.img", "{raw}", "/tmp/data.img", "{qcow2}"}},
	{name: "libvirt q35 watchdogs",
		corpus: "libvirt-10.1/watchdog-q35-multiple.x86_64-latest.args"},
	{name: "libvirt virtio input", corpus: "libvirt-10.1/virtio-input.x86_64-latest.args"},
	{name: "libvirt unix channels",
		corpus: "libvirt-10.1/channel-unix-source-path.x86_64-latest.args"},
	{name: "libvirt tseg size", corpus: "libvirt-10.1/tseg-explicit-size.x86_64-latest.args"},
	{name: "libvirt 9p devices",
		corpus: "libvirt-10.1/virtio-9p-multidevs.x86_64-latest.args",
		replace: []string{"/export/fs0", "{dir}", "/export/fs1", "{dir}",
			"/export/fs2", "{dir}"}},
	{name: "libvirt pc user network", corpus: "libvirt-10.1/net-user.x86_64-latest.args",
		replace: []string{`"driver":"host_device","filename":"/dev/HostVG/QEMUGuest1"`,
			`"driver":"file","filename":"{raw}"`}},
	{name: "libvirt pc cdroms", corpus: "libvirt-10.1/disk-cdrom.x86_64-latest.args",
		replace: []string{`"driver":"host_cdrom","filename":"/dev/cdrom"`,
			`"driver":"file","filename":"{iso}"`, "/root/boot.iso", "{raw}"}},
	{name: "libvirt virt headless", target: "aarch64",
		corpus: "libvirt-10.1/aarch64-virt-headless.aarch64-latest.args",
		replace: []string{"/usr/share/edk2/aarch64/QEMU_EFI-silent-pflash.raw", "{flash64}",
			"/path/to/guest_VARS.raw", "{flash64b}",
			"/var/lib/libvirt/images/guest.qcow2", "{qcow2}"}},
	{name: "libvirt virt usb controllers", target: "aarch64",
		corpus: "libvirt-10.1/aarch64-usb-controller.aarch64-latest.args"},
}

// corpusRewrites adapt a libvirt command line to this machine: a secret read from a file
// that does not exist gets inline data, and a chardev on a socket passed by libvirt gets
// a socket path.
var corpusRewrites = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`"file":"/var/lib/libvirt/qemu/[^"]*/master-key\.aes"`),
		`"data":"placeholder"`},
	{regexp.MustCompile(`\bid=([A-Za-z0-9_-]+),fd=\d+`), "id=$1,path={dir}/$1.sock"},
}

// argv returns the command line of c for QEMU, with placeholders filled.
func (c *agreementCase) argv(t *testing.T, binary string, fill func(string) string) []string {
	t.Helper()
	var args []string
	if c.corpus == "" {
		args = strings.Fields(c.args)
	} else {
		args = corpusArgs(t, c.corpus, c.replace)
	}
	has := map[string]bool{}
	for i, a := range args {
		args[i] = fill(a)
		has[a] = true
	}
	if !has["-S"] {
		args = append(args, "-S")
	}
	if !has["-display"] && !has["-nographic"] {
		args = append(args, "-display", "none")
	}
	return append([]string{binary}, args...)
}

// corpusArgs returns the arguments of a corpus command line, adapted.
func corpusArgs(t *testing.T, name string, replace []string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testcorpus.Dir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	_, words, err := qemuargs.SplitCommandLine(string(data))
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, w := range words[1:] {
		a := w.Text
		for _, rw := range corpusRewrites {
			a = rw.re.ReplaceAllString(a, rw.with)
		}
		for i := 0; i+1 < len(replace); i += 2 {
			a = strings.ReplaceAll(a, replace[i], replace[i+1])
		}
		args = append(args, a)
	}
	return args
}

// agreement is the comparison of one command line.
type agreement struct {
	name                  string
	static, live, matched int
	// staticDevices and matchedDevices count the devices the static model predicts and
	// those the live VM has too.
	staticDevices, matchedDevices int
	byCategory                    map[string]int
	// details lists every difference with its category, for the test log.
	details     []string
	explained   int
	unexplained []string
	stale       []string
}

func TestStaticAgreesWithLiveVM(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a QEMU per command line")
	}
	cat := defaultCatalog(t)
	var (
		mu      sync.Mutex
		results []*agreement
		wg      sync.WaitGroup
		sem     = make(chan struct{}, 6)
	)
	for i := range agreementCases {
		c := &agreementCases[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			t.Run(c.name, func(t *testing.T) {
				a := runAgreement(t, c, cat)
				mu.Lock()
				results = append(results, a)
				mu.Unlock()
				t.Logf("%d static, %d live, %d matched; differences:\n%s", a.static,
					a.live, a.matched, strings.Join(a.details, "\n"))
				for _, d := range a.unexplained {
					t.Errorf("unexplained difference %s", d)
				}
				for _, d := range a.stale {
					t.Errorf("listed difference did not occur: %s", d)
				}
			})
		}()
	}
	wg.Wait()
	logAgreement(t, results)
}

func defaultCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	def, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	return catalog.New(def)
}

// runAgreement starts the VM of c, audits it, parses the same command line and compares
// the two.
func runAgreement(t *testing.T, c *agreementCase, cat *catalog.Catalog) *agreement {
	target := c.target
	if target == "" {
		target = "x86_64"
	}
	bin := qemuFor(t, target)
	dir := t.TempDir()
	images := makeImages(t, dir)
	port := strconv.Itoa(freePort(t))
	fill := func(s string) string { return strings.ReplaceAll(images(s), "{port}", port) }
	argv := c.argv(t, bin, fill)
	p := startVM(t, target, argv[1:]...)
	live := auditVM(t, p)
	static, err := qemuargs.Parse(append(argv, "-qmp", "unix:"+p.Socket+",server=on,wait=off"),
		qemuargs.Options{QEMUVersion: live.QEMUVersion})
	if err != nil {
		t.Fatalf("static parse of %q: %v", strings.Join(argv, " "), err)
	}
	return compareConfigs(c, static, live, cat)
}

// keyed lists the compared components of cfg as "kind type" keys, each as often as the
// component stands for instances (a board device's count), with the component.
func keyed(cfg *vm.Config, cat *catalog.Catalog) map[string][]*vm.Component {
	res := policy.Evaluate(cfg, cat, policy.Accept)
	out := map[string][]*vm.Component{}
	for i, j := range res.Judgements {
		c := &cfg.Components[i]
		if !comparedKinds[c.Kind] || c.Props["internal"] == "on" {
			continue
		}
		n := 1
		if v, err := strconv.Atoi(c.Props["count"]); err == nil && v > 1 {
			n = v
		}
		key := string(c.Kind) + " " + j.Type
		for range n {
			out[key] = append(out[key], c)
		}
	}
	return out
}

// compareConfigs matches the static and live components of c by kind and type and sorts
// each difference into a rule category, an explained difference or an unexplained one.
func compareConfigs(c *agreementCase, static, live *vm.Config,
	cat *catalog.Catalog) *agreement {
	a := &agreement{name: c.name, byCategory: map[string]int{}}
	s, l := keyed(static, cat), keyed(live, cat)
	var staticOnly, liveOnly []string
	var liveOnlyComps []*vm.Component
	for _, key := range sortedKeys(s, l) {
		ns, nl := len(s[key]), len(l[key])
		a.static += ns
		a.live += nl
		a.matched += min(ns, nl)
		if strings.HasPrefix(key, "device ") {
			a.staticDevices += ns
			a.matchedDevices += min(ns, nl)
		}
		if ns == nl {
			a.compareBoard(key, s[key], l[key])
		}
		for i := nl; i < ns; i++ {
			staticOnly = append(staticOnly, key)
		}
		for i := ns; i < nl; i++ {
			liveOnly = append(liveOnly, key)
			liveOnlyComps = append(liveOnlyComps, l[key][i])
		}
	}
	liveMachine := live.Components[0].Name
	var rest []string
	for i, key := range liveOnly {
		if cat := liveCategory(liveOnlyComps[i], liveMachine); cat != "" {
			a.byCategory[cat]++
			a.details = append(a.details, cat+": +"+key)
			continue
		}
		rest = append(rest, "+"+key)
	}
	rest = pairProbes(a, staticOnly, rest)
	a.matchExplained(c.explained, rest)
	return a
}

// compareBoard checks that the static and live components of key agree on which are board
// components.
func (a *agreement) compareBoard(key string, static, live []*vm.Component) {
	sb, lb := boardCount(static), boardCount(live)
	switch {
	case sb == lb:
	case strings.HasPrefix(key, "object memory-backend-") && sb == lb+1:
		a.byCategory["ram-backend"]++
		a.details = append(a.details, "ram-backend: board flag of "+key)
	default:
		a.unexplained = append(a.unexplained, fmt.Sprintf("board flag of %s: %d of %d "+
			"static, %d live", key, sb, len(static), lb))
	}
}

// boardCount returns how many of comps are board components.
func boardCount(comps []*vm.Component) int {
	n := 0
	for _, c := range comps {
		if c.Board {
			n++
		}
	}
	return n
}

// liveCategory returns the rule category of a component only the live VM has, or "".
func liveCategory(c *vm.Component, machine string) string {
	switch {
	case c.Parent == "" || c.Parent == machine:
		return ""
	case strings.HasSuffix(c.Parent, "-cpu"):
		return "per-cpu"
	}
	return "part"
}

// pairProbes matches each static "probe" block driver with a format node only the live
// VM has, and returns the other differences: the static-only ones with a "-" sign and
// the remaining live-only ones.
func pairProbes(a *agreement, staticOnly, liveOnly []string) []string {
	formats := map[string]bool{"raw": true, "qcow2": true, "vmdk": true, "vdi": true,
		"vpc": true, "vhdx": true, "qcow": true, "qed": true, "parallels": true}
	var rest []string
	for _, key := range staticOnly {
		if key != "block-driver probe" {
			rest = append(rest, "-"+key)
			continue
		}
		paired := false
		for i, l := range liveOnly {
			if drv, ok := strings.CutPrefix(l, "+block-driver "); ok && formats[drv] {
				liveOnly = append(liveOnly[:i:i], liveOnly[i+1:]...)
				a.byCategory["probed-format"]++
				a.details = append(a.details, "probed-format: -"+key+" "+l)
				paired = true
				break
			}
		}
		if !paired {
			rest = append(rest, "-"+key)
		}
	}
	return append(rest, liveOnly...)
}

// matchExplained removes the differences c lists from diffs; what remains is unexplained,
// and what c lists but did not occur is stale.
func (a *agreement) matchExplained(explained, diffs []string) {
	left := append([]string(nil), diffs...)
	for _, e := range explained {
		key, _, _ := strings.Cut(e, ":")
		found := false
		for i, d := range left {
			if d == key {
				left = append(left[:i:i], left[i+1:]...)
				found = true
				break
			}
		}
		if found {
			a.explained++
			a.details = append(a.details, "listed: "+e)
		} else {
			a.stale = append(a.stale, e)
		}
	}
	a.unexplained = append(a.unexplained, left...)
}

func sortedKeys(maps ...map[string][]*vm.Component) []string {
	seen := map[string]bool{}
	var keys []string
	for _, m := range maps {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

// logAgreement logs one row per command line and the totals, as a Markdown table.
func logAgreement(t *testing.T, results []*agreement) {
	sort.Slice(results, func(i, j int) bool { return results[i].name < results[j].name })
	var b strings.Builder
	b.WriteString("\n| command line | static | live | matched | devices matched | " +
		"rule categories | listed | unexplained |\n|---|---|---|---|---|---|---|---|\n")
	var tot agreement
	tot.byCategory = map[string]int{}
	for _, r := range results {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d/%d | %s | %d | %d |\n", r.name, r.static,
			r.live, r.matched, r.matchedDevices, r.staticDevices, categories(r.byCategory),
			r.explained, len(r.unexplained))
		tot.static += r.static
		tot.live += r.live
		tot.matched += r.matched
		tot.staticDevices += r.staticDevices
		tot.matchedDevices += r.matchedDevices
		tot.explained += r.explained
		tot.unexplained = append(tot.unexplained, r.unexplained...)
		for k, v := range r.byCategory {
			tot.byCategory[k] += v
		}
	}
	fmt.Fprintf(&b, "| **%d command lines** | %d | %d | %d | %d/%d | %s | %d | %d |\n",
		len(results), tot.static, tot.live, tot.matched, tot.matchedDevices,
		tot.staticDevices, categories(tot.byCategory), tot.explained, len(tot.unexplained))
	b.WriteString("\nrule categories:\n")
	for _, k := range sortedCategoryNames() {
		fmt.Fprintf(&b, "- %s: %s\n", k, ruleCategories[k])
	}
	for k := range tot.byCategory {
		if ruleCategories[k] == "" {
			t.Errorf("category %q has no explanation in ruleCategories", k)
		}
	}
	t.Log(b.String())
}

func sortedCategoryNames() []string {
	names := make([]string, 0, len(ruleCategories))
	for k := range ruleCategories {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func categories(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}
