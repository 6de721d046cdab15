package domxml

import (
	"slices"
	"strings"
	"testing"

	"github.com/qscope/qscope/vm"
)

// archDomain wraps top-level elements and devices in a TCG domain of the given
// architecture and machine.
func archDomain(arch, machine, top, devices string) string {
	return `<domain type='qemu'><name>t</name><memory unit='MiB'>1024</memory>` + top +
		`<os><type arch='` + arch + `' machine='` + machine + `'>hvm</type></os>` +
		`<devices>` + devices + `</devices></domain>`
}

// count returns the number of components of kind k named name.
func count(cfg *vm.Config, k vm.Kind, name string) int {
	return len(cfg.Find(k, name))
}

const (
	virtioDisk = `<disk type='file'><source file='/a.img'/><target dev='vda' ` +
		`bus='virtio'/></disk>`
	virtioNIC = `<interface type='user'><model type='virtio'/></interface>`
	mmioNIC   = `<interface type='user'><model type='virtio'/><address ` +
		`type='virtio-mmio'/></interface>`
	noBalloon = `<memballoon model='none'/>`
)

// TestParseRules checks libvirt's defaults and address assignment on small domains: each
// case counts the components of one name.
func TestParseRules(t *testing.T) {
	tests := []struct {
		name string
		xml  string
		opts Options
		kind vm.Kind
		want string
		n    int
	}{
		// PCI address assignment adds a root port per PCI Express device and one spare.
		{"q35 root ports", archDomain("x86_64", "q35", "", virtioDisk+virtioNIC+noBalloon),
			Options{}, vm.KindDevice, "pcie-root-port", 4},
		{"q35 root port for USB", archDomain("x86_64", "q35", "", noBalloon), Options{},
			vm.KindDevice, "pcie-root-port", 2},
		{"i440fx no bridge", archDomain("x86_64", "pc", "", virtioDisk), Options{},
			vm.KindDevice, "pci-bridge", 0},
		{"bridges up to index", archDomain("x86_64", "pc", "",
			`<controller type='pci' index='3' model='pci-bridge'/>`), Options{},
			vm.KindDevice, "pci-bridge", 3},
		{"aarch64 virt root ports", archDomain("aarch64", "virt", "", virtioDisk+noBalloon),
			Options{}, vm.KindDevice, "pcie-root-port", 2},
		{"pvpanic on the root bus", archDomain("aarch64", "virt", "",
			`<panic model='pvpanic'/>`+noBalloon), Options{}, vm.KindDevice,
			"pcie-pci-bridge", 0},
		{"pseries host bridge for hostdev", archDomain("ppc64", "pseries", "",
			`<hostdev mode='subsystem' type='pci'><source><address domain='0' bus='1' `+
				`slot='0' function='0'/></source></hostdev>`+noBalloon), Options{},
			vm.KindDevice, "spapr-pci-host-bridge", 1},

		// Virtio devices go to PCI, virtio-mmio or CCW.
		{"aarch64 virtio-pci", archDomain("aarch64", "virt", "", virtioNIC+noBalloon),
			Options{}, vm.KindDevice, "virtio-net-pci", 1},
		{"aarch64 virtio-mmio", archDomain("aarch64", "virt", "", virtioNIC+mmioNIC+
			noBalloon), Options{}, vm.KindDevice, "virtio-net-device", 2},
		{"vexpress virtio-mmio", archDomain("armv7l", "vexpress-a9", "", virtioDisk),
			Options{}, vm.KindDevice, "virtio-blk-device", 1},
		{"s390 ccw", archDomain("s390x", "s390-ccw-virtio", "", virtioDisk), Options{},
			vm.KindDevice, "virtio-blk-ccw", 1},
		{"s390 zpci", archDomain("s390x", "s390-ccw-virtio", "",
			`<hostdev mode='subsystem' type='pci'><source><address domain='0' bus='0' `+
				`slot='0' function='0'/></source></hostdev>`), Options{}, vm.KindDevice,
			"zpci", 1},
		// A serial port on a SPICE port needs a SPICE display.
		{"spiceport serial without spice", archDomain("x86_64", "pc", "",
			`<serial type='spiceport'><source channel='org.qemu.console.serial.0'/></serial>`),
			Options{}, vm.KindChardev, "spiceport", 0},
		{"spiceport serial with spice", archDomain("x86_64", "pc", "",
			`<serial type='spiceport'><source channel='org.qemu.console.serial.0'/></serial>`+
				`<graphics type='spice'/>`), Options{}, vm.KindChardev, "spiceport", 1},
		{"primary virtio video riscv", archDomain("riscv64", "virt", "",
			`<video><model type='virtio'/></video>`), Options{}, vm.KindDevice,
			"virtio-vga", 1},

		// The virtio-serial controller libvirt adds for lack of ports: port 0 is for
		// consoles, and the added controller has 31 ports.
		{"virtio-serial ports", archDomain("x86_64", "pc", "",
			`<controller type='virtio-serial' index='0' ports='2'/>`+
				strings.Repeat(`<channel type='pty'><target type='virtio'/></channel>`, 3)),
			Options{}, vm.KindDevice, "virtio-serial-pci", 2},
		{"virtio-serial for many channels", archDomain("x86_64", "q35", "",
			`<console type='pty'><target type='virtio'/></console>`+
				strings.Repeat(`<channel type='pty'><target type='virtio'/></channel>`, 91)),
			Options{}, vm.KindDevice, "virtio-serial-pci", 4},

		// USB hubs for lack of USB ports: piix3-uhci has two.
		{"usb hubs", archDomain("x86_64", "pc", "", strings.Repeat(
			`<input type='tablet' bus='usb'/>`, 3)), Options{}, vm.KindDevice, "usb-hub", 1},

		// SCSI host devices fill seven units per controller.
		{"scsi hostdev controllers", archDomain("x86_64", "pc", "",
			`<controller type='scsi' index='0' model='virtio-scsi'/>`+strings.Repeat(
				`<hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host0'/>`+
					`<address bus='0' target='0' unit='0'/></source></hostdev>`, 8)),
			Options{}, vm.KindDevice, "virtio-scsi-pci", 2},

		// Memory backends.
		{"shared cell", archDomain("x86_64", "pc", `<cpu><numa><cell id='0' cpus='0' `+
			`memory='1' unit='GiB' memAccess='shared'/></numa></cpu>`, ""), Options{},
			vm.KindObject, "memory-backend-file", 1},
		{"huge pages of one cell", archDomain("x86_64", "pc",
			`<memoryBacking><hugepages><page size='2' unit='MiB' nodeset='1'/></hugepages>`+
				`</memoryBacking><cpu><numa><cell id='0' cpus='0' memory='1' unit='GiB'/>`+
				`<cell id='1' cpus='1' memory='1' unit='GiB'/></numa></cpu>`, ""), Options{},
			vm.KindObject, "memory-backend-ram", 1},
		{"thread context", archDomain("x86_64", "pc", `<memoryBacking><hugepages/>`+
			`</memoryBacking><numatune><memory mode='strict' nodeset='0'/></numatune>`, ""),
			Options{}, vm.KindObject, "thread-context", 1},
		{"no thread context before QEMU 7.2", archDomain("x86_64", "pc",
			`<memoryBacking><hugepages/></memoryBacking><numatune><memory mode='strict' `+
				`nodeset='0'/></numatune>`, ""), Options{QEMUVersion: "7.1.0"},
			vm.KindObject, "thread-context", 0},
		{"iothreads filled up", archDomain("x86_64", "pc", `<iothreads>3</iothreads>`+
			`<iothreadids><iothread id='5'/></iothreadids>`, ""), Options{}, vm.KindObject,
			"iothread", 3},

		// Disk encryption and slices.
		{"librbd encryption", archDomain("x86_64", "pc", "",
			`<disk type='network'><driver type='raw'/><source protocol='rbd' name='p/i'>`+
				`<host name='h'/><encryption format='luks' engine='librbd'><secret `+
				`type='passphrase' uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80fb0'/></encryption>`+
				`</source><target dev='vda' bus='virtio'/></disk>`), Options{},
			vm.KindBlockDriver, "luks", 0},
		{"qemu LUKS", archDomain("x86_64", "pc", "",
			`<disk type='file'><driver type='raw'/><source file='/a.img'><encryption `+
				`format='luks'><secret type='passphrase' `+
				`uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80fb0'/></encryption></source>`+
				`<target dev='vda' bus='virtio'/></disk>`), Options{}, vm.KindBlockDriver,
			"luks", 1},
		{"raw slice", archDomain("x86_64", "pc", "",
			`<disk type='file'><driver type='qcow2'/><source file='/a.img'><slices>`+
				`<slice type='storage' offset='0' size='512'/></slices></source>`+
				`<target dev='vda' bus='virtio'/></disk>`), Options{}, vm.KindBlockDriver,
			"raw", 1},

		// Older libvirt and QEMU versions.
		{"virtio transitional on QEMU 3.1", archDomain("x86_64", "pc", "",
			`<disk type='file'><source file='/a.img'/><target dev='vda' bus='virtio'/>`+
				`<model type='virtio-transitional'/></disk>`), Options{QEMUVersion: "3.1.0"},
			vm.KindDevice, "virtio-blk-pci", 1},
		{"libvirt 5.6 floppy", archDomain("x86_64", "pc", "",
			`<disk type='file' device='floppy'><source file='/f.img'/><target dev='fda' `+
				`bus='fdc'/></disk>`), Options{LibvirtVersion: "5.6"}, vm.KindDevice,
			"floppy", 0},
		{"libvirt 5.6 hugepages", archDomain("x86_64", "pc", `<memoryBacking><hugepages/>`+
			`</memoryBacking>`, ""), Options{LibvirtVersion: "5.6"}, vm.KindObject,
			"memory-backend-file", 1},

		// Consoles and serial ports.
		{"s390 console is the serial port", archDomain("s390x", "s390-ccw-virtio", "",
			`<serial type='pty'/><console type='pty'/>`), Options{}, vm.KindDevice,
			"sclpconsole", 1},
		{"isa-serial target on arm", archDomain("aarch64", "virt", "",
			`<serial type='pty'><target type='isa-serial'/></serial>`+noBalloon), Options{},
			vm.KindDevice, "isa-serial", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.xml), tt.opts)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := count(cfg, tt.kind, tt.want); got != tt.n {
				t.Errorf("%d components %s %s, want %d", got, tt.kind, tt.want, tt.n)
			}
		})
	}
}

// lacking returns Options for a QEMU binary that has every type but the named ones.
func lacking(libvirt string, names ...string) Options {
	return Options{LibvirtVersion: libvirt, HasType: func(n string) bool {
		return !slices.Contains(names, n)
	}}
}

// TestParseTypeChoices checks the devices libvirt picks by the types the QEMU binary
// has. Each case counts the components of one name, and the description of where each
// one comes from (option and XML path, or the implying rule) must contain from.
func TestParseTypeChoices(t *testing.T) {
	const (
		pciHostdev = `<hostdev mode='subsystem' type='pci'><source><address domain='0' ` +
			`bus='1' slot='0' function='0'/></source></hostdev>`
		iscsiAuth = `<disk type='network'><source protocol='iscsi' name='iqn.2013-07.com.` +
			`example:iscsi/1'><host name='example.org'/><auth username='u'><secret ` +
			`type='iscsi' usage='s'/></auth></source><target dev='sda' bus='scsi'/></disk>`
		virtioVideo = `<video><model type='virtio'/></video>`
	)
	q35 := archDomain("x86_64", "q35", "", noBalloon)
	tests := []struct {
		name string
		xml  string
		opts Options
		want string
		n    int
		from string
	}{
		{"generic root port", q35, lacking(""), "pcie-root-port", 2, "address assignment"},
		{"ioh3420 root port", q35, lacking("", "pcie-root-port"), "ioh3420", 2, "address assignment"},
		{"nec-xhci on q35", q35, lacking("", "qemu-xhci"), "nec-usb-xhci", 1, "default USB"},
		{"ehci on q35", q35, lacking("", "qemu-xhci", "nec-usb-xhci"), "ich9-usb-ehci1", 1,
			"default USB"},
		{"ehci companions", q35, lacking("", "qemu-xhci", "nec-usb-xhci"), "ich9-usb-uhci3",
			1, "default USB"},
		{"no USB on q35", q35, lacking("", "qemu-xhci", "nec-usb-xhci", "ich9-usb-ehci1"),
			"ich9-usb-ehci1", 0, ""},
		{"legacy USB on pc", archDomain("x86_64", "pc", "", noBalloon),
			lacking("", "piix3-usb-uhci"), "piix3-usb-uhci", 1, "-usb (libvirt"},
		{"pcie-to-pci bridge", archDomain("x86_64", "q35", "", `<sound model='ich6'/>`),
			lacking(""), "pcie-pci-bridge", 1, "address assignment"},
		{"dmi-to-pci bridge", archDomain("x86_64", "q35", "", `<sound model='ich6'/>`),
			lacking("", "pcie-pci-bridge"), "i82801b11-bridge", 1, "address assignment"},
		{"vfio-pci", archDomain("x86_64", "pc", "", pciHostdev), lacking("5.6"), "vfio-pci",
			1, "-device /domain/devices/"},
		{"pci-assign", archDomain("x86_64", "pc", "", pciHostdev), lacking("5.6", "vfio-pci"),
			"pci-assign", 1, "-device /domain/devices/"},
		{"vfio-pci only since libvirt 6", archDomain("x86_64", "pc", "", pciHostdev),
			lacking("", "vfio-pci"), "vfio-pci", 1, "-device /domain/devices/"},
		{"virtio-pci on arm virt", archDomain("aarch64", "virt", "", virtioDisk+noBalloon),
			lacking(""), "virtio-blk-pci", 1, "-device /domain/devices/"},
		{"virtio-mmio without gpex", archDomain("aarch64", "virt", "", virtioDisk+noBalloon),
			lacking("", "gpex-pcihost"), "virtio-blk-device", 1, "-device /domain/devices/"},
		{"ccw on s390", archDomain("s390x", "s390-ccw-virtio", "", virtioDisk),
			lacking("5.6"), "virtio-blk-ccw", 1, "-device /domain/devices/"},
		{"pci on s390 without ccw", archDomain("s390x", "s390-ccw-virtio", "", virtioDisk),
			lacking("5.6", "virtual-css-bridge", "virtio-blk-s390"), "virtio-blk-pci", 1,
			"-device /domain/devices/"},
		{"zpci", archDomain("s390x", "s390-ccw-virtio", "", pciHostdev), lacking("5.6"),
			"zpci", 1, "-device /domain/devices/"},
		{"virtio-vga", archDomain("x86_64", "pc", "", virtioVideo), lacking(""), "virtio-vga",
			1, "-device /domain/devices/"},
		{"virtio-gpu without virtio-vga", archDomain("x86_64", "pc", "", virtioVideo),
			lacking("", "virtio-vga"), "virtio-gpu-pci", 1, "-device /domain/devices/"},
		{"iscsi and master key secrets", archDomain("x86_64", "pc", "", iscsiAuth), lacking("5.6"), "secret",
			2, ""},
		{"iscsi password in URL", archDomain("x86_64", "pc", "", iscsiAuth),
			lacking("5.6", "secret"), "secret", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.xml), tt.opts)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var found []*vm.Component
			for _, k := range []vm.Kind{vm.KindDevice, vm.KindObject} {
				found = append(found, cfg.Find(k, tt.want)...)
			}
			if len(found) != tt.n {
				t.Fatalf("%d components %s, want %d", len(found), tt.want, tt.n)
			}
			for _, c := range found {
				from := c.ImpliedBy
				if c.Origin != nil {
					from = c.Origin.Option + " " + c.Origin.Path
				}
				if !strings.Contains(from, tt.from) {
					t.Errorf("%s comes from %q, want %q", tt.want, from, tt.from)
				}
			}
		})
	}
}

func TestParseVersionOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"invalid QEMU version", Options{QEMUVersion: "9.x"},
			`QEMU version: invalid version "9.x"`},
		{"too many parts", Options{QEMUVersion: "9.0.0.1"}, "invalid version"},
		{"libvirt too old", Options{LibvirtVersion: "4.10"},
			"libvirt version 4.10 is not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(domain("pc", "")), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestNodesetHas(t *testing.T) {
	for n, want := range map[int]bool{0: true, 1: false, 2: true, 3: false, 4: true,
		5: false, 4294967295: true} {
		if got := nodesetHas("0,2-4,^3,4294967295", n); got != want {
			t.Errorf("nodesetHas(%d) = %v, want %v", n, got, want)
		}
	}
}

// TestPCIReserveNext checks the slot search of the address set: root ports share the
// functions of one slot, and a conventional PCI device on a PCI Express root gets a
// pcie-root-port and a pcie-to-pci-bridge.
func TestPCIReserveNext(t *testing.T) {
	root, err := newPCIBus("pcie-root", true)
	if err != nil {
		t.Fatal(err)
	}
	s := &pciSet{buses: []*pciBus{root}, pcieToPCIBridge: true}
	for want := range 3 {
		a, err := s.reserveNext(pciControllerFlags("pcie-root-port"), 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		if a != (pciAddr{0, 1, want}) {
			t.Errorf("root port %d at %s, want 0000:00:01.%d", want, a, want)
		}
	}
	a, err := s.reserveNext(pciDevice|pciAutoAssign, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	var models []string
	for _, bus := range s.buses[1:] {
		models = append(models, bus.model)
	}
	if got, want := strings.Join(models, " "), "pcie-root-port pcie-to-pci-bridge"; got !=
		want {
		t.Errorf("added buses %q, want %q", got, want)
	}
	if a.bus != 2 {
		t.Errorf("PCI device on bus %d, want 2 (the pcie-to-pci-bridge)", a.bus)
	}
}

func TestOverrideRejected(t *testing.T) {
	xml := `<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>o</name><memory>65536</memory>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices><interface type='user'><model type='virtio'/><alias name='ua-nic'/></interface></devices>
  <qemu:override><qemu:device alias='ua-nic'><qemu:frontend>
    <qemu:property name='driver' type='string' value='ne2k_pci'/>
  </qemu:frontend></qemu:device></qemu:override>
</domain>`
	_, err := Parse([]byte(xml), Options{})
	if err == nil || !strings.Contains(err.Error(), "qemu:override") {
		t.Fatalf("Parse error = %v, want the qemu:override rejected", err)
	}
}

func TestFilesystemSecurityModel(t *testing.T) {
	for mode, want := range map[string]string{"": "passthrough", "passthrough": "passthrough",
		"mapped": "mapped", "squash": "none"} {
		attr := ""
		if mode != "" {
			attr = " accessmode='" + mode + "'"
		}
		xml := `<domain type='kvm'><name>f</name><memory>65536</memory>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices><filesystem type='mount'` + attr + `><source dir='/srv'/><target dir='t'/></filesystem></devices>
</domain>`
		cfg, err := Parse([]byte(xml), Options{})
		if err != nil {
			t.Fatalf("accessmode %q: %v", mode, err)
		}
		found := false
		for _, c := range cfg.Components {
			if c.Kind == vm.KindFsdev {
				found = true
				if got := c.Props["security_model"]; got != want {
					t.Errorf("accessmode %q: security_model %q, want %q", mode, got, want)
				}
			}
		}
		if !found {
			t.Errorf("accessmode %q: no fsdev component", mode)
		}
	}
}

func TestVNCListenAddresses(t *testing.T) {
	tests := []struct{ graphics, wantVNC string }{
		{`<graphics type='vnc'><listen type='network' network='default'/></graphics>`, "0.0.0.0:0"},
		{`<graphics type='vnc'><listen type='network' network='default' address='192.168.122.1'/></graphics>`,
			"192.168.122.1:0"},
		{`<graphics type='vnc' socket='/var/lib/libvirt/qemu/domain-1-v/vnc.sock'/>`, "127.0.0.1:0"},
		{`<graphics type='vnc' socket='/run/vnc.sock'/>`, "unix:/run/vnc.sock"},
	}
	for _, tt := range tests {
		xml := `<domain type='kvm'><name>v</name><memory>65536</memory>
  <os><type arch='x86_64' machine='q35'>hvm</type></os><devices>` + tt.graphics + `</devices></domain>`
		cfg, err := Parse([]byte(xml), Options{})
		if err != nil {
			t.Fatalf("%s: %v", tt.graphics, err)
		}
		for _, c := range cfg.Components {
			if c.Kind == vm.KindDisplay && c.Name == "vnc" && c.Props["vnc"] != tt.wantVNC {
				t.Errorf("%s: vnc=%q, want %q", tt.graphics, c.Props["vnc"], tt.wantVNC)
			}
		}
	}
}
