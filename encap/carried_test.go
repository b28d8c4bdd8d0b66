package encap

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/setpay/setpay/suite"
)

// TestCarriedCRLs: the CRLs a Signer carries travel in the SignedData's
// crls field, inside Enc{} too, and WithCarried hands them — with the
// content and certificates — to the receiver before the signer's
// certificate is checked, also when that check then fails.
func TestCarriedCRLs(t *testing.T) {
	forEachSuite(t, func(t *testing.T, st suite.Suite, w *world) {
		crl := testCRL(t)
		s := w.merchant
		s.CRLs = [][]byte{crl}
		tbs := derSeq("AuthResTBS")
		env, err := Enc(st, rand.Reader, s, w.gateway.cert, ctAuthReqTBS, ctAuthReqTBE, tbs)
		if err != nil {
			t.Fatal(err)
		}
		var got *Carried
		var certChecked bool
		verify := func(cert []byte, intermediates [][]byte) (crypto.PublicKey, error) {
			if got == nil {
				t.Error("certificate checked before the carried items were handed over")
			}
			certChecked = true
			return w.verify(cert, intermediates)
		}
		if _, _, _, err := OpenEnc(st, w.gateway.key, w.gateway.cert, env, ctAuthReqTBS, ctAuthReqTBE, verify,
			WithCarried(func(c *Carried) { got = c })); err != nil {
			t.Fatal(err)
		}
		if !certChecked || got == nil || len(got.CRLs) != 1 || !bytes.Equal(got.CRLs[0], crl) || !bytes.Equal(got.Content, tbs) {
			t.Fatalf("carried %+v", got)
		}
		if len(got.Certificates) == 0 || !bytes.Equal(got.Certificates[0], s.Cert) && !bytes.Contains(bytes.Join(got.Certificates, nil), s.Cert) {
			t.Error("the signer's certificate is not among the carried ones")
		}

		// A refused signer: the items were still handed over first.
		got = nil
		signed, err := S(st, rand.Reader, s, ctAuthReqTBS, tbs)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := OpenS(st, signed, ctAuthReqTBS, w.rejectAll, WithCarried(func(c *Carried) { got = c })); !errors.Is(err, ErrCertificate) {
			t.Fatalf("rejected signer: %v", err)
		}
		if got == nil || len(got.CRLs) != 1 {
			t.Errorf("carried before a refused check: %+v", got)
		}
		// Without CRLs the field stays absent.
		plain, err := S(st, rand.Reader, w.merchant, ctAuthReqTBS, tbs)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := OpenS(st, plain, ctAuthReqTBS, w.verify, WithCarried(func(c *Carried) { got = c })); err != nil || got.CRLs != nil {
			t.Errorf("no CRLs: %v, carried %d", err, len(got.CRLs))
		}
	})
}

// testCRL is a CRL of a throwaway CA: encap carries CRLs, it does not
// read them.
func testCRL(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "CRL issuer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true, SubjectKeyId: []byte{1, 2, 3}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: time.Now(), NextUpdate: time.Now().Add(time.Hour),
	}, issuer, key)
	if err != nil {
		t.Fatal(err)
	}
	return crl
}
