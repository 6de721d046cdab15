package domxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"
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

// checkRepeats rejects an element written more than once where libvirtxml keeps one copy
// or none: a second <driver> of a disk, a second <model> of an interface, a second <os>
// or <devices>. libvirt reads the first (or, for <devices>, all of them), but libvirtxml,
// like encoding/xml, keeps the last, so qscope would judge another device than libvirt
// starts. Encoding the decoded domain again and comparing child counts finds them.
func checkRepeats(idx *xmlIndex, dom *libvirtxml.Domain) error {
	// Only elements with a repeated child name need the comparison.
	var parents []string
	writtenCounts := map[string]map[string]int{}
	for _, p := range idx.order {
		c := idx.nodes[p].children
		if counts := countChildren(c); len(counts) < len(c) {
			parents = append(parents, p)
			writtenCounts[p] = counts
		}
	}
	if len(parents) == 0 {
		return nil
	}
	text, err := dom.Marshal()
	if err != nil {
		return &Error{Msg: "invalid domain XML: " + err.Error()}
	}
	decodedCounts, err := childCounts([]byte(text), parents)
	if err != nil {
		return &Error{Msg: "invalid domain XML: " + err.Error()}
	}
	var errs ErrorList
	for _, p := range parents {
		n := idx.nodes[p]
		// A parent the decoded domain lacks has no children there: every repeat of an
		// element libvirtxml does not keep, or keeps empty, counts.
		decoded, written := decodedCounts[p], writtenCounts[p]
		for _, name := range n.children {
			if written[name] > 1 && decoded[name] < written[name] && decoded[name] <= 1 {
				second := fmt.Sprintf("%s/%s[2]", p, name)
				errs = append(errs, &Error{Path: shortPath(second),
					Line: idx.nodes[second].line, Msg: fmt.Sprintf("element <%s> written "+
						"%d times, which libvirt reads differently from qscope; write it "+
						"once", name, written[name])})
				written[name] = 0
			}
		}
	}
	return errs.Err()
}

// childCounts counts the child elements by name of each element of data at one of the
// paths (in the index form of [buildIndex]).
func childCounts(data []byte, paths []string) (map[string]map[string]int, error) {
	want := make(map[string]bool, len(paths))
	for _, p := range paths {
		want[p] = true
	}
	out := map[string]map[string]int{}
	type frame struct {
		path   string
		counts map[string]int
	}
	stack := []frame{{counts: map[string]int{}}}
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			top := &stack[len(stack)-1]
			name := elementName(t.Name)
			top.counts[name]++
			path := top.path + "/" + name + "[" + strconv.Itoa(top.counts[name]) + "]"
			if want[top.path] {
				out[top.path] = top.counts
			}
			if opaque(path) {
				if err := dec.Skip(); err != nil {
					return nil, err
				}
				continue
			}
			stack = append(stack, frame{path: path, counts: map[string]int{}})
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
}

func countChildren(names []string) map[string]int {
	m := make(map[string]int, len(names))
	for _, n := range names {
		m[n]++
	}
	return m
}
