package cadir_test

import (
	"context"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/cadir"
	"github.com/setpay/setpay/keyfile"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
	"github.com/setpay/setpay/wire"
)

// fastKDF keeps the tests quick; the format is the same as with the
// default parameters.
var fastKDF = keyfile.Scrypt{LogN: 10, R: 8, P: 1}

var pass = []byte("correct horse battery staple")

func initDir(t *testing.T, st suite.Suite) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ca")
	if err := cadir.Init(dir, cadir.InitOptions{Suite: st, Brand: "TestBrand", Passphrase: pass, KDF: fastKDF}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestInitOpenRegisterRevoke(t *testing.T) {
	for _, st := range []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})} {
		t.Run(string(st.ID()), func(t *testing.T) { testLifecycle(t, st) })
	}
}

func testLifecycle(t *testing.T, st suite.Suite) {
	ctx := context.Background()
	dir := initDir(t, st)
	if err := cadir.Init(dir, cadir.InitOptions{Suite: st, Passphrase: pass, KDF: fastKDF}); err == nil {
		t.Fatal("Init over an existing CA directory succeeded")
	}
	h, err := cadir.Open(dir, pass, cadir.OpenOptions{RootKey: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if h.Config.Brand != "TestBrand" || h.Suite.ID() != st.ID() {
		t.Fatalf("config = %+v, suite %s", h.Config, h.Suite.ID())
	}
	roots := []*pki.Certificate{h.PKI.Root.Cert}

	// A cardholder registers at the CCA, in process.
	expiry := time.Now().AddDate(3, 0, 0).Format("200601")
	reg, err := wallet.Register(ctx, wire.ServeFunc(h.CAs[cadir.CCA].Serve), wallet.RegisterConfig{
		Suite: st, Card: wallet.Card{PAN: "4111111111111111", Expiry: expiry, BrandID: "TestBrand"}, Roots: roots,
	})
	if err != nil {
		t.Fatalf("cardholder registration: %v", err)
	}
	// And the demo's merchant at the MCA, known from the default records.
	mreg, err := merchant.Register(ctx, wire.ServeFunc(h.CAs[cadir.MCA].Serve), merchant.RegisterConfig{
		Suite: st, BrandID: "TestBrand", MerchantID: "MER-0001", AcquirerBIN: "400000", Roots: roots,
		Answers: map[string]string{ca.FieldLegalName: "Corner Bookshop"},
	})
	if err != nil {
		t.Fatalf("merchant registration: %v", err)
	}
	// An unknown merchant is not registered.
	if _, err := merchant.Register(ctx, wire.ServeFunc(h.CAs[cadir.MCA].Serve), merchant.RegisterConfig{
		Suite: st, BrandID: "TestBrand", MerchantID: "MER-9999", AcquirerBIN: "400000", Roots: roots,
		Answers: map[string]string{ca.FieldLegalName: "Nobody"},
	}); err == nil {
		t.Fatal("a merchant missing from the acquirer's records registered")
	}

	cert, err := pki.ParseCertificate(reg.Cert)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.Revoke(ctx, big.NewInt(12345), pki.ReasonKeyCompromise); !errors.Is(err, cadir.ErrUnknownSerial) {
		t.Fatalf("revoking an unknown serial: %v", err)
	}
	name, serial, crlDER, err := h.RevokeCert(ctx, reg.Cert, pki.ReasonKeyCompromise)
	if err != nil {
		t.Fatal(err)
	}
	if name != cadir.CCA || serial.Cmp(cert.SerialNumber) != 0 {
		t.Fatalf("revoked at %s serial %d, want cca %d", name, serial, cert.SerialNumber)
	}
	crl, err := pki.ParseCRL(crlDER)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(h.PKI.CCA.Cert); err != nil {
		t.Fatal(err)
	}
	if e := crl.Lookup(serial); e == nil || e.Reason != pki.ReasonKeyCompromise {
		t.Fatalf("CRL entry for the revoked serial: %+v", e)
	}
	if _, _, err := h.Revoke(ctx, serial, pki.ReasonKeyCompromise); err == nil || !strings.Contains(err.Error(), "already revoked") {
		t.Fatalf("revoking twice: %v", err)
	}
	// A certificate of another hierarchy is refused.
	other := initDir(t, st)
	oh, err := cadir.Open(other, pass, cadir.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer oh.Close()
	if _, _, _, err := oh.RevokeCert(ctx, reg.Cert, pki.ReasonKeyCompromise); err == nil {
		t.Fatal("another hierarchy revoked our certificate")
	}

	// The chain now fails with the CRL; the merchant's still passes.
	opts := pki.VerifyOptions{Roots: roots, Intermediates: []*pki.Certificate{h.PKI.Brand.Cert, h.PKI.CCA.Cert, h.PKI.MCA.Cert}, CRLs: []*pki.CRL{crl}}
	if _, err := cert.Verify(opts); !errors.Is(err, pki.ErrRevoked) {
		t.Fatalf("revoked cardholder certificate verifies: %v", err)
	}
	mcert, err := pki.ParseCertificate(mreg.SigCert)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mcert.Verify(opts); err != nil {
		t.Fatalf("merchant certificate: %v", err)
	}

	// CRLs and the BCI written out cover all three CAs and list the serial.
	out := filepath.Join(t.TempDir(), "crl")
	files, err := h.WriteCRLs(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 11 {
		t.Fatalf("wrote %v", files)
	}
	var crls []*pki.CRL
	for _, n := range cadir.IssuingCAs {
		b, err := os.ReadFile(filepath.Join(out, n+".crl"))
		if err != nil {
			t.Fatal(err)
		}
		c, err := pki.ParseCRL(b)
		if err != nil {
			t.Fatal(err)
		}
		if c.Number.Cmp(crl.Number) <= 0 && n == cadir.CCA {
			t.Fatalf("CRL number did not increase: %d after %d", c.Number, crl.Number)
		}
		if (c.Lookup(serial) != nil) != (n == cadir.CCA) {
			t.Fatalf("%s CRL lists the serial: %v", n, c.Lookup(serial) != nil)
		}
		crls = append(crls, c)
	}
	b, err := os.ReadFile(filepath.Join(out, "brand.bci"))
	if err != nil {
		t.Fatal(err)
	}
	bci, err := pki.ParseBrandCRLIdentifier(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := bci.Verify(h.PKI.Brand.Cert); err != nil {
		t.Fatal(err)
	}
	b, err = os.ReadFile(filepath.Join(out, "brand.crl"))
	if err != nil {
		t.Fatal(err)
	}
	bcrl, err := pki.ParseCRL(b)
	if err != nil {
		t.Fatal(err)
	}
	crls = append(crls, bcrl)
	b, err = os.ReadFile(filepath.Join(out, "root.crl"))
	if err != nil {
		t.Fatal(err)
	}
	rcrl, err := pki.ParseCRL(b)
	if err != nil {
		t.Fatal(err)
	}
	crls = append(crls, rcrl)
	if err := bci.Covers(crls, []*pki.Certificate{h.PKI.Root.Cert, h.PKI.Brand.Cert, h.PKI.CCA.Cert, h.PKI.MCA.Cert, h.PKI.PCA.Cert}); err != nil {
		t.Fatal(err)
	}
	// With every CRL the brand lists, a chain can be held to them all.
	strict := opts
	strict.CRLs, strict.BrandCRLIdentifier = crls, bci
	if _, err := mcert.Verify(strict); err != nil {
		t.Fatalf("merchant certificate with the brand's CRLs and BCI: %v", err)
	}
	if _, err := cert.Verify(strict); !errors.Is(err, pki.ErrRevoked) {
		t.Fatalf("revoked cardholder certificate with the brand's CRLs and BCI: %v", err)
	}
	if len(bci.CRLIdentifiers) != 5 || !bci.CurrentAt(time.Now()) {
		t.Fatalf("BCI: %d identifiers, current %v", len(bci.CRLIdentifiers), bci.CurrentAt(time.Now()))
	}

	// Revocations persist: a reopened hierarchy issues them again.
	h.Close()
	h2, err := cadir.Open(dir, pass, cadir.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	again, err := h2.IssueCRL(ctx, cadir.CCA)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := pki.ParseCRL(again); err != nil || c.Lookup(serial) == nil {
		t.Fatalf("reopened CCA's CRL lacks the serial (%v)", err)
	}
}

func TestWrongPassphrase(t *testing.T) {
	dir := initDir(t, suite.NewModern())
	_, err := cadir.Open(dir, []byte("wrong"), cadir.OpenOptions{})
	if !errors.Is(err, keyfile.ErrWrongPassphrase) {
		t.Fatalf("Open with a wrong passphrase: %v", err)
	}
	if !strings.Contains(err.Error(), "wrong passphrase") || !strings.Contains(err.Error(), ".key") {
		t.Fatalf("error does not say what failed: %v", err)
	}
	if _, err := cadir.Open(t.TempDir(), pass, cadir.OpenOptions{}); err == nil || !strings.Contains(err.Error(), "ca init") {
		t.Fatalf("Open of an empty directory: %v", err)
	}
}

func TestKeyFileModes(t *testing.T) {
	dir := initDir(t, suite.NewModern())
	keys, err := filepath.Glob(filepath.Join(dir, "*.key"))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 8 { // root, brand, 3 CAs, 3 exchange keys
		t.Fatalf("key files: %v", keys)
	}
	for _, k := range keys {
		fi, err := os.Stat(k)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", k, fi.Mode().Perm())
		}
		b, err := os.ReadFile(k)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), "-----BEGIN "+keyfile.PEMType) {
			t.Errorf("%s is not a sealed key file", k)
		}
	}
	for _, f := range []string{"root.der", "root.pem", "brand.der", "cca.der", "cca-exchange.der", "mca-exchange.pem", "pca.pem", "cca.db", cadir.ConfigFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}
