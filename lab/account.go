package lab

import (
	"context"
	"fmt"
	"io"

	"github.com/setpay/setpay/ca"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/wallet"
	"github.com/setpay/setpay/wire"
)

// AccountIBAN is the IBAN of the lab's bank-account holder i (from 0):
// GB-format test IBANs with valid check digits (not real accounts).
func AccountIBAN(i int) string {
	bban := fmt.Sprintf("SETP%06d%08d", 600000+i/100_000_000, i%100_000_000)
	// Check digits: 98 − (BBAN ‖ "GB00" read as digits) mod 97.
	r := 0
	for _, c := range bban + "GB00" {
		if c >= '0' && c <= '9' {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	return fmt.Sprintf("GB%02d%s", 98-r, bban)
}

// AddAccountHolder issues a bank-account holder's certificate for acct
// directly from the cardholder CA (as New issues cardholders') and adds
// its wallet; it returns the wallet's index in Wallets.
func (l *Lab) AddAccountHolder(acct msg.BankAccount) (int, error) {
	st, r := l.Suite, l.opts.Rand
	card := wallet.Card{BrandID: l.opts.Brand, Account: &acct}
	if _, err := io.ReadFull(r, card.PANSecret[:]); err != nil {
		return 0, fmt.Errorf("lab: account secret: %w", err)
	}
	if _, err := io.ReadFull(r, card.CardSecret[:]); err != nil {
		return 0, fmt.Errorf("lab: account secret: %w", err)
	}
	key, err := st.NewSigningKey(r)
	if err != nil {
		return 0, fmt.Errorf("lab: account holder signing key: %w", err)
	}
	tmpl, err := ca.AccountHolderTemplate(key.Public(), acct, card.PANSecret, st.Hash(), l.opts.Now())
	if err != nil {
		return 0, fmt.Errorf("lab: account holder certificate: %w", err)
	}
	cert, err := l.Hierarchy.CCA.Issue(r, tmpl)
	if err != nil {
		return 0, fmt.Errorf("lab: account holder certificate: %w", err)
	}
	i := len(l.Wallets)
	return i, l.addWallet(i, card, wallet.NewSigningKey(key), cert.Raw, chain(l.Hierarchy.CCA))
}

// RegisterAccountHolder enrols a bank-account holder for acct at the
// cardholder CA over the registration protocol (through rt, or directly
// when nil) and adds its wallet to l, a Lab Register built; it returns
// the wallet's index in Wallets.
func (a *Authorities) RegisterAccountHolder(ctx context.Context, l *Lab, rt wire.RoundTripper, acct msg.BankAccount) (int, error) {
	if rt == nil {
		rt = wire.ServeFunc(a.CCA.Serve)
	}
	r, err := wallet.Register(ctx, rt, wallet.RegisterConfig{
		Suite: a.opts.Suite, Card: wallet.Card{BrandID: a.opts.Brand, Account: &acct}, Roots: a.Roots,
		Answers: cardholderAnswers, Rand: a.opts.Rand, Now: a.opts.Now,
	})
	if err != nil {
		return 0, fmt.Errorf("lab: registering a bank-account holder: %w", err)
	}
	i := len(l.Wallets)
	return i, l.addWallet(i, r.Card, r.Key, r.Cert, r.Chain)
}
