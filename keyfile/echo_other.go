//go:build !linux && !darwin

package keyfile

import (
	"errors"
	"fmt"
	"os"
	"runtime"
)

var errNotTerminal = errors.New("keyfile: not a terminal")

// echoOff cannot turn echo off on this platform without a terminal
// library setpay does not depend on; rather than show the passphrase it
// refuses to prompt on anything that looks like a terminal.
func echoOff(f *os.File) (restore func() error, err error) {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil, errNotTerminal
	}
	return nil, fmt.Errorf("keyfile: cannot turn off terminal echo on %s; give the passphrase through the environment", runtime.GOOS)
}
