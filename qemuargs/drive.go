package qemuargs

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/qscope/qscope/vm"
)

// drive is one legacy drive: a -drive option or a shorthand (-hda, -cdrom, -fda, ...).
type drive struct {
	rec     *record
	iface   string // ide, scsi, virtio, floppy, sd, pflash, mtd, none, xen
	index   int    // bus*maxDevs+unit, or -1 before assignment
	media   string // disk or cdrom
	opts    Opts
	implied string // set for drives an option implies (-usbdevice disk:)
	// isDefault marks the empty drives QEMU adds itself; a board that does not take them
	// leaves them unused instead of failing.
	isDefault bool
}

// maxDevs is the number of units per bus of an interface (QEMU's if_max_devs); 0 means
// one bus with any number of units.
func maxDevs(iface string) int {
	switch iface {
	case "ide":
		return 2
	case "scsi":
		return 7
	}
	return 0
}

// shorthandDrives maps -hda and friends to the interface (empty: the machine's default)
// and index QEMU gives them, and the media.
var shorthandDrives = map[string]struct {
	iface string
	index int
	media string
}{
	"hda": {"", 0, "disk"}, "hdb": {"", 1, "disk"}, "hdc": {"", 2, "disk"},
	"hdd": {"", 3, "disk"}, "cdrom": {"", 2, "cdrom"}, "fda": {"floppy", 0, "disk"},
	"fdb": {"floppy", 1, "disk"}, "sd": {"sd", -1, "disk"}, "mtdblock": {"mtd", -1, "disk"},
	"pflash": {"pflash", -1, "disk"},
}

func (p *parser) handleDiskShorthand(r *record) {
	s := shorthandDrives[r.name]
	d := p.newDrive(r, s.iface, Opts{{Key: "file", Value: r.arg, Offset: 0}}, "")
	d.index, d.media = s.index, s.media
	p.commitDrive(d)
}

func (p *parser) handleDrive(r *record) {
	opts, ok := p.parseArg(r, "", false)
	if !ok {
		return
	}
	d := p.newDrive(r, opts.Value("if"), opts, "")
	d.media = "disk"
	if m, ok := opts.Get("media"); ok {
		if m != "disk" && m != "cdrom" {
			p.errorf(r, -1, "invalid media=%s: want disk or cdrom", m)
			return
		}
		d.media = m
	}
	if !p.driveIndex(r, d) {
		return
	}
	p.commitDrive(d)
}

// addDrive adds a drive that another option implies and returns it.
func (p *parser) addDrive(r *record, iface string, opts Opts, implied string) *drive {
	d := p.newDrive(r, iface, opts, implied)
	d.media = "disk"
	p.commitDrive(d)
	return d
}

func (p *parser) newDrive(r *record, iface string, opts Opts, implied string) *drive {
	if iface == "" && p.machine.family != nil {
		iface = p.machine.family.blockDefault
	}
	if iface == "" {
		iface = "ide"
	}
	return &drive{rec: r, iface: iface, index: -1, opts: opts, implied: implied}
}

// driveIndex computes the index from index=, bus= and unit=, as QEMU's drive_new does.
func (p *parser) driveIndex(r *record, d *drive) bool {
	num := func(key string) (int, bool) {
		v, ok := d.opts.Get(key)
		if !ok {
			return -1, true
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			p.errorf(r, -1, "invalid %s=%s: want a non-negative number", key, v)
			return 0, false
		}
		return n, true
	}
	index, ok1 := num("index")
	bus, ok2 := num("bus")
	unit, ok3 := num("unit")
	if !ok1 || !ok2 || !ok3 {
		return false
	}
	if index >= 0 {
		if bus >= 0 || unit >= 0 {
			p.errorf(r, -1, "index cannot be used with bus and unit")
			return false
		}
		d.index = index
		return true
	}
	if bus >= 0 || unit >= 0 {
		bus, unit = max(bus, 0), max(unit, 0)
		if m := maxDevs(d.iface); m > 0 {
			d.index = bus*m + unit
		} else {
			d.index = unit
		}
	}
	return true
}

// commitDrive assigns a free index when none was given, then adds the drive's block
// drivers and the device its interface implies.
func (p *parser) commitDrive(d *drive) {
	if d.index < 0 {
		// QEMU takes the first free index; starting after the last one found keeps a
		// command line with thousands of drives linear.
		d.index = p.nextFree[d.iface]
		for p.driveAt(d.iface, d.index) != nil {
			d.index++
		}
		p.nextFree[d.iface] = d.index + 1
	}
	p.addDriveSlot(d)
	implied := d.implied
	if implied == "" {
		implied = impliedBy(d.rec)
	}
	p.addBlockDrivers(d.rec, d.opts, d.implied, true)
	p.addDriveDevice(d, implied)
}

// driveSlot is an interface and index that a drive occupies.
type driveSlot struct {
	iface string
	index int
}

func (p *parser) driveAt(iface string, index int) *drive {
	return p.driveSlots[driveSlot{iface, index}]
}

// addDriveSlot records d as the drive at its interface and index.
func (p *parser) addDriveSlot(d *drive) {
	p.driveSlots[driveSlot{d.iface, d.index}] = d
}

// addDriveDevice adds the device a drive's interface makes QEMU create. On a modelled
// board, an interface the board does not take is an error, as QEMU rejects it
// ("machine type does not support if=..."), except for QEMU's own default drives and for
// if=none and if=virtio drives, which QEMU never reports as orphans.
func (p *parser) addDriveDevice(d *drive, implied string) {
	f := p.machine.family
	attach := attachDevice
	if f != nil {
		a, ok := f.drives[d.iface]
		switch {
		case ok:
			attach = a
		case d.isDefault:
			return
		default:
			p.errorf(d.rec, -1, "machine %s does not support if=%s drives, and "+
				"QEMU rejects the command line", p.machine.name, d.iface)
			return
		}
	}
	if attach == attachBoard {
		return
	}
	cd := d.media == "cdrom"
	var devs []string
	switch d.iface {
	case "ide":
		devs = []string{pick(cd, "ide-cd", "ide-hd")}
	case "scsi":
		devs = []string{pick(cd, "scsi-cd", "scsi-hd")}
	case "virtio":
		devs = []string{p.virtioBlk()}
	case "floppy":
		if f != nil && !f.hasBoard(p, "isa-fdc") && !p.fdcImplied {
			p.fdcImplied = true
			devs = append(devs, "isa-fdc")
		}
		devs = append(devs, "floppy")
	case "sd":
		devs = []string{"sd-card"}
	case "pflash":
		devs = []string{"cfi.pflash01"}
	case "none":
	default:
		p.cfg.Note(fmt.Sprintf("the device behind -drive if=%s is created by the board "+
			"and is not reported separately", d.iface))
	}
	for _, dev := range devs {
		p.add(vm.KindDevice, dev, nil, nil, implied)
	}
}

func pick(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}

// virtioBlk returns the virtio-blk device type of the target: virtio-blk-ccw on s390x,
// virtio-blk-pci elsewhere (QEMU's qdev alias table).
func (p *parser) virtioBlk() string {
	if p.target == "s390x" {
		return "virtio-blk-ccw"
	}
	return "virtio-blk-pci"
}

func (p *parser) handleBlockdev(r *record) {
	// -blockdev's implied first key is driver (qobject_input_visitor_new_str in vl.c).
	opts, ok := p.parseArg(r, "driver", true)
	if !ok {
		return
	}
	if _, ok := p.required(r, opts, "driver"); !ok {
		return
	}
	p.addBlockDrivers(r, opts, "", false)
}

// nodeChildren are the option names under which a block node takes child nodes.
var nodeChildren = []string{"file", "backing", "data-file", "image", "x-image", "test",
	"raw", "x-raw", "children", "bottom", "target", "write-target", "log", "header"}

// addBlockDrivers adds one block-driver component per node of a -drive or -blockdev: the
// format (driver= or format=, or the probed format of a -drive without one), the protocol
// of file= unless file.driver names another, and every nested X.driver.
func (p *parser) addBlockDrivers(r *record, opts Opts, implied string, legacy bool) {
	readOnly := "off"
	for _, k := range []string{"read-only", "readonly"} {
		if v, ok := opts.Get(k); ok {
			readOnly = vm.NormalizeBool(v)
		}
	}
	if legacy {
		if opts.Value("media") == "cdrom" {
			readOnly = "on"
		}
		if !p.legacyFormat(r, &opts, implied, readOnly) {
			return
		}
	}
	nodes := blockNodes(opts)
	// A child node inherits read-only from its parent unless it sets read-only itself,
	// which QEMU honours even when the parent is read-only.
	ro := map[string]string{"": readOnly}
	for _, prefix := range nodes {
		driver := opts.Value(prefix + "driver")
		props := nodeProps(opts, prefix, nodes)
		if prefix != "" {
			props["node"] = strings.TrimSuffix(prefix, ".")
			ro[prefix] = ro[parentNode(prefix, nodes)]
			if v, ok := opts.Get(prefix + "read-only"); ok {
				ro[prefix] = vm.NormalizeBool(v)
			}
		}
		props["read-only"] = ro[prefix]
		p.add(vm.KindBlockDriver, driver, props, r, implied)
		if formatsWithBacking[driver] && !hasPrefixedKey(opts, prefix+"backing") {
			p.cfg.Note("the image metadata of a " + driver + " node can name a backing " +
				"file, whose format and protocol drivers are not on the command line; " +
				"qscope audit of the running VM shows them")
		}
	}
	if legacy {
		if v, ok := opts.Get("snapshot"); ok && vm.NormalizeBool(v) == "on" {
			p.add(vm.KindBlockDriver, "qcow2", map[string]string{"read-only": "off",
				"node": "temporary snapshot overlay"}, nil, impliedBy(r))
		}
	}
}

// legacyFormat rewrites a -drive's opts into node options: format= becomes driver=, and
// the protocol of file= becomes file.driver= unless one is given. A drive with a file but
// no format gets the pseudo driver "probe", because QEMU then guesses the format from the
// image's contents. It returns false when the drive has no medium.
func (p *parser) legacyFormat(r *record, opts *Opts, implied, readOnly string) bool {
	file, hasFile := opts.Get("file")
	if f, ok := opts.Get("format"); ok {
		opts.Set("driver", f)
	}
	if !hasFile || file == "" {
		_, hasDriver := opts.Get("driver")
		if !hasDriver && !hasPrefixedKey(*opts, "file.") {
			return false // an empty drive, such as a CD-ROM without a disc
		}
		if !hasDriver {
			opts.Set("driver", "probe")
		}
		return true
	}
	if spec, ok := strings.CutPrefix(file, "json:"); ok {
		// A json: filename holds the options of the node being opened, the drive's top
		// node, nested nodes included.
		inner, err := ParseJSONOpts(spec)
		if err != nil {
			p.syntax(r, err)
			return false
		}
		for _, o := range inner {
			opts.Set(o.Key, o.Value)
		}
		if _, ok := inner.Get("driver"); !ok {
			opts.Set("driver", "probe")
		}
		return true
	} else if _, ok := opts.Get("file.driver"); !ok {
		proto, rest := protocolOf(file)
		opts.Set("file.driver", proto)
		if proto == "vvfat" {
			opts.Set("file.rw", boolWord(strings.HasPrefix(rest, "rw:") ||
				strings.Contains(rest, ":rw:")))
		}
	}
	if _, ok := opts.Get("driver"); !ok {
		opts.Set("driver", "probe")
	}
	return true
}

// formatsWithBacking are the image formats whose metadata can name a backing file.
var formatsWithBacking = map[string]bool{"qcow2": true, "qcow": true, "qed": true,
	"vmdk": true, "probe": true}

// parentNode returns the prefix of the nearest node that contains the node at prefix, or
// "" for the top node.
func parentNode(prefix string, nodes []string) string {
	parent := ""
	for _, n := range nodes {
		if len(n) < len(prefix) && strings.HasPrefix(prefix, n) && len(n) > len(parent) {
			parent = n
		}
	}
	return parent
}

// hasPrefixedKey reports whether any key of opts starts with prefix.
func hasPrefixedKey(opts Opts, prefix string) bool {
	for _, o := range opts {
		if strings.HasPrefix(o.Key, prefix) {
			return true
		}
	}
	return false
}

// protocols maps the protocol prefixes of filenames (BlockDriver protocol_name in QEMU's
// block/*.c) to their drivers.
var protocols = map[string]string{
	"fat": "vvfat", "nbd": "nbd", "nbd+tcp": "nbd", "nbd+unix": "nbd",
	"iscsi": "iscsi", "iser": "iscsi", "nvme": "nvme", "http": "http", "https": "https",
	"ftp": "ftp", "ftps": "ftps", "rbd": "rbd", "gluster": "gluster",
	"gluster+tcp": "gluster", "gluster+unix": "gluster", "gluster+rdma": "gluster",
	"ssh": "ssh", "nfs": "nfs", "sheepdog": "sheepdog", "sheepdog+tcp": "sheepdog",
	"sheepdog+unix": "sheepdog", "vxhs": "vxhs", "blkdebug": "blkdebug",
	"blkverify": "blkverify", "null-co": "null-co", "null-aio": "null-aio",
	"host_device": "host_device", "host_cdrom": "host_cdrom", "file": "file",
	"tftp": "tftp",
}

// protocolOf returns the block protocol driver QEMU's bdrv_find_protocol picks for a
// filename, and the filename after the protocol prefix. A filename has a protocol when a
// ':' comes before any '/' (path_has_protocol). An unknown protocol is returned under its
// own name, which no catalog entry classifies, because QEMU either has a driver for it
// that qscope does not know or rejects it.
func protocolOf(file string) (string, string) {
	if i := strings.IndexAny(file, ":/"); i > 0 && file[i] == ':' {
		proto, rest := file[:i], file[i+1:]
		if driver, ok := protocols[proto]; ok {
			return driver, rest
		}
		return proto, rest
	}
	if strings.HasPrefix(file, "/dev/") {
		// QEMU stats the file: block and character devices open with host_device.
		return "host_device", file
	}
	return "file", file
}

// blockNodes returns the option prefixes that are block nodes ("" for the top node,
// "file." for its protocol, "backing.file." ...), outermost first.
func blockNodes(opts Opts) []string {
	seen := map[string]bool{}
	var nodes []string
	for _, o := range opts {
		if o.Key == "driver" {
			if !seen[""] {
				seen[""] = true
				nodes = append(nodes, "")
			}
			continue
		}
		if prefix, ok := strings.CutSuffix(o.Key, ".driver"); ok && isNodePath(prefix) {
			if !seen[prefix+"."] {
				seen[prefix+"."] = true
				nodes = append(nodes, prefix+".")
			}
		}
	}
	sort.SliceStable(nodes, func(i, j int) bool {
		return strings.Count(nodes[i], ".") < strings.Count(nodes[j], ".")
	})
	return nodes
}

// isNodePath reports whether a dotted key prefix names a child node: every element is a
// child name or an array index (children.0 of quorum).
func isNodePath(prefix string) bool {
	for _, part := range strings.Split(prefix, ".") {
		if _, err := strconv.Atoi(part); err == nil {
			continue
		}
		if !contains(nodeChildren, part) {
			return false
		}
	}
	return true
}

// nodeProps returns the options of the node at prefix, keys relative to it, without the
// options of deeper nodes.
func nodeProps(opts Opts, prefix string, nodes []string) map[string]string {
	props := map[string]string{}
	for _, o := range opts {
		rel, ok := strings.CutPrefix(o.Key, prefix)
		if !ok || rel == "driver" {
			continue
		}
		deeper := false
		for _, n := range nodes {
			if len(n) > len(prefix) && strings.HasPrefix(o.Key, n) {
				deeper = true
				break
			}
		}
		if !deeper {
			props[rel] = o.Value
		}
	}
	return props
}
