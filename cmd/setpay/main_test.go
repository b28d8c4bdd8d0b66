package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/spf13/cobra"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"setpay": func() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the CLI scenarios in testdata/*.txtar: what a user
// types and what they see.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// unhex IN OUT writes the bytes a hex text file spells, so
			// scripts can carry binary DER.
			"unhex": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: unhex IN OUT")
				}
				b, err := hex.DecodeString(strings.Join(strings.Fields(ts.ReadFile(args[0])), ""))
				ts.Check(err)
				ts.Check(os.WriteFile(ts.MkAbs(args[1]), b, 0o644))
			},
			// waitaddr VAR FILE waits, up to 30 seconds, for FILE to
			// appear and sets VAR to the loopback host:port in it: a
			// service started in the background with --listen
			// 127.0.0.1:0 --addr-file FILE writes it once it listens, so
			// no script needs a fixed port.
			"waitaddr": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 || neg {
					ts.Fatalf("usage: waitaddr VAR FILE")
				}
				addr, err := waitAddrFile(ts.MkAbs(args[1]), 30*time.Second)
				ts.Check(err)
				ts.Setenv(args[0], addr)
			},
			// deadaddr VAR sets VAR to a loopback host:port that refuses
			// connections for the rest of the script: a socket holds the
			// port without listening, so nothing else can take it.
			"deadaddr": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 || neg {
					ts.Fatalf("usage: deadaddr VAR")
				}
				addr, release, err := deadAddr()
				ts.Check(err)
				ts.Defer(release)
				ts.Setenv(args[0], addr)
			},
			// cardexpiry VAR sets VAR to the expiry (YYYYMM) 'setpay bank
			// --seed' gives the demo's cards this month, so a script can
			// register a card the seeded bank knows.
			"cardexpiry": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 || neg {
					ts.Fatalf("usage: cardexpiry VAR")
				}
				ts.Setenv(args[0], time.Now().AddDate(3, 0, 0).Format("200601"))
			},
		},
	})
}

// waitAddrFile polls for path until it exists or wait has passed, and
// returns the address in it, which must be a loopback host:port.
func waitAddrFile(path string, wait time.Duration) (string, error) {
	deadline := time.Now().Add(wait)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			return parseLoopbackAddr(path, string(b))
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no address in %s after %v: the service did not start listening (its output comes at 'wait' or the end)", path, wait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// parseLoopbackAddr checks that s, from the address file path, is one
// line "host:port" with a loopback IP and a port other than 0.
func parseLoopbackAddr(path, s string) (string, error) {
	addr, ok := strings.CutSuffix(s, "\n")
	if !ok || strings.ContainsAny(addr, "\r\n \t") {
		return "", fmt.Errorf("%s: %q is not one line host:port", path, s)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("%s: %q: %w", path, addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("%s: %q: host is not a loopback IP address", path, addr)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return "", fmt.Errorf("%s: %q: port is not 1 to 65535", path, addr)
	}
	return addr, nil
}

// deadAddr binds a TCP socket to a free port of 127.0.0.1 and never
// listens on it: connecting there is refused at once, and, the port being
// taken, no other process listens there until release. (A port merely
// found free could be handed to anyone the moment after.)
func deadAddr() (addr string, release func(), err error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		return "", nil, fmt.Errorf("socket: %w", err)
	}
	release = func() { syscall.Close(fd) }
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		release()
		return "", nil, fmt.Errorf("bind: %w", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		release()
		return "", nil, fmt.Errorf("getsockname: %w", err)
	}
	sa4, ok := sa.(*syscall.SockaddrInet4)
	if !ok || sa4.Port == 0 {
		release()
		return "", nil, fmt.Errorf("bound to %v, not a port of 127.0.0.1", sa)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(sa4.Port)), release, nil
}

func TestParseLoopbackAddr(t *testing.T) {
	for _, s := range []string{"127.0.0.1:8443\n", "[::1]:1\n", "127.9.9.9:65535\n"} {
		if got, err := parseLoopbackAddr("f", s); err != nil || got != strings.TrimSuffix(s, "\n") {
			t.Errorf("%q: %q, %v", s, got, err)
		}
	}
	for _, s := range []string{
		"", "\n", "127.0.0.1:8443", "127.0.0.1:8443\n\n", " 127.0.0.1:8443\n",
		"127.0.0.1\n", "127.0.0.1:0\n", "127.0.0.1:65536\n", "127.0.0.1:http\n",
		"0.0.0.0:8443\n", "[::]:8443\n", "192.0.2.1:8443\n", "localhost:8443\n",
	} {
		if got, err := parseLoopbackAddr("f", s); err == nil {
			t.Errorf("%q accepted as %q", s, got)
		}
	}
}

func TestWaitAddrFileGivesUp(t *testing.T) {
	if _, err := waitAddrFile(filepath.Join(t.TempDir(), "none.addr"), 100*time.Millisecond); err == nil || !strings.Contains(err.Error(), "did not start listening") {
		t.Fatalf("no file: %v", err)
	}
}

// TestServiceListen checks what --addr-file promises: the address bound
// (port 0 resolved), written whole, removed when the listener closes; and
// a taken address is a clear error that publishes nothing.
func TestServiceListen(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "svc.addr")
	cmd := &cobra.Command{}
	registerAddrFileFlag(cmd)
	if err := cmd.Flags().Set("addr-file", file); err != nil {
		t.Fatal(err)
	}
	ln, err := serviceListen(cmd, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr, err := waitAddrFile(file, time.Second)
	if err != nil || addr != ln.Addr().String() {
		t.Fatalf("addr file says %q (%v); listening on %s", addr, err, ln.Addr())
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dialing the published address: %v", err)
	}
	c.Close()

	taken := filepath.Join(dir, "taken.addr")
	if err := cmd.Flags().Set("addr-file", taken); err != nil {
		t.Fatal(err)
	}
	if ln2, err := serviceListen(cmd, addr); err == nil {
		ln2.Close()
		t.Fatalf("a second listener on %s", addr)
	} else if !strings.HasPrefix(err.Error(), "--listen "+addr+": ") || !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("taken address: %v", err)
	}
	if _, err := os.Stat(taken); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed listen published %s: %v", taken, err)
	}

	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("address file left after Close: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left in the directory: %v", ents)
	}

	if err := cmd.Flags().Set("addr-file", filepath.Join(dir, "no", "such", "dir.addr")); err != nil {
		t.Fatal(err)
	}
	if ln3, err := serviceListen(cmd, "127.0.0.1:0"); err == nil {
		ln3.Close()
		t.Error("an unwritable --addr-file was accepted")
	} else if !strings.HasPrefix(err.Error(), "--addr-file: ") {
		t.Errorf("unwritable --addr-file: %v", err)
	}
}

// TestDeadAddr checks the address deadaddr hands scripts refuses
// connections and cannot be taken while held.
func TestDeadAddr(t *testing.T) {
	addr, release, err := deadAddr()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if _, err := parseLoopbackAddr("deadaddr", addr+"\n"); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
		c.Close()
		t.Fatalf("connected to %s", addr)
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dialing %s: %v, want connection refused", addr, err)
	}
	if ln, err := net.Listen("tcp", addr); err == nil {
		ln.Close()
		t.Errorf("listened on the held %s", addr)
	}
}
