package domxml

import (
	"fmt"
	"strconv"
	"strings"
)

// version is a release number: major, minor, micro.
type version [3]int

// defaultQEMU is the QEMU version [Parse] generates for when [Options] names none: the
// newest QEMU of libvirt 10.1's test data (9.0.0 for x86_64).
var defaultQEMU = version{9, 0, 0}

// defaultQEMU56 is the QEMU version for libvirt 5.x when [Options] names none: the newest
// QEMU libvirt 5.6's test data has (4.1.0 for x86_64).
var defaultQEMU56 = version{4, 1, 0}

// defaultLibvirt is the libvirt version whose command-line generation [Parse] follows when
// [Options] names none.
var defaultLibvirt = version{11, 3, 0}

// parseVersion reads a version such as "9.0.0", "7.2" or "5.6".
func parseVersion(s string) (version, error) {
	var v version
	parts := strings.Split(s, ".")
	if len(parts) > 3 {
		return v, fmt.Errorf("invalid version %q: want MAJOR.MINOR[.MICRO]", s)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, fmt.Errorf("invalid version %q: want MAJOR.MINOR[.MICRO]", s)
		}
		v[i] = n
	}
	return v, nil
}

func (v version) atLeast(major, minor int) bool {
	return v[0] > major || v[0] == major && v[1] >= minor
}

// qemuAtLeast reports whether the QEMU binary is version major.minor or newer.
func (b *builder) qemuAtLeast(major, minor int) bool {
	return b.qemu.atLeast(major, minor)
}

// libvirtAtLeast reports whether the libvirt whose command line qscope models is version
// major.minor or newer.
func (b *builder) libvirtAtLeast(major, minor int) bool {
	return b.libvirt.atLeast(major, minor)
}

// has reports whether the QEMU binary has the QOM type name. [Options.HasType] decides
// when the caller gives it. Otherwise byVersion does, which callers derive from the QEMU
// and libvirt versions.
func (b *builder) has(name string, byVersion bool) bool {
	if b.hasType != nil {
		return b.hasType(name)
	}
	return byVersion
}

// hasProperty reports whether the device type typ of the QEMU binary has the property
// prop. [Options.HasProperty] decides when the caller gives it, otherwise byVersion.
func (b *builder) hasProperty(typ, prop string, byVersion bool) bool {
	if b.hasProp != nil {
		return b.hasProp(typ, prop)
	}
	return byVersion
}

// setVersions reads the versions of o.
func (b *builder) setVersions(o Options) error {
	b.qemu, b.libvirt = defaultQEMU, defaultLibvirt
	b.hasType, b.hasProp = o.HasType, o.HasProperty
	if o.QEMUVersion != "" {
		v, err := parseVersion(o.QEMUVersion)
		if err != nil {
			return &Error{Msg: "QEMU version: " + err.Error()}
		}
		b.qemu = v
	}
	if o.LibvirtVersion != "" {
		v, err := parseVersion(o.LibvirtVersion)
		if err != nil {
			return &Error{Msg: "libvirt version: " + err.Error()}
		}
		if !v.atLeast(5, 6) {
			return &Error{Msg: fmt.Sprintf("libvirt version %s is not supported: qscope "+
				"models libvirt 5.6 and later", o.LibvirtVersion)}
		}
		b.libvirt = v
		if o.QEMUVersion == "" && !v.atLeast(6, 0) {
			b.qemu = defaultQEMU56
		}
	}
	return nil
}
