package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// This file declares what the bank (issuer and acquirer hosts) persists: a
// double-entry ledger of accounts and journal entries, the issuer's record
// of each authorization, and the acquirer's batches. Balances are never
// stored: they are sums over postings.

// BankAccountKind says whose an account is and what it is for.
type BankAccountKind string

const (
	// Customer accounts (liabilities of the bank; credit-normal).
	BankCard     BankAccountKind = "card"     // a cardholder's card account; Number is the PAN
	BankDeposit  BankAccountKind = "deposit"  // a bank-account holder; Number + BankCode, IBAN-like
	BankMerchant BankAccountKind = "merchant" // a merchant's settlement account; Number is the merchant ID
	// BankHeld is a customer account's funds reserved by authorization
	// holds: one per card or deposit account, its contra in BankHolds.
	BankHeld BankAccountKind = "held"

	// The bank's own accounts.
	BankHolds     BankAccountKind = "holds"      // authorizations outstanding
	BankFeeIncome BankAccountKind = "fee-income" // interchange fee income
	BankClearing  BankAccountKind = "clearing"   // settlement clearing: captured, not yet settled
	BankCapital   BankAccountKind = "capital"    // source of opening balances
)

// Valid reports whether k is one of the defined kinds.
func (k BankAccountKind) Valid() bool {
	switch k {
	case BankCard, BankDeposit, BankMerchant, BankHeld, BankHolds, BankFeeIncome, BankClearing, BankCapital:
		return true
	}
	return false
}

// BankAccount is one account of the ledger. It holds no balance: see
// BankTx.Balance.
type BankAccount struct {
	ID       string // chosen by the bank; never the PAN
	Kind     BankAccountKind
	Number   string // PAN, account number or merchant ID; "" for the bank's own and held accounts
	BankCode string // routing / bank code of a deposit account
	Holder   string
	Currency int   // ISO 4217 numeric; every posting to the account is in it
	Limit    int64 // credit limit (card) or overdraft (deposit), minor units
	Expiry   string
	Blocked  bool
	Created  time.Time
}

// String names the account without its number: a PAN must not reach logs.
func (a *BankAccount) String() string { return fmt.Sprintf("%s account %s", a.Kind, a.ID) }

// Side is the side of a posting.
type Side int8

const (
	Debit  Side = 1
	Credit Side = 2
)

func (s Side) String() string {
	switch s {
	case Debit:
		return "debit"
	case Credit:
		return "credit"
	}
	return fmt.Sprintf("Side(%d)", int8(s))
}

// Posting is one line of a journal entry.
type Posting struct {
	Account string
	Side    Side
	Amount  int64 // > 0, minor units of the entry's currency
}

// EntryKind says what a journal entry records.
type EntryKind string

const (
	EntryOpen    EntryKind = "open"    // opening balance
	EntryHold    EntryKind = "hold"    // authorization hold placed
	EntryRelease EntryKind = "release" // hold released by a reversal
	EntryCapture EntryKind = "capture" // (part of) a hold converted into a posted debit
	EntryCredit  EntryKind = "credit"  // refund of captured funds
	EntrySettle  EntryKind = "settle"  // a batch settled to the merchant
)

// EntryCreditReversal takes back (part of) a credit: the issuer's answer
// to a reversal of a refund.
const EntryCreditReversal EntryKind = "credit-reversal"

// Valid reports whether k is one of the defined kinds.
func (k EntryKind) Valid() bool {
	switch k {
	case EntryOpen, EntryHold, EntryRelease, EntryCapture, EntryCredit, EntryCreditReversal, EntrySettle:
		return true
	}
	return false
}

// JournalEntry is one balanced transaction of the ledger.
type JournalEntry struct {
	ID       int64     // assigned by the store, increasing in posting order
	Key      string    // idempotency key, unique: a retransmitted message finds its entry
	Kind     EntryKind //
	Ref      string    // the IssuerAuth this entry belongs to; "" for opening and settlement
	Batch    int64     // the acquirer batch of a capture, credit or settlement; 0 if none
	Amount   int64     // the amount the message moved (captured, credited, released, held)
	Currency int
	Postings []Posting
	Created  time.Time
}

// CheckBalanced returns an error unless e is well formed and balanced: at
// least two postings, each with a positive amount and a side, and the sum
// of debits equal to the sum of credits (without overflow). Backends call
// it before writing an entry.
func CheckBalanced(e *JournalEntry) error {
	if !e.Kind.Valid() {
		return fmt.Errorf("store: journal entry %q: unknown kind %q", e.Key, e.Kind)
	}
	if e.Key == "" {
		return fmt.Errorf("store: %s journal entry without a key", e.Kind)
	}
	if len(e.Postings) < 2 {
		return fmt.Errorf("store: journal entry %q has %d postings, want at least 2", e.Key, len(e.Postings))
	}
	var debits, credits int64
	for i, p := range e.Postings {
		if p.Amount <= 0 {
			return fmt.Errorf("store: journal entry %q posting %d: amount %d not positive", e.Key, i, p.Amount)
		}
		sum := &debits
		switch p.Side {
		case Debit:
		case Credit:
			sum = &credits
		default:
			return fmt.Errorf("store: journal entry %q posting %d: %v", e.Key, i, p.Side)
		}
		if *sum > math.MaxInt64-p.Amount {
			return fmt.Errorf("store: journal entry %q: total overflows", e.Key)
		}
		*sum += p.Amount
	}
	if debits != credits {
		return fmt.Errorf("store: journal entry %q unbalanced: debits %d, credits %d", e.Key, debits, credits)
	}
	return nil
}

// Balance is the sum of an account's postings.
type Balance struct {
	Debits, Credits int64
}

// Net is Credits − Debits: what the bank owes a credit-normal account's
// holder (negative when the holder owes the bank).
func (b Balance) Net() int64 { return b.Credits - b.Debits }

// IssuerAuth is the issuer's record of one authorization request, approved
// or declined, kept so that a retransmission gets the same answer and so
// that later reversals, captures and credits find what they may move.
type IssuerAuth struct {
	ID           string // the request's idempotency key (acquirer, STAN, transmission time)
	Account      string // ledger account ID; "" when the card was not found
	MerchantID   string
	TerminalID   string
	STAN         string
	Amount       int64 // requested
	Currency     int
	ResponseCode string // ISO 8583 DE 39
	ApprovalCode string // DE 38, approvals only
	Held         int64  // hold still outstanding
	Captured     int64
	Credited     int64
	Created      time.Time
	Updated      time.Time
}

// BatchState is where an acquirer batch is.
type BatchState string

const (
	BatchOpen    BatchState = "open"
	BatchClosed  BatchState = "closed"
	BatchSettled BatchState = "settled"
)

// Batch is an acquirer's batch of one merchant's captures and credits in
// one currency.
type Batch struct {
	ID         int64 // assigned by the store
	MerchantID string
	Currency   int
	State      BatchState
	Opened     time.Time
	Closed     time.Time // zero while open
	Settled    time.Time // zero until settled
}

// EntryFilter selects journal entries; zero fields select everything.
type EntryFilter struct {
	Ref     string
	Batch   int64
	Account string // entries with a posting to this account
}

// ErrUnbalanced is returned, wrapped, when an entry fails CheckBalanced or
// posts to an account in another currency or a missing account.
var ErrUnbalanced = errors.New("store: invalid journal entry")

// BankTx is the bank's view of the store inside one transaction. Every
// method sees the writes made before it in the same transaction.
type BankTx interface {
	// CreateBankAccount stores a new account; ErrConflict if its ID, or its
	// (Kind, Number, BankCode) when Number is not empty, exists. Zero
	// Created is filled in.
	CreateBankAccount(ctx context.Context, a *BankAccount) error
	// BankAccount returns the account with this ID, or ErrNotFound.
	BankAccount(ctx context.Context, id string) (*BankAccount, error)
	// BankAccountByNumber finds a customer account by kind and number.
	BankAccountByNumber(ctx context.Context, kind BankAccountKind, number, bankCode string) (*BankAccount, error)
	// BankAccounts returns every account, ordered by ID.
	BankAccounts(ctx context.Context) ([]*BankAccount, error)
	// SetBlocked blocks or unblocks an account.
	SetBlocked(ctx context.Context, id string, blocked bool) error

	// Post writes a journal entry and sets its ID and (if zero) Created.
	// It refuses, with ErrUnbalanced, an entry that fails CheckBalanced
	// or posts to a missing account or one in another currency; with
	// ErrConflict an entry whose Key exists.
	Post(ctx context.Context, e *JournalEntry) error
	// Entry returns the entry with this key, or ErrNotFound.
	Entry(ctx context.Context, key string) (*JournalEntry, error)
	// Entries returns the entries matching f, in ID order, with postings
	// in the order they were posted.
	Entries(ctx context.Context, f EntryFilter) ([]*JournalEntry, error)
	// Balance sums the postings of an account (zero for no postings).
	Balance(ctx context.Context, account string) (Balance, error)

	// PutIssuerAuth creates or replaces the record with a.ID. Zero
	// Created/Updated are filled in.
	PutIssuerAuth(ctx context.Context, a *IssuerAuth) error
	// IssuerAuth returns the record with this ID, or ErrNotFound.
	IssuerAuth(ctx context.Context, id string) (*IssuerAuth, error)
	// IssuerAuths returns every record, ordered by ID.
	IssuerAuths(ctx context.Context) ([]*IssuerAuth, error)

	// CreateBatch stores a new batch and sets its ID; ErrConflict if the
	// merchant already has an open batch in that currency.
	CreateBatch(ctx context.Context, b *Batch) error
	// Batch returns the batch with this ID, or ErrNotFound.
	Batch(ctx context.Context, id int64) (*Batch, error)
	// OpenBatch returns the merchant's open batch in currency, or ErrNotFound.
	OpenBatch(ctx context.Context, merchantID string, currency int) (*Batch, error)
	// UpdateBatch writes b's State, Closed and Settled.
	UpdateBatch(ctx context.Context, b *Batch) error
	// Batches returns every batch, ordered by ID.
	Batches(ctx context.Context) ([]*Batch, error)
}

// BankStore persists the bank. All access goes through InBankTx so that a
// decision (open-to-buy, what a hold still covers) and the entry it writes
// are one atomic step.
type BankStore interface {
	// InBankTx runs fn in one transaction isolated from every other
	// (serializable), and commits it before returning if fn returns nil;
	// an error from fn rolls everything back and is returned. fn may be
	// called more than once if the backend retries a serialization
	// failure, so it must have no side effects outside tx, and it must not
	// use tx after returning.
	InBankTx(ctx context.Context, fn func(tx BankTx) error) error
}
