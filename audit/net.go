package audit

import (
	"regexp"
	"strings"

	"github.com/qscope/qscope/vm"
)

// netClient is one network client that HMP "info network" prints: a NIC, a netdev
// backend, or a hub port.
type netClient struct {
	name string // the id, or a name QEMU made up (e1000.0, #net123, hub0port1)
	typ  string // nic, user, tap, socket, hubport, vhost-user, ...
	info string // the rest of the line: the backend's own description
}

var (
	// netClientRE matches print_net_client's "NAME: index=N,type=TYPE,INFO" (net/net.c,
	// QEMU 7.2 and 10.0).
	netClientRE = regexp.MustCompile(`^([^\s:]+): index=\d+,type=([A-Za-z0-9_-]+),?(.*)$`)
	// hubPortRE matches the names QEMU gives hub ports that -net and -nic create
	// (net_hub_add_port in net/hub.c); a -netdev hubport has its own id.
	hubPortRE = regexp.MustCompile(`^hub\d+port\d+$`)
	// keyValueRE matches an INFO made of key=value pairs.
	keyValueRE = regexp.MustCompile(`^[a-z0-9_.-]+=[^,]*(,[a-z0-9_.-]+=[^,]*)*$`)
)

// parseInfoNetwork returns the clients in the output of HMP "info network": the hub
// listing (net_hub_info in net/hub.c: "hub N" then " \ PORT: PEER" per port), then every
// other client, a NIC's peer indented with " \ " (hmp_info_network in net/net.c). Filter
// lines and anything else are skipped.
func parseInfoNetwork(text string) []netClient {
	var out []netClient
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		body, indented := strings.CutPrefix(line, " \\ ")
		if m := netClientRE.FindStringSubmatch(body); m != nil {
			out = append(out, netClient{name: m[1], typ: m[2], info: m[3]})
			continue
		}
		if !indented {
			continue
		}
		port, peer, _ := strings.Cut(body, ": ")
		if !hubPortRE.MatchString(port) {
			out = append(out, netClient{name: port, typ: "hubport"})
		}
		if m := netClientRE.FindStringSubmatch(peer); m != nil {
			out = append(out, netClient{name: m[1], typ: m[2], info: m[3]})
		}
	}
	return out
}

// addNetdevs adds a netdev component per backend. NICs are devices in the QOM tree, and
// the hub ports that -net and -nic create are plumbing between a NIC and its backend.
func (a *auditor) addNetdevs() error {
	var text string
	err := a.execute("human-monitor-command",
		map[string]any{"command-line": "info network"}, &text)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, c := range parseInfoNetwork(text) {
		if c.typ == "nic" || seen[c.name] {
			continue
		}
		// A multiqueue backend prints one client per queue, all with its id.
		seen[c.name] = true
		a.cfg.Add(vm.Component{Kind: vm.KindNetdev, Name: c.typ, Props: netdevProps(c),
			ImpliedBy: "netdev " + c.name + " (info network)"})
	}
	return nil
}

// netdevProps returns the id of a netdev and its description: the key=value pairs when it
// is made of them, as the user backend's "net=10.0.2.0,restrict=off" is, else the text as
// info.
func netdevProps(c netClient) map[string]string {
	props := map[string]string{"id": c.name}
	switch {
	case c.info == "":
	case keyValueRE.MatchString(c.info):
		for _, pair := range strings.Split(c.info, ",") {
			k, v, _ := strings.Cut(pair, "=")
			if k != "id" && k != "type" {
				props[k] = v
			}
		}
	default:
		props["info"] = c.info
	}
	return props
}
