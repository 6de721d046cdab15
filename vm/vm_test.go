package vm

import "testing"

func TestNormalizeBool(t *testing.T) {
	for in, want := range map[string]string{"on": "on", "yes": "on", "true": "on", "y": "on",
		"ON": "on", "off": "off", "no": "off", "false": "off", "n": "off", "auto": "auto",
		"": ""} {
		if got := NormalizeBool(in); got != want {
			t.Errorf("NormalizeBool(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConfigNoteOnce(t *testing.T) {
	var cfg Config
	cfg.Note("a")
	cfg.Note("a")
	cfg.Note("b")
	if len(cfg.Notes) != 2 {
		t.Errorf("notes = %q, want each note once", cfg.Notes)
	}
}
