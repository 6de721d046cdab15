package domxml

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/qscope/qscope/internal/testcorpus"
	"github.com/qscope/qscope/vm"
)

// domain wraps devices in a minimal TCG domain of the given machine.
func domain(machine, devices string) string {
	return `<domain type='qemu'><name>t</name><memory unit='MiB'>64</memory>
<os><type arch='x86_64' machine='` + machine + `'>hvm</type></os>
<devices>` + devices + `</devices></domain>`
}

// find returns the first component of kind k named name, or nil.
func find(cfg *vm.Config, k vm.Kind, name string) *vm.Component {
	if cs := cfg.Find(k, name); len(cs) > 0 {
		return cs[0]
	}
	return nil
}

func TestParseElements(t *testing.T) {
	tests := []struct {
		name    string
		machine string
		devices string
		kind    vm.Kind
		want    string
		path    string // origin path; "" for an implied component
	}{
		{"virtio disk", "q35", `<disk type='file'><source file='/a.qcow2'/>` +
			`<driver type='qcow2'/><target dev='vda' bus='virtio'/></disk>`,
			vm.KindDevice, "virtio-blk-pci", "/domain/devices/disk[1]/target"},
		{"disk format", "q35", `<disk type='file'><source file='/a.qcow2'/>` +
			`<driver type='qcow2'/><target dev='vda' bus='virtio'/></disk>`,
			vm.KindBlockDriver, "qcow2", "/domain/devices/disk[1]/source"},
		{"network disk", "pc", `<disk type='network'><source protocol='nbd' name='x'>` +
			`<host name='h' port='1'/></source><target dev='vda' bus='virtio'/></disk>`,
			vm.KindBlockDriver, "nbd", "/domain/devices/disk[1]/source"},
		{"sata cdrom", "q35", `<disk type='file' device='cdrom'><target dev='sda' ` +
			`bus='sata'/></disk>`, vm.KindDevice, "ide-cd", "/domain/devices/disk[1]/target"},
		{"nic model", "pc", `<interface type='user'><model type='e1000'/></interface>`,
			vm.KindDevice, "e1000", "/domain/devices/interface[1]/model"},
		{"default nic", "pc", `<interface type='user'/>`, vm.KindDevice, "rtl8139",
			"/domain/devices/interface[1]"},
		{"tap backend", "pc", `<interface type='bridge'><source bridge='br0'/></interface>`,
			vm.KindNetdev, "tap", "/domain/devices/interface[1]"},
		{"vhost-user backend", "pc", `<interface type='vhostuser'><source type='unix' ` +
			`path='/s' mode='client'/><model type='virtio'/></interface>`,
			vm.KindNetdev, "vhost-user", "/domain/devices/interface[1]"},
		{"implicit USB controller", "pc", ``, vm.KindDevice, "piix3-usb-uhci", ""},
		{"implicit balloon", "pc", ``, vm.KindDevice, "virtio-balloon-pci", ""},
		{"default video", "pc", `<graphics type='vnc'/>`, vm.KindDevice, "cirrus-vga", ""},
		{"vnc display", "pc", `<graphics type='vnc'/>`, vm.KindDisplay, "vnc",
			"/domain/devices/graphics[1]"},
		{"serial from console", "pc", `<console type='pty'/>`, vm.KindDevice, "isa-serial",
			"/domain/devices/console[1]/target"},
		{"channel", "pc", `<channel type='unix'><source mode='bind'/><target ` +
			`type='virtio' name='org.qemu.guest_agent.0'/></channel>`,
			vm.KindDevice, "virtserialport", "/domain/devices/channel[1]/target"},
		{"channel controller", "pc", `<channel type='unix'><source mode='bind'/><target ` +
			`type='virtio' name='a'/></channel>`, vm.KindDevice, "virtio-serial-pci", ""},
		{"hostdev", "q35", `<hostdev mode='subsystem' type='pci'><source><address ` +
			`domain='0' bus='1' slot='0' function='0'/></source></hostdev>`,
			vm.KindDevice, "vfio-pci", "/domain/devices/hostdev[1]"},
		{"root port for hostdev", "q35", `<hostdev mode='subsystem' type='pci'><source>` +
			`<address domain='0' bus='1' slot='0' function='0'/></source></hostdev>`,
			vm.KindDevice, "pcie-root-port", ""},
		{"rng backend", "pc", `<rng model='virtio'><backend model='random'>/dev/urandom` +
			`</backend></rng>`, vm.KindObject, "rng-random",
			"/domain/devices/rng[1]/backend"},
		{"tpm emulator", "q35", `<tpm model='tpm-crb'><backend type='emulator'/></tpm>`,
			vm.KindDevice, "tpm-crb", "/domain/devices/tpm[1]"},
		{"watchdog", "pc", `<watchdog model='i6300esb'/>`, vm.KindDevice, "i6300esb",
			"/domain/devices/watchdog[1]"},
		{"sound codec", "q35", `<sound model='ich9'/>`, vm.KindDevice, "hda-duplex",
			"/domain/devices/sound[1]"},
		{"virtiofs", "q35", `<filesystem type='mount'><driver type='virtiofs'/><source ` +
			`dir='/s'/><target dir='t'/></filesystem>`, vm.KindDevice, "vhost-user-fs-pci",
			"/domain/devices/filesystem[1]"},
		{"9p", "pc", `<filesystem type='mount'><source dir='/s'/><target dir='t'/>` +
			`</filesystem>`, vm.KindDevice, "virtio-9p-pci", "/domain/devices/filesystem[1]"},
		{"shmem", "pc", `<shmem name='s'><model type='ivshmem-plain'/></shmem>`,
			vm.KindDevice, "ivshmem-plain", "/domain/devices/shmem[1]"},
		{"iommu", "q35", `<iommu model='intel'/>`, vm.KindDevice, "intel-iommu",
			"/domain/devices/iommu[1]"},
		{"vsock", "q35", `<vsock model='virtio'><cid auto='yes'/></vsock>`, vm.KindDevice,
			"vhost-vsock-pci", "/domain/devices/vsock"},
		{"panic", "pc", `<panic model='isa'/>`, vm.KindDevice, "pvpanic",
			"/domain/devices/panic[1]"},
		{"dimm", "pc", `<memory model='dimm'><target><size unit='MiB'>128</size>` +
			`</target></memory>`, vm.KindDevice, "pc-dimm", "/domain/devices/memory[1]"},
		{"master key", "pc", ``, vm.KindObject, "secret", ""},
		{"monitor", "pc", ``, vm.KindMonitor, "qmp", ""},
		{"board device", "q35", ``, vm.KindDevice, "ich9-ahci", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(domain(tt.machine, tt.devices)), Options{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			c := find(cfg, tt.kind, tt.want)
			if c == nil {
				t.Fatalf("no %s %s among %d components", tt.kind, tt.want, len(cfg.Components))
			}
			gotPath := ""
			if c.Origin != nil {
				gotPath = c.Origin.Path
			}
			if gotPath != tt.path {
				t.Errorf("origin path = %q, want %q", gotPath, tt.path)
			}
			if c.Origin == nil && c.ImpliedBy == "" {
				t.Errorf("implied component without ImpliedBy")
			}
		})
	}
}

func TestParseCommandline(t *testing.T) {
	xml := strings.Replace(domain("pc", ""), "<domain type='qemu'>", "<domain type='qemu' "+
		"xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>", 1)
	withArgs := func(args string) string {
		return strings.Replace(xml, "</domain>", "<qemu:commandline>"+args+
			"</qemu:commandline></domain>", 1)
	}
	cfg, err := Parse([]byte(withArgs(`<qemu:arg value='-device'/>`+
		`<qemu:arg value='ne2k_pci'/>`)), Options{})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	c := find(cfg, vm.KindDevice, "ne2k_pci")
	if c == nil || c.Origin == nil {
		t.Fatalf("ne2k_pci from qemu:commandline missing or implied: %+v", c)
	}
	if want := "/domain/qemu:commandline/qemu:arg[1]"; c.Origin.Path != want {
		t.Errorf("origin path = %q, want %q", c.Origin.Path, want)
	}
	_, err = Parse([]byte(withArgs(`<qemu:arg value='-bogus'/>`)), Options{})
	var list ErrorList
	if !errors.As(err, &list) || !strings.Contains(err.Error(), "unknown option") {
		t.Fatalf("Parse error = %v, want an unknown option error", err)
	}
	if want := "/domain/qemu:commandline/qemu:arg[1]"; list[0].Path != want {
		t.Errorf("error path = %q, want %q", list[0].Path, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, xml, want string
	}{
		{"not XML", "<domain", "invalid XML"},
		{"not a QEMU domain", `<domain type='xen'><name>t</name></domain>`,
			`domain type "xen" is not a QEMU domain`},
		{"missing os", `<domain type='kvm'><name>t</name></domain>`, "missing <os><type>"},
		{"unknown device", domain("pc", "<frobnicator/>"),
			"/domain/devices/frobnicator[1]: unknown element <frobnicator>"},
		{"unknown disk bus", domain("pc", `<disk type='file'><source file='/a'/>`+
			`<target dev='vda' bus='bogus'/></disk>`), `unknown disk bus "bogus"`},
		{"unknown chardev type", domain("pc", `<serial type='bogus'/>`),
			`unknown chardev type "bogus"`},
		{"negative index", domain("pc", `<controller type='pci' index='-1'/>`),
			`line 3: /domain/devices/controller[1]: invalid value "-1" for attribute index`},
		{"iso format", domain("pc", `<disk type='file'><driver type='iso'/><source `+
			`file='/a.iso'/><target dev='hda'/></disk>`), "storage format 'iso'"},
		{"unknown controller type", domain("pc", `<controller type='nvme' index='0'/>`),
			`/domain/devices/controller[1]: unknown controller type "nvme"`},
		{"unknown virtio-serial model", domain("pc", `<controller type='virtio-serial' `+
			`index='0' model='foo'/>`), `unknown virtio-serial controller model "foo"`},
		{"unknown disk device", domain("pc", `<disk type='file' device='tape'><source `+
			`file='/a'/><target dev='vda' bus='virtio'/></disk>`), `unknown disk device "tape"`},
		{"NIC model with a comma", domain("pc", `<interface type='user'><model `+
			`type='ne2k_pci,x=1'/></interface>`), `NIC model "ne2k_pci,x=1" has characters`},
		{"repeated disk driver", domain("pc", `<disk type='file'><driver type='vpc'/>`+
			`<driver type='qcow2'/><source file='/a'/><target dev='vda' bus='virtio'/>`+
			`</disk>`), "/domain/devices/disk[1]/driver[2]: element <driver> written 2 times"},
		{"repeated NIC model", domain("pc", `<interface type='user'><model type='ne2k_pci'/>`+
			`<model type='virtio'/></interface>`), "element <model> written 2 times"},
		{"repeated devices", domain("pc", "</devices><devices><frobnicator/>"),
			"/domain/devices[2]: element <devices> written 2 times"},
		{"empty second copy", domain("pc", `<emulator>/usr/bin/qemu-system-x86_64</emulator>`+
			`<emulator/>`), "/domain/devices/emulator[2]: element <emulator> written 2 times"},
		{"model in another namespace", domain("pc", `<interface type='user'><model `+
			`type='ne2k_pci'/><model xmlns='urn:x' type='virtio'/></interface>`),
			`element <model> in namespace "urn:x" outside <metadata>`},
		{"namespaced attribute", strings.Replace(domain("pc", ""), "<domain type='qemu'>",
			`<domain type='qemu' xmlns:x='urn:x' x:type='kvm'>`, 1),
			`attribute type in namespace "urn:x"`},
		{"repeated attribute", domain("pc", `<interface type='user'><model type='ne2k_pci' `+
			`type='virtio'/></interface>`), "attribute type written twice"},
		{"arg outside the QEMU namespace", strings.Replace(domain("pc", ""), "</devices>",
			`</devices><qemu:commandline xmlns:qemu='http://libvirt.org/schemas/domain/qemu/`+
				`1.0'><arg value='-device'/></qemu:commandline>`, 1),
			`element <arg> in namespace "" inside a <qemu:*> element`},
		{"text after the root", domain("pc", "") + "trailing", "text outside the root element"},
		{"document type", "<!DOCTYPE domain [<!ATTLIST model type CDATA 'ne2k_pci'>]>" +
			domain("pc", ""), "a <!DOCTYPE> or other declaration"},
		{"second root", domain("pc", "") + domain("pc", ""),
			"a second root element <domain>"},
		{"too deep", domain("pc", strings.Repeat("<x>", 40)+strings.Repeat("</x>", 40)),
			"elements nested deeper than 32 levels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.xml), Options{})
			if err == nil {
				t.Fatalf("Parse succeeded with %d components, want an error",
					len(cfg.Components))
			}
			if cfg != nil {
				t.Errorf("Parse returned a configuration with an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "domxml: ") {
				t.Errorf("error = %q, want the domxml: prefix", err)
			}
		})
	}
}

// TestLibvirtRejects checks the corpus domains that libvirt rejects while parsing the XML:
// both give an error naming the attribute, as libvirt's XML error does.
func TestLibvirtRejects(t *testing.T) {
	want := map[string]string{
		"pci-bridge-negative-index-invalid.xml": `/domain/devices/controller[2]: invalid ` +
			`value "-1" for attribute index: expected a non-negative integer`,
		"vhost_queues-invalid.xml": `invalid value "-5" for attribute queues: expected a ` +
			`non-negative integer`,
	}
	got := map[string]string{}
	for _, f := range testcorpus.Files(t, "libvirt-10.1", ".xml") {
		if _, ok := want[f.Name]; !ok {
			continue
		}
		_, err := Parse([]byte(f.Text), Options{})
		if err == nil {
			t.Errorf("%s: Parse succeeded, want an error", f.Name)
			continue
		}
		got[f.Name] = err.Error()
	}
	for name, w := range want {
		if !strings.Contains(got[name], w) {
			t.Errorf("%s: error = %q, want it to contain %q", name, got[name], w)
		}
	}
}

func TestKV(t *testing.T) {
	got := kv("socket", "id", "c0", "path", "/a,b", "empty", "")
	if diff := cmp.Diff("socket,id=c0,path=/a,,b", got); diff != "" {
		t.Errorf("kv (-want +got):\n%s", diff)
	}
}

func TestDiskNameIndex(t *testing.T) {
	for name, want := range map[string]int{"sda": 0, "sdz": 25, "sdaa": 26, "hdc": 2,
		"vd1": -1, "xyz": -1} {
		if got := diskNameIndex(name); got != want {
			t.Errorf("diskNameIndex(%q) = %d, want %d", name, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(domain("pc", "")))
	f.Add([]byte(domain("q35", `<disk type='file'><source file='/a'/><target dev='vda' `+
		`bus='virtio'/></disk><interface type='user'/><console type='pty'/>`)))
	f.Add([]byte(`<domain type='kvm'><os><type arch='aarch64'>hvm</type></os></domain>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, Options{})
		if err != nil && cfg != nil {
			t.Fatalf("Parse returned a configuration and the error %v", err)
		}
		if err == nil && cfg == nil {
			t.Fatal("Parse returned neither a configuration nor an error")
		}
	})
}

// TestParseMetadataNotIndexed checks that management metadata, which libvirt keeps as
// written, may nest deeper than domain elements do.
func TestParseMetadataNotIndexed(t *testing.T) {
	deep := strings.Repeat("<app:x>", 200) + strings.Repeat("</app:x>", 200)
	for _, meta := range []string{
		`<metadata><app:m xmlns:app='http://example.org/app'>` + deep + `</app:m></metadata>`,
		`<metadata>` + strings.Repeat("<x>", 200) + strings.Repeat("</x>", 200) +
			`</metadata>`,
	} {
		xml := strings.Replace(domain("pc", ""), "<os>", meta+"<os>", 1)
		if _, err := Parse([]byte(xml), Options{}); err != nil {
			t.Errorf("Parse: %v", err)
		}
	}
}
