package audit

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/qscope/qscope/vm"
)

// chardevInfo is one entry of query-chardev.
type chardevInfo struct {
	Label    string `json:"label"`
	Filename string `json:"filename"`
}

// socketAddress is the addr property of a chardev-socket (QAPI SocketAddress).
type socketAddress struct {
	Type string `json:"type"` // unix, inet, vsock or fd
	Path string `json:"path"`
	Host string `json:"host"`
	Port string `json:"port"`
	CID  string `json:"cid"`
	Str  string `json:"str"`
}

// compatMonitorRE matches the chardev ids QEMU gives the monitors of -monitor and -qmp
// (monitor_parse in softmmu/vl.c, QEMU 7.2 and 10.0).
var compatMonitorRE = regexp.MustCompile(`^compat_monitor\d+$`)

// addChardevs adds a chardev component per backend, and a monitor for the chardev of this
// connection and for each chardev that QEMU named for -monitor or -qmp. A multiplexer
// that -chardev ...,mux=on created is folded into its backend as mux=on, as the command
// line writes it.
func (a *auditor) addChardevs() error {
	var list []chardevInfo
	if err := a.execute("query-chardev", nil, &list); err != nil {
		return err
	}
	labels := map[string]bool{}
	for _, ch := range list {
		labels[ch.Label] = true
	}
	muxed := map[string]bool{}
	for _, ch := range list {
		if a.chardevBackend(ch.Label) == "mux" && labels[ch.Label+"-base"] {
			muxed[ch.Label+"-base"] = true
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Label < list[j].Label })
	for _, ch := range list {
		if a.chardevBackend(ch.Label) == "mux" && labels[ch.Label+"-base"] {
			continue
		}
		if err := a.addChardev(ch, muxed[ch.Label]); err != nil {
			return err
		}
	}
	return nil
}

// chardevBackend returns the backend name of a chardev, from its QOM type chardev-NAME,
// or "" when the chardev is not in the QOM tree.
func (a *auditor) chardevBackend(label string) string {
	obj := a.tree.byPath["/chardevs/"+label]
	if obj == nil {
		return ""
	}
	return strings.TrimPrefix(obj.typ, "chardev-")
}

// addChardev adds the chardev ch and, when it carries a monitor that QMP can identify,
// the monitor after it.
func (a *auditor) addChardev(ch chardevInfo, muxed bool) error {
	backend := a.chardevBackend(ch.Label)
	if backend == "" {
		backend = "unknown"
		a.cfg.Note("chardev " + ch.Label + " is not in the QOM tree, so its backend is " +
			"unknown")
	}
	path := "/chardevs/" + ch.Label
	props, addr, err := a.chardevProps(path, backend, ch.Filename)
	if err != nil {
		return err
	}
	if muxed {
		props["mux"] = "on"
	}

	ci := len(a.cfg.Components)
	a.cfg.Add(vm.Component{Kind: vm.KindChardev, Name: backend, Props: props,
		Origin: &vm.Origin{QOMPath: path}})
	mode := a.monitorMode(ch.Label, addr)
	if mode == "" {
		return nil
	}
	mi := len(a.cfg.Components)
	a.cfg.Add(vm.Component{Kind: vm.KindMonitor, Name: mode,
		Props: monitorProps(mode, backend, props), Origin: &vm.Origin{QOMPath: path}})
	a.cfg.Components[ci].Carries = []int{mi}
	return nil
}

// chardevProps returns the properties of the chardev at path, and for a socket its
// address (the addr property of chardev-socket).
func (a *auditor) chardevProps(path, backend, filename string) (map[string]string,
	socketAddress, error) {
	props := filenameProps(backend, filename)
	var addr socketAddress
	if backend != "socket" {
		return props, addr, nil
	}
	raw, err := a.qomGet(path, "addr")
	if err != nil {
		return nil, addr, err
	}
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &addr); err != nil {
			return nil, addr, fmt.Errorf("audit: %s addr %q: %w", path, raw, err)
		}
	}
	addSocketProps(props, addr)
	return props, addr, nil
}

// monitorMode returns qmp for the chardev of this connection, hmp-or-qmp for a chardev
// QEMU created for -monitor or -qmp (QMP does not say which of the two it carries), and ""
// for any other chardev.
func (a *auditor) monitorMode(label string, addr socketAddress) string {
	if a.opts.Socket != "" && addr.Type == "unix" && sameFile(addr.Path, a.opts.Socket) {
		return "qmp"
	}
	if compatMonitorRE.MatchString(label) {
		return "hmp-or-qmp"
	}
	return ""
}

// sameFile reports whether two socket paths name the same file.
func sameFile(a, b string) bool {
	if abs, err := filepath.Abs(a); err == nil {
		a = abs
	}
	if a == b {
		return true
	}
	ra, errA := filepath.EvalSymlinks(a)
	rb, errB := filepath.EvalSymlinks(b)
	return errA == nil && errB == nil && ra == rb
}

// monitorKeys are the chardev properties that decide how exposed a monitor is; a monitor
// component repeats them, as the command-line front end does.
var monitorKeys = []string{"transport", "host", "tls-creds", "tls-authz", "telnet",
	"websocket", "server", "path", "fd"}

func monitorProps(mode, backend string, chardev map[string]string) map[string]string {
	props := map[string]string{"backend": backend}
	if mode == "qmp" {
		props["mode"] = "control"
	}
	for _, k := range monitorKeys {
		if v, ok := chardev[k]; ok {
			props[k] = v
		}
	}
	return props
}

// filenameProps derives chardev properties from query-chardev's filename: for sockets
// whether the chardev listens and which framing it uses (QEMU writes telnet:, websocket:
// or tn3270: in place of tcp:), for a pty its device path.
func filenameProps(backend, filename string) map[string]string {
	props := map[string]string{}
	switch backend {
	case "socket":
		f := strings.TrimPrefix(filename, "disconnected:")
		proto, _, _ := strings.Cut(f, ":")
		switch proto {
		case "telnet", "websocket", "tn3270":
			props[proto] = "on"
		}
		addr, _, _ := strings.Cut(f, " <-> ")
		if strings.HasSuffix(addr, ",server=on") {
			props["server"] = "on"
		}
	case "pty":
		if dev, ok := strings.CutPrefix(filename, "pty:"); ok {
			props["path"] = dev
		}
	}
	return props
}

// addSocketProps adds the address of a socket chardev and its transport, named as the
// command-line front end names them: unix, tcp, vsock or fd.
func addSocketProps(props map[string]string, addr socketAddress) {
	set := func(k, v string) {
		if v != "" {
			props[k] = v
		}
	}
	switch addr.Type {
	case "unix":
		props["transport"] = "unix"
		set("path", addr.Path)
	case "inet":
		props["transport"] = "tcp"
		set("host", addr.Host)
		set("port", addr.Port)
	case "vsock":
		props["transport"] = "vsock"
		set("cid", addr.CID)
		set("port", addr.Port)
	case "fd":
		props["transport"] = "fd"
		set("fd", addr.Str)
	}
}
