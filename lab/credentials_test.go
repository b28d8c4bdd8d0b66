package lab

import (
	"bytes"
	"crypto/x509"
	"testing"
	"time"

	"github.com/setpay/setpay/encap"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/suite"
)

// TestIssuedCredentialsWork: what IssueMerchant and IssueGateway return
// signs and opens as the tests that use them expect — a signature verifies
// as the right party with only the chain Signer sends, and the key-exchange
// key opens what is sealed to the key-exchange certificate.
func TestIssuedCredentialsWork(t *testing.T) {
	st := suite.NewModern()
	l := newLab(t, st, 1)
	now := time.Now().UTC().Truncate(time.Second)
	mer, err := l.IssueMerchant("MER-0042", "Test Shop", now)
	if err != nil {
		t.Fatal(err)
	}
	gw, err := l.IssueGateway("Test Payment Gateway", now)
	if err != nil {
		t.Fatal(err)
	}
	content := []byte{0x30, 0x03, 0x02, 0x01, 0x07} // any DER SEQUENCE will do
	verifier := func(ct pki.CertType) encap.CertVerifier {
		return pki.CertVerifier(pki.VerifyOptions{Roots: l.Roots, Now: now, CertType: ct, KeyUsage: x509.KeyUsageDigitalSignature})
	}
	for _, c := range []struct {
		name     string
		from, to Credential
		fromType pki.CertType
	}{
		{"merchant to gateway", mer, gw, pki.CertTypeMer},
		{"gateway to merchant", gw, mer, pki.CertTypePgwy},
	} {
		t.Run(c.name, func(t *testing.T) {
			sealed, err := encap.Enc(st, l.opts.Rand, c.from.Signer(), c.to.ExchangeCert, msg.OIDAuthReqTBS, msg.OIDAuthReqTBE, content)
			if err != nil {
				t.Fatal(err)
			}
			got, _, signer, err := encap.OpenEnc(st, c.to.ExchangeKey, c.to.ExchangeCert, sealed, msg.OIDAuthReqTBS, msg.OIDAuthReqTBE, verifier(c.fromType))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, content) || !bytes.Equal(signer, c.from.Cert) {
				t.Fatalf("opened %x, signed by another certificate or changed", got)
			}
		})
	}
	// The other party's type is refused: the credentials are not
	// interchangeable.
	sealed, err := encap.Enc(st, l.opts.Rand, gw.Signer(), mer.ExchangeCert, msg.OIDAuthReqTBS, msg.OIDAuthReqTBE, content)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := encap.OpenEnc(st, mer.ExchangeKey, mer.ExchangeCert, sealed, msg.OIDAuthReqTBS, msg.OIDAuthReqTBE, verifier(pki.CertTypeMer)); err == nil {
		t.Fatal("a gateway's signature passed as a merchant's")
	}
}

// TestSignerChain: Signer sends the key-exchange certificate first, then
// the issuing CA and the brand CA, and hands out a slice of its own, so
// that a caller extending it (as the wallet tests' merchantSigner does)
// cannot change the credential.
func TestSignerChain(t *testing.T) {
	l := newLab(t, suite.NewModern(), 1)
	mer, err := l.IssueMerchant("MER-0042", "Test Shop", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s := mer.Signer()
	want := append([][]byte{mer.ExchangeCert}, l.Hierarchy.MCA.Cert.Raw, l.Hierarchy.Brand.Cert.Raw)
	if len(s.Chain) != len(want) {
		t.Fatalf("chain has %d certificates, want %d", len(s.Chain), len(want))
	}
	for i := range want {
		if !bytes.Equal(s.Chain[i], want[i]) {
			t.Fatalf("chain[%d] is not the expected certificate", i)
		}
	}
	s.Chain[1] = nil
	if !bytes.Equal(mer.Chain[0], l.Hierarchy.MCA.Cert.Raw) {
		t.Fatal("changing the signer's chain changed the merchant credential's")
	}

	// A cardholder has no key-exchange certificate to send; its chain is
	// still the signer's own.
	_, ch, err := l.IssueCardholder("4111111111111111", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s = ch.Signer()
	if len(s.Chain) != 2 || !bytes.Equal(s.Chain[0], l.Hierarchy.CCA.Cert.Raw) || !bytes.Equal(s.Chain[1], l.Hierarchy.Brand.Cert.Raw) {
		t.Fatalf("cardholder signer sends %d certificates, not its CA and the brand CA", len(s.Chain))
	}
	s.Chain[0] = nil
	if !bytes.Equal(ch.Chain[0], l.Hierarchy.CCA.Cert.Raw) {
		t.Fatal("changing the signer's chain changed the cardholder credential's")
	}
}

// TestIssueCardholder: the card is of the lab's brand, expires three years
// on, carries fresh secrets, and its certificate verifies as a cardholder's
// with the chain the credential carries.
func TestIssueCardholder(t *testing.T) {
	l := newLab(t, suite.NewModern(), 1)
	now := time.Now()
	card, c, err := l.IssueCardholder("4012888888881881", now)
	if err != nil {
		t.Fatal(err)
	}
	if card.PAN != "4012888888881881" || card.BrandID != "SETpay" || card.Expiry != now.AddDate(3, 0, 0).Format("200601") {
		t.Fatalf("card = %s %s %s", card.PAN, card.BrandID, card.Expiry)
	}
	if card.PANSecret == l.Cards[0].PANSecret || card.CardSecret == l.Cards[0].CardSecret {
		t.Fatal("a new card reuses the lab cardholder's secrets")
	}
	if c.ExchangeKey != nil || c.ExchangeCert != nil {
		t.Fatal("a cardholder credential has a key-exchange half")
	}
	cert, err := pki.ParseCertificate(c.Cert)
	if err != nil {
		t.Fatal(err)
	}
	var inter []*pki.Certificate
	for _, der := range c.Chain {
		ic, err := pki.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		inter = append(inter, ic)
	}
	if _, err := cert.Verify(pki.VerifyOptions{Roots: l.Roots, Intermediates: inter, Now: now.Add(time.Hour), CertType: pki.CertTypeCard, KeyUsage: x509.KeyUsageDigitalSignature}); err != nil {
		t.Fatalf("cardholder certificate: %v", err)
	}
}
