package lab

import (
	"context"
	"testing"

	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store/sqlite/sqlitetest"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
	"github.com/setpay/setpay/wire"
)

// TestAccountRenewalPays registers a bank-account holder over the
// protocol, renews its certificate, and pays from the account with the
// renewed credentials: the gateway finds the new certificate bound to the
// same account under the new secret. The old secret no longer fits the
// new certificate.
func TestAccountRenewalPays(t *testing.T) {
	for _, st := range []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})} {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			ms, gs := sqlitetest.Memory(t), sqlitetest.Memory(t)
			l, a, err := NewRegistered(ctx, Options{Suite: st, MerchantStore: ms, GatewayStore: gs})
			if err != nil {
				t.Fatal(err)
			}
			acct := msg.BankAccount{IBAN: AccountIBAN(7)}
			rt := wire.ServeFunc(a.CCA.Serve)
			cfg := wallet.RegisterConfig{Suite: st, Card: wallet.Card{BrandID: "SETpay", Account: &acct}, Roots: a.Roots, Answers: cardholderAnswers}
			cur, err := wallet.Register(ctx, rt, cfg)
			if err != nil {
				t.Fatal(err)
			}
			renewed, err := wallet.Renew(ctx, rt, cfg, cur)
			if err != nil {
				t.Fatalf("wallet.Renew: %v", err)
			}
			assertNoIBAN(t, "the renewed certificate", renewed.Cert, acct.IBAN)
			pay := func(card wallet.Card) (*wallet.Result, error) {
				w, err := wallet.New(wallet.Config{Suite: st, Key: renewed.Key, Cert: renewed.Cert, Chain: renewed.Chain, Card: card, Roots: l.Roots, Revocation: l.Revocations()})
				if err != nil {
					t.Fatal(err)
				}
				offer, err := l.Merchant.Checkout(ctx, "a lamp", USD(12_00))
				if err != nil {
					t.Fatal(err)
				}
				_, res, err := w.Pay(ctx, wire.ServeFunc(l.Merchant.Serve), OfferFor(offer))
				return res, err
			}
			if res, err := pay(renewed.Card); err != nil || res.Completion != msg.AuthorizationAccepted {
				t.Fatalf("purchase with the renewed certificate: %v, %v", res, err)
			}
			stale := renewed.Card
			stale.PANSecret = cur.Card.PANSecret
			if res, err := pay(stale); err == nil && res.Completion == msg.AuthorizationAccepted {
				t.Fatal("the renewed certificate paid under the old account secret")
			}
		})
	}
}
