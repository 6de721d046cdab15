package audit

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// object is one node of the QOM composition tree.
type object struct {
	path string
	typ  string
	// parent is the object whose child property holds this one; nil for the root.
	parent *object
	depth  int // 0 for the root
}

// Limits of a tree walk. A paused QEMU 7.2 q35 VM has about 300 objects at most 8 levels
// deep. The limits stop a peer that is not QEMU, or a broken one, from making the walk
// grow without end.
const (
	maxObjects = 100000
	maxDepth   = 64
)

// property is one entry of a qom-list result.
type property struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// tree is the QOM composition tree of the VM.
type tree struct {
	// objects are every object except the root, sorted by path.
	objects []*object
	byPath  map[string]*object
	// props are the properties of each object, as qom-list returned them.
	props map[string][]property
}

// walkTree lists the whole QOM composition tree from "/" with qom-list, following child<>
// properties. The type of a child is in its property type (child<TYPE>), which QEMU fills
// from the object's own type, so no qom-get is needed per object.
func (a *auditor) walkTree() error {
	w := &walker{a: a, sem: make(chan struct{}, parallelQueries),
		t: &tree{byPath: map[string]*object{}, props: map[string][]property{}}}
	root := &object{path: "/", typ: "container"}
	w.wg.Add(1)
	go w.visit(root)
	w.wg.Wait()
	if w.err != nil {
		return w.err
	}
	t := w.t
	sort.Slice(t.objects, func(i, j int) bool {
		return lessPath(t.objects[i].path, t.objects[j].path)
	})
	if t.byPath["/machine"] == nil {
		return fmt.Errorf("audit: the QOM tree has no /machine object; the QMP peer is " +
			"not a QEMU system emulator")
	}
	a.tree = t
	return nil
}

// walker runs the qom-list queries of a tree walk with a bounded number in flight.
type walker struct {
	a   *auditor
	t   *tree
	sem chan struct{}
	wg  sync.WaitGroup
	mu  sync.Mutex
	err error
}

// visit lists the properties of obj and starts a visit of each child.
func (w *walker) visit(obj *object) {
	defer w.wg.Done()
	w.sem <- struct{}{}
	var props []property
	err := w.a.conn.Execute(w.a.ctx, "qom-list", map[string]any{"path": obj.path}, &props)
	<-w.sem

	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case isNotFound(err):
		// The object went away during the walk (a device was unplugged).
		return
	case err != nil:
		if w.err == nil {
			w.err = fmt.Errorf("audit: listing %s: %w", obj.path, err)
		}
		return
	case w.err != nil:
		return
	}
	w.t.props[obj.path] = props
	for _, p := range props {
		typ, ok := childType(p.Type)
		if !ok {
			continue
		}
		child := &object{path: joinPath(obj.path, p.Name), typ: typ, parent: obj,
			depth: obj.depth + 1}
		if len(w.t.objects) >= maxObjects || child.depth > maxDepth {
			w.err = fmt.Errorf("audit: the QOM tree has more than %d objects or is deeper "+
				"than %d levels (at %s); a QEMU VM has far fewer, so the peer is not a "+
				"working QEMU", maxObjects, maxDepth, child.path)
			return
		}
		w.t.objects = append(w.t.objects, child)
		w.t.byPath[child.path] = child
		w.wg.Add(1)
		go w.visit(child)
	}
}

// childType returns TYPE of a property type child<TYPE>.
func childType(propType string) (string, bool) {
	inner, ok := strings.CutPrefix(propType, "child<")
	if !ok || !strings.HasSuffix(inner, ">") {
		return "", false
	}
	return strings.TrimSuffix(inner, ">"), true
}

func joinPath(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// lessPath orders QOM paths element by element, with numbers in brackets compared as
// numbers, so that device[2] comes before device[10].
func lessPath(a, b string) bool {
	ea, eb := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < len(ea) && i < len(eb); i++ {
		if ea[i] == eb[i] {
			continue
		}
		na, ia, oka := splitIndex(ea[i])
		nb, ib, okb := splitIndex(eb[i])
		if oka && okb && na == nb {
			return ia < ib
		}
		return ea[i] < eb[i]
	}
	return len(ea) < len(eb)
}

// splitIndex splits a path element such as device[12] into its name and index.
func splitIndex(elem string) (string, int, bool) {
	name, rest, ok := strings.Cut(elem, "[")
	if !ok || !strings.HasSuffix(rest, "]") {
		return "", 0, false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(rest, "]"))
	if err != nil {
		return "", 0, false
	}
	return name, n, true
}
