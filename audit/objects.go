package audit

import (
	"fmt"
	"sort"
	"strings"

	"github.com/qscope/qscope/qemuargs"
	"github.com/qscope/qscope/vm"
)

// peripheralDirs hold the devices added with -device or device_add: with an id under
// peripheral, without one under peripheral-anon. Everything else the machine, its defaults
// or another option created.
var peripheralDirs = []string{"/machine/peripheral/", "/machine/peripheral-anon/"}

func isPeripheral(path string) bool {
	for _, dir := range peripheralDirs {
		if strings.HasPrefix(path, dir) {
			return true
		}
	}
	return false
}

// addQOMObjects adds a component for each CPU model, device and object of the QOM tree.
// Chardevs, internal objects and containers are left to addChardevs and
// addInternalGroups.
func (a *auditor) addQOMObjects() error {
	board := a.boardTypes()
	isBoard := map[*object]bool{}
	a.addCPUs()
	for _, obj := range a.tree.objects {
		t := a.types
		switch {
		case obj.path == "/machine", obj.typ == "container", t.isA(obj.typ, "chardev"),
			t.isInternal(obj.typ), t.isA(obj.typ, "cpu"):
			continue
		case t.isA(obj.typ, "device"):
			a.addDevice(obj, board, isBoard)
		default:
			if err := a.addObject(obj, isBoard); err != nil {
				return err
			}
		}
	}
	return nil
}

// boardTypes returns the device types that the static model lists for the running
// machine's board, or nil when the machine's family is not modelled.
func (a *auditor) boardTypes() map[string]bool {
	m := a.machine
	devs, ok := qemuargs.BoardDevices(qemuargs.Machine{Target: a.cfg.Target, Type: m.name,
		Props: m.props, Accels: []string{a.accel}})
	if !ok {
		a.cfg.Note("machine " + m.name + " is not modelled, so no device is marked as a " +
			"board device; each is judged by its own catalog entry")
		return nil
	}
	types := map[string]bool{}
	for _, d := range devs {
		types[d.Name] = true
	}
	return types
}

// addDevice adds a device. It is a board device when it is part of a board device, or
// when it is outside the peripheral containers and the static model lists its type for the
// machine. Its parent is the device it is part of, or the machine for a board device.
func (a *auditor) addDevice(obj *object, board map[string]bool, isBoard map[*object]bool) {
	c := vm.Component{Kind: vm.KindDevice, Name: obj.typ, Props: map[string]string{},
		Origin: &vm.Origin{QOMPath: obj.path}, Parents: a.types.parents(obj.typ)}
	if id, ok := strings.CutPrefix(obj.path, "/machine/peripheral/"); ok &&
		!strings.Contains(id, "/") {
		c.Props["id"] = id
	}
	owner := a.owningDevice(obj)
	if owner != nil {
		c.Parent = owner.typ
		c.Board = isBoard[owner]
	}
	if !isPeripheral(obj.path) && board[obj.typ] {
		c.Board = true
	}
	if owner == nil && c.Board {
		c.Parent = a.machine.name
	}
	isBoard[obj] = c.Board
	a.cfg.Add(c)
}

// owningDevice returns the nearest device or CPU above obj in the composition tree, or nil.
func (a *auditor) owningDevice(obj *object) *object {
	for p := obj.parent; p != nil; p = p.parent {
		if a.types.isA(p.typ, "device") {
			return p
		}
	}
	return nil
}

// addObject adds a QOM object that is neither a device nor internal: a -object, the
// default RAM backend, or a backend a device created for itself (rng-builtin).
func (a *auditor) addObject(obj *object, isBoard map[*object]bool) error {
	c := vm.Component{Kind: vm.KindObject, Name: obj.typ, Props: map[string]string{},
		Origin: &vm.Origin{QOMPath: obj.path}, Parents: a.types.parents(obj.typ)}
	if id, ok := strings.CutPrefix(obj.path, "/objects/"); ok && !strings.Contains(id, "/") {
		c.Props["id"] = id
	}
	if owner := a.owningDevice(obj); owner != nil {
		c.Parent = owner.typ
		c.Board = isBoard[owner]
	}
	if err := a.readObjectProps(obj, &c); err != nil {
		return err
	}
	a.cfg.Add(c)
	return nil
}

// readObjectProps reads the few object properties that catalog conditions use. It never
// reads a secret's data property, which holds the secret itself.
func (a *auditor) readObjectProps(obj *object, c *vm.Component) error {
	var keys []string
	t := a.types
	switch {
	case t.isA(obj.typ, "secret"):
		keys = []string{"keyid", "file"}
	case t.isA(obj.typ, "tls-creds"):
		keys = []string{"verify-peer", "endpoint"}
	case t.isA(obj.typ, "memory-backend") && c.Props["id"] == a.machine.ramID:
		a.noteMachineRAM(obj, c)
	}
	for _, k := range keys {
		v, err := a.qomGet(obj.path, k)
		if err != nil {
			return err
		}
		if v != "" {
			c.Props[k] = v
		}
	}
	if t.isA(obj.typ, "secret") && c.Props["file"] == "" {
		// A secret without a file has its data inline, which catalog conditions test.
		c.Props["data"] = "(given inline; not read)"
	}
	return nil
}

// noteMachineRAM explains the status of the machine's RAM backend. QEMU creates it as
// /objects/ID (ID being query-machines' default-ram-id) when -machine memory-backend=
// names none (create_default_memdev in hw/core/machine.c, QEMU 7.2 and 10.0), and the
// static model reports that one as a board component. A -object with the same id that
// memory-backend= names looks the same over QMP: both are the machine's memory-backend
// link, and create_default_memdev sets only properties whose defaults are the same. So
// the audit cannot tell them apart and, to fail closed, marks neither as board: the
// backend keeps the status of its own catalog entry.
func (a *auditor) noteMachineRAM(obj *object, c *vm.Component) {
	if a.machine.props["memory-backend"] != obj.path {
		return
	}
	c.Parent = a.machine.name
	a.cfg.Note(obj.path + " is the machine's RAM backend; QMP does not show whether " +
		"QEMU created it or a -object did, so it is judged by its own catalog entry, not " +
		"as a board component")
}

// addCPUs adds one component per CPU model, with the number of CPUs of that model.
func (a *auditor) addCPUs() {
	type group struct {
		first string
		count int
	}
	groups := map[string]*group{}
	var models []string
	for _, obj := range a.tree.objects {
		if !a.types.isA(obj.typ, "cpu") {
			continue
		}
		model := cpuModel(obj.typ)
		g := groups[model]
		if g == nil {
			g = &group{first: obj.path}
			groups[model] = g
			models = append(models, model)
		}
		g.count++
	}
	for _, model := range models {
		g := groups[model]
		props := map[string]string{}
		if g.count > 1 {
			props["count"] = fmt.Sprint(g.count)
		}
		a.cfg.Add(vm.Component{Kind: vm.KindCPU, Name: model, Props: props,
			Origin: &vm.Origin{QOMPath: g.first}})
	}
}

// cpuModel returns the -cpu model name of a CPU type: qemu64-x86_64-cpu is qemu64,
// cortex-a15-arm-cpu is cortex-a15 (QEMU appends "-" and the CPU base name).
func cpuModel(typ string) string {
	s := strings.TrimSuffix(typ, "-cpu")
	if i := strings.LastIndex(s, "-"); i > 0 {
		return s[:i]
	}
	return s
}

// addInternalGroups adds one component per type of internal object, with their count.
// They are mechanisms of the devices and the board that own them, and each owner is
// reported and judged itself, so a group is marked board and takes the machine's status
// unless the catalog classifies its type.
func (a *auditor) addInternalGroups() {
	paths := map[string][]string{}
	for _, obj := range a.tree.objects {
		if a.types.isInternal(obj.typ) {
			paths[obj.typ] = append(paths[obj.typ], obj.path)
		}
	}
	types := make([]string, 0, len(paths))
	for typ := range paths {
		types = append(types, typ)
	}
	sort.Strings(types)
	for _, typ := range types {
		p := paths[typ]
		a.cfg.Add(vm.Component{Kind: vm.KindObject, Name: typ,
			Props:     map[string]string{"count": fmt.Sprint(len(p)), "internal": "on"},
			ImpliedBy: fmt.Sprintf("%d grouped in %s", len(p), commonDir(p)),
			Board:     true, Parent: a.machine.name, Parents: a.types.parents(typ)})
	}
}

// commonDir returns the longest path that every path in paths is in or equal to.
func commonDir(paths []string) string {
	dir := paths[0]
	for _, p := range paths[1:] {
		for dir != "/" && p != dir && !strings.HasPrefix(p, dir+"/") {
			dir = parentDir(dir)
		}
	}
	return dir
}

func parentDir(path string) string {
	i := strings.LastIndex(path, "/")
	if i <= 0 {
		return "/"
	}
	return path[:i]
}
