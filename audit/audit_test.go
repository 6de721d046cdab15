package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/qscope/qscope/qmp"
	"github.com/qscope/qscope/vm"
)

func TestAuditDefaultQ35(t *testing.T) {
	t.Parallel()
	cfg := auditVM(t, startVM(t, "x86_64", "-machine", "q35", "-accel", "tcg", "-S",
		"-display", "none"))
	if cfg.Target != "x86_64" || cfg.QEMUVersion == "" {
		t.Errorf("target %q, version %q; want x86_64 and the running version", cfg.Target,
			cfg.QEMUVersion)
	}
	m := cfg.Components[0]
	if m.Kind != vm.KindMachine || !strings.HasPrefix(m.Name, "pc-q35-") ||
		m.Props["alias"] != "q35" || m.Origin.QOMPath != "/machine" {
		t.Errorf("first component = %+v, want machine pc-q35-* at /machine alias q35", m)
	}
	if a := findOne(t, cfg, vm.KindAccel, "tcg"); a.Origin != nil || a.ImpliedBy == "" {
		t.Errorf("accel = %+v, want implied by a query", a)
	}
	findOne(t, cfg, vm.KindCPU, "qemu64")

	tests := []struct {
		name, parent string
		board        bool
	}{
		{"i8042", m.Name, true},
		{"ps2-kbd", "i8042", true},
		{"ioapic", "q35-pcihost", true},
		{"apic", "qemu64-x86_64-cpu", true},
		{"VGA", "", false},
		{"e1000e", "", false},
		{"isa-serial", "", false},
		{"serial", "isa-serial", false},
	}
	for _, tt := range tests {
		d := findOne(t, cfg, vm.KindDevice, tt.name)
		if d.Board != tt.board || d.Parent != tt.parent {
			t.Errorf("device %s: board %v parent %q, want %v %q", tt.name, d.Board,
				d.Parent, tt.board, tt.parent)
		}
		if !strings.HasPrefix(d.Origin.QOMPath, "/machine/") || len(d.Parents) == 0 {
			t.Errorf("device %s: origin %+v parents %v, want a /machine path and a "+
				"parent chain", tt.name, d.Origin, d.Parents)
		}
	}
	ram := findOne(t, cfg, vm.KindObject, "memory-backend-ram")
	if ram.Board || ram.Parent != m.Name || ram.Origin.QOMPath != "/objects/pc.ram" {
		t.Errorf("RAM backend = %+v, want /objects/pc.ram of the machine, not board", ram)
	}
	if n := findOne(t, cfg, vm.KindNetdev, "user"); !strings.HasPrefix(n.Props["id"], "#net") {
		t.Errorf("default netdev id = %q, want one QEMU made up", n.Props["id"])
	}
	if got := find(cfg, vm.KindBlockDriver, ""); len(got) != 0 {
		t.Errorf("block nodes %v, want none: the default CD-ROM is empty", got)
	}
}

func TestAuditGroupsInternalObjects(t *testing.T) {
	t.Parallel()
	cfg := auditVM(t, startVM(t, "x86_64", "-machine", "pc", "-accel", "tcg", "-S",
		"-display", "none", "-nodefaults"))
	for _, name := range []string{"memory-region", "irq", "PCI"} {
		g := findOne(t, cfg, vm.KindObject, name)
		if g.Props["internal"] != "on" || g.Props["count"] == "" || !g.Board ||
			!strings.Contains(g.ImpliedBy, "grouped in /") {
			t.Errorf("group %s = %+v, want an internal board group with a count", name, g)
		}
	}
	for _, c := range cfg.Components {
		if c.Kind == vm.KindDevice && c.Name == "memory-region" {
			t.Errorf("memory region reported as a device: %+v", c)
		}
		if c.Name == "container" {
			t.Errorf("container reported: %+v", c)
		}
	}
}

func TestAuditBlockNodes(t *testing.T) {
	t.Parallel()
	fill := makeImages(t, t.TempDir())
	cfg := auditVM(t, startVM(t, "x86_64", "-machine", "q35", "-accel", "tcg", "-S",
		"-display", "none", "-nodefaults",
		"-drive", fill("file={overlay},format=qcow2,if=virtio,id=d0"),
		"-blockdev", "null-co,node-name=z0,read-zeroes=on",
		"-blockdev", "driver=raw,node-name=r0,read-only=on,file.driver=file,"+
			fill("file.filename={raw}"),
		"-device", "virtio-blk-pci,drive=r0"))
	var got []string
	for _, c := range cfg.Components {
		if c.Kind != vm.KindBlockDriver {
			continue
		}
		if c.Origin == nil || c.Origin.Node == "" {
			t.Errorf("block node %s without a node name origin: %+v", c.Name, c)
		}
		got = append(got, fmt.Sprintf("%s read-only=%s", c.Name, c.Props["read-only"]))
	}
	want := []string{
		"file read-only=off", "file read-only=on", "file read-only=on",
		"null-co read-only=off", "qcow2 read-only=off", "qcow2 read-only=on",
		"raw read-only=on",
	}
	if diff := cmp.Diff(want, sortedCopy(got)); diff != "" {
		t.Errorf("block nodes (-want +got):\n%s", diff)
	}
	z := nodeNamed(cfg, "z0")
	if z == nil || z.Props["read-zeroes"] != "true" {
		t.Errorf("null-co node = %+v, want read-zeroes from its json: filename", z)
	}
	r := nodeNamed(cfg, "r0")
	if r == nil || !strings.HasPrefix(r.Props["attached-to"], "/machine/peripheral-anon/") {
		t.Errorf("raw node = %+v, want it attached to the virtio-blk-pci", r)
	}
}

func nodeNamed(cfg *vm.Config, name string) *vm.Component {
	for i := range cfg.Components {
		c := &cfg.Components[i]
		if c.Kind == vm.KindBlockDriver && c.Origin != nil && c.Origin.Node == name {
			return c
		}
	}
	return nil
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func TestAuditChardevsAndMonitors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	port := freePort(t)
	cfg := auditVM(t, startVM(t, "x86_64", "-machine", "none", "-accel", "tcg", "-S",
		"-display", "none", "-nodefaults",
		"-chardev", fmt.Sprintf("socket,id=tn,host=127.0.0.1,port=%d,server=on,"+
			"wait=off,telnet=on", port),
		"-chardev", "socket,id=mx,path="+filepath.Join(dir, "mx.sock")+",server=on,"+
			"wait=off,mux=on",
		"-chardev", "pty,id=pt",
		"-chardev", "null,id=nu",
		"-monitor", "unix:"+filepath.Join(dir, "hmp.sock")+",server=on,wait=off"))

	tests := []struct {
		path string
		want map[string]string
	}{
		{"/chardevs/tn", map[string]string{"transport": "tcp", "host": "127.0.0.1",
			"port": fmt.Sprint(port), "server": "on", "telnet": "on"}},
		{"/chardevs/mx-base", map[string]string{"transport": "unix", "server": "on",
			"path": filepath.Join(dir, "mx.sock"), "mux": "on"}},
		{"/chardevs/nu", map[string]string{}},
	}
	for _, tt := range tests {
		c := componentAt(cfg, vm.KindChardev, tt.path)
		if c == nil {
			t.Errorf("no chardev at %s:\n%s", tt.path, describe(cfg))
			continue
		}
		if diff := cmp.Diff(tt.want, c.Props); diff != "" {
			t.Errorf("chardev %s props (-want +got):\n%s", tt.path, diff)
		}
	}

	if pt := componentAt(cfg, vm.KindChardev, "/chardevs/pt"); pt == nil ||
		!strings.HasPrefix(pt.Props["path"], "/dev/pts/") {
		t.Errorf("pty chardev = %+v, want its /dev/pts path", pt)
	}
	if componentAt(cfg, vm.KindChardev, "/chardevs/mx") != nil {
		t.Errorf("the mux of mx is reported apart from its backend")
	}

	qmpMon := findOne(t, cfg, vm.KindMonitor, "qmp")
	if qmpMon.Props["transport"] != "unix" || qmpMon.Props["mode"] != "control" {
		t.Errorf("this connection's monitor = %+v, want QMP on a unix socket", qmpMon)
	}
	other := findOne(t, cfg, vm.KindMonitor, "hmp-or-qmp")
	if other.Props["transport"] != "unix" {
		t.Errorf("-monitor monitor = %+v, want a unix transport", other)
	}
	for i, c := range cfg.Components {
		if c.Kind == vm.KindMonitor && (i == 0 || len(cfg.Components[i-1].Carries) != 1 ||
			cfg.Components[i-1].Carries[0] != i) {
			t.Errorf("monitor %d does not follow the chardev that carries it", i)
		}
	}
}

// componentAt returns the component of kind k at QOM path path, or nil.
func componentAt(cfg *vm.Config, k vm.Kind, path string) *vm.Component {
	for i := range cfg.Components {
		c := &cfg.Components[i]
		if c.Kind == k && c.Origin != nil && c.Origin.QOMPath == path {
			return c
		}
	}
	return nil
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestAuditNetdevs(t *testing.T) {
	t.Parallel()
	cfg := auditVM(t, startVM(t, "x86_64", "-machine", "pc", "-accel", "tcg", "-S",
		"-display", "none", "-nodefaults",
		"-netdev", "user,id=u0", "-device", "virtio-net-pci,netdev=u0",
		"-nic", "user,model=rtl8139",
		"-net", "nic,model=e1000", "-net", "user",
		"-netdev", "hubport,id=hp0,hubid=3",
		"-netdev", "socket,id=so,listen=127.0.0.1:"+fmt.Sprint(freePort(t))))
	var got []string
	for _, c := range cfg.Components {
		if c.Kind == vm.KindNetdev {
			id := c.Props["id"]
			if strings.HasPrefix(id, "#net") {
				id = "#net"
			}
			got = append(got, c.Name+" "+id)
		}
	}
	want := []string{"hubport hp0", "socket so", "user #net", "user #net", "user u0"}
	if diff := cmp.Diff(want, sortedCopy(got)); diff != "" {
		t.Errorf("netdevs (-want +got):\n%s", diff)
	}
	u := findNetdev(cfg, "u0")
	if u == nil || u.Props["net"] != "10.0.2.0" || u.Props["restrict"] != "off" {
		t.Errorf("netdev u0 = %+v, want the user backend's description as props", u)
	}
}

func findNetdev(cfg *vm.Config, id string) *vm.Component {
	for i := range cfg.Components {
		if c := &cfg.Components[i]; c.Kind == vm.KindNetdev && c.Props["id"] == id {
			return c
		}
	}
	return nil
}

func TestParseInfoNetwork(t *testing.T) {
	// The output of QEMU 7.2.22 for -net nic -net user, -nic user,model=rtl8139,
	// -netdev user + virtio-net-pci, an unconnected -netdev hubport and a -netdev socket.
	const text = "hub 0\r\n" +
		" \\ hub0port1: #net274: index=0,type=user,net=10.0.2.0,restrict=off\r\n" +
		" \\ hub0port0: e1000.0: index=0,type=nic,model=e1000,macaddr=52:54:00:12:34:57\r\n" +
		"hub 3\r\n" +
		" \\ hp0\r\n" +
		"rtl8139.0: index=0,type=nic,model=rtl8139,macaddr=52:54:00:12:34:56\r\n" +
		" \\ #net004: index=0,type=user,net=10.0.2.0,restrict=off\r\n" +
		"so: index=0,type=socket,\r\n" +
		"virtio-net-pci.0: index=0,type=nic,model=virtio-net-pci,macaddr=52:54:00:12:34:58\r\n" +
		" \\ n1: index=0,type=tap,ifname=tap0,script=no,downscript=no\r\n" +
		"filters:\r\n" +
		"  - f0: type=filter-dump,file=/tmp/x.pcap\r\n"
	want := []netClient{
		{"#net274", "user", "net=10.0.2.0,restrict=off"},
		{"e1000.0", "nic", "model=e1000,macaddr=52:54:00:12:34:57"},
		{"hp0", "hubport", ""},
		{"rtl8139.0", "nic", "model=rtl8139,macaddr=52:54:00:12:34:56"},
		{"#net004", "user", "net=10.0.2.0,restrict=off"},
		{"so", "socket", ""},
		{"virtio-net-pci.0", "nic", "model=virtio-net-pci,macaddr=52:54:00:12:34:58"},
		{"n1", "tap", "ifname=tap0,script=no,downscript=no"},
	}
	got := parseInfoNetwork(text)
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(netClient{})); diff != "" {
		t.Errorf("parseInfoNetwork (-want +got):\n%s", diff)
	}
}

func TestNetdevProps(t *testing.T) {
	tests := []struct {
		info string
		want map[string]string
	}{
		{"", map[string]string{"id": "n"}},
		{"net=10.0.2.0,restrict=off", map[string]string{"id": "n", "net": "10.0.2.0",
			"restrict": "off"}},
		{"vhost-user to charnet0", map[string]string{"id": "n",
			"info": "vhost-user to charnet0"}},
		{"fd=42", map[string]string{"id": "n", "fd": "42"}},
	}
	for _, tt := range tests {
		got := netdevProps(netClient{name: "n", typ: "tap", info: tt.info})
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("netdevProps(%q) (-want +got):\n%s", tt.info, diff)
		}
	}
}

func TestAuditDisplays(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := auditVM(t, startVM(t, "x86_64", "-machine", "none", "-accel", "tcg", "-S",
		"-display", "none", "-nodefaults",
		"-vnc", "unix:"+filepath.Join(dir, "vnc.sock")+",password=on",
		"-object", "secret,id=vncsecret,data=not-read"))
	v := findOne(t, cfg, vm.KindDisplay, "vnc")
	want := map[string]string{"transport": "unix", "loopback": "on", "password": "on",
		"listen": filepath.Join(dir, "vnc.sock")}
	if diff := cmp.Diff(want, v.Props); diff != "" {
		t.Errorf("VNC props (-want +got):\n%s", diff)
	}
	if got := find(cfg, vm.KindDisplay, "spice"); len(got) != 0 {
		t.Errorf("SPICE reported without -spice: %+v", got)
	}
}

func TestVNCProps(t *testing.T) {
	type listener = struct {
		Host      string `json:"host"`
		Service   string `json:"service"`
		Family    string `json:"family"`
		Websocket bool   `json:"websocket"`
	}
	tests := []struct {
		name string
		s    vncServer
		want map[string]string
	}{
		{"no listener", vncServer{Auth: "none"},
			map[string]string{"transport": "none", "loopback": "on"}},
		{"loopback without auth", vncServer{Auth: "none", Server: []listener{
			{"127.0.0.1", "5900", "ipv4", false}}},
			map[string]string{"transport": "tcp", "loopback": "on",
				"listen": "127.0.0.1:5900"}},
		{"any address with password", vncServer{Auth: "vnc", Server: []listener{
			{"0.0.0.0", "5901", "ipv4", false}}},
			map[string]string{"transport": "tcp", "loopback": "off", "password": "on",
				"listen": "0.0.0.0:5901"}},
		{"x509 with SASL and a websocket", vncServer{Auth: "vencrypt",
			Vencrypt: "x509-sasl", Server: []listener{{"::1", "5900", "ipv6", false},
				{"::1", "5700", "ipv6", true}}},
			map[string]string{"transport": "tcp", "loopback": "off", "websocket": "on",
				"sasl": "on", "tls-creds": "(in use)", "listen": "::1:5900,::1:5700"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, vncProps(tt.s)); diff != "" {
				t.Errorf("vncProps (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAudiodevComponents(t *testing.T) {
	// Audiodev entries as QEMU 10.0's qapi/audio.json defines them: id, driver, and the
	// driver's options, with in and out per direction.
	list := []json.RawMessage{
		json.RawMessage(`{"id": "a0", "driver": "none", "timer-period": 10000, ` +
			`"in": {"voices": 1}, "out": {"voices": 2}}`),
		json.RawMessage(`{"id": "a1", "driver": "pa", "server": "unix:/run/pulse"}`),
	}
	got, err := audiodevComponents(list)
	if err != nil {
		t.Fatal(err)
	}
	want := []vm.Component{
		{Kind: vm.KindAudiodev, Name: "none", Props: map[string]string{"id": "a0",
			"timer-period": "10000", "in.voices": "1", "out.voices": "2"},
			ImpliedBy: "audiodev a0 (query-audiodevs)"},
		{Kind: vm.KindAudiodev, Name: "pa", Props: map[string]string{"id": "a1",
			"server": "unix:/run/pulse"}, ImpliedBy: "audiodev a1 (query-audiodevs)"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("audiodevComponents (-want +got):\n%s", diff)
	}
	if _, err := audiodevComponents([]json.RawMessage{json.RawMessage(`[1]`)}); err == nil ||
		!strings.HasPrefix(err.Error(), "audit: query-audiodevs: ") {
		t.Errorf("invalid entry: error %v, want an audit: query-audiodevs: error", err)
	}
}

func TestAuditObjectsHideSecrets(t *testing.T) {
	t.Parallel()
	const secret = "do-not-read-this-secret"
	cfg := auditVM(t, startVM(t, "x86_64", "-machine", "q35", "-accel", "tcg", "-S",
		"-display", "none", "-nodefaults",
		"-object", "secret,id=s0,data="+secret,
		"-object", "tls-creds-anon,id=t0,endpoint=server,verify-peer=off",
		"-object", "iothread,id=io0",
		"-object", "rng-random,id=rng0,filename=/dev/urandom",
		"-device", "virtio-rng-pci"))
	if data, _ := json.Marshal(cfg); strings.Contains(string(data), secret) {
		t.Fatalf("the audit read a secret's data: %s", data)
	}
	s := findOne(t, cfg, vm.KindObject, "secret")
	if s.Props["data"] == "" || s.Props["id"] != "s0" {
		t.Errorf("secret = %+v, want data marked as given inline and id s0", s)
	}
	tls := findOne(t, cfg, vm.KindObject, "tls-creds-anon")
	if tls.Props["verify-peer"] != "off" || tls.Props["endpoint"] != "server" {
		t.Errorf("tls-creds-anon = %+v, want verify-peer off, endpoint server", tls)
	}
	findOne(t, cfg, vm.KindObject, "iothread")
	findOne(t, cfg, vm.KindObject, "rng-random")
	b := findOne(t, cfg, vm.KindObject, "rng-builtin")
	if b.Parent != "virtio-rng-pci" && b.Parent != "virtio-rng-device" {
		t.Errorf("rng-builtin parent %q, want the virtio-rng device that created it",
			b.Parent)
	}
}

func TestAuditAarch64Virt(t *testing.T) {
	t.Parallel()
	cfg := auditVM(t, startVM(t, "aarch64", "-machine", "virt", "-accel", "tcg", "-S",
		"-display", "none", "-nodefaults"))
	if cfg.Target != "aarch64" {
		t.Errorf("target %q, want aarch64", cfg.Target)
	}
	findOne(t, cfg, vm.KindCPU, "cortex-a15")
	for _, name := range []string{"pl011", "arm_gic", "gpex-pcihost", "fw_cfg_mem"} {
		if d := findOne(t, cfg, vm.KindDevice, name); !d.Board {
			t.Errorf("device %s not marked board", name)
		}
	}
	if got := len(find(cfg, vm.KindDevice, "virtio-mmio")); got != 32 {
		t.Errorf("%d virtio-mmio transports, want 32", got)
	}
	ram := findOne(t, cfg, vm.KindObject, "memory-backend-ram")
	if ram.Origin.QOMPath != "/objects/mach-virt.ram" || ram.Board {
		t.Errorf("RAM backend = %+v, want /objects/mach-virt.ram, not board", ram)
	}
}

// readOnlyCommands are the commands an audit may send.
var readOnlyCommands = map[string]bool{
	"qmp_capabilities": true, "query-commands": true, "query-target": true,
	"qom-list-types": true, "qom-list": true, "qom-get": true, "query-machines": true,
	"query-kvm": true, "x-query-jit": true, "query-chardev": true,
	"human-monitor-command": true, "query-named-block-nodes": true, "query-block": true,
	"query-display-options": true, "query-vnc-servers": true, "query-spice": true,
	"query-tpm": true, "query-audiodevs": true,
}

func TestAuditSendsOnlyQueries(t *testing.T) {
	t.Parallel()
	p := startVM(t, "x86_64", "-machine", "q35", "-accel", "tcg", "-S", "-display", "none")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var before, after struct {
		Status string `json:"status"`
	}
	if err := p.Conn.Execute(ctx, "query-status", nil, &before); err != nil {
		t.Fatal(err)
	}
	p.Conn.Close()

	proxy, sent := recordingProxy(t, p.Socket)
	conn, err := qmp.Dial(ctx, proxy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Audit(ctx, conn, Options{Socket: p.Socket}); err != nil {
		t.Fatal(err)
	}
	if err := conn.Execute(ctx, "query-status", nil, &after); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	cmds := sent()
	t.Logf("the audit of a default q35 VM sent %d commands", len(cmds))
	for _, c := range cmds {
		if !readOnlyCommands[c.Execute] && c.Execute != "query-status" {
			t.Errorf("audit sent %s, which is not a known query", c.Execute)
		}
		if c.Execute == "human-monitor-command" && c.Arguments["command-line"] != "info network" {
			t.Errorf("audit sent HMP %q", c.Arguments["command-line"])
		}
		if c.Execute == "qom-get" && c.Arguments["property"] == "data" {
			t.Errorf("audit read a data property: %v", c.Arguments)
		}
	}
	if before.Status != "prelaunch" || after.Status != before.Status {
		t.Errorf("run state %q before, %q after; want prelaunch both times", before.Status,
			after.Status)
	}
}

// sentCommand is one command a client sent through recordingProxy.
type sentCommand struct {
	Execute   string         `json:"execute"`
	Arguments map[string]any `json:"arguments"`
}

// recordingProxy listens on a new socket and relays one client to the QMP socket target,
// recording every command the client sends. sent returns them once the client has gone.
func recordingProxy(t *testing.T, target string) (string, func() []sentCommand) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "proxy.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	done := make(chan []sentCommand, 1)
	go func() {
		client, err := l.Accept()
		if err != nil {
			done <- nil
			return
		}
		defer client.Close()
		server, err := net.Dial("unix", target)
		if err != nil {
			done <- nil
			return
		}
		defer server.Close()
		go relay(client, server)
		var cmds []sentCommand
		dec := json.NewDecoder(client)
		enc := json.NewEncoder(server)
		for {
			var raw json.RawMessage
			if dec.Decode(&raw) != nil {
				break
			}
			var c sentCommand
			json.Unmarshal(raw, &c)
			cmds = append(cmds, c)
			if enc.Encode(raw) != nil {
				break
			}
		}
		done <- cmds
	}()
	return path, func() []sentCommand {
		select {
		case cmds := <-done:
			return cmds
		case <-time.After(10 * time.Second):
			t.Fatal("the proxy did not finish")
			return nil
		}
	}
}

func relay(dst, src net.Conn) {
	buf := make([]byte, 64*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func TestAuditNotASystemEmulator(t *testing.T) {
	t.Parallel()
	qsd, err := exec.LookPath("qemu-storage-daemon")
	if err != nil {
		t.Skip("qemu-storage-daemon not installed")
	}
	sock := filepath.Join(t.TempDir(), "qsd.sock")
	cmd := exec.Command(qsd, "--chardev", "socket,id=c0,path="+sock+",server=on,wait=off",
		"--monitor", "chardev=c0")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var conn *qmp.Conn
	for conn == nil {
		if conn, err = qmp.Dial(ctx, sock); err != nil && ctx.Err() != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	defer conn.Close()
	_, err = Audit(ctx, conn, Options{Socket: sock})
	if err == nil || !strings.Contains(err.Error(), "not a QEMU system emulator") ||
		!strings.HasPrefix(err.Error(), "audit: ") {
		t.Errorf("Audit of qemu-storage-daemon: %v, want an audit: error saying it is "+
			"not a system emulator", err)
	}
}

func TestLessPath(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"/machine/unattached/device[2]", "/machine/unattached/device[10]", true},
		{"/machine/unattached/device[10]", "/machine/unattached/device[2]", false},
		{"/machine/q35", "/machine/q35/ioapic", true},
		{"/machine/fw_cfg", "/machine/q35", true},
		{"/machine/unattached/device[3]/a", "/machine/unattached/device[3]/b", true},
	}
	for _, tt := range tests {
		if got := lessPath(tt.a, tt.b); got != tt.want {
			t.Errorf("lessPath(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestCPUModel(t *testing.T) {
	for typ, want := range map[string]string{
		"qemu64-x86_64-cpu":            "qemu64",
		"cortex-a15-arm-cpu":           "cortex-a15",
		"Skylake-Client-v4-x86_64-cpu": "Skylake-Client-v4",
		"max-x86_64-cpu":               "max",
	} {
		if got := cpuModel(typ); got != want {
			t.Errorf("cpuModel(%q) = %q, want %q", typ, got, want)
		}
	}
}
