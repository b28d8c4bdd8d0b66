//go:build linux || darwin

package keyfile

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

var errNotTerminal = errors.New("keyfile: not a terminal")

// echoOff turns off echo on the terminal f and returns how to turn it back
// on. It uses the termios ioctls directly: golang.org/x/term is not a
// dependency of setpay, and these two calls are all a prompt needs.
func echoOff(f *os.File) (restore func() error, err error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, errNotTerminal
	}
	var old syscall.Termios
	var errno syscall.Errno
	if cerr := rc.Control(func(fd uintptr) { errno = ioctlTermios(fd, ioctlGetTermios, &old) }); cerr != nil {
		return nil, errNotTerminal
	}
	if errno != 0 {
		// ENOTTY and friends: a pipe or a file, read without prompting tricks.
		return nil, errNotTerminal
	}
	quiet := old
	// Line mode with signals, so Ctrl-C still interrupts and Enter ends
	// the line; only the echo goes (the prompt prints the newline).
	quiet.Lflag &^= syscall.ECHO
	quiet.Lflag |= syscall.ICANON | syscall.ISIG
	quiet.Iflag |= syscall.ICRNL
	if err := rc.Control(func(fd uintptr) { errno = ioctlTermios(fd, ioctlSetTermios, &quiet) }); err != nil {
		return nil, fmt.Errorf("keyfile: turning off terminal echo: %w", err)
	}
	if errno != 0 {
		return nil, fmt.Errorf("keyfile: turning off terminal echo: %w", errno)
	}
	return func() error {
		if err := rc.Control(func(fd uintptr) { errno = ioctlTermios(fd, ioctlSetTermios, &old) }); err != nil {
			return err
		}
		if errno != 0 {
			return errno
		}
		return nil
	}, nil
}

func ioctlTermios(fd uintptr, req uintptr, t *syscall.Termios) syscall.Errno {
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(unsafe.Pointer(t)))
	return errno
}
