// Package domxml turns a libvirt domain XML into the components of the QEMU command line
// that libvirt's QEMU driver generates from it, so that qscope judges a domain exactly as
// the VM it starts.
//
// [libvirt.org/go/libvirtxml] parses the XML. The rest is written by hand, because no Go
// library models libvirt's command-line generation. It covers the defaults libvirt's
// post-parse step adds, such as the USB controller, the PCI root, the memory balloon and
// the serial port behind a console. It covers the bus (CCW, virtio-mmio or PCI) that
// address assignment gives each device and the controllers it adds for them. It also
// covers the memory backends libvirt chooses and the QEMU device, object, chardev, netdev
// and block-driver names each element maps to. Each rule follows libvirt's
// src/qemu/qemu_command.c, qemu_postparse.c and qemu_domain_address.c and
// src/conf/domain_addr.c (libvirt 11.3) and is checked against the command lines libvirt
// 10.1 and 5.6 generate for their own test domains. [Options] selects the QEMU and
// libvirt versions, for which libvirt writes different command lines.
//
// The package builds the QEMU argv libvirt would write, with the XML path of the element
// behind every option, and runs it through [qemuargs.Parse]. The command-line model (board
// devices, block-node syntax, chardev and monitor transports) is therefore shared with
// "qscope check", and qemu:commandline pass-through arguments go through the same parser.
// Components carry the XML path as their origin; what libvirt adds by itself is reported
// as implied, naming the rule.
//
// What depends on the host rather than the XML follows a stock host and qemu.conf, as
// docs/libvirt.md lists. Examples are the PCI Express capability of an assigned host
// device, the GIC version of an arm KVM host, IOMMU groups, firmware auto-selection and
// the TLS settings of qemu.conf.
package domxml
