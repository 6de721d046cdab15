package domxml

import (
	"fmt"
	"strings"
)

// domainElements are the child elements of <domain> that libvirtxml models. libvirt
// ignores elements it does not know, but a newer libvirt may know an element that makes
// QEMU components, so qscope rejects unknown elements instead of skipping them.
var domainElements = setOf("name", "uuid", "hwuuid", "genid", "title", "description",
	"metadata", "maxMemory", "memory", "currentMemory", "blkiotune", "memtune",
	"memoryBacking", "vcpu", "vcpus", "iothreads", "iothreadids", "defaultiothread",
	"cputune", "numatune", "iommufd", "resource", "sysinfo", "bootloader",
	"bootloader_args", "os", "idmap", "throttlegroups", "features", "cpu", "clock",
	"on_poweroff", "on_reboot", "on_crash", "on_lockfailure", "pm", "perf", "devices",
	"seclabel", "keywrap", "launchSecurity", "qemu:commandline", "qemu:capabilities",
	"qemu:override", "qemu:deprecation")

// deviceElements are the child elements of <devices> that libvirtxml models.
var deviceElements = setOf("emulator", "disk", "controller", "lease", "filesystem",
	"interface", "smartcard", "serial", "parallel", "console", "channel", "input", "tpm",
	"graphics", "sound", "audio", "video", "hostdev", "redirdev", "redirfilter", "hub",
	"watchdog", "memballoon", "rng", "nvram", "panic", "shmem", "memory", "iommu", "vsock",
	"crypto", "pstore")

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// checkElements rejects unknown child elements of <domain> and <devices>. Elements of
// other XML namespaces (metadata of management applications) are left alone.
func checkElements(idx *xmlIndex) error {
	var errs ErrorList
	check := func(parent string, known map[string]bool) {
		n := idx.nodes[parent]
		if n == nil {
			return
		}
		seen := map[string]int{}
		for _, child := range n.children {
			seen[child]++
			if known[child] || strings.HasPrefix(child, "{") {
				continue
			}
			path := fmt.Sprintf("%s/%s[%d]", parent, child, seen[child])
			errs = append(errs, &Error{Path: shortPath(path), Line: idx.nodes[path].line,
				Msg: fmt.Sprintf("unknown element <%s>: qscope cannot tell which QEMU "+
					"components it makes", child)})
		}
	}
	check("/domain[1]", domainElements)
	check("/domain[1]/devices[1]", deviceElements)
	return errs.Err()
}
