package domxml

import (
	"fmt"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// usesDrive reports whether libvirt configures disks with -drive rather than -blockdev:
// libvirt uses -blockdev since 5.10, with QEMU 4.2 and later (Peter Krempa on
// qemu-devel, "since libvirt-5.10 we use -blockdev to configure the backend of storage
// devices with qemu-4.2 and later").
func (b *builder) usesDrive() bool {
	return !b.libvirtAtLeast(5, 10) || !b.qemuAtLeast(4, 2)
}

// legacyDrive emits the -drive option of a disk as libvirt before -blockdev wrote it
// (qemuBuildDriveStr): the top image and its format, with QEMU opening any backing chain
// from the image itself. It returns the drive id.
func (b *builder) legacyDrive(d *libvirtxml.DomainDisk, path, device string, n int) string {
	id := fmt.Sprintf("drive-disk%d", n)
	var pairs []string
	// libvirt 5.6 gave a drive with an open tray no medium.
	if b.hasMedium(d, path) && (d.Target == nil || d.Target.Tray != "open") {
		src, ok := b.driveSource(d, path)
		if !ok {
			return ""
		}
		pairs = append(pairs, src...)
	}
	pairs = append(pairs, "if", "none", "id", id)
	if d.ReadOnly != nil || device == "cdrom" {
		pairs = append(pairs, "readonly", "on")
	}
	if d.Driver != nil && d.Driver.CopyOnRead == "on" {
		pairs = append(pairs, "copy-on-read", "on")
	}
	b.emit(path, "-drive", kv("", pairs...))
	return id
}

// driveSource returns the -drive properties that name a disk's source and format.
func (b *builder) driveSource(d *libvirtxml.DomainDisk, path string) ([]string, bool) {
	s := d.Source
	format := "raw"
	if d.Driver != nil && d.Driver.Type != "" {
		format = d.Driver.Type
	}
	var pairs []string
	switch {
	case s.File != nil:
		pairs = []string{"file", s.File.File}
	case s.Block != nil:
		pairs = []string{"file", s.Block.Dev}
	case s.Dir != nil:
		// QEMU's vvfat driver, selected by the fat: prefix, with no format layer.
		prefix := "fat:"
		if d.Device == "floppy" {
			prefix = "fat:floppy:"
		}
		return []string{"file", prefix + s.Dir.Dir}, true
	case s.Network != nil:
		proto, props := b.networkProtocol(path, s.Network)
		if proto == "" {
			return nil, false
		}
		pairs = []string{"file.driver", proto}
		for i := 0; i+1 < len(props); i += 2 {
			pairs = append(pairs, "file."+props[i], props[i+1])
		}
		if s.Network.TLS == "yes" {
			b.object(path+"/source", "tls-creds-x509", "id", "objlibvirt-storage_tls0",
				"endpoint", "client")
		}
		if (s.Network.Auth != nil || b.diskAuth(path)) &&
			b.has("secret", b.qemuAtLeast(2, 6)) {
			// Without secret objects libvirt put the password into the drive's URL.
			secret := fmt.Sprintf("drive-disk%d-secret0", len(b.argv))
			b.object(path+"/source", "secret", "id", secret)
			pairs = append(pairs, "file.password-secret", secret)
		}
	default:
		// The -blockdev generation reports the source types QEMU cannot open.
		b.protocol(path, s, d.Device)
		return nil, false
	}
	enc := d.Encryption
	if enc == nil {
		enc = s.Encryption
	}
	if enc != nil && enc.Format == "luks" && len(enc.Secrets) > 0 {
		secret := fmt.Sprintf("drive-disk%d-luks-secret0", len(b.argv))
		b.object(path+"/source", "secret", "id", secret)
		if format == "raw" {
			return append(pairs, "key-secret", secret, "format", "luks"), true
		}
		pairs = append(pairs, "encrypt.format", "luks", "encrypt.key-secret", secret)
	}
	if f := b.formatDriver(path, format, nil); f != "" {
		pairs = append(pairs, "format", f)
	}
	return pairs, true
}

// legacyFloppies emits the floppy drives of libvirt before -blockdev: properties of the
// machine's floppy controller (-global isa-fdc.driveA) instead of floppy devices, or one
// isa-fdc device on q35.
func (b *builder) legacyFloppies(drives map[int]string, paths map[int]string) {
	if len(drives) == 0 {
		return
	}
	var props []string
	for unit := 0; unit < 2; unit++ {
		id, ok := drives[unit]
		if !ok {
			continue
		}
		letter := string(rune('A' + unit))
		if b.isQ35() {
			props = append(props, "drive"+letter, id)
			continue
		}
		b.emit(paths[unit], "-global", "isa-fdc.drive"+letter+"="+id)
	}
	if len(props) > 0 {
		b.emitImplied("libvirt: the floppy controller of q35", "-device",
			kv("isa-fdc", props...))
	}
}

// legacyPflash emits the firmware and variable store as libvirt before -blockdev wrote
// them: -drive if=pflash.
func (b *builder) legacyPflash(t tag, file, format string, unit int) {
	pairs := []string{"file", file, "if", "pflash", "format", defaultString(format, "raw"),
		"unit", fmt.Sprint(unit)}
	if unit == 0 {
		pairs = append(pairs, "readonly", "on")
	}
	b.emitTagged(t, "-drive", kv("", pairs...))
}

// floppyUnit returns the unit of a floppy disk: its drive address, or the one its target
// name gives (fda is 0, fdb 1).
func floppyUnit(d *libvirtxml.DomainDisk) int {
	if d.Address != nil && d.Address.Drive != nil && d.Address.Drive.Unit != nil {
		return int(*d.Address.Drive.Unit)
	}
	return max(diskNameIndex(strings.TrimSpace(d.Target.Dev)), 0) % 2
}
