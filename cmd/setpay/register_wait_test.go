package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/setpay/setpay/suite"
)

// TestRegisterWaitsForCA is what a script that starts 'setpay ca serve'
// in the background and registers at once relies on: 'register --wait'
// keeps asking while the CA's address refuses connections, and completes
// once the CA listens there. The CA is started only after each command's
// first request was refused, so the retry is what makes them succeed.
func TestRegisterWaitsForCA(t *testing.T) {
	for _, id := range []suite.ID{suite.Modern, suite.Set1} {
		t.Run(string(id), func(t *testing.T) {
			dir := t.TempDir()
			pass := passphraseFile(t, dir)
			cadir := filepath.Join(dir, "ca")
			if out, err := runSetpay(t.Context(), "ca", "init", "--dir", cadir, "--suite", string(id), "--passphrase-file", pass, "--insecure-fast-kdf"); err != nil {
				t.Fatalf("ca init: %v\n%s", err, out)
			}
			addr := reservedAddr(t)
			refused := countRefusals(t)
			common := []string{"--root", filepath.Join(cadir, "root.der"), "--suite", string(id), "--passphrase-file", pass, "--insecure-fast-kdf", "--wait", "2m"}
			regs := map[string][]string{
				"/cca": append([]string{"wallet", "register", "--ca", "http://" + addr + "/cca", "--pan", "4111111111111111", "--expiry", "209912", "--out", filepath.Join(dir, "alice")}, common...),
				"/mca": append([]string{"merchant", "register", "--ca", "http://" + addr + "/mca", "--merid", "MER-0001", "--bin", "400000", "--name", "Corner Bookshop", "--out", filepath.Join(dir, "shop")}, common...),
			}
			type result struct {
				path, out string
				err       error
			}
			done := make(chan result, len(regs))
			// On a failure, t.Context is cancelled, and the commands end
			// before countRefusals's cleanup restores the transport.
			var running sync.WaitGroup
			t.Cleanup(running.Wait)
			for path, args := range regs {
				running.Go(func() {
					out, err := runSetpay(t.Context(), args...)
					done <- result{path, out, err}
				})
			}

			// The CA comes up only once both requests were refused.
			for path := range regs {
				select {
				case <-refused.first(path):
				case r := <-done:
					t.Fatalf("%s finished before the CA was started: %v\n%s", r.path, r.err, r.out)
				case <-time.After(time.Minute):
					t.Fatalf("no connection to %s refused within a minute", path)
				}
			}
			caCtx, stopCA := context.WithCancel(t.Context())
			caDone := make(chan result, 1)
			go func() {
				out, err := runSetpay(caCtx, "ca", "serve", "--dir", cadir, "--listen", addr, "--passphrase-file", pass)
				caDone <- result{"ca serve", out, err}
			}()
			defer func() {
				stopCA()
				if r := <-caDone; r.err != nil {
					t.Errorf("ca serve: %v\n%s", r.err, r.out)
				}
			}()

			for range regs {
				select {
				case r := <-done:
					if r.err != nil {
						t.Fatalf("%s: register failed once the CA was up: %v\n%s", r.path, r.err, r.out)
					}
					if !strings.Contains(r.out, "registered ") {
						t.Errorf("%s: output %q does not report the registration", r.path, r.out)
					}
					if n := refused.count(r.path); n < 1 {
						t.Errorf("%s: %d refused attempts recorded", r.path, n)
					}
				case r := <-caDone:
					t.Fatalf("ca serve stopped before the registrations completed: %v\n%s", r.err, r.out)
				case <-time.After(2 * time.Minute):
					t.Fatal("registrations did not complete within two minutes of the CA starting")
				}
			}
			for _, f := range []string{"alice/cardholder.der", "alice/cardholder.key", "alice/card.sealed", "shop/signing.der", "shop/exchange.der", "shop/signing.key"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("after registering: %v", err)
				}
			}
		})
	}
}

// TestRegisterWaitGivesUp: when nothing ever listens at the CA's address,
// 'register --wait' keeps trying for the whole --wait and then fails,
// saying the connection was refused and where.
func TestRegisterWaitGivesUp(t *testing.T) {
	dir := t.TempDir()
	pass := passphraseFile(t, dir)
	cadir := filepath.Join(dir, "ca")
	if out, err := runSetpay(t.Context(), "ca", "init", "--dir", cadir, "--passphrase-file", pass, "--insecure-fast-kdf"); err != nil {
		t.Fatalf("ca init: %v\n%s", err, out)
	}
	addr := reservedAddr(t)
	refused := countRefusals(t)
	const wait = 400 * time.Millisecond
	start := time.Now()
	out, err := runSetpay(t.Context(), "merchant", "register", "--ca", "http://"+addr+"/mca", "--root", filepath.Join(cadir, "root.der"),
		"--merid", "MER-0001", "--bin", "400000", "--name", "Corner Bookshop", "--out", filepath.Join(dir, "shop"),
		"--passphrase-file", pass, "--insecure-fast-kdf", "--wait", wait.String())
	elapsed := time.Since(start)
	if err == nil {
		t.Fatalf("register succeeded with nothing listening at %s:\n%s", addr, out)
	}
	msg := err.Error()
	for _, want := range []string{"registration", "connection refused", addr} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("error %v does not wrap ECONNREFUSED", err)
	}
	// It gives up only once the whole --wait has passed (a lower bound the
	// code guarantees, however slow the machine).
	if elapsed < wait {
		t.Errorf("gave up after %v, before --wait %v ran out", elapsed, wait)
	}
	if n := refused.count("/mca"); n < 1 {
		t.Errorf("%d refused attempts recorded", n)
	}
	if ents, err := os.ReadDir(filepath.Join(dir, "shop")); err != nil || len(ents) != 0 {
		t.Errorf("--out after a failed registration: %d entries, %v; want it empty", len(ents), err)
	}
}

// runSetpay runs the CLI in process under ctx and returns what it wrote
// to standard output and standard error.
func runSetpay(ctx context.Context, args ...string) (string, error) {
	var out lockedBuffer
	root := newRoot(&out, &out)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return out.String(), err
}

// lockedBuffer is a bytes.Buffer for writers on several goroutines: a
// service logs from its handlers while its command prints.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func passphraseFile(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "pass")
	if err := os.WriteFile(p, []byte("a test passphrase\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// reservedAddr returns a loopback host:port that refuses connections
// until something listens on it. A socket with SO_REUSEADDR holds the
// port without listening for the rest of the test: other programs cannot
// take it, but a listener (Go's set SO_REUSEADDR too) can, as
// 'ca serve --listen' does here.
func reservedAddr(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("socket: %v", err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		t.Fatalf("SO_REUSEADDR: %v", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatalf("bind: %v", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatalf("getsockname: %v", err)
	}
	sa4, ok := sa.(*syscall.SockaddrInet4)
	if !ok || sa4.Port == 0 {
		t.Fatalf("bound to %v, not a port of 127.0.0.1", sa)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(sa4.Port))
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatalf("%s accepted a connection while reserved", addr)
	}
	return addr
}

// refusals counts, by URL path, the HTTP requests whose connection was
// refused.
type refusals struct {
	next http.RoundTripper

	mu     sync.Mutex
	n      map[string]int
	signal map[string]chan struct{}
}

// countRefusals puts a refusals in front of http.DefaultTransport, which
// the registration commands' HTTP client uses, until the test ends. The
// tests of this package that use it do not run in parallel.
func countRefusals(t *testing.T) *refusals {
	r := &refusals{next: http.DefaultTransport, n: map[string]int{}, signal: map[string]chan struct{}{}}
	http.DefaultTransport = r
	t.Cleanup(func() { http.DefaultTransport = r.next })
	return r
}

func (r *refusals) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := r.next.RoundTrip(req)
	if errors.Is(err, syscall.ECONNREFUSED) {
		r.mu.Lock()
		if r.n[req.URL.Path]++; r.n[req.URL.Path] == 1 {
			close(r.signalLocked(req.URL.Path))
		}
		r.mu.Unlock()
	}
	return res, err
}

// first returns a channel closed once a request to path was refused.
func (r *refusals) first(path string) <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.signalLocked(path)
}

func (r *refusals) signalLocked(path string) chan struct{} {
	c, ok := r.signal[path]
	if !ok {
		c = make(chan struct{})
		r.signal[path] = c
	}
	return c
}

func (r *refusals) count(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[path]
}
