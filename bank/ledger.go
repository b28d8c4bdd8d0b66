// Package bank is the simulated bank behind the payment gateway: a
// double-entry ledger, an issuer host that authorizes, reverses, captures
// and refunds against cardholder and bank accounts, and an acquirer host
// that batches merchants' captures and settles them net of interchange fees.
//
// The package is sans-I/O: the ISO 8583 link (bank/iso8583) and the gateway
// call it; its state lives in a store.BankStore, every state change
// committed before a method returns.
//
// # The ledger
//
// Every event is a journal entry of balanced postings (store.CheckBalanced
// is enforced by the store at write). Customer accounts are credit-normal:
// their balance is credits − debits, what the bank owes the customer.
//
//	opening balance   Dr capital          Cr customer
//	hold (approval)   Dr customer/held    Cr bank holds
//	release (0400)    Dr bank holds       Cr customer/held
//	capture           Dr bank holds       Cr customer/held   (the hold it uses)
//	                  Dr customer         Cr clearing        (the debit)
//	credit (refund)   Dr clearing         Cr customer
//	sale reversed     Dr clearing         Cr customer        (a credit keyed by the 0400)
//	credit reversed   Dr customer         Cr clearing
//	settlement        Dr clearing (gross) Cr merchant (net)  Cr fee income (fee)
//
// So a customer's balance is opening − captured + credited (credits less
// their reversals), its held
// account carries exactly the holds still outstanding, and open-to-buy is
// balance + limit − held. Balances are sums over postings, never stored.
//
// PANs are stored (the issuer owns them) but never printed: accounts are
// named by ID in errors, and request types mask the PAN when formatted.
package bank

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
)

// Store is what the bank needs from storage.
type Store interface {
	InBankTx(ctx context.Context, fn func(tx store.BankTx) error) error
}

// Ledger is the bank's books, shared by its issuer and acquirer hosts.
type Ledger struct {
	st  Store
	now func() time.Time
}

// NewLedger returns a ledger kept in st. now is the bank's clock (card
// expiry, timestamps); nil means time.Now.
func NewLedger(st Store, now func() time.Time) *Ledger {
	if now == nil {
		now = time.Now
	}
	return &Ledger{st: st, now: now}
}

// The bank's own accounts, one per currency.
func holdsAccount(cur int) string    { return fmt.Sprintf("bank/holds/%03d", cur) }
func feesAccount(cur int) string     { return fmt.Sprintf("bank/fees/%03d", cur) }
func clearingAccount(cur int) string { return fmt.Sprintf("bank/clearing/%03d", cur) }
func capitalAccount(cur int) string  { return fmt.Sprintf("bank/capital/%03d", cur) }

// heldAccount is the account carrying a customer account's holds.
func heldAccount(id string) string { return id + "/held" }

// ensureOwn creates the bank's own accounts in currency cur if missing.
func (l *Ledger) ensureOwn(ctx context.Context, tx store.BankTx, cur int) error {
	own := []struct {
		id   string
		kind store.BankAccountKind
	}{
		{holdsAccount(cur), store.BankHolds},
		{feesAccount(cur), store.BankFeeIncome},
		{clearingAccount(cur), store.BankClearing},
		{capitalAccount(cur), store.BankCapital},
	}
	for _, o := range own {
		if _, err := tx.BankAccount(ctx, o.id); err == nil {
			continue
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.CreateBankAccount(ctx, &store.BankAccount{ID: o.id, Kind: o.kind, Holder: "bank", Currency: cur, Created: l.now()}); err != nil {
			return err
		}
	}
	return nil
}

func newAccountID(kind store.BankAccountKind) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return string(kind) + "/" + hex.EncodeToString(b[:]), nil
}

// Card describes a cardholder account to open.
type Card struct {
	PAN      string // 12 to 19 digits, passing the Luhn check
	Expiry   string // YYMM
	Holder   string
	Currency int   // ISO 4217 numeric
	Limit    int64 // credit limit, minor units, >= 0
	Opening  int64 // opening balance (credit-normal: negative means owed)
}

// String masks the PAN.
func (c Card) String() string {
	return fmt.Sprintf("card %s exp %s %s, %d limit %d", maskPAN(c.PAN), c.Expiry, c.Holder, c.Currency, c.Limit)
}

// GoString masks the PAN for %#v too.
func (c Card) GoString() string { return c.String() }

// Deposit describes a bank-account holder's account to open: by IBAN
// (BankCode empty; the IBAN holds the bank), or by account number and
// bank code where there is none.
type Deposit struct {
	Number    string // IBAN, or domestic account number
	BankCode  string // routing / bank code; empty for an IBAN
	Holder    string
	Currency  int
	Overdraft int64 // how far below zero the balance may go, >= 0
	Opening   int64
}

// OpenCard opens a cardholder account and returns its ledger ID.
func (l *Ledger) OpenCard(ctx context.Context, c Card) (string, error) {
	if !validPAN(c.PAN) || !luhnValid(c.PAN) {
		return "", fmt.Errorf("bank: open card %s: not a valid card number", maskPAN(c.PAN))
	}
	if _, ok := parseExpiry(c.Expiry); !ok {
		return "", fmt.Errorf("bank: open card %s: expiry %q is not YYMM", maskPAN(c.PAN), c.Expiry)
	}
	return l.openCustomer(ctx, &store.BankAccount{Kind: store.BankCard, Number: c.PAN, Holder: c.Holder,
		Currency: c.Currency, Limit: c.Limit, Expiry: c.Expiry}, c.Opening)
}

// OpenDeposit opens a bank-account holder's account and returns its ledger ID.
func (l *Ledger) OpenDeposit(ctx context.Context, d Deposit) (string, error) {
	if d.Number == "" || len(d.Number) > 34 || strings.ContainsAny(d.Number, " /") {
		return "", errors.New("bank: open deposit account: account number must be 1 to 34 characters without spaces")
	}
	if d.BankCode == "" {
		if err := msg.CheckIBAN(d.Number); err != nil {
			return "", fmt.Errorf("bank: open deposit account: without a bank code the number must be an IBAN: %w", err)
		}
	}
	return l.openCustomer(ctx, &store.BankAccount{Kind: store.BankDeposit, Number: d.Number, BankCode: d.BankCode,
		Holder: d.Holder, Currency: d.Currency, Limit: d.Overdraft}, d.Opening)
}

func validCurrency(c int) bool { return c > 0 && c < 1000 }

func (l *Ledger) openCustomer(ctx context.Context, a *store.BankAccount, opening int64) (string, error) {
	if !validCurrency(a.Currency) {
		return "", fmt.Errorf("bank: open %s account: currency %d is not ISO 4217 numeric", a.Kind, a.Currency)
	}
	if a.Limit < 0 || a.Limit > maxAmount || opening < -maxAmount || opening > maxAmount {
		return "", fmt.Errorf("bank: open %s account: limit %d or opening %d out of range", a.Kind, a.Limit, opening)
	}
	id, err := newAccountID(a.Kind)
	if err != nil {
		return "", fmt.Errorf("bank: open %s account: %w", a.Kind, err)
	}
	a.ID = id
	a.Created = l.now()
	err = l.st.InBankTx(ctx, func(tx store.BankTx) error {
		if err := l.ensureOwn(ctx, tx, a.Currency); err != nil {
			return err
		}
		acct := *a
		if err := tx.CreateBankAccount(ctx, &acct); err != nil {
			return err
		}
		if err := tx.CreateBankAccount(ctx, &store.BankAccount{ID: heldAccount(id), Kind: store.BankHeld,
			Holder: a.Holder, Currency: a.Currency, Created: a.Created}); err != nil {
			return err
		}
		if opening == 0 {
			return nil
		}
		dr, cr := capitalAccount(a.Currency), id
		amt := opening
		if opening < 0 {
			dr, cr, amt = id, capitalAccount(a.Currency), -opening
		}
		return tx.Post(ctx, &store.JournalEntry{Key: "open/" + id, Kind: store.EntryOpen, Amount: opening,
			Currency: a.Currency, Created: a.Created, Postings: []store.Posting{
				{Account: dr, Side: store.Debit, Amount: amt},
				{Account: cr, Side: store.Credit, Amount: amt},
			}})
	})
	if err != nil {
		return "", fmt.Errorf("bank: open %s account: %w", a.Kind, err)
	}
	return id, nil
}

// OpenMerchant opens the settlement account of merchantID (the merchant
// ID the acquirer knows it by, ISO 8583 DE 42) and returns its ledger ID.
// A merchant settles in one currency.
func (l *Ledger) OpenMerchant(ctx context.Context, merchantID, holder string, currency int) (string, error) {
	if merchantID == "" || len(merchantID) > 15 {
		return "", fmt.Errorf("bank: open merchant: merchant ID %q must be 1 to 15 characters", merchantID)
	}
	if !validCurrency(currency) {
		return "", fmt.Errorf("bank: open merchant %q: currency %d is not ISO 4217 numeric", merchantID, currency)
	}
	id := "merchant/" + merchantID
	err := l.st.InBankTx(ctx, func(tx store.BankTx) error {
		if err := l.ensureOwn(ctx, tx, currency); err != nil {
			return err
		}
		return tx.CreateBankAccount(ctx, &store.BankAccount{ID: id, Kind: store.BankMerchant, Number: merchantID,
			Holder: holder, Currency: currency, Created: l.now()})
	})
	if err != nil {
		return "", fmt.Errorf("bank: open merchant %q: %w", merchantID, err)
	}
	return id, nil
}

// Block blocks (or unblocks) an account: the issuer answers 57 for it.
func (l *Ledger) Block(ctx context.Context, id string, blocked bool) error {
	if err := l.st.InBankTx(ctx, func(tx store.BankTx) error { return tx.SetBlocked(ctx, id, blocked) }); err != nil {
		return fmt.Errorf("bank: block: %w", err)
	}
	return nil
}

// Balance returns an account's balance, credits − debits.
func (l *Ledger) Balance(ctx context.Context, id string) (int64, error) {
	var b store.Balance
	err := l.st.InBankTx(ctx, func(tx store.BankTx) error {
		var err error
		b, err = tx.Balance(ctx, id)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("bank: balance: %w", err)
	}
	return b.Net(), nil
}

// Funds is a customer account's position.
type Funds struct {
	Balance   int64 // credits − debits: opening − captured + credited
	Held      int64 // outstanding authorization holds
	Limit     int64
	OpenToBuy int64 // Balance + Limit − Held
}

// Funds returns the position of a card or deposit account.
func (l *Ledger) Funds(ctx context.Context, id string) (Funds, error) {
	var f Funds
	err := l.st.InBankTx(ctx, func(tx store.BankTx) error {
		a, err := tx.BankAccount(ctx, id)
		if err != nil {
			return err
		}
		f, err = funds(ctx, tx, a)
		return err
	})
	if err != nil {
		return Funds{}, fmt.Errorf("bank: funds: %w", err)
	}
	return f, nil
}

func funds(ctx context.Context, tx store.BankTx, a *store.BankAccount) (Funds, error) {
	bal, err := tx.Balance(ctx, a.ID)
	if err != nil {
		return Funds{}, err
	}
	held, err := tx.Balance(ctx, heldAccount(a.ID))
	if err != nil {
		return Funds{}, err
	}
	f := Funds{Balance: bal.Net(), Held: -held.Net(), Limit: a.Limit}
	f.OpenToBuy = f.Balance + f.Limit - f.Held
	return f, nil
}

// maskPAN shows at most the first six and last four digits.
func maskPAN(pan string) string {
	if m, err := store.MaskPAN(pan); err == nil {
		return m
	}
	if len(pan) <= 4 {
		return strings.Repeat("*", len(pan))
	}
	return "…" + pan[len(pan)-min(4, len(pan)/4):]
}

func validPAN(pan string) bool {
	if len(pan) < 12 || len(pan) > 19 {
		return false
	}
	for i := 0; i < len(pan); i++ {
		if pan[i] < '0' || pan[i] > '9' {
			return false
		}
	}
	return true
}

// luhnValid reports whether pan's last digit is its Luhn check digit
// (ISO/IEC 7812-1 annex B). pan must be all digits.
func luhnValid(pan string) bool {
	sum := 0
	for i := 0; i < len(pan); i++ {
		d := int(pan[len(pan)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// parseExpiry returns the first instant after a YYMM expiry: a card is
// valid through the last day of its expiry month (UTC), years 2000–2099.
func parseExpiry(yymm string) (time.Time, bool) {
	if len(yymm) != 4 {
		return time.Time{}, false
	}
	for i := 0; i < 4; i++ {
		if yymm[i] < '0' || yymm[i] > '9' {
			return time.Time{}, false
		}
	}
	yy := int(yymm[0]-'0')*10 + int(yymm[1]-'0')
	mm := int(yymm[2]-'0')*10 + int(yymm[3]-'0')
	if mm < 1 || mm > 12 {
		return time.Time{}, false
	}
	return time.Date(2000+yy, time.Month(mm)+1, 1, 0, 0, 0, 0, time.UTC), true
}
