package wallet_test

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
)

// The renewal flow runs against a real cardholder CA over HTTP in
// ca/renew_test.go; these check what the wallet refuses before sending
// anything.
func TestNewRenewalChecksCurrent(t *testing.T) {
	st := suite.NewModern()
	w := newWorld(t, st)
	card, cred, err := w.l.IssueCardholder("4111111111111111", w.t0)
	if err != nil {
		t.Fatal(err)
	}
	other, err := st.NewSigningKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cfg := wallet.RegisterConfig{Suite: st, Roots: w.l.Roots}
	good := &wallet.Registered{Key: wallet.NewSigningKey(cred.Key), Cert: cred.Cert, Chain: cred.Chain, Card: card}
	if _, init, err := wallet.NewRenewal(cfg, good); err != nil || init.BrandID != card.BrandID {
		t.Fatalf("NewRenewal of a good credential: %v", err)
	}
	noSecret := *good
	noSecret.Card.PANSecret = msg.Secret{}
	for name, cur := range map[string]*wallet.Registered{
		"nil":          nil,
		"no cert":      {Key: wallet.NewSigningKey(cred.Key), Card: card},
		"another key":  {Key: wallet.NewSigningKey(other), Cert: cred.Cert, Chain: cred.Chain, Card: card},
		"no PANSecret": &noSecret,
	} {
		if _, _, err := wallet.NewRenewal(cfg, cur); err == nil || !strings.HasPrefix(err.Error(), "wallet: ") {
			t.Errorf("%s: NewRenewal = %v, want a wallet: error", name, err)
		}
	}
}
