package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/setpay/setpay/bank"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/store"
)

// The accounts the demo's bank holds. One list, Seed, says what they are;
// the day's bank in process and 'setpay bank --seed' both open them with
// SeedBank, so a bank started on its own holds what the day expects.

// SeedLimit is the credit limit of the cards the demo spends freely from,
// in cents, and the opening balance of every bank account: enough for the
// longest demo run (MaxPurchases purchases on one card).
const SeedLimit = 100_000_00

// SeedMerchant is a merchant's settlement account at the acquirer.
type SeedMerchant struct{ ID, Name string }

// SeedCard is a cardholder's card account: the card number lab gives
// cardholder i is the i-th card.
type SeedCard struct {
	PAN, Holder    string
	Opening, Limit int64
}

// SeedAccount is a bank-account holder's deposit account (the IBAN lab
// gives account holder i), opened with Opening.
type SeedAccount struct {
	IBAN, Holder string
	Opening      int64
}

// BankSeed is what a demo bank opens.
type BankSeed struct {
	Merchants []SeedMerchant
	Cards     []SeedCard
	Accounts  []SeedAccount
}

// dayDeclinedLimit is the credit of the day's third cardholder, whose
// card the bank declines: less than dayDeclined costs.
const dayDeclinedLimit = 200_00

// seedCard is cardholder i's card account: the first has money on it,
// the third too little credit for what the day has it try to buy. Every
// other card may spend SeedLimit: the first's limit is less its opening
// balance, so a purchase of more than SeedLimit is declined on any of them.
func seedCard(i int) SeedCard {
	c := SeedCard{PAN: lab.CardPAN(i), Holder: fmt.Sprintf("cardholder %d", i+1), Limit: SeedLimit}
	switch i {
	case 0:
		c.Opening = 300_00
		c.Limit -= c.Opening
	case dayDeclined.cardholder:
		c.Limit = dayDeclinedLimit
	}
	return c
}

// Seed returns the demo bank's accounts: both of the day's merchants, the
// cards of the first cards cardholders and the deposit accounts of the
// first accounts account holders. The day needs one card more than it has
// cardholders: the newcomer registered during the day pays from it.
func Seed(cards, accounts int) BankSeed {
	s := BankSeed{Merchants: []SeedMerchant{{MerchantID, "Corner Bookshop"}, {lab.SecondMerchantID, lab.SecondMerchantName}}}
	for i := range cards {
		s.Cards = append(s.Cards, seedCard(i))
	}
	for i := range accounts {
		s.Accounts = append(s.Accounts, SeedAccount{IBAN: lab.AccountIBAN(i), Holder: fmt.Sprintf("account holder %d", i+1), Opening: SeedLimit})
	}
	return s
}

// FullSeed is what 'setpay bank --seed' opens: enough for any demo run
// (the day with MaxCardholders cardholders and its newcomer, the
// purchases scenario with MaxCardholders account holders).
func FullSeed() BankSeed { return Seed(MaxCardholders+1, MaxCardholders) }

// SeedBank opens s's accounts in l, in US dollars. The cards expire as
// lab's do, three years after now, so a demo run in the same month
// matches them. Accounts already open are left as they are; it returns
// how many it opened.
func SeedBank(ctx context.Context, l *bank.Ledger, s BankSeed, now time.Time) (int, error) {
	opened := 0
	count := func(what string, err error) error {
		switch {
		case err == nil:
			opened++
		case !errors.Is(err, store.ErrConflict):
			return fmt.Errorf("demo: seeding %s: %w", what, err)
		}
		return nil
	}
	for _, m := range s.Merchants {
		_, err := l.OpenMerchant(ctx, m.ID, m.Name, 840)
		if err := count("merchant "+m.ID, err); err != nil {
			return opened, err
		}
	}
	// lab's expiry is YYYYMM, the bank's (ISO 8583 DE 14) YYMM.
	expiry := now.AddDate(3, 0, 0).Format("0601")
	for i, c := range s.Cards {
		_, err := l.OpenCard(ctx, bank.Card{PAN: c.PAN, Expiry: expiry, Holder: c.Holder, Currency: 840, Limit: c.Limit, Opening: c.Opening})
		if err := count(fmt.Sprintf("card %d", i+1), err); err != nil {
			return opened, err
		}
	}
	for i, a := range s.Accounts {
		_, err := l.OpenDeposit(ctx, bank.Deposit{Number: a.IBAN, Holder: a.Holder, Currency: 840, Opening: a.Opening})
		if err := count(fmt.Sprintf("account %d", i+1), err); err != nil {
			return opened, err
		}
	}
	return opened, nil
}
