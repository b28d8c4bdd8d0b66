package lab

import (
	"bytes"
	"context"
	"testing"

	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/pki"
	"github.com/setpay/setpay/store/sqlite/sqlitetest"
	"github.com/setpay/setpay/wire"
)

// TestRegisteredPurchase builds the ecosystem by registration alone — the
// gateway at the PCA, the merchant at the MCA, three cardholders of two
// issuers at the CCA — and has every cardholder buy and the merchant
// capture, in each suite. Every party's certificate must come from its CA
// over the protocol: the purchases complete only if the registered
// credentials chain and the cardholder certificates bind the PAN secrets
// the wallets hold.
func TestRegisteredPurchase(t *testing.T) {
	for _, st := range suites(t) {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			ms := sqlitetest.Memory(t)
			gs := sqlitetest.Memory(t)
			// Three cardholders: 4111… and 4012… of the first issuer,
			// 5555… of the second, whose form asks for more.
			l, a, err := NewRegistered(ctx, Options{Suite: st, Cardholders: 3, MerchantStore: ms, GatewayStore: gs, Limit: 100000})
			if err != nil {
				t.Fatalf("NewRegistered: %v", err)
			}
			if len(l.Wallets) != 3 || l.Cards[2].PAN[0] != '5' {
				t.Fatalf("cards = %+v, want three with the third a 5… card", l.Cards)
			}
			issuers := map[string]*pki.Authority{
				"gateway-signature": a.Hierarchy.PCA, "gateway-exchange": a.Hierarchy.PCA,
				"merchant-signature": a.Hierarchy.MCA, "merchant-exchange": a.Hierarchy.MCA,
				"cardholder-1": a.Hierarchy.CCA, "cardholder-2": a.Hierarchy.CCA, "cardholder-3": a.Hierarchy.CCA,
			}
			for name, ca := range issuers {
				c, err := pki.ParseCertificate(l.Certificates[name])
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !bytes.Equal(c.RawIssuer, ca.Cert.RawSubject) {
					t.Errorf("%s issued by %v, want %v", name, c.Issuer, ca.Cert.Subject)
				}
			}
			for i, card := range l.Cards {
				if card.PANSecret == (msg.Secret{}) {
					t.Errorf("cardholder %d: registration left the PAN secret empty", i+1)
				}
				if bytes.Contains(l.Certificates[cardholderName(i)], []byte(card.PAN)) {
					t.Errorf("cardholder %d's certificate contains the PAN", i+1)
				}
			}
			for i, w := range l.Wallets {
				offer, err := l.Merchant.Checkout(ctx, "1 × A Pattern Language", USD(3500))
				if err != nil {
					t.Fatal(err)
				}
				p, res, err := w.Pay(ctx, wire.ServeFunc(l.Merchant.Serve), OfferFor(offer))
				if err != nil {
					t.Fatalf("cardholder %d: Pay: %v", i+1, err)
				}
				if res.Completion != msg.AuthorizationAccepted {
					t.Fatalf("cardholder %d: completion = %v", i+1, res.Completion)
				}
				code, err := l.Merchant.Capture(ctx, p.TransIDs().XID)
				if err != nil || code != msg.CapSuccess {
					t.Fatalf("cardholder %d: capture = %v, %v", i+1, code, err)
				}
			}
		})
	}
}

// cardholderName is the name of cardholder i (from 0) in Lab.Certificates.
func cardholderName(i int) string { return "cardholder-" + string(rune('1'+i)) }

// TestRegisteredRevocation: parties built from registration check
// revocation like the others — a revoked cardholder certificate stops the
// next purchase with revokedCertificate.
func TestRegisteredRevocation(t *testing.T) {
	st := suites(t)[0]
	ms := sqlitetest.Memory(t)
	gs := sqlitetest.Memory(t)
	l, _, err := NewRegistered(context.Background(), Options{Suite: st, MerchantStore: ms, GatewayStore: gs})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := pay(t, l, 0); err != nil || !ok {
		t.Fatalf("purchase before revocation: %v, %v", ok, err)
	}
	mustRevoke(t, l, "cardholder-1")
	_, err = pay(t, l, 0)
	if code, _ := errCode(t, err); err == nil || code != msg.RevokedCertificate {
		t.Fatalf("purchase with a revoked certificate: %v", err)
	}
}
