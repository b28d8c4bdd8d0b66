package bank

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/setpay/setpay/store"
)

// isSale reports whether authorization a was a sale: approved and captured
// by the same 0200 (its capture entry is keyed "sale/").
func isSale(ctx context.Context, tx store.BankTx, a *store.IssuerAuth) (bool, error) {
	_, err := tx.Entry(ctx, "sale/"+a.ID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// voidSale is the reversal (0400) of a sale: it returns amt of what the
// sale debited, all that is not yet returned when amt is 0 or more than
// that. The books have no "uncapture", so the money comes back as a credit
// does (Dr clearing, Cr customer) in the merchant's open batch, under the
// reversal's key; settlement counts it against the batch's sales, not as a
// refund (a voided sale pays no interchange).
func (is *Issuer) voidSale(ctx context.Context, tx store.BankTx, a *store.IssuerAuth, acct *store.BankAccount, key string, amt int64) (*Response, error) {
	left := a.Captured - a.Credited
	if amt == 0 || amt > left {
		amt = left
	}
	if amt == 0 {
		return stateOf(a, Approved, 0), nil // refunded or voided already
	}
	if err := is.postCredit(ctx, tx, a, acct, key, store.EntryCredit, amt); err != nil {
		return nil, err
	}
	a.Credited += amt
	a.Updated = is.l.now()
	if err := tx.PutIssuerAuth(ctx, a); err != nil {
		return nil, err
	}
	return stateOf(a, Approved, amt), nil
}

// postCredit posts a credit (Dr clearing, Cr customer) or its reversal
// (Dr customer, Cr clearing) of amt in the merchant's open batch.
func (is *Issuer) postCredit(ctx context.Context, tx store.BankTx, a *store.IssuerAuth, acct *store.BankAccount, key string, kind store.EntryKind, amt int64) error {
	batch, err := openBatch(ctx, tx, a.MerchantID, a.Currency, is.l.now())
	if err != nil {
		return err
	}
	dr, cr := clearingAccount(a.Currency), acct.ID
	if kind == store.EntryCreditReversal {
		dr, cr = cr, dr
	}
	return tx.Post(ctx, &store.JournalEntry{Key: key, Kind: kind, Ref: a.ID, Batch: batch.ID,
		Amount: amt, Currency: a.Currency, Created: is.l.now(), Postings: []store.Posting{
			{Account: dr, Side: store.Debit, Amount: amt},
			{Account: cr, Side: store.Credit, Amount: amt},
		}})
}

// ReverseCredit takes back Amount of what credits of an authorization
// returned to the cardholder (a reversal of a refund, ISO 8583 0400 with
// processing code 20). m.Original names either the authorization, whose
// credits are reversed up to their total, or one credit message itself —
// what the link's automatic reversal of an unanswered refund names —
// whose amount is then the most it takes back. Nothing credited is 12,
// more than credited 13. The money is taken back whatever the account's
// funds: it was the cardholder's only by the credit being reversed.
func (is *Issuer) ReverseCredit(ctx context.Context, m FollowUp) (*Response, error) {
	limit := int64(maxAmount)
	var credit *store.JournalEntry
	err := is.l.st.InBankTx(ctx, func(tx store.BankTx) error {
		e, err := tx.Entry(ctx, "credit/"+m.Original.Key())
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		credit = e
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bank: credit reversal %s: %w", m.ID.Key(), err)
	}
	if credit != nil && credit.Kind == store.EntryCredit {
		orig, ok := parseMessageID(credit.Ref)
		if !ok {
			return nil, fmt.Errorf("bank: credit reversal %s: credit %s names authorization %q", m.ID.Key(), credit.Key, credit.Ref)
		}
		m.Original, limit = orig, credit.Amount
	}
	return is.followUp(ctx, "uncredit", store.EntryCreditReversal, m, false, func(tx store.BankTx, a *store.IssuerAuth, acct *store.BankAccount, key string) (*Response, error) {
		if a.Credited == 0 {
			return respond(InvalidTransaction), nil
		}
		if m.Amount > a.Credited || m.Amount > limit {
			return respond(InvalidAmount), nil
		}
		if err := is.postCredit(ctx, tx, a, acct, key, store.EntryCreditReversal, m.Amount); err != nil {
			return nil, err
		}
		a.Credited -= m.Amount
		a.Updated = is.l.now()
		if err := tx.PutIssuerAuth(ctx, a); err != nil {
			return nil, err
		}
		return stateOf(a, Approved, m.Amount), nil
	})
}

// parseMessageID is the inverse of MessageID.Key.
func parseMessageID(key string) (MessageID, bool) {
	parts := strings.Split(key, "/")
	if len(parts) != 3 {
		return MessageID{}, false
	}
	id := MessageID{AcquirerID: parts[0], STAN: parts[1], TransmissionTime: parts[2]}
	return id, id.valid()
}
