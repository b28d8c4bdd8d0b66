package demo_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/setpay/setpay/bank"
	"github.com/setpay/setpay/demo"
	"github.com/setpay/setpay/lab"
	"github.com/setpay/setpay/store/sqlite"
	"github.com/setpay/setpay/suite"
)

// TestSeedMatchesLab: 'setpay bank --seed' opens the accounts of the cards
// and merchant lab builds, so the demo's PANs and merchant ID must be the
// ones SeedBank uses — past the five well-known test numbers too.
func TestSeedMatchesLab(t *testing.T) {
	ms, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	gs, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ms.Close(); gs.Close() })
	l, err := lab.New(lab.Options{Suite: suite.NewModern(), Cardholders: 7, MerchantStore: ms, GatewayStore: gs})
	if err != nil {
		t.Fatal(err)
	}
	if l.MerchantID != demo.MerchantID {
		t.Errorf("lab's merchant is %q, demo seeds %q", l.MerchantID, demo.MerchantID)
	}
	for i, c := range l.Cards {
		if got := demo.CardPAN(i); got != c.PAN {
			t.Errorf("cardholder %d: lab's card %s, demo seeds %s", i+1, c.PAN, got)
		}
	}
}

// TestSeedBank: seeding opens the merchants, cards and accounts once;
// seeding again opens nothing; a seeded card is authorized as the demo's
// own would be, and the day's third card is declined for what the day has
// it try to buy.
func TestSeedBank(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	l := bank.NewLedger(db, func() time.Time { return now })
	seed := demo.Seed(3, 2)
	if len(seed.Merchants) != 2 || len(seed.Cards) != 3 || len(seed.Accounts) != 2 {
		t.Fatalf("Seed(3, 2) = %+v", seed)
	}
	if n, err := demo.SeedBank(ctx, l, seed, now); err != nil || n != 7 {
		t.Fatalf("first seed: %d, %v; want 7 accounts", n, err)
	}
	if n, err := demo.SeedBank(ctx, l, seed, now); err != nil || n != 0 {
		t.Fatalf("second seed: %d, %v; want 0", n, err)
	}
	full := demo.FullSeed()
	if len(full.Cards) != demo.MaxCardholders+1 || len(full.Accounts) != demo.MaxCardholders {
		t.Errorf("FullSeed: %d cards, %d accounts", len(full.Cards), len(full.Accounts))
	}
	for i, c := range seed.Cards {
		if full.Cards[i] != c {
			t.Errorf("card %d: FullSeed %+v, Seed %+v", i+1, full.Cards[i], c)
		}
	}
	is := bank.NewIssuer(l)
	for i, tc := range []struct {
		card     int
		merchant string
		amount   int64
		want     bank.ResponseCode
	}{
		{1, demo.MerchantID, 49_99, bank.Approved},
		{0, seed.Merchants[1].ID, 500_00, bank.Approved},
		{2, seed.Merchants[1].ID, 249_00, bank.InsufficientFunds},
	} {
		res, err := is.Authorize(ctx, bank.AuthRequest{
			ID:  bank.MessageID{AcquirerID: "4711", STAN: fmt.Sprintf("%06d", i+1), TransmissionTime: "1125120000"},
			PAN: demo.CardPAN(tc.card), Expiry: "2911", Amount: tc.amount, Currency: 840, MerchantID: tc.merchant,
		})
		if err != nil || res.ResponseCode != tc.want {
			t.Errorf("card %d, %d cents at %s: %+v, %v; want %s", tc.card+1, tc.amount, tc.merchant, res, err, tc.want)
		}
	}
	res, err := is.Authorize(ctx, bank.AuthRequest{
		ID:            bank.MessageID{AcquirerID: "4711", STAN: "000009", TransmissionTime: "1125120000"},
		AccountNumber: lab.AccountIBAN(1), Amount: 10_00, Currency: 840, MerchantID: demo.MerchantID,
	})
	if err != nil || res.ResponseCode != bank.Approved {
		t.Errorf("seeded bank account: %+v, %v", res, err)
	}
	if err := l.Audit(ctx); err != nil {
		t.Fatal(err)
	}
}
