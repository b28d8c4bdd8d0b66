package keyfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/setpay/setpay/internal/atomicfile"
)

// ErrFileMode means a key file, or the file a write would replace, may be
// read by group or other.
var ErrFileMode = errors.New("keyfile: key file is readable by group or other")

// maxFileSize bounds what ReadFile reads: the PEM of the largest
// ciphertext the decoder accepts, with room to spare.
const maxFileSize = 64 << 10

// WriteFile creates a key file at path with mode 0600 and writes b, then
// flushes it and its directory to disk. It never overwrites: an existing
// path is an error wrapping fs.ErrExist (use ReplaceFile to rotate a key).
func WriteFile(path string, b []byte) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("keyfile: refusing to overwrite the existing key file %s: %w", path, fs.ErrExist)
		}
		return fmt.Errorf("keyfile: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(path)
		}
	}()
	if err := writeSynced(f, b); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// ReplaceFile writes b to path with mode 0600, replacing any existing key
// file atomically (a temporary file in the same directory, renamed over
// it), so a crash leaves either the old key or the new one. It refuses to
// replace a file that is not a regular file or whose mode lets group or
// other read it: such a key must be considered exposed, and the operator
// should see that rather than have it silently tidied away.
func ReplaceFile(path string, b []byte) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("keyfile: %w", err)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("keyfile: refusing to replace %s: not a regular file (%s)", path, fi.Mode().Type())
	default:
		if err := checkMode(path, fi.Mode()); err != nil {
			return err
		}
	}
	if err := atomicfile.Write(path, b, 0o600); err != nil {
		return fmt.Errorf("keyfile: %w", err)
	}
	return nil
}

// writeSynced writes b, forces mode 0600 whatever the umask or an earlier
// file did, and syncs and closes f.
func writeSynced(f *os.File, b []byte) error {
	if err := f.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		return fmt.Errorf("keyfile: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		return fmt.Errorf("keyfile: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("keyfile: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("keyfile: %w", err)
	}
	return nil
}

// syncDir makes the directory entry of a new or renamed file durable.
// Windows cannot sync a directory; there the rename itself is durable.
func syncDir(dir string) error {
	if err := atomicfile.SyncDir(dir); err != nil {
		return fmt.Errorf("keyfile: %w", err)
	}
	return nil
}

// ReadFile reads a key file, refusing anything but a regular file of mode
// 0600 or narrower (on Windows, where mode bits do not describe access,
// the mode is not checked) and anything larger than a key file can be.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keyfile: %w", err)
	}
	defer f.Close()
	// Stat the open file, not the path, so the checks apply to what is read.
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("keyfile: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("keyfile: %s is not a regular file (%s)", path, fi.Mode().Type())
	}
	if err := checkMode(path, fi.Mode()); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("keyfile: %w", err)
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("keyfile: %s is larger than %d bytes; not a key file", path, maxFileSize)
	}
	return b, nil
}

func checkMode(path string, m fs.FileMode) error {
	if runtime.GOOS == "windows" || m.Perm()&0o077 == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s has mode %04o, want 0600 (chmod 600 %s)", ErrFileMode, path, m.Perm(), path)
}
