package qemuargs

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"
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
	configSection = regexp.MustCompile(`^\[([A-Za-z0-9_-]+)(?:\s+"([^"]*)")?\]$`)
	configPair    = regexp.MustCompile(`^([A-Za-z0-9_.-]+)\s*=\s*"([^"]*)"$`)
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
		data, err := p.readFile(r.arg)
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
		if m := configSection.FindStringSubmatch(line); m != nil {
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
		m := configPair.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("%s: invalid line %q: want [group], [group \"id\"] or "+
				"key = \"value\"", where, line)
		}
		if cur == nil {
			return nil, fmt.Errorf("%s: %q is outside any [group] section", where, line)
		}
		pairs = append(pairs, m[1]+"="+escapeComma(m[2]))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	flush()
	return out, nil
}

func escapeComma(s string) string { return strings.ReplaceAll(s, ",", ",,") }

// applySet applies every -set group.id.key=value to the option with that group and id,
// which must come earlier on the command line, as in QEMU.
func (p *parser) applySet() {
	for i := range p.records {
		r := &p.records[i]
		if r.name != "set" {
			continue
		}
		lhs, value, ok := strings.Cut(r.arg, "=")
		parts := strings.SplitN(lhs, ".", 3)
		if !ok || len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			p.errorf(r, -1, "invalid -set: want group.id.key=value")
			continue
		}
		target := p.findByID(parts[0], parts[1], i)
		if target == nil {
			p.errorf(r, -1, "there is no %s %q defined before this option", parts[0],
				parts[1])
			continue
		}
		target.set = append(target.set, Opt{Key: parts[2], Value: value, Offset: -1})
	}
}

// findByID returns the record before index limit of option group whose id is id.
func (p *parser) findByID(group, id string, limit int) *record {
	for i := limit - 1; i >= 0; i-- {
		r := &p.records[i]
		if r.name != group || strings.HasPrefix(strings.TrimSpace(r.arg), "{") {
			continue
		}
		opts, err := ParseOpts(r.arg, impliedKeys[group])
		if err != nil {
			continue
		}
		if opts.Value("id") == id {
			return r
		}
	}
	return nil
}
