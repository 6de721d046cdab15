package domxml

import (
	"testing"

	"github.com/qscope/qscope/catalog"
	"github.com/qscope/qscope/internal/testcorpus"
	"github.com/qscope/qscope/policy"
)

// benchPair returns the x86_64-q35-headless domain and its libvirt command line.
func benchPair(b *testing.B) corpusPair {
	for _, p := range corpusPairs(b, "libvirt-10.1") {
		if p.key == "libvirt-10.1/x86_64-q35-headless.x86_64-latest.args" {
			return p
		}
	}
	b.Skip("x86_64-q35-headless not in the corpus")
	return corpusPair{}
}

// defaultCatalog returns a catalog of the embedded default layer.
func defaultCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	def, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	return catalog.New(def)
}

// BenchmarkXMLCheck judges one domain XML in process, as qscope check --libvirt does.
func BenchmarkXMLCheck(b *testing.B) {
	p, cat := benchPair(b), defaultCatalog(b)
	data := []byte(p.xml.Text)
	for b.Loop() {
		cfg, err := Parse(data, Options{})
		if err != nil {
			b.Fatal(err)
		}
		policy.Evaluate(cfg, cat, policy.Accept)
	}
}

// BenchmarkArgsCheck judges the command line libvirt generated for the same domain.
func BenchmarkArgsCheck(b *testing.B) {
	p, cat := benchPair(b), defaultCatalog(b)
	for b.Loop() {
		cfg, err := parseArgs(p.args.Text)
		if err != nil {
			b.Fatal(err)
		}
		policy.Evaluate(cfg, cat, policy.Accept)
	}
}

// BenchmarkCorpusXML judges every input domain XML of both corpora once per iteration;
// the XMLs that qscope rejects count as well.
func BenchmarkCorpusXML(b *testing.B) {
	cat := defaultCatalog(b)
	var inputs [][]byte
	for _, sub := range []string{"libvirt-10.1", "libvirt-5.6"} {
		for _, f := range testcorpus.Files(b, sub, ".xml") {
			if argsSuffix.MatchString(f.Name) || isOutputXML(f.Name) {
				continue
			}
			inputs = append(inputs, []byte(f.Text))
		}
	}
	for b.Loop() {
		for _, data := range inputs {
			if cfg, err := Parse(data, Options{Arch: "x86_64"}); err == nil {
				policy.Evaluate(cfg, cat, policy.Accept)
			}
		}
	}
	b.ReportMetric(float64(len(inputs)), "domains")
}

// isOutputXML reports whether name is libvirt's post-parse output (NAME.ARCH-VER.xml)
// rather than an input domain.
func isOutputXML(name string) bool {
	return outputXML.MatchString(name)
}
