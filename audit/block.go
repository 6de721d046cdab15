package audit

import (
	"strings"

	"github.com/qscope/qscope/qemuargs"
	"github.com/qscope/qscope/vm"
)

// blockNode is one entry of query-named-block-nodes (QAPI BlockDeviceInfo).
type blockNode struct {
	NodeName string `json:"node-name"`
	Driver   string `json:"drv"`
	ReadOnly bool   `json:"ro"`
	File     string `json:"file"`
	Image    struct {
		FormatSpecific struct {
			Data struct {
				Encrypt struct {
					Format string `json:"format"`
				} `json:"encrypt"`
			} `json:"data"`
		} `json:"format-specific"`
	} `json:"image"`
}

// blockBackend is one entry of query-block: a drive and the root node inserted in it.
type blockBackend struct {
	Device   string `json:"device"`
	QDev     string `json:"qdev"`
	Inserted *struct {
		NodeName string `json:"node-name"`
	} `json:"inserted"`
}

// addBlockNodes adds a block-driver component per block node: formats, protocols, filters
// and every node of backing chains, each with its node name as origin. Empty drives (a
// CD-ROM without a disc) have no node and open no driver.
func (a *auditor) addBlockNodes() error {
	var nodes []blockNode
	err := a.execute("query-named-block-nodes", map[string]any{"flat": true}, &nodes)
	if err != nil {
		return err
	}
	var backends []blockBackend
	if err := a.execute("query-block", nil, &backends); err != nil {
		return err
	}
	attached := map[string]string{}
	for _, b := range backends {
		if b.Inserted == nil {
			continue
		}
		attached[b.Inserted.NodeName] = b.Device
		if b.QDev != "" {
			attached[b.Inserted.NodeName] = b.QDev
		}
	}
	for _, n := range nodes {
		props := blockProps(n)
		if dev := attached[n.NodeName]; dev != "" {
			props["attached-to"] = dev
		}
		a.cfg.Add(vm.Component{Kind: vm.KindBlockDriver, Name: n.Driver, Props: props,
			Origin: &vm.Origin{Node: n.NodeName}})
	}
	return nil
}

// blockProps returns the properties of a node that catalog conditions use: read-only,
// the encryption format of qcow2 and qcow images, and the options of a node whose
// filename QEMU writes as json:{...} (null-co with read-zeroes, ssh with host-key-check),
// or else the filename.
func blockProps(n blockNode) map[string]string {
	props := map[string]string{"read-only": "off"}
	if n.ReadOnly {
		props["read-only"] = "on"
	}
	if f := n.Image.FormatSpecific.Data.Encrypt.Format; f != "" {
		props["encrypt.format"] = f
	}
	spec, isJSON := strings.CutPrefix(n.File, "json:")
	if !isJSON {
		if n.File != "" {
			props["filename"] = n.File
		}
		return props
	}
	opts, err := qemuargs.ParseJSONOpts(spec)
	if err != nil {
		props["filename"] = n.File
		return props
	}
	for _, o := range opts {
		if o.Key != "driver" {
			props[o.Key] = o.Value
		}
	}
	return props
}
