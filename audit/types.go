package audit

// typeTree maps each QOM type of the VM's QEMU binary (qom-list-types) to its parent type.
type typeTree map[string]string

func (a *auditor) queryTypes() error {
	var list []struct {
		Name   string `json:"name"`
		Parent string `json:"parent"`
	}
	if err := a.execute("qom-list-types", map[string]any{"abstract": true}, &list); err != nil {
		return err
	}
	a.types = typeTree{}
	for _, t := range list {
		a.types[t.Name] = t.Parent
	}
	return nil
}

// isA reports whether typ is base or derives from it.
func (t typeTree) isA(typ, base string) bool {
	for seen := 0; typ != "" && seen < 64; seen++ {
		if typ == base {
			return true
		}
		typ = t[typ]
	}
	return false
}

// parents returns the parent chain of typ, nearest first, or nil when typ is unknown.
func (t typeTree) parents(typ string) []string {
	var out []string
	for p := t[typ]; p != "" && len(out) < 64; p = t[p] {
		out = append(out, p)
	}
	return out
}

// internalBases are the QOM base types of objects that are mechanisms of the devices and
// the board that own them, not components of their own. They are guest memory and I/O
// regions, interrupt lines, buses, clocks, and the display consoles of graphics devices
// and vc chardevs. The audit reports them grouped by type.
var internalBases = []string{"memory-region", "irq", "bus", "clock", "qemu-console"}

// isInternal reports whether typ is one of the internal objects.
func (t typeTree) isInternal(typ string) bool {
	for _, base := range internalBases {
		if t.isA(typ, base) {
			return true
		}
	}
	return false
}
