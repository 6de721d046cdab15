package qom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// CacheResult reports how [Cached] got its profile.
type CacheResult struct {
	// Hit is true when the profile came from the cache file and QEMU was not started.
	Hit bool
	// Path is the cache file of the binary.
	Path string
	// Miss is the reason the cache file was not used: missing, made for another file,
	// invalid. It is empty on a hit.
	Miss string
	// WriteErr is the error that kept a profile fresh from QEMU from being stored. The profile is valid
	// all the same; the next call starts QEMU again.
	WriteErr error
}

// DefaultCacheDir returns the directory [Cached] uses when given none:
// qscope/profiles in the user's cache directory ($XDG_CACHE_HOME or ~/.cache on Linux).
func DefaultCacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("qom: no cache directory: %w", err)
	}
	return filepath.Join(dir, "qscope", "profiles"), nil
}

// Cached returns the profile of binary from the cache directory dir ("" for
// [DefaultCacheDir]) when the cache file was made from the same file, that is the same
// absolute path (symbolic links resolved), size and modification time. Otherwise it
// queries the binary with [FromBinary] and stores the profile. A cache file that does not
// decode or validate is never used, and the new profile replaces it.
//
// NOTE: installing or removing a QEMU module package (Debian's qemu-system-gui, for
// example) changes the types a binary provides without changing the binary file, so the
// cache keeps the old list until the binary changes or the cache file is removed.
func Cached(ctx context.Context, binary, dir string) (*Profile, CacheResult, error) {
	var res CacheResult
	path, info, err := locate(binary)
	if err != nil {
		return nil, res, err
	}
	if dir == "" {
		if dir, err = DefaultCacheDir(); err != nil {
			return nil, res, err
		}
	}
	res.Path = CacheFile(dir, path)
	p, miss := readCache(res.Path, path, info)
	if p != nil {
		res.Hit = true
		return p, res, nil
	}
	res.Miss = miss
	if p, err = FromBinary(ctx, path); err != nil {
		return nil, res, err
	}
	res.WriteErr = storeCache(dir, res.Path, p)
	return p, res, nil
}

// CacheFile returns the cache file of the binary at the absolute path binary: a hash of
// the path, so that every binary has its own file.
func CacheFile(dir, binary string) string {
	// The name only spreads binaries over files, because readCache checks that a file
	// belongs to the binary. A non-cryptographic hash suffices and keeps crypto out.
	h := fnv.New64a()
	h.Write([]byte(binary))
	return filepath.Join(dir, fmt.Sprintf("%016x.json", h.Sum64()))
}

// readCache returns the cached profile when it decodes, validates and was made from the
// binary as it is now; otherwise nil and the reason.
func readCache(file, binary string, info os.FileInfo) (*Profile, string) {
	// A FIFO or device planted in the cache must not block the read, and a link must not
	// lead elsewhere: open without following links and without blocking, then require a
	// regular file that only this user can change.
	f, err := os.OpenFile(file, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, "no cache file"
	}
	if err != nil {
		return nil, err.Error()
	}
	defer f.Close()
	if why := privateFile(f); why != "" {
		return nil, why
	}
	data, err := io.ReadAll(io.LimitReader(f, maxCacheFile+1))
	if err != nil {
		return nil, err.Error()
	}
	if len(data) > maxCacheFile {
		return nil, "cache file larger than 64 MiB"
	}
	p, err := Decode(bytes.NewReader(data))
	switch {
	case err != nil:
		return nil, "invalid cache file: " + err.Error()
	case p.Binary != binary:
		return nil, fmt.Sprintf("cache file made for %s", p.Binary)
	case p.Size != info.Size() || !p.ModTime.Equal(info.ModTime()):
		return nil, "the binary changed since the cache file was made"
	}
	return p, ""
}

// maxCacheFile bounds what readCache reads. A profile of QEMU 7.2 x86_64 is about 60 KiB.
const maxCacheFile = 64 << 20

// privateFile returns why f is not a cache file qscope may trust, or "": it must be a
// regular file of the effective user that neither its group nor others can write.
func privateFile(f *os.File) string {
	info, err := f.Stat()
	if err != nil {
		return err.Error()
	}
	if !info.Mode().IsRegular() {
		return "cache file is not a regular file"
	}
	if why := privateMode(info); why != "" {
		return "cache file " + why
	}
	return ""
}

// privateMode returns why info does not belong to the effective user alone, or "".
func privateMode(info os.FileInfo) string {
	st, ok := info.Sys().(*syscall.Stat_t)
	if ok && int(st.Uid) != os.Geteuid() {
		return fmt.Sprintf("owned by uid %d, not by this user", st.Uid)
	}
	if info.Mode().Perm()&0o022 != 0 {
		return fmt.Sprintf("writable by its group or others (mode %v)", info.Mode().Perm())
	}
	return ""
}

// CheckCacheDir creates dir when missing and checks that no other user can plant a profile
// in it or move it. The path must have no symbolic links and dir must belong to the
// effective user alone. Every directory above it must belong to root or that user and be
// writable only by its owner, unless it is sticky like /tmp.
func CheckCacheDir(dir string) error {
	if !filepath.IsAbs(dir) {
		return fmt.Errorf("qom: profile cache %q is not an absolute path", dir)
	}
	dir = filepath.Clean(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("qom: creating the profile cache: %w", err)
	}
	if real, err := filepath.EvalSymlinks(dir); err != nil || real != dir {
		return fmt.Errorf("qom: profile cache %s: the path goes through a symbolic link "+
			"(to %s); name the directory itself", dir, real)
	}
	info, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("qom: profile cache: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("qom: profile cache %s is not a directory", dir)
	}
	if why := privateMode(info); why != "" {
		return fmt.Errorf("qom: profile cache %s: %s", dir, why)
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		if why := safeAncestor(p); why != "" {
			return fmt.Errorf("qom: profile cache %s: %s %s", dir, p, why)
		}
		if p == "/" {
			return nil
		}
	}
}

// safeAncestor returns why another user could replace what lies below directory p, or "".
func safeAncestor(p string) string {
	info, err := os.Lstat(p)
	if err != nil {
		return err.Error()
	}
	if st, ok := info.Sys().(*syscall.Stat_t); ok && st.Uid != 0 &&
		int(st.Uid) != os.Geteuid() {
		return fmt.Sprintf("is owned by uid %d", st.Uid)
	}
	if info.Mode().Perm()&0o022 != 0 && info.Mode()&os.ModeSticky == 0 {
		return fmt.Sprintf("is writable by its group or others (mode %v)",
			info.Mode().Perm())
	}
	return ""
}

// storeCache writes p to file as compact JSON, which decodes faster than the indented
// form of [Profile.Write], creating the cache directory when needed.
func storeCache(dir, file string, p *Profile) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("qom: creating the profile cache: %w", err)
	}
	data, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("qom: encoding profile: %w", err)
	}
	return writeAtomic(file, append(data, '\n'))
}
