package qemuargs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/qscope/qscope/vm"
)

// describe returns "kind name" for each component, in order.
func describe(cfg *vm.Config) []string {
	out := make([]string, len(cfg.Components))
	for i, c := range cfg.Components {
		out[i] = string(c.Kind) + " " + c.Name
	}
	return out
}

func count(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

func mustParseArgs(t *testing.T, args string, o Options) *vm.Config {
	t.Helper()
	_, words, err := SplitCommandLine(args)
	if err != nil {
		t.Fatalf("SplitCommandLine(%q): %v", args, err)
	}
	argv := make([]string, len(words))
	for i, w := range words {
		argv[i] = w.Text
	}
	cfg, err := Parse(argv, o)
	if err != nil {
		t.Fatalf("Parse(%s): %v", args, err)
	}
	return cfg
}

func TestParseOptions(t *testing.T) {
	tests := []struct {
		name   string
		args   string
		want   []string // each must appear (as many times as listed)
		absent []string
	}{
		{"machine with accel", "qemu-system-x86_64 -machine q35,accel=kvm -nodefaults",
			[]string{"machine q35", "accel kvm"}, []string{"accel tcg"}},
		{"accel list in machine", "qemu-system-x86_64 -M pc,accel=kvm:tcg -nodefaults",
			[]string{"accel kvm", "accel tcg"}, nil},
		{"two -accel", "qemu-system-x86_64 -accel kvm -accel tcg,thread=multi -nodefaults",
			[]string{"accel kvm", "accel tcg"}, nil},
		{"enable-kvm", "qemu-system-x86_64 -enable-kvm -nodefaults",
			[]string{"accel kvm"}, []string{"accel tcg"}},
		{"machine accel after enable-kvm wins", "qemu-system-x86_64 -enable-kvm -M pc,accel=tcg -nodefaults",
			[]string{"accel tcg"}, []string{"accel kvm"}},
		{"default accel is tcg", "qemu-system-x86_64 -nodefaults", []string{"accel tcg"},
			[]string{"accel kvm"}},
		{"qemu-kvm tries kvm then tcg", "/usr/libexec/qemu-kvm -nodefaults",
			[]string{"accel kvm", "accel tcg", "machine pc"}, nil},
		{"cpu with features", "qemu-system-x86_64 -cpu host,+vmx -nodefaults",
			[]string{"cpu host"}, nil},
		{"device keyval", "qemu-system-x86_64 -nodefaults -device e1000,netdev=n0",
			[]string{"device e1000"}, nil},
		{"device json", `qemu-system-x86_64 -nodefaults -device '{"driver":"virtio-net-pci","id":"n,,0"}'`,
			[]string{"device virtio-net-pci"}, nil},
		{"object keyval and json", `qemu-system-x86_64 -nodefaults -object secret,id=s,data=x -object '{"qom-type":"iothread","id":"io0"}'`,
			[]string{"object secret", "object iothread"}, nil},
		{"blockdev node graph", "qemu-system-x86_64 -nodefaults -blockdev driver=qcow2,node-name=d,file.driver=file,file.filename=/a.qcow2",
			[]string{"block-driver qcow2", "block-driver file"}, nil},
		{"blockdev json backing chain", `qemu-system-x86_64 -nodefaults -blockdev '{"driver":"qcow2","node-name":"d","file":{"driver":"nbd","server":{"type":"inet","host":"h","port":"10809"},"export":"e"},"backing":{"driver":"raw","file":{"driver":"file","filename":"/b"}}}'`,
			[]string{"block-driver qcow2", "block-driver nbd", "block-driver raw",
				"block-driver file"}, nil},
		{"blockdev implied driver", "qemu-system-x86_64 -nodefaults -blockdev null-co,node-name=n0",
			[]string{"block-driver null-co"}, nil},
		{"blockdev reference creates no node", "qemu-system-x86_64 -nodefaults -blockdev driver=raw,node-name=r,file=f0",
			[]string{"block-driver raw"}, []string{"block-driver file"}},
		{"drive virtio with format", "qemu-system-x86_64 -nodefaults -drive file=/a.qcow2,format=qcow2,if=virtio",
			[]string{"block-driver qcow2", "block-driver file", "device virtio-blk-pci"},
			[]string{"block-driver probe"}},
		{"drive probes a format", "qemu-system-x86_64 -nodefaults -drive file=/a.img,if=virtio",
			[]string{"block-driver probe", "block-driver file"}, nil},
		{"drive vvfat", "qemu-system-x86_64 -nodefaults -drive file=fat:rw:/srv,format=raw,if=virtio",
			[]string{"block-driver raw", "block-driver vvfat"}, nil},
		{"drive nbd", "qemu-system-x86_64 -nodefaults -drive file=nbd:localhost:10809,format=raw,if=virtio",
			[]string{"block-driver nbd"}, nil},
		{"drive nbd url", "qemu-system-x86_64 -nodefaults -drive file=nbd://h:10809/e,format=raw,if=none,id=d",
			[]string{"block-driver nbd"}, []string{"device virtio-blk-pci"}},
		{"drive json filename", `qemu-system-x86_64 -nodefaults -drive 'file=json:{"driver":"qcow2",,"file":{"driver":"nbd",,"host":"h"}},if=none'`,
			[]string{"block-driver qcow2", "block-driver nbd"}, []string{"block-driver probe"}},
		{"drive host device", "qemu-system-x86_64 -nodefaults -drive file=/dev/sdb,format=raw,if=virtio",
			[]string{"block-driver host_device"}, nil},
		{"drive https", "qemu-system-x86_64 -nodefaults -drive file=https://example.org/a.iso,format=raw,readonly=on,if=virtio",
			[]string{"block-driver https"}, nil},
		{"drive snapshot overlay", "qemu-system-x86_64 -nodefaults -drive file=/a.qcow2,format=qcow2,snapshot=on,if=virtio",
			[]string{"block-driver qcow2", "block-driver qcow2"}, nil},
		{"drive with only file options", "qemu-system-x86_64 -nodefaults -drive file.driver=file,file.filename=/a.img,if=none",
			[]string{"block-driver probe", "block-driver file"}, nil},
		{"empty drive", "qemu-system-x86_64 -nodefaults -drive if=none,id=cd0,media=cdrom",
			nil, []string{"block-driver probe", "block-driver file"}},
		{"hda and cdrom", "qemu-system-x86_64 -hda /a.img -cdrom /b.iso -display none",
			[]string{"device ide-hd", "device ide-cd"}, nil},
		{"floppy on q35 adds a controller", "qemu-system-x86_64 -M q35 -nodefaults -fda /f.img",
			[]string{"device isa-fdc", "device floppy"}, nil},
		{"pflash on pc", "qemu-system-x86_64 -nodefaults -drive if=pflash,format=raw,file=/OVMF.fd",
			[]string{"device cfi.pflash01"}, nil},
		{"pflash on virt is the board's", "qemu-system-aarch64 -M virt -nodefaults -drive if=pflash,format=raw,file=/AAVMF.fd",
			[]string{"device cfi.pflash01"}, nil},
		{"netdev", "qemu-system-x86_64 -nodefaults -netdev user,id=n0 -netdev '{\"type\":\"tap\",\"id\":\"n1\",\"fd\":\"3\"}'",
			[]string{"netdev user", "netdev tap"}, nil},
		{"nic with model", "qemu-system-x86_64 -M q35 -vga none -nic user,model=virtio",
			[]string{"netdev user", "device virtio-net-pci"}, []string{"device e1000e"}},
		{"nic default model", "qemu-system-x86_64 -M q35 -nodefaults -nic tap,ifname=t0",
			[]string{"netdev tap", "device e1000e"}, nil},
		{"nic none", "qemu-system-x86_64 -M q35 -nic none -display none",
			nil, []string{"device e1000e", "netdev user"}},
		{"net nic and user", "qemu-system-x86_64 -nodefaults -net nic,model=rtl8139 -net user",
			[]string{"device rtl8139", "netdev user"}, nil},
		{"net none", "qemu-system-x86_64 -net none -display none", nil,
			[]string{"device e1000", "netdev user"}},
		{"chardev socket", "qemu-system-x86_64 -nodefaults -chardev socket,id=c,path=/q,server=on,wait=off",
			[]string{"chardev socket"}, nil},
		{"serial stdio", "qemu-system-x86_64 -nodefaults -serial stdio",
			[]string{"chardev stdio", "device isa-serial"}, nil},
		{"serial mon stdio", "qemu-system-x86_64 -nodefaults -serial mon:stdio",
			[]string{"chardev stdio", "monitor hmp", "device isa-serial"}, nil},
		{"serial none", "qemu-system-x86_64 -serial none -display none", nil,
			[]string{"device isa-serial"}},
		{"parallel file", "qemu-system-x86_64 -nodefaults -parallel file:/tmp/lp",
			[]string{"chardev file", "device isa-parallel"}, nil},
		{"monitor tcp", "qemu-system-x86_64 -nodefaults -monitor tcp:0.0.0.0:4444,server,nowait",
			[]string{"chardev socket", "monitor hmp"}, nil},
		{"qmp unix", "qemu-system-x86_64 -nodefaults -qmp unix:/tmp/q,server=on,wait=off",
			[]string{"chardev socket", "monitor qmp"}, nil},
		{"mon on chardev", "qemu-system-x86_64 -nodefaults -chardev socket,id=m,path=/m,server=on,wait=off -mon chardev=m,mode=control",
			[]string{"chardev socket", "monitor qmp"}, nil},
		{"debugcon", "qemu-system-x86_64 -nodefaults -debugcon file:/tmp/d",
			[]string{"chardev file", "device isa-debugcon"}, nil},
		{"vga qxl", "qemu-system-x86_64 -vga qxl -display none", []string{"device qxl-vga"},
			[]string{"device VGA"}},
		{"vga none", "qemu-system-x86_64 -vga none -display none", nil,
			[]string{"device VGA"}},
		{"vga device clears the default", "qemu-system-x86_64 -device virtio-vga -display none",
			[]string{"device virtio-vga"}, []string{"device VGA"}},
		{"display gtk", "qemu-system-x86_64 -nodefaults -display gtk",
			[]string{"display gtk"}, []string{"display default"}},
		{"display none", "qemu-system-x86_64 -nodefaults -display none", nil,
			[]string{"display none", "display default"}},
		{"default display", "qemu-system-x86_64 -nodefaults", []string{"display default"},
			nil},
		{"display vnc", "qemu-system-x86_64 -nodefaults -display vnc=:1",
			[]string{"display vnc"}, nil},
		{"vnc", "qemu-system-x86_64 -nodefaults -vnc localhost:0,password=on",
			[]string{"display vnc"}, []string{"display default"}},
		{"spice", "qemu-system-x86_64 -nodefaults -spice port=5900,disable-ticketing=on",
			[]string{"display spice"}, []string{"display default"}},
		{"audiodev", `qemu-system-x86_64 -nodefaults -audiodev pa,id=a -audiodev '{"id":"b","driver":"none"}'`,
			[]string{"audiodev pa", "audiodev none"}, nil},
		{"soundhw", "qemu-system-x86_64 -nodefaults -soundhw ac97,hda",
			[]string{"device AC97", "device intel-hda", "device hda-duplex"}, nil},
		{"audio model", "qemu-system-x86_64 -nodefaults -audio pa,model=es1370",
			[]string{"audiodev pa", "device ES1370"}, nil},
		{"usb", "qemu-system-x86_64 -nodefaults -usb", []string{"device piix3-usb-uhci"},
			nil},
		{"usb on q35", "qemu-system-x86_64 -M q35 -nodefaults -usb",
			[]string{"device ich9-usb-ehci1", "device ich9-usb-uhci3"}, nil},
		{"usbdevice tablet", "qemu-system-x86_64 -nodefaults -usbdevice tablet",
			[]string{"device usb-tablet", "device piix3-usb-uhci"}, nil},
		{"machine usb property", "qemu-system-x86_64 -M pc,usb=on -nodefaults",
			[]string{"device piix3-usb-uhci"}, nil},
		{"usb after usb off", "qemu-system-x86_64 -M pc,usb=off -nodefaults -usb",
			[]string{"device piix3-usb-uhci"}, nil},
		{"usb off after usb", "qemu-system-x86_64 -usb -M pc,usb=off -nodefaults",
			nil, []string{"device piix3-usb-uhci"}},
		{"fsdev", "qemu-system-x86_64 -nodefaults -fsdev local,id=f,path=/x,security_model=mapped-xattr",
			[]string{"fsdev local"}, nil},
		{"virtfs", "qemu-system-x86_64 -nodefaults -virtfs local,path=/x,mount_tag=t,security_model=none",
			[]string{"fsdev local", "device virtio-9p-pci"}, nil},
		{"tpmdev", "qemu-system-x86_64 -nodefaults -tpmdev passthrough,id=t,path=/dev/tpm0 -device tpm-tis,tpmdev=t",
			[]string{"tpmdev passthrough", "device tpm-tis"}, nil},
		{"watchdog", "qemu-system-x86_64 -nodefaults -watchdog i6300esb",
			[]string{"device i6300esb"}, nil},
		{"balloon", "qemu-system-x86_64 -nodefaults -balloon virtio",
			[]string{"device virtio-balloon-pci"}, nil},
		{"gdb and s", "qemu-system-x86_64 -nodefaults -gdb tcp::1234 -s",
			[]string{"option gdb", "option gdb"}, nil},
		{"host options", "qemu-system-x86_64 -nodefaults -plugin /p.so -incoming tcp:0:4444 -loadvm s1 -kernel /k -initrd /i -fw_cfg name=opt/x,string=y",
			[]string{"option plugin", "option incoming", "option loadvm", "option kernel",
				"option initrd", "option fw_cfg"}, nil},
		{"firmware and table files", "qemu-system-x86_64 -nodefaults -bios /b.bin -option-rom /r.rom -acpitable file=/t.aml -smbios file=/s.bin -smbios type=1,serial=x -acpitable sig=ABCD",
			[]string{"option bios", "option option-rom", "option acpitable",
				"option smbios"}, nil},
		{"vc with trailing text", "qemu-system-x86_64 -nodefaults -serial vcfoo",
			[]string{"chardev vc", "device isa-serial"}, nil},
		{"abstract socket", "qemu-system-x86_64 -nodefaults -chardev socket,id=m,path=qmp,abstract=on,server=on,wait=off -mon chardev=m,mode=control",
			[]string{"monitor qmp"}, nil},
		{"semihosting", "qemu-system-aarch64 -M virt -nodefaults -semihosting",
			[]string{"option semihosting"}, nil},
		{"semihosting off", "qemu-system-aarch64 -M virt -nodefaults -semihosting-config enable=off",
			nil, []string{"option semihosting"}},
		{"double dash option", "qemu-system-x86_64 --nodefaults --device e1000",
			[]string{"device e1000"}, []string{"device VGA"}},
		{"set changes a device", "qemu-system-x86_64 -nodefaults -device e1000,id=n0 -set device.n0.driver=rtl8139",
			[]string{"device rtl8139"}, []string{"device e1000"}},
		{"global clears the default floppy", "qemu-system-x86_64 -global isa-fdc.driveA= -display none",
			nil, []string{"device floppy"}},
		{"no-hpet removes the hpet", "qemu-system-x86_64 -nodefaults -no-hpet", nil,
			[]string{"device hpet"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := describe(mustParseArgs(t, tt.args, Options{}))
			want := map[string]int{}
			for _, w := range tt.want {
				want[w]++
			}
			for w, n := range want {
				if c := count(got, w); c < n {
					t.Errorf("%q appears %d times, want at least %d; got %q", w, c, n, got)
				}
			}
			for _, a := range tt.absent {
				if count(got, a) > 0 {
					t.Errorf("%q present, want absent; got %q", a, got)
				}
			}
		})
	}
}

func TestParseErrorsTable(t *testing.T) {
	tests := []struct {
		name    string
		args    string
		o       Options
		wantArg int
		want    string
	}{
		{"unknown option", "qemu-system-x86_64 -nodefaults -frobnicate", Options{}, 2,
			"unknown option"},
		{"missing argument", "qemu-system-x86_64 -device", Options{}, 1, "missing argument"},
		{"stray positional", "qemu-system-x86_64 -nodefaults disk.img", Options{}, 2,
			"stray positional argument"},
		{"device help", "qemu-system-x86_64 -device help", Options{}, 1, "help"},
		{"device without driver", "qemu-system-x86_64 -device id=x", Options{}, 1,
			"missing driver"},
		{"malformed keyval", "qemu-system-x86_64 -device e1000,=x", Options{}, 1,
			"empty parameter name"},
		{"malformed json", `qemu-system-x86_64 -device {"driver":`, Options{}, 1,
			"malformed JSON"},
		{"object without type", "qemu-system-x86_64 -object id=x", Options{}, 1,
			"missing qom-type"},
		{"accel conflict", "qemu-system-x86_64 -accel kvm -machine pc,accel=tcg",
			Options{}, 3, "cannot be combined"},
		{"enable-kvm with accel", "qemu-system-x86_64 -accel tcg -enable-kvm",
			Options{}, 3, "cannot be combined"},
		{"mon on an undefined chardev", "qemu-system-x86_64 -mon chardev=nope", Options{}, 1,
			"no chardev"},
		{"set on an undefined id", "qemu-system-x86_64 -set device.x.driver=e1000",
			Options{}, 1, "there is no device"},
		{"aarch64 without machine", "qemu-system-aarch64 -nodefaults", Options{}, 0,
			"no default machine"},
		{"option outside its targets", "qemu-system-s390x -no-acpi", Options{}, 1,
			"not supported for target s390x"},
		{"option missing in the chosen version", "qemu-system-x86_64 -soundhw ac97",
			Options{QEMUVersion: "7.2"}, 1, "does not exist in QEMU 7.2"},
		{"option newer than the chosen version", "qemu-system-x86_64 -nic user",
			Options{QEMUVersion: "2.11"}, 1, "added in 2.12"},
		{"if=scsi on pc", "qemu-system-x86_64 -nodefaults -drive file=/a,format=raw,if=scsi",
			Options{}, 2, "does not support if=scsi"},
		{"bad chardev spec", "qemu-system-x86_64 -serial bogus", Options{}, 1,
			"not a valid char driver"},
		{"not a qemu binary", "bash -c x", Options{}, 0, "cannot tell the QEMU target"},
		{"bad compat value", "qemu-system-x86_64 -compat insecure-types=maybe", Options{}, 1,
			"invalid insecure-types"},
		{"bad media", "qemu-system-x86_64 -drive file=a,media=tape", Options{}, 1,
			"invalid media"},
		{"unknown target", "qemu-system-bogus -nodefaults", Options{}, 0,
			`unknown QEMU target "bogus"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.Fields(tt.args), tt.o)
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("Parse error = %v, want an ErrorList", err)
			}
			e := list[0]
			if e.Arg != tt.wantArg {
				t.Errorf("error argv index = %d, want %d (%v)", e.Arg, tt.wantArg, e)
			}
			if !strings.Contains(e.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", e.Error(), tt.want)
			}
		})
	}
}

func TestParseOrigins(t *testing.T) {
	cfg := mustParseArgs(t, "qemu-system-x86_64 -machine q35 -nodefaults -nic user,model=e1000 -device virtio-rng-pci", Options{})
	byName := map[string]vm.Component{}
	for _, c := range cfg.Components {
		byName[string(c.Kind)+" "+c.Name] = c
	}
	m := byName["machine q35"]
	if m.Origin == nil || m.Origin.Arg != 1 || m.Origin.Option != "-machine" ||
		m.Origin.Text != "q35" {
		t.Errorf("machine origin = %+v, want argv 1 -machine q35", m.Origin)
	}
	nic := byName["device e1000"]
	if nic.Origin != nil || nic.ImpliedBy != "-nic user,model=e1000 (argv 4)" {
		t.Errorf("nic origin %+v implied %q, want implied by -nic (argv 4)", nic.Origin,
			nic.ImpliedBy)
	}
	rng := byName["device virtio-rng-pci"]
	if rng.Origin == nil || rng.Origin.Arg != 6 {
		t.Errorf("device origin = %+v, want argv 6", rng.Origin)
	}
	accel := byName["accel tcg"]
	if accel.Origin != nil || !strings.Contains(accel.ImpliedBy, "default accelerator") {
		t.Errorf("accel = %+v, want the implied default", accel)
	}
	lpc := byName["device ICH9-LPC"]
	if !lpc.Board || lpc.Origin != nil {
		t.Errorf("ICH9-LPC = %+v, want an implied board device", lpc)
	}
}

func TestParseDefaults(t *testing.T) {
	tests := []struct {
		machine string
		extra   string
		want    []string
		absent  []string
	}{
		{"pc", "", []string{"device e1000", "netdev user", "device VGA", "device ide-cd",
			"device floppy", "device isa-serial", "device isa-parallel", "monitor hmp",
			"chardev vc", "device isa-fdc", "device piix3-ide", "device i8042"}, nil},
		{"pc", "-nodefaults", []string{"device isa-fdc", "device piix3-ide", "device i8042",
			"device vmmouse", "device mc146818rtc"},
			[]string{"device e1000", "device VGA", "device ide-cd", "device floppy",
				"device isa-serial", "chardev vc", "monitor hmp", "netdev user"}},
		{"q35", "", []string{"device e1000e", "device VGA", "device ich9-ahci",
			"device ide-cd", "device isa-serial", "device isa-parallel"},
			[]string{"device floppy", "device isa-fdc"}},
		{"q35", "-nodefaults", []string{"device ich9-ahci", "device ICH9-LPC"},
			[]string{"device e1000e", "device VGA", "device ide-cd"}},
		{"pc-i440fx-2.0", "", []string{"device cirrus-vga"}, []string{"device VGA"}},
		{"pc-q35-2.4", "", []string{"device e1000"}, []string{"device e1000e"}},
		{"isapc", "", []string{"device ne2k_isa", "device isa-cirrus-vga", "device isa-ide"},
			[]string{"device apic", "device ioapic"}},
		{"microvm", "", []string{"device virtio-mmio", "netdev user", "device isa-serial"},
			[]string{"device isa-parallel", "device VGA"}},
		{"none", "", []string{"netdev user", "monitor hmp"},
			[]string{"device isa-serial"}},
		{"pc", "-nographic", []string{"chardev stdio", "monitor hmp", "chardev null"},
			[]string{"chardev vc", "display default"}},
		{"pc", "-vga none -net none", nil, []string{"device VGA", "device e1000"}},
		{"pc", "-accel kvm", []string{"device kvm-ioapic", "device kvm-i8259",
			"device kvm-pit", "device kvmclock"}, []string{"device isa-pit"}},
		{"pc", "-accel kvm,kernel-irqchip=split", []string{"device ioapic",
			"device isa-i8259", "device isa-pit", "device kvm-apic", "device kvmclock"},
			[]string{"device kvm-ioapic", "device kvm-pit"}},
		{"q35,kernel-irqchip=off", "-accel kvm", []string{"device ioapic", "device apic",
			"device isa-pit"}, []string{"device kvm-apic", "device kvm-ioapic"}},
		{"isapc", "-accel kvm", []string{"device kvmclock", "device kvm-pit"}, nil},
		{"microvm", "-accel kvm", []string{"device kvm-apic", "device isa-pit",
			"device kvmclock"}, []string{"device kvm-pit"}},
	}
	for _, tt := range tests {
		t.Run(tt.machine+" "+tt.extra, func(t *testing.T) {
			args := fmt.Sprintf("qemu-system-x86_64 -M %s -display none %s", tt.machine,
				tt.extra)
			if tt.extra == "-nographic" {
				args = "qemu-system-x86_64 -M pc -nographic"
			}
			got := describe(mustParseArgs(t, args, Options{}))
			for _, w := range tt.want {
				if count(got, w) == 0 {
					t.Errorf("%q missing; got %q", w, got)
				}
			}
			for _, a := range tt.absent {
				if count(got, a) > 0 {
					t.Errorf("%q present, want absent", a)
				}
			}
		})
	}
}

func TestParseDefaultRAMBackend(t *testing.T) {
	tests := []struct {
		name, args string
		want       string // the RAM backend's type, or "" for none
		id         string
	}{
		{"pc", "qemu-system-x86_64 -M pc -nodefaults", "memory-backend-ram", "pc.ram"},
		{"q35", "qemu-system-x86_64 -M q35 -nodefaults", "memory-backend-ram", "pc.ram"},
		{"microvm", "qemu-system-x86_64 -M microvm -nodefaults", "memory-backend-ram",
			"microvm.ram"},
		{"virt", "qemu-system-aarch64 -M virt -nodefaults", "memory-backend-ram",
			"mach-virt.ram"},
		{"mem-path", "qemu-system-x86_64 -M pc -nodefaults -mem-path /dev/hugepages",
			"memory-backend-file", "pc.ram"},
		{"memory-backend given", "qemu-system-x86_64 -M pc,memory-backend=m0 -nodefaults " +
			"-object memory-backend-ram,id=m0,size=128M", "", ""},
		{"numa memdev", "qemu-system-x86_64 -M pc -nodefaults -m 128 " +
			"-object memory-backend-ram,id=m0,size=128M -numa node,memdev=m0", "", ""},
		{"none without -m", "qemu-system-x86_64 -M none", "", ""},
		{"none with -m", "qemu-system-x86_64 -M none -m 64", "memory-backend-ram", "ram"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustParseArgs(t, tt.args, Options{})
			var got []vm.Component
			for _, c := range cfg.Components {
				if c.Kind == vm.KindObject && c.Origin == nil {
					got = append(got, c)
				}
			}
			if tt.want == "" {
				if len(got) != 0 {
					t.Errorf("implied objects %+v, want none", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("implied objects %+v, want one %s", got, tt.want)
			}
			if c := got[0]; c.Name != tt.want || c.Props["id"] != tt.id || !c.Board {
				t.Errorf("RAM backend = %+v, want board %s with id %s", c, tt.want, tt.id)
			}
		})
	}
}

func TestParseArmVirtDefaults(t *testing.T) {
	got := describe(mustParseArgs(t, "qemu-system-aarch64 -M virt -display none", Options{}))
	for _, w := range []string{"device virtio-net-pci", "netdev user", "device pl011",
		"device arm_gic", "device gpex-pcihost", "chardev vc"} {
		if count(got, w) == 0 {
			t.Errorf("%q missing; got %q", w, got)
		}
	}
	for _, a := range []string{"device VGA", "device floppy", "device isa-fdc",
		"device isa-serial"} {
		if count(got, a) > 0 {
			t.Errorf("%q present, want absent", a)
		}
	}
}

func TestParseRemovedOptionNote(t *testing.T) {
	cfg := mustParseArgs(t, "qemu-system-x86_64 -nodefaults -soundhw ac97", Options{})
	if len(cfg.Notes) == 0 || !strings.Contains(strings.Join(cfg.Notes, "\n"),
		"-soundhw was removed in QEMU 7.1") {
		t.Errorf("notes = %q, want the removal of -soundhw", cfg.Notes)
	}
}

func TestParseCompat(t *testing.T) {
	cfg := mustParseArgs(t, "qemu-system-x86_64 -nodefaults -compat deprecated-input=reject,insecure-types=reject", Options{})
	if cfg.CompatInsecureTypes != "reject" {
		t.Errorf("CompatInsecureTypes = %q, want reject", cfg.CompatInsecureTypes)
	}
}

func TestParseReadconfig(t *testing.T) {
	files := map[string]string{"/etc/vm.cfg": `# generated
[machine]
  type = "q35"
[device "n0"]
  driver = "rtl8139"
[chardev "c0"]
  backend = "socket"
  path = "/run/c0"
`}
	read := func(path string) ([]byte, error) {
		if s, ok := files[path]; ok {
			return []byte(s), nil
		}
		return nil, fmt.Errorf("open %s: no such file", path)
	}
	cfg, err := Parse([]string{"qemu-system-x86_64", "-nodefaults", "-readconfig",
		"/etc/vm.cfg"}, Options{ReadFile: read})
	if err != nil {
		t.Fatal(err)
	}
	got := describe(cfg)
	for _, w := range []string{"machine q35", "device rtl8139", "chardev socket",
		"device ICH9-LPC"} {
		if count(got, w) == 0 {
			t.Errorf("%q missing; got %q", w, got)
		}
	}
	for _, c := range cfg.Components {
		if c.Name == "rtl8139" && (c.Origin == nil || c.Origin.Path != "/etc/vm.cfg:4") {
			t.Errorf("rtl8139 origin = %+v, want path /etc/vm.cfg:4", c.Origin)
		}
	}
	_, err = Parse([]string{"qemu-system-x86_64", "-readconfig", "/missing.cfg"},
		Options{ReadFile: read})
	if err == nil || !strings.Contains(err.Error(), "cannot read the config file") {
		t.Errorf("missing file error = %v, want cannot read", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"qemu-system-x86_64 -M q35 -device e1000",
		"qemu-system-x86_64 -drive file=fat:rw:/x,if=virtio",
		`qemu-system-x86_64 -device {"driver":"virtio-net-pci"}`,
		"qemu-system-aarch64 -M virt -serial mon:stdio -nic user,model=virtio",
		"qemu-system-x86_64 -readconfig /x -set device.a.b=c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		argv := strings.Fields(line)
		cfg, err := Parse(argv, Options{ReadFile: func(string) ([]byte, error) {
			return nil, errors.New("no files in fuzzing")
		}})
		if err != nil {
			if cfg != nil {
				t.Fatalf("Parse returned a configuration and an error")
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("Parse error %T is not an ErrorList", err)
			}
			return
		}
		machines := 0
		for _, c := range cfg.Components {
			if !vm.ValidKind(c.Kind) || c.Name == "" {
				t.Fatalf("invalid component %+v", c)
			}
			if (c.Origin == nil) == (c.ImpliedBy == "") {
				t.Fatalf("component %+v must have exactly one of origin and implied-by", c)
			}
			if c.Kind == vm.KindMachine {
				machines++
			}
		}
		if machines != 1 {
			t.Fatalf("%d machine components, want 1", machines)
		}
	})
}

func TestBoardDevices(t *testing.T) {
	devs, ok := BoardDevices(Machine{Target: "x86_64", Type: "pc-q35-8.2",
		Props: map[string]string{"smbus": "off"}, Accels: []string{"kvm"}})
	if !ok {
		t.Fatal("q35 is not modelled")
	}
	names := map[string]bool{}
	for _, d := range devs {
		if !d.Board || d.Origin != nil || d.ImpliedBy == "" {
			t.Errorf("%s: want an implied board device", d.Name)
		}
		names[d.Name] = true
	}
	for _, want := range []string{"q35-pcihost", "ICH9-LPC", "kvm-ioapic", "kvmclock"} {
		if !names[want] {
			t.Errorf("%s missing from %v", want, names)
		}
	}
	if names["ICH9-SMB"] || names["ioapic"] {
		t.Errorf("smbus=off and KVM not applied: %v", names)
	}
	for iommu, want := range map[string]bool{"on": true, "off": false} {
		devs, _ := BoardDevices(Machine{Target: "x86_64", Type: "pc-q35-2.6",
			Props: map[string]string{"iommu": iommu}})
		got := slices.ContainsFunc(devs, func(d vm.Component) bool {
			return d.Name == "intel-iommu"
		})
		if got != want {
			t.Errorf("pc-q35-2.6 iommu=%s: intel-iommu on the board is %v, want %v", iommu,
				got, want)
		}
	}
	if _, ok := BoardDevices(Machine{Target: "aarch64", Type: "raspi3b"}); ok {
		t.Error("raspi3b reported as modelled")
	}
}

func TestReadconfigRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, []byte("TOPSECRET-token\n"), 0o600)
	big := filepath.Join(dir, "big")
	os.WriteFile(big, make([]byte, maxConfigFile+1), 0o600)
	tests := []struct {
		path, want string
	}{
		{fifo, "not a regular file"},
		{"/dev/zero", "not a regular file"},
		{big, "larger than"},
		{secret, "invalid line"},
	}
	for _, tt := range tests {
		_, err := Parse([]string{"qemu-system-x86_64", "-readconfig", tt.path}, Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("-readconfig %s: error %v, want %q", tt.path, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "TOPSECRET") {
			t.Errorf("-readconfig %s: error quotes the file's content: %v", tt.path, err)
		}
	}
}

func TestParseVersionRange(t *testing.T) {
	for _, v := range []string{"1.7", "99.9"} {
		_, err := Parse([]string{"qemu-system-x86_64"}, Options{QEMUVersion: v})
		if err == nil || !strings.Contains(err.Error(), "outside the releases") {
			t.Errorf("QEMUVersion %s: error %v, want outside the releases", v, err)
		}
	}
	if _, err := Parse([]string{"qemu-system-x86_64"}, Options{QEMUVersion: "abc"}); err == nil {
		t.Error("QEMUVersion abc: no error")
	}
}

func TestBlockNodeReadOnly(t *testing.T) {
	cfg := mustParseArgs(t, "qemu-system-x86_64 -nodefaults -blockdev driver=raw,read-only=on,node-name=r,file.driver=vmdk,file.read-only=off,file.file.driver=file,file.file.filename=/x.vmdk", Options{})
	want := map[string]string{"raw": "on", "vmdk": "off", "file": "off"}
	for _, c := range cfg.Components {
		if c.Kind != vm.KindBlockDriver {
			continue
		}
		if got := c.Props["read-only"]; got != want[c.Name] {
			t.Errorf("%s read-only = %q, want %q", c.Name, got, want[c.Name])
		}
	}
	cfg = mustParseArgs(t, "qemu-system-x86_64 -nodefaults -drive file=/a.vmdk,format=vmdk,readonly=on,if=none", Options{})
	for _, c := range cfg.Components {
		if c.Kind == vm.KindBlockDriver && c.Props["read-only"] != "on" {
			t.Errorf("%s read-only = %q, want inherited on", c.Name, c.Props["read-only"])
		}
	}
}

func TestProtocolOf(t *testing.T) {
	tests := []struct{ file, want string }{
		{"/var/lib/a.img", "file"},
		{"a.img", "file"},
		{"/dir/with:colon.img", "file"},
		{"fat:rw:/srv", "vvfat"},
		{"nbd:localhost:10809", "nbd"},
		{"nbd+unix:///e?socket=/s", "nbd"},
		{"iser://h/iqn/1", "iscsi"},
		{"iscsi://h/iqn/1", "iscsi"},
		{"nvme://0000:01:00.0/1", "nvme"},
		{"https://example.org/a.iso", "https"},
		{"gluster+tcp://h/v/i", "gluster"},
		{"/dev/sdb", "host_device"},
		{"frob:x", "frob"},
	}
	for _, tt := range tests {
		if got, _ := protocolOf(tt.file); got != tt.want {
			t.Errorf("protocolOf(%q) = %q, want %q", tt.file, got, tt.want)
		}
	}
}

func TestMachineVersion(t *testing.T) {
	tests := []struct {
		name   string
		want   Version
		latest bool
	}{
		{"pc-q35-7.2", Version{7, 2}, false},
		{"pc-q35-4.0.1", Version{4, 0}, false},
		{"pc-i440fx-2.12", Version{2, 12}, false},
		{"s390-ccw-virtio-8.1", Version{8, 1}, false},
		{"q35", Version{}, true},
		{"virt", Version{}, true},
		{"pc-q35-7.x", Version{}, true},
		{"pc-q35-7", Version{}, true},
		{"raspi3b", Version{}, true},
	}
	for _, tt := range tests {
		v, latest := machineVersion(tt.name)
		if v != tt.want || latest != tt.latest {
			t.Errorf("machineVersion(%q) = %v, %v; want %v, %v", tt.name, v, latest, tt.want,
				tt.latest)
		}
	}
}
