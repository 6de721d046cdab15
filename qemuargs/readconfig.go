package qemuargs

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"
)

// configGroups maps -readconfig group names to the option each section stands for. Groups
// that create nothing qscope judges map to "".
var configGroups = map[string]string{
	"drive": "drive", "device": "device", "chardev": "chardev", "netdev": "netdev",
	"net": "net", "machine": "machine", "object": "object", "mon": "mon",
	"global": "global", "accel": "accel", "fsdev": "fsdev", "virtfs": "virtfs",
	"spice": "spice", "vnc": "vnc", "tpmdev": "tpmdev", "audiodev": "audiodev",
	"name": "", "boot-opts": "", "memory": "", "smp-opts": "", "rtc": "", "numa": "",
	"sandbox": "", "option-rom": "", "add-fd": "", "iscsi": "", "icount": "",
	"msg": "", "overcommit": "", "realtime": "", "action": "", "trace": "",
	"semihosting-config": "semihosting-config", "fw_cfg": "fw_cfg", "plugin": "plugin",
	"incoming": "", "compat": "compat", "display": "display", "cpu": "",
}

// impliedKeys are the implied first keys of the options a config section can stand for,
// used to read a section's id when -set refers to it.
var impliedKeys = map[string]string{
	"device": "driver", "chardev": "backend", "netdev": "type", "net": "type",
	"object": "qom-type", "machine": "type", "accel": "accel", "fsdev": "fsdriver",
	"virtfs": "fsdriver", "tpmdev": "type", "audiodev": "driver", "mon": "chardev",
	"vnc": "vnc", "display": "type",
}

var (
	// Compiled on first use, like the chardev expressions.
	configSection = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^\[([A-Za-z0-9_-]+)(?:\s+"([^"]*)")?\]$`)
	})
	configPair = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^([A-Za-z0-9_.-]+)\s*=\s*"([^"]*)"$`)
	})
)

// expandReadconfig replaces every -readconfig option by the options its file's sections
// stand for, at the same place on the command line, as QEMU reads the file when it meets
// the option.
func (p *parser) expandReadconfig() {
	var out []record
	for i := range p.records {
		r := p.records[i]
		if r.name != "readconfig" {
			out = append(out, r)
			continue
		}
		data, err := p.readConfigFile(r.arg)
		if err != nil {
			p.errorf(&r, -1, "cannot read the config file: %v", err)
			continue
		}
		recs, err := parseConfigFile(r, data)
		if err != nil {
			p.errorf(&r, -1, "%v", err)
			continue
		}
		out = append(out, recs...)
	}
	p.records = out
}

// parseConfigFile reads QEMU's config file format: [group] or [group "id"] section headers
// followed by key = "value" lines; '#' starts a comment line.
func parseConfigFile(rc record, data []byte) ([]record, error) {
	var out []record
	var cur *record
	var pairs []string
	flush := func() {
		if cur != nil && cur.name != "" {
			cur.arg = strings.Join(pairs, ",")
			out = append(out, *cur)
		}
		cur, pairs = nil, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		where := fmt.Sprintf("%s:%d", rc.arg, n)
		if m := configSection().FindStringSubmatch(line); m != nil {
			flush()
			opt, ok := configGroups[m[1]]
			if !ok {
				return nil, fmt.Errorf("%s: there is no option group %q", where, m[1])
			}
			cur = &record{index: rc.index, word: "-" + opt, name: opt, hasArg: true,
				from: where}
			if m[2] != "" {
				pairs = append(pairs, "id="+escapeComma(m[2]))
			}
			continue
		}
		// Errors do not quote the line: qscope may run with more privileges than the
		// author of the command line, who could name any file to see its content.
		m := configPair().FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("%s: invalid line: want [group], [group \"id\"] or "+
				"key = \"value\"", where)
		}
		if cur == nil {
			return nil, fmt.Errorf("%s: a key = \"value\" line before any [group] section",
				where)
		}
		pairs = append(pairs, m[1]+"="+escapeComma(m[2]))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	flush()
	return out, nil
}

// maxConfigFile is the largest -readconfig file qscope reads. QEMU's config files are a
// few kilobytes; the limit stops a command line that names /dev/zero or a huge file from
// exhausting memory.
const maxConfigFile = 1 << 20

// readConfigFile reads a -readconfig file. Only regular files are read, so that a FIFO or
// a device named on the command line cannot block or flood qscope. The file is opened
// without blocking and checked after opening, so that it cannot be swapped in between.
func (p *parser) readConfigFile(path string) ([]byte, error) {
	if p.opts.ReadFile != nil {
		return p.opts.ReadFile(path)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size() > maxConfigFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxConfigFile)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxConfigFile+1))
	if err == nil && len(data) > maxConfigFile {
		err = fmt.Errorf("%s is larger than %d bytes", path, maxConfigFile)
	}
	return data, err
}

func escapeComma(s string) string { return strings.ReplaceAll(s, ",", ",,") }

// applySet applies every -set group.id.key=value to the option with that group and id,
// which must come earlier on the command line, as in QEMU. When several earlier options
// have the id, the last one is changed.
func (p *parser) applySet() {
	ids := map[string]map[string]int{} // group, then id, to the record index
	for i := range p.records {
		r := &p.records[i]
		if r.name != "set" {
			p.indexID(ids, i)
			continue
		}
		lhs, value, ok := strings.Cut(r.arg, "=")
		parts := strings.SplitN(lhs, ".", 3)
		if !ok || len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			p.errorf(r, -1, "invalid -set: want group.id.key=value")
			continue
		}
		target, found := ids[parts[0]][parts[1]]
		if !found {
			p.errorf(r, -1, "there is no %s %q defined before this option", parts[0],
				parts[1])
			continue
		}
		t := &p.records[target]
		t.set = append(t.set, Opt{Key: parts[2], Value: value, Offset: -1})
	}
}

// indexID records the id of the key=value option at index i. Options written as JSON
// cannot be changed by -set, as in QEMU, so they are not indexed.
func (p *parser) indexID(ids map[string]map[string]int, i int) {
	r := &p.records[i]
	if !r.hasArg || strings.HasPrefix(r.arg, "{") {
		return
	}
	opts, err := ParseOpts(r.arg, impliedKeys[r.name])
	if err != nil {
		return
	}
	id, ok := opts.Get("id")
	if !ok {
		return
	}
	if ids[r.name] == nil {
		ids[r.name] = map[string]int{}
	}
	ids[r.name][id] = i
}
