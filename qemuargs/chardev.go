package qemuargs

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/qscope/qscope/vm"
)

// chardevAliases are backend names QEMU maps to others: tty and parport until QEMU 8.0,
// memory (deprecated in 9.0) for ringbuf.
var chardevAliases = map[string]string{"tty": "serial", "parport": "parallel",
	"memory": "ringbuf"}

// chardevProps returns the component properties of a chardev: its options without id and
// backend, the backend as backend=, and for socket backends the transport: unix (path=),
// unix-abstract (path= with abstract=on, a name in the abstract namespace that file
// permissions do not protect), tcp (host=/port=), vsock (cid=) or fd (a socket passed by
// the management layer).
func chardevProps(opts Opts) map[string]string {
	props := propsExcept(opts, "id")
	if props["backend"] == "socket" {
		switch {
		case props["path"] != "" && vm.NormalizeBool(props["abstract"]) == "on":
			props["transport"] = "unix-abstract"
		case props["path"] != "":
			props["transport"] = "unix"
		case props["fd"] != "":
			props["transport"] = "fd"
		case props["cid"] != "":
			props["transport"] = "vsock"
		case hasKey(opts, "port") || hasKey(opts, "host"):
			props["transport"] = "tcp"
		}
	}
	return props
}

func hasKey(opts Opts, key string) bool {
	_, ok := opts.Get(key)
	return ok
}

func (p *parser) handleChardev(r *record) {
	opts, ok := p.parseArg(r, "backend", false)
	if !ok {
		return
	}
	backend, ok := p.required(r, opts, "backend")
	if !ok {
		return
	}
	id, ok := p.required(r, opts, "id")
	if !ok {
		return
	}
	if alias, ok := chardevAliases[backend]; ok {
		opts.Set("backend", alias)
		backend = alias
	}
	props := chardevProps(opts)
	delete(props, "backend")
	i := p.add(vm.KindChardev, backend, props, r, "")
	p.chardevs[id] = i
}

var (
	// The expressions compile on first use: most command lines need neither, and
	// compiling them at start-up would slow every qscope process.
	hostPortRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^([^:]{0,64}):([^,]{1,32})`)
	})
	vcSizeRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^(\d{1,7})x(\d{1,7})$|^(\d{1,7})Cx(\d{1,7})C$`)
	})
)

// parseChardevSpec parses the legacy chardev syntax of -serial, -parallel, -monitor,
// -qmp, -gdb and -debugcon (QEMU's qemu_chr_parse_compat): stdio, pty, null, vc[:WxH],
// file:PATH, pipe:PATH, tcp:HOST:PORT[,opts], telnet:..., websocket:..., udp:...,
// unix:PATH[,opts], /dev/..., COMn, optionally behind mon: for a multiplexed monitor.
func parseChardevSpec(spec string) (Opts, error) {
	var opts Opts
	rest := spec
	if s, ok := strings.CutPrefix(rest, "mon:"); ok {
		rest = s
		opts = append(opts, Opt{Key: "mux", Value: "on", Offset: -1})
	}
	set := func(k, v string) { opts = append(opts, Opt{Key: k, Value: v, Offset: -1}) }
	switch {
	case contains([]string{"null", "pty", "msmouse", "wctablet", "braille", "testdev",
		"stdio"}, rest):
		set("backend", rest)
	case strings.HasPrefix(rest, "vc"):
		// QEMU ignores what follows "vc" unless it is a ':' and a size.
		set("backend", "vc")
		if size, ok := strings.CutPrefix(rest, "vc:"); ok && !vcSizeRE().MatchString(size) {
			return nil, fmt.Errorf("invalid vc size %q: want WxH or COLSCxROWSC", size)
		}
	case rest == "con:":
		set("backend", "console")
	case strings.HasPrefix(rest, "COM"):
		set("backend", "serial")
		set("path", rest)
	case strings.HasPrefix(rest, "file:"):
		set("backend", "file")
		set("path", strings.TrimPrefix(rest, "file:"))
	case strings.HasPrefix(rest, "pipe:"):
		set("backend", "pipe")
		set("path", strings.TrimPrefix(rest, "pipe:"))
	case hasAnyPrefix(rest, "tcp:", "telnet:", "tn3270:", "websocket:"):
		scheme, addr, _ := strings.Cut(rest, ":")
		m := hostPortRE().FindStringSubmatch(addr)
		if m == nil {
			return nil, fmt.Errorf("invalid %s address %q: want HOST:PORT", scheme, addr)
		}
		set("backend", "socket")
		set("host", m[1])
		set("port", m[2])
		if extra, ok := strings.CutPrefix(addr[len(m[0]):], ","); ok {
			more, err := ParseOpts(extra, "")
			if err != nil {
				return nil, err
			}
			opts = append(opts, more...)
		} else if addr[len(m[0]):] != "" {
			return nil, fmt.Errorf("unexpected %q after the port", addr[len(m[0]):])
		}
		if scheme != "tcp" {
			set(scheme, "on")
		}
	case strings.HasPrefix(rest, "udp:"):
		set("backend", "udp")
		remote, local, _ := strings.Cut(strings.TrimPrefix(rest, "udp:"), "@")
		host, port, ok := strings.Cut(remote, ":")
		if !ok || port == "" {
			return nil, fmt.Errorf("invalid udp address %q: want [HOST]:PORT", remote)
		}
		set("host", host)
		set("port", port)
		if local != "" {
			lhost, lport, _ := strings.Cut(local, ":")
			set("localaddr", lhost)
			set("localport", lport)
		}
	case strings.HasPrefix(rest, "unix:"):
		set("backend", "socket")
		more, err := ParseOpts(strings.TrimPrefix(rest, "unix:"), "path")
		if err != nil {
			return nil, err
		}
		opts = append(opts, more...)
	case hasAnyPrefix(rest, "/dev/parport", "/dev/ppi"):
		set("backend", "parallel")
		set("path", rest)
	case strings.HasPrefix(rest, "/dev/"):
		set("backend", "serial")
		set("path", rest)
	default:
		return nil, fmt.Errorf("%q is not a valid char driver", spec)
	}
	return opts, nil
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, pre := range prefixes {
		if strings.HasPrefix(s, pre) {
			return true
		}
	}
	return false
}

// addChardevSpec adds the chardev of a legacy spec and returns its index, or -1 after
// reporting an error. Specs of the form chardev:ID name a -chardev instead; callers handle
// those with refChardev.
func (p *parser) addChardevSpec(r *record, spec, implied string) int {
	opts, err := parseChardevSpec(spec)
	if err != nil {
		p.errorf(r, -1, "%v", err)
		return -1
	}
	props := chardevProps(opts)
	backend := props["backend"]
	delete(props, "backend")
	return p.add(vm.KindChardev, backend, props, r, implied)
}

// handleSerial handles -serial, -parallel and -debugcon: a chardev plus the board's device.
func (p *parser) handleSerial(r *record) {
	switch r.name {
	case "serial":
		p.def.serial = false
	case "parallel":
		p.def.parallel = false
	}
	if strings.HasPrefix(r.arg, "mon:") {
		p.def.monitor = false
	}
	if r.arg == "none" {
		return
	}
	if id, ok := strings.CutPrefix(r.arg, "chardev:"); ok {
		p.refChardev(id, r, -1)
	} else {
		ci := p.addChardevSpec(r, r.arg, "")
		if ci < 0 {
			return
		}
		p.chardevData[ci] = true
		if strings.HasPrefix(r.arg, "mon:") {
			p.addMonitor("hmp", ci, nil, r)
		}
	}
	p.portDevice(r.name, impliedBy(r))
}

// chardevRef is a use of a chardev by id, resolved once every -chardev is known.
type chardevRef struct {
	id      string
	rec     *record
	monitor int // the index of the monitor component that uses it, or -1 for a data use
}

// refChardev records that the option r uses the chardev named id, as the transport of the
// monitor at index monitor, or as a data path when monitor is -1.
func (p *parser) refChardev(id string, r *record, monitor int) {
	p.chardevRefs = append(p.chardevRefs, chardevRef{id: id, rec: r, monitor: monitor})
}

// resolveChardevRefs looks up every chardev reference. A name no -chardev defines is an
// error, as in QEMU.
func (p *parser) resolveChardevRefs() {
	for _, ref := range p.chardevRefs {
		ci, ok := p.chardevs[ref.id]
		if !ok {
			p.errorf(ref.rec, -1, "no chardev with id %q is defined", ref.id)
			continue
		}
		if ref.monitor < 0 {
			p.chardevData[ci] = true
			continue
		}
		p.copyTransportProps(ref.monitor, ci)
		p.chardevUsers[ci] = append(p.chardevUsers[ci], ref.monitor)
	}
}

// markMonitorTransports sets Carries on every chardev that only carries monitors, so that
// the monitor's judgement, which covers its transport, also decides the chardev.
func (p *parser) markMonitorTransports() {
	for ci, users := range p.chardevUsers {
		if !p.chardevData[ci] {
			p.cfg.Components[ci].Carries = append([]int(nil), users...)
		}
	}
}

// portDevice adds the device behind a -serial, -parallel or -debugcon option on the
// machine's board, when the family is modelled.
func (p *parser) portDevice(kind, implied string) {
	f := p.machine.family
	if f == nil {
		return
	}
	var dev string
	switch kind {
	case "serial":
		dev = f.serial
		if f.serialIsBoard {
			return
		}
	case "parallel":
		dev = f.parallel
	case "debugcon":
		if contains(x86Targets, p.target) {
			dev = "isa-debugcon"
		}
	}
	if dev != "" {
		p.add(vm.KindDevice, dev, nil, nil, implied)
	}
}

func (p *parser) handleMonitor(r *record) {
	p.def.monitor = false
	if r.name == "monitor" && strings.HasPrefix(r.arg, "none") {
		return
	}
	mode := "hmp"
	if r.name != "monitor" {
		mode = "qmp"
	}
	if id, ok := strings.CutPrefix(r.arg, "chardev:"); ok {
		mi := p.add(vm.KindMonitor, mode, monitorProps(mode, nil), r, "")
		p.refChardev(id, r, mi)
		return
	}
	ci := p.addChardevSpec(r, r.arg, "")
	if ci < 0 {
		return
	}
	p.addMonitor(mode, ci, nil, r)
}

func (p *parser) handleMon(r *record) {
	p.def.monitor = false
	opts, ok := p.parseArg(r, "chardev", false)
	if !ok {
		return
	}
	id, ok := p.required(r, opts, "chardev")
	if !ok {
		return
	}
	mode := "hmp"
	switch opts.Value("mode") {
	case "control":
		mode = "qmp"
	case "", "readline":
	default:
		p.errorf(r, -1, "invalid mode=%s: want control or readline", opts.Value("mode"))
		return
	}
	mi := p.add(vm.KindMonitor, mode, monitorProps(mode, opts), r, "")
	p.refChardev(id, r, mi)
}

// monitorKeys are the chardev properties that decide how exposed a monitor is.
var monitorKeys = []string{"transport", "host", "tls-creds", "tls-authz", "telnet",
	"websocket", "server", "path", "fd"}

// monitorProps returns the properties of a monitor of mode qmp or hmp with the -mon options
// opts; the transport's properties are added by copyTransportProps.
func monitorProps(mode string, opts Opts) map[string]string {
	props := propsExcept(opts, "chardev")
	if mode == "qmp" {
		props["mode"] = "control"
	} else {
		props["mode"] = "readline"
	}
	return props
}

// addMonitor adds a monitor component carried by the chardev at index ci.
func (p *parser) addMonitor(mode string, ci int, opts Opts, r *record) {
	mi := p.add(vm.KindMonitor, mode, monitorProps(mode, opts), r, "")
	p.copyTransportProps(mi, ci)
	p.chardevUsers[ci] = append(p.chardevUsers[ci], mi)
}

// copyTransportProps gives the monitor at index mi the chardev's backend and the chardev
// properties that decide how exposed the monitor is.
func (p *parser) copyTransportProps(mi, ci int) {
	ch, mon := &p.cfg.Components[ci], &p.cfg.Components[mi]
	mon.Props["backend"] = ch.Name
	for _, k := range monitorKeys {
		if v, ok := ch.Props[k]; ok {
			mon.Props[k] = v
		}
	}
}

func (p *parser) handleVirtioconsole(r *record) {
	implied := impliedBy(r)
	ci := p.addChardevSpec(r, r.arg, implied)
	if ci < 0 {
		return
	}
	p.chardevData[ci] = true
	p.add(vm.KindDevice, "virtio-serial-pci", nil, nil, implied)
	p.add(vm.KindDevice, "virtconsole", nil, nil, implied)
}
