package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/setpay/setpay/store"
)

// runBank runs the conformance tests of store.BankStore; every backend
// must implement it.
func runBank(t *testing.T, open func(t *testing.T) Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b store.BankStore)
	}{
		{"BankAccounts", testBankAccounts},
		{"BankPost", testBankPost},
		{"BankRollback", testBankRollback},
		{"BankIssuerAuth", testBankIssuerAuth},
		{"BankBatches", testBankBatches},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, ok := open(t).(store.BankStore)
			if !ok {
				t.Fatal("backend does not implement store.BankStore")
			}
			tt.fn(t, b)
		})
	}
}

func inTx(t *testing.T, b store.BankStore, fn func(ctx context.Context, tx store.BankTx) error) error {
	t.Helper()
	ctx := context.Background()
	return b.InBankTx(ctx, func(tx store.BankTx) error { return fn(ctx, tx) })
}

func bankFixture(t *testing.T, b store.BankStore) {
	t.Helper()
	err := inTx(t, b, func(ctx context.Context, tx store.BankTx) error {
		for _, a := range []*store.BankAccount{
			{ID: "card/1", Kind: store.BankCard, Number: "4111111111111111", Currency: 978, Limit: 500, Expiry: "3112", Created: at},
			{ID: "bank/clearing/978", Kind: store.BankClearing, Currency: 978},
			{ID: "bank/clearing/840", Kind: store.BankClearing, Currency: 840},
		} {
			if err := tx.CreateBankAccount(ctx, a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testBankAccounts(t *testing.T, b store.BankStore) {
	bankFixture(t, b)
	err := inTx(t, b, func(ctx context.Context, tx store.BankTx) error {
		got, err := tx.BankAccount(ctx, "card/1")
		if err != nil {
			return err
		}
		want := store.BankAccount{ID: "card/1", Kind: store.BankCard, Number: "4111111111111111", Currency: 978, Limit: 500, Expiry: "3112", Created: at}
		if *got != want {
			t.Errorf("BankAccount = %+v, want %+v", got, want)
		}
		if got, err := tx.BankAccountByNumber(ctx, store.BankCard, "4111111111111111", ""); err != nil || got.ID != "card/1" {
			t.Errorf("BankAccountByNumber = %v, %v", got, err)
		}
		if _, err := tx.BankAccountByNumber(ctx, store.BankDeposit, "4111111111111111", ""); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("by number, other kind: %v, want ErrNotFound", err)
		}
		if _, err := tx.BankAccount(ctx, "card/2"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing account: %v, want ErrNotFound", err)
		}
		if err := tx.CreateBankAccount(ctx, &store.BankAccount{ID: "card/1", Kind: store.BankCard, Currency: 978}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("same ID: %v, want ErrConflict", err)
		}
		if err := tx.CreateBankAccount(ctx, &store.BankAccount{ID: "card/2", Kind: store.BankCard, Number: "4111111111111111", Currency: 978}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("same number: %v, want ErrConflict", err)
		}
		if err := tx.SetBlocked(ctx, "card/1", true); err != nil {
			return err
		}
		if got, err := tx.BankAccount(ctx, "card/1"); err != nil || !got.Blocked {
			t.Errorf("after SetBlocked: %+v, %v", got, err)
		}
		all, err := tx.BankAccounts(ctx)
		if err != nil {
			return err
		}
		if len(all) != 3 || all[0].ID != "bank/clearing/840" || all[2].ID != "card/1" {
			t.Errorf("BankAccounts = %v", all)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testBankPost(t *testing.T, b store.BankStore) {
	bankFixture(t, b)
	entry := func(key string, cur int, debit, credit int64, accts ...string) *store.JournalEntry {
		return &store.JournalEntry{Key: key, Kind: store.EntryCapture, Ref: "auth-1", Batch: 7, Amount: debit, Currency: cur, Created: at,
			Postings: []store.Posting{{Account: accts[0], Side: store.Debit, Amount: debit}, {Account: accts[1], Side: store.Credit, Amount: credit}}}
	}
	err := inTx(t, b, func(ctx context.Context, tx store.BankTx) error {
		e := entry("k1", 978, 300, 300, "card/1", "bank/clearing/978")
		if err := tx.Post(ctx, e); err != nil {
			return err
		}
		e2 := entry("k2", 978, 100, 100, "bank/clearing/978", "card/1")
		e2.Ref, e2.Batch = "", 0
		if err := tx.Post(ctx, e2); err != nil {
			return err
		}
		if e.ID == 0 || e2.ID <= e.ID {
			t.Errorf("entry IDs %d, %d: want increasing", e.ID, e2.ID)
		}
		for _, bad := range []*store.JournalEntry{
			entry("u", 978, 300, 299, "card/1", "bank/clearing/978"),   // unbalanced
			entry("c", 978, 300, 300, "card/1", "bank/clearing/840"),   // currency
			entry("m", 978, 300, 300, "card/1", "bank/clearing/none"),  // missing account
			entry("n", 978, -300, -300, "card/1", "bank/clearing/978"), // negative
		} {
			if err := tx.Post(ctx, bad); !errors.Is(err, store.ErrUnbalanced) {
				t.Errorf("Post(%s) = %v, want ErrUnbalanced", bad.Key, err)
			}
		}
		if err := tx.Post(ctx, entry("k1", 978, 1, 1, "card/1", "bank/clearing/978")); !errors.Is(err, store.ErrConflict) {
			t.Errorf("repeated key: %v, want ErrConflict", err)
		}
		if bal, err := tx.Balance(ctx, "card/1"); err != nil || bal != (store.Balance{Debits: 300, Credits: 100}) || bal.Net() != -200 {
			t.Errorf("Balance = %+v, %v", bal, err)
		}
		if bal, err := tx.Balance(ctx, "bank/clearing/840"); err != nil || bal != (store.Balance{}) {
			t.Errorf("Balance of an idle account = %+v, %v", bal, err)
		}
		got, err := tx.Entry(ctx, "k1")
		if err != nil {
			return err
		}
		if got.ID != e.ID || got.Kind != e.Kind || got.Ref != "auth-1" || got.Batch != 7 || got.Amount != 300 ||
			!got.Created.Equal(at) || len(got.Postings) != 2 || got.Postings[0] != e.Postings[0] || got.Postings[1] != e.Postings[1] {
			t.Errorf("Entry = %+v, want %+v", got, e)
		}
		if _, err := tx.Entry(ctx, "u"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("refused entry was written: %v", err)
		}
		for f, want := range map[store.EntryFilter]int{
			{}: 2, {Ref: "auth-1"}: 1, {Batch: 7}: 1, {Account: "card/1"}: 2, {Account: "bank/clearing/840"}: 0,
		} {
			if es, err := tx.Entries(ctx, f); err != nil || len(es) != want {
				t.Errorf("Entries(%+v) = %d entries, %v; want %d", f, len(es), err, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testBankRollback: an error from fn undoes everything fn wrote.
func testBankRollback(t *testing.T, b store.BankStore) {
	bankFixture(t, b)
	boom := errors.New("boom")
	err := inTx(t, b, func(ctx context.Context, tx store.BankTx) error {
		if err := tx.Post(ctx, &store.JournalEntry{Key: "r", Kind: store.EntryCredit, Currency: 978, Postings: []store.Posting{
			{Account: "bank/clearing/978", Side: store.Debit, Amount: 5}, {Account: "card/1", Side: store.Credit, Amount: 5}}}); err != nil {
			return err
		}
		if err := tx.PutIssuerAuth(ctx, &store.IssuerAuth{ID: "a"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InBankTx = %v, want boom", err)
	}
	err = inTx(t, b, func(ctx context.Context, tx store.BankTx) error {
		if bal, err := tx.Balance(ctx, "card/1"); err != nil || bal != (store.Balance{}) {
			t.Errorf("after rollback Balance = %+v, %v", bal, err)
		}
		if _, err := tx.IssuerAuth(ctx, "a"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("after rollback IssuerAuth: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testBankIssuerAuth(t *testing.T, b store.BankStore) {
	a := &store.IssuerAuth{ID: "12345/000001/0615120000", Account: "card/1", MerchantID: "M", TerminalID: "T", STAN: "000001",
		Amount: 100, Currency: 978, ResponseCode: "00", ApprovalCode: "000042", Held: 100, Created: at}
	err := inTx(t, b, func(ctx context.Context, tx store.BankTx) error {
		if err := tx.PutIssuerAuth(ctx, a); err != nil {
			return err
		}
		got, err := tx.IssuerAuth(ctx, a.ID)
		if err != nil {
			return err
		}
		if *got != *a || !got.Updated.Equal(at) {
			t.Errorf("IssuerAuth = %+v, want %+v", got, a)
		}
		a.Held, a.Captured = 40, 60
		if err := tx.PutIssuerAuth(ctx, a); err != nil {
			return err
		}
		all, err := tx.IssuerAuths(ctx)
		if err != nil {
			return err
		}
		if len(all) != 1 || all[0].Held != 40 || all[0].Captured != 60 {
			t.Errorf("IssuerAuths after replace = %+v", all)
		}
		if _, err := tx.IssuerAuth(ctx, "none"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing: %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testBankBatches(t *testing.T, b store.BankStore) {
	err := inTx(t, b, func(ctx context.Context, tx store.BankTx) error {
		b1 := &store.Batch{MerchantID: "M", Currency: 978, Opened: at}
		if err := tx.CreateBatch(ctx, b1); err != nil {
			return err
		}
		if b1.ID == 0 || b1.State != store.BatchOpen {
			t.Errorf("CreateBatch: %+v", b1)
		}
		if err := tx.CreateBatch(ctx, &store.Batch{MerchantID: "M", Currency: 978}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("second open batch: %v, want ErrConflict", err)
		}
		if err := tx.CreateBatch(ctx, &store.Batch{MerchantID: "M", Currency: 840}); err != nil {
			t.Errorf("open batch in another currency: %v", err)
		}
		if got, err := tx.OpenBatch(ctx, "M", 978); err != nil || got.ID != b1.ID || !got.Opened.Equal(at) || !got.Closed.IsZero() {
			t.Errorf("OpenBatch = %+v, %v", got, err)
		}
		b1.State, b1.Closed = store.BatchClosed, at
		if err := tx.UpdateBatch(ctx, b1); err != nil {
			return err
		}
		if _, err := tx.OpenBatch(ctx, "M", 978); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("OpenBatch after close: %v, want ErrNotFound", err)
		}
		if got, err := tx.Batch(ctx, b1.ID); err != nil || got.State != store.BatchClosed || !got.Closed.Equal(at) || !got.Settled.IsZero() {
			t.Errorf("Batch after close = %+v, %v", got, err)
		}
		b2 := &store.Batch{MerchantID: "M", Currency: 978}
		if err := tx.CreateBatch(ctx, b2); err != nil {
			t.Errorf("new batch after close: %v", err)
		}
		if all, err := tx.Batches(ctx); err != nil || len(all) != 3 || all[0].ID != b1.ID {
			t.Errorf("Batches = %v, %v", all, err)
		}
		if _, err := tx.Batch(ctx, 9999); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("missing batch: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
