package qom

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// countingQEMU returns a wrapper around the real QEMU that appends a line to a log file
// each time it starts, and a function that returns how many starts the log holds.
func countingQEMU(t *testing.T) (string, func() int) {
	t.Helper()
	qemu := qemuBinary(t, "qemu-system-x86_64")
	log := filepath.Join(t.TempDir(), "starts.log")
	bin := writeScript(t, "qemu-system-x86_64",
		`echo "$*" >> `+log+"\nexec "+qemu+` "$@"`+"\n")
	return bin, func() int {
		data, err := os.ReadFile(log)
		if os.IsNotExist(err) {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(string(data), "\n")
	}
}

func TestCached(t *testing.T) {
	bin, starts := countingQEMU(t)
	dir := filepath.Join(t.TempDir(), "cache")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	steps := []struct {
		name    string
		prepare func(t *testing.T, cacheFile string)
		hit     bool
		miss    string // the start of CacheResult.Miss
	}{
		{"first use", nil, false, "no cache file"},
		{"unchanged binary", nil, true, ""},
		{"touched binary", func(t *testing.T, _ string) {
			later := time.Now().Add(time.Hour)
			if err := os.Chtimes(bin, later, later); err != nil {
				t.Fatal(err)
			}
		}, false, "the binary changed"},
		{"after the refresh", nil, true, ""},
		{"corrupt cache file", func(t *testing.T, file string) {
			if err := os.WriteFile(file, []byte(`{"schema": 1, "types": [`), 0o600); err != nil {
				t.Fatal(err)
			}
		}, false, "invalid cache file"},
		{"rewritten cache file", nil, true, ""},
		{"cache file of another binary", func(t *testing.T, file string) {
			p, err := Read(file)
			if err != nil {
				t.Fatal(err)
			}
			p.Binary = "/usr/bin/qemu-system-other"
			if err := p.Write(file); err != nil {
				t.Fatal(err)
			}
		}, false, "cache file made for /usr/bin/qemu-system-other"},
		{"newer schema", func(t *testing.T, file string) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			data = []byte(strings.Replace(string(data), `"schema":1`, `"schema":2`, 1))
			if err := os.WriteFile(file, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}, false, "invalid cache file: unsupported profile schema 2"},
		{"group-writable cache file", func(t *testing.T, file string) {
			if err := os.Chmod(file, 0o666); err != nil {
				t.Fatal(err)
			}
		}, false, "cache file writable by its group or others"},
		{"FIFO as cache file", func(t *testing.T, file string) {
			os.Remove(file)
			if err := syscall.Mkfifo(file, 0o600); err != nil {
				t.Fatal(err)
			}
		}, false, "cache file is not a regular file"},
		{"link as cache file", func(t *testing.T, file string) {
			elsewhere := filepath.Join(t.TempDir(), "profile.json")
			if err := os.Rename(file, elsewhere); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(elsewhere, file); err != nil {
				t.Fatal(err)
			}
		}, false, "open "},
		{"after the links", nil, true, ""},
	}
	for _, step := range steps {
		if step.prepare != nil {
			step.prepare(t, CacheFile(dir, bin))
		}
		before := starts()
		p, res, err := Cached(ctx, bin, dir)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		started := starts() > before
		if res.Hit != step.hit || started == step.hit {
			t.Errorf("%s: hit %v, QEMU started %v; want hit %v", step.name, res.Hit, started,
				step.hit)
		}
		if !strings.HasPrefix(res.Miss, step.miss) || (step.miss == "") != (res.Miss == "") {
			t.Errorf("%s: miss = %q, want %q", step.name, res.Miss, step.miss)
		}
		if res.WriteErr != nil || res.Path != CacheFile(dir, bin) {
			t.Errorf("%s: path %s, write error %v", step.name, res.Path, res.WriteErr)
		}
		if p.Binary != bin || p.Target != "x86_64" {
			t.Errorf("%s: profile of %s %s, want %s x86_64", step.name, p.Binary, p.Target,
				bin)
		}
	}
}

func TestCachedWriteError(t *testing.T) {
	bin := qemuBinary(t, "qemu-system-x86_64")
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	p, res, err := Cached(context.Background(), bin, filepath.Join(notDir, "cache"))
	if err != nil || p == nil {
		t.Fatalf("Cached: %v, want the profile despite the unwritable cache", err)
	}
	if res.WriteErr == nil || !strings.Contains(res.WriteErr.Error(), "creating the profile cache") {
		t.Errorf("WriteErr = %v, want the cache directory error", res.WriteErr)
	}
}

func TestCachedErrors(t *testing.T) {
	_, _, err := Cached(context.Background(), "/nonexistent/qemu", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("error = %v, want not found", err)
	}
}

func TestDefaultCacheDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/tmp/xdg")
	dir, err := DefaultCacheDir()
	if err != nil || dir != "/tmp/xdg/qscope/profiles" {
		t.Errorf("DefaultCacheDir() = %q, %v; want /tmp/xdg/qscope/profiles", dir, err)
	}
}

func TestCheckCacheDir(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(filepath.Join(base, "new"), link); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir, want string
	}{
		{"new directory", filepath.Join(base, "new", "cache"), ""},
		{"trailing slash", filepath.Join(base, "new", "cache") + "/", ""},
		{"through a link", filepath.Join(link, "cache"), "goes through a symbolic link"},
		{"under a directory others can write", filepath.Join(open, "cache"),
			"writable by its group or others"},
		{"relative path", "cache", "not an absolute path"},
		{"a file", file, "not a directory"},
		{"writable by others", open, "writable by its group or others"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckCacheDir(tt.dir)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckCacheDir: %v", err)
				}
				info, err := os.Stat(tt.dir)
				if err != nil || info.Mode().Perm()&0o077 != 0 {
					t.Errorf("made %v (%v), want a directory of mode 0700", info, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
