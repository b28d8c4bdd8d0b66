package bank

import (
	"context"
	"errors"
	"fmt"

	"github.com/setpay/setpay/store"
)

// Audit checks the ledger's invariants in one consistent read and returns
// every violation found (nil if none):
//
//   - every entry is balanced, so total debits equal total credits;
//   - every account's balance (the store's sum) equals the sum of its
//     postings read entry by entry;
//   - every authorization's hold is accounted for exactly once: held =
//     placed − released − captured ≥ 0, and its held postings net to what
//     the record says is still held;
//   - its captures and credits (less credit reversals) in the journal
//     equal its record, and it never credited more than it captured;
//   - every customer account's balance is opening − captured + credited,
//     with captured and credited summed from the authorization records.
func (l *Ledger) Audit(ctx context.Context) error {
	var errs []error
	err := l.st.InBankTx(ctx, func(tx store.BankTx) error {
		errs = errs[:0]
		bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

		entries, err := tx.Entries(ctx, store.EntryFilter{})
		if err != nil {
			return err
		}
		var debits, credits int64
		sums := map[string]store.Balance{}
		type byAuth struct{ placed, released, captured, credited, heldNet int64 }
		auths := map[string]*byAuth{}
		opening := map[string]int64{}
		for _, e := range entries {
			if err := store.CheckBalanced(e); err != nil {
				bad("entry %d: %v", e.ID, err)
			}
			for _, p := range e.Postings {
				b := sums[p.Account]
				if p.Side == store.Debit {
					b.Debits += p.Amount
					debits += p.Amount
				} else {
					b.Credits += p.Amount
					credits += p.Amount
				}
				sums[p.Account] = b
			}
			if e.Kind == store.EntryOpen {
				for _, p := range e.Postings {
					if p.Side == store.Credit {
						opening[p.Account] += p.Amount
					} else {
						opening[p.Account] -= p.Amount
					}
				}
			}
			if e.Ref == "" {
				continue
			}
			a := auths[e.Ref]
			if a == nil {
				a = &byAuth{}
				auths[e.Ref] = a
			}
			switch e.Kind {
			case store.EntryHold:
				a.placed += e.Amount
			case store.EntryRelease:
				a.released += e.Amount
			case store.EntryCapture:
				a.captured += e.Amount
			case store.EntryCredit:
				a.credited += e.Amount
			case store.EntryCreditReversal:
				a.credited -= e.Amount
			}
			for _, p := range e.Postings {
				if store.BankAccountKind(accountKind(p.Account)) == store.BankHeld {
					if p.Side == store.Debit {
						a.heldNet += p.Amount
					} else {
						a.heldNet -= p.Amount
					}
				}
			}
		}
		if debits != credits {
			bad("ledger: total debits %d != total credits %d", debits, credits)
		}

		accounts, err := tx.BankAccounts(ctx)
		if err != nil {
			return err
		}
		customer := map[string][2]int64{} // captured, credited per account
		recs, err := tx.IssuerAuths(ctx)
		if err != nil {
			return err
		}
		for _, r := range recs {
			a := auths[r.ID]
			if a == nil {
				a = &byAuth{}
			}
			if r.ResponseCode != string(Approved) && (a.placed != 0 || r.Held != 0 || r.Captured != 0) {
				bad("authorization %s: declined (%s) but holds or captures", r.ID, r.ResponseCode)
			}
			if r.Held < 0 || a.placed-a.released-a.captured != r.Held || a.heldNet != r.Held {
				bad("authorization %s: placed %d, released %d, captured %d, held postings %d; record holds %d",
					r.ID, a.placed, a.released, a.captured, a.heldNet, r.Held)
			}
			if a.captured != r.Captured || a.credited != r.Credited || r.Credited < 0 || r.Credited > r.Captured {
				bad("authorization %s: journal captured/credited %d/%d, record %d/%d", r.ID, a.captured, a.credited, r.Captured, r.Credited)
			}
			c := customer[r.Account]
			customer[r.Account] = [2]int64{c[0] + r.Captured, c[1] + r.Credited}
			delete(auths, r.ID)
		}
		for id := range auths {
			bad("journal entries for unknown authorization %s", id)
		}
		for _, acct := range accounts {
			b, err := tx.Balance(ctx, acct.ID)
			if err != nil {
				return err
			}
			if b != sums[acct.ID] {
				bad("%v: store balance %+v, postings sum %+v", acct, b, sums[acct.ID])
			}
			if acct.Kind == store.BankCard || acct.Kind == store.BankDeposit {
				c := customer[acct.ID]
				if want := opening[acct.ID] - c[0] + c[1]; b.Net() != want {
					bad("%v: balance %d, want opening %d − captured %d + credited %d", acct, b.Net(), opening[acct.ID], c[0], c[1])
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bank: audit: %w", err)
	}
	return errors.Join(errs...)
}

// accountKind reads the kind from an account ID the bank made.
func accountKind(id string) string {
	if len(id) > 5 && id[len(id)-5:] == "/held" {
		return string(store.BankHeld)
	}
	for i := 0; i < len(id); i++ {
		if id[i] == '/' {
			return id[:i]
		}
	}
	return id
}
