package main

import (
	"bytes"
	"crypto/rand"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/setpay/setpay/bank"
	"github.com/setpay/setpay/bank/iso8583"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/suite"
)

// hierarchy makes a brand's CA certificates under st.
func hierarchy(t *testing.T, st suite.Suite) *pki.Hierarchy {
	t.Helper()
	h, err := pki.NewHierarchy(rand.Reader, "SETpay", st.NewSigningKey, st.Hash(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestSuiteOf(t *testing.T) {
	for _, id := range []suite.ID{suite.Modern, suite.Set1} {
		if id == suite.Set1 && testing.Short() {
			continue // RSA key generation is slow
		}
		st, err := suite.ByID(id)
		if err != nil {
			t.Fatal(err)
		}
		h := hierarchy(t, st)
		got, err := suiteOf(h.Root.Cert)
		if err != nil || got.ID() != id {
			t.Errorf("suiteOf(%s root) = %v, %v", id, got, err)
		}
	}
	if _, err := suiteOf(&pki.Certificate{PublicKey: "not a key"}); err == nil {
		t.Error("suiteOf accepted a key of no suite")
	}
}

func TestParseCertificates(t *testing.T) {
	h := hierarchy(t, suite.NewModern())
	a, b := h.Root.Cert.Raw, h.Brand.Cert.Raw
	if got, err := parseCertificates(a); err != nil || len(got) != 1 || !bytes.Equal(got[0], a) {
		t.Errorf("DER: %d certificates, %v", len(got), err)
	}
	var p []byte
	p = append(p, "a comment\n"...)
	p = append(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a})...)
	p = append(p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}})...)
	p = append(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: b})...)
	got, err := parseCertificates(p)
	if err != nil || len(got) != 2 || !bytes.Equal(got[0], a) || !bytes.Equal(got[1], b) {
		t.Errorf("PEM: %d certificates, %v", len(got), err)
	}
	for _, in := range [][]byte{nil, []byte("hello"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}})} {
		if _, err := parseCertificates(in); err == nil {
			t.Errorf("parseCertificates(%q) accepted", in)
		}
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "root.pem"), p, 0o644); err != nil {
		t.Fatal(err)
	}
	roots, err := readRoot(filepath.Join(dir, "root.pem"))
	if err != nil || len(roots) != 1 || !bytes.Equal(roots[0].Raw, a) {
		t.Errorf("readRoot: %v", err)
	}
	if _, err := readRoot(filepath.Join(dir, "missing.der")); err == nil {
		t.Error("readRoot of a missing file succeeded")
	}
}

func TestReadChain(t *testing.T) {
	dir := t.TempDir()
	if _, err := readChain(dir); err == nil {
		t.Error("an empty directory gave a chain")
	}
	for i, s := range []string{"one", "two", "", "four"} {
		if s == "" {
			continue // a gap ends the chain
		}
		if err := os.WriteFile(filepath.Join(dir, "chain-"+string(rune('1'+i))+".der"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := readChain(dir)
	if err != nil || len(got) != 2 || string(got[0]) != "one" || string(got[1]) != "two" {
		t.Errorf("readChain = %q, %v", got, err)
	}
}

func TestParseXID(t *testing.T) {
	x, err := parseXID("0102030405060708090a0b0c0d0e0f1011121314")
	if err != nil || x[0] != 1 || x[19] != 0x14 {
		t.Errorf("parseXID = %x, %v", x, err)
	}
	for _, in := range []string{"", "01", "zz02030405060708090a0b0c0d0e0f1011121314", "0102030405060708090a0b0c0d0e0f101112131415"} {
		if _, err := parseXID(in); err == nil {
			t.Errorf("parseXID(%q) accepted", in)
		}
	}
	if storePath("", "/d", "m.db") != filepath.Join("/d", "m.db") || storePath("/x.db", "/d", "m.db") != "/x.db" {
		t.Error("storePath")
	}
}

func TestWaitForIssuer(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &iso8583.Server{Handler: bank.NewHost(bank.NewIssuer(bank.NewLedger(db, nil)), log).Handle, Log: log, GracePeriod: time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	c := iso8583.NewClient(ln.Addr().String(), iso8583.ClientConfig{Log: log})
	defer c.Close()
	if err := waitForIssuer(t.Context(), c, 5*time.Second); err != nil {
		t.Errorf("a running host: %v", err)
	}

	// Nothing listens on a closed port: the wait ends with the error.
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := dead.Addr().String()
	dead.Close()
	c2 := iso8583.NewClient(addr, iso8583.ClientConfig{Log: log, Attempts: 1})
	defer c2.Close()
	if err := waitForIssuer(t.Context(), c2, time.Second); err == nil {
		t.Error("no host, yet the echo was answered")
	}
}
