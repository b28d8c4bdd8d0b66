package lab

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/setpay/setpay/bank"
	"github.com/setpay/setpay/bank/iso8583"
	"github.com/setpay/setpay/banklink"
	"github.com/setpay/setpay/msg"
	"github.com/setpay/setpay/store/sqlite/sqlitetest"
	"github.com/setpay/setpay/suite"
	"github.com/setpay/setpay/wire"
)

// TestReversalsThroughBank runs authorization reversals (partial and
// full), a capture, credits and a capture reversal through the real issuer
// host over ISO 8583: each moves the holds and the balance as it should,
// each refusal moves nothing, and the ledger audit holds after every step
// (balance = opening − captured + credited, debits = credits).
func TestReversalsThroughBank(t *testing.T) {
	for _, st := range []suite.Suite{suite.NewModern(), suite.NewSet1(suite.Set1Options{})} {
		t.Run(string(st.ID()), func(t *testing.T) { reversalsThroughBank(t, st) })
	}
}

func reversalsThroughBank(t *testing.T, st suite.Suite) {
	ctx := context.Background()
	bk := newBankHost(t)
	client := iso8583.NewClient(bk.addr, iso8583.ClientConfig{Timeout: 2 * time.Second, Attempts: 3, Log: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { client.Close() })
	ms := sqlitetest.Memory(t)
	gs := sqlitetest.Memory(t)
	l, err := New(Options{Suite: st, Cardholders: 1, MerchantStore: ms, GatewayStore: gs,
		Issuer:      banklink.New(client, banklink.Config{AcquirerID: "4711"}),
		MerchantLog: slog.New(slog.DiscardHandler), GatewayLog: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bk.ledger.OpenMerchant(ctx, l.MerchantID, "Corner Bookshop", 840); err != nil {
		t.Fatal(err)
	}
	c := l.Cards[0]
	acct, err := bk.ledger.OpenCard(ctx, bank.Card{PAN: c.PAN, Expiry: c.Expiry[2:], Holder: "cardholder", Currency: 840, Limit: 100_00})
	if err != nil {
		t.Fatal(err)
	}
	want := func(step string, held, balance int64) {
		t.Helper()
		if f := bk.funds(acct); f.Held != held || f.Balance != balance {
			t.Fatalf("%s: %+v, want held %d balance %d", step, f, held, balance)
		}
		bk.audit()
	}
	buy := func(amount int64) msg.XID {
		t.Helper()
		offer, err := l.Merchant.Checkout(ctx, "books", USD(amount))
		if err != nil {
			t.Fatal(err)
		}
		p, res, err := l.Wallets[0].Pay(ctx, wire.ServeFunc(l.Merchant.Serve), OfferFor(offer))
		if err != nil || res.Completion != msg.AuthorizationAccepted {
			t.Fatalf("Pay: %v, %v", res, err)
		}
		return p.TransIDs().XID
	}

	// Authorization reversal: partial releases the difference, full the rest.
	xid := buy(40_00)
	want("authorized", 40_00, 0)
	if code, err := l.Merchant.ReverseAuthorization(ctx, xid, USD(25_00)); err != nil || code != msg.AuthRevSuccess {
		t.Fatalf("partial reversal: %v, %v", code, err)
	}
	want("partial reversal", 25_00, 0)
	if code, err := l.Merchant.ReverseAuthorization(ctx, xid, USD(0)); err != nil || code != msg.AuthRevSuccess {
		t.Fatalf("full reversal: %v, %v", code, err)
	}
	want("full reversal", 0, 0)

	// Capture, credits, capture reversal.
	xid = buy(30_00)
	if code, err := l.Merchant.Capture(ctx, xid); err != nil || code != msg.CapSuccess {
		t.Fatalf("capture: %v, %v", code, err)
	}
	want("captured", 0, -30_00)
	if code, err := l.Merchant.Credit(ctx, xid, USD(30_01)); err != nil || code != msg.CapRevOrCredAmountError {
		t.Fatalf("credit above the capture: %v, %v", code, err)
	}
	want("credit refused", 0, -30_00)
	if code, err := l.Merchant.Credit(ctx, xid, USD(10_00)); err != nil || code != msg.CapRevOrCredSuccess {
		t.Fatalf("credit: %v, %v", code, err)
	}
	want("credited", 0, -20_00)

	xid = buy(15_00)
	if code, err := l.Merchant.Capture(ctx, xid); err != nil || code != msg.CapSuccess {
		t.Fatalf("capture: %v, %v", code, err)
	}
	want("second capture", 0, -35_00)
	if code, err := l.Merchant.ReverseCapture(ctx, xid); err != nil || code != msg.CapRevOrCredSuccess {
		t.Fatalf("capture reversal: %v, %v", code, err)
	}
	want("capture reversed", 0, -20_00)
	if code, err := l.Merchant.Capture(ctx, xid); err == nil {
		t.Fatalf("capture after capture reversal sent: %v", code)
	}
	want("after refused capture", 0, -20_00)
}
