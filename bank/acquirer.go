package bank

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/setpay/setpay/store"
)

// ErrBatchState is returned, wrapped, when a batch operation does not fit
// the batch's state (settling an open batch, closing a settled one).
var ErrBatchState = errors.New("bank: batch in the wrong state")

// Acquirer is the acquirer host: merchants' batches and their settlement.
type Acquirer struct {
	l      *Ledger
	feeBPS int64
}

// NewAcquirer returns the acquirer host keeping its books in l and
// charging merchants interchange at feeBPS basis points (0 to 10000) of
// each batch's sales.
func NewAcquirer(l *Ledger, feeBPS int) (*Acquirer, error) {
	if feeBPS < 0 || feeBPS > 10_000 {
		return nil, fmt.Errorf("bank: interchange fee %d basis points out of 0..10000", feeBPS)
	}
	return &Acquirer{l: l, feeBPS: int64(feeBPS)}, nil
}

// openBatch returns the merchant's open batch in currency, opening one if
// there is none.
func openBatch(ctx context.Context, tx store.BankTx, merchantID string, currency int, now time.Time) (*store.Batch, error) {
	b, err := tx.OpenBatch(ctx, merchantID, currency)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return b, err
	}
	b = &store.Batch{MerchantID: merchantID, Currency: currency, State: store.BatchOpen, Opened: now}
	if err := tx.CreateBatch(ctx, b); err != nil {
		return nil, err
	}
	return b, nil
}

// OpenBatch returns the merchant's open batch, opening one if none is
// open: asking twice opens one batch.
func (ac *Acquirer) OpenBatch(ctx context.Context, merchantID string) (*store.Batch, error) {
	var b *store.Batch
	err := ac.l.st.InBankTx(ctx, func(tx store.BankTx) error {
		m, err := tx.BankAccountByNumber(ctx, store.BankMerchant, merchantID, "")
		if err != nil {
			return err
		}
		b, err = openBatch(ctx, tx, merchantID, m.Currency, ac.l.now())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bank: open batch of merchant %q: %w", merchantID, err)
	}
	return b, nil
}

// CloseBatch closes an open batch: later captures go to a new one.
// Closing a closed batch changes nothing.
func (ac *Acquirer) CloseBatch(ctx context.Context, id int64) (*store.Batch, error) {
	var b *store.Batch
	err := ac.l.st.InBankTx(ctx, func(tx store.BankTx) error {
		var err error
		if b, err = tx.Batch(ctx, id); err != nil {
			return err
		}
		switch b.State {
		case store.BatchClosed:
			return nil
		case store.BatchSettled:
			return fmt.Errorf("batch %d is settled: %w", id, ErrBatchState)
		}
		b.State, b.Closed = store.BatchClosed, ac.l.now()
		return tx.UpdateBatch(ctx, b)
	})
	if err != nil {
		return nil, fmt.Errorf("bank: close batch: %w", err)
	}
	return b, nil
}

// Settlement is what settling one batch moved.
type Settlement struct {
	Batch      int64
	MerchantID string
	Currency   int
	Count      int   // captures and credits in the batch
	Sales      int64 // sum of captures, less voided sales
	Refunds    int64 // sum of credits, less their reversals
	Gross      int64 // Sales − Refunds
	Fee        int64 // interchange: Sales × bps / 10000, rounded half up
	Net        int64 // Gross − Fee: credited to (or, if negative, debited from) the merchant
}

// Fee returns the interchange fee on sales at bps basis points, rounded
// half up to the minor unit: ⌊(sales·bps + 5000) / 10000⌋. It is computed
// once per batch on its sales, so a batch's fee does not depend on how its
// sales were split; refunds do not return fees.
func Fee(sales int64, bps int) int64 {
	if sales <= 0 || bps <= 0 {
		return 0
	}
	n := new(big.Int).Mul(big.NewInt(sales), big.NewInt(int64(bps)))
	n.Add(n, big.NewInt(5000))
	n.Quo(n, big.NewInt(10_000))
	return n.Int64() // <= sales, since bps <= 10000
}

// Settle settles a closed batch: the clearing account pays the merchant
// the batch's gross less the fee, and the fee goes to fee income, in one
// journal entry. Settling a settled batch returns the same settlement and
// moves nothing.
func (ac *Acquirer) Settle(ctx context.Context, id int64) (*Settlement, error) {
	var s *Settlement
	err := ac.l.st.InBankTx(ctx, func(tx store.BankTx) error {
		b, err := tx.Batch(ctx, id)
		if err != nil {
			return err
		}
		switch b.State {
		case store.BatchOpen:
			return fmt.Errorf("batch %d is open: %w", id, ErrBatchState)
		case store.BatchSettled:
			s, err = settlementOf(ctx, tx, b)
			return err
		}
		if s, err = tally(ctx, tx, b); err != nil {
			return err
		}
		s.Fee = Fee(s.Sales, int(ac.feeBPS))
		s.Net = s.Gross - s.Fee
		merchant, err := tx.BankAccountByNumber(ctx, store.BankMerchant, b.MerchantID, "")
		if err != nil {
			return err
		}
		var postings []store.Posting
		add := func(account string, side store.Side, amt int64) {
			if amt < 0 {
				amt, side = -amt, 3-side // the other side
			}
			if amt > 0 {
				postings = append(postings, store.Posting{Account: account, Side: side, Amount: amt})
			}
		}
		add(clearingAccount(b.Currency), store.Debit, s.Gross)
		add(merchant.ID, store.Credit, s.Net)
		add(feesAccount(b.Currency), store.Credit, s.Fee)
		if len(postings) >= 2 {
			if err := tx.Post(ctx, &store.JournalEntry{Key: fmt.Sprintf("settle/%d", b.ID), Kind: store.EntrySettle,
				Batch: b.ID, Amount: s.Net, Currency: b.Currency, Created: ac.l.now(), Postings: postings}); err != nil {
				return err
			}
		}
		b.State, b.Settled = store.BatchSettled, ac.l.now()
		return tx.UpdateBatch(ctx, b)
	})
	if err != nil {
		return nil, fmt.Errorf("bank: settle batch %d: %w", id, err)
	}
	return s, nil
}

// tally sums a batch's captures and credits.
func tally(ctx context.Context, tx store.BankTx, b *store.Batch) (*Settlement, error) {
	es, err := tx.Entries(ctx, store.EntryFilter{Batch: b.ID})
	if err != nil {
		return nil, err
	}
	s := &Settlement{Batch: b.ID, MerchantID: b.MerchantID, Currency: b.Currency}
	for _, e := range es {
		switch e.Kind {
		case store.EntryCapture:
			s.Count++
			s.Sales += e.Amount
		case store.EntryCredit:
			if strings.HasPrefix(e.Key, "release/") {
				// A voided sale (Issuer.voidSale) takes back the sale.
				s.Sales -= e.Amount
				continue
			}
			s.Count++
			s.Refunds += e.Amount
		case store.EntryCreditReversal:
			s.Refunds -= e.Amount
		}
	}
	s.Gross = s.Sales - s.Refunds
	return s, nil
}

// settlementOf rebuilds a settled batch's settlement from its entries, the
// fee from what was posted to fee income (the rate may have changed since).
func settlementOf(ctx context.Context, tx store.BankTx, b *store.Batch) (*Settlement, error) {
	s, err := tally(ctx, tx, b)
	if err != nil {
		return nil, err
	}
	e, err := tx.Entry(ctx, fmt.Sprintf("settle/%d", b.ID))
	if errors.Is(err, store.ErrNotFound) {
		return s, nil // nothing to move: an empty or zero batch
	} else if err != nil {
		return nil, err
	}
	for _, p := range e.Postings {
		if p.Account == feesAccount(b.Currency) {
			s.Fee = p.Amount
		}
	}
	s.Net = s.Gross - s.Fee
	return s, nil
}

// ReportLine is one merchant's totals in one currency over settled batches.
type ReportLine struct {
	MerchantID string
	Currency   int
	Batches    int
	Count      int
	Gross      int64
	Fees       int64
	Net        int64
}

// Report returns the settlement report: per merchant and currency, the
// count, gross, fees and net of every settled batch, ordered by merchant ID
// and currency.
func (ac *Acquirer) Report(ctx context.Context) ([]ReportLine, error) {
	lines := map[[2]any]*ReportLine{}
	err := ac.l.st.InBankTx(ctx, func(tx store.BankTx) error {
		clear(lines)
		bs, err := tx.Batches(ctx)
		if err != nil {
			return err
		}
		for _, b := range bs {
			if b.State != store.BatchSettled {
				continue
			}
			s, err := settlementOf(ctx, tx, b)
			if err != nil {
				return err
			}
			k := [2]any{b.MerchantID, b.Currency}
			l := lines[k]
			if l == nil {
				l = &ReportLine{MerchantID: b.MerchantID, Currency: b.Currency}
				lines[k] = l
			}
			l.Batches++
			l.Count += s.Count
			l.Gross += s.Gross
			l.Fees += s.Fee
			l.Net += s.Net
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bank: settlement report: %w", err)
	}
	out := make([]ReportLine, 0, len(lines))
	for _, l := range lines {
		out = append(out, *l)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].MerchantID != out[j].MerchantID {
			return out[i].MerchantID < out[j].MerchantID
		}
		return out[i].Currency < out[j].Currency
	})
	return out, nil
}
