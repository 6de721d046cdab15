// Package domxml turns a libvirt domain XML into the components of the QEMU command line
// that libvirt's QEMU driver generates from it, so that qscope judges a domain exactly as
// the VM it starts.
//
// [libvirt.org/go/libvirtxml] parses the XML. The rest is written by hand, because no Go
// library models libvirt's command-line generation: the defaults libvirt's post-parse step
// adds (the USB controller, the PCI root, the memory balloon, the video device, the serial
// port behind a console), the PCI controllers its address assignment adds, and the QEMU
// device, object, chardev, netdev and block-driver names each element maps to. Each rule
// follows libvirt's src/qemu/qemu_command.c, qemu_postparse.c and qemu_domain_address.c
// (libvirt 11.3) and is checked against the command lines libvirt 10.1 and 5.6 generate
// for their own test domains.
//
// The package builds the QEMU argv libvirt would write, with the XML path of the element
// behind every option, and runs it through [qemuargs.Parse]. The command-line model (board
// devices, block-node syntax, chardev and monitor transports) is therefore shared with
// "qscope check", and qemu:commandline pass-through arguments go through the same parser.
// Components carry the XML path as their origin; what libvirt adds by itself is reported
// as implied, naming the rule.
//
// What depends on the host rather than the XML (the PCI Express capability of an assigned
// host device, firmware auto-selection, TLS settings of qemu.conf) follows the defaults
// of a stock qemu.conf and is listed in docs/libvirt.md.
package domxml
