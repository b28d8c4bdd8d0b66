package lab

import (
	"context"
	"testing"
	"time"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/merchant"
	"github.com/setpay/setpay/wallet"
	"github.com/setpay/setpay/wire"
)

// The lab's issuers and acquirer have their forms in French too: a
// wallet and a merchant registering in French get them, answer them and
// are certified; a French form the wallet cannot answer shows it was the
// French one that was sent.
func TestRegisterInFrench(t *testing.T) {
	for _, st := range suites(t) {
		t.Run(string(st.ID()), func(t *testing.T) {
			ctx := context.Background()
			ms, gs := stores(t)
			_, a, err := NewRegistered(ctx, Options{Suite: st, MerchantStore: ms, GatewayStore: gs})
			if err != nil {
				t.Fatal(err)
			}
			card := wallet.Card{PAN: CardPAN(1), Expiry: time.Now().AddDate(3, 0, 0).Format("200601"), BrandID: "SETpay"}
			if _, err := wallet.Register(ctx, wire.ServeFunc(a.CCA.Serve), wallet.RegisterConfig{Suite: st, Card: card, Roots: a.Roots,
				Answers: cardholderAnswers, Language: "fr"}); err != nil {
				t.Fatalf("cardholder in French: %v", err)
			}
			// English answers only: the French form's required field is
			// left empty, so the wallet or the CA refuses.
			card.PAN = CardPAN(2)
			if _, err := wallet.Register(ctx, wire.ServeFunc(a.CCA.Serve), wallet.RegisterConfig{Suite: st, Card: card, Roots: a.Roots,
				Answers: map[string]string{"Cardholder name": "Pat Example", "Postal code": "12345"}, Language: "fr"}); err == nil {
				t.Fatal("French form answered in English accepted")
			}
			if _, err := merchant.Register(ctx, wire.ServeFunc(a.MCA.Serve), merchant.RegisterConfig{
				Suite: st, BrandID: "SETpay", MerchantID: labMerchantID, AcquirerBIN: acquirerBIN, Roots: a.Roots,
				Answers: map[string]string{ca.FieldLegalName: merchantName}, Language: "fr",
			}); err != nil {
				t.Fatalf("merchant in French: %v", err)
			}
		})
	}
}
