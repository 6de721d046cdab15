package domxml

import (
	"fmt"

	"libvirt.org/go/libvirtxml"
)

// buildHostdevs emits assigned host devices (qemuBuildHostdevCommandLine).
func (b *builder) buildHostdevs() {
	for i := range b.devs().Hostdevs {
		h := &b.devs().Hostdevs[i]
		path := fmt.Sprintf("/domain/devices/hostdev[%d]", i+1)
		id := fmt.Sprintf("hostdev%d", i)
		if h.Address != nil && h.Address.Unassigned != nil {
			// libvirt detaches the device from the host but gives it to no guest bus.
			continue
		}
		switch {
		case h.SubsysPCI != nil:
			b.device(path, b.pciHostdevDriver(h.SubsysPCI.Driver), "id", id)
		case h.SubsysUSB != nil:
			b.device(path, "usb-host", "id", id)
		case h.SubsysSCSI != nil:
			b.scsiHostdev(path, h.SubsysSCSI, id)
		case h.SubsysSCSIHost != nil:
			b.device(path, "vhost-scsi-"+b.virtioBus(path, toAddr(h.Address))+
				b.transitional(h.SubsysSCSIHost.Model), "id", id)
		case h.SubsysMDev != nil:
			b.mdevHostdev(path, h.SubsysMDev, h.Address, id)
		default:
			b.errorf(path, "host device mode %q type %q is not supported by QEMU",
				b.idx.attr(path, "mode"), b.typeAttr(path))
		}
	}
}

// pciHostdevDriver returns the QEMU device of an assigned PCI device. libvirt 6 and
// later assign with VFIO only. libvirt 5.6 took legacy KVM assignment (pci-assign) for
// <driver name='kvm'/>, and by default when QEMU has no vfio-pci device.
func (b *builder) pciHostdevDriver(d *libvirtxml.DomainHostdevSubsysPCIDriver) string {
	if b.libvirtAtLeast(6, 0) {
		return "vfio-pci"
	}
	name := ""
	if d != nil {
		name = d.Name
	}
	switch {
	case name == "kvm":
		return "pci-assign"
	case name == "" && !b.has("vfio-pci", true):
		return "pci-assign"
	}
	return "vfio-pci"
}

// scsiHostdev emits the block node and the scsi-generic device of an assigned SCSI device.
func (b *builder) scsiHostdev(path string, s *libvirtxml.DomainHostdevSubsysSCSI, id string) {
	node := "libvirt-" + id + "-backend"
	iscsi := s.Source != nil && s.Source.ISCSI != nil
	if b.usesDrive() {
		// Before -blockdev, libvirt opened the device with -drive and a raw format.
		node = "drive-" + id
		file := []string{"file.driver", "host_device"}
		if iscsi {
			file = []string{"file.driver", "iscsi"}
			if s.Source.ISCSI.Auth != nil && b.has("secret", b.qemuAtLeast(2, 6)) {
				b.object(path+"/source", "secret", "id", id+"-secret0")
			}
		}
		b.emit(path+"/source", "-drive", kv("", append(file, "format", "raw", "if", "none",
			"id", node)...))
		b.device(path, "scsi-generic", "drive", node, "id", id)
		return
	}
	if iscsi {
		b.emit(path+"/source", "-blockdev", kv("", "driver", "iscsi", "node-name", node))
		if s.Source.ISCSI.Auth != nil {
			b.object(path+"/source", "secret", "id", id+"-secret0")
		}
	} else {
		b.emit(path+"/source", "-blockdev", kv("", "driver", "host_device", "node-name", node))
	}
	b.device(path, "scsi-generic", "drive", node, "id", id)
}

// mdevHostdev emits a mediated device: vfio-pci, vfio-ccw or vfio-ap by its model.
func (b *builder) mdevHostdev(path string, m *libvirtxml.DomainHostdevSubsysMDev,
	addr *libvirtxml.DomainAddress, id string) {
	drv := map[string]string{"vfio-pci": "vfio-pci", "vfio-ccw": "vfio-ccw",
		"vfio-ap": "vfio-ap"}[m.Model]
	if drv == "vfio-pci" && m.RamFB == "on" {
		// A ramfb display cannot be unplugged (qemuBuildHostdevMediatedDevProps).
		drv = "vfio-pci-nohotplug"
	}
	if drv == "" {
		b.errorf(path, "unknown mediated device model %q", m.Model)
		return
	}
	b.device(path, drv, "id", id)
}

// buildMemballoon emits the balloon device, libvirt's default one included.
func (b *builder) buildMemballoon() {
	m := b.dev.balloon
	switch m {
	case "", "none", "xen":
		return
	case "virtio", "virtio-transitional", "virtio-non-transitional":
		if !b.libvirtAtLeast(6, 0) && isS390(b.arch) && !b.isS390CCW() {
			// libvirt 5.6 wrote no balloon device for the s390-virtio machine.
			return
		}
	default:
		b.errorf(b.dev.balloonPath, "unknown memory balloon model %q", m)
		return
	}
	var addr *addrInfo
	if mb := b.devs().MemBalloon; mb != nil {
		addr = toAddr(mb.Address)
	}
	t := tag{path: b.dev.balloonPath, implied: b.dev.balloonWhy, key: balloonKey}
	drv := "virtio-balloon-" + b.virtioBus(balloonKey, addr) + b.transitional(m)
	b.emitTagged(t, "-device", kv(drv, "id", "balloon0"))
}

// buildRNGs emits random number generators with their backends (qemuBuildRNGCommandLine).
func (b *builder) buildRNGs() {
	for i, r := range b.devs().RNGs {
		path := fmt.Sprintf("/domain/devices/rng[%d]", i+1)
		id := fmt.Sprintf("objrng%d", i)
		be := r.Backend
		switch {
		case be == nil:
			b.errorf(path, "missing <backend>")
			continue
		case be.Random != nil:
			b.object(path+"/backend", "rng-random", "id", id, "filename", be.Random.Device)
		case be.EGD != nil:
			chr := fmt.Sprintf("charrng%d", i)
			src := &libvirtxml.DomainChardevSource{TCP: be.EGD.Source.TCP,
				UDP: be.EGD.Source.UDP, UNIX: be.EGD.Source.UNIX, File: be.EGD.Source.File,
				Pipe: be.EGD.Source.Pipe, Pty: be.EGD.Source.Pty, Dev: be.EGD.Source.Dev,
				Null: be.EGD.Source.Null, StdIO: be.EGD.Source.StdIO, VC: be.EGD.Source.VC,
				SpiceVMC: be.EGD.Source.SpiceVMC, SpicePort: be.EGD.Source.SpicePort}
			if !b.chardev(path+"/backend", src, be.EGD.Protocol, chr, false) {
				continue
			}
			b.object(path+"/backend", "rng-egd", "id", id, "chardev", chr)
		case be.BuiltIn != nil:
			b.object(path+"/backend", "rng-builtin", "id", id)
		default:
			b.errorf(path+"/backend", "unknown RNG backend model %q",
				b.idx.attr(path+"/backend", "model"))
			continue
		}
		if r.Model != "virtio" && r.Model != "virtio-transitional" &&
			r.Model != "virtio-non-transitional" {
			b.errorf(path, "unknown RNG model %q", r.Model)
			continue
		}
		b.device(path, "virtio-rng-"+b.virtioBus(path, toAddr(r.Address))+
			b.transitional(r.Model), "rng", id)
	}
}

// buildSGA emits the serial graphics adapter that libvirt 5.6 added for
// <bios useserial='yes'> on x86; current libvirt adds no device for it.
func (b *builder) buildSGA() {
	if os := b.dom.OS; !b.libvirtAtLeast(6, 0) && isX86(b.arch) && os.BIOS != nil &&
		os.BIOS.UseSerial == "yes" {
		b.device("/domain/os/bios", "sga")
	}
}

// buildVMGenID emits the VM generation ID device of <genid>.
func (b *builder) buildVMGenID() {
	if b.dom.GenID != nil {
		b.device("/domain/genid", "vmgenid")
	}
}

// buildPRManager emits the persistent-reservation helpers of SCSI disks with
// <reservations>: one helper that libvirt starts for all disks with managed='yes', and a
// helper object per disk that names its own socket (qemuBuildPRManagerInfoProps).
func (b *builder) buildPRManager() {
	managed := false
	for i := range b.devs().Disks {
		s := b.devs().Disks[i].Source
		if s == nil || s.Reservations == nil || s.Reservations.Enabled == "no" {
			continue
		}
		path := fmt.Sprintf("/domain/devices/disk[%d]/source/reservations", i+1)
		if s.Reservations.Managed == "yes" {
			if !managed {
				b.emitImplied("libvirt's managed persistent-reservation helper", "-object",
					kv("pr-manager-helper", "id", "pr-helper0", "path",
						"/var/lib/libvirt/qemu/domain-"+b.dom.Name+"/pr-helper0.sock"))
			}
			managed = true
			continue
		}
		sock := ""
		if src := s.Reservations.Source; src != nil && src.UNIX != nil {
			sock = src.UNIX.Path
		}
		b.object(path, "pr-manager-helper", "id", fmt.Sprintf("pr-helper-libvirt-%d-storage",
			len(b.devs().Disks)-i), "path", sock)
	}
}

// buildNVRAM emits the register of the pSeries NVRAM, which the machine creates
// (qemuBuildNVRAMCommandLine).
func (b *builder) buildNVRAM() {
	nv := b.devs().NVRAM
	if nv == nil {
		return
	}
	reg := uint64(0)
	if nv.Address != nil && nv.Address.SpaprVIO != nil && nv.Address.SpaprVIO.Reg != nil {
		reg = *nv.Address.SpaprVIO.Reg
	}
	b.emit("/domain/devices/nvram", "-global", fmt.Sprintf("spapr-nvram.reg=0x%x", reg))
}

// buildVMCoreInfo emits the vmcoreinfo device of <features><vmcoreinfo/>.
func (b *builder) buildVMCoreInfo() {
	if f := b.dom.Features; f != nil && f.VMCoreInfo != nil && f.VMCoreInfo.State != "off" {
		b.device("/domain/features/vmcoreinfo", "vmcoreinfo")
	}
}

// buildLaunchSecurity emits the confidential-guest object of <launchSecurity>.
func (b *builder) buildLaunchSecurity() {
	ls := b.dom.LaunchSecurity
	if ls == nil {
		return
	}
	path := "/domain/launchSecurity"
	switch {
	case ls.SEV != nil:
		b.object(path, "sev-guest", "id", "lsec0")
	case ls.SEVSNP != nil:
		b.object(path, "sev-snp-guest", "id", "lsec0")
	case ls.TDX != nil:
		b.object(path, "tdx-guest", "id", "lsec0")
	case ls.S390PV != nil:
		b.object(path, "s390-pv-guest", "id", "lsec0")
	default:
		b.errorf(path, "unknown launch security type %q", b.typeAttr(path))
	}
}

// buildCommandline appends the qemu:commandline arguments as libvirt passes them, so that
// the command-line parser judges them; an unknown option is an error there.
func (b *builder) buildCommandline() {
	if o := b.dom.QEMUOverride; o != nil && len(o.Devices) > 0 {
		// libvirt applies these to the -device properties it writes. One can replace a
		// device's driver, so a report without them could call the wrong device secure.
		b.errorf("/domain/qemu:override", "qemu:override changes properties of the devices "+
			"libvirt writes, which qscope does not apply; remove it, or check the command "+
			"line libvirt generates (virsh domxml-to-native qemu-argv) with --file")
	}
	if b.dom.QEMUCapabilities != nil {
		b.notes = append(b.notes, "qemu:capabilities changes which device models libvirt picks; the "+
			"report follows libvirt's choice for an unchanged QEMU")
	}
	cl := b.dom.QEMUCommandline
	if cl == nil {
		return
	}
	for i, a := range cl.Args {
		path := fmt.Sprintf("/domain/qemu:commandline/qemu:arg[%d]", i+1)
		if len(b.argv) == 0 {
			b.emit(path, a.Value)
			continue
		}
		b.argv = append(b.argv, a.Value)
		b.tags = append(b.tags, tag{path: path})
	}
}

// buildPanics emits panic devices; pSeries, s390 and Hyper-V panics need none.
func (b *builder) buildPanics() {
	for _, p := range b.dev.panics {
		t := tag{path: p.path, implied: p.implied, key: p.key()}
		switch p.model {
		case "isa":
			b.emitTagged(t, "-device", "pvpanic")
		case "pvpanic":
			b.emitTagged(t, "-device", "pvpanic-pci")
		case "pseries", "s390", "hyperv":
		default:
			b.errorf(p.path, "panic model %q is not supported for machine %s", p.model,
				b.machine)
		}
	}
}

// buildShmems emits shared memory devices (qemuBuildShmemCommandLine).
func (b *builder) buildShmems() {
	for i, s := range b.devs().Shmems {
		path := fmt.Sprintf("/domain/devices/shmem[%d]", i+1)
		model := "ivshmem-plain"
		if s.Model != nil && s.Model.Type != "" {
			model = s.Model.Type
		}
		id := fmt.Sprintf("shmem%d", i)
		switch model {
		case "ivshmem-plain":
			b.object(path, "memory-backend-file", "id", "shmmem-"+id, "share", "on")
			b.device(path, "ivshmem-plain", "memdev", "shmmem-"+id)
		case "ivshmem-doorbell", "ivshmem":
			sock := "/var/lib/libvirt/shmem-" + s.Name + "-sock"
			if s.Server != nil && s.Server.Path != "" {
				sock = s.Server.Path
			}
			b.emit(path, "-chardev", kv("socket", "id", "char"+id, "path", sock))
			b.device(path, model, "chardev", "char"+id)
		default:
			b.errorf(path+"/model", "unknown shmem model %q", model)
		}
	}
}

// buildVsock emits the vhost-vsock device.
func (b *builder) buildVsock() {
	v := b.devs().VSock
	if v == nil {
		return
	}
	path := "/domain/devices/vsock"
	b.device(path, "vhost-vsock-"+b.virtioBus(path, toAddr(v.Address))+b.transitional(v.Model))
}

// buildCrypto emits virtio-crypto devices with their backends.
func (b *builder) buildCrypto() {
	for i, c := range b.devs().Crypto {
		path := fmt.Sprintf("/domain/devices/crypto[%d]", i+1)
		id := fmt.Sprintf("objcrypto%d", i)
		backend := ""
		if c.Backend != nil {
			switch {
			case c.Backend.BuiltIn != nil:
				backend = "cryptodev-backend-builtin"
			case c.Backend.LKCF != nil:
				backend = "cryptodev-backend-lkcf"
			}
		}
		if backend == "" || c.Model != "virtio" {
			b.errorf(path, "unknown crypto model %q or backend", c.Model)
			continue
		}
		b.object(path+"/backend", backend, "id", id)
		b.device(path, "virtio-crypto-"+b.virtioBus(path, toAddr(c.Address)), "cryptodev", id)
	}
}

// buildPstore emits the ACPI ERST device of <pstore backend='acpi-erst'>.
func (b *builder) buildPstore() {
	p := b.devs().PStore
	if p == nil {
		return
	}
	path := "/domain/devices/pstore"
	if p.Backend != "acpi-erst" {
		b.errorf(path, "unknown pstore backend %q", p.Backend)
		return
	}
	b.object(path, "memory-backend-file", "id", "pstore0", "mem-path", p.Path)
	b.device(path, "acpi-erst", "memdev", "pstore0")
}
