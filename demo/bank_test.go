package demo_test

import (
	"context"
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

// TestSeedBank: seeding opens the merchant and n cards once; seeding again
// opens nothing; a seeded card is authorized as the demo's own would be.
func TestSeedBank(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	l := bank.NewLedger(db, func() time.Time { return now })
	if n, err := demo.SeedBank(ctx, l, 3, now); err != nil || n != 4 {
		t.Fatalf("first seed: %d, %v; want 4 accounts", n, err)
	}
	if n, err := demo.SeedBank(ctx, l, 3, now); err != nil || n != 0 {
		t.Fatalf("second seed: %d, %v; want 0", n, err)
	}
	if _, err := demo.SeedBank(ctx, l, demo.MaxCardholders+1, now); err == nil {
		t.Error("seeding more than MaxCardholders cards succeeded")
	}
	res, err := bank.NewIssuer(l).Authorize(ctx, bank.AuthRequest{
		ID:  bank.MessageID{AcquirerID: "4711", STAN: "000001", TransmissionTime: "1125120000"},
		PAN: demo.CardPAN(2), Expiry: "2911", Amount: 49_99, Currency: 840, MerchantID: demo.MerchantID,
	})
	if err != nil || res.ResponseCode != bank.Approved {
		t.Fatalf("authorization of a seeded card: %+v, %v", res, err)
	}
	if err := l.Audit(ctx); err != nil {
		t.Fatal(err)
	}
}
