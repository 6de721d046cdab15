package domxml

import (
	"fmt"

	"libvirt.org/go/libvirtxml"
)

// memoryBackendType returns the memory backend libvirt uses for guest RAM
// (qemuBuildMemoryBackendProps): memfd or file when <memoryBacking> or the NUMA cell asks
// for it, anonymous RAM otherwise.
func (b *builder) memoryBackendType(sharedCell bool) string {
	mb := b.dom.MemoryBacking
	if mb != nil && mb.MemorySource != nil {
		switch mb.MemorySource.Type {
		case "memfd":
			return "memory-backend-memfd"
		case "file":
			return "memory-backend-file"
		}
	}
	if mb != nil && mb.MemoryHugePages != nil {
		return "memory-backend-file"
	}
	shared := sharedCell || mb != nil && mb.MemoryAccess != nil && mb.MemoryAccess.Mode == "shared"
	if shared {
		return "memory-backend-file"
	}
	return "memory-backend-ram"
}

// buildMemory emits -m and, without NUMA nodes, the backend of the machine's RAM
// (qemuBuildMemCommandLine).
func (b *builder) buildMemory() {
	if b.dom.Memory == nil && (b.dom.CPU == nil || b.dom.CPU.Numa == nil) {
		b.errorf("/domain", "memory size must be specified via <memory> or in the <numa> "+
			"configuration")
		return
	}
	b.emit("/domain/memory", "-m", "size="+b.memorySize())
	if b.dev.ramBackend != "" {
		b.object("/domain/memory", b.memoryBackendType(false), "id", b.dev.ramBackend)
	}
}

func (b *builder) memorySize() string {
	if b.dom.Memory != nil {
		return fmt.Sprintf("%dk", kib(b.dom.Memory.Value, b.dom.Memory.Unit))
	}
	return "0k"
}

// kib converts a libvirt memory value to KiB.
func kib(v uint, unit string) uint {
	switch unit {
	case "b", "bytes":
		return v / 1024
	case "M", "MiB":
		return v * 1024
	case "G", "GiB":
		return v * 1024 * 1024
	case "T", "TiB":
		return v * 1024 * 1024 * 1024
	case "KB":
		return v * 1000 / 1024
	case "MB":
		return v * 1000 * 1000 / 1024
	case "GB":
		return v * 1000 * 1000 * 1000 / 1024
	}
	return v
}

// buildIOThreads emits an iothread object per I/O thread.
func (b *builder) buildIOThreads() {
	if ids := b.dom.IOThreadIDs; ids != nil && len(ids.IOThreads) > 0 {
		for i, t := range ids.IOThreads {
			b.object(fmt.Sprintf("/domain/iothreadids/iothread[%d]", i+1), "iothread", "id",
				fmt.Sprintf("iothread%d", t.ID))
		}
		return
	}
	for i := range b.dom.IOThreads {
		b.object("/domain/iothreads", "iothread", "id", fmt.Sprintf("iothread%d", i+1))
	}
}

// buildNUMA emits a memory backend and a -numa node per guest NUMA cell.
func (b *builder) buildNUMA() {
	if b.dom.CPU == nil || b.dom.CPU.Numa == nil {
		return
	}
	for i, cell := range b.dom.CPU.Numa.Cell {
		path := fmt.Sprintf("/domain/cpu/numa/cell[%d]", i+1)
		id := fmt.Sprintf("ram-node%d", i)
		b.object(path, b.memoryBackendType(cell.MemAccess == "shared"), "id", id)
		b.emit(path, "-numa", kv("node", "nodeid", fmt.Sprint(i), "memdev", id))
	}
}

// buildMemoryDevices emits DIMMs and other memory devices with their backends
// (qemuBuildMemoryDeviceCommandLine).
func (b *builder) buildMemoryDevices() {
	for i, m := range b.devs().Memorydevs {
		path := fmt.Sprintf("/domain/devices/memory[%d]", i+1)
		id := fmt.Sprintf("memdimm%d", i)
		backend := b.memoryBackendType(m.Access == "shared")
		switch m.Model {
		case "dimm":
			b.object(path, backend, "id", id)
			b.device(path, "pc-dimm", "memdev", id)
		case "nvdimm":
			b.object(path, "memory-backend-file", "id", id)
			b.device(path, "nvdimm", "memdev", id)
		case "virtio-pmem":
			b.object(path, "memory-backend-file", "id", id)
			b.device(path, "virtio-pmem-"+b.virtioBus(path, toAddr(m.Address)), "memdev", id)
		case "virtio-mem":
			b.object(path, backend, "id", id)
			b.device(path, "virtio-mem-"+b.virtioBus(path, toAddr(m.Address)), "memdev", id)
		case "sgx-epc":
			b.object(path, "memory-backend-epc", "id", fmt.Sprintf("memepc%d", i))
		default:
			b.errorf(path, "unknown memory device model %q", m.Model)
		}
	}
}

// buildPflash emits the block nodes of UEFI firmware and its variable store, which libvirt
// attaches as the machine's pflash0 and pflash1.
func (b *builder) buildPflash() {
	os := b.dom.OS
	if os.Firmware == "efi" && (os.Loader == nil || os.Loader.Path == "") {
		b.firmwareEFI()
		return
	}
	if os.Loader == nil || os.Loader.Type != "pflash" || os.Loader.Path == "" {
		return
	}
	b.pflash("/domain/os/loader", "libvirt-pflash0", os.Loader.Path, os.Loader.Format)
	nvram := ""
	format := os.Loader.Format
	if os.NVRam != nil {
		nvram = os.NVRam.NVRam
		if os.NVRam.Format != "" {
			format = os.NVRam.Format
		}
	}
	if nvram == "" && os.Loader.Readonly == "yes" && os.Loader.Stateless != "yes" {
		nvram = "/var/lib/libvirt/qemu/nvram/" + b.dom.Name + "_VARS.fd"
	}
	if nvram != "" {
		b.pflash("/domain/os/nvram", "libvirt-pflash1", nvram, format)
	}
}

// firmwareEFI emits the pflash nodes of the UEFI firmware that libvirt picks from the
// host's firmware descriptors for <os firmware='efi'>: a read-only code image and a
// variable store, in the format the loader or nvram element asks for (raw by default).
func (b *builder) firmwareEFI() {
	why := "libvirt's firmware auto-selection for <os firmware='efi'>"
	format := "raw"
	if l := b.dom.OS.Loader; l != nil && l.Format != "" {
		format = l.Format
	}
	for _, node := range []string{"libvirt-pflash0", "libvirt-pflash1"} {
		b.emitImplied(why, "-blockdev", kv("", "driver", "file", "filename",
			"/usr/share/OVMF/"+node+".fd", "node-name", node+"-storage"))
		b.emitImplied(why, "-blockdev", kv("", "node-name", node+"-format", "driver",
			format, "file", node+"-storage"))
	}
}

func (b *builder) pflash(path, node, file, format string) {
	if format == "" {
		format = "raw"
	}
	b.emit(path, "-blockdev", kv("", "driver", "file", "filename", file, "node-name",
		node+"-storage"))
	b.emit(path, "-blockdev", kv("", "node-name", node+"-format", "driver", format, "file",
		node+"-storage"))
}

var _ = libvirtxml.Domain{}
