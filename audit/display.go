package audit

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/qscope/qscope/qemuargs"
	"github.com/qscope/qscope/vm"
)

// vncServer is one entry of query-vnc-servers (QAPI VncInfo2).
type vncServer struct {
	ID       string `json:"id"`
	Auth     string `json:"auth"`
	Vencrypt string `json:"vencrypt"`
	Server   []struct {
		Host      string `json:"host"`
		Service   string `json:"service"`
		Family    string `json:"family"`
		Websocket bool   `json:"websocket"`
	} `json:"server"`
}

// spiceInfo is the result of query-spice.
type spiceInfo struct {
	Enabled bool   `json:"enabled"`
	Host    string `json:"host"`
	Port    int    `json:"port"`
	TLSPort int    `json:"tls-port"`
	Auth    string `json:"auth"`
}

// addDisplays adds the local display (query-display-options), each VNC server and the
// SPICE server. A build without VNC or SPICE lacks the query, so the server is absent.
func (a *auditor) addDisplays() error {
	if err := a.addLocalDisplay(); err != nil {
		return err
	}
	if a.has("query-vnc-servers") {
		var servers []vncServer
		if err := a.execute("query-vnc-servers", nil, &servers); err != nil {
			return err
		}
		for _, s := range servers {
			a.cfg.Add(vm.Component{Kind: vm.KindDisplay, Name: "vnc", Props: vncProps(s),
				ImpliedBy: "VNC server " + s.ID + " (query-vnc-servers)"})
		}
	}
	if a.has("query-spice") {
		var info spiceInfo
		if err := a.execute("query-spice", nil, &info); err != nil {
			return err
		}
		if info.Enabled {
			a.cfg.Add(vm.Component{Kind: vm.KindDisplay, Name: "spice",
				Props: spiceProps(info), ImpliedBy: "SPICE server (query-spice)"})
		}
	}
	return nil
}

// addLocalDisplay adds the local display that -display selected, unless that is "none".
func (a *auditor) addLocalDisplay() error {
	if !a.has("query-display-options") {
		return nil
	}
	var raw json.RawMessage
	if err := a.execute("query-display-options", nil, &raw); err != nil {
		return err
	}
	opts, err := qemuargs.ParseJSONOpts(string(raw))
	if err != nil {
		return fmt.Errorf("audit: query-display-options: %w", err)
	}
	typ := opts.Value("type")
	if typ == "none" || typ == "" {
		return nil
	}
	props := map[string]string{}
	for _, o := range opts {
		if o.Key != "type" {
			props[o.Key] = o.Value
		}
	}
	a.cfg.Add(vm.Component{Kind: vm.KindDisplay, Name: typ, Props: props,
		ImpliedBy: "display " + typ + " (query-display-options)"})
	return nil
}

// vncProps describes a VNC server with the properties the command-line front end derives:
// transport (unix, tcp, or none without a listener), loopback, websocket, and the
// authentication in use as password, sasl and tls-creds. QMP does not name the TLS
// credentials object, so tls-creds is "(in use)".
func vncProps(s vncServer) map[string]string {
	props := map[string]string{"transport": "none", "loopback": "on"}
	var listen []string
	for _, l := range s.Server {
		if l.Family == "unix" {
			listen = append(listen, l.Service)
		} else {
			listen = append(listen, l.Host+":"+l.Service)
		}
		switch {
		case l.Websocket:
			props["websocket"] = "on"
			props["loopback"] = "off"
		case l.Family == "unix":
			props["transport"] = "unix"
		default:
			if props["transport"] != "unix" {
				props["transport"] = "tcp"
			}
			if !isLoopbackHost(l.Host) {
				props["loopback"] = "off"
			}
		}
	}
	if len(listen) > 0 {
		props["listen"] = strings.Join(listen, ",")
	}
	for k, v := range vncAuthProps(s.Auth, s.Vencrypt) {
		props[k] = v
	}
	return props
}

// vncAuthProps maps VNC authentication (QAPI VncPrimaryAuth and VncVencryptSubAuth) to
// the -vnc options that select it.
func vncAuthProps(auth, vencrypt string) map[string]string {
	props := map[string]string{}
	switch auth {
	case "vnc":
		props["password"] = "on"
	case "sasl":
		props["sasl"] = "on"
	case "tls":
		props["tls-creds"] = "(in use)"
	case "vencrypt":
		props["tls-creds"] = "(in use)"
		_, sub, _ := strings.Cut(vencrypt, "-")
		switch sub {
		case "vnc":
			props["password"] = "on"
		case "sasl":
			props["sasl"] = "on"
		}
	}
	return props
}

// spiceProps describes a SPICE server with the -spice options it implies.
func spiceProps(info spiceInfo) map[string]string {
	props := map[string]string{"addr": info.Host, "loopback": "off"}
	switch {
	case strings.HasPrefix(info.Host, "/"):
		props["unix"] = "on"
		props["loopback"] = "on"
	case isLoopbackHost(info.Host):
		props["loopback"] = "on"
	}
	if info.Port > 0 {
		props["port"] = fmt.Sprint(info.Port)
	}
	if info.TLSPort > 0 {
		props["tls-port"] = fmt.Sprint(info.TLSPort)
	}
	if info.Auth == "none" {
		props["disable-ticketing"] = "on"
	}
	return props
}

// isLoopbackHost reports whether host names only the local machine.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.IsLoopback()
}

// addAudiodevs adds an audiodev component per audio backend, from query-audiodevs, which
// QEMU 8.0 added. Older QEMU has no query for audio backends, and noteLimits records that.
//
// NOTE: only QEMU 7.2 runs in the tests, so this path is checked against the QAPI schema
// of QEMU 10.0 (qapi/audio.json, Audiodev), not against a running QEMU.
func (a *auditor) addAudiodevs() error {
	if !a.has("query-audiodevs") {
		return nil
	}
	var list []json.RawMessage
	if err := a.execute("query-audiodevs", nil, &list); err != nil {
		return err
	}
	comps, err := audiodevComponents(list)
	if err != nil {
		return err
	}
	for _, c := range comps {
		a.cfg.Add(c)
	}
	return nil
}

// audiodevComponents returns the components of query-audiodevs' Audiodev entries: the
// driver as name, every other option as a property.
func audiodevComponents(list []json.RawMessage) ([]vm.Component, error) {
	var out []vm.Component
	for _, raw := range list {
		opts, err := qemuargs.ParseJSONOpts(string(raw))
		if err != nil {
			return nil, fmt.Errorf("audit: query-audiodevs: %w", err)
		}
		props := map[string]string{}
		for _, o := range opts {
			if o.Key != "driver" {
				props[o.Key] = o.Value
			}
		}
		out = append(out, vm.Component{Kind: vm.KindAudiodev, Name: opts.Value("driver"),
			Props: props, ImpliedBy: "audiodev " + opts.Value("id") + " (query-audiodevs)"})
	}
	return out, nil
}

// tpmInfo is one entry of query-tpm.
type tpmInfo struct {
	ID      string          `json:"id"`
	Model   string          `json:"model"`
	Options json.RawMessage `json:"options"`
}

// addTPMs adds a tpmdev component per TPM backend.
func (a *auditor) addTPMs() error {
	if !a.has("query-tpm") {
		return nil
	}
	var list []tpmInfo
	if err := a.execute("query-tpm", nil, &list); err != nil {
		return err
	}
	for _, t := range list {
		opts, err := qemuargs.ParseJSONOpts(string(t.Options))
		if err != nil {
			return fmt.Errorf("audit: query-tpm: %w", err)
		}
		props := map[string]string{"id": t.ID, "model": t.Model}
		for _, o := range opts {
			if k, ok := strings.CutPrefix(o.Key, "data."); ok {
				props[k] = o.Value
			}
		}
		a.cfg.Add(vm.Component{Kind: vm.KindTpmdev, Name: opts.Value("type"), Props: props,
			ImpliedBy: "TPM backend " + t.ID + " (query-tpm)"})
	}
	return nil
}
