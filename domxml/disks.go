package domxml

import (
	"fmt"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// networkDrivers maps <source protocol> of network disks to QEMU block drivers.
var networkDrivers = map[string]string{
	"nbd": "nbd", "rbd": "rbd", "sheepdog": "sheepdog", "gluster": "gluster",
	"iscsi": "iscsi", "http": "http", "https": "https", "ftp": "ftp", "ftps": "ftps",
	"tftp": "tftp", "ssh": "ssh", "vxhs": "vxhs", "nfs": "nfs",
}

// formats maps <driver type> to QEMU format drivers; iso is rejected as libvirt does.
var formats = map[string]string{
	"raw": "raw", "qcow2": "qcow2", "qcow": "qcow", "qed": "qed", "vmdk": "vmdk",
	"vdi": "vdi", "vpc": "vpc", "vhdx": "vhdx", "bochs": "bochs", "cloop": "cloop",
	"dmg": "dmg", "parallels": "parallels", "luks": "luks",
}

// buildDisks emits each disk's block nodes and its device (qemuBuildDisksCommandLine).
func (b *builder) buildDisks() {
	floppies, paths := map[int]string{}, map[int]string{}
	for i := range b.devs().Disks {
		d := &b.devs().Disks[i]
		path := fmt.Sprintf("/domain/devices/disk[%d]", i+1)
		if b.usesDrive() && d.Target != nil && diskBus(d) == "fdc" {
			unit := floppyUnit(d)
			floppies[unit] = b.legacyDrive(d, path, "floppy", i)
			paths[unit] = path + "/target"
			continue
		}
		b.buildDisk(d, path, i)
	}
	if b.usesDrive() {
		b.legacyFloppies(floppies, paths)
		return
	}
	b.buildFloppyController()
}

func (b *builder) buildDisk(d *libvirtxml.DomainDisk, path string, n int) {
	if d.Target == nil {
		b.errorf(path, "missing <target>")
		return
	}
	bus, device := diskBus(d), d.Device
	switch device {
	case "":
		device = "disk"
	case "disk", "cdrom", "floppy", "lun":
	default:
		b.errorf(path, "unknown disk device %q: want disk, cdrom, floppy or lun", device)
		return
	}
	if bus == "sd" {
		b.sdDrive(d, path, n)
		return
	}
	node := fmt.Sprintf("libvirt-%d", len(b.devs().Disks)-n)
	drive := ""
	switch {
	case b.usesDrive():
		drive = b.legacyDrive(d, path, device, n)
	case b.hasMedium(d, path):
		drive = b.blockChain(d, path, node, device)
	}
	drv := b.diskDevice(d, path, bus, device)
	if drv == "" {
		return
	}
	b.device(path+"/target", drv, "drive", drive, "id", fmt.Sprintf("disk%d", n))
}

// hasMedium reports whether the disk has a source: an empty CD-ROM or floppy has none.
func (b *builder) hasMedium(d *libvirtxml.DomainDisk, path string) bool {
	s := d.Source
	if s == nil {
		return false
	}
	typ := b.typeAttr(path)
	switch {
	case typ == "file" || typ == "":
		return s.File != nil && s.File.File != ""
	case typ == "block":
		return s.Block != nil && s.Block.Dev != ""
	case typ == "dir":
		return s.Dir != nil && s.Dir.Dir != ""
	case typ == "network":
		// A network source without a protocol is an empty drive (virStorageSourceIsEmpty).
		return s.Network != nil && s.Network.Protocol != ""
	}
	return true
}

// sdDrive emits the -drive option of an SD card: QEMU has no -device for SD cards, so
// libvirt writes the whole source into -drive (qemuBuildDriveStr).
func (b *builder) sdDrive(d *libvirtxml.DomainDisk, path string, n int) {
	format := "raw"
	if d.Driver != nil && d.Driver.Type != "" {
		format = d.Driver.Type
	}
	var pairs []string
	switch src := d.Source; {
	case src == nil:
	case src.File != nil:
		pairs = []string{"file", src.File.File}
	case src.Block != nil:
		pairs = []string{"file", src.Block.Dev}
	case src.Network != nil:
		proto, props := b.networkProtocol(path, src.Network)
		if proto == "" {
			return
		}
		pairs = []string{"file.driver", proto}
		for i := 0; i+1 < len(props); i += 2 {
			pairs = append(pairs, "file."+props[i], props[i+1])
		}
	default:
		b.errorf(path, "disk type %q cannot be an SD card", b.typeAttr(path))
		return
	}
	if len(pairs) > 0 {
		pairs = append(pairs, "format", format)
	}
	pairs = append(pairs, "if", "sd", "index", fmt.Sprint(n))
	b.emit(path, "-drive", kv("", pairs...))
}

// blockChain emits the block nodes of a disk's source and its backing chain, and returns
// the node name the device uses.
func (b *builder) blockChain(d *libvirtxml.DomainDisk, path, node, device string) string {
	format := ""
	if d.Driver != nil {
		format = d.Driver.Type
	}
	top := b.blockSource(path, path+"/source", d.Source, format, node, device, d.Encryption)
	for bs, i := d.BackingStore, 1; bs != nil && bs.Source != nil; bs, i = bs.BackingStore,
		i+1 {
		p := path + strings.Repeat("/backingStore", i)
		if b.typeAttr(p) == "" {
			break
		}
		f := ""
		if bs.Format != nil {
			f = bs.Format.Type
		}
		b.blockSource(p, p+"/source", bs.Source, f, fmt.Sprintf("%s-backing%d", node, i),
			device, nil)
	}
	if d.Driver != nil && d.Driver.CopyOnRead == "on" {
		b.emit(path+"/driver", "-blockdev", kv("", "driver", "copy-on-read", "node-name",
			node+"-CoR", "file", top))
		return node + "-CoR"
	}
	return top
}

// blockSource emits the block nodes of one source (qemuBlockStorageSourceAttachPrepareBlockdev):
// the protocol node, a raw slice node when <slices> cuts out part of the storage, and
// the format node, and returns the name of the top node. elem is the element whose type
// attribute gives the source type.
func (b *builder) blockSource(elem, path string, s *libvirtxml.DomainDiskSource,
	format, node, device string, enc *libvirtxml.DomainDiskEncryption) string {
	proto, pairs := b.protocol(elem, s, device)
	if proto == "" {
		return ""
	}
	if enc == nil && s.Encryption != nil {
		enc = s.Encryption
	}
	librbd := enc != nil && enc.Engine == "librbd"
	if librbd {
		// librbd decrypts the image, with one secret per passphrase in the layering.
		for i := range enc.Secrets {
			b.object(path, "secret", "id", fmt.Sprintf("%s-format-encryption-secret%d", node,
				i))
		}
		enc = nil
	}
	storage := node + "-storage"
	b.emit(path, "-blockdev", kv("", append([]string{"driver", proto, "node-name", storage},
		pairs...)...))
	b.storageSecrets(path, s, storage)
	if elem == path[:len(path)-len("/source")] && b.diskAuth(elem) {
		b.object(path, "secret", "id", storage+"-auth-secret0")
	}
	if proto == "vvfat" {
		// QEMU emulates the FAT file system in the protocol layer; libvirt puts a raw
		// format node on top.
		format = "raw"
	}
	f := b.formatDriver(path, format, enc)
	if f == "" {
		return storage
	}
	top := storage
	if s.Slices != nil && len(s.Slices.Slices) > 0 {
		top = node + "-slice-sto"
		b.emit(path+"/slices", "-blockdev", kv("", "driver", "raw", "node-name", top, "file",
			storage))
		if f == "raw" {
			// The slice node is the raw format layer.
			return top
		}
	}
	if enc != nil && (enc.Format == "luks" || enc.Format == "luks2") && len(enc.Secrets) > 0 {
		b.object(path, "secret", "id", node+"-format-encryption-secret0")
	}
	// NOTE: libvirt 11 with QEMU 8.0 and later leaves out the raw format node of an
	// unencrypted raw image. The raw driver passes data through unchanged, so qscope
	// keeps the node that libvirt 10 writes.
	b.emit(path, "-blockdev", kv("", "node-name", node+"-format", "driver", f, "file", top))
	return node + "-format"
}

// formatDriver returns the format driver of a source: <driver type>, raw by default, luks
// for raw images with LUKS encryption, "" for an error.
func (b *builder) formatDriver(path, format string, enc *libvirtxml.DomainDiskEncryption) string {
	if format == "" || format == "aio" {
		format = "raw"
	}
	if format == "iso" {
		b.errorf(path, "storage format 'iso' is not directly supported by QEMU, use 'raw' "+
			"instead")
		return ""
	}
	if format == "raw" && enc != nil && (enc.Format == "luks" || enc.Format == "luks2") {
		return "luks"
	}
	f, ok := formats[format]
	if !ok {
		b.errorf(path, "unknown storage format %q", format)
	}
	return f
}

// protocol returns the protocol driver of a source with the properties that decide its
// catalog entry, or "" when the source makes no block node.
func (b *builder) protocol(elem string, s *libvirtxml.DomainDiskSource,
	device string) (string, []string) {
	switch {
	case s.File != nil:
		return "file", []string{"filename", s.File.File}
	case s.Block != nil:
		if device == "cdrom" && isHostCDROM(s.Block.Dev) {
			return "host_cdrom", []string{"filename", s.Block.Dev}
		}
		return "host_device", []string{"filename", s.Block.Dev}
	case s.Dir != nil:
		return "vvfat", []string{"dir", s.Dir.Dir}
	case s.Network != nil:
		return b.networkProtocol(elem, s.Network)
	case s.NVME != nil:
		return "nvme", nil
	case s.VHostUser != nil:
		return "", nil
	case s.VHostVDPA != nil:
		return "virtio-blk-vhost-vdpa", []string{"path", s.VHostVDPA.Dev}
	case s.Volume != nil:
		b.errorf(elem+"/source", "disk source type volume names storage pool %q: qscope "+
			"cannot resolve pool volumes; give the file, block device or network source",
			s.Volume.Pool)
		return "", nil
	}
	b.errorf(elem, "unknown disk type %q", b.typeAttr(elem))
	return "", nil
}

func (b *builder) networkProtocol(elem string, n *libvirtxml.DomainDiskSourceNetwork) (string,
	[]string) {
	drv, ok := networkDrivers[n.Protocol]
	if !ok {
		b.errorf(elem+"/source", "unknown network disk protocol %q", n.Protocol)
		return "", nil
	}
	var pairs []string
	if len(n.Hosts) > 0 {
		h := n.Hosts[0]
		pairs = append(pairs, "server.host", h.Name, "server.port", h.Port)
		if h.Socket != "" {
			pairs = append(pairs, "server.path", h.Socket)
		}
	}
	if n.TLS == "yes" {
		pairs = append(pairs, "tls-creds", "objlibvirt-storage_tls0")
	}
	return drv, pairs
}

// diskAuth reports whether the disk at path has an <auth> element of its own.
func (b *builder) diskAuth(path string) bool {
	return b.idx.lookup(path+"/auth") != nil
}

// storageSecrets emits the secret objects that carry a network source's credentials.
func (b *builder) storageSecrets(path string, s *libvirtxml.DomainDiskSource, node string) {
	if s.Network != nil && s.Network.Auth != nil {
		b.object(path, "secret", "id", node+"-auth-secret0")
	}
	if s.Cookies != nil && len(s.Cookies.Cookies) > 0 {
		// libvirt passes cookies of http and https sources in a secret object.
		b.object(path, "secret", "id", node+"-httpcookie-secret0")
	}
	if s.Network != nil && s.Network.TLS == "yes" {
		b.object(path, "tls-creds-x509", "id", "objlibvirt-storage_tls0", "endpoint",
			"client")
	}
}

// diskDevice returns the QEMU device of a disk (qemuBuildDiskDeviceProps).
func (b *builder) diskDevice(d *libvirtxml.DomainDisk, path, bus, device string) string {
	switch bus {
	case "virtio":
		base := "virtio-blk-"
		if d.Source != nil && d.Source.VHostUser != nil {
			base = "vhost-user-blk-"
			b.emit(path+"/source", "-chardev", kv("socket", "id", "chr-vu-"+
				fmt.Sprint(len(b.argv)), "path", unixPath((*libvirtxml.DomainChardevSource)(d.Source.VHostUser))))
		}
		return base + b.virtioBus(path, toAddr(d.Address)) + b.transitional(d.Model)
	case "ide", "sata":
		return pick(device == "cdrom", "ide-cd", "ide-hd")
	case "scsi":
		return scsiDiskDevice(device, d)
	case "usb":
		if d.Model == "usb-bot" {
			b.device(path, "usb-bot", "id", "usb-disk"+fmt.Sprint(len(b.argv)))
			return pick(device == "cdrom", "scsi-cd", "scsi-hd")
		}
		return "usb-storage"
	case "fdc":
		return "floppy"
	case "xen", "uml":
		b.errorf(path+"/target", "disk bus %q is not supported by QEMU", bus)
		return ""
	}
	b.errorf(path+"/target", "unknown disk bus %q", bus)
	return ""
}

// isHostCDROM reports whether a block device is a CD-ROM drive, for which libvirt uses
// QEMU's host_cdrom driver. libvirt queries the host kernel, while qscope goes by the usual
// device names /dev/cdrom* and /dev/sr*.
func isHostCDROM(dev string) bool {
	return strings.HasPrefix(dev, "/dev/cdrom") || strings.HasPrefix(dev, "/dev/sr")
}

// unixPath returns the socket path of a UNIX chardev source.
func unixPath(s *libvirtxml.DomainChardevSource) string {
	if s != nil && s.UNIX != nil {
		return s.UNIX.Path
	}
	return ""
}

func scsiDiskDevice(device string, d *libvirtxml.DomainDisk) string {
	switch device {
	case "cdrom":
		return "scsi-cd"
	case "lun":
		return "scsi-block"
	}
	return "scsi-hd"
}

func pick(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}

// buildFloppyController emits the isa-fdc that newer q35 machines need for floppy disks:
// q35 dropped the built-in floppy controller in QEMU 4.0 (pc-q35-4.0).
func (b *builder) buildFloppyController() {
	if !b.isQ35() {
		return
	}
	for i := range b.devs().Disks {
		d := &b.devs().Disks[i]
		if diskBus(d) == "fdc" {
			b.emitImplied("libvirt: the floppy controller of q35 for "+
				fmt.Sprintf("/domain/devices/disk[%d]", i+1), "-device", "isa-fdc")
			return
		}
	}
}
