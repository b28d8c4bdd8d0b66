package wallet_test

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wallet"
)

// TestAccountCard: a wallet pays from a card or a bank account, never
// both; a bad IBAN is refused when the wallet is made; the account is
// never printed.
func TestAccountCard(t *testing.T) {
	w := newWorld(t, suite.NewModern())
	cert := w.l.Certificates["cardholder-1"]
	k, err := w.st.NewSigningKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	acct := &msg.BankAccount{IBAN: "GB82WEST12345698765432"}
	for _, tc := range []struct {
		name string
		card wallet.Card
		want error
	}{
		{"account and PAN", wallet.Card{PAN: "4111111111111111", Account: acct}, nil},
		{"bad IBAN", wallet.Card{Account: &msg.BankAccount{IBAN: "GB83WEST12345698765432"}}, msg.ErrIBANCheckDigits},
	} {
		_, err := wallet.New(wallet.Config{Suite: w.st, Key: wallet.NewSigningKey(k), Cert: cert, Card: tc.card, Roots: w.l.Roots})
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: New = %v", tc.name, err)
		}
	}
	c := wallet.Card{Account: acct}
	for _, verb := range []string{"%v", "%+v", "%s"} {
		if s := fmt.Sprintf(verb, c); strings.Contains(s, "98765432") {
			t.Errorf("%s of a card with an account shows it: %s", verb, s)
		}
	}
	if c.BIN() != msg.AccountBIN {
		t.Errorf("BIN of an account = %q", c.BIN())
	}
}
