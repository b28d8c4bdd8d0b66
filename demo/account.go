package demo

import (
	"context"
	"fmt"
	"strings"

	"github.com/setpay/setpay/bank"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
	"github.com/setpay/setpay/wallet"
)

// Bank-account holders in the purchases scenario: each enrols an IBAN
// (lab.AccountIBAN) at the cardholder CA, the in-process bank opens a
// deposit account for it ('setpay bank --seed' has it open already, from
// Seed), and it pays as a cardholder does — the gateway
// asks the bank with the account in ISO 8583 field 102. The merchant sees
// it no more than a PAN (checkConfidentiality).

// checkAccounts checks Options.Accounts, after the scenario is known.
func (o *Options) checkAccounts() error {
	if o.Accounts < 0 || o.Accounts > MaxCardholders {
		return fmt.Errorf("demo: %d account holders: want 0 to %d", o.Accounts, MaxCardholders)
	}
	return nil
}

// cardsAndAccounts splits the lab's cards into card numbers and IBANs.
func cardsAndAccounts(cards []wallet.Card) (pans, ibans []string) {
	for _, c := range cards {
		if c.Account != nil {
			ibans = append(ibans, c.Account.Identification())
			continue
		}
		pans = append(pans, c.PAN)
	}
	return pans, ibans
}

// cardLabel names a wallet's card or account, masked, for the transcript.
func cardLabel(c wallet.Card) string {
	if c.Account != nil {
		return "bank account " + msg.MaskAccount(c.Account.Identification())
	}
	return "card " + wallet.MaskPAN(c.PAN)
}

// maskedCard is the card or account as the gateway records it.
func maskedCard(c wallet.Card) (string, error) {
	if c.Account != nil {
		return msg.MaskAccount(c.Account.Identification()), nil
	}
	return store.MaskPAN(c.PAN)
}

// openAccount opens account holder c's deposit account, wallet i, with
// limit as its opening balance.
func (is *issuer) openAccount(ctx context.Context, i int, c wallet.Card, limit int64) error {
	id, err := is.ledger.OpenDeposit(ctx, bank.Deposit{Number: c.Account.Identification(), Holder: fmt.Sprintf("account holder %d", i+1),
		Currency: 840, Opening: limit})
	if err != nil {
		return fmt.Errorf("demo: opening account holder %d's account at the bank: %w", i+1, err)
	}
	is.cards = append(is.cards, LedgerCard{Card: msg.MaskAccount(c.Account.Identification()), Account: id, Opening: limit})
	return nil
}

// accountForms are the encodings an IBAN could sit in unencrypted:
// clearForms', lower case, the print form in groups of four, and its
// BBAN (the IBAN less country and check digits).
func accountForms(iban string) []named {
	var groups []string
	for i := 0; i < len(iban); i += 4 {
		groups = append(groups, iban[i:min(i+4, len(iban))])
	}
	forms := append(clearForms(iban, false),
		named{"lower case", []byte(strings.ToLower(iban))},
		named{"print form", []byte(strings.Join(groups, " "))})
	if len(iban) > 4 {
		forms = append(forms, named{"BBAN", []byte(iban[4:])})
	}
	return forms
}
