package cadir_test

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/cadir"
	"github.com/setpay/setpay/internal/testenv"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/transport"
	"github.com/setpay/setpay/wallet"
)

// serveDir serves the issuing CAs of h and its CRLNotification on
// loopback, as 'setpay ca serve' does.
func serveDir(t *testing.T, h *cadir.Hierarchy) string {
	t.Helper()
	mux := http.NewServeMux()
	for _, name := range cadir.IssuingCAs {
		mux.Handle("/"+name, transport.Handler(h.CAs[name].Serve, nil))
	}
	mux.Handle("/crl", h.Notifier(nil))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func remoteCode(err error) msg.ErrorCode {
	if re, ok := errors.AsType[*msg.RemoteError](err); ok {
		return re.TBS.ErrorCode
	}
	return msg.CodeOf(err)
}

// A fresh directory has a current CRL of every CA and a BCI naming them:
// a registered certificate verifies with CRLs required, from the start.
func TestInitialCRLs(t *testing.T) {
	st := suite.NewModern()
	dir := initDir(t, st)
	h, err := cadir.Open(dir, pass, cadir.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	roots := []*pki.Certificate{h.PKI.Root.Cert}
	reg, err := wallet.Register(context.Background(), &transport.Client{URL: serveDir(t, h) + "/cca"}, wallet.RegisterConfig{
		Suite: st, Card: wallet.Card{PAN: "4111111111111111", Expiry: time.Now().AddDate(3, 0, 0).Format("200601"), BrandID: "TestBrand"}, Roots: roots,
	})
	if err != nil {
		t.Fatal(err)
	}
	src := cadir.DirRevocation(dir)
	crls, bci, err := src.Revocation(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(crls) != 5 || bci == nil || len(bci.CRLIdentifiers) != 5 {
		t.Fatalf("initial state: %d CRLs, BCI %v", len(crls), bci)
	}
	v := pki.RevocationVerifier(src, pki.VerifyOptions{Roots: roots, RequireCRLs: true})
	if _, err := v(reg.Cert, reg.Chain); err != nil {
		t.Fatalf("registered certificate with CRLs required: %v", err)
	}
	// Without the CRLs, requiring them fails: the check is real.
	if _, err := pki.CertVerifier(pki.VerifyOptions{Roots: roots, RequireCRLs: true})(reg.Cert, reg.Chain); !errors.Is(err, pki.ErrNoCRL) {
		t.Fatalf("RequireCRLs without CRLs: %v, want ErrNoCRL", err)
	}
}

// A revoked cardholder or merchant CA refuses registration over HTTP with
// revokedCertificate; the others keep working.
func TestRevokedCARefusesRegistration(t *testing.T) {
	for _, st := range []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})} {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			dir := initDir(t, st)
			h, err := cadir.Open(dir, pass, cadir.OpenOptions{RootKey: true})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			url := serveDir(t, h)
			roots := []*pki.Certificate{h.PKI.Root.Cert}
			for _, name := range []string{cadir.CCA, cadir.MCA} {
				a, _ := h.Authority(name)
				by, _, _, err := h.RevokeCert(ctx, a.Cert.Raw, pki.ReasonCACompromise)
				if err != nil || by != cadir.Brand {
					t.Fatalf("revoking the %s: revoked by %q, %v", name, by, err)
				}
			}
			card := wallet.Card{PAN: "4111111111111111", Expiry: time.Now().AddDate(3, 0, 0).Format("200601"), BrandID: "TestBrand"}
			reg, err := wallet.Register(ctx, &transport.Client{URL: url + "/cca"}, wallet.RegisterConfig{Suite: st, Card: card, Roots: roots})
			if reg != nil || remoteCode(err) != msg.RevokedCertificate {
				t.Fatalf("cardholder registration at a revoked CCA: %v, %v; want revokedCertificate", reg, err)
			}
			mreg, err := merchant.Register(ctx, &transport.Client{URL: url + "/mca"}, merchant.RegisterConfig{
				Suite: st, BrandID: "TestBrand", MerchantID: "MER-0001", AcquirerBIN: "400000", Roots: roots,
				Answers: map[string]string{ca.FieldLegalName: "Corner Bookshop"},
			})
			if mreg != nil || remoteCode(err) != msg.RevokedCertificate {
				t.Fatalf("merchant registration at a revoked MCA: %v, %v; want revokedCertificate", mreg, err)
			}
			// The brand's CRL lists both CAs; the BCI names it.
			crls, bci, err := cadir.DirRevocation(dir).Revocation(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range crls {
				if c.CheckSignatureFrom(h.PKI.Brand.Cert) == nil {
					if c.Lookup(h.PKI.CCA.Cert.SerialNumber) == nil || c.Lookup(h.PKI.MCA.Cert.SerialNumber) == nil {
						t.Fatal("brand CRL does not list the revoked CAs")
					}
				}
			}
			all := []*pki.Certificate{h.PKI.Root.Cert, h.PKI.Brand.Cert, h.PKI.CCA.Cert, h.PKI.MCA.Cert, h.PKI.PCA.Cert}
			if err := bci.Covers(crls, all); err != nil {
				t.Fatalf("BCI does not name the current CRLs: %v", err)
			}
		})
	}
}

// Revoking the brand CA is the root's business: it needs the root's key.
func TestRevokeBrandAtRoot(t *testing.T) {
	ctx := context.Background()
	dir := initDir(t, suite.NewModern())
	h, err := cadir.Open(dir, pass, cadir.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := h.RevokeCert(ctx, h.PKI.Brand.Cert.Raw, pki.ReasonCACompromise); !errors.Is(err, cadir.ErrRootKeyClosed) {
		t.Fatalf("revoking the brand without the root key: %v", err)
	}
	h.Close()
	if h, err = cadir.Open(dir, pass, cadir.OpenOptions{RootKey: true}); err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	by, _, der, err := h.RevokeCert(ctx, h.PKI.Brand.Cert.Raw, pki.ReasonCACompromise)
	if err != nil || by != cadir.Root {
		t.Fatalf("revoking the brand: by %q, %v", by, err)
	}
	crl, err := pki.ParseCRL(der)
	if err != nil || crl.CheckSignatureFrom(h.PKI.Root.Cert) != nil || crl.Lookup(h.PKI.Brand.Cert.SerialNumber) == nil {
		t.Fatalf("root CRL does not list the brand: %v", err)
	}
	// Every CA below the brand now refuses to act.
	_, err = wallet.Register(ctx, &transport.Client{URL: serveDir(t, h) + "/cca"}, wallet.RegisterConfig{
		Suite: h.Suite, Card: wallet.Card{PAN: "4111111111111111", Expiry: time.Now().AddDate(3, 0, 0).Format("200601"), BrandID: "TestBrand"},
		Roots: []*pki.Certificate{h.PKI.Root.Cert},
	})
	if remoteCode(err) != msg.RevokedCertificate {
		t.Fatalf("registration under a revoked brand: %v", err)
	}
}

// openssl agrees: a cardholder chain verifies against the CRLs 'setpay ca
// crl' writes, and fails once its CA is revoked at the brand.
func TestOpenSSLRevokedCA(t *testing.T) {
	bin := testenv.OpenSSL(t)
	ctx := context.Background()
	st := suite.NewModern()
	dir := initDir(t, st)
	h, err := cadir.Open(dir, pass, cadir.OpenOptions{RootKey: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	reg, err := wallet.Register(ctx, &transport.Client{URL: serveDir(t, h) + "/cca"}, wallet.RegisterConfig{
		Suite: st, Card: wallet.Card{PAN: "4111111111111111", Expiry: time.Now().AddDate(3, 0, 0).Format("200601"), BrandID: "TestBrand"},
		Roots: []*pki.Certificate{h.PKI.Root.Cert},
	})
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	leaf := filepath.Join(work, "card.pem")
	untrusted := filepath.Join(work, "chain.pem")
	writePEM(t, leaf, "CERTIFICATE", reg.Cert)
	writePEM(t, untrusted, "CERTIFICATE", h.PKI.Brand.Cert.Raw, h.PKI.CCA.Cert.Raw)
	verify := func() (string, error) {
		out := filepath.Join(work, "pub")
		if _, err := h.WriteCRLs(ctx, out); err != nil {
			t.Fatal(err)
		}
		var crls [][]byte
		for _, n := range cadir.AllCAs {
			b, err := os.ReadFile(filepath.Join(out, n+".crl"))
			if err != nil {
				t.Fatal(err)
			}
			crls = append(crls, b)
		}
		crlFile := filepath.Join(work, "crls.pem")
		writePEM(t, crlFile, "X509 CRL", crls...)
		b, err := exec.Command(bin, "verify", "-ignore_critical", "-crl_check_all",
			"-CAfile", filepath.Join(dir, "root.pem"), "-untrusted", untrusted, "-CRLfile", crlFile, leaf).CombinedOutput()
		return string(b), err
	}
	if out, err := verify(); err != nil || !strings.Contains(out, ": OK") {
		t.Fatalf("openssl verify before revocation: %v\n%s", err, out)
	}
	if _, _, _, err := h.RevokeCert(ctx, h.PKI.CCA.Cert.Raw, pki.ReasonCACompromise); err != nil {
		t.Fatal(err)
	}
	if out, err := verify(); err == nil || !strings.Contains(out, "revoked") {
		t.Fatalf("openssl verify accepted a chain through a revoked CA: %v\n%s", err, out)
	}
}

func writePEM(t *testing.T, path, typ string, ders ...[]byte) {
	t.Helper()
	var b strings.Builder
	for _, d := range ders {
		b.Write(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: d}))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(fmt.Errorf("writing %s: %w", path, err))
	}
}

// The BCI's sequence number (31 bits in SET) keeps counting past 2038,
// when seconds since 1970 no longer fit, and never goes backwards.
func TestBCISequencePast2038(t *testing.T) {
	dir := initDir(t, suite.NewModern())
	var last int
	for _, when := range []time.Time{time.Now(), time.Date(2039, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2039, 1, 1, 0, 0, 0, 0, time.UTC)} {
		h, err := cadir.Open(dir, pass, cadir.OpenOptions{Now: func() time.Time { return when }})
		if err != nil {
			t.Fatal(err)
		}
		der, err := h.IssueBCI()
		h.Close()
		if err != nil {
			t.Fatalf("BCI at %v: %v", when, err)
		}
		b, err := pki.ParseBrandCRLIdentifier(der)
		if err != nil {
			t.Fatal(err)
		}
		if b.SequenceNum <= last {
			t.Errorf("BCI at %v: sequence %d after %d", when, b.SequenceNum, last)
		}
		last = b.SequenceNum
	}
}
