module github.com/qscope/qscope

go 1.26.0

require (
	github.com/google/go-cmp v0.7.0
	gopkg.in/yaml.v3 v3.0.1
)

require libvirt.org/go/libvirtxml v1.12008.0
