package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// hookDomain is a TCG domain with a virtio disk and NIC, as virsh define would take it.
const hookDomain = `<domain type='qemu'>
  <name>vm1</name>
  <memory unit='MiB'>256</memory>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/vm1.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='user'><model type='virtio'/></interface>
    <memballoon model='none'/>
  </devices>
</domain>`

// hookDomainNE2K adds the ne2k_pci NIC, which the default catalog declares insecure.
var hookDomainNE2K = strings.Replace(hookDomain, "<memballoon",
	"<interface type='user'><model type='ne2k_pci'/></interface>\n    <memballoon", 1)

// writeConfig writes a hook configuration and points QSCOPE_CONFIG at it.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("QSCOPE_CONFIG", path)
	return path
}

func TestLibvirtHook(t *testing.T) {
	dir := t.TempDir()
	site := filepath.Join(dir, "site.yaml")
	err := os.WriteFile(site, []byte("schema: 1\nentries:\n  - kind: device\n    name: ne2k_pci\n"+
		"    status: secure\n    reason: test decision\n    source: this test\n"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		config   string // "" leaves QSCOPE_CONFIG pointing at a missing file
		args     []string
		stdin    string
		wantCode int
		wantErr  string
	}{
		{"start of other operation passes", "level: accept\n",
			[]string{"vm1", "start", "begin", "-"}, "not xml", ExitAllowed, ""},
		{"release passes with broken config", "level: [",
			[]string{"vm1", "release", "end", "-"}, hookDomain, ExitAllowed, ""},
		{"prepare allowed at accept", "level: accept\n",
			[]string{"vm1", "prepare", "begin", "-"}, hookDomain, ExitAllowed, ""},
		{"prepare rejected by default level", "",
			[]string{"vm1", "prepare", "begin", "-"}, hookDomain, ExitRejected,
			"qscope: domain vm1 rejected at level require-secure: "},
		{"insecure NIC named", "level: prohibit-insecure\n",
			[]string{"vm1", "prepare", "begin", "-"}, hookDomainNE2K, ExitRejected,
			"device ne2k_pci (insecure)"},
		{"site catalog decides", "level: prohibit-insecure\ncatalogs: [" + site + "]\n",
			[]string{"vm1", "prepare", "begin", "-"},
			strings.Replace(hookDomainNE2K, "type='qemu'", "type='kvm'", 1), ExitAllowed, ""},
		{"broken YAML rejects", "level: [",
			[]string{"vm1", "prepare", "begin", "-"}, hookDomain, ExitInvalid,
			"every start is rejected until the configuration is fixed"},
		{"unknown field rejects", "levle: accept\n",
			[]string{"vm1", "prepare", "begin", "-"}, hookDomain, ExitInvalid,
			"field levle not found"},
		{"second document rejects", "level: require-secure\n---\nlevel: accept\n",
			[]string{"vm1", "prepare", "begin", "-"}, hookDomain, ExitInvalid,
			"more than one YAML document"},
		{"invalid level rejects", "level: strict\n",
			[]string{"vm1", "prepare", "begin", "-"}, hookDomain, ExitInvalid,
			`invalid level "strict"`},
		{"missing catalog rejects", "catalogs: [/nonexistent/site.yaml]\n",
			[]string{"vm1", "prepare", "begin", "-"}, hookDomain, ExitInvalid,
			"/nonexistent/site.yaml"},
		{"profile cache without emulators", "profile_cache: " + dir + "/cache\n",
			[]string{"vm1", "prepare", "begin", "-"}, hookDomain, ExitInvalid,
			"emulators lists no binary"},
		{"emulators without profile cache", "emulators: [/usr/bin/qemu-system-x86_64]\n",
			[]string{"vm1", "prepare", "begin", "-"}, hookDomain, ExitInvalid,
			"profile_cache is not set"},
		{"relative profile cache", "profile_cache: cache\nemulators: [/usr/bin/qemu]\n",
			[]string{"vm1", "prepare", "begin", "-"}, hookDomain, ExitInvalid,
			"not an absolute path"},
		{"profile cache is a file", "profile_cache: " + site + "\nemulators: [/usr/bin/q]\n",
			[]string{"vm1", "prepare", "begin", "-"}, hookDomain, ExitInvalid,
			"not a directory"},
		{"invalid XML rejects", "level: accept\n",
			[]string{"vm1", "prepare", "begin", "-"}, "<domain type='qemu'>", ExitInvalid,
			"domain vm1: domxml: "},
		{"missing operation", "level: accept\n", []string{"vm1"}, "", ExitInvalid,
			"needs at least DOMAIN and OPERATION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.config != "" {
				writeConfig(t, tt.config)
			} else {
				t.Setenv("QSCOPE_CONFIG", filepath.Join(t.TempDir(), "absent.yaml"))
			}
			code, out, errOut := run(t, tt.stdin, append([]string{"libvirt-hook"},
				tt.args...)...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, errOut)
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
			if !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", errOut, tt.wantErr)
			}
			if strings.Count(errOut, "\n") > 1 {
				t.Errorf("stderr has %d lines, want at most one", strings.Count(errOut, "\n"))
			}
		})
	}
}

// TestLibvirtHookProfileCache judges domains against their emulator, a real QEMU, with
// profile_cache set. The profile is written once and then read from the cache.
func TestLibvirtHookProfileCache(t *testing.T) {
	qemu := installedQEMU(t)
	cache := t.TempDir()
	writeConfig(t, "level: accept\nprofile_cache: "+cache+"\nemulators: ["+qemu+
		", /nonexistent/qemu]\n")
	domain := strings.Replace(hookDomain, "/usr/bin/qemu-system-x86_64", qemu, 1)
	tests := []struct {
		name     string
		xml      string
		wantCode int
		wantErr  string
	}{
		{"profile made", domain, ExitAllowed, ""},
		{"profile cached", domain, ExitAllowed, ""},
		{"type the binary lacks", strings.Replace(domain, "<model type='virtio'/>",
			"<model type='no-such-nic'/>", 1), ExitInvalid, "no-such-nic"},
		{"emulator missing", strings.Replace(domain, qemu, "/nonexistent/qemu", 1),
			ExitInvalid, "profiling emulator /nonexistent/qemu"},
		{"no emulator", strings.Replace(domain, "<emulator>"+qemu+"</emulator>", "", 1),
			ExitInvalid, "names no <emulator>"},
		{"emulator not listed", strings.Replace(domain, qemu, "/tmp/qemu", 1), ExitInvalid,
			"emulator /tmp/qemu is not listed under emulators"},
	}
	var firstWrite time.Time
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := run(t, tt.xml, "libvirt-hook", "vm1", "prepare", "begin", "-")
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, errOut)
			}
			if !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", errOut, tt.wantErr)
			}
			files, err := filepath.Glob(filepath.Join(cache, "*"))
			if err != nil || len(files) != 1 {
				t.Fatalf("cache holds %v (%v), want one profile", files, err)
			}
			info, err := os.Stat(files[0])
			if err != nil {
				t.Fatal(err)
			}
			if firstWrite.IsZero() {
				firstWrite = info.ModTime()
			} else if !info.ModTime().Equal(firstWrite) {
				t.Errorf("the cached profile was rewritten at %v", info.ModTime())
			}
		})
	}
}

// TestLibvirtHookGarbageEmulator checks the one stderr line libvirt shows when a listed
// emulator prints terminal escapes and fails: no control characters reach it.
func TestLibvirtHookGarbageEmulator(t *testing.T) {
	dir := t.TempDir()
	emulator := filepath.Join(dir, "qemu-garbage")
	script := "#!/bin/sh\n" +
		"if [ \"$1\" = --version ]; then echo 'QEMU emulator version 7.2.22'; exit 0; fi\n" +
		"printf 'ga\\033[31mrb\\007age\\n\\n%s\\n' \"$(seq 5000)\" >&2\nexit 3\n"
	if err := os.WriteFile(emulator, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	writeConfig(t, "level: accept\nprofile_cache: "+filepath.Join(dir, "cache")+
		"\nemulators: ["+emulator+"]\n")
	xml := strings.Replace(hookDomain, "/usr/bin/qemu-system-x86_64", emulator, 1)
	code, _, errOut := run(t, xml, "libvirt-hook", "vm1", "prepare", "begin", "-")
	if code != ExitInvalid {
		t.Errorf("exit code = %d, want %d (stderr %q)", code, ExitInvalid, errOut)
	}
	line := strings.TrimSuffix(errOut, "\n")
	if strings.ContainsAny(line, "\x1b\x07\n") {
		t.Errorf("stderr carries control characters: %q", errOut)
	}
	if len(line) > maxHookMessage+len("qscope:  ...") {
		t.Errorf("stderr line has %d bytes, want at most about %d", len(line), maxHookMessage)
	}
	if !strings.Contains(line, "profiling emulator "+emulator) {
		t.Errorf("stderr = %q, want it to name the emulator", line)
	}
}

func TestHookConfigPathDefault(t *testing.T) {
	t.Setenv("QSCOPE_CONFIG", "")
	if got := hookConfigPath(); got != DefaultHookConfig {
		t.Errorf("hookConfigPath() = %q, want %q", got, DefaultHookConfig)
	}
}

// TestLibvirtHookRealLibvirtd runs scripts/libvirt-hook-test.sh, which starts libvirtd,
// installs the hook in /etc/libvirt/hooks and starts a rejected and an accepted TCG
// domain. It changes /etc, so it runs only with QSCOPE_LIBVIRT_TEST=1, as root, with
// libvirtd installed.
func TestLibvirtHookRealLibvirtd(t *testing.T) {
	if os.Getenv("QSCOPE_LIBVIRT_TEST") != "1" {
		t.Skip("set QSCOPE_LIBVIRT_TEST=1 to run libvirtd with the hook (changes /etc/libvirt/hooks)")
	}
	if _, err := os.Stat("/usr/sbin/libvirtd"); err != nil {
		t.Skip("libvirtd is not installed: apt-get install libvirt-daemon-system qemu-system-x86")
	}
	if os.Geteuid() != 0 {
		t.Skip("libvirtd's qemu:///system needs root")
	}
	out, err := exec.Command("bash", "../scripts/libvirt-hook-test.sh").CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("scripts/libvirt-hook-test.sh: %v", err)
	}
}
