package bank

import (
	"context"
	"testing"
	"time"

	"github.com/setpay/setpay/store/sqlite"
)

// FuzzIssuer feeds arbitrary request fields to every issuer entry point:
// no panic, no storage error, and the ledger still audits clean.
func FuzzIssuer(f *testing.F) {
	f.Add("12345", "000001", "0615120000", visaPAN, "3112", "", "", int64(100), eur, "MERCHANT0001", int64(50))
	f.Add("1", "999999", "1231235959", "4111111111111112", "9913", "DE89370400440532013000", "37040044", int64(-1), 0, "", int64(0))
	db, err := sqlite.Open(":memory:")
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	l := NewLedger(db, func() time.Time { return today })
	if _, err := l.OpenMerchant(ctx, "MERCHANT0001", "", eur); err != nil {
		f.Fatal(err)
	}
	if _, err := l.OpenCard(ctx, Card{PAN: visaPAN, Expiry: "3112", Currency: eur, Limit: 1000}); err != nil {
		f.Fatal(err)
	}
	is := NewIssuer(l)
	f.Fuzz(func(t *testing.T, acq, stan, tt, pan, exp, acct, code string, amt int64, cur int, mid string, amt2 int64) {
		id := MessageID{acq, stan, tt}
		if _, err := is.Authorize(ctx, AuthRequest{ID: id, PAN: pan, Expiry: exp, AccountNumber: acct, BankCode: code,
			Amount: amt, Currency: cur, MerchantID: mid}); err != nil {
			t.Fatal(err)
		}
		for i, op := range []func(context.Context, FollowUp) (*Response, error){is.Capture, is.Credit, is.ReverseCredit, is.Reverse} {
			m := FollowUp{ID: MessageID{acq, stan, "061512000" + string(rune('0'+i))}, Original: id, Amount: amt2}
			if _, err := op(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Audit(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
