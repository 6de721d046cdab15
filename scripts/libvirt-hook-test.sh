#!/bin/bash
# Start a private libvirtd, install "qscope libvirt-hook" as its QEMU hook and show that
# a TCG domain the level rejects fails to start with qscope's message while an accepted
# one starts. Needs root, Debian's libvirt-daemon-system and qemu-system-x86.
# libvirt reads hooks only from /etc/libvirt/hooks, so the script installs the hook there
# and removes it again on exit.
set -euo pipefail

cd "$(dirname "$0")/.."
work=$(mktemp -d)
hook=/etc/libvirt/hooks/qemu
pid=""
logpid=""
cleanup() {
	virsh -c qemu:///system destroy qscope-ok >/dev/null 2>&1 || true
	for d in qscope-ok qscope-bad; do
		virsh -c qemu:///system undefine "$d" >/dev/null 2>&1 || true
	done
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
	if [ -n "$logpid" ]; then kill "$logpid" 2>/dev/null || true; fi
	rm -f "$hook"
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/qscope" ./cmd/qscope
cat >"$work/config.yaml" <<YAML
level: prohibit-insecure
catalogs: [$work/site.yaml]
profile_cache: $work/profiles
emulators: [/usr/bin/qemu-system-x86_64]
YAML
# The site catalog accepts TCG for this test, so that only the insecure NIC decides.
cat >"$work/site.yaml" <<YAML
schema: 1
entries:
  - kind: accel
    name: tcg-accel
    status: secure
    reason: test host without KVM; TCG accepted for this test only
    source: scripts/libvirt-hook-test.sh
YAML
mkdir -p /etc/libvirt/hooks
cat >"$hook" <<SH
#!/bin/sh
QSCOPE_CONFIG=$work/config.yaml exec $work/qscope libvirt-hook "\$@"
SH
chmod 755 "$hook"

# libvirtd logs QEMU's output through virtlogd.
/usr/sbin/virtlogd --pid-file "$work/virtlogd.pid" >"$work/virtlogd.log" 2>&1 &
logpid=$!
/usr/sbin/libvirtd --pid-file "$work/libvirtd.pid" >"$work/libvirtd.log" 2>&1 &
pid=$!
for _ in $(seq 50); do
	virsh -c qemu:///system version >/dev/null 2>&1 && break
	sleep 0.2
done

domain() { # NAME NIC-MODEL
	cat <<XML
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <interface type='user'><model type='$2'/></interface>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
XML
}
domain qscope-bad ne2k_pci >"$work/bad.xml"
domain qscope-ok virtio >"$work/ok.xml"
virsh -c qemu:///system define "$work/bad.xml" >/dev/null
virsh -c qemu:///system define "$work/ok.xml" >/dev/null

status=0
if out=$(virsh -c qemu:///system start qscope-bad 2>&1); then
	echo "FAIL: qscope-bad started"; status=1
elif grep -q "rejected at level prohibit-insecure: device ne2k_pci (insecure)" <<<"$out"; then
	echo "ok: qscope-bad rejected: $out"
else
	echo "FAIL: qscope-bad failed without qscope's message: $out"; status=1
fi
if out=$(virsh -c qemu:///system start qscope-ok 2>&1); then
	echo "ok: qscope-ok started"
else
	echo "FAIL: qscope-ok did not start: $out"; status=1
fi
# The hook judged both domains against their emulator's profile.
if compgen -G "$work/profiles/*" >/dev/null; then
	echo "ok: emulator profiled into $work/profiles"
else
	echo "FAIL: no emulator profile in $work/profiles"; status=1
fi
exit $status
