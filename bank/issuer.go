package bank

import (
	"context"
	"errors"
	"fmt"

	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store"
)

// ResponseCode is an ISO 8583:1987 response code (DE 39).
type ResponseCode string

const (
	Approved              ResponseCode = "00"
	InvalidMerchant       ResponseCode = "03"
	DoNotHonour           ResponseCode = "05"
	InvalidTransaction    ResponseCode = "12" // nothing left to capture, reverse or credit; not approved
	InvalidAmount         ResponseCode = "13"
	InvalidCardNumber     ResponseCode = "14" // unknown account or Luhn failure
	UnableToLocate        ResponseCode = "25" // original of a reversal, capture or credit not found
	FormatError           ResponseCode = "30"
	InsufficientFunds     ResponseCode = "51"
	ExpiredCard           ResponseCode = "54"
	NotPermitted          ResponseCode = "57" // blocked account, wrong currency
	IssuerUnavailable     ResponseCode = "91" // the link's answer on timeout; never the core's
	DuplicateTransmission ResponseCode = "94" // same message ID, different content
)

// maxAmount is the largest amount DE 4 (n 12) carries.
const maxAmount = 999_999_999_999

// MessageID identifies one message on the acquirer link, as ISO 8583's
// original data elements (DE 90) do: acquiring institution (DE 32), STAN
// (DE 11) and transmission date and time (DE 7). A retransmission repeats
// all three; the issuer applies a message ID once.
type MessageID struct {
	AcquirerID       string // DE 32, 1 to 11 digits
	STAN             string // DE 11, 6 digits
	TransmissionTime string // DE 7, MMDDhhmmss
}

// Key is the message ID as one string, the store's idempotency key.
func (m MessageID) Key() string { return m.AcquirerID + "/" + m.STAN + "/" + m.TransmissionTime }

func (m MessageID) valid() bool {
	return digits(m.AcquirerID, 1, 11) && digits(m.STAN, 6, 6) && digits(m.TransmissionTime, 10, 10)
}

func digits(s string, lo, hi int) bool {
	if len(s) < lo || len(s) > hi {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// AuthRequest is an authorization (0100) or, with Capture, a financial
// request (0200, a sale). It names a card by PAN or a bank account, not
// both: by IBAN (BankCode empty) or by number and bank code.
type AuthRequest struct {
	ID            MessageID
	PAN           string // DE 2
	Expiry        string // DE 14, YYMM; cards only
	AccountNumber string // bank account instead of a card (SET's "other delicate financial information")
	BankCode      string
	Amount        int64 // DE 4, minor units
	Currency      int   // DE 49, ISO 4217 numeric
	TerminalID    string
	MerchantID    string // DE 42; must have a settlement account
	Capture       bool   // 0200: capture the whole amount at once
}

// String masks the PAN and account number.
func (r AuthRequest) String() string {
	acct := maskPAN(r.PAN)
	if r.PAN == "" {
		acct = "account " + maskPAN(r.AccountNumber)
	}
	return fmt.Sprintf("auth %s %s amount %d/%03d merchant %q", r.ID.Key(), acct, r.Amount, r.Currency, r.MerchantID)
}

// GoString masks as String does, for %#v.
func (r AuthRequest) GoString() string { return r.String() }

// Response is the issuer's answer to every request: ResponseCode says what
// it decided; the amounts say where the authorization stands afterwards.
type Response struct {
	ResponseCode ResponseCode
	ApprovalCode string // DE 38, approvals only
	AuthID       string // the authorization's key: its MessageID.Key()
	Amount       int64  // what this message moved (held, released, captured or credited)
	Held         int64
	Captured     int64
	Credited     int64
}

func respond(code ResponseCode) *Response { return &Response{ResponseCode: code} }

func stateOf(a *store.IssuerAuth, code ResponseCode, amount int64) *Response {
	return &Response{ResponseCode: code, ApprovalCode: a.ApprovalCode, AuthID: a.ID, Amount: amount,
		Held: a.Held, Captured: a.Captured, Credited: a.Credited}
}

// Issuer is the issuer host: it decides authorizations and moves holds.
type Issuer struct {
	l *Ledger
}

// NewIssuer returns the issuer host keeping its books in l.
func NewIssuer(l *Ledger) *Issuer { return &Issuer{l: l} }

// Authorize decides an authorization request and, on approval, places a
// hold for the amount (and for a sale captures it). The decision, the
// record answering retransmissions and the hold are committed together
// before it returns. The error is for storage failures only: every
// business outcome is a ResponseCode.
func (is *Issuer) Authorize(ctx context.Context, req AuthRequest) (*Response, error) {
	if !req.ID.valid() || (req.PAN == "") == (req.AccountNumber == "") || !validCurrency(req.Currency) {
		return respond(FormatError), nil
	}
	if req.Amount <= 0 || req.Amount > maxAmount {
		return respond(InvalidAmount), nil
	}
	var resp *Response
	err := is.l.st.InBankTx(ctx, func(tx store.BankTx) error {
		var err error
		resp, err = is.authorize(ctx, tx, &req)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bank: authorize %s: %w", req.ID.Key(), err)
	}
	return resp, nil
}

func (is *Issuer) authorize(ctx context.Context, tx store.BankTx, req *AuthRequest) (*Response, error) {
	key := req.ID.Key()
	// A retransmission gets the recorded answer and changes nothing.
	if prev, err := tx.IssuerAuth(ctx, key); err == nil {
		if prev.ResponseCode == string(UnableToLocate) {
			// Reversed before it arrived: the acquirer has given up on it.
			return respond(DoNotHonour), nil
		}
		if prev.Amount != req.Amount || prev.Currency != req.Currency || prev.MerchantID != req.MerchantID || prev.TerminalID != req.TerminalID {
			return respond(DuplicateTransmission), nil
		}
		moved := int64(0)
		if prev.ResponseCode == string(Approved) {
			moved = prev.Amount
		}
		return stateOf(prev, ResponseCode(prev.ResponseCode), moved), nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}

	rec := &store.IssuerAuth{ID: key, MerchantID: req.MerchantID, TerminalID: req.TerminalID, STAN: req.ID.STAN,
		Amount: req.Amount, Currency: req.Currency, Created: is.l.now()}
	decline := func(code ResponseCode) (*Response, error) {
		rec.ResponseCode = string(code)
		if err := tx.PutIssuerAuth(ctx, rec); err != nil {
			return nil, err
		}
		return stateOf(rec, code, 0), nil
	}

	if _, err := tx.BankAccountByNumber(ctx, store.BankMerchant, req.MerchantID, ""); errors.Is(err, store.ErrNotFound) {
		return decline(InvalidMerchant)
	} else if err != nil {
		return nil, err
	}
	acct, code, err := is.findAccount(ctx, tx, req)
	if err != nil {
		return nil, err
	}
	if code != "" {
		return decline(code)
	}
	rec.Account = acct.ID
	if acct.Blocked || acct.Currency != req.Currency {
		return decline(NotPermitted)
	}
	if acct.Kind == store.BankCard {
		reqEnd, ok := parseExpiry(req.Expiry)
		if !ok {
			return decline(ExpiredCard)
		}
		end, _ := parseExpiry(acct.Expiry)
		now := is.l.now()
		if !now.Before(end) || !now.Before(reqEnd) {
			return decline(ExpiredCard)
		}
		if req.Expiry != acct.Expiry {
			// Someone holds the number but not the card: say no more.
			return decline(DoNotHonour)
		}
	}
	f, err := funds(ctx, tx, acct)
	if err != nil {
		return nil, err
	}
	if req.Amount > f.OpenToBuy {
		return decline(InsufficientFunds)
	}

	hold := &store.JournalEntry{Key: "hold/" + key, Kind: store.EntryHold, Ref: key, Amount: req.Amount,
		Currency: req.Currency, Created: rec.Created, Postings: []store.Posting{
			{Account: heldAccount(acct.ID), Side: store.Debit, Amount: req.Amount},
			{Account: holdsAccount(req.Currency), Side: store.Credit, Amount: req.Amount},
		}}
	if err := tx.Post(ctx, hold); err != nil {
		return nil, err
	}
	rec.ResponseCode = string(Approved)
	// The entry ID is unique, so the code is unique among the last
	// million approvals: enough for a simulated issuer.
	rec.ApprovalCode = fmt.Sprintf("%06d", hold.ID%1_000_000)
	rec.Held = req.Amount
	if req.Capture {
		if err := is.capture(ctx, tx, rec, acct, "sale/"+key, req.Amount); err != nil {
			return nil, err
		}
	}
	if err := tx.PutIssuerAuth(ctx, rec); err != nil {
		return nil, err
	}
	return stateOf(rec, Approved, req.Amount), nil
}

// findAccount returns the request's account, or the response code saying
// why there is none.
func (is *Issuer) findAccount(ctx context.Context, tx store.BankTx, req *AuthRequest) (*store.BankAccount, ResponseCode, error) {
	var (
		acct *store.BankAccount
		err  error
	)
	if req.PAN != "" {
		if !validPAN(req.PAN) || !luhnValid(req.PAN) {
			return nil, InvalidCardNumber, nil
		}
		acct, err = tx.BankAccountByNumber(ctx, store.BankCard, req.PAN, "")
	} else {
		if req.BankCode == "" && msg.CheckIBAN(req.AccountNumber) != nil {
			// Without a bank code the number is an IBAN, and a mistyped
			// one is an invalid account number, like a Luhn failure.
			return nil, InvalidCardNumber, nil
		}
		acct, err = tx.BankAccountByNumber(ctx, store.BankDeposit, req.AccountNumber, req.BankCode)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, InvalidCardNumber, nil
	}
	if err != nil {
		return nil, "", err
	}
	return acct, "", nil
}

// FollowUp is a reversal (0400), capture (0220) or credit naming the
// authorization it follows by that request's MessageID (DE 90).
type FollowUp struct {
	ID       MessageID // this message's own, for retransmissions
	Original MessageID // the authorization's
	Amount   int64     // reversal: hold to release, 0 for all of it
}

// seenEntry reports whether an entry with key exists and, if so, whether it
// records the same message.
func seenEntry(ctx context.Context, tx store.BankTx, key string, kind store.EntryKind, ref string, amount int64) (found bool, same bool, err error) {
	prev, err := tx.Entry(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	// A reversal's entry records what it released (or, for a sale, what it
	// returned), not what it asked for.
	release := kind == store.EntryRelease && (prev.Kind == store.EntryRelease || prev.Kind == store.EntryCredit)
	same = (prev.Kind == kind || release) && prev.Ref == ref && (release || prev.Amount == amount)
	return true, same, nil
}

// followUp runs the checks every follow-up shares and then act.
func (is *Issuer) followUp(ctx context.Context, op string, kind store.EntryKind, m FollowUp, allowZero bool,
	act func(tx store.BankTx, a *store.IssuerAuth, acct *store.BankAccount, key string) (*Response, error)) (*Response, error) {
	if !m.ID.valid() || !m.Original.valid() {
		return respond(FormatError), nil
	}
	if m.Amount < 0 || m.Amount > maxAmount || (m.Amount == 0 && !allowZero) {
		return respond(InvalidAmount), nil
	}
	var resp *Response
	decide := is.followUpDecide(ctx, kind, m, &resp, act)
	err := is.l.st.InBankTx(ctx, func(tx store.BankTx) error {
		key := op + "/" + m.ID.Key()
		// A declined message is remembered too: retransmitted after the
		// state changed, it must still have no effect.
		if prev, err := tx.IssuerAuth(ctx, "declined/"+key); err == nil {
			resp = respond(ResponseCode(prev.ResponseCode))
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		// So is an approval that had nothing left to act on: retransmitted
		// after a later message gave it something, it must not act then.
		if _, err := tx.IssuerAuth(ctx, "noop/"+key); err == nil {
			a, err := tx.IssuerAuth(ctx, m.Original.Key())
			if err != nil {
				return err
			}
			resp = stateOf(a, Approved, 0)
			return nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := decide(tx, key); err != nil {
			return err
		}
		if resp.ResponseCode == DuplicateTransmission {
			return nil
		}
		if resp.ResponseCode == Approved {
			if _, err := tx.Entry(ctx, key); !errors.Is(err, store.ErrNotFound) {
				return err // posted (nil) or failed
			}
			return tx.PutIssuerAuth(ctx, &store.IssuerAuth{ID: "noop/" + key, STAN: m.ID.STAN,
				Amount: m.Amount, ResponseCode: string(Approved), Created: is.l.now()})
		}
		return tx.PutIssuerAuth(ctx, &store.IssuerAuth{ID: "declined/" + key, STAN: m.ID.STAN,
			Amount: m.Amount, ResponseCode: string(resp.ResponseCode), Created: is.l.now()})
	})
	if err != nil {
		return nil, fmt.Errorf("bank: %s %s of %s: %w", op, m.ID.Key(), m.Original.Key(), err)
	}
	return resp, nil
}

func (is *Issuer) followUpDecide(ctx context.Context, kind store.EntryKind, m FollowUp, resp **Response,
	act func(tx store.BankTx, a *store.IssuerAuth, acct *store.BankAccount, key string) (*Response, error)) func(tx store.BankTx, key string) error {
	return func(tx store.BankTx, key string) error {
		a, err := tx.IssuerAuth(ctx, m.Original.Key())
		if errors.Is(err, store.ErrNotFound) {
			*resp = respond(UnableToLocate)
			if kind != store.EntryRelease {
				return nil
			}
			return tx.PutIssuerAuth(ctx, &store.IssuerAuth{ID: m.Original.Key(), STAN: m.Original.STAN,
				ResponseCode: string(UnableToLocate), Created: is.l.now()})
		} else if err != nil {
			return err
		}
		// A retransmission finds its entry: same answer, no effect.
		if found, same, err := seenEntry(ctx, tx, key, kind, a.ID, m.Amount); err != nil {
			return err
		} else if found && !same {
			*resp = respond(DuplicateTransmission)
			return nil
		} else if found {
			prev, err := tx.Entry(ctx, key)
			if err != nil {
				return err
			}
			*resp = stateOf(a, Approved, prev.Amount)
			return nil
		}
		if a.ResponseCode != string(Approved) {
			*resp = respond(InvalidTransaction)
			if a.ResponseCode == string(UnableToLocate) {
				*resp = respond(UnableToLocate)
			}
			return nil
		}
		acct, err := tx.BankAccount(ctx, a.Account)
		if err != nil {
			return err
		}
		*resp, err = act(tx, a, acct, key)
		return err
	}
}

// Reverse releases (part of) the hold an authorization placed: Amount of
// it, or all that remains when Amount is 0 or more than remains. A
// reversal of an authorization never seen is answered 25 and remembered,
// so that the authorization, should it arrive late, places no hold. What
// a later completion captured is not reversed here; but a sale (0200)
// holds nothing, its approval was the debit, so its reversal returns the
// debit (voidSale).
func (is *Issuer) Reverse(ctx context.Context, m FollowUp) (*Response, error) {
	return is.followUp(ctx, "release", store.EntryRelease, m, true, func(tx store.BankTx, a *store.IssuerAuth, acct *store.BankAccount, key string) (*Response, error) {
		if sale, err := isSale(ctx, tx, a); err != nil {
			return nil, err
		} else if sale {
			return is.voidSale(ctx, tx, a, acct, key, m.Amount)
		}
		amt := m.Amount
		if amt == 0 || amt > a.Held {
			amt = a.Held
		}
		if amt == 0 {
			return stateOf(a, Approved, 0), nil // nothing left to release
		}
		if err := tx.Post(ctx, &store.JournalEntry{Key: key, Kind: store.EntryRelease, Ref: a.ID, Amount: amt,
			Currency: a.Currency, Created: is.l.now(), Postings: []store.Posting{
				{Account: holdsAccount(a.Currency), Side: store.Debit, Amount: amt},
				{Account: heldAccount(acct.ID), Side: store.Credit, Amount: amt},
			}}); err != nil {
			return nil, err
		}
		a.Held -= amt
		a.Updated = is.l.now()
		if err := tx.PutIssuerAuth(ctx, a); err != nil {
			return nil, err
		}
		return stateOf(a, Approved, amt), nil
	})
}

// Capture converts Amount of an authorization's remaining hold into a
// posted debit and puts it in the merchant's open batch (opening one if
// none is open). More than the remaining hold is 13; nothing remaining
// (captured or reversed already) is 12.
func (is *Issuer) Capture(ctx context.Context, m FollowUp) (*Response, error) {
	return is.followUp(ctx, "capture", store.EntryCapture, m, false, func(tx store.BankTx, a *store.IssuerAuth, acct *store.BankAccount, key string) (*Response, error) {
		if a.Held == 0 {
			return respond(InvalidTransaction), nil
		}
		if m.Amount > a.Held {
			return respond(InvalidAmount), nil
		}
		if err := is.capture(ctx, tx, a, acct, key, m.Amount); err != nil {
			return nil, err
		}
		if err := tx.PutIssuerAuth(ctx, a); err != nil {
			return nil, err
		}
		return stateOf(a, Approved, m.Amount), nil
	})
}

// capture posts a capture of amt <= a.Held and updates a (not stored).
func (is *Issuer) capture(ctx context.Context, tx store.BankTx, a *store.IssuerAuth, acct *store.BankAccount, key string, amt int64) error {
	batch, err := openBatch(ctx, tx, a.MerchantID, a.Currency, is.l.now())
	if err != nil {
		return err
	}
	if err := tx.Post(ctx, &store.JournalEntry{Key: key, Kind: store.EntryCapture, Ref: a.ID, Batch: batch.ID,
		Amount: amt, Currency: a.Currency, Created: is.l.now(), Postings: []store.Posting{
			{Account: holdsAccount(a.Currency), Side: store.Debit, Amount: amt},
			{Account: heldAccount(acct.ID), Side: store.Credit, Amount: amt},
			{Account: acct.ID, Side: store.Debit, Amount: amt},
			{Account: clearingAccount(a.Currency), Side: store.Credit, Amount: amt},
		}}); err != nil {
		return err
	}
	a.Held -= amt
	a.Captured += amt
	a.Updated = is.l.now()
	return nil
}

// Credit refunds Amount of what an authorization captured and puts the
// credit in the merchant's open batch. More than captured − credited is 13.
func (is *Issuer) Credit(ctx context.Context, m FollowUp) (*Response, error) {
	return is.followUp(ctx, "credit", store.EntryCredit, m, false, func(tx store.BankTx, a *store.IssuerAuth, acct *store.BankAccount, key string) (*Response, error) {
		if m.Amount > a.Captured-a.Credited {
			return respond(InvalidAmount), nil
		}
		batch, err := openBatch(ctx, tx, a.MerchantID, a.Currency, is.l.now())
		if err != nil {
			return nil, err
		}
		if err := tx.Post(ctx, &store.JournalEntry{Key: key, Kind: store.EntryCredit, Ref: a.ID, Batch: batch.ID,
			Amount: m.Amount, Currency: a.Currency, Created: is.l.now(), Postings: []store.Posting{
				{Account: clearingAccount(a.Currency), Side: store.Debit, Amount: m.Amount},
				{Account: acct.ID, Side: store.Credit, Amount: m.Amount},
			}}); err != nil {
			return nil, err
		}
		a.Credited += m.Amount
		a.Updated = is.l.now()
		if err := tx.PutIssuerAuth(ctx, a); err != nil {
			return nil, err
		}
		return stateOf(a, Approved, m.Amount), nil
	})
}
