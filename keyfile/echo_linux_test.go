package keyfile

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/setpay/setpay/internal/testenv"
)

// openPTY opens a pseudo-terminal pair with the standard library only.
// A machine without pseudo-terminals skips the test, except in CI: the
// CI machines (Debian) have them, so there their absence is a failure.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		testenv.Missing(t, "no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	var unlock int32
	var n uint32
	rc, err := master.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var errno syscall.Errno
	rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock)))
		if errno == 0 {
			_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n)))
		}
	})
	if errno != 0 {
		testenv.Missing(t, "pseudo-terminal setup: %v", errno)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		testenv.Missing(t, "opening the pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { slave.Close() })
	return master, slave
}

func echoing(t *testing.T, f *os.File) bool {
	t.Helper()
	var tio syscall.Termios
	if errno := ioctlTermios(f.Fd(), ioctlGetTermios, &tio); errno != 0 {
		t.Fatal(errno)
	}
	return tio.Lflag&syscall.ECHO != 0
}

// readUntil reads from the master side until want appears, bounded by a
// deadline so a broken prompt fails instead of hanging.
func readUntil(t *testing.T, master *os.File, seen *bytes.Buffer, want string) {
	t.Helper()
	if err := master.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		testenv.Missing(t, "no read deadline on the pseudo-terminal: %v", err)
	}
	buf := make([]byte, 256)
	for !bytes.Contains(seen.Bytes(), []byte(want)) {
		n, err := master.Read(buf)
		seen.Write(buf[:n])
		if err != nil {
			t.Fatalf("waiting for %q (have %q): %v", want, seen.String(), err)
		}
	}
}

// TestTerminalPromptNoEcho types a passphrase into a real pseudo-terminal:
// the terminal must not show it, and echo must be back on afterwards.
func TestTerminalPromptNoEcho(t *testing.T) {
	master, slave := openPTY(t)
	if !echoing(t, slave) {
		t.Fatal("a new pseudo-terminal should echo")
	}
	type result struct {
		p   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		p, err := TerminalPrompt(slave, slave, "Passphrase: ")()
		done <- result{p, err}
	}()
	var seen bytes.Buffer
	readUntil(t, master, &seen, "Passphrase: ")
	if _, err := master.WriteString("typed s3cret\n"); err != nil {
		t.Fatal(err)
	}
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("prompt did not return")
	}
	if r.err != nil || string(r.p) != "typed s3cret" {
		t.Fatalf("prompt: %q, %v", r.p, r.err)
	}
	readUntil(t, master, &seen, "\r\n") // the prompt's own newline, or the echoed line
	if bytes.Contains(seen.Bytes(), []byte("s3cret")) {
		t.Fatalf("the terminal echoed the passphrase: %q", seen.String())
	}
	if !echoing(t, slave) {
		t.Fatal("echo not restored")
	}
}
