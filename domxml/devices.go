package domxml

import (
	"fmt"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// buildIOMMU emits the IOMMU device (qemuBuildIOMMUCommandLine). SMMUv3, and the Intel
// IOMMU before QEMU 2.7, are machine properties instead.
func (b *builder) buildIOMMU() {
	for i, io := range b.devs().IOMMUs {
		path := fmt.Sprintf("/domain/devices/iommu[%d]", i+1)
		switch io.Model {
		case "intel":
			if b.qemuAtLeast(2, 7) {
				b.device(path, "intel-iommu")
			}
		case "amd":
			b.device(path, "amd-iommu")
		case "virtio":
			b.device(path, "virtio-iommu-"+b.virtioBus(path, toAddr(io.Address)))
		case "smmuv3":
		default:
			b.errorf(path, "unknown IOMMU model %q", io.Model)
		}
	}
}

// buildFilesystems emits shared folders: 9p, virtiofs or USB MTP (qemuBuildFilesystemCommandLine).
func (b *builder) buildFilesystems() {
	for i := range b.devs().Filesystems {
		fs := &b.devs().Filesystems[i]
		path := fmt.Sprintf("/domain/devices/filesystem[%d]", i+1)
		drv := ""
		if fs.Driver != nil {
			drv = fs.Driver.Type
		}
		id := fmt.Sprintf("fs%d", i)
		switch drv {
		case "", "path", "handle":
			args := []string{"id", "fsdev-" + id, "path", fsSource(fs)}
			if drv != "handle" {
				// libvirt's qemuBuildFSStr: accessmode passthrough (the default), mapped
				// and squash become security_model passthrough, mapped and none.
				model := map[string]string{"": "passthrough", "passthrough": "passthrough",
					"mapped": "mapped", "squash": "none"}[fs.AccessMode]
				if model == "" {
					b.errorf(path, "invalid accessmode %q: want passthrough, mapped or squash",
						fs.AccessMode)
					continue
				}
				args = append([]string{"security_model", model}, args...)
			}
			if fs.ReadOnly != nil {
				args = append(args, "readonly", "on")
			}
			b.emit(path, "-fsdev", kv(pick(drv == "handle", "handle", "local"), args...))
			b.device(path, "virtio-9p-"+b.virtioBus(path, toAddr(fs.Address))+
				b.transitional(fs.Model), "fsdev", "fsdev-"+id)
		case "virtiofs":
			b.emit(path, "-chardev", kv("socket", "id", "chr-vu-"+id, "path",
				"/var/lib/libvirt/qemu/domain-"+b.dom.Name+"/"+id+"-fs.sock"))
			b.device(path, "vhost-user-fs-"+b.virtioBus(path, toAddr(fs.Address)),
				"chardev", "chr-vu-"+id)
		case "mtp":
			b.device(path, "usb-mtp", "rootdir", fsSource(fs))
		default:
			b.errorf(path+"/driver", "filesystem driver %q is not supported by QEMU", drv)
		}
	}
}

func fsSource(fs *libvirtxml.DomainFilesystem) string {
	if fs.Source != nil && fs.Source.Mount != nil {
		return fs.Source.Mount.Dir
	}
	return ""
}

// buildSmartcards emits smartcards on the CCID controller.
func (b *builder) buildSmartcards() {
	for i, sc := range b.devs().Smartcards {
		path := fmt.Sprintf("/domain/devices/smartcard[%d]", i+1)
		switch mode := b.idx.attr(path, "mode"); mode {
		case "host":
			b.device(path, "ccid-card-emulated", "backend", "nss-emulated")
		case "host-certificates":
			b.device(path, "ccid-card-emulated", "backend", "certificates")
		case "passthrough":
			id := fmt.Sprintf("charsmartcard%d", i)
			if b.chardev(path, sc.Passthrough, sc.Protocol, id, false) {
				b.device(path, "ccid-card-passthru", "chardev", id)
			}
		default:
			b.errorf(path, "unknown smartcard mode %q", mode)
		}
	}
}

// buildTPMs emits TPM backends and devices (qemuBuildTPMsCommandLine).
func (b *builder) buildTPMs() {
	for i, t := range b.devs().TPMs {
		path := fmt.Sprintf("/domain/devices/tpm[%d]", i+1)
		model := t.Model
		if model == "" {
			model = pick(isPPC64(b.arch), "tpm-spapr", "tpm-tis")
		}
		if model == "spapr-tpm-proxy" {
			b.device(path, "spapr-tpm-proxy")
			continue
		}
		id := fmt.Sprintf("tpm-tpm%d", i)
		if !b.tpmBackend(path, t.Backend, id) {
			continue
		}
		driver := map[string]string{"tpm-tis": "tpm-tis", "tpm-crb": "tpm-crb",
			"tpm-spapr": "tpm-spapr"}[model]
		if model == "tpm-tis" && isARM(b.arch) {
			driver = "tpm-tis-device"
		}
		if driver == "" {
			b.errorf(path, "unknown TPM model %q", model)
			continue
		}
		b.device(path, driver, "tpmdev", id)
	}
}

func (b *builder) tpmBackend(path string, be *libvirtxml.DomainTPMBackend, id string) bool {
	switch {
	case be == nil:
		b.errorf(path, "missing TPM device backend")
		return false
	case be.Passthrough != nil:
		b.emit(path+"/backend", "-tpmdev", kv("passthrough", "id", id))
	case be.Emulator != nil, be.External != nil:
		sock := "/run/libvirt/qemu/swtpm/" + b.dom.Name + "-swtpm.sock"
		if be.External != nil && be.External.Source != nil &&
			be.External.Source.UNIX != nil {
			sock = be.External.Source.UNIX.Path
		}
		b.emit(path+"/backend", "-chardev", kv("socket", "id", "chrtpm", "path", sock))
		b.emit(path+"/backend", "-tpmdev", kv("emulator", "id", id, "chardev", "chrtpm"))
	default:
		b.errorf(path+"/backend", "unknown TPM backend type %q", b.typeAttr(path+"/backend"))
		return false
	}
	return true
}

// buildInputs emits input devices; PS/2 devices are part of the machine.
func (b *builder) buildInputs() {
	for i := range b.devs().Inputs {
		in := &b.devs().Inputs[i]
		b.buildInput(in, fmt.Sprintf("/domain/devices/input[%d]", i+1))
	}
	for _, u := range b.dev.usbInputs {
		b.emitImplied(u.implied, "-device", map[string]string{"keyboard": "usb-kbd",
			"mouse": "usb-mouse"}[u.typ])
	}
}

func (b *builder) buildInput(in *libvirtxml.DomainInput, path string) {
	bus := in.Bus
	if bus == "" {
		bus = b.defaultInputBus(in.Type)
	}
	switch {
	case in.Type == "evdev":
		dev := ""
		if in.Source != nil && in.Source.EVDev != nil {
			dev = in.Source.EVDev.Dev
		}
		b.object(path, "input-linux", "id", "input"+fmt.Sprint(len(b.argv)), "evdev", dev)
	case bus == "ps2":
	case bus == "usb":
		drv := map[string]string{"mouse": "usb-mouse", "tablet": "usb-tablet",
			"keyboard": "usb-kbd"}[in.Type]
		if drv == "" {
			b.errorf(path, "input type %q is not supported on the USB bus", in.Type)
			return
		}
		b.device(path, drv)
	case bus == "virtio":
		drv := map[string]string{"mouse": "virtio-mouse", "tablet": "virtio-tablet",
			"keyboard": "virtio-keyboard", "passthrough": "virtio-input-host"}[in.Type]
		if drv == "" {
			b.errorf(path, "unknown input type %q", in.Type)
			return
		}
		b.device(path, drv+"-"+b.virtioBus(path, toAddr(in.Address))+b.transitional(in.Model))
	default:
		b.errorf(path, "input bus %q is not supported by QEMU", bus)
	}
}

// defaultInputBus follows virDomainInputDefParseXML: PS/2 for mice and keyboards on x86,
// USB otherwise; virtio for passthrough devices.
func (b *builder) defaultInputBus(typ string) string {
	switch {
	case typ == "passthrough":
		return "virtio"
	case typ == "tablet":
		return "usb"
	case isX86(b.arch) && (typ == "mouse" || typ == "keyboard"):
		return "ps2"
	}
	return "usb"
}

// audioDrivers maps <audio type> to QEMU audio drivers.
var audioDrivers = map[string]string{"none": "none", "alsa": "alsa",
	"coreaudio": "coreaudio", "jack": "jack", "oss": "oss", "pulseaudio": "pa",
	"sdl": "sdl", "spice": "spice", "file": "wav", "dbus": "dbus", "pipewire": "pipewire"}

// buildAudio emits the audio backends, adding libvirt's default one when the XML has none.
func (b *builder) buildAudio() {
	audios := b.devs().Audios
	for i, a := range audios {
		path := fmt.Sprintf("/domain/devices/audio[%d]", i+1)
		typ := b.typeAttr(path)
		drv, ok := audioDrivers[typ]
		if !ok {
			b.errorf(path, "unknown audio type %q", typ)
			continue
		}
		b.emit(path, "-audiodev", kv("", "id", fmt.Sprintf("audio%d", a.ID), "driver", drv))
	}
	if len(audios) > 0 {
		return
	}
	drv := "none"
	for _, g := range b.dev.graphics {
		switch {
		case g.Spice != nil:
			drv = "spice"
		case g.SDL != nil && drv == "none":
			drv = "sdl"
		}
	}
	b.emitImplied("libvirt's default audio backend", "-audiodev", kv("", "id", "audio1",
		"driver", drv))
}

// buildGraphics emits the display of each <graphics> (qemuBuildGraphicsCommandLine).
// Listen addresses default to 127.0.0.1, the default of vnc_listen and spice_listen in
// qemu.conf.
func (b *builder) buildGraphics() {
	for i, g := range b.dev.graphics {
		path := fmt.Sprintf("/domain/devices/graphics[%d]", i+1)
		switch {
		case g.VNC != nil:
			b.emit(path, "-vnc", b.vncArg(g.VNC))
		case g.Spice != nil:
			b.emit(path, "-spice", b.spiceArg(g.Spice))
		case g.SDL != nil:
			b.emit(path, "-display", "sdl")
		case g.EGLHeadless != nil:
			b.emit(path, "-display", "egl-headless")
		case g.DBus != nil:
			b.emit(path, "-display", "dbus")
		default:
			b.errorf(path, "graphics type %q is not supported by QEMU", b.typeAttr(path))
		}
	}
}

func (b *builder) vncArg(v *libvirtxml.DomainGraphicVNC) string {
	// libvirt drops a socket path inside its own per-domain directory as one it generated
	// for an earlier run, and listens on the default address instead.
	if v.Socket != "" && !strings.HasPrefix(v.Socket, "/var/lib/libvirt/qemu/domain-") {
		return "unix:" + v.Socket
	}
	addr := listenAddress(v.Listen, v.Listeners)
	if addr == "none" {
		return "none"
	}
	if addr == "socket" {
		return "unix:/var/lib/libvirt/qemu/domain-" + b.dom.Name + "/vnc.sock"
	}
	port := 0
	if v.Port > 5900 {
		port = v.Port - 5900
	}
	if hasColon(addr) {
		addr = "[" + addr + "]"
	}
	return fmt.Sprintf("%s:%d", addr, port)
}

func hasColon(s string) bool {
	for _, c := range s {
		if c == ':' {
			return true
		}
	}
	return false
}

func (b *builder) spiceArg(s *libvirtxml.DomainGraphicSpice) string {
	addr := listenAddress(s.Listen, s.Listeners)
	switch addr {
	case "socket":
		return "unix=on,addr=/var/lib/libvirt/qemu/domain-" + b.dom.Name + "/spice.sock"
	case "none":
		return "port=0"
	}
	port := "5900"
	if s.Port > 0 {
		port = fmt.Sprint(s.Port)
	}
	return kv("", "port", port, "addr", addr)
}

// listenAddress returns the listen address of VNC or SPICE graphics: an address, "socket",
// "none" or the qemu.conf default 127.0.0.1. A listen on a libvirt network whose address
// the XML does not give takes the address of that network's bridge. The XML does not
// contain that address, so it is taken as every address (0.0.0.0), an exposed listener.
func listenAddress(attr string, ls []libvirtxml.DomainGraphicListener) string {
	for _, l := range ls {
		switch {
		case l.Address != nil && l.Address.Address != "":
			return l.Address.Address
		case l.Network != nil && l.Network.Address != "":
			return l.Network.Address
		case l.Network != nil:
			return "0.0.0.0"
		case l.Socket != nil:
			return "socket"
		}
	}
	if attr != "" {
		return attr
	}
	return "127.0.0.1"
}

// buildVideos emits the video devices (qemuBuildVideoCommandLine).
func (b *builder) buildVideos() {
	for i, v := range b.dev.videos {
		drv := b.videoDriver(v, i == 0)
		if drv == "" {
			continue
		}
		t := tag{path: v.path, implied: v.implied, key: v.key()}
		if v.path != "" {
			t.path = v.path + "/model"
		}
		if v.x != nil && v.x.Driver != nil && v.x.Driver.Name == "vhostuser" {
			b.emitTagged(t, "-chardev", kv("socket", "id", fmt.Sprintf("chr-vu-video%d", i),
				"path", "/var/lib/libvirt/qemu/domain-"+b.dom.Name+"/video.sock"))
		}
		b.emitTagged(t, "-device", kv(drv, "id", fmt.Sprintf("video%d", i)))
	}
}

// videoDriver returns the QEMU device of a video model (qemuDeviceVideoGetModel).
func (b *builder) videoDriver(v video, primary bool) string {
	accel3d := v.x != nil && v.x.Model.Accel != nil && v.x.Model.Accel.Accel3D == "yes"
	vhost := v.x != nil && v.x.Driver != nil && v.x.Driver.Name == "vhostuser"
	path := errorPath(v.key())
	// QEMU builds virtio-vga for the targets whose boards imply VIRTIO_VGA in its
	// Kconfig: x86, pSeries and riscv virt.
	vgaCapable := isX86(b.arch) || isPPC64(b.arch) || isRISCV(b.arch)
	if v.model == "none" {
		return ""
	}
	if v.model == "virtio" {
		var addr *addrInfo
		if v.x != nil {
			addr = toAddr(v.x.Address)
		}
		switch {
		case vhost && primary && vgaCapable:
			return "vhost-user-vga"
		case vhost:
			return "vhost-user-gpu-" + b.virtioBus(v.key(), addr)
		case primary && vgaCapable && b.has("virtio-vga", true):
			// Before QEMU 6.1 virgl was a property of virtio-vga and virtio-gpu.
			return pick(accel3d && b.has("virtio-vga-gl", b.qemuAtLeast(6, 1)),
				"virtio-vga-gl", "virtio-vga")
		}
		bus := b.virtioBus(v.key(), addr)
		return pick(accel3d && b.has("virtio-gpu-gl-"+bus, b.qemuAtLeast(6, 1)),
			"virtio-gpu-gl-", "virtio-gpu-") + bus
	}
	if primary {
		drv := map[string]string{"vga": "VGA", "cirrus": "cirrus-vga", "vmvga": "vmware-svga",
			"qxl": "qxl-vga", "bochs": "bochs-display", "ramfb": "ramfb"}[v.model]
		if drv == "" {
			b.errorf(path, "video model %q is not supported by QEMU", v.model)
		}
		return drv
	}
	if v.model == "qxl" {
		return "qxl"
	}
	b.errorf(path, "video model %q is supported only as the primary video device", v.model)
	return ""
}

// buildSounds emits sound devices and their codecs (qemuBuildSoundCommandLine).
func (b *builder) buildSounds() {
	for i, s := range b.devs().Sounds {
		path := fmt.Sprintf("/domain/devices/sound[%d]", i+1)
		switch s.Model {
		case "pcspk":
			// QEMU 5.1 made the PC speaker a machine property; libvirt 5.6 used the
			// older -soundhw option.
			if b.libvirtAtLeast(6, 0) && b.qemuAtLeast(5, 1) {
				b.emit(path, "-machine", "pcspk-audiodev=audio1")
			} else {
				b.emit(path, "-soundhw", "pcspk")
			}
			continue
		case "virtio":
			b.device(path, "virtio-sound-"+b.virtioBus(path, toAddr(s.Address)))
			continue
		}
		drv := map[string]string{"es1370": "ES1370", "ac97": "AC97", "ich6": "intel-hda",
			"usb": "usb-audio", "ich9": "ich9-intel-hda", "sb16": "sb16"}[s.Model]
		if drv == "" {
			b.errorf(path, "sound model %q is not supported by QEMU", s.Model)
			continue
		}
		b.device(path, drv, "id", fmt.Sprintf("sound%d", i))
		if s.Model == "ich6" || s.Model == "ich9" {
			b.soundCodecs(path, s)
		}
	}
}

func (b *builder) soundCodecs(path string, s libvirtxml.DomainSound) {
	if len(s.Codec) == 0 {
		b.device(path, "hda-duplex")
		return
	}
	for j, c := range s.Codec {
		drv := map[string]string{"duplex": "hda-duplex", "micro": "hda-micro",
			"output": "hda-output"}[c.Type]
		p := fmt.Sprintf("%s/codec[%d]", path, j+1)
		if drv == "" {
			b.errorf(p, "unknown sound codec %q", c.Type)
			continue
		}
		b.device(p, drv)
	}
}

// buildWatchdogs emits watchdog devices; q35's iTCO watchdog is part of the machine.
func (b *builder) buildWatchdogs() {
	for i, w := range b.devs().Watchdogs {
		path := fmt.Sprintf("/domain/devices/watchdog[%d]", i+1)
		switch w.Model {
		case "i6300esb", "ib700", "diag288":
			b.device(path, w.Model, "id", fmt.Sprintf("watchdog%d", i))
		case "itco":
		default:
			b.errorf(path, "unknown watchdog model %q", w.Model)
		}
	}
}

// buildRedirdevs emits USB redirection devices with their chardevs.
func (b *builder) buildRedirdevs() {
	for i, r := range b.devs().RedirDevs {
		path := fmt.Sprintf("/domain/devices/redirdev[%d]", i+1)
		id := fmt.Sprintf("charredir%d", i)
		if b.chardev(path, r.Source, r.Protocol, id, false) {
			b.device(path, "usb-redir", "chardev", id)
		}
	}
}
