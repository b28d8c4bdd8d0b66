package lab

import (
	"context"
	"crypto/rand"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/store/sqlite/sqlitetest"
	"github.com/setpay/setpay/wallet"
	"github.com/setpay/setpay/wire"
)

func stores(t *testing.T) (merchant.Store, *sqlite.DB) {
	ms := sqlitetest.Memory(t)
	gs := sqlitetest.Memory(t)
	return ms, gs
}

func remoteCode(err error) msg.ErrorCode {
	if re, ok := errors.AsType[*msg.RemoteError](err); ok {
		return re.TBS.ErrorCode
	}
	return msg.CodeOf(err)
}

// From creation on, the lab publishes a current CRL of every CA and a BCI,
// so a registered party's certificate verifies with CRLs required.
func TestInitialCRLsRequired(t *testing.T) {
	st := suites(t)[0]
	ms, gs := stores(t)
	l, a, err := NewRegistered(context.Background(), Options{Suite: st, MerchantStore: ms, GatewayStore: gs})
	if err != nil {
		t.Fatal(err)
	}
	crls, bci, err := a.Revocations().Revocation(context.Background())
	if err != nil || len(crls) != 5 || bci == nil || len(bci.CRLIdentifiers) != 5 {
		t.Fatalf("initial revocation state: %d CRLs, BCI %v, %v", len(crls), bci, err)
	}
	v := pki.RevocationVerifier(l.Revocations(), pki.VerifyOptions{Roots: l.Roots,
		Intermediates: []*pki.Certificate{a.Hierarchy.Brand.Cert, a.Hierarchy.CCA.Cert, a.Hierarchy.MCA.Cert}, RequireCRLs: true})
	for _, name := range []string{"cardholder-1", "merchant-signature"} {
		if _, err := v(l.Certificates[name], nil); err != nil {
			t.Errorf("%s with CRLs required: %v", name, err)
		}
	}
	// The same from lab.New.
	l2, err := New(Options{Suite: st, MerchantStore: ms, GatewayStore: gs})
	if err != nil {
		t.Fatal(err)
	}
	v = pki.RevocationVerifier(l2.Revocations(), pki.VerifyOptions{Roots: l2.Roots,
		Intermediates: []*pki.Certificate{l2.Hierarchy.Brand.Cert, l2.Hierarchy.CCA.Cert}, RequireCRLs: true})
	if _, err := v(l2.Certificates["cardholder-1"], nil); err != nil {
		t.Errorf("lab.New cardholder with CRLs required: %v", err)
	}
}

// Once the lab revokes the CCA (at the brand CA) and the MCA, they refuse
// every registration with revokedCertificate and issue nothing.
func TestRevokedCARefuses(t *testing.T) {
	for _, st := range suites(t) {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			ms, gs := stores(t)
			l, a, err := NewRegistered(ctx, Options{Suite: st, MerchantStore: ms, GatewayStore: gs})
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range []*pki.Authority{a.Hierarchy.CCA, a.Hierarchy.MCA} {
				if err := l.Revoke(x.Cert.Raw, pki.ReasonCACompromise); err != nil {
					t.Fatal(err)
				}
			}
			card := wallet.Card{PAN: CardPAN(1), Expiry: time.Now().AddDate(3, 0, 0).Format("200601"), BrandID: "SETpay"}
			r, err := wallet.Register(ctx, wire.ServeFunc(a.CCA.Serve), wallet.RegisterConfig{Suite: st, Card: card, Roots: a.Roots, Answers: cardholderAnswers})
			if r != nil || remoteCode(err) != msg.RevokedCertificate {
				t.Fatalf("cardholder registration at a revoked CCA: %v; want revokedCertificate", err)
			}
			m, err := merchant.Register(ctx, wire.ServeFunc(a.MCA.Serve), merchant.RegisterConfig{
				Suite: st, BrandID: "SETpay", MerchantID: labMerchantID, AcquirerBIN: acquirerBIN, Roots: a.Roots,
				Answers: map[string]string{ca.FieldLegalName: merchantName},
			})
			if m != nil || remoteCode(err) != msg.RevokedCertificate {
				t.Fatalf("merchant registration at a revoked MCA: %v; want revokedCertificate", err)
			}
		})
	}
}

// A wallet or merchant that knows its CA is revoked refuses the CA's
// signed answers itself, even from a CA that does not know it.
func TestClientRefusesRevokedCA(t *testing.T) {
	st := suites(t)[0]
	ctx := context.Background()
	ms, gs := stores(t)
	// The CAs check an outside, empty source: they carry on regardless.
	a, err := NewAuthorities(Options{Suite: st, MerchantStore: ms, GatewayStore: gs, Revocation: &pki.Revocations{}}, AuthorityOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h := a.Hierarchy
	now := time.Now().UTC().Truncate(time.Second)
	der, err := h.Brand.IssueCRL(rand.Reader, []pki.RevokedCertificate{
		{Serial: h.CCA.Cert.SerialNumber, RevocationTime: now, Reason: pki.ReasonCACompromise},
		{Serial: h.MCA.Cert.SerialNumber, RevocationTime: now, Reason: pki.ReasonCACompromise},
	}, big.NewInt(2), now, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	crl, err := pki.ParseCRL(der)
	if err != nil {
		t.Fatal(err)
	}
	known := &pki.Revocations{}
	known.Set([]*pki.CRL{crl}, nil)

	card := wallet.Card{PAN: CardPAN(0), Expiry: time.Now().AddDate(3, 0, 0).Format("200601"), BrandID: "SETpay"}
	if _, err := wallet.Register(ctx, wire.ServeFunc(a.CCA.Serve), wallet.RegisterConfig{Suite: st, Card: card, Roots: a.Roots, Answers: cardholderAnswers}); err != nil {
		t.Fatalf("registration not checking revocation: %v", err)
	}
	r, err := wallet.Register(ctx, wire.ServeFunc(a.CCA.Serve), wallet.RegisterConfig{Suite: st, Card: card, Roots: a.Roots, Answers: cardholderAnswers, Revocation: known})
	if r != nil || msg.CodeOf(err) != msg.RevokedCertificate {
		t.Fatalf("wallet registering at a CCA it knows revoked: %v; want revokedCertificate", err)
	}
	m, err := merchant.Register(ctx, wire.ServeFunc(a.MCA.Serve), merchant.RegisterConfig{
		Suite: st, BrandID: "SETpay", MerchantID: labMerchantID, AcquirerBIN: acquirerBIN, Roots: a.Roots,
		Answers: map[string]string{ca.FieldLegalName: merchantName}, Revocation: known,
	})
	if m != nil || msg.CodeOf(err) != msg.RevokedCertificate {
		t.Fatalf("merchant registering at an MCA it knows revoked: %v; want revokedCertificate", err)
	}
}
