//go:build unix

package cadir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockFile is the file in a CA directory whose flock orders the writers of
// CRLs and the BCI (ca serve refreshing them, ca revoke, ca crl: other
// processes, often) against each other and against readers, which must see
// a BCI together with the CRLs it names.
const lockFile = "crl.lock"

// lockDir takes dir's lock, exclusive for writers, shared for readers, and
// returns its release. A reader that cannot create the lock file (a
// read-only copy of a directory) reads unlocked: nothing writes there.
func lockDir(dir string, exclusive bool) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		if !exclusive && (errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EROFS)) {
			return func() {}, nil
		}
		return nil, fmt.Errorf("cadir: lock: %w", err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("cadir: lock: %w", err)
	}
	// Closing the file releases the lock.
	return func() { f.Close() }, nil
}
