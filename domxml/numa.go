package domxml

import (
	"strconv"
	"strings"
)

// systemPageKiB is the page size of the host in KiB. libvirt treats a huge page of this
// size as no huge page.
// NOTE: 4 KiB is the page size of x86 and of most arm64 and s390x hosts. ppc64 hosts
// usually have 64 KiB pages, which qscope cannot see.
const systemPageKiB = 4

// memSpec is guest memory that gets a memory backend: the RAM of a NUMA cell, the
// machine's RAM, or a memory device.
type memSpec struct {
	model      string // the memory device model; "" for RAM
	targetNode int    // the guest NUMA node, or -1
	access     string // the access attribute of a memory device
	pageKiB    uint   // the page size a memory device's source names
	// sourceNodes is the host nodeset a memory device's source names.
	sourceNodes string
	// nvdimmPath is set for an NVDIMM or virtio-pmem device backed by a file.
	nvdimmPath bool
	pmem       bool
	// force makes the backend necessary whatever it holds (memory devices).
	force bool
}

// memBackend is the backend libvirt writes for guest memory (qemuBuildMemoryBackendProps).
type memBackend struct {
	typ string
	// needed is set when the memory needs a backend object rather than plain -m or
	// -numa node,mem=.
	needed bool
	// threadContext is set when libvirt adds a thread-context object that preallocates
	// the memory on its host NUMA nodes.
	threadContext bool
}

// memoryBackend returns the backend of m.
func (b *builder) memoryBackend(m memSpec) memBackend {
	mb := b.dom.MemoryBacking
	access := m.access
	if m.targetNode >= 0 && access == "" {
		access = b.cellAttr(m.targetNode, "memAccess")
	}
	if access == "" && mb != nil && mb.MemoryAccess != nil {
		access = mb.MemoryAccess.Mode
	}
	source := ""
	if mb != nil && mb.MemorySource != nil {
		source = mb.MemorySource.Type
	}
	needHugepage, useHugepage := b.hugepages(m)
	prealloc := mb != nil && mb.MemoryAllocation != nil &&
		mb.MemoryAllocation.Mode == "immediate"
	if m.nvdimmPath {
		prealloc = prealloc || m.model == "nvdimm" && !m.pmem
	} else if useHugepage {
		prealloc = true
	}

	var r memBackend
	switch {
	case m.model == "sgx-epc":
		r.typ = "memory-backend-epc"
		prealloc = true
	case !m.nvdimmPath && source == "memfd":
		r.typ = "memory-backend-memfd"
	case useHugepage || m.nvdimmPath || access != "" || source == "file":
		r.typ = "memory-backend-file"
	default:
		r.typ = "memory-backend-ram"
	}
	if m.model == "virtio-mem" {
		prealloc = false
	}
	hasSourceNodes := m.sourceNodes != ""
	nodemask := hasSourceNodes || b.numatuneNodeset(m.targetNode)
	nodeSpecified := b.memnodeSpecified(m.targetNode)
	r.needed = needHugepage || hasSourceNodes || nodeSpecified || m.nvdimmPath ||
		access != "" || source == "file" || source == "memfd" || m.force
	// NOTE: with <emulatorpin>, libvirt keeps only the host nodes of the emulator's CPUs
	// and drops the thread context when none is left; qscope cannot map CPUs to host
	// nodes and keeps it.
	r.threadContext = b.qemuAtLeast(7, 2) && nodemask && prealloc
	return r
}

// hugepages returns whether m needs huge pages of its own and whether it uses huge pages
// at all (qemuBuildMemoryGetPagesize).
func (b *builder) hugepages(m memSpec) (need, use bool) {
	page := m.pageKiB
	need, use = page != 0, page != 0
	if page == 0 {
		var master, found *uint
		mb := b.dom.MemoryBacking
		if mb != nil && mb.MemoryHugePages != nil {
			for _, hp := range mb.MemoryHugePages.Hugepages {
				size := kib(hp.Size, hp.Unit)
				if hp.Nodeset == "" {
					master = &size
					continue
				}
				if m.targetNode >= 0 && nodesetHas(hp.Nodeset, m.targetNode) {
					found = &size
					need = true
					break
				}
			}
			if found == nil {
				found = master
			}
			// <hugepages/> without <page> requests the default huge page size.
			if found == nil && len(mb.MemoryHugePages.Hugepages) == 0 {
				zero := uint(0)
				found = &zero
			}
		}
		if found != nil {
			page, use = *found, true
		}
	}
	if page == systemPageKiB {
		return false, false
	}
	return need, use
}

// cellAttr returns an attribute of the guest NUMA cell with index cell.
func (b *builder) cellAttr(cell int, attr string) string {
	if b.dom.CPU == nil || b.dom.CPU.Numa == nil || cell >= len(b.dom.CPU.Numa.Cell) {
		return ""
	}
	c := b.dom.CPU.Numa.Cell[cell]
	switch attr {
	case "memAccess":
		return c.MemAccess
	}
	return ""
}

// memnodeSpecified reports whether <numatune> has a <memnode> for the guest node
// (virDomainNumatuneNodeSpecified).
func (b *builder) memnodeSpecified(cell int) bool {
	nt := b.dom.NUMATune
	if nt == nil || cell < 0 {
		return false
	}
	for _, mn := range nt.MemNodes {
		if int(mn.CellID) == cell {
			return true
		}
	}
	return false
}

// numatuneNodeset reports whether <numatune> gives the host nodes of the guest node cell
// (or of all memory for -1): a <memnode>, a nodeset or automatic placement, whose nodes
// numad chooses (virDomainNumatuneMaybeGetNodeset).
func (b *builder) numatuneNodeset(cell int) bool {
	nt := b.dom.NUMATune
	if nt == nil {
		return false
	}
	if nt.Memory != nil && b.numatunePlacement() == "auto" {
		return true
	}
	if b.memnodeSpecified(cell) {
		return true
	}
	return nt.Memory != nil && nt.Memory.Nodeset != ""
}

// numatunePlacement returns the placement of <numatune><memory>: its attribute, static
// with a nodeset, or the placement of <vcpu> otherwise (virDomainNumatuneParseXML).
func (b *builder) numatunePlacement() string {
	m := b.dom.NUMATune.Memory
	switch {
	case m.Placement != "":
		return m.Placement
	case m.Nodeset != "":
		return "static"
	case b.dom.VCPU != nil && b.dom.VCPU.Placement == "auto":
		return "auto"
	}
	return "static"
}

// nodesetHas reports whether the libvirt node list s, such as "0,2-3,^2", contains node
// n. Later entries override earlier ones, as in virBitmapParse.
func nodesetHas(s string, n int) bool {
	in := false
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		neg := strings.HasPrefix(part, "^")
		lo, hi, isRange := strings.Cut(strings.TrimPrefix(part, "^"), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		z := a
		if isRange {
			if z, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		if a <= n && n <= z {
			in = !neg
		}
	}
	return in
}

// numaMemSupported reports whether the machine accepts -numa node,mem=, which lets
// libvirt leave out the memory backends of NUMA cells that need none. QEMU 5.1 dropped it
// for new machine types; machine types of QEMU 5.0 and older and the riscv and loongarch
// virt machines keep it.
func (b *builder) numaMemSupported() bool {
	if !b.qemuAtLeast(5, 1) || b.isRISCVVirt() || b.isLoongArchVirt() {
		return true
	}
	m := b.machine
	for _, prefix := range []string{"pc-i440fx-", "pc-q35-", "pseries-", "virt-", "pc-"} {
		if v, ok := strings.CutPrefix(m, prefix); ok {
			ver, err := parseVersion(v)
			return err == nil && !ver.atLeast(5, 1)
		}
	}
	return false
}
