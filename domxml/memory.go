package domxml

import (
	"fmt"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// buildMemory emits -m and, without NUMA nodes, the backend of the machine's RAM
// (qemuBuildMemCommandLine).
func (b *builder) buildMemory() {
	if b.dom.Memory == nil && (b.dom.CPU == nil || b.dom.CPU.Numa == nil) {
		b.errorf("/domain", "memory size must be specified via <memory> or in the <numa> "+
			"configuration")
		return
	}
	b.emit("/domain/memory", "-m", "size="+b.memorySize())
	switch {
	case b.dev.ramBackend != "":
		b.backendObjects("/domain/memory", b.dev.ramBackend,
			b.memoryBackend(memSpec{targetNode: -1}))
	case b.dom.CPU == nil || b.dom.CPU.Numa == nil || len(b.dom.CPU.Numa.Cell) == 0:
		b.buildMemPath()
	}
}

// buildMemPath emits -mem-path for guest RAM without a backend object: the machine's
// RAM of a QEMU that names no default RAM backend, or NUMA cells that need no backend
// (qemuBuildMemPathStr). The path is a hugetlbfs mount for huge pages, or a file for
// <source type='file'/>.
func (b *builder) buildMemPath() {
	mb := b.dom.MemoryBacking
	if mb == nil {
		return
	}
	path := ""
	switch {
	case mb.MemoryHugePages != nil && (len(mb.MemoryHugePages.Hugepages) == 0 ||
		kib(mb.MemoryHugePages.Hugepages[0].Size, mb.MemoryHugePages.Hugepages[0].Unit) !=
			systemPageKiB):
		path = "/dev/hugepages/libvirt/qemu/" + b.dom.Name
	case mb.MemorySource != nil && mb.MemorySource.Type == "file":
		path = "/var/lib/libvirt/qemu/ram/" + b.dom.Name + "/ram"
	}
	if path != "" {
		b.emit("/domain/memoryBacking", "-mem-path", path)
	}
}

// backendObjects emits a memory backend with id and the thread-context object that
// preallocates it.
func (b *builder) backendObjects(path, id string, be memBackend) {
	if be.threadContext {
		b.object(path, "thread-context", "id", "tc-"+id)
	}
	b.object(path, be.typ, "id", id)
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

// maxIOThreads is the highest <iothreads> count qscope reads, which keeps it from listing
// an object per thread for an absurd count. libvirt sets no limit.
const maxIOThreads = 1 << 16

// buildIOThreads emits an iothread object per I/O thread: those <iothreadids> names and,
// up to the count <iothreads> gives, the lowest unused ids (virDomainIOThreadIDDefArrayInit),
// and the main-loop object of <defaultiothread>.
func (b *builder) buildIOThreads() {
	if b.dom.IOThreads > maxIOThreads {
		b.errorf("/domain/iothreads", "%d I/O threads are too many: qscope reads up to %d",
			b.dom.IOThreads, maxIOThreads)
		return
	}
	used := map[uint]bool{}
	n := 0
	if ids := b.dom.IOThreadIDs; ids != nil {
		for i, t := range ids.IOThreads {
			b.object(fmt.Sprintf("/domain/iothreadids/iothread[%d]", i+1), "iothread", "id",
				fmt.Sprintf("iothread%d", t.ID))
			used[t.ID] = true
			n++
		}
	}
	for id := uint(1); n < int(b.dom.IOThreads); id++ {
		if used[id] {
			continue
		}
		b.object("/domain/iothreads", "iothread", "id", fmt.Sprintf("iothread%d", id))
		n++
	}
	if t := b.dom.DefaultIOThread; t != nil && (t.PoolMin != nil ||
		t.PoolMax != nil) {
		b.object("/domain/defaultiothread", "main-loop", "id", "main-loop")
	}
}

// buildNUMA emits a -numa node per guest NUMA cell, with a memory backend per cell when
// the machine needs them or a cell requests one (qemuBuildNumaCommandLine).
func (b *builder) buildNUMA() {
	if b.dom.CPU == nil || b.dom.CPU.Numa == nil {
		return
	}
	numa := b.dom.CPU.Numa
	need := !b.numaMemSupported() || numa.Interconnects != nil
	backends := make([]memBackend, len(numa.Cell))
	for i := range numa.Cell {
		backends[i] = b.memoryBackend(memSpec{targetNode: i})
		need = need || backends[i].needed
	}
	for i := range numa.Cell {
		path := fmt.Sprintf("/domain/cpu/numa/cell[%d]", i+1)
		id := fmt.Sprintf("ram-node%d", i)
		if !need {
			if i == 0 {
				b.buildMemPath()
			}
			b.emit(path, "-numa", kv("node", "nodeid", fmt.Sprint(i)))
			continue
		}
		b.backendObjects(path, id, backends[i])
		b.emit(path, "-numa", kv("node", "nodeid", fmt.Sprint(i), "memdev", id))
	}
}

// buildMemoryDevices emits DIMMs and other memory devices with their backends
// (qemuBuildMemoryDeviceCommandLine).
func (b *builder) buildMemoryDevices() {
	for i := range b.devs().Memorydevs {
		m := &b.devs().Memorydevs[i]
		path := fmt.Sprintf("/domain/devices/memory[%d]", i+1)
		id := fmt.Sprintf("memdimm%d", i)
		be := b.memoryBackend(memDeviceSpec(m))
		switch m.Model {
		case "dimm":
			b.backendObjects(path, id, be)
			b.device(path, "pc-dimm", "memdev", id)
		case "nvdimm":
			b.backendObjects(path, id, be)
			b.device(path, "nvdimm", "memdev", id)
		case "virtio-pmem":
			b.backendObjects(path, id, be)
			b.device(path, "virtio-pmem-"+b.virtioBus(path, toAddr(m.Address)), "memdev", id)
		case "virtio-mem":
			b.backendObjects(path, id, be)
			b.device(path, "virtio-mem-"+b.virtioBus(path, toAddr(m.Address)), "memdev", id)
		case "sgx-epc":
			b.backendObjects(path, fmt.Sprintf("memepc%d", i), be)
		default:
			b.errorf(path, "unknown memory device model %q", m.Model)
		}
	}
}

// memDeviceSpec describes the memory of a memory device.
func memDeviceSpec(m *libvirtxml.DomainMemorydev) memSpec {
	s := memSpec{model: m.Model, targetNode: -1, access: m.Access, force: true}
	if m.Target != nil && m.Target.Node != nil {
		s.targetNode = int(m.Target.Node.Value)
	}
	if src := m.Source; src != nil {
		switch m.Model {
		case "dimm", "virtio-mem", "sgx-epc":
			s.sourceNodes = src.NodeMask
			if src.PageSize != nil {
				s.pageKiB = kib(uint(src.PageSize.Value), src.PageSize.Unit)
			}
		case "nvdimm", "virtio-pmem":
			s.nvdimmPath = src.Path != ""
			s.pmem = src.PMem != nil
		}
	}
	return s
}

// buildPflash emits the block nodes of UEFI firmware and its variable store, which libvirt
// attaches as the machine's pflash0 and pflash1: the loader the XML names, or for
// <os firmware='efi'> the firmware libvirt picks from the host's firmware descriptors.
// The variable store is a file, or the storage a <source> of <nvram> names.
func (b *builder) buildPflash() {
	os := b.dom.OS
	l, nv := os.Loader, os.NVRam
	auto := os.Firmware == "efi" && (l == nil || l.Path == "")

	if !auto && (l == nil || l.Type != "pflash" || l.Path == "") {
		return
	}
	format := ""

	if l != nil {
		format = l.Format
	}
	nvFormat := format

	if nv != nil && nv.Format != "" {
		nvFormat = nv.Format
	}

	if auto {
		// libvirt picks firmware in the format the XML requests.
		if format == "" {
			format = nvFormat
		}
		b.pflashTagged(tag{implied: "libvirt's firmware auto-selection for <os " +
			"firmware='efi'>"}, "libvirt-pflash0", "/usr/share/OVMF/OVMF_CODE."+
			defaultString(format, "raw"), format)
	} else {
		b.pflash("/domain/os/loader", "libvirt-pflash0", l.Path, format)
	}

	if l != nil && l.Stateless == "yes" {
		return
	}

	if !auto && l.Readonly != "yes" && (nv == nil || nv.NVRam == "" && nv.Source == nil) {
		return
	}

	if nv != nil && nv.Source != nil {
		b.blockSource("/domain/os/nvram", "/domain/os/nvram/source", nv.Source, nvFormat,
			"libvirt-pflash1", "disk", nil)
		return
	}
	nvram := "/var/lib/libvirt/qemu/nvram/" + b.dom.Name + "_VARS.fd"

	if nv != nil && strings.TrimSpace(nv.NVRam) != "" {
		nvram = strings.TrimSpace(nv.NVRam)
	}
	b.pflash("/domain/os/nvram", "libvirt-pflash1", nvram, nvFormat)
}

func defaultString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (b *builder) pflash(path, node, file, format string) {
	b.pflashTagged(tag{path: path}, node, file, format)
}

// pflashTagged emits the block nodes of one pflash drive: node is libvirt-pflash0 for the
// firmware or libvirt-pflash1 for the variable store.
func (b *builder) pflashTagged(t tag, node, file, format string) {
	if b.usesDrive() {
		unit := 0
		if node == "libvirt-pflash1" {
			unit = 1
		}
		b.legacyPflash(t, file, format, unit)
		return
	}
	b.emitTagged(t, "-blockdev", kv("", "driver", "file", "filename", file, "node-name",
		node+"-storage"))
	b.emitTagged(t, "-blockdev", kv("", "node-name", node+"-format", "driver",
		defaultString(format, "raw"), "file", node+"-storage"))
}
