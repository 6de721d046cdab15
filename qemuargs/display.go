package qemuargs

import (
	"net/netip"
	"strings"

	"github.com/qscope/qscope/vm"
)

func (p *parser) handleVGA(r *record) {
	p.def.vga = false
	model, _, _ := strings.Cut(r.arg, ",")
	switch model {
	case "help", "?":
		p.errorf(r, -1, "asks QEMU to list VGA models; it starts no VM")
		return
	case "none":
		p.def.vgaModel = "none"
		return
	}
	if _, ok := vgaDevices[model]; !ok {
		p.errorf(r, 0, "unknown VGA model %q: want std, cirrus, vmware, qxl, virtio, "+
			"xenfb, tcx, cg3 or none", model)
		return
	}
	p.def.vgaModel, p.def.vgaRecord = model, r
}

// displayTypes are the -display types QEMU has had; "none" creates nothing.
var displayTypes = []string{"none", "sdl", "gtk", "cocoa", "curses", "egl-headless", "vnc",
	"spice-app", "dbus", "default"}

func (p *parser) handleDisplay(r *record) {
	switch r.name {
	case "nographic":
		p.def.nographic = true
		p.def.displaySet = true
		return
	case "sdl", "curses":
		p.def.displaySet = true
		p.add(vm.KindDisplay, r.name, nil, r, "")
		return
	}
	opts, ok := p.parseArg(r, "type", false)
	if !ok {
		return
	}
	p.def.displaySet = true
	if len(opts) > 0 && opts[0].Key == "vnc" {
		// -display vnc=DISPLAY[,opts] is the same as -vnc DISPLAY[,opts].
		p.addVNC(r, opts)
		return
	}
	typ, ok := p.required(r, opts, "type")
	if !ok {
		return
	}
	if !contains(displayTypes, typ) {
		p.errorf(r, 0, "unknown display type %q", typ)
		return
	}
	if typ == "none" {
		return
	}
	p.add(vm.KindDisplay, typ, propsExcept(opts, "type"), r, "")
}

func (p *parser) handleVNC(r *record) {
	opts, ok := p.parseArg(r, "vnc", false)
	if !ok {
		return
	}
	p.addVNC(r, opts)
}

// addVNC adds a VNC server with its exposure derived: transport=unix|tcp|none and
// loopback=on when it listens only on a local address or a unix socket.
func (p *parser) addVNC(r *record, opts Opts) {
	p.def.remoteDisplay = true
	props := opts.Map()
	addr := props["vnc"]
	switch {
	case addr == "none":
		props["transport"] = "none"
		props["loopback"] = "on"
	case strings.HasPrefix(addr, "unix:"):
		props["transport"] = "unix"
		props["loopback"] = "on"
	default:
		props["transport"] = "tcp"
		props["loopback"] = boolWord(isLoopbackHost(vncHost(addr)))
	}
	if ws, ok := props["websocket"]; ok && vm.NormalizeBool(ws) != "off" {
		props["loopback"] = "off"
	}
	p.add(vm.KindDisplay, "vnc", props, r, "")
}

// vncHost returns the host part of a VNC display "host:display" or "[v6]:display".
func vncHost(addr string) string {
	if strings.HasPrefix(addr, "[") {
		if end := strings.Index(addr, "]"); end > 0 {
			return addr[1:end]
		}
	}
	host, _, _ := strings.Cut(addr, ":")
	return host
}

// isLoopbackHost reports whether host names only the local machine. An empty host listens
// on every address, so it is not loopback.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

func boolWord(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func (p *parser) handleSpice(r *record) {
	opts, ok := p.parseArg(r, "", false)
	if !ok {
		return
	}
	p.def.remoteDisplay = true
	props := opts.Map()
	if addr, ok := props["addr"]; ok {
		props["loopback"] = boolWord(isLoopbackHost(addr))
	} else if _, unix := props["unix"]; unix {
		props["loopback"] = "on"
	} else {
		props["loopback"] = "off"
	}
	p.add(vm.KindDisplay, "spice", props, r, "")
}

func (p *parser) handleAudiodev(r *record) {
	p.addNamed(r, vm.KindAudiodev, "driver", true)
}

// soundDevices maps -soundhw and -audio model names to the devices they create.
var soundDevices = map[string][]string{
	"sb16": {"sb16"}, "adlib": {"adlib"}, "ac97": {"AC97"}, "es1370": {"ES1370"},
	"hda": {"intel-hda", "hda-duplex"}, "gus": {"gus"}, "cs4231a": {"cs4231a"},
	"pcspk": {"isa-pcspk"}, "virtio": {"virtio-sound-pci"},
}

func (p *parser) handleAudio(r *record) {
	opts, ok := p.parseArg(r, "driver", false)
	if !ok {
		return
	}
	if driver, ok := opts.Get("driver"); ok {
		p.add(vm.KindAudiodev, driver, propsExcept(opts, "driver", "model"), r, "")
	}
	if model, ok := opts.Get("model"); ok {
		p.addSoundModel(r, model)
	}
}

func (p *parser) handleSoundhw(r *record) {
	for _, model := range strings.Split(r.arg, ",") {
		if model == "all" {
			for _, m := range []string{"sb16", "adlib", "ac97", "es1370", "hda", "gus",
				"cs4231a", "pcspk"} {
				p.addSoundModel(r, m)
			}
			continue
		}
		p.addSoundModel(r, model)
	}
}

func (p *parser) addSoundModel(r *record, model string) {
	if model == "help" || model == "?" {
		p.errorf(r, -1, "asks QEMU to list sound cards; it starts no VM")
		return
	}
	devs, ok := soundDevices[model]
	if !ok {
		p.errorf(r, -1, "unknown sound card %q", model)
		return
	}
	for _, d := range devs {
		p.add(vm.KindDevice, d, nil, nil, impliedBy(r))
	}
}
