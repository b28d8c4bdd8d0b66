package encap

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/setpay/setpay/internal/pkcs7"
	"github.com/setpay/setpay/suite"
)

// TestOmitAndHeld: a signer leaves out the certificates the receiver
// listed; the receiver finds them among those it holds, and they are
// still put to the CertVerifier — holding a certificate decides nothing.
func TestOmitAndHeld(t *testing.T) {
	forEachSuite(t, func(t *testing.T, st suite.Suite, w *world) {
		tbs := derSeq("PInitResData")
		s := w.merchant
		s.Chain = [][]byte{w.gateway.cert}
		s.Omit = func(c []byte) bool { return bytes.Equal(c, s.Cert) }
		signed, err := S(st, rand.Reader, s, ctPInitResData, tbs)
		if err != nil {
			t.Fatal(err)
		}
		sd, err := pkcs7.ParseSignedData(signed)
		if err != nil {
			t.Fatal(err)
		}
		if len(sd.Certificates) != 1 || !bytes.Equal(sd.Certificates[0], w.gateway.cert) {
			t.Fatalf("SignedData carries %d certificates, want only the one not omitted", len(sd.Certificates))
		}

		_, _, err = OpenS(st, signed, ctPInitResData, w.verify)
		if !errors.Is(err, ErrMissingCertificate) || !errors.Is(err, ErrCertificate) {
			t.Errorf("signer certificate neither carried nor held: %v", err)
		}
		// Holding other certificates does not help.
		if _, _, err := OpenS(st, signed, ctPInitResData, w.verify, WithHeld([][]byte{w.alice.Cert})); !errors.Is(err, ErrMissingCertificate) {
			t.Errorf("held certificates without the signer's: %v", err)
		}

		var sawIntermediates [][]byte
		verify := func(cert []byte, im [][]byte) (crypto.PublicKey, error) {
			sawIntermediates = im
			return w.verify(cert, im)
		}
		_, cert, err := OpenS(st, signed, ctPInitResData, verify, WithHeld([][]byte{w.alice.Cert, w.merchant.Cert}))
		if err != nil {
			t.Fatalf("held signer certificate: %v", err)
		}
		if !bytes.Equal(cert, w.merchant.Cert) {
			t.Error("OpenS returned another certificate than the held signer's")
		}
		if len(sawIntermediates) != 2 {
			t.Errorf("verifier offered %d intermediates, want the carried one and the other held one", len(sawIntermediates))
		}
		// A held certificate is checked like a carried one.
		if _, _, err := OpenS(st, signed, ctPInitResData, w.rejectAll, WithHeld([][]byte{w.merchant.Cert})); !errors.Is(err, ErrCertificate) || !errors.Is(err, errRejected) {
			t.Errorf("held certificate the verifier refuses: %v", err)
		}
		// A held certificate of another key does not pass for the signer's.
		other := Signer{Key: w.bob.Key, Cert: w.merchant.Cert, Omit: s.Omit}
		forged, err := S(st, rand.Reader, other, ctPInitResData, tbs)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := OpenS(st, forged, ctPInitResData, w.verify, WithHeld([][]byte{w.merchant.Cert})); !errors.Is(err, ErrSignature) {
			t.Errorf("signature by another key than the held certificate's: %v", err)
		}
	})
}

// TestOmitNothing: Omit reporting nothing, or nil, changes nothing.
func TestOmitNothing(t *testing.T) {
	st := testSuites[1]
	w := worldFor(t, st)
	tbs := derSeq("PResData")
	for _, omit := range []func([]byte) bool{nil, func([]byte) bool { return false }} {
		s := w.merchant
		s.Omit = omit
		signed, err := S(st, rand.Reader, s, ctPInitResData, tbs)
		if err != nil {
			t.Fatal(err)
		}
		sd, err := pkcs7.ParseSignedData(signed)
		if err != nil {
			t.Fatal(err)
		}
		if len(sd.Certificates) != 1 {
			t.Errorf("%d certificates, want the signer's", len(sd.Certificates))
		}
		if _, _, err := OpenS(st, signed, ctPInitResData, w.verify, Options(WithHeld(nil), nil)); err != nil {
			t.Error(err)
		}
	}
}
